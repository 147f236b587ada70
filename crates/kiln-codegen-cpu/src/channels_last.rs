//! Channels-last (NHWC) images between convolutions.
//!
//! Dispatch formation writes every image NCHW, plane by plane. A depthwise convolution over
//! planes vectorises along rows, which on the small images deep in a network wastes most of
//! each vector or needs its planes transposed side by side first; a pixel-row convolution
//! (a GEMM whose rows are output pixels) writes its output transposed. Stored channels-last,
//! a pixel's channels lie together: a depthwise tap of 16 channels is one vector read in
//! place, and a pixel-row GEMM writes its tile as it is — as ONNX Runtime and OpenVINO lay
//! out CNN activations on x86.
//!
//! The layout is the views' strides, nothing else: an image stored channels-last keeps its
//! `[n, c, h, w]` shape, with strides `[h·w·c, 1, w·c, c]`. An image is laid out so when
//! every kernel that touches it takes that layout: it is written by a float convolution and
//! read only by float convolutions (as their input or an epilogue's operand), each of which
//! computes with pixel rows over packed weights or is depthwise; a depthwise convolution's
//! input and output are laid out alike. Function results and parameters keep their layout.

use crate::data_tiling::packs_weights;
use kiln_kernel::{Dispatches, StorageKind};
use kiln_types::{ElementType, HostTensor};
use kiln_ukernel::gemm::TileShape;
use kiln_vmvx::format::{Kernel, KernelOp, View};

/// How a convolution may take channels-last images.
#[derive(Clone, Copy, PartialEq)]
enum Conv {
    /// Pixel rows over packed weights: either layout for input and output, independently.
    PixelRows,
    /// Depthwise: input and output in the same layout.
    Depthwise,
}

/// Lays out channels-last every image between convolutions that can all take it (see the
/// module docs), by rewriting the strides of every view of it. Run before weights are packed
/// for `tile` (from `constants`): the convolutions that then read or write such images pack
/// theirs for pixel rows.
pub fn lay_out_channels_last(
    d: &mut Dispatches<Kernel>,
    constants: &[HostTensor],
    tile: TileShape,
) {
    let convs: Vec<Option<Conv>> = d
        .dispatches
        .iter()
        .map(|dispatch| {
            convolution(&dispatch.kernel.op, || {
                packs_weights(d, dispatch, constants, tile)
            })
        })
        .collect();
    let mut possible: Vec<bool> = d
        .storages
        .iter()
        .map(|s| s.kind == StorageKind::Computed && s.element_type == ElementType::F32)
        .collect();
    for r in &d.results {
        possible[r.index()] = false;
    }
    // Each convolution that can take channels-last images: its input and output storages.
    let mut io = vec![];
    for (dispatch, &conv) in d.dispatches.iter().zip(&convs) {
        let storage = |v: &View| dispatch.operands[v.binding as usize].index();
        let mut takes = vec![];
        if let (Some(conv), KernelOp::Conv2d { x, y, epilogue, .. }) = (conv, &dispatch.kernel.op) {
            takes.extend([x, y]);
            takes.extend(epilogue.iter().flat_map(|e| e.inputs.iter()));
            io.push((storage(x), storage(y), conv));
        }
        for v in dispatch.kernel.views() {
            let s = storage(v);
            let whole = whole_image(v, d.storages[s].elements);
            if !whole || !takes.iter().any(|t| std::ptr::eq(*t, v)) {
                possible[s] = false;
            }
        }
    }
    let depthwise = || io.iter().filter(|(_, _, c)| *c == Conv::Depthwise);
    while let Some(&(x, y, _)) = depthwise().find(|(x, y, _)| possible[*x] != possible[*y]) {
        possible[x] = false;
        possible[y] = false;
    }
    // Depthwise convolutions are what gains: their images, and an image between two
    // convolutions that read and write such images on their other side (a residual stream
    // between a projection and the next expansion), so that neither converts. Elsewhere
    // pixel rows would replace the orientation that computes least.
    let mut chosen = vec![false; possible.len()];
    for &(x, y, _) in depthwise() {
        chosen[x] = possible[x];
        chosen[y] = possible[y];
    }
    let between: Vec<usize> = (0..possible.len())
        .filter(|&s| possible[s] && !chosen[s])
        .filter(|&s| {
            let written_from = io.iter().any(|&(x, y, _)| y == s && chosen[x]);
            let read_into = io.iter().any(|&(x, y, _)| x == s && chosen[y]);
            written_from && read_into
        })
        .collect();
    for s in between {
        chosen[s] = true;
    }
    if !chosen.contains(&true) {
        return;
    }
    for dispatch in &mut d.dispatches {
        let operands = &dispatch.operands;
        for v in dispatch.kernel.views_mut() {
            if chosen[operands[v.binding as usize].index()] {
                let [_, c, h, w] = [0, 1, 2, 3].map(|i| v.shape[i] as i64);
                v.strides = vec![h * w * c, 1, w * c, c];
            }
        }
    }
}

/// How `op` may take channels-last images, if it is a float convolution that can
/// (`packed` tells whether its weights will be packed: pixel rows need them so).
fn convolution(op: &KernelOp, packed: impl FnOnce() -> bool) -> Option<Conv> {
    let KernelOp::Conv2d {
        x, w, y, groups, ..
    } = op
    else {
        return None;
    };
    let float = [x, w, y].iter().all(|v| v.element_type == ElementType::F32);
    if !float || x.shape.len() != 4 || w.shape.len() != 4 {
        return None;
    }
    let (cig, cog) = (w.shape[1], y.shape[1] / (*groups).max(1));
    if cig == 1 && cog == 1 {
        Some(Conv::Depthwise)
    } else if packed() {
        Some(Conv::PixelRows)
    } else {
        None
    }
}

/// Images with rows at least this wide stay planar: the planar kernels' vectors along a row
/// are then mostly full (the width from which depthwise convolution runs plane by plane,
/// [`kiln_ukernel::rows::interleaved::interleaves`]).
const PLANAR_FROM_WIDTH: u64 = 32;

/// Whether `v` is a whole 4-D image of its storage's `elements`, contiguous, from its first
/// element, with more than one channel and more than one pixel (else both layouts agree),
/// its rows narrower than [`PLANAR_FROM_WIDTH`].
fn whole_image(v: &View, elements: u64) -> bool {
    v.shape.len() == 4
        && v.offset == 0
        && v.is_contiguous()
        && v.shape.iter().product::<u64>() == elements
        && v.shape[1] > 1
        && v.shape[2] * v.shape[3] > 1
        && v.shape[3] < PLANAR_FROM_WIDTH
}
