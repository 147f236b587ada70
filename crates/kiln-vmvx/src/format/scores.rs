//! What an attention kernel does to its scores between its two products: the forms exporters
//! write around `softmax(q·kᵀ / √d + mask)`, recognised in an epilogue body so the kernel
//! runs them as plain loops over its scratch rows (an interpreted body per score would cost
//! more than the products).

use super::{BinaryFn, Body, Inst};
use alloc::vec::Vec;

/// A score scaled by a constant, in f32 as the interpreter computes it: `score * by`, or
/// `score / by` when `divide` (kept apart: the two round differently).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub divide: bool,
    pub by: f32,
}

/// An attention's score steps, in order: an optional [`Scale`], then, when `mask`, the sum
/// with its one epilogue input.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScoreSteps {
    pub scale: Option<Scale>,
    pub mask: bool,
}

/// A register's value in terms of the score.
#[derive(Clone, Copy)]
enum Term {
    Score,
    Mask,
    Const(f32),
    Scaled(Scale),
    Masked(Option<Scale>),
}

impl ScoreSteps {
    /// The steps an epilogue `body` with `inputs` inputs computes, if it is one of `s`,
    /// `s * c` (or `c * s`), `s / c`, and any of those plus its one input (in either order),
    /// for a float constant `c`; `None` for any other body.
    ///
    /// ```
    /// use kiln_vmvx::format::{BinaryFn, Body, Inst, Scale, ScoreSteps};
    /// let scaled_and_masked = Body {
    ///     insts: vec![
    ///         Inst::Input(0),
    ///         Inst::ConstF(8.0),
    ///         Inst::Binary(BinaryFn::Div, 0, 1),
    ///         Inst::Input(1),
    ///         Inst::Binary(BinaryFn::Add, 3, 2),
    ///     ],
    ///     results: vec![4],
    /// };
    /// assert_eq!(
    ///     ScoreSteps::of(&scaled_and_masked, 1),
    ///     Some(ScoreSteps { scale: Some(Scale { divide: true, by: 8.0 }), mask: true })
    /// );
    /// let squared = Body {
    ///     insts: vec![Inst::Input(0), Inst::Binary(BinaryFn::Mul, 0, 0)],
    ///     results: vec![1],
    /// };
    /// assert_eq!(ScoreSteps::of(&squared, 0), None);
    /// // A scale whose epilogue also has an input it does not add.
    /// let halved = Body {
    ///     insts: vec![Inst::Input(0), Inst::ConstF(0.5), Inst::Binary(BinaryFn::Mul, 0, 1)],
    ///     results: vec![2],
    /// };
    /// assert!(ScoreSteps::of(&halved, 0).is_some());
    /// assert_eq!(ScoreSteps::of(&halved, 2), None);
    /// ```
    pub fn of(body: &Body, inputs: usize) -> Option<ScoreSteps> {
        let mut terms: Vec<Term> = Vec::with_capacity(body.insts.len());
        for inst in &body.insts {
            let term = |r: &u32| terms.get(*r as usize).copied();
            let t = match *inst {
                Inst::Input(0) => Term::Score,
                Inst::Input(1) if inputs == 1 => Term::Mask,
                Inst::ConstF(c) => Term::Const(c),
                Inst::Binary(f, a, b) => match (f, term(&a)?, term(&b)?) {
                    (BinaryFn::Mul, Term::Score, Term::Const(by))
                    | (BinaryFn::Mul, Term::Const(by), Term::Score) => {
                        Term::Scaled(Scale { divide: false, by })
                    }
                    (BinaryFn::Div, Term::Score, Term::Const(by)) => {
                        Term::Scaled(Scale { divide: true, by })
                    }
                    (BinaryFn::Add, Term::Score, Term::Mask)
                    | (BinaryFn::Add, Term::Mask, Term::Score) => Term::Masked(None),
                    (BinaryFn::Add, Term::Scaled(s), Term::Mask)
                    | (BinaryFn::Add, Term::Mask, Term::Scaled(s)) => Term::Masked(Some(s)),
                    _ => return None,
                },
                _ => return None,
            };
            terms.push(t);
        }
        let [result] = body.results[..] else {
            return None;
        };
        let steps = match terms.get(result as usize)? {
            Term::Score => ScoreSteps::default(),
            Term::Scaled(s) => ScoreSteps {
                scale: Some(*s),
                mask: false,
            },
            Term::Masked(scale) => ScoreSteps {
                scale: *scale,
                mask: true,
            },
            Term::Mask | Term::Const(_) => return None,
        };
        // Every input the epilogue has is the mask it adds: none, or one.
        (inputs == usize::from(steps.mask)).then_some(steps)
    }

    /// Applies the steps to one row of scores; `mask` is the row's mask, `stride` apart (0:
    /// one value for the row), present exactly when the steps add one.
    pub fn apply(&self, row: &mut [f32], mask: Option<(&[f32], usize)>) {
        match self.scale {
            Some(Scale { divide: true, by }) => row.iter_mut().for_each(|s| *s /= by),
            Some(Scale { divide: false, by }) => row.iter_mut().for_each(|s| *s *= by),
            None => {}
        }
        match mask {
            Some((m, 1)) => row.iter_mut().zip(m).for_each(|(s, m)| *s += m),
            Some((m, stride)) => {
                for (j, s) in row.iter_mut().enumerate() {
                    *s += m[j * stride];
                }
            }
            None => {}
        }
    }
}
