//! Data tiling for CPU targets: constant GEMM operands are packed at compile time.
//!
//! IREE sets an encoding on matmul operands and materialises it per target as pack → mmt4d →
//! unpack. kiln does the same for what matters at inference time: a convolution's weights and a
//! matmul's constant right-hand side are stored in the register-tile strip layout of the
//! target CPU (`kiln_ukernel::gemm::pack_lhs` / `pack_rhs`), so the runtime's packed GEMM reads
//! them in place instead of packing them on every call. The activation side is read in place
//! where it can be; a convolution's input is laid out in stride phases with its padding
//! ([`kiln_ukernel::rows::BandLayout`]) by each workgroup for its rows; where workgroups
//! would repeat much of that work, taller row tiles share it, or where too few rows are left
//! for that, a `ConvBand` dispatch lays it out once before the convolution (IREE's pack of
//! the activations). The result is written in place, which is the unpack.
//!
//! An integer convolution's `i8` weights are packed for the dot-product GEMM's depth order
//! (`kiln_ukernel::igemm::pack_conv_filters`) on every CPU target: that layout depends on no
//! register tile.
//!
//! The packed tensor replaces the plain one as a module constant; a plain constant no kernel
//! reads any more is not stored at all.

use std::collections::HashMap;

use crate::renumber;
use kiln_kernel::{Dispatch, Dispatches, Sizes, Storage, StorageId, StorageKind};
use kiln_types::{ElementType, HostTensor};
use kiln_ukernel::gemm::{pack_lhs, pack_rhs, TileShape};
use kiln_ukernel::igemm::{channel_quads, pack_conv_filters, DEPTH_GROUP};
use kiln_ukernel::rows::{gathered_band_width, BandLayout, Window};
use kiln_ukernel::Matrix;
use kiln_vmvx::format::{
    conv_band_len, conv_weight_dims, window, ConvGemm, Kernel, KernelOp, View,
};
use kiln_vmvx::tile_config::equal_rows;

/// How many times over a convolution's workgroups may lay out its input between them before
/// taller row tiles or a `ConvBand` dispatch spare them the repeats.
const MAX_BAND_REPEATS: f64 = 1.5;

/// How many times over taller row tiles may lay out a convolution's input between them,
/// where that spares it a `ConvBand` dispatch ([`BandPlan::TallerRows`]).
const SHARED_BAND_REPEATS: f64 = 1.25;

/// The fewest workgroups a convolution keeps when its row tiles grow to share their band
/// lines: enough for two threads to finish together.
const BAND_SHARING_MIN_WORKGROUPS: u64 = 16;

/// Gives each convolution with packed weights whose workgroups would lay out (much) more than
/// its whole input between them taller row tiles that repeat little of it (where that leaves
/// enough workgroups), or else a `ConvBand` kernel that lays it out once, and makes the
/// convolution read that ([`KernelOp::Conv2d`] with a rank-1 input). Run after
/// [`pack_weights`]; kernels are renamed in their new order.
pub fn lay_out_conv_inputs(d: &mut Dispatches<Kernel>) {
    for mut dispatch in std::mem::take(&mut d.dispatches) {
        let plan = band_plan(&dispatch.kernel);
        if let Some(BandPlan::TallerRows(rows)) = plan {
            if let KernelOp::Conv2d { tile_oh, .. } = &mut dispatch.kernel.op {
                *tile_oh = rows;
            }
        } else if let Some(BandPlan::Dispatch(len)) = plan {
            let band = d.add_storage(Storage {
                kind: StorageKind::Computed,
                element_type: ElementType::F32,
                elements: len,
            });
            // The band is the convolution's new last operand until renumbering.
            let laid_out =
                View::contiguous(dispatch.operands.len() as u32, 0, ElementType::F32, &[len]);
            dispatch.operands.push(band);
            if let KernelOp::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                ..
            } = &mut dispatch.kernel.op
            {
                let [_, kh, kw] = conv_weight_dims(w);
                let input = dispatch.operands[x.binding as usize];
                let op = KernelOp::ConvBand {
                    x: vmvx_view(std::mem::replace(x, laid_out), 0),
                    y: View::contiguous(1, 0, ElementType::F32, &[len]),
                    kernel: [kh, kw],
                    strides: *strides,
                    pads: *pads,
                    dilations: *dilations,
                    out: [y.shape[2], y.shape[3]],
                };
                d.dispatches.push(Dispatch {
                    operands: vec![input, band],
                    kernel: Kernel {
                        name: String::new(),
                        op,
                    },
                });
            }
            renumber(&mut dispatch);
        }
        d.dispatches.push(dispatch);
    }
    for (i, k) in d.dispatches.iter_mut().enumerate() {
        k.kernel.name = format!("dispatch_{i}");
    }
}

/// `v` reading operand `operand`.
fn vmvx_view(v: View, operand: u32) -> View {
    View {
        binding: operand,
        ..v
    }
}

/// What a convolution whose workgroups would lay out more than [`MAX_BAND_REPEATS`] times
/// its input lines between them ([`BandRepeats`]) does instead.
enum BandPlan {
    /// Equal row tiles this tall, the shortest that lay it out at most
    /// [`SHARED_BAND_REPEATS`] times and leave [`BAND_SHARING_MIN_WORKGROUPS`]: each
    /// workgroup lays out its own lines, in cache, where a `ConvBand` dispatch would write the
    /// whole band out and the convolution read it back (a 640x640 detector's stem: 5 MB each
    /// way).
    TallerRows(u64),
    /// A `ConvBand` dispatch of this length lays it out once, where no such row tiles exist.
    Dispatch(u64),
}

/// The [`BandPlan`] of convolution `kernel`, if its workgroups would lay out more than
/// [`MAX_BAND_REPEATS`] times its input lines.
fn band_plan(kernel: &Kernel) -> Option<BandPlan> {
    let r = BandRepeats::of(kernel)?;
    if r.laid(r.tile_oh) <= MAX_BAND_REPEATS * r.whole {
        return None;
    }
    let [n, co, oh, ow] = r.out;
    // Channel tiles each lay out the whole band of their rows, so with two or more no row
    // tiles lay it out under twice; one output channel per group tiles groups instead.
    let rows = (r.channel_tiles == 1 && co != r.groups)
        .then(|| {
            (r.tile_oh + 1..=oh)
                .map(|rows| equal_rows(oh, rows))
                .take_while(|&rows| n * r.groups * oh.div_ceil(rows) >= BAND_SHARING_MIN_WORKGROUPS)
                .find(|&rows| r.laid(rows) <= SHARED_BAND_REPEATS * r.whole)
        })
        .flatten();
    match rows {
        Some(rows) => Some(BandPlan::TallerRows(rows)),
        None => conv_band_len(&r.win, [n, r.cig * r.groups, oh, ow]).map(BandPlan::Dispatch),
    }
}

/// How much of its input a convolution's workgroups lay out between them: one that reads a
/// band in place (weights packed in channel rows, a window other than a pointwise one over
/// planes as large as the output, which read the input planes themselves), each channel tile
/// repeating the band of its rows, each row tile adding the lines its window reaches below
/// them.
struct BandRepeats {
    win: Window,
    out: [u64; 4],
    cig: u64,
    groups: u64,
    channel_tiles: u64,
    tile_oh: u64,
    /// The band lines of the whole output.
    whole: f64,
}

impl BandRepeats {
    fn of(kernel: &Kernel) -> Option<BandRepeats> {
        let KernelOp::Conv2d {
            x,
            w,
            y,
            strides,
            pads,
            dilations,
            groups,
            gemm,
            tile_co,
            tile_oh,
            ..
        } = &kernel.op
        else {
            return None;
        };
        // Pixel rows read the input planes in place, whatever the window.
        if *gemm == ConvGemm::PixelRows {
            return None;
        }
        let [cig, kh, kw] = conv_weight_dims(w);
        let win = window([kh, kw], *strides, *pads, *dilations);
        let [n, co, oh, ow] = [y.shape[0], y.shape[1], y.shape[2], y.shape[3]];
        if x.shape.len() != 4
            || w.shape.len() != 6
            || gathered_band_width(&win, ow as usize) > 2 * ow as usize
        {
            return None;
        }
        // Pointwise windows over planes as large as the output: every workgroup reads the
        // planes in place.
        if win.is_pointwise() && x.shape[2..] == y.shape[2..] {
            return None;
        }
        let whole = BandLayout::new(&win, oh as usize, ow as usize).lines as f64;
        Some(BandRepeats {
            win,
            out: [n, co, oh, ow],
            cig,
            groups: *groups,
            channel_tiles: (co / groups).div_ceil(*tile_co),
            tile_oh: *tile_oh,
            whole,
        })
    }

    /// The band lines laid out between the workgroups with row tiles of `tile_oh` rows.
    fn laid(&self, tile_oh: u64) -> f64 {
        let [_, _, oh, ow] = self.out;
        let lines = |rows: u64| BandLayout::new(&self.win, rows as usize, ow as usize).lines;
        let per_channel_tile: usize = (0..oh.div_ceil(tile_oh))
            .map(|r| lines(tile_oh.min(oh - r * tile_oh)))
            .sum();
        (self.channel_tiles as usize * per_channel_tile) as f64
    }
}

/// Packed constants made so far, shared by every function of a program: new constants get ids
/// from `first_id` on, and one packing of a plain view is made once.
pub struct PackedConstants {
    first_id: u32,
    pub tensors: Vec<HostTensor>,
    made: HashMap<PackingKey, u32>,
}

/// What identifies one packing of a constant: the constant, the view of it that was packed,
/// and the packed layout (its shape, the GEMM side it was packed for and whether its depth
/// rows run tap by tap), so targets with different register tiles get different packed
/// constants and equal ones share them.
type PackingKey = (u32, u64, Vec<u64>, Vec<i64>, Vec<u64>, ConvGemm, bool);

impl PackedConstants {
    /// `first_id` is the number of constants the program already has.
    pub fn new(first_id: usize) -> PackedConstants {
        PackedConstants {
            first_id: first_id as u32,
            tensors: vec![],
            made: HashMap::new(),
        }
    }

    /// The tensor of a constant made here, if `id` is one.
    pub fn get(&self, id: u32) -> Option<&HostTensor> {
        id.checked_sub(self.first_id)
            .and_then(|i| self.tensors.get(i as usize))
    }

    fn add(&mut self, key: PackingKey, tensor: impl FnOnce() -> HostTensor) -> u32 {
        if let Some(&id) = self.made.get(&key) {
            return id;
        }
        let id = self.first_id + self.tensors.len() as u32;
        self.tensors.push(tensor());
        self.made.insert(key, id);
        id
    }
}

/// Packs the constant weights of `d`'s convolutions and matmuls for `tile`, rewriting their
/// views to read the packed constants. `constants` are the program's. Weights are constants,
/// so their sizes are known even where the activations' are not (see `orientation` for a
/// convolution whose image size is known only at run time). Workgroup tiles are chosen
/// afterwards ([`Kernel::choose_tiles`] follows the packed layouts).
pub fn pack_weights<Z: Sizes>(
    d: &mut Dispatches<Kernel<Z>, Z>,
    constants: &[HostTensor],
    tile: TileShape,
    packed: &mut PackedConstants,
) {
    for ki in 0..d.dispatches.len() {
        let dispatch = &d.dispatches[ki];
        let Some(packing) = packing_for(&dispatch.kernel.op, tile) else {
            continue;
        };
        let Some(values) = constant_f32(d, dispatch, constants, &packing.view) else {
            continue;
        };
        let storage = dispatch.operands[packing.view.binding as usize];
        let StorageKind::Constant(c) = d.storages[storage.index()].kind else {
            continue;
        };
        let (shape, data) = packing.pack(&values, tile);
        let view = &packing.view;
        let key = (
            c,
            view.offset,
            view.shape.clone(),
            view.strides.clone(),
            shape.clone(),
            packing.conv_gemm,
            matches!(
                packing.kind,
                PackedOperand::ConvWeights {
                    tap_major: true,
                    ..
                }
            ),
        );
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let id = packed.add(key, || HostTensor::from_f32(&dims, &data));
        let storage = d.add_storage(Storage {
            kind: StorageKind::Constant(id),
            element_type: ElementType::F32,
            elements: Z::extent_of(data.len() as u64),
        });
        let dispatch = &mut d.dispatches[ki];
        let mut packed_view =
            View::contiguous(dispatch.operands.len() as u32, 0, ElementType::F32, &shape);
        let taps = matches!(packing.kind, PackedOperand::DepthwiseTaps);
        if let (true, &[kh, kw, c]) = (taps, &shape[..]) {
            packed_view.shape = vec![c, 1, kh, kw];
            packed_view.strides = vec![1, 1, (kw * c) as i64, c as i64];
        }
        let packed_view = View::from_known(&packed_view);
        dispatch.operands.push(storage);
        match &mut dispatch.kernel.op {
            KernelOp::Conv2d { w, gemm, .. } => {
                *w = packed_view;
                if !taps {
                    *gemm = packing.conv_gemm;
                }
            }
            KernelOp::MatMul { b, .. } => *b = packed_view,
            _ => unreachable!("only convolutions and matmuls are packed"),
        }
        renumber(dispatch);
    }
}

/// Whether [`pack_weights`] packs the weights of `dispatch` (one of `d`'s) for `tile`.
pub(crate) fn packs_weights<Z: Sizes>(
    d: &Dispatches<Kernel<Z>, Z>,
    dispatch: &Dispatch<Kernel<Z>>,
    constants: &[HostTensor],
    tile: TileShape,
) -> bool {
    packing_for(&dispatch.kernel.op, tile)
        .is_some_and(|p| f32_constant(d, dispatch, constants, &p.view).is_some())
}

/// Packs the constant `i8` weights of `d`'s integer convolutions in channel quads
/// ([`ConvGemm::ChannelQuads`]) and of its integer matmuls as the integer GEMM's rows
/// (`b` transposed, depth in groups of four), rewriting their views to read the packed
/// constants.
pub fn pack_integer_weights<Z: Sizes>(
    d: &mut Dispatches<Kernel<Z>, Z>,
    constants: &[HostTensor],
    packed: &mut PackedConstants,
) {
    for ki in 0..d.dispatches.len() {
        let dispatch = &d.dispatches[ki];
        let w = match &dispatch.kernel.op {
            KernelOp::Conv2d {
                w,
                gemm: ConvGemm::ChannelRows,
                ..
            } => w,
            KernelOp::MatMul { b, .. } if b.shape.len() == 3 => b,
            _ => continue,
        };
        let Some(w) = w.known().filter(|w| w.element_type == ElementType::I8) else {
            continue;
        };
        let storage = dispatch.operands[w.binding as usize];
        let StorageKind::Constant(c) = d.storages[storage.index()].kind else {
            continue;
        };
        let Some(t) = constants.get(c as usize) else {
            continue;
        };
        let Some((shape, rows)) = integer_rows(&dispatch.kernel.op, &w, t) else {
            continue;
        };
        let key = (
            c,
            w.offset,
            w.shape.clone(),
            w.strides.clone(),
            shape.clone(),
            ConvGemm::ChannelQuads,
            false,
        );
        let elements = rows.len() as u64;
        let id = packed.add(key, || HostTensor {
            element_type: ElementType::I8,
            shape: shape.iter().map(|&d| d as usize).collect(),
            data: rows.iter().map(|&v| v as u8).collect(),
        });
        let storage = d.add_storage(Storage {
            kind: StorageKind::Constant(id),
            element_type: ElementType::I8,
            elements: Z::extent_of(elements),
        });
        let dispatch = &mut d.dispatches[ki];
        let packed_view = View::from_known(&View::contiguous(
            dispatch.operands.len() as u32,
            0,
            ElementType::I8,
            &shape,
        ));
        dispatch.operands.push(storage);
        match &mut dispatch.kernel.op {
            KernelOp::Conv2d { w, gemm, .. } => {
                *w = packed_view;
                *gemm = ConvGemm::ChannelQuads;
            }
            KernelOp::MatMul { b, .. } => *b = packed_view,
            _ => unreachable!("only integer convolutions and matmuls are packed"),
        }
        renumber(dispatch);
    }
}

/// The packed shape and values of an integer product's constant weights `w` (a view of
/// `t`): a convolution's filters in channel quads `[co, kh, kw, lanes]`, a matmul's
/// right-hand side transposed in depth groups `[B, N, ceil(K/4), 4]`. `None` when the view
/// does not lie inside the constant.
fn integer_rows<Z: Sizes>(
    op: &KernelOp<Z>,
    w: &View,
    t: &HostTensor,
) -> Option<(Vec<u64>, Vec<i8>)> {
    if t.element_type != ElementType::I8
        || !w
            .span()
            .ok()?
            .is_none_or(|(lo, hi)| lo >= 0 && hi <= t.data.len() as i64)
    {
        return None;
    }
    let at = |idx: &[u64]| {
        let off = w.offset as i64
            + idx
                .iter()
                .zip(&w.strides)
                .map(|(&i, &s)| i as i64 * s)
                .sum::<i64>();
        t.data[off as usize] as i8
    };
    match op {
        KernelOp::Conv2d { .. } => {
            let [co, cig, kh, kw] = w.shape[..] else {
                return None;
            };
            let mut plain = Vec::with_capacity((co * cig * kh * kw) as usize);
            for o in 0..co {
                for c in 0..cig {
                    for y in 0..kh {
                        for x in 0..kw {
                            plain.push(at(&[o, c, y, x]));
                        }
                    }
                }
            }
            let lanes = channel_quads(cig as usize) * DEPTH_GROUP;
            let rows = pack_conv_filters(&plain, co as usize, cig as usize, (kh * kw) as usize);
            Some((vec![co, kh, kw, lanes as u64], rows))
        }
        _ => {
            let [batch, k, n] = w.shape[..] else {
                return None;
            };
            let k4 = k.next_multiple_of(DEPTH_GROUP as u64);
            let mut rows = vec![0i8; (batch * n * k4) as usize];
            for bi in 0..batch {
                for j in 0..n {
                    let row = &mut rows[((bi * n + j) * k4) as usize..][..k as usize];
                    for (p, v) in row.iter_mut().enumerate() {
                        *v = at(&[bi, p as u64, j]);
                    }
                }
            }
            Some((
                vec![batch, n, k4 / DEPTH_GROUP as u64, DEPTH_GROUP as u64],
                rows,
            ))
        }
    }
}

/// A constant GEMM operand to pack: its (static) view, and how.
struct Packing {
    view: View,
    kind: PackedOperand,
    conv_gemm: ConvGemm,
}

enum PackedOperand {
    /// Convolution weights in `groups` groups of `cog` output channels, each strip's depth
    /// rows tap by tap (`tap_major`, pixel rows over a channels-last input) or channel by
    /// channel.
    ConvWeights {
        groups: usize,
        cog: usize,
        tap_major: bool,
    },
    /// A matmul's right-hand side `[batch, k, n]`.
    MatMulRhs,
    /// A depthwise convolution's filters `[c, 1, kh, kw]` laid out `[kh, kw, c]`, viewed in
    /// their shape with strides `[1, 1, kw·c, c]` ([`View::is_tap_major`]).
    DepthwiseTaps,
}

/// What of `op` to pack for `tile`, if anything: a convolution's weights (not depthwise ones,
/// which have their own kernel) or a matmul's right-hand side, when its sizes are static.
fn packing_for<Z: Sizes>(op: &KernelOp<Z>, tile: TileShape) -> Option<Packing> {
    match op {
        KernelOp::Conv2d {
            x,
            w,
            y,
            groups,
            strides,
            pads,
            dilations,
            ..
        } if w.shape.len() == 4 && x.shape.len() == 4 && w.element_type == ElementType::F32 => {
            let w = w.known()?;
            let groups = *groups as usize;
            let cog = w.shape[0] as usize / groups.max(1);
            if op.is_depthwise_conv() {
                // Depthwise over channels-last images: the filters tap by tap, each tap's
                // channels side by side as a pixel's are.
                return x.is_channels_last().then_some(Packing {
                    view: w,
                    kind: PackedOperand::DepthwiseTaps,
                    conv_gemm: ConvGemm::ChannelRows,
                });
            }
            let win = window([w.shape[2], w.shape[3]], *strides, *pads, *dilations);
            // Channels-last images are read and written by pixel rows.
            let conv_gemm = match x.is_channels_last() || y.is_channels_last() {
                true => ConvGemm::PixelRows,
                false => orientation::<Z>(cog, &x.shape, &y.shape, &win, tile),
            };
            Some(Packing {
                view: w,
                kind: PackedOperand::ConvWeights {
                    groups,
                    cog,
                    tap_major: conv_gemm == ConvGemm::PixelRows && x.is_channels_last(),
                },
                conv_gemm,
            })
        }
        KernelOp::MatMul { b, .. } if b.shape.len() == 3 && b.element_type == ElementType::F32 => {
            Some(Packing {
                view: b.known()?,
                kind: PackedOperand::MatMulRhs,
                conv_gemm: ConvGemm::ChannelRows,
            })
        }
        _ => None,
    }
}

/// Sizes each symbol is tried at to orient a convolution whose image size is known only at
/// run time: small, medium and large inputs of vision models.
const TYPICAL_SYMBOL_SIZES: [u64; 3] = [128, 320, 640];

/// The GEMM orientation of a convolution with input `x` and output `y` (NCHW): the cheaper
/// one ([`conv_orientation`]). Packed weights fix it when compiling, so where the image size
/// is known only at run time it is the orientation most of [`TYPICAL_SYMBOL_SIZES`] choose
/// (either computes the same values at every size; only speed differs).
fn orientation<Z: Sizes>(
    cog: usize,
    x: &[Z::Extent],
    y: &[Z::Extent],
    win: &Window,
    tile: TileShape,
) -> ConvGemm {
    let plane =
        |dims: &[Z::Extent], at: u64| [2, 3].map(|d| Z::typical_extent(&dims[d], at) as usize);
    let pixel_rows = TYPICAL_SYMBOL_SIZES
        .iter()
        .filter(|&&at| {
            conv_orientation(cog, plane(x, at), plane(y, at), win, tile) == ConvGemm::PixelRows
        })
        .count();
    if 2 * pixel_rows > TYPICAL_SYMBOL_SIZES.len() {
        ConvGemm::PixelRows
    } else {
        ConvGemm::ChannelRows
    }
}

impl Packing {
    /// The packed operand's shape and values, from the constant's `values`.
    fn pack(&self, values: &[f32], tile: TileShape) -> (Vec<u64>, Vec<f32>) {
        let v = &self.view;
        let mut data = vec![];
        match self.kind {
            PackedOperand::ConvWeights {
                groups,
                cog,
                tap_major,
            } => {
                let depth = (v.shape[1] * v.shape[2] * v.shape[3]) as usize;
                let [cig, taps] = [v.shape[1], v.shape[2] * v.shape[3]].map(|x| x as usize);
                // Each output channel's depth rows from `[cig, kh, kw]` to `[kh, kw, cig]`.
                let permuted = tap_major.then(|| {
                    let rows = &values[v.offset as usize..][..groups * cog * depth];
                    let mut out = Vec::with_capacity(rows.len());
                    for row in rows.chunks_exact(depth) {
                        extend_tap_by_tap(&mut out, row, cig, taps);
                    }
                    out
                });
                let (values, at) = match &permuted {
                    Some(permuted) => (&permuted[..], 0),
                    None => (values, v.offset as usize),
                };
                // f32 weights are packed for channel or pixel rows (`orientation`).
                let strip = match self.conv_gemm {
                    ConvGemm::PixelRows => tile.nr,
                    ConvGemm::ChannelRows | ConvGemm::ChannelQuads => tile.mr,
                };
                for g in 0..groups {
                    let m = Matrix {
                        data: values,
                        offset: at + g * cog * depth,
                        row_stride: depth,
                        col_stride: 1,
                    };
                    data.extend(match self.conv_gemm {
                        ConvGemm::PixelRows => pack_rhs(&m.transposed(), depth, cog, strip),
                        ConvGemm::ChannelRows | ConvGemm::ChannelQuads => {
                            pack_lhs(&m, cog, depth, strip)
                        }
                    });
                }
                let mut shape = vec![groups as u64, cog.div_ceil(strip) as u64];
                shape.extend(&v.shape[1..]);
                shape.push(strip as u64);
                (shape, data)
            }
            PackedOperand::DepthwiseTaps => {
                let [c, taps] = [v.shape[0], v.shape[2] * v.shape[3]].map(|x| x as usize);
                extend_tap_by_tap(&mut data, &values[v.offset as usize..], c, taps);
                (vec![v.shape[2], v.shape[3], v.shape[0]], data)
            }
            PackedOperand::MatMulRhs => {
                let [batch, k, n] = [v.shape[0], v.shape[1], v.shape[2]].map(|x| x as usize);
                for bi in 0..batch {
                    let m = Matrix {
                        data: values,
                        offset: (v.offset as i64 + bi as i64 * v.strides[0]) as usize,
                        row_stride: v.strides[1] as usize,
                        col_stride: v.strides[2] as usize,
                    };
                    data.extend(pack_rhs(&m, k, n, tile.nr));
                }
                let shape = vec![
                    batch as u64,
                    n.div_ceil(tile.nr) as u64,
                    k as u64,
                    tile.nr as u64,
                ];
                (shape, data)
            }
        }
    }
}

/// Appends `channels · taps` values stored channel by channel (`[channels, taps]`, from the
/// start of `values`) to `out` tap by tap (`[taps, channels]`): each tap's channels together,
/// as a channels-last image holds a pixel's.
fn extend_tap_by_tap(out: &mut Vec<f32>, values: &[f32], channels: usize, taps: usize) {
    out.extend((0..taps).flat_map(|t| (0..channels).map(move |c| values[c * taps + t])));
}

/// Which way round a convolution's GEMM should be on `tile` for a group of `cog` output
/// channels, an `input` plane and an `output` plane: the one that computes less
/// ([`orientation_costs`]).
fn conv_orientation(
    cog: usize,
    input: [usize; 2],
    output: [usize; 2],
    win: &Window,
    tile: TileShape,
) -> ConvGemm {
    let (channel_rows, pixel_rows) = orientation_costs(cog, input, output, win, tile);
    if pixel_rows < channel_rows {
        ConvGemm::PixelRows
    } else {
        ConvGemm::ChannelRows
    }
}

/// How much more than the cheaper orientation a convolution may compute with pixel rows to
/// read or write channels-last images: the layout saves its transposed stores and reads each
/// pixel's channels together, which repays some padding of channels to the tile.
const CHANNELS_LAST_PIXEL_ROWS_SLACK: f64 = 1.25;

/// Whether `op` is a convolution (static) with at least a strip of `tile`'s output channels per
/// group that computes with pixel rows at most [`CHANNELS_LAST_PIXEL_ROWS_SLACK`] times the
/// work of the cheaper orientation: on large images it may then read and write channels-last
/// ones.
pub(crate) fn pixel_rows_nearly_cheapest(op: &KernelOp, tile: TileShape) -> bool {
    let KernelOp::Conv2d {
        x,
        w,
        y,
        groups,
        strides,
        pads,
        dilations,
        ..
    } = op
    else {
        return false;
    };
    let cog = (w.shape[0] / (*groups).max(1)) as usize;
    // A tile narrower than a strip spends more of its time on its loads than on FMAs.
    if cog < tile.nr {
        return false;
    }
    let win = window([w.shape[2], w.shape[3]], *strides, *pads, *dilations);
    let plane = |v: &View| [v.shape[2] as usize, v.shape[3] as usize];
    let (channel_rows, pixel_rows) = orientation_costs(cog, plane(x), plane(y), &win, tile);
    pixel_rows <= CHANNELS_LAST_PIXEL_ROWS_SLACK * channel_rows
}

/// The values a convolution's GEMM computes on `tile` each way round, `(channel rows, pixel
/// rows)`, for a group of `cog` output channels, an `input` plane and an `output` plane. Channel rows
/// pad channels to strips of `mr` and pixels to strips of `nr`, compute extra columns at the
/// end of each output row (read in place) and every tap, padding included; pixel rows round
/// channels up to the narrowest tile and pixels to `mr`, and skip the taps that read only
/// padding. Pixel rows store C transposed and run border pixels as GEMMs of their own, which
/// costs about 5% more per value computed.
fn orientation_costs(
    cog: usize,
    input: [usize; 2],
    [oh, ow]: [usize; 2],
    win: &Window,
    tile: TileShape,
) -> (f64, f64) {
    let band = gathered_band_width(win, ow);
    let line = if band <= 2 * ow { band } else { ow };
    let channel_rows =
        (cog.next_multiple_of(tile.mr) * (oh * line).next_multiple_of(tile.nr)) as f64;
    let taps_read = |d: usize, outputs: usize| {
        let read: usize = (0..outputs)
            .map(|o| {
                let (lo, hi) = win.taps(d, o, input[d]);
                hi - lo
            })
            .sum();
        read as f64 / (outputs * win.kernel[d]).max(1) as f64
    };
    let pixel_values = cog.next_multiple_of(tile.narrowest) * (oh * ow).next_multiple_of(tile.mr);
    let pixel_rows = 1.05 * pixel_values as f64 * taps_read(0, oh) * taps_read(1, ow);
    (channel_rows, pixel_rows)
}

/// The f32 constant `v` views, if it views one.
fn f32_constant<'c, Z: Sizes>(
    d: &Dispatches<Kernel<Z>, Z>,
    dispatch: &Dispatch<Kernel<Z>>,
    constants: &'c [HostTensor],
    v: &View,
) -> Option<&'c HostTensor> {
    let storage: StorageId = *dispatch.operands.get(v.binding as usize)?;
    let StorageKind::Constant(c) = d.storages.get(storage.index())?.kind else {
        return None;
    };
    let t = constants.get(c as usize)?;
    (t.element_type == ElementType::F32 && v.element_type == ElementType::F32).then_some(t)
}

/// The f32 values of the constant `v` views, if it views a constant.
fn constant_f32<Z: Sizes>(
    d: &Dispatches<Kernel<Z>, Z>,
    dispatch: &Dispatch<Kernel<Z>>,
    constants: &[HostTensor],
    v: &View,
) -> Option<Vec<f32>> {
    let t = f32_constant(d, dispatch, constants, v)?;
    Some(
        t.data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}
