//! Scalar bodies: the elementwise code that kernels carry.
//!
//! A [`Body`] is a list of SSA instructions ([`Inst`]) computed per element: instruction `i`
//! defines register `r{i}`; `Input(n)` reads element `n` of the kernel's inputs at the current
//! index; [`Body::results`] are the registers stored to the outputs. Registers hold floats
//! (computed as f32) or integers (computed as i64), by [`RegKind`].
//!
//! Design choices:
//! - This crate is shared by the compiler's kernel IR (`kiln-kernel`) and the executable formats
//!   that carry bodies (VMVX), so both sides speak one language and no translation sits between
//!   them. It has no encoding: each format numbers the functions as it stores them
//!   ([`UnaryFn::ALL`] gives a stable order).
//! - [`Body::check`] is the one validation of a body (SSA order, input indices, register kinds);
//!   code generators and interpreters assume a checked body.
#![no_std]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;
#[cfg(test)]
#[macro_use]
extern crate std;

use kiln_types::ElementType;

/// Errors of [`Body::check`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    #[error("a body has {0} instructions (at most {MAX_BODY_INSTS})")]
    TooLong(usize),
    #[error("register {0} used before definition")]
    Undefined(u32),
    #[error("input {0} does not exist")]
    NoSuchInput(u32),
    #[error("'{op}' does not apply to {kind} registers")]
    WrongKind { op: String, kind: RegKind },
    #[error("'{0}' mixes register kinds")]
    MixedKinds(BinaryFn),
    #[error("select needs an integer condition and branches of one kind")]
    Select,
    #[error("body yields {results} values for {outputs} outputs")]
    ResultCount { results: usize, outputs: usize },
    #[error("register {register} cannot be stored as {element_type}")]
    ResultType {
        register: u32,
        element_type: ElementType,
    },
}

macro_rules! scalar_fn {
    ($(#[$doc:meta])* $name:ident { $($v:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($v),* }
        impl $name {
            /// Every function, in a fixed order formats may number them by.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The function's position in [`Self::ALL`].
            pub fn code(self) -> u8 {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0) as u8
            }
            /// The function at position `code` of [`Self::ALL`].
            pub fn from_code(code: u8) -> Option<Self> {
                Self::ALL.get(code as usize).copied()
            }
            /// The name the text formats print.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $text),* }
            }
        }
        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

scalar_fn! {
    /// Scalar functions of one operand.
    UnaryFn {
        Neg => "neg", Abs => "abs", Exp => "exp", Log => "log", Sqrt => "sqrt", Erf => "erf",
        Relu => "relu", Sigmoid => "sigmoid", Tanh => "tanh", Not => "not", Floor => "floor",
        Ceil => "ceil", Round => "round", Sign => "sign", Sin => "sin", Cos => "cos",
        Softplus => "softplus", BitNot => "bitnot",
    }
}
scalar_fn! {
    /// Scalar functions of two operands; comparisons and logic produce 0/1 integers. The
    /// bitwise ones take integers: shifts by a negative amount or 64 and more give 0 (left)
    /// or the sign (right, arithmetic).
    BinaryFn {
        Add => "add", Sub => "sub", Mul => "mul", Div => "div", Pow => "pow", Max => "max",
        Min => "min", Equal => "equal", Less => "less", Greater => "greater", And => "and",
        Or => "or", BitAnd => "bitand", BitOr => "bitor", BitXor => "bitxor", Shl => "shl",
        Shr => "shr",
    }
}

impl UnaryFn {
    /// True for the functions computed by series or table approximations (exponentials,
    /// logarithms, trigonometry and what is built on them), which a small runtime may leave
    /// out.
    ///
    /// ```
    /// use kiln_scalar::UnaryFn;
    /// assert!(UnaryFn::Tanh.is_transcendental());
    /// assert!(!UnaryFn::Sqrt.is_transcendental());
    /// ```
    pub fn is_transcendental(self) -> bool {
        matches!(
            self,
            UnaryFn::Exp
                | UnaryFn::Log
                | UnaryFn::Erf
                | UnaryFn::Sigmoid
                | UnaryFn::Tanh
                | UnaryFn::Sin
                | UnaryFn::Cos
                | UnaryFn::Softplus
        )
    }
}

impl BinaryFn {
    /// True for [`BinaryFn::Pow`], the one function of two operands computed through
    /// exponentials and logarithms (see [`UnaryFn::is_transcendental`]). An integer power is
    /// not, but a body's register kinds are known only against its views, so a small runtime
    /// leaving these functions out refuses every `pow`.
    pub fn is_transcendental(self) -> bool {
        self == BinaryFn::Pow
    }

    /// True for the functions defined on integer registers only.
    pub fn is_bitwise(self) -> bool {
        matches!(
            self,
            BinaryFn::BitAnd | BinaryFn::BitOr | BinaryFn::BitXor | BinaryFn::Shl | BinaryFn::Shr
        )
    }

    /// An integer bitwise function's value: the one rule every backend follows.
    ///
    /// ```
    /// use kiln_scalar::BinaryFn;
    /// assert_eq!(BinaryFn::Shl.bitwise(1, 70), Some(0));
    /// assert_eq!(BinaryFn::Shr.bitwise(-8, 1), Some(-4));
    /// assert_eq!(BinaryFn::Add.bitwise(1, 2), None);
    /// ```
    pub fn bitwise(self, a: i64, b: i64) -> Option<i64> {
        let amount = u32::try_from(b).ok().filter(|&b| b < 64);
        Some(match self {
            BinaryFn::BitAnd => a & b,
            BinaryFn::BitOr => a | b,
            BinaryFn::BitXor => a ^ b,
            BinaryFn::Shl => amount.map_or(0, |b| a << b),
            BinaryFn::Shr => amount.map_or(if a < 0 { -1 } else { 0 }, |b| a >> b),
            _ => return None,
        })
    }
}
scalar_fn! {
    /// How a reduction combines values along its reduction dims.
    ReduceFn { Sum => "sum", Max => "max", Min => "min", Mean => "mean", Prod => "prod" }
}

/// One body instruction; its result is register `i` for the `i`-th instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Inst {
    /// Element of input `n` at the current index.
    Input(u32),
    ConstF(f32),
    ConstI(i64),
    Unary(UnaryFn, u32),
    Binary(BinaryFn, u32, u32),
    /// `cond ? a : b`.
    Select(u32, u32, u32),
    Cast(u32, ElementType),
    /// The current element's coordinate along dim `n` of the iteration domain (an integer),
    /// for values made from positions (`Range` over a size known only at run time). Bodies of
    /// elementwise kernels only.
    Index(u32),
}

impl Inst {
    /// The registers the instruction reads, in order.
    ///
    /// ```
    /// use kiln_scalar::{BinaryFn, Inst};
    /// let regs: Vec<u32> = Inst::Binary(BinaryFn::Add, 0, 2).registers().collect();
    /// assert_eq!(regs, [0, 2]);
    /// assert_eq!(Inst::Input(1).registers().count(), 0);
    /// ```
    pub fn registers(&self) -> impl Iterator<Item = u32> {
        let regs = match *self {
            Inst::Unary(_, a) | Inst::Cast(a, _) => [Some(a), None, None],
            Inst::Binary(_, a, b) => [Some(a), Some(b), None],
            Inst::Select(c, a, b) => [Some(c), Some(a), Some(b)],
            Inst::Input(_) | Inst::ConstF(_) | Inst::ConstI(_) | Inst::Index(_) => [None; 3],
        };
        regs.into_iter().flatten()
    }

    /// The same instruction reading register `to(r)` wherever it reads register `r` (a body
    /// renumbered, or appended to another).
    ///
    /// ```
    /// use kiln_scalar::{BinaryFn, Inst};
    /// let add = Inst::Binary(BinaryFn::Add, 0, 2);
    /// assert_eq!(add.with_registers(|r| r + 5), Inst::Binary(BinaryFn::Add, 5, 7));
    /// ```
    pub fn with_registers(&self, to: impl Fn(u32) -> u32) -> Inst {
        match *self {
            Inst::Unary(f, a) => Inst::Unary(f, to(a)),
            Inst::Cast(a, t) => Inst::Cast(to(a), t),
            Inst::Binary(f, a, b) => Inst::Binary(f, to(a), to(b)),
            Inst::Select(c, a, b) => Inst::Select(to(c), to(a), to(b)),
            Inst::Input(_) | Inst::ConstF(_) | Inst::ConstI(_) | Inst::Index(_) => self.clone(),
        }
    }
}

/// Longest body accepted; each instruction costs a row of scratch registers when run.
pub const MAX_BODY_INSTS: usize = 4096;

/// Whether a register holds floats (computed as f32) or integers (computed as i64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegKind {
    F,
    I,
}

/// `float` or `integer`.
impl core::fmt::Display for RegKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RegKind::F => "float",
            RegKind::I => "integer",
        })
    }
}

/// Register kind of values of an element type.
pub fn reg_kind(t: ElementType) -> RegKind {
    if t.is_float() {
        RegKind::F
    } else {
        RegKind::I
    }
}

/// Scalar code evaluated per element: instructions plus the registers written to the outputs.
///
/// ```
/// use kiln_scalar::{Body, Inst, UnaryFn};
/// use kiln_types::ElementType;
/// let relu = Body { insts: vec![Inst::Input(0), Inst::Unary(UnaryFn::Relu, 0)], results: vec![1] };
/// relu.check(&[ElementType::F32], &[ElementType::F32])?;
/// assert_eq!(relu.to_string(), "{ r0 = in0; r1 = relu r0; yield r1 }");
/// # Ok::<(), kiln_scalar::BodyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Body {
    pub insts: Vec<Inst>,
    pub results: Vec<u32>,
}

impl Body {
    /// Whether the body yields its first input as it is (`{ r0 = in0; yield r0 }`): a kernel
    /// with this body copies a view.
    ///
    /// ```
    /// use kiln_scalar::{Body, Inst, UnaryFn};
    /// let copy = Body { insts: vec![Inst::Input(0)], results: vec![0] };
    /// assert!(copy.is_identity());
    /// let relu = Body { insts: vec![Inst::Input(0), Inst::Unary(UnaryFn::Relu, 0)], results: vec![1] };
    /// assert!(!relu.is_identity());
    /// ```
    pub fn is_identity(&self) -> bool {
        self.insts == [Inst::Input(0)] && self.results == [0]
    }

    /// Checks SSA order, input indices and kinds; returns each register's kind.
    pub fn check(
        &self,
        inputs: &[ElementType],
        outputs: &[ElementType],
    ) -> Result<Vec<RegKind>, BodyError> {
        let mut kinds = vec![];
        self.check_into(inputs, outputs, &mut kinds)?;
        Ok(kinds)
    }

    /// [`Body::check`], each register's kind written into `kinds` (cleared first), so an
    /// interpreter can reuse one list.
    pub fn check_into(
        &self,
        inputs: &[ElementType],
        outputs: &[ElementType],
        kinds: &mut Vec<RegKind>,
    ) -> Result<(), BodyError> {
        if self.insts.len() > MAX_BODY_INSTS {
            return Err(BodyError::TooLong(self.insts.len()));
        }
        kinds.clear();
        let reg = |r: u32, kinds: &[RegKind]| {
            kinds
                .get(r as usize)
                .copied()
                .ok_or(BodyError::Undefined(r))
        };
        for inst in &self.insts {
            let k = match inst {
                Inst::Input(n) => {
                    reg_kind(*inputs.get(*n as usize).ok_or(BodyError::NoSuchInput(*n))?)
                }
                Inst::ConstF(_) => RegKind::F,
                Inst::ConstI(_) => RegKind::I,
                Inst::Unary(f, a) => {
                    let k = reg(*a, kinds)?;
                    let ok = match f {
                        UnaryFn::Not | UnaryFn::BitNot => k == RegKind::I,
                        UnaryFn::Neg | UnaryFn::Abs | UnaryFn::Relu | UnaryFn::Sign => true,
                        _ => k == RegKind::F,
                    };
                    if !ok {
                        return Err(BodyError::WrongKind {
                            op: f.name().into(),
                            kind: k,
                        });
                    }
                    k
                }
                Inst::Binary(f, a, b) => {
                    let (ka, kb) = (reg(*a, kinds)?, reg(*b, kinds)?);
                    if ka != kb {
                        return Err(BodyError::MixedKinds(*f));
                    }
                    if f.is_bitwise() && ka != RegKind::I {
                        return Err(BodyError::WrongKind {
                            op: f.name().into(),
                            kind: ka,
                        });
                    }
                    match f {
                        BinaryFn::Equal
                        | BinaryFn::Less
                        | BinaryFn::Greater
                        | BinaryFn::And
                        | BinaryFn::Or => RegKind::I,
                        _ => ka,
                    }
                }
                Inst::Select(c, a, b) => {
                    let (kc, ka, kb) = (reg(*c, kinds)?, reg(*a, kinds)?, reg(*b, kinds)?);
                    if kc != RegKind::I || ka != kb {
                        return Err(BodyError::Select);
                    }
                    ka
                }
                Inst::Cast(a, t) => {
                    reg(*a, kinds)?;
                    reg_kind(*t)
                }
                Inst::Index(_) => RegKind::I,
            };
            kinds.push(k);
        }
        if self.results.len() != outputs.len() {
            return Err(BodyError::ResultCount {
                results: self.results.len(),
                outputs: outputs.len(),
            });
        }
        for (r, t) in self.results.iter().zip(outputs) {
            if reg(*r, kinds)? != reg_kind(*t) {
                return Err(BodyError::ResultType {
                    register: *r,
                    element_type: *t,
                });
            }
        }
        Ok(())
    }
}

/// `{ r0 = in0; r1 = const 1; r2 = add r0, r1; yield r2 }`.
impl core::fmt::Display for Body {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let insts: Vec<String> = self
            .insts
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let rhs = match inst {
                    Inst::Input(n) => format!("in{n}"),
                    Inst::ConstF(v) => format!("const {v:?}"),
                    Inst::ConstI(v) => format!("const {v}"),
                    Inst::Unary(op, a) => format!("{op} r{a}"),
                    Inst::Binary(op, a, b) => format!("{op} r{a}, r{b}"),
                    Inst::Select(c, a, b) => format!("select r{c}, r{a}, r{b}"),
                    Inst::Cast(a, t) => format!("cast r{a} to {t}"),
                    Inst::Index(n) => format!("index {n}"),
                };
                format!("r{i} = {rhs}")
            })
            .collect();
        let results: Vec<String> = self.results.iter().map(|r| format!("r{r}")).collect();
        write!(
            f,
            "{{ {}; yield {} }}",
            insts.join("; "),
            results.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    #[test]
    fn kinds_are_checked() {
        let f = [ElementType::F32];
        let body = |insts: Vec<Inst>| Body {
            insts,
            results: vec![1],
        };
        let not_f = body(vec![Inst::Input(0), Inst::Unary(UnaryFn::Not, 0)]);
        assert_eq!(
            not_f.check(&f, &f).unwrap_err().to_string(),
            "'not' does not apply to float registers"
        );
        let early = body(vec![Inst::Input(0), Inst::Unary(UnaryFn::Exp, 3)]);
        assert_eq!(early.check(&f, &f).unwrap_err(), BodyError::Undefined(3));
        let less = body(vec![Inst::Input(0), Inst::Binary(BinaryFn::Less, 0, 0)]);
        assert_eq!(
            less.check(&f, &f).unwrap_err().to_string(),
            "register 1 cannot be stored as f32"
        );
        for (i, u) in UnaryFn::ALL.iter().enumerate() {
            assert_eq!(UnaryFn::from_code(i as u8), Some(*u));
        }
        assert_eq!(BinaryFn::from_code(200), None);
    }
}
