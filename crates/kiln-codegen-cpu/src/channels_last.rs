//! Channels-last (NHWC) images between convolutions.
//!
//! Dispatch formation writes every image NCHW, plane by plane. A depthwise convolution over
//! planes vectorises along rows, which on the small images deep in a network wastes most of
//! each vector or needs its planes transposed side by side first; a pixel-row convolution
//! (a GEMM whose rows are output pixels) writes its output transposed and reads each pixel's
//! channels a plane apart. Stored channels-last, a pixel's channels lie together: a depthwise
//! tap of 16 channels is one vector read in place, and a pixel-row GEMM reads its rows and
//! writes its tile as they are — as ONNX Runtime and OpenVINO lay out CNN activations on x86.
//!
//! The layout is the views' strides, nothing else: an image stored channels-last keeps its
//! `[n, c, h, w]` shape, with strides `[h·w·c, 1, w·c, c]`. An image may be laid out so when
//! every kernel that touches it takes that layout — a float convolution that computes with
//! pixel rows over packed weights (either layout on either side; on images 32 or more pixels
//! wide only where that computes little more than the other orientation) or is depthwise over
//! narrower rows, a float pooling, or a generic kernel, elementwise or a reduction (whose views
//! follow any strides); the last three want all their images alike (per-channel operands
//! broadcast over the pixels, and a reduction's result over them, have no layout), else they
//! would transpose — and it is not a function result or parameter. A reduction takes them
//! only over its images' pixels (a squeeze-and-excitation block's mean), which llvm-cpu
//! compiles to read a pixel's channels at a time, one accumulator per channel, so the
//! depthwise convolution before such a block need not be planar; other reductions (over the
//! channels, along rows, over every dim) keep their images planar, since over channels-last
//! ones they would read one channel at a time, a pixel apart. Of the images that may, those
//! connected to a convolution through such kernels are: a CNN keeps its images channels-last
//! from convolution to convolution through its activations, poolings, residual adds and
//! squeeze-and-excitation blocks. An elementwise kernel writing such an image runs its
//! channels innermost.

use crate::data_tiling::{packs_weights, pixel_rows_nearly_cheapest};
use kiln_kernel::{Dispatches, Inst, StorageKind};
use kiln_types::{ElementType, HostTensor};
use kiln_ukernel::gemm::TileShape;
use kiln_vmvx::format::{Kernel, KernelOp, View};

/// How a kernel may take channels-last images.
#[derive(Clone, Copy, PartialEq)]
enum Takes {
    /// Either layout for input and output, independently: a convolution with pixel rows
    /// over packed weights.
    Either,
    /// Every image alike: a depthwise convolution or a pooling, or a generic kernel —
    /// elementwise, or a reduction over its images' pixels (which would otherwise transpose).
    Alike,
}

/// Lays out channels-last the images the module docs describe, by rewriting the strides of
/// every view of them. Run before weights are packed for `tile` (from `constants`): the
/// convolutions that then read or write such images pack theirs for pixel rows.
pub fn lay_out_channels_last(
    d: &mut Dispatches<Kernel>,
    constants: &[HostTensor],
    tile: TileShape,
) {
    let takes: Vec<Option<Takes>> = d
        .dispatches
        .iter()
        .map(|dispatch| {
            let op = &dispatch.kernel.op;
            kind(op, || {
                packs_weights(d, dispatch, constants, tile)
                    && (narrow(op) || pixel_rows_nearly_cheapest(op, tile))
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
    // The images each kernel touches (whose layouts it links), and those of the kernels that
    // need theirs alike. An image is seen in one shape only: a reshape (a view of another
    // shape of the same storage) would need other strides.
    let mut links: Vec<Vec<usize>> = vec![];
    let mut alike: Vec<Vec<usize>> = vec![];
    let mut convolved = vec![];
    let mut shapes: Vec<Option<&[u64]>> = vec![None; d.storages.len()];
    for (dispatch, &kind) in d.dispatches.iter().zip(&takes) {
        let storage = |v: &View| dispatch.operands[v.binding as usize].index();
        let (mut images, mut spatial) = (vec![], vec![]);
        for (i, v) in dispatch.kernel.views().into_iter().enumerate() {
            let s = storage(v);
            let shape = *shapes[s].get_or_insert(&v.shape);
            // A convolution's weights (its second view) are never an image.
            let weights = i == 1 && matches!(dispatch.kernel.op, KernelOp::Conv2d { .. });
            let image = whole_image(v, d.storages[s].elements) && shape == v.shape && !weights;
            match (image, kind) {
                (true, Some(_)) => images.push(s),
                _ => possible[s] = false,
            }
            // Per-channel operands (a bias, a squeeze-and-excitation scale, broadcast over
            // the pixels) have no layout.
            let pixels = (2..v.shape.len()).any(|d| v.shape[d] > 1 && v.strides[d] != 0);
            if v.shape.len() == 4 && pixels && !weights {
                spatial.push(s);
            }
        }
        if let (Some(kind), KernelOp::Conv2d { x, y, .. }) = (kind, &dispatch.kernel.op) {
            let images = [storage(x), storage(y)];
            convolved.extend(images);
            // A depthwise convolution over wide rows runs plane by plane.
            if kind == Takes::Alike && !narrow(&dispatch.kernel.op) {
                for s in images {
                    possible[s] = false;
                }
            }
        }
        if kind == Some(Takes::Alike) {
            // A depthwise convolution's or a pooling's input and output, a single pixel
            // included (both layouts of one pixel agree, but its kernel takes both alike).
            if let KernelOp::Conv2d { x, y, .. } | KernelOp::Pool2d { x, y, .. } =
                &dispatch.kernel.op
            {
                for s in [storage(x), storage(y)] {
                    if !spatial.contains(&s) {
                        spatial.push(s);
                    }
                }
            }
            alike.push(spatial);
        }
        links.push(images);
    }
    while let Some(group) = alike
        .iter()
        .find(|g| g.iter().any(|&s| possible[s]) && g.iter().any(|&s| !possible[s]))
    {
        for &s in group {
            possible[s] = false;
        }
    }
    // From the convolutions' images, through every kernel that links them.
    let mut chosen = vec![false; possible.len()];
    let mut todo: Vec<usize> = convolved.into_iter().filter(|&s| possible[s]).collect();
    while let Some(s) = todo.pop() {
        if chosen[s] {
            continue;
        }
        chosen[s] = true;
        for images in links.iter().filter(|l| l.contains(&s)) {
            todo.extend(images.iter().filter(|&&t| possible[t] && !chosen[t]));
        }
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
        channels_innermost(&mut dispatch.kernel.op);
    }
}

/// Reorders an elementwise kernel over `[n, c, h, w]` whose first output is channels-last to
/// iterate `[n, h, w, c]`, so that its innermost loop runs along the channels (a body that
/// reads its indices keeps its order).
fn channels_innermost(op: &mut KernelOp) {
    let KernelOp::Generic {
        shape,
        tile,
        reduction_dims: 0,
        inputs,
        outputs,
        body,
        ..
    } = op
    else {
        return;
    };
    let reads_index = body.insts.iter().any(|i| matches!(i, Inst::Index(_)));
    if shape.len() != 4 || reads_index || !outputs.first().is_some_and(View::is_channels_last) {
        return;
    }
    let order = [0, 2, 3, 1];
    let permute = |v: &mut Vec<u64>| *v = order.iter().map(|&d| v[d]).collect();
    permute(shape);
    permute(tile);
    for v in inputs.iter_mut().chain(outputs.iter_mut()) {
        permute(&mut v.shape);
        v.strides = order.iter().map(|&d| v.strides[d]).collect();
    }
}

/// How `op` may take channels-last images, if it can: a generic kernel (elementwise or a
/// reduction), a float pooling or a float convolution (`pixel_rows` tells whether it may
/// compute with pixel rows over packed weights: on images narrower than [`PLANAR_FROM_WIDTH`]
/// always, since they waste most of a vector along a row, on larger ones where that costs
/// little more than the other orientation, [`pixel_rows_nearly_cheapest`]).
fn kind(op: &KernelOp, pixel_rows: impl FnOnce() -> bool) -> Option<Takes> {
    let KernelOp::Conv2d { x, w, y, .. } = op else {
        let alike = match op {
            KernelOp::Generic {
                reduction_dims: 0, ..
            } => true,
            KernelOp::Generic { .. } => reduces_pixels(op),
            KernelOp::Pool2d { x, y, .. } => {
                [x, y].iter().all(|v| v.element_type == ElementType::F32)
            }
            _ => false,
        };
        return alike.then_some(Takes::Alike);
    };
    let float = [x, w, y].iter().all(|v| v.element_type == ElementType::F32);
    if !float || x.shape.len() != 4 || w.shape.len() != 4 {
        return None;
    }
    if op.is_depthwise_conv() {
        Some(Takes::Alike)
    } else if pixel_rows() {
        Some(Takes::Either)
    } else {
        None
    }
}

/// Whether `op` is a reduction over the pixels of `[n, c, h, w]` images (a mean over each
/// channel's plane, as a squeeze-and-excitation block's): its domain is the images' own dims,
/// the last two reduced. Over channels-last images its channels are then the innermost
/// parallel dim, read a pixel at a time as llvm-cpu compiles it; any other reduction (over
/// the channels, along rows, over every dim) keeps its images planar, where a channels-last
/// image would be read one channel at a time, a pixel apart.
fn reduces_pixels(op: &KernelOp) -> bool {
    let KernelOp::Generic {
        shape,
        reduction_dims: 2,
        inputs,
        ..
    } = op
    else {
        return false;
    };
    shape.len() == 4
        && inputs
            .iter()
            .filter(|v| v.shape.len() == 4 && v.shape[2] * v.shape[3] > 1)
            .all(|v| v.shape == *shape)
}

/// The images of a depthwise convolution with rows at least this wide stay planar: its
/// vectors along a row are then mostly full (the width from which depthwise convolution runs
/// plane by plane, [`kiln_ukernel::rows::interleaved::interleaves`]). Narrower images are
/// taken channels-last by every pixel-row convolution.
const PLANAR_FROM_WIDTH: u64 = 32;

/// Whether the images `op` reads and writes have rows narrower than [`PLANAR_FROM_WIDTH`].
fn narrow(op: &KernelOp) -> bool {
    let KernelOp::Conv2d { x, y, .. } = op else {
        return false;
    };
    x.shape[3].max(y.shape[3]) < PLANAR_FROM_WIDTH
}

/// Whether `v` is a whole 4-D image of its storage's `elements`, contiguous, from its first
/// element, with more than one channel and more than one pixel (else both layouts agree).
fn whole_image(v: &View, elements: u64) -> bool {
    v.shape.len() == 4
        && v.offset == 0
        && v.is_contiguous()
        && v.shape.iter().product::<u64>() == elements
        && v.shape[1] > 1
        && v.shape[2] * v.shape[3] > 1
}
