//! Convolutions read their input where a layout copy found it: a copy (a transpose) whose
//! only readers are convolutions over packed weights goes, and they read its source.
//!
//! A text or audio model turns its `[batch, time, features]` embedding into the
//! `[batch, features, time]` a 1-D convolution takes with a transpose, and dispatch formation
//! makes that a kernel copying a strided view into a planar image. The view it copies is
//! itself an image stored without gaps — the channels-last image of the transposed one — and
//! a convolution over packed weights reads a planar image with either GEMM orientation and a
//! channels-last one with pixel rows: the copy reads and writes a whole image for nothing.
//!
//! For copy dispatch `i` (`{ yield in0 }`, input view `v` of storage `s`, output view `o` of
//! storage `t`):
//! - `v` is an f32 image of `o`'s shape stored without gaps, planar or channels-last;
//! - `t` is computed in this function and is not a result; only `i` writes it, and only
//!   float convolutions (not depthwise) after `i` read it, each as its input through `o`
//!   alone, with weights packed; where `v` is channels-last, each computes with pixel rows at
//!   little cost: its output is channels-last too (it computes with pixel rows anyway), or
//!   pixel rows cost little more than the other orientation
//!   (`data_tiling::pixel_rows_nearly_cheapest`);
//! - nothing writes `s` after `i` up to the last of those convolutions.
//!
//! Then each of them reads `v` of `s`, and `i` goes. Runs after the layout of the images is
//! chosen ([`crate::channels_last`]) and before the weights are packed: a convolution of a
//! channels-last input computes with pixel rows, its weights packed tap by tap.

use crate::data_tiling::{packs_weights, pixel_rows_nearly_cheapest};
use crate::uses::Uses;
use kiln_kernel::{Dispatches, StorageId, StorageKind};
use kiln_types::{ElementType, HostTensor};
use kiln_ukernel::gemm::TileShape;
use kiln_vmvx::format::{Kernel, KernelOp, View};

/// Drops the copies the module docs describe, their convolutions reading their sources.
pub fn read_copied_inputs_in_place(
    d: &mut Dispatches<Kernel>,
    constants: &[HostTensor],
    tile: TileShape,
) {
    let mut removed = vec![false; d.dispatches.len()];
    let mut uses = Uses::of(d);
    for (i, gone) in removed.iter_mut().enumerate() {
        let Some((source, view, readers)) = plan(d, &uses, constants, tile, i) else {
            continue;
        };
        for r in readers {
            let dispatch = &mut d.dispatches[r];
            let binding = dispatch.operands.len() as u32;
            dispatch.operands.push(source);
            if let KernelOp::Conv2d { x, .. } = &mut dispatch.kernel.op {
                *x = View {
                    binding,
                    ..view.clone()
                };
            }
            crate::renumber(dispatch);
        }
        // The copy stays until every other is planned, so that indices hold; nothing reads
        // its target now.
        *gone = true;
        uses = Uses::of(d);
    }
    crate::uses::remove(d, &removed);
}

/// For copy dispatch `i`, when it can go: its source storage and view, and the convolutions
/// that then read them.
fn plan(
    d: &Dispatches<Kernel>,
    uses: &Uses,
    constants: &[HostTensor],
    tile: TileShape,
    i: usize,
) -> Option<(StorageId, View, Vec<usize>)> {
    let copy = &d.dispatches[i];
    let KernelOp::Generic {
        reduction_dims: 0,
        inputs,
        outputs,
        body,
        ..
    } = &copy.kernel.op
    else {
        return None;
    };
    let ([v], [o]) = (&inputs[..], &outputs[..]) else {
        return None;
    };
    let identity = body.is_identity();
    let channels_last = v.is_channels_last();
    let image = v.shape == o.shape
        && v.element_type == ElementType::F32
        && (v.is_contiguous() || channels_last);
    let (source, target) = (
        copy.operands[v.binding as usize],
        copy.operands[o.binding as usize],
    );
    let computed = d.storages[target.index()].kind == StorageKind::Computed;
    if !identity || !image || source == target || !computed || d.results.contains(&target) {
        return None;
    }
    let readers = &uses.readers[target.index()];
    let last = *readers.last()?;
    let only_written_here = uses.writers[target.index()] == [i];
    let source_kept = !uses.writers[source.index()]
        .iter()
        .any(|&w| w > i && w <= last);
    // A view's place in its storage, whatever its binding's number.
    let unbound = |view: &View| View {
        binding: 0,
        ..view.clone()
    };
    let convolve = readers.iter().all(|&r| {
        let reader = &d.dispatches[r];
        let KernelOp::Conv2d { x, y, .. } = &reader.kernel.op else {
            return false;
        };
        let cheap_orientation = !channels_last
            || y.is_channels_last()
            || pixel_rows_nearly_cheapest(&reader.kernel.op, tile);
        let reads_only_x =
            reader.kernel.views().iter().all(|view| {
                std::ptr::eq(*view, x) || reader.operands[view.binding as usize] != target
            });
        r > i
            && reader.operands[x.binding as usize] == target
            && unbound(x) == unbound(o)
            && reads_only_x
            && !reader.kernel.op.is_depthwise_conv()
            && cheap_orientation
            && packs_weights(d, reader, constants, tile)
    });
    (only_written_here && source_kept && convolve).then(|| (source, v.clone(), readers.clone()))
}
