//! The per-channel steps a fused pointwise convolution applies to its sums in a workgroup's
//! scratch ([`KernelOp::PointwiseDepthwise`](super::KernelOp::PointwiseDepthwise)): a bias,
//! swish, a clamp — the forms a convolution's bias and ReLU, ReLU6, swish or plain output
//! take.

use super::{BinaryFn, Body, Inst, UnaryFn};
use alloc::vec::Vec;

/// An epilogue's effect on a sum `s` of channel `c`: `v = s + bias[c]` when `bias` (the
/// epilogue's one input, constant over each channel's pixels), else `v = s`; then
/// `v · sigmoid(v)` when `swish`; then `min(max(·, lo), hi)` with `clamp = [lo, hi]`
/// (infinite bounds for no clamp), a NaN staying NaN, as the epilogue's `max` and `min`
/// keep it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelSteps {
    pub bias: bool,
    pub swish: bool,
    pub clamp: [f32; 2],
}

/// A register's value in terms of the sum.
#[derive(Clone, Copy)]
enum Term {
    Bias,
    Const(f32),
    /// The steps' value.
    Value(ChannelSteps),
    /// `sigmoid` of the steps' value (a bias at most).
    Sigmoid(ChannelSteps),
}

impl ChannelSteps {
    /// No bias, no clamp: the sums as they are.
    pub const NONE: ChannelSteps = ChannelSteps {
        bias: false,
        swish: false,
        clamp: [f32::NEG_INFINITY, f32::INFINITY],
    };

    /// The steps an epilogue `body` with `inputs` inputs computes, if it is the sum plus its
    /// one input (in either order, or no input), then optionally swish (the value times its
    /// `sigmoid`), then any chain of `relu`, and `max` and `min` with float constants; `None`
    /// for any other body.
    ///
    /// ```
    /// use kiln_vmvx::format::{BinaryFn, Body, ChannelSteps, Inst};
    /// // relu6(s + bias)
    /// let relu6 = Body {
    ///     insts: vec![
    ///         Inst::Input(1),
    ///         Inst::Input(0),
    ///         Inst::Binary(BinaryFn::Add, 0, 1),
    ///         Inst::ConstF(0.0),
    ///         Inst::Binary(BinaryFn::Max, 2, 3),
    ///         Inst::ConstF(6.0),
    ///         Inst::Binary(BinaryFn::Min, 4, 5),
    ///     ],
    ///     results: vec![6],
    /// };
    /// assert_eq!(
    ///     ChannelSteps::of(&relu6, 1),
    ///     Some(ChannelSteps { bias: true, swish: false, clamp: [0.0, 6.0] })
    /// );
    /// let squared = Body {
    ///     insts: vec![Inst::Input(0), Inst::Binary(BinaryFn::Mul, 0, 0)],
    ///     results: vec![1],
    /// };
    /// assert_eq!(ChannelSteps::of(&squared, 0), None);
    /// ```
    pub fn of(body: &Body, inputs: usize) -> Option<ChannelSteps> {
        let mut terms: Vec<Term> = Vec::with_capacity(body.insts.len());
        for inst in &body.insts {
            let term = |r: &u32| terms.get(*r as usize).copied();
            let t = match *inst {
                Inst::Input(0) => Term::Value(ChannelSteps::NONE),
                Inst::Input(1) if inputs == 1 => Term::Bias,
                Inst::ConstF(c) if !c.is_nan() => Term::Const(c),
                Inst::Unary(UnaryFn::Relu, a) => match term(&a)? {
                    Term::Value(v) => Term::Value(v.max(0.0)),
                    _ => return None,
                },
                Inst::Unary(UnaryFn::Sigmoid, a) => match term(&a)? {
                    Term::Value(v) if v.without_bias() == ChannelSteps::NONE => Term::Sigmoid(v),
                    _ => return None,
                },
                Inst::Binary(f, a, b) => match (f, term(&a)?, term(&b)?) {
                    (BinaryFn::Add, Term::Value(v), Term::Bias)
                    | (BinaryFn::Add, Term::Bias, Term::Value(v))
                        if v == ChannelSteps::NONE =>
                    {
                        Term::Value(ChannelSteps { bias: true, ..v })
                    }
                    (BinaryFn::Mul, Term::Value(v), Term::Sigmoid(w))
                    | (BinaryFn::Mul, Term::Sigmoid(w), Term::Value(v))
                        if v == w =>
                    {
                        Term::Value(ChannelSteps { swish: true, ..v })
                    }
                    (BinaryFn::Max, Term::Value(v), Term::Const(c))
                    | (BinaryFn::Max, Term::Const(c), Term::Value(v)) => Term::Value(v.max(c)),
                    (BinaryFn::Min, Term::Value(v), Term::Const(c))
                    | (BinaryFn::Min, Term::Const(c), Term::Value(v)) => Term::Value(v.min(c)),
                    _ => return None,
                },
                _ => return None,
            };
            terms.push(t);
        }
        let steps = match body.results[..] {
            [r] => match terms.get(r as usize)? {
                Term::Value(v) => *v,
                _ => return None,
            },
            _ => return None,
        };
        // An input the steps do not add would be left unread.
        (steps.bias == (inputs == 1)).then_some(steps)
    }

    /// These steps without their bias.
    fn without_bias(self) -> ChannelSteps {
        ChannelSteps {
            bias: false,
            ..self
        }
    }

    /// These steps, then `max(·, c)`.
    fn max(self, c: f32) -> ChannelSteps {
        let [lo, hi] = self.clamp;
        ChannelSteps {
            clamp: [lo.max(c), hi.max(c)],
            ..self
        }
    }

    /// These steps, then `min(·, c)`.
    fn min(self, c: f32) -> ChannelSteps {
        let [lo, hi] = self.clamp;
        ChannelSteps {
            clamp: [lo.min(c), hi.min(c)],
            ..self
        }
    }

    /// Applies the steps to `row`, sums of one channel whose bias is `bias`.
    pub fn apply(&self, row: &mut [f32], bias: f32) {
        let [lo, hi] = self.clamp;
        // Adding -0.0 leaves every value as it is.
        let add = if self.bias { bias } else { -0.0 };
        if !self.swish {
            return kiln_ukernel::rows::bias_clamp_in_place(row, add, lo, hi);
        }
        kiln_ukernel::rows::bias_swish_in_place(row, add);
        if self.clamp != ChannelSteps::NONE.clamp {
            kiln_ukernel::rows::bias_clamp_in_place(row, -0.0, lo, hi);
        }
    }
}
