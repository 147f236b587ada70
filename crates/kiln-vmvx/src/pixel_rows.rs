//! Convolution workgroups whose GEMM rows are output pixels (small images with many channels):
//! `C[pixel, channel] = Σ input[pixel, tap] · weight[tap, channel]`, the weights in packed
//! right-hand strips, the input a laid-out band read in place, C written transposed straight
//! into the NCHW output.
//!
//! Pixels near the border, whose windows reach into padding, run as GEMMs of their own over
//! only the taps that read input; on a 7×7 image with a 3×3 window that is a fifth of the
//! work. Each such group needs tables of its taps' band rows and weight rows; they depend on
//! the convolution's geometry only, so each thread keeps the tables of the geometries it ran
//! last ([`GroupCache`]).

use crate::exec::BandJob;
use kiln_ukernel::gemm::{Lhs, MatrixMut, PackedGemmFn, Rhs};
use kiln_ukernel::rows::{TapGroup, Window};
use std::cell::RefCell;
use std::rc::Rc;

/// Output pixels that read the same taps, as one GEMM's rows.
struct PixelGroup {
    /// Each pixel's offset from a tap's row start in the band.
    offsets: Vec<usize>,
    /// Each pixel's offset in an output channel plane (from the workgroup's first row).
    outputs: Vec<usize>,
    /// The taps read, unless every tap is: band row starts and weight row offsets.
    taps: Option<(Vec<usize>, Vec<usize>)>,
}

/// What a workgroup's pixel groups depend on besides its band row starts.
#[derive(Clone, Copy, PartialEq)]
struct Geometry {
    win: Window,
    /// `[oy0, oy1, ow, wp, nr]`: the workgroup's output rows, the output and band widths,
    /// the weight strip width.
    extent: [usize; 5],
    /// As [`BandJob::input`].
    input: [usize; 2],
}

/// The pixel groups of one geometry and band row starts.
struct Groups {
    geometry: Geometry,
    starts: Vec<usize>,
    groups: Vec<PixelGroup>,
}

/// Geometries a thread keeps groups for: more than the pixel-row convolutions of a network
/// usually have (one per distinct size, stride and row tile).
const CACHED_GEOMETRIES: usize = 16;

/// The groups of the geometries a thread ran last, newest last.
#[derive(Default)]
struct GroupCache {
    entries: Vec<Rc<Groups>>,
}

impl GroupCache {
    fn groups(&mut self, geometry: Geometry, starts: &[usize]) -> Rc<Groups> {
        let found = self
            .entries
            .iter()
            .position(|e| e.geometry == geometry && e.starts == starts);
        let entry = match found {
            Some(i) => self.entries.remove(i),
            None => {
                if self.entries.len() == CACHED_GEOMETRIES {
                    self.entries.remove(0);
                }
                Rc::new(Groups::new(geometry, starts))
            }
        };
        self.entries.push(entry.clone());
        entry
    }
}

impl Groups {
    /// Rectangles of pixels that read the same taps: rows whose windows lie inside the input
    /// vertically split into column groups (left border, inside, right border); a border row
    /// group is one rectangle over the taps any of its columns reads (a corner alone would be
    /// a GEMM of one pixel).
    fn new(geometry: Geometry, starts: &[usize]) -> Groups {
        let Geometry {
            win,
            extent: [oy0, oy1, ow, wp, nr],
            input: [h, w],
        } = geometry;
        let [kh, kw] = win.kernel;
        let rows = win.tap_groups(0, oy0..oy1, h);
        let columns = win.tap_groups(1, 0..ow, w);
        let whole_width = columns
            .first()
            .zip(columns.last())
            .map(|(first, last)| TapGroup {
                outputs: first.outputs.start..last.outputs.end,
                taps: columns.iter().map(|c| c.taps.start).min().unwrap_or(0)
                    ..columns.iter().map(|c| c.taps.end).max().unwrap_or(0),
            });
        let mut rects = Vec::new();
        for r in &rows {
            if r.taps.len() == kh {
                rects.extend(columns.iter().map(|c| (r, c.clone())));
            } else if let Some(c) = &whole_width {
                rects.push((r, c.clone()));
            }
        }
        let channels_in = starts.len() / (kh * kw).max(1);
        let groups = rects
            .into_iter()
            .map(|(r, c)| {
                let pixels = r
                    .outputs
                    .clone()
                    .flat_map(|oy| c.outputs.clone().map(move |ox| (oy - oy0, ox)));
                let taps = (r.taps.len() < kh || c.taps.len() < kw).then(|| {
                    let (mut tap_starts, mut weight_rows) = (Vec::new(), Vec::new());
                    for ic in 0..channels_in {
                        for ky in r.taps.clone() {
                            for kx in c.taps.clone() {
                                let p = (ic * kh + ky) * kw + kx;
                                tap_starts.push(starts[p]);
                                weight_rows.push(p * nr);
                            }
                        }
                    }
                    (tap_starts, weight_rows)
                });
                PixelGroup {
                    offsets: pixels.clone().map(|(r, ox)| r * wp + ox).collect(),
                    outputs: pixels.map(|(r, ox)| r * ow + ox).collect(),
                    taps,
                }
            })
            .collect();
        Groups {
            geometry,
            starts: starts.to_vec(),
            groups,
        }
    }
}

thread_local! {
    /// Per-thread scratch: padded input band and row starts.
    static SCRATCH: RefCell<(Vec<f32>, Vec<usize>)> =
        const { RefCell::new((Vec::new(), Vec::new())) };
    static CACHE: RefCell<GroupCache> = RefCell::new(GroupCache::default());
}

/// One convolution workgroup with pixel rows: weights packed in right-hand strips of `nr`.
///
/// # Safety
/// As [`BandJob`].
pub(crate) unsafe fn conv2d(gemm: PackedGemmFn, weights: &[f32], nr: usize, job: &BandJob) {
    let [channels, oy0, oy1, oh, ow] = job.extent;
    SCRATCH.with(|cell| {
        let (scratch, starts) = &mut *cell.borrow_mut();
        let (band, wp) = job.band(0, scratch, starts);
        let geometry = Geometry {
            win: *job.win,
            extent: [oy0, oy1, ow, wp, nr],
            input: job.input,
        };
        let entry = CACHE.with(|cache| cache.borrow_mut().groups(geometry, starts));
        for group in &entry.groups {
            let (rows, rhs) = match &group.taps {
                None => (&entry.starts, Rhs::Packed(weights)),
                Some((tap_starts, weight_rows)) => (
                    tap_starts,
                    Rhs::PackedSelect {
                        data: weights,
                        strip_len: entry.starts.len() * nr,
                        rows: weight_rows,
                    },
                ),
            };
            let lhs = Lhs::Gather {
                data: band,
                rows,
                offsets: &group.offsets,
            };
            let out = MatrixMut {
                ptr: job.y,
                row_stride: 0,
                col_stride: oh * ow,
                row_offsets: Some(&group.outputs),
            };
            // SAFETY: pixel p of channel c is y[c·oh·ow + outputs[p]], inside the workgroup's
            // output.
            unsafe { gemm(group.offsets.len(), channels, rows.len(), lhs, rhs, out) };
        }
    });
}
