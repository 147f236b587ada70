//! Pointwise and depthwise fusion for CPU targets: a pointwise convolution (1×1, unit
//! stride, no padding, weights packed in left-hand strips, its epilogue a bias and a clamp)
//! whose result only a depthwise convolution reads becomes one
//! [`KernelOp::PointwiseDepthwise`] dispatch with it, on planar images.
//!
//! That pair is a MobileNet's expansion and depthwise convolution; the expanded image is the
//! largest in the block (6 times the channels of its input) and at the higher resolutions
//! several MB, so unfused it goes out to memory and back: written by one dispatch, read by
//! the next, at the memory's speed rather than the GEMM's. Fused, each workgroup computes the
//! pointwise rows its output rows read into its scratch and convolves them there
//! (oneDNN fuses the same pair as a depthwise "post-op"). Row tiles that read the same rows
//! compute them twice; the tile choice keeps that at an eighth
//! (`kiln_vmvx::tile_config::pointwise_depthwise_tile`). The kernel calls the same GEMM and
//! depthwise row kernels, so results agree with the unfused ones to rounding (a swish's
//! sigmoid divides by a refined reciprocal estimate, within 2^-23 of the division).

use crate::uses::{from_second, merged, replace_fused, whole, Uses};
use kiln_kernel::{Dispatch, Dispatches};
use kiln_types::ElementType;
use kiln_vmvx::format::{ChannelSteps, ConvGemm, Epilogue, Kernel, KernelOp, View};
use kiln_vmvx::tile_config::POINTWISE_DEPTHWISE_SCRATCH;

/// The fused dispatch of the depthwise convolution `consumer` and the pointwise convolution
/// whose result it alone reads, if the two fuse (see the module docs): its index and the
/// fused dispatch, views numbered as the pointwise's operands followed by the depthwise's.
fn pair_of(
    d: &Dispatches<Kernel>,
    uses: &Uses,
    consumer: usize,
) -> Option<(usize, Dispatch<Kernel>)> {
    let dc = &d.dispatches[consumer];
    let KernelOp::Conv2d {
        x: mid,
        w,
        y,
        strides,
        pads,
        dilations,
        gemm: ConvGemm::ChannelRows,
        epilogue,
        ..
    } = &dc.kernel.op
    else {
        return None;
    };
    let f32_planar =
        |v: &View| v.element_type == ElementType::F32 && v.shape.len() == 4 && v.is_contiguous();
    if !dc.kernel.op.is_depthwise_conv() || ![mid, w, y].into_iter().all(f32_planar) {
        return None;
    }
    let s = whole(dc, mid, &mid.shape)?;
    // The pointwise result is read as the depthwise convolution's input only (its epilogue
    // reading it too, a residual, would read what no dispatch writes once fused).
    let views = dc.kernel.views();
    if views
        .iter()
        .filter(|v| dc.operands[v.binding as usize] == s)
        .count()
        != 1
    {
        return None;
    }
    let producer = uses.only_link(s, consumer)?;
    let dp = &d.dispatches[producer];
    let KernelOp::Conv2d {
        x,
        w: expand,
        y: result,
        strides: [1, 1],
        pads: [0, 0, 0, 0],
        groups: 1,
        gemm: ConvGemm::ChannelRows,
        epilogue: steps,
        ..
    } = &dp.kernel.op
    else {
        return None;
    };
    let packed_pointwise =
        expand.shape.len() == 6 && expand.shape[..1] == [1] && expand.shape[3..5] == [1, 1];
    if !packed_pointwise
        || expand.element_type != ElementType::F32
        || !f32_planar(x)
        || whole(dp, result, &mid.shape)? != s
        || d.results.contains(&s)
    {
        return None;
    }
    // The pointwise rows one output row reads, for one strip of channels, fit a workgroup's
    // scratch (a window dilated across a very wide image would not).
    let strip = expand.shape.last().copied().unwrap_or(1);
    let window_rows = dilations[0] * (w.shape[2].max(1) - 1) + 1;
    if window_rows * mid.shape[3] * strip > POINTWISE_DEPTHWISE_SCRATCH {
        return None;
    }
    if let Some(e) = steps {
        ChannelSteps::of(&e.body, e.inputs.len())?;
        let per_channel = |v: &View| {
            v.element_type == ElementType::F32
                && v.strides[2..] == [0, 0]
                && v.strides[..2].iter().all(|&s| s >= 0)
        };
        if !e.inputs.iter().all(per_channel) {
            return None;
        }
    }
    // The pointwise convolution is computed where the depthwise one was: nothing in between
    // may change what it reads, nor the depthwise one write it.
    if uses.changed_after(dp, s, producer, consumer) {
        return None;
    }
    let from_consumer = |view: &View| from_second(dp, view);
    let op = KernelOp::PointwiseDepthwise {
        x: x.clone(),
        expand: expand.clone(),
        steps: steps.clone(),
        w: from_consumer(w),
        y: from_consumer(y),
        strides: *strides,
        pads: *pads,
        dilations: *dilations,
        tile_co: 0,
        tile_oh: 0,
        epilogue: epilogue.as_ref().map(|e| Epilogue {
            inputs: e.inputs.iter().map(from_consumer).collect(),
            body: e.body.clone(),
        }),
    };
    let fused = merged(dp, dc, op);
    Some((producer, fused))
}

/// Fuses every pointwise convolution whose result only a depthwise convolution reads into
/// one dispatch with it, at the depthwise convolution's place; kernels are renamed in their
/// new order. Run after weights are packed, before workgroup tiles are chosen.
pub fn fuse_pointwise_depthwise(d: &mut Dispatches<Kernel>) {
    let uses = Uses::of(d);
    let mut removed = vec![false; d.dispatches.len()];
    // A dispatch fuses once (a one-channel 1×1 convolution is both kinds).
    let mut taken = vec![false; d.dispatches.len()];
    let mut fused = vec![];
    for consumer in 0..d.dispatches.len() {
        if let Some((producer, dispatch)) = pair_of(d, &uses, consumer) {
            if taken[producer] || taken[consumer] {
                continue;
            }
            [taken[producer], taken[consumer], removed[producer]] = [true; 3];
            fused.push((consumer, dispatch));
        }
    }
    replace_fused(d, fused, &removed);
}
