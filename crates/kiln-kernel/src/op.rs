//! The ops a dispatch region computes: one generic op or one named op.

use crate::{Sizes, Static, View};
use kiln_scalar::{Body, ReduceFn};
#[cfg(doc)]
use kiln_types::recurrent::RecurrentCell;

/// Elementwise code applied to a named op's result: `Input(0)` is the op's result element,
/// `Input(n+1)` is `inputs[n]`, indexed by the result's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Epilogue<Z: Sizes = Static> {
    pub inputs: Vec<View<Z>>,
    pub body: Body,
}

/// The computation of one dispatch region, over views of its operands.
///
/// Shapes are in elements; every view's rank matches the op's rule below. Named ops carry their
/// meaning only: how a target tiles, packs or maps them to threads is the target's choice.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<Z: Sizes = Static> {
    /// `outputs[idx] = body(inputs[idx])` over the iteration domain `shape`; the last
    /// `reduction_dims` dims are reduced with `reduce` (outputs have stride 0 along them).
    Generic {
        shape: Vec<Z::Extent>,
        reduction_dims: u32,
        reduce: ReduceFn,
        inputs: Vec<View<Z>>,
        outputs: Vec<View<Z>>,
        body: Body,
    },
    /// Batch matmul `c[b] = a[b]·b[b]` over views `[B,M,K]`, `[B,K,N]` and a row-major `[B,M,N]`:
    /// of one float type, or `ui8` by `i8` summed in `i32`, whose epilogue may store any type
    /// (`c`'s), as an integer [`Op::Conv2d`]'s.
    MatMul {
        a: View<Z>,
        b: View<Z>,
        c: View<Z>,
        epilogue: Option<Epilogue<Z>>,
    },
    /// NCHW convolution with OIHW weights `[co, ci/groups, kh, kw]`, all contiguous: of
    /// one float type, or `ui8` pixels by `i8` weights summed in `i32` (padding reads zeros),
    /// whose epilogue may store any type (`y`'s): the sums are then never stored.
    Conv2d {
        x: View<Z>,
        w: View<Z>,
        y: View<Z>,
        strides: [u64; 2],
        /// Top, left, bottom, right.
        pads: [u64; 4],
        dilations: [u64; 2],
        groups: u64,
        epilogue: Option<Epilogue<Z>>,
    },
    /// NCHW max or average pooling, contiguous.
    Pool2d {
        x: View<Z>,
        y: View<Z>,
        max: bool,
        kernel: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        count_include_pad: bool,
        epilogue: Option<Epilogue<Z>>,
    },
    /// Softmax along dim 1 of a `[outer, len, inner]` view into a contiguous one.
    Softmax {
        x: View<Z>,
        y: View<Z>,
        epilogue: Option<Epilogue<Z>>,
    },
    /// Layer normalisation of each row of contiguous `[rows, len]` views.
    LayerNorm {
        x: View<Z>,
        y: View<Z>,
        epsilon: f32,
        epilogue: Option<Epilogue<Z>>,
    },
    /// `out[o, n, i] = data[o, indices[n], i]`, negative indices counted from the end.
    Gather {
        data: View<Z>,
        indices: View<Z>,
        out: View<Z>,
    },
    /// A recurrent layer over a whole sequence, f32 (`kiln_ir::OpKind::Recurrent`): views
    /// `proj` `[D, T, B, G·H]` (each step's input projection), `weights` `[D, H, G·H]` (the
    /// recurrent weights transposed), `h0` and `c0` `[D, B, H]` (initial states), `biases`
    /// `[D, 1, (G + E)·H]` (the bias of every step's projection, then LSTM's peepholes or
    /// GRU's recurrent hidden bias: [`RecurrentCell::bias_len`]) and the row-major
    /// result `y` `[2 + T, D, B, H]`: final hidden state, final cell state, then each step's
    /// hidden state in time order. Each direction's steps run in order, one after another;
    /// directions are independent.
    Recurrent {
        proj: View<Z>,
        weights: View<Z>,
        h0: View<Z>,
        c0: View<Z>,
        biases: View<Z>,
        y: View<Z>,
        cell: kiln_types::recurrent::RecurrentCell,
    },
}

impl<Z: Sizes> Op<Z> {
    /// Whether this is an integer convolution or matmul (`ui8` by `i8` weights, summed in
    /// `i32`), whose epilogue may store any type.
    pub fn is_integer_product(&self) -> bool {
        match self {
            Op::MatMul { b: w, .. } | Op::Conv2d { w, .. } => {
                w.element_type == kiln_types::ElementType::I8
            }
            _ => false,
        }
    }

    /// The op's name in the text form.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Generic { .. } => "generic",
            Op::MatMul { .. } => "matmul",
            Op::Conv2d { .. } => "conv2d",
            Op::Pool2d { .. } => "pool2d",
            Op::Softmax { .. } => "softmax",
            Op::LayerNorm { .. } => "layer_norm",
            Op::Gather { .. } => "gather",
            Op::Recurrent { .. } => "recurrent",
        }
    }

    /// Every view the op touches; an operand's first appearance here fixes its number.
    pub fn views(&self) -> Vec<&View<Z>> {
        fn ep<Z: Sizes>(e: &Option<Epilogue<Z>>) -> Vec<&View<Z>> {
            e.iter().flat_map(|e| e.inputs.iter()).collect()
        }
        match self {
            Op::Generic {
                inputs, outputs, ..
            } => inputs.iter().chain(outputs).collect(),
            Op::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            Op::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            Op::Pool2d { x, y, epilogue, .. }
            | Op::Softmax { x, y, epilogue }
            | Op::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            Op::Gather { data, indices, out } => vec![data, indices, out],
            Op::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                ..
            } => vec![proj, weights, h0, c0, biases, y],
        }
    }

    /// Mutable access to every view, in the order of [`Op::views`].
    pub fn views_mut(&mut self) -> Vec<&mut View<Z>> {
        fn ep<Z: Sizes>(e: &mut Option<Epilogue<Z>>) -> impl Iterator<Item = &mut View<Z>> {
            e.iter_mut().flat_map(|e| e.inputs.iter_mut())
        }
        match self {
            Op::Generic {
                inputs, outputs, ..
            } => inputs.iter_mut().chain(outputs.iter_mut()).collect(),
            Op::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            Op::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            Op::Pool2d { x, y, epilogue, .. }
            | Op::Softmax { x, y, epilogue }
            | Op::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            Op::Gather { data, indices, out } => vec![data, indices, out],
            Op::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                ..
            } => vec![proj, weights, h0, c0, biases, y],
        }
    }

    /// The views the op writes; every other view is only read.
    pub fn outputs(&self) -> Vec<&View<Z>> {
        match self {
            Op::Generic { outputs, .. } => outputs.iter().collect(),
            Op::MatMul { c, .. } => vec![c],
            Op::Conv2d { y, .. }
            | Op::Pool2d { y, .. }
            | Op::Softmax { y, .. }
            | Op::LayerNorm { y, .. } => vec![y],
            Op::Gather { out, .. } | Op::Recurrent { y: out, .. } => vec![out],
        }
    }

    /// The storages the op writes, when its views read `operands`.
    pub fn written(&self, operands: &[crate::StorageId]) -> Vec<crate::StorageId> {
        self.outputs()
            .iter()
            .map(|v| operands[v.operand as usize])
            .collect()
    }

    /// The part of output `v` the op writes: a reduction's outputs without the reduced dims.
    pub fn written_part(&self, v: &View<Z>) -> View<Z> {
        match self {
            Op::Generic { reduction_dims, .. } if *reduction_dims > 0 => {
                let p = v.shape.len().saturating_sub(*reduction_dims as usize);
                View {
                    shape: v.shape[..p].to_vec(),
                    strides: v.strides[..p].to_vec(),
                    ..v.clone()
                }
            }
            _ => v.clone(),
        }
    }

    /// True when the op writes nothing (an output with an empty extent).
    pub fn is_empty(&self) -> bool {
        self.outputs().iter().any(|v| {
            self.written_part(v)
                .shape
                .iter()
                .any(|d| Z::extent_is(d, 0))
        })
    }

    /// The fused epilogue of a named op, if any.
    pub fn epilogue(&self) -> Option<&Epilogue<Z>> {
        match self {
            Op::MatMul { epilogue, .. }
            | Op::Conv2d { epilogue, .. }
            | Op::Pool2d { epilogue, .. }
            | Op::Softmax { epilogue, .. }
            | Op::LayerNorm { epilogue, .. } => epilogue.as_ref(),
            Op::Generic { .. } | Op::Gather { .. } | Op::Recurrent { .. } => None,
        }
    }

    /// The result view and epilogue slot of a named op that takes an epilogue.
    pub fn result_and_epilogue(&mut self) -> Option<(&mut View<Z>, &mut Option<Epilogue<Z>>)> {
        match self {
            Op::MatMul { c: y, epilogue, .. }
            | Op::Conv2d { y, epilogue, .. }
            | Op::Pool2d { y, epilogue, .. }
            | Op::Softmax { y, epilogue, .. }
            | Op::LayerNorm { y, epilogue, .. } => Some((y, epilogue)),
            Op::Generic { .. } | Op::Gather { .. } | Op::Recurrent { .. } => None,
        }
    }
}
