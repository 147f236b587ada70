//! Control programs: run-time branches and loops between straight-line functions.
//!
//! A function whose model branches or loops on run-time data (`If` on a computed condition,
//! `Loop` with a trip count from an input) is compiled into straight-line *segments*, each an
//! ordinary function with its own dispatches, and a [`ControlProgram`] that sequences them. The
//! program works on two register files: *tensor registers* (`%r0`, …), each holding one tensor
//! on the device (the function's inputs are `%r0…%r(n-1)`), and *scalar registers* (`$s0`, …),
//! each an `i64` on the host. A scalar reaches the host only through an explicit
//! [`Stmt::Read`], which waits for the tensor it reads.
//!
//! The compiler's tensor program and the module file share this one type, as they share
//! [`crate::sym::SymExpr`].

use crate::ElementType;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// One statement of a control program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// Calls the straight-line function `function` (of the same program or module) with the
    /// tensors in `args`; its results go to the registers `results`.
    Call {
        function: String,
        args: Vec<u32>,
        results: Vec<u32>,
    },
    /// Reads the one element of tensor register `tensor` to the host, into scalar register
    /// `scalar` (booleans as 0 or 1, floats truncated toward zero).
    Read { tensor: u32, scalar: u32 },
    /// Sets scalar register `scalar` to `value`.
    SetScalar { scalar: u32, value: i64 },
    /// Sets scalar register `scalar` to dim `axis` of the tensor in register `tensor` (its
    /// size, known on the host without reading the tensor).
    Dim { tensor: u32, axis: u32, scalar: u32 },
    /// `dst = lhs op rhs` on scalar registers (wrapping; comparisons give 0 or 1).
    Arith {
        op: ArithOp,
        lhs: u32,
        rhs: u32,
        dst: u32,
    },
    /// Makes tensor register `tensor` a rank-0 tensor of `element_type` holding scalar
    /// register `scalar`'s value (the element type's code, as the module stores it).
    Tensor {
        scalar: u32,
        element_type: u8,
        tensor: u32,
    },
    /// Makes tensor register `tensor` a 1-D tensor of `element_type` holding scalar registers
    /// `scalars` in order (sizes computed on the host, read as data).
    Pack {
        scalars: Vec<u32>,
        element_type: u8,
        tensor: u32,
    },
    /// Makes tensor register `tensor` an empty `i8` tensor of shape `[0, scalars…]`: sizes
    /// read from data, which a callee taking it binds as symbols from its dims. A negative
    /// size ends the call with an error.
    Sizes { scalars: Vec<u32>, tensor: u32 },
    /// Ends the call with an error: the inputs took a value the program has no code for.
    Fail { message: String },
    /// Copies the tensor in register `src` to register `dst` (the tensor is shared, not copied:
    /// registers hold immutable tensors).
    Move { src: u32, dst: u32 },
    /// Runs `then_body` when scalar register `cond` is non-zero, else `else_body`.
    If {
        cond: u32,
        then_body: Vec<Stmt>,
        else_body: Vec<Stmt>,
    },
    /// ONNX's loop: before each iteration `i` (from 0), stops when scalar register `max` is given
    /// and `i ≥ max`, or when scalar register `cond` is given and holds 0; otherwise sets
    /// scalar register `index` to `i`, runs `body` and appends each scan's `src` tensor to its
    /// list. After the loop, each scan's `dst` holds its list stacked along a new leading axis.
    Loop {
        max: Option<u32>,
        cond: Option<u32>,
        index: u32,
        body: Vec<Stmt>,
        scans: Vec<Scan>,
    },
}

/// Scalar arithmetic of a control program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Min,
    Max,
    Less,
    /// Floor division (a zero divisor gives 0).
    FloorDiv,
    Eq,
}

impl ArithOp {
    pub const ALL: [ArithOp; 8] = [
        ArithOp::Add,
        ArithOp::Sub,
        ArithOp::Mul,
        ArithOp::Min,
        ArithOp::Max,
        ArithOp::Less,
        ArithOp::FloorDiv,
        ArithOp::Eq,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ArithOp::Add => "add",
            ArithOp::Sub => "sub",
            ArithOp::Mul => "mul",
            ArithOp::Min => "min",
            ArithOp::Max => "max",
            ArithOp::Less => "lt",
            ArithOp::FloorDiv => "floordiv",
            ArithOp::Eq => "eq",
        }
    }

    /// `a op b`.
    ///
    /// ```
    /// use kiln_types::control::ArithOp;
    /// assert_eq!(ArithOp::Sub.apply(3, 5), -2);
    /// assert_eq!(ArithOp::Less.apply(3, 5), 1);
    /// ```
    pub fn apply(self, a: i64, b: i64) -> i64 {
        match self {
            ArithOp::Add => a.wrapping_add(b),
            ArithOp::Sub => a.wrapping_sub(b),
            ArithOp::Mul => a.wrapping_mul(b),
            ArithOp::Min => a.min(b),
            ArithOp::Max => a.max(b),
            ArithOp::Less => (a < b) as i64,
            ArithOp::Eq => (a == b) as i64,
            ArithOp::FloorDiv if b == 0 => 0,
            ArithOp::FloorDiv => {
                let q = a.wrapping_div(b);
                q - (a % b != 0 && (a < 0) != (b < 0)) as i64
            }
        }
    }
}

/// A loop's scan output: the tensor in `src` after each iteration, stacked into `dst`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    pub src: u32,
    pub dst: u32,
    /// Stacks the last iteration's tensor first.
    pub reverse: bool,
    /// The element type code and dims of `src` (`-1` for a dim known only per call), which
    /// give `dst`'s type when the loop runs no iteration.
    pub element_type: u8,
    pub dims: Vec<i64>,
}

impl Scan {
    /// `dst`'s shape when the loop runs no iteration: `[0, dims…]`, a dim known only per call
    /// taken as 0.
    ///
    /// ```
    /// use kiln_types::control::Scan;
    /// let s = Scan { src: 0, dst: 1, reverse: false, element_type: 0, dims: vec![2, -1] };
    /// assert_eq!(s.empty_shape(), [0, 2, 0]);
    /// ```
    pub fn empty_shape(&self) -> Vec<usize> {
        let dims = self.dims.iter().map(|&d| usize::try_from(d).unwrap_or(0));
        core::iter::once(0).chain(dims).collect()
    }
}

/// A function's control program: its statements, how many registers of each kind they use,
/// and the tensor registers holding the function's results.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ControlProgram {
    pub tensors: u32,
    pub scalars: u32,
    pub body: Vec<Stmt>,
    pub results: Vec<u32>,
}

impl ControlProgram {
    /// Every function the program calls, each once, in order of first call.
    pub fn callees(&self) -> Vec<&str> {
        let mut out = vec![];
        visit(&self.body, &mut |s| {
            if let Stmt::Call { function, .. } = s {
                if !out.contains(&function.as_str()) {
                    out.push(function.as_str());
                }
            }
        });
        out
    }

    /// Checks that every register a statement names is within the register counts and that
    /// the function's `inputs` fit in the tensor registers.
    ///
    /// ```
    /// use kiln_types::control::{ControlProgram, Stmt};
    /// let p = ControlProgram { tensors: 1, scalars: 1, results: vec![0],
    ///     body: vec![Stmt::Read { tensor: 0, scalar: 1 }] };
    /// assert!(p.verify(1).unwrap_err().contains("$s1"));
    /// ```
    pub fn verify(&self, inputs: usize) -> Result<(), String> {
        let (t, s) = (self.tensors, self.scalars);
        if inputs > t as usize {
            return Err(format!("{inputs} inputs but only {t} tensor registers"));
        }
        let mut bad = None;
        let mut tensor = |r: u32| {
            if r >= t {
                bad.get_or_insert(format!("%r{r} is beyond its {t} tensor registers"));
            }
        };
        let mut scalars = vec![];
        visit(&self.body, &mut |stmt| match stmt {
            Stmt::Call { args, results, .. } => args.iter().chain(results).for_each(|&r| tensor(r)),
            Stmt::Read { tensor: r, scalar } => {
                tensor(*r);
                scalars.push(*scalar);
            }
            Stmt::SetScalar { scalar, .. } => scalars.push(*scalar),
            Stmt::Dim {
                tensor: r, scalar, ..
            } => {
                tensor(*r);
                scalars.push(*scalar);
            }
            Stmt::Arith { lhs, rhs, dst, .. } => scalars.extend([*lhs, *rhs, *dst]),
            Stmt::Tensor {
                scalar, tensor: r, ..
            } => {
                tensor(*r);
                scalars.push(*scalar);
            }
            Stmt::Pack {
                scalars: s,
                tensor: r,
                ..
            }
            | Stmt::Sizes {
                scalars: s,
                tensor: r,
            } => {
                tensor(*r);
                scalars.extend(s);
            }
            Stmt::Move { src, dst } => {
                tensor(*src);
                tensor(*dst);
            }
            Stmt::If { cond, .. } => scalars.push(*cond),
            Stmt::Fail { .. } => {}
            Stmt::Loop {
                max,
                cond,
                index,
                scans,
                ..
            } => {
                scalars.extend(max.iter().chain(cond).chain([index]));
                scans.iter().for_each(|sc| {
                    tensor(sc.src);
                    tensor(sc.dst);
                });
            }
        });
        self.results.iter().for_each(|&r| tensor(r));
        if let Some(&r) = scalars.iter().find(|&&r| r >= s) {
            bad.get_or_insert(format!("$s{r} is beyond its {s} scalar registers"));
        }
        bad.map_or(Ok(()), Err)
    }
}

/// Calls `f` on every statement, nested ones included, in program order.
pub fn visit<'a>(body: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in body {
        f(s);
        match s {
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                visit(then_body, f);
                visit(else_body, f);
            }
            Stmt::Loop { body, .. } => visit(body, f),
            _ => {}
        }
    }
}

fn regs(rs: &[u32]) -> String {
    let names: Vec<String> = rs.iter().map(|r| format!("%r{r}")).collect();
    names.join(", ")
}

fn write_body(f: &mut fmt::Formatter<'_>, body: &[Stmt], indent: usize) -> fmt::Result {
    let pad = "  ".repeat(indent);
    for s in body {
        match s {
            Stmt::Call {
                function,
                args,
                results,
            } => writeln!(
                f,
                "{pad}{} = call @{function}({})",
                regs(results),
                regs(args)
            )?,
            Stmt::Read { tensor, scalar } => writeln!(f, "{pad}$s{scalar} = read %r{tensor}")?,
            Stmt::SetScalar { scalar, value } => writeln!(f, "{pad}$s{scalar} = {value}")?,
            Stmt::Dim {
                tensor,
                axis,
                scalar,
            } => writeln!(f, "{pad}$s{scalar} = dim %r{tensor}, {axis}")?,
            Stmt::Arith { op, lhs, rhs, dst } => {
                writeln!(f, "{pad}$s{dst} = {} $s{lhs}, $s{rhs}", op.name())?
            }
            Stmt::Tensor {
                scalar,
                element_type,
                tensor,
            } => {
                let et = crate::ElementType::from_code(*element_type)
                    .map_or_else(|| format!("type{element_type}"), |e| e.name().to_string());
                writeln!(f, "{pad}%r{tensor} = tensor.{et} $s{scalar}")?
            }
            Stmt::Pack {
                scalars,
                element_type,
                tensor,
            } => {
                let et = crate::ElementType::from_code(*element_type)
                    .map_or_else(|| format!("type{element_type}"), |e| e.name().to_string());
                let s: Vec<String> = scalars.iter().map(|s| format!("$s{s}")).collect();
                writeln!(f, "{pad}%r{tensor} = pack.{et} [{}]", s.join(", "))?
            }
            Stmt::Sizes { scalars, tensor } => {
                let s: Vec<String> = scalars.iter().map(|s| format!("$s{s}")).collect();
                writeln!(f, "{pad}%r{tensor} = sizes [{}]", s.join(", "))?
            }
            Stmt::Fail { message } => writeln!(f, "{pad}fail {message:?}")?,
            Stmt::Move { src, dst } => writeln!(f, "{pad}%r{dst} = %r{src}")?,
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                writeln!(f, "{pad}if $s{cond} {{")?;
                write_body(f, then_body, indent + 1)?;
                writeln!(f, "{pad}}} else {{")?;
                write_body(f, else_body, indent + 1)?;
                writeln!(f, "{pad}}}")?;
            }
            Stmt::Loop {
                max,
                cond,
                index,
                body,
                scans,
            } => {
                let max = max.map_or("-".into(), |m| format!("$s{m}"));
                let cond = cond.map_or("-".into(), |c| format!("$s{c}"));
                writeln!(f, "{pad}loop $s{index} max {max} while {cond} {{")?;
                write_body(f, body, indent + 1)?;
                let scans: Vec<String> = scans
                    .iter()
                    .map(|s| {
                        let how = if s.reverse { "stack.reverse" } else { "stack" };
                        format!("%r{} = {how} %r{}", s.dst, s.src)
                    })
                    .collect();
                writeln!(f, "{pad}}} {}", scans.join(", "))?;
            }
        }
    }
    Ok(())
}

impl fmt::Display for ControlProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_body(f, &self.body, 1)?;
        writeln!(f, "  return {}", regs(&self.results))
    }
}

/// What running a control program needs from where its tensors live (a device, or the
/// reference interpreter's memory): [`run`] is written once over it.
pub trait Machine {
    type Tensor: Clone;
    type Error;
    /// Calls the straight-line function `function` with the tensors in `args`, borrowed from
    /// the registers (the machine takes what it needs of each, say its buffer).
    fn call(
        &mut self,
        function: &str,
        args: &[&Self::Tensor],
    ) -> Result<Vec<Self::Tensor>, Self::Error>;
    /// The one element of `t` as an integer (booleans 0 or 1, floats truncated, NaN 0).
    fn read(&mut self, t: &Self::Tensor) -> Result<i64, Self::Error>;
    /// A tensor of `shape` holding `values` (one per element).
    fn tensor(
        &mut self,
        values: &[i64],
        shape: Vec<usize>,
        element_type: ElementType,
    ) -> Result<Self::Tensor, Self::Error>;
    fn dim(&self, t: &Self::Tensor, axis: usize) -> Option<usize>;
    /// `parts` (in the order to stack them) stacked along a new leading axis; with no
    /// parts, an empty tensor of `scan`'s type.
    fn stack(&mut self, parts: Vec<Self::Tensor>, scan: &Scan)
        -> Result<Self::Tensor, Self::Error>;
    /// An error in the program itself (a register read before it is set).
    fn invalid(&self, message: String) -> Self::Error;
    /// The error of a [`Stmt::Fail`]: the call's inputs are outside what was compiled.
    fn fail(&self, message: &str) -> Self::Error;
}

/// Runs `program` on `machine` with `inputs` in its first tensor registers; returns the
/// tensors of its result registers.
pub fn run<M: Machine>(
    program: &ControlProgram,
    inputs: Vec<M::Tensor>,
    machine: &mut M,
) -> Result<Vec<M::Tensor>, M::Error> {
    let mut regs = Registers {
        tensors: vec![None; program.tensors as usize],
        scalars: vec![None; program.scalars as usize],
    };
    for (r, t) in regs.tensors.iter_mut().zip(inputs) {
        *r = Some(t);
    }
    run_body(&program.body, &mut regs, machine)?;
    program
        .results
        .iter()
        .map(|&r| regs.tensor(r, machine).cloned())
        .collect()
}

struct Registers<T> {
    tensors: Vec<Option<T>>,
    scalars: Vec<Option<i64>>,
}

impl<T> Registers<T> {
    fn tensor<M: Machine<Tensor = T>>(&self, r: u32, m: &M) -> Result<&T, M::Error> {
        self.tensors
            .get(r as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| m.invalid(format!("tensor register %r{r} is read before it is set")))
    }

    fn scalar<M: Machine<Tensor = T>>(&self, r: u32, m: &M) -> Result<i64, M::Error> {
        self.scalars
            .get(r as usize)
            .copied()
            .flatten()
            .ok_or_else(|| m.invalid(format!("scalar register $s{r} is read before it is set")))
    }

    fn set_scalar<M: Machine<Tensor = T>>(
        &mut self,
        r: u32,
        v: i64,
        m: &M,
    ) -> Result<(), M::Error> {
        let slot = self.scalars.get_mut(r as usize);
        *slot.ok_or_else(|| m.invalid(format!("no scalar register $s{r}")))? = Some(v);
        Ok(())
    }

    fn set_tensor<M: Machine<Tensor = T>>(&mut self, r: u32, t: T, m: &M) -> Result<(), M::Error> {
        let slot = self.tensors.get_mut(r as usize);
        *slot.ok_or_else(|| m.invalid(format!("no tensor register %r{r}")))? = Some(t);
        Ok(())
    }
}

fn run_body<M: Machine>(
    body: &[Stmt],
    regs: &mut Registers<M::Tensor>,
    m: &mut M,
) -> Result<(), M::Error> {
    for stmt in body {
        match stmt {
            Stmt::Call {
                function,
                args,
                results,
            } => {
                let args = args
                    .iter()
                    .map(|&r| regs.tensor(r, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let outs = m.call(function, &args)?;
                for (&r, t) in results.iter().zip(outs) {
                    regs.set_tensor(r, t, m)?;
                }
            }
            Stmt::Read { tensor, scalar } => {
                let t = regs.tensor(*tensor, m)?.clone();
                let v = m.read(&t)?;
                regs.set_scalar(*scalar, v, m)?;
            }
            Stmt::SetScalar { scalar, value } => regs.set_scalar(*scalar, *value, m)?,
            Stmt::Dim {
                tensor,
                axis,
                scalar,
            } => {
                let t = regs.tensor(*tensor, m)?;
                let n = m
                    .dim(t, *axis as usize)
                    .ok_or_else(|| m.invalid(format!("%r{tensor} has no dim {axis}")))?;
                regs.set_scalar(*scalar, n as i64, m)?;
            }
            Stmt::Arith { op, lhs, rhs, dst } => {
                let v = op.apply(regs.scalar(*lhs, m)?, regs.scalar(*rhs, m)?);
                regs.set_scalar(*dst, v, m)?;
            }
            Stmt::Tensor {
                scalar,
                element_type,
                tensor,
            } => {
                let et = ElementType::from_code(*element_type)
                    .ok_or_else(|| m.invalid(format!("element type code {element_type}")))?;
                let t = m.tensor(&[regs.scalar(*scalar, m)?], vec![], et)?;
                regs.set_tensor(*tensor, t, m)?;
            }
            Stmt::Pack {
                scalars,
                element_type,
                tensor,
            } => {
                let et = ElementType::from_code(*element_type)
                    .ok_or_else(|| m.invalid(format!("element type code {element_type}")))?;
                let values = scalars
                    .iter()
                    .map(|&s| regs.scalar(s, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let t = m.tensor(&values, vec![values.len()], et)?;
                regs.set_tensor(*tensor, t, m)?;
            }
            Stmt::Sizes { scalars, tensor } => {
                let mut shape = vec![0];
                for &s in scalars {
                    let v = regs.scalar(s, m)?;
                    let size = usize::try_from(v).map_err(|_| {
                        m.fail(&format!(
                            "a size read from the inputs' data is negative ({v})"
                        ))
                    })?;
                    shape.push(size);
                }
                let t = m.tensor(&[], shape, ElementType::I8)?;
                regs.set_tensor(*tensor, t, m)?;
            }
            Stmt::Fail { message } => return Err(m.fail(message)),
            Stmt::Move { src, dst } => {
                let t = regs.tensor(*src, m)?.clone();
                regs.set_tensor(*dst, t, m)?;
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let taken = regs.scalar(*cond, m)? != 0;
                run_body(if taken { then_body } else { else_body }, regs, m)?;
            }
            Stmt::Loop {
                max,
                cond,
                index,
                body,
                scans,
            } => {
                let mut parts: Vec<Vec<M::Tensor>> = vec![vec![]; scans.len()];
                let mut i = 0i64;
                loop {
                    if let Some(max) = max {
                        if i >= regs.scalar(*max, m)? {
                            break;
                        }
                    }
                    if let Some(c) = cond {
                        if regs.scalar(*c, m)? == 0 {
                            break;
                        }
                    }
                    regs.set_scalar(*index, i, m)?;
                    run_body(body, regs, m)?;
                    for (p, sc) in parts.iter_mut().zip(scans) {
                        p.push(regs.tensor(sc.src, m)?.clone());
                    }
                    i += 1;
                }
                for (mut p, sc) in parts.into_iter().zip(scans) {
                    if sc.reverse {
                        p.reverse();
                    }
                    let t = m.stack(p, sc)?;
                    regs.set_tensor(sc.dst, t, m)?;
                }
            }
        }
    }
    Ok(())
}

/// Checks every call of `program` against `callee(name)`: `None` for a function that does not
/// exist, else whether it has a control program itself and how many tensors it takes and
/// returns.
pub fn check_calls(
    program: &ControlProgram,
    callee: impl Fn(&str) -> Option<(bool, usize, usize)>,
) -> Result<(), String> {
    let mut bad = None;
    visit(&program.body, &mut |s| {
        let Stmt::Call {
            function,
            args,
            results,
        } = s
        else {
            return;
        };
        let why = match callee(function) {
            None => Some("which is not defined".to_string()),
            Some((true, _, _)) => Some("which has a control program itself".into()),
            Some((_, takes, returns)) if takes != args.len() || returns != results.len() => {
                Some(format!(
                    "with {} arguments and {} results, but it takes {takes} and returns {returns}",
                    args.len(),
                    results.len(),
                ))
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            bad.get_or_insert(format!("it calls '{function}' {why}"));
        }
    });
    bad.map_or(Ok(()), Err)
}
