//! Convolution workgroups whose GEMM rows are output pixels (small images with many channels):
//! `C[pixel, channel] = Σ input[pixel, tap] · weight[tap, channel]`, the weights in packed
//! right-hand strips, C written straight into the output: transposed into NCHW planes, or as
//! it is into a channels-last (NHWC) image.
//!
//! The input planes are read in place: each pixel is an offset and each tap a row start, so a
//! pixel's value for a tap is one element however the window is strided or dilated. Pixels
//! near the border, whose windows reach into padding, run as GEMMs of their own over only the
//! taps that read input (rectangles of pixels that read the same taps,
//! [`Window::tap_groups`]): every read lies inside the input, no padded copy is made, and on a
//! 7×7 image with a 3×3 window a fifth of the work is skipped.
//!
//! The groups' tables of taps and pixels depend on the convolution's geometry only, so each
//! thread keeps those of the geometries it ran last ([`GroupCache`]); a workgroup whose rows
//! all read every row tap uses those of the first such rows, its input moved
//! ([`Geometry::canonical`]), so a layer's row tiles share three entries at most (top,
//! interior, bottom) rather than one each, and a network's layers all stay in the cache
//! between calls. The interior group runs first, so the weights stream in from memory behind
//! its full tiles.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::hash::{Hash, Hasher};
use kiln_ukernel::gemm::{gathered_block_rows, Lhs, MatrixMut, Offsets, Rhs};
use kiln_ukernel::rows::Window;
use kiln_ukernel::scratch::Scratch;
use kiln_ukernel::Kernels;

/// Output pixels that read the same taps, as one GEMM's rows.
struct PixelGroup {
    /// Each pixel's offset in the input: where its first tap's read lies.
    offsets: Offsets,
    /// Each pixel's offset in the output from the workgroup's first row (its first channel).
    outputs: Vec<usize>,
    /// The taps read, unless every tap is: the [`Groups::boxes`] entry of their shape, and
    /// where the first one's weight row starts in a strip.
    taps: Option<(usize, usize)>,
}

/// The taps of a box of `[ky, kx]` window positions, of every input channel, relative to the
/// box's first: where each one's input row starts, and its weight row in a strip. Groups whose
/// boxes have the same shape share one.
struct TapBox {
    shape: [usize; 2],
    starts: Offsets,
    weight_rows: Offsets,
}

/// What a workgroup's pixel groups depend on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Geometry {
    pub(crate) win: Window,
    /// The input: `[channels, h, w]`.
    pub(crate) input: [usize; 3],
    /// How far apart `[channels, pixels]` lie in the input and in the output:
    /// `[h·w, 1]` for planes, `[1, channels per pixel]` channels-last.
    pub(crate) strides: [[usize; 2]; 2],
    /// Whether the depth rows run tap by tap, each tap's channels together (a channels-last
    /// input, whose pixels hold their channels so), rather than channel by channel.
    pub(crate) tap_major: bool,
    /// `[oy0, oy1, ow]`: the workgroup's output rows and the output width.
    pub(crate) output: [usize; 3],
    /// The weight strip width.
    pub(crate) nr: usize,
}

/// The pixel groups of one geometry.
struct Groups {
    geometry: Geometry,
    /// Where each depth row `(ic, ky, kx)` starts in the input when every tap is read.
    starts: Offsets,
    boxes: Vec<TapBox>,
    groups: Vec<PixelGroup>,
}

/// Slots of a thread's [`GroupCache`]: more than the pixel-row convolutions of a network
/// usually have geometries (up to three per layer), so that they stay between calls.
const CACHE_SLOTS: usize = 512;

/// The groups of the geometries a thread ran, one per slot, the slot chosen by the
/// geometry's hash (a geometry whose slot another one took is built again).
#[derive(Default)]
struct GroupCache {
    slots: Vec<Option<Arc<Groups>>>,
}

impl GroupCache {
    fn groups(&mut self, geometry: Geometry) -> Arc<Groups> {
        if self.slots.is_empty() {
            self.slots.resize(CACHE_SLOTS, None);
        }
        let mut hasher = Fx::default();
        geometry.hash(&mut hasher);
        let slot = &mut self.slots[hasher.finish() as usize % CACHE_SLOTS];
        match slot {
            Some(entry) if entry.geometry == geometry => entry.clone(),
            _ => slot.insert(Arc::new(Groups::new(geometry))).clone(),
        }
    }
}

/// FxHash's rotate, xor and multiply per word: a quick slot index for a [`GroupCache`], not a
/// defence against chosen keys (a collision only rebuilds groups).
#[derive(Default)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.add(b as u64));
    }

    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

impl Geometry {
    /// This geometry with its rows moved to the first ones whose every row tap lies inside
    /// the input, and how many input values its input moved by, when all its rows are such
    /// rows (they then read the input alike, from further on); else itself, not moved.
    fn canonical(self) -> (Geometry, usize) {
        let [oy0, oy1, ow] = self.output;
        let win = &self.win;
        let (s, pad) = (win.strides[0].max(1), win.pads[0]);
        let reach = win.dilations[0] * win.kernel[0].saturating_sub(1);
        let inside = |oy: usize| oy * s >= pad && oy * s - pad + reach < self.input[1];
        let first = pad.div_ceil(s);
        if oy1 <= oy0 || oy0 <= first || !inside(oy0) || !inside(oy1 - 1) {
            return (self, 0);
        }
        let moved = Geometry {
            output: [first, first + (oy1 - oy0), ow],
            ..self
        };
        // Input rows `(oy0 - first)·s` of `w` pixels, `strides[0][1]` apart.
        let shift = (oy0 - first) * s * self.input[2] * self.strides[0][1];
        (moved, shift)
    }
}

impl Groups {
    fn new(geometry: Geometry) -> Groups {
        let Geometry {
            win,
            input: [channels, h, w],
            strides: [[xc, xp], [_, yp]],
            output: [oy0, oy1, ow],
            nr,
            tap_major,
        } = geometry;
        let ([kh, kw], [dh, dw]) = (win.kernel, win.dilations);
        let taps = kh * kw;
        // The depth row of input channel `ic` at tap `(ky, kx)`, and back.
        let depth_row = |ic: usize, ky: usize, kx: usize| match tap_major {
            true => (ky * kw + kx) * channels + ic,
            false => (ic * kh + ky) * kw + kx,
        };
        let depth_entry = |p: usize| match tap_major {
            true => (p % channels, p / channels / kw, p / channels % kw),
            false => (p / taps, p % taps / kw, p % kw),
        };
        let tap_start = |p: usize| {
            let (ic, ky, kx) = depth_entry(p);
            ic * xc + (ky * dh * w + kx * dw) * xp
        };
        let starts: Offsets = (0..channels * taps).map(tap_start).collect();
        let rows = win.tap_groups(0, oy0..oy1, h);
        let columns = win.tap_groups(1, 0..ow, w);
        let mut groups = Vec::with_capacity(rows.len() * columns.len());
        let mut boxes = Vec::new();
        for (r, c) in rows
            .iter()
            .flat_map(|r| columns.iter().map(move |c| (r, c)))
        {
            let pixels = r
                .outputs
                .clone()
                .flat_map(|oy| c.outputs.clone().map(move |ox| (oy, ox)));
            // A pixel's offset is where its first tap's read lies and tap rows start from the
            // first tap's, so neither is negative. (A group without taps reads nothing.)
            let first = [r.taps.start, c.taps.start];
            let at = |d: usize, o: usize| {
                (o * win.strides[d] + first[d] * win.dilations[d]).saturating_sub(win.pads[d])
            };
            let shape = [r.taps.len(), c.taps.len()];
            let taps = (shape != [kh, kw]).then(|| {
                let index = boxes.iter().position(|b: &TapBox| b.shape == shape);
                let index = index.unwrap_or_else(|| {
                    // The box's depth rows in depth order, from its first tap's.
                    let mut selected: Vec<usize> = (0..channels)
                        .flat_map(|ic| {
                            (0..shape[0])
                                .flat_map(move |ky| (0..shape[1]).map(move |kx| (ic, ky, kx)))
                        })
                        .map(|(ic, ky, kx)| depth_row(ic, ky, kx))
                        .collect();
                    selected.sort_unstable();
                    let (starts, weight_rows): (Vec<_>, Vec<_>) =
                        selected.into_iter().map(|p| (starts[p], p * nr)).unzip();
                    boxes.push(TapBox {
                        shape,
                        starts: Offsets::new(starts),
                        weight_rows: Offsets::new(weight_rows),
                    });
                    boxes.len() - 1
                });
                // A group without taps reads no weights (its first tap may be past the last).
                let first_row = if shape.contains(&0) {
                    0
                } else {
                    depth_row(0, first[0], first[1]) * nr
                };
                (index, first_row)
            });
            groups.push(PixelGroup {
                offsets: pixels
                    .clone()
                    .map(|(oy, ox)| (at(0, oy) * w + at(1, ox)) * xp)
                    .collect(),
                outputs: pixels.map(|(oy, ox)| ((oy - oy0) * ow + ox) * yp).collect(),
                taps,
            });
        }
        // The first GEMM over a weight strip reads it from memory (a network's other layers
        // evict it between calls), so the groups that do the most work per weight row go
        // first: the whole-window interior hides those reads behind 16 FMAs a row, where a
        // corner's one-pixel GEMM over a few taps would only wait on them.
        groups.sort_by_key(|g| (g.taps.is_some(), Reverse(g.offsets.len())));
        Groups {
            geometry,
            starts,
            boxes,
            groups,
        }
    }
}

kiln_ukernel::scratch! {
    static CACHE: GroupCache;
}

/// The fewest row tiles of pixels over their whole depth that must fit a GEMM's L1 block for
/// [`conv2d`] to pass it every weight strip at once.
const SHALLOW_BLOCK_TILES: usize = 8;

/// One convolution workgroup with pixel rows: `x` holds the input of `geometry`, the
/// weights are packed in right-hand strips of `geometry.nr` for `channels` output channels, and
/// output channel `c` of the workgroup's first pixel is at `y + c·s`, `s` the output's channel
/// stride in `geometry.strides`. Built-in tiles walk
/// the weights a strip at a time through the pixel groups; an external tile takes each group
/// over all strips at once, so its pixels are packed once.
///
/// # Safety
/// `y` must point at output channel 0 of the workgroup's first output pixel (row `oy0`), and
/// the workgroup must own its `channels` channels of rows `oy0..oy1`; the packed weights must
/// hold `channels` columns. With `accumulate`, the products are added to what `y` holds.
pub(crate) unsafe fn conv2d(
    gemm: &Kernels,
    x: &[f32],
    weights: &[f32],
    geometry: Geometry,
    channels: usize,
    y: *mut f32,
    accumulate: bool,
) {
    let (geometry, shift) = geometry.canonical();
    let x = &x[shift..];
    let entry = CACHE.with_mut(|cache| cache.groups(geometry));
    let (nr, col_stride) = (geometry.nr, geometry.strides[1][0]);
    let strip_len = entry.starts.len() * nr;
    // One strip of weights at a time through every group: a strip stays in L2 while the groups
    // read it, where a workgroup's whole share of the weights may not even stay in L3 (a
    // network's layers between them can hold more than it), and would then come from memory
    // once per group. A tile that reads packed operands only (an executable's own) has each
    // call's pixels packed first, so it takes every strip of a group in one call instead.
    //
    // Where a block of the GEMM's pixels over their whole depth stays in L1 across several
    // tiles (a pointwise convolution over few input channels), every strip goes in one call
    // too: the GEMM then walks the strips inside each such block of pixels, which reads the
    // pixels from L1 rather than from L2 once per strip, and the strips of so shallow a
    // convolution are few and short.
    let depth = entry.starts.len();
    let shallow = gathered_block_rows(depth, gemm.tile.mr) >= SHALLOW_BLOCK_TILES * gemm.tile.mr;
    let block = if gemm.reads_operands_in_place() && !shallow {
        nr
    } else {
        channels.next_multiple_of(nr)
    };
    for c0 in (0..channels).step_by(block.max(1)) {
        let strip = &weights[(c0 / nr) * strip_len..];
        for group in &entry.groups {
            let (rows, rhs) = match group.taps {
                None => (&entry.starts, Rhs::Packed(strip)),
                Some((index, first_row)) => {
                    let taps = &entry.boxes[index];
                    let rhs = Rhs::PackedSelect {
                        data: &strip[first_row..],
                        strip_len,
                        rows: &taps.weight_rows,
                    };
                    (&taps.starts, rhs)
                }
            };
            let lhs = Lhs::Gather {
                data: x,
                rows,
                offsets: &group.offsets,
            };
            let out = MatrixMut {
                // SAFETY: channel c0 is one of the workgroup's `channels`.
                ptr: unsafe { y.add(c0 * col_stride) },
                row_stride: 0,
                col_stride,
                row_offsets: Some(&group.outputs),
                accumulate,
            };
            let n = block.min(channels - c0);
            // SAFETY: pixel p of channel c is y[c·col_stride + outputs[p]], inside the workgroup's
            // output by the caller's contract; the GEMM checks its reads against `x`.
            unsafe { gemm.packed_gemm(group.offsets.len(), n, rows.len(), lhs, rhs, out) };
        }
    }
}
