//! One workgroup of the integer convolution (`ui8` pixels by `i8` weights summed in `i32`,
//! the convolution of quantised models), as one [`IntKernels::gemm`].
//!
//! The GEMM's depth runs over window taps, then channels in groups of four (`(ky, kx, c/4,
//! c%4)`, channels padded to a multiple of four with zero weights), so that one 32-bit lane of
//! its columns holds four channels of one pixel. The workgroup first lays out the input rows
//! its output rows read as such lanes (a band, zero-padded left and right), then copies each
//! tap's lanes into the GEMM's columns: whole rows at unit stride.

use alloc::vec::Vec;
use kiln_ukernel::igemm::{channel_quads, pack_conv_filters, Columns, IntKernels, DEPTH_GROUP};
use kiln_ukernel::rows::{PaddedGrid, Window};
use kiln_ukernel::scratch::Scratch as _;

/// What one workgroup computes: output channels `weights.len() / depth` of one group, rows
/// `oy0..oy1` (of `oh`) of one image.
pub(crate) struct Job<'a> {
    /// The group's input planes, `[channels, h, w]`.
    pub x: &'a [u8],
    pub dims: [usize; 3],
    /// The workgroup's filters.
    pub weights: Filters<'a>,
    pub win: &'a Window,
    /// `[oy0, oy1, oh, ow]`.
    pub rows: [usize; 4],
}

/// A workgroup's filters as the kernel holds them.
#[derive(Clone, Copy)]
pub(crate) enum Filters<'a> {
    /// OIHW, each `[channels, kh, kw]`: packed here.
    Plain(&'a [i8]),
    /// Packed at compile time by [`pack_conv_filters`], each `[kh, kw, 4 · quads]`.
    Packed(&'a [i8]),
}

/// Per-thread scratch: packed filters, the input band, the GEMM's columns; a depthwise
/// workgroup's taps, padded input lines and sums.
#[derive(Default)]
struct Scratch {
    filters: Vec<i8>,
    band: Vec<u32>,
    columns: Option<Columns>,
    taps: Vec<i32>,
    grid: GridScratch,
}

/// A depthwise workgroup's input lines (a [`PaddedGrid`], or a row's stride phases) and sums.
#[derive(Default)]
struct GridScratch {
    padded: Vec<u8>,
    sums: Vec<i32>,
}

kiln_ukernel::scratch! {
    static SCRATCH: Scratch;
}

/// Runs `job`, writing output channel `c`'s rows from `y + c · ldc` (row `oy0` first, rows
/// `ow` apart). A depthwise workgroup (one channel, one filter) sums its taps directly.
///
/// # Safety
/// `y` must address the workgroup's output rows of every channel it computes, written by this
/// workgroup alone.
pub(crate) unsafe fn run(kernels: &IntKernels, job: &Job, y: *mut i32, ldc: usize) {
    let [oy0, oy1, _, ow] = job.rows;
    SCRATCH.with_mut(|scratch| {
        if depthwise_taps(job, &mut scratch.taps) {
            // SAFETY: the workgroup's rows of its one channel lie from `y` (contract).
            let out = unsafe { core::slice::from_raw_parts_mut(y, (oy1 - oy0) * ow) };
            depthwise(kernels, job, &scratch.taps, out, &mut scratch.grid);
            return;
        }
        let [channels, _, _] = job.dims;
        let [kh, kw] = job.win.kernel;
        let rows = match job.weights {
            Filters::Plain(w) => {
                let filters = w.len() / (channels * kh * kw).max(1);
                scratch.filters = pack_conv_filters(w, filters, channels, kh * kw);
                &scratch.filters[..]
            }
            Filters::Packed(w) => w,
        };
        let filters = rows.len() / (kh * kw * channel_quads(channels) * DEPTH_GROUP).max(1);
        let band = Band::lay_out(job, &mut scratch.band);
        let columns = scratch.columns.get_or_insert_with(|| Columns::new(0, 0));
        band.columns(job, &scratch.band, columns);
        // SAFETY: forwarded contract; rows of C are output channels, `ldc` apart, and the
        // workgroup's pixels are contiguous from row oy0.
        unsafe { kernels.gemm(filters, rows, columns, y, ldc) };
    });
}

/// The input rows a workgroup's output rows read, as lanes of four channels: `[quad, row,
/// column]` with `left` zero lanes before each row's pixels and zeros after (padding), rows
/// from input row `first` (rows outside the image are zeros).
struct Band {
    first: isize,
    rows: usize,
    width: usize,
    left: usize,
}

impl Band {
    fn lay_out(job: &Job, band: &mut Vec<u32>) -> Band {
        let [channels, h, wd] = job.dims;
        let win = job.win;
        let [kh, kw] = win.kernel;
        let [oy0, oy1, _, ow] = job.rows;
        let first = (oy0 * win.strides[0]) as isize - win.pads[0] as isize;
        let last = ((oy1 - 1) * win.strides[0] + (kh - 1) * win.dilations[0]) as isize
            - win.pads[0] as isize;
        let rows = (last - first + 1) as usize;
        let left = win.pads[1];
        let reach = (ow - 1) * win.strides[1] + (kw - 1) * win.dilations[1] + 1;
        let width = reach.max(left + wd);
        let q = channel_quads(channels);
        band.clear();
        band.resize(q * rows * width, 0);
        for quad in 0..q {
            for r in 0..rows {
                let iy = first + r as isize;
                if iy < 0 || iy >= h as isize {
                    continue;
                }
                let dst = &mut band[(quad * rows + r) * width + left..][..wd];
                let plane_row = |t: usize| -> Option<&[u8]> {
                    let c = quad * DEPTH_GROUP + t;
                    (c < channels).then(|| &job.x[(c * h + iy as usize) * wd..][..wd])
                };
                let zeros = [0u8; 0];
                let lines: [&[u8]; DEPTH_GROUP] =
                    core::array::from_fn(|t| plane_row(t).unwrap_or(&zeros));
                interleave(dst, lines);
            }
        }
        Band {
            first,
            rows,
            width,
            left,
        }
    }

    /// Copies each tap's lanes into the GEMM's columns (output pixel `(oy - oy0) · ow + ox`).
    fn columns(&self, job: &Job, band: &[u32], columns: &mut Columns) {
        let [channels, _, _] = job.dims;
        let win = job.win;
        let [kh, kw] = win.kernel;
        let [oy0, oy1, _, ow] = job.rows;
        let q = channel_quads(channels);
        columns.reset(kh * kw * q * DEPTH_GROUP, (oy1 - oy0) * ow);
        for ky in 0..kh {
            for kx in 0..kw {
                let shift = kx * win.dilations[1] + self.left - win.pads[1];
                for quad in 0..q {
                    let panel = columns.panel_mut((ky * kw + kx) * q + quad);
                    for (r, oy) in (oy0..oy1).enumerate() {
                        let iy = (oy * win.strides[0] + ky * win.dilations[0]) as isize
                            - win.pads[0] as isize;
                        let row = (iy - self.first) as usize;
                        let src = &band[(quad * self.rows + row) * self.width..][..self.width];
                        let dst = &mut panel[r * ow..][..ow];
                        if win.strides[1] == 1 {
                            dst.copy_from_slice(&src[shift..][..ow]);
                        } else {
                            for (ox, lane) in dst.iter_mut().enumerate() {
                                *lane = src[shift + ox * win.strides[1]];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether the workgroup is depthwise (one channel, one filter); its filter's taps then in
/// `taps`.
fn depthwise_taps(job: &Job, taps: &mut Vec<i32>) -> bool {
    let [channels, _, _] = job.dims;
    let [kh, kw] = job.win.kernel;
    let n = kh * kw;
    taps.clear();
    match job.weights {
        Filters::Plain(w) if channels == 1 && w.len() == n => {
            taps.extend(w.iter().map(|&v| v as i32));
        }
        // One channel packed in quads: each tap's lane holds it first.
        Filters::Packed(w) if channels == 1 && w.len() == n * DEPTH_GROUP => {
            taps.extend(w.iter().step_by(DEPTH_GROUP).map(|&v| v as i32));
        }
        _ => return false,
    }
    true
}

/// A depthwise workgroup: each output row sums its taps' input lines (padding reads zeros),
/// each multiply-add over the output columns whose input lies inside the row, read in place
/// (a strided window reads the row split into its stride phases).
fn depthwise(
    kernels: &IntKernels,
    job: &Job,
    taps: &[i32],
    out: &mut [i32],
    scratch: &mut GridScratch,
) {
    let [_, h, wd] = job.dims;
    let win = job.win;
    let [kh, kw] = win.kernel;
    let [oy0, oy1, _, ow] = job.rows;
    if win.strides == [1, 1] {
        return depthwise_unit_stride(kernels, job, taps, out, scratch);
    }
    let stride = win.strides[1].max(1);
    // Per tap column: the output columns whose input lies inside the row, and where the
    // first one's input is in the row (or in its stride phases).
    let phase_len = wd.div_ceil(stride);
    let spans: Vec<(usize, usize, usize)> = (0..kw)
        .map(|kx| {
            let (first, end, start) = win.outputs_of_tap(1, kx, wd, ow);
            let at = match stride {
                1 => start,
                _ => (start % stride) * phase_len + start / stride,
            };
            (first, end, at)
        })
        .collect();
    // Phase p of a row holds its inputs p, p + stride, p + 2·stride, …
    let phases = &mut scratch.padded;
    phases.clear();
    phases.resize(if stride > 1 { stride * phase_len } else { 0 }, 0);
    for (r, oy) in (oy0..oy1).enumerate() {
        let acc = &mut out[r * ow..][..ow];
        acc.fill(0);
        for ky in 0..kh {
            let iy = (oy * win.strides[0] + ky * win.dilations[0]).checked_sub(win.pads[0]);
            let Some(iy) = iy.filter(|&iy| iy < h) else {
                continue;
            };
            let row = &job.x[iy * wd..][..wd];
            let source = if stride > 1 {
                for (p, phase) in phases.chunks_exact_mut(phase_len).enumerate() {
                    for (dst, &v) in phase.iter_mut().zip(row.iter().skip(p).step_by(stride)) {
                        *dst = v;
                    }
                }
                &phases[..]
            } else {
                row
            };
            for (kx, &(first, end, at)) in spans.iter().enumerate() {
                if end > first {
                    let inputs = &source[at..][..end - first];
                    kernels.multiply_add(&mut acc[first..end], inputs, taps[ky * kw + kx]);
                }
            }
        }
    }
}

/// [`depthwise`] at stride 1, over a [`PaddedGrid`] (as `rows::depthwise_plane` in f32):
/// each tap one multiply-add over all the rows.
fn depthwise_unit_stride(
    kernels: &IntKernels,
    job: &Job,
    taps: &[i32],
    out: &mut [i32],
    scratch: &mut GridScratch,
) {
    let [_, h, wd] = job.dims;
    let [kh, kw] = job.win.kernel;
    let [oy0, oy1, _, ow] = job.rows;
    let grid = PaddedGrid::new(job.win, h, wd, oy0, oy1, ow);
    let (padded, sums) = (&mut scratch.padded, &mut scratch.sums);
    grid.lay_out(job.x, padded, 0u8);
    sums.clear();
    sums.resize(grid.values(), 0);
    for ky in 0..kh {
        for kx in 0..kw {
            let inputs = &padded[grid.tap(ky, kx)..][..sums.len()];
            kernels.multiply_add(sums, inputs, taps[ky * kw + kx]);
        }
    }
    grid.keep_outputs(sums, out);
}

/// `dst[i]` = byte `t` from `lines[t][i]` (zero where a line is empty).
fn interleave(dst: &mut [u32], lines: [&[u8]; DEPTH_GROUP]) {
    if lines.iter().all(|l| l.len() >= dst.len()) {
        let n = dst.len();
        let [a, b, c, d] = lines.map(|l| &l[..n]);
        for (i, lane) in dst.iter_mut().enumerate() {
            *lane = u32::from_le_bytes([a[i], b[i], c[i], d[i]]);
        }
        return;
    }
    for (i, lane) in dst.iter_mut().enumerate() {
        let byte = |t: usize| lines[t].get(i).copied().unwrap_or(0);
        *lane = u32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    /// The direct sum over the window, padding read as zeros.
    fn reference(x: &[u8], dims: [usize; 3], w: &[i8], win: &Window, out: [usize; 2]) -> Vec<i32> {
        let [channels, h, wd] = dims;
        let [kh, kw] = win.kernel;
        let filters = w.len() / (channels * kh * kw);
        let mut y = vec![];
        for f in 0..filters {
            for oy in 0..out[0] {
                for ox in 0..out[1] {
                    let mut acc = 0;
                    for c in 0..channels {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * win.strides[0] + ky * win.dilations[0]) as i64
                                    - win.pads[0] as i64;
                                let ix = (ox * win.strides[1] + kx * win.dilations[1]) as i64
                                    - win.pads[1] as i64;
                                if (0..h as i64).contains(&iy) && (0..wd as i64).contains(&ix) {
                                    let xv = x[(c * h + iy as usize) * wd + ix as usize] as i32;
                                    let wv = w[((f * channels + c) * kh + ky) * kw + kx] as i32;
                                    acc += xv * wv;
                                }
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
        y
    }

    #[test]
    fn matches_a_direct_convolution() {
        let windows = [
            (
                Window {
                    kernel: [3, 2],
                    strides: [2, 1],
                    pads: [1, 2],
                    dilations: [1, 2],
                },
                [4, 9],
            ),
            (
                Window {
                    kernel: [3, 3],
                    strides: [2, 2],
                    pads: [1, 1],
                    dilations: [1, 1],
                },
                [4, 5],
            ),
        ];
        // (1, 1) is a depthwise workgroup, summed directly.
        for (channels, filters) in [(3usize, 5usize), (9, 11), (1, 1)] {
            let (h, wd) = (7usize, 9usize);
            for (win, [oh, ow]) in &windows {
                let taps = win.kernel[0] * win.kernel[1];
                let x: Vec<u8> = (0..channels * h * wd)
                    .map(|i| (i * 37 % 251) as u8)
                    .collect();
                let weights: Vec<i8> = (0..filters * channels * taps)
                    .map(|i| (i as i32 * 53 % 255 - 127) as i8)
                    .collect();
                let expected = reference(&x, [channels, h, wd], &weights, win, [*oh, *ow]);
                let packed = pack_conv_filters(&weights, filters, channels, taps);
                let plain_and_packed = [Filters::Plain(&weights), Filters::Packed(&packed)];
                for kernels in [IntKernels::generic(), *IntKernels::best()] {
                    for filters_as in plain_and_packed {
                        // Two workgroups of rows, as a tiled dispatch runs them.
                        let mut y = vec![0i32; filters * oh * ow];
                        for (oy0, oy1) in [(0, 3), (3, *oh)] {
                            let job = Job {
                                x: &x,
                                dims: [channels, h, wd],
                                weights: filters_as,
                                win,
                                rows: [oy0, oy1, *oh, *ow],
                            };
                            let y0 = y.as_mut_ptr().wrapping_add(oy0 * ow);
                            unsafe { run(&kernels, &job, y0, oh * ow) };
                        }
                        assert_eq!(y, expected, "{} {channels}", kernels.isa);
                    }
                }
            }
        }
    }
}
