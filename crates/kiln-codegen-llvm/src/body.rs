//! Scalar bodies as LLVM IR, with the interpreter's scalar semantics: floats in f32, integers
//! in wrapping i64, NaN-propagating max/min, saturating float-to-int casts, division by zero
//! giving 0, and C's `powf`/`log1pf` (or, for code that may call nothing,
//! [`crate::inline_math`]) for the transcendental functions.

use crate::inline_math;
use crate::kernel::{e, Gen, R};
use inkwell::values::{BasicValueEnum, FastMathFlags, FloatValue, IntValue};
use inkwell::{FloatPredicate as FP, IntPredicate as IP};
use kiln_scalar::{reg_kind, BinaryFn, Body, Inst, RegKind, UnaryFn};
use kiln_types::ElementType;
use kiln_ukernel::rows::math::{LN2_SPLIT, SIGMOID_EXP_POLY, SIGMOID_ROUND};

/// A register: f32 or i64.
#[derive(Clone, Copy)]
pub enum V<'ctx> {
    F(FloatValue<'ctx>),
    I(IntValue<'ctx>),
}

/// Evaluates `body` at element `index` of its domain; `input(g, n)` produces `Input(n)`.
/// Returns the result registers.
pub fn eval<'a, 'ctx>(
    g: &mut Gen<'a, 'ctx>,
    body: &Body,
    index: &[IntValue<'ctx>],
    input: &mut dyn FnMut(&mut Gen<'a, 'ctx>, u32) -> R<V<'ctx>>,
) -> R<Vec<V<'ctx>>> {
    let mut regs: Vec<V> = Vec::with_capacity(body.insts.len());
    let reg = |regs: &[V<'ctx>], r: u32| -> R<V<'ctx>> {
        regs.get(r as usize)
            .copied()
            .ok_or_else(|| format!("register {r} used before definition"))
    };
    for inst in &body.insts {
        let v = match *inst {
            Inst::Input(n) => input(g, n)?,
            Inst::ConstF(c) => V::F(g.f32t.const_float(c as f64)),
            Inst::ConstI(c) => V::I(g.i64t.const_int(c as u64, true)),
            Inst::Unary(f, a) => unary(g, f, reg(&regs, a)?)?,
            Inst::Binary(f, a, b) => binary(g, f, reg(&regs, a)?, reg(&regs, b)?)?,
            Inst::Select(c, a, b) => {
                let V::I(c) = reg(&regs, c)? else {
                    return Err("select needs an integer condition".into());
                };
                let c = g.icmp(IP::NE, c, g.i64t.const_zero())?;
                match (reg(&regs, a)?, reg(&regs, b)?) {
                    (V::F(x), V::F(y)) => V::F(sel(g, c, x.into(), y.into())?.into_float_value()),
                    (V::I(x), V::I(y)) => V::I(sel(g, c, x.into(), y.into())?.into_int_value()),
                    _ => return Err("select mixes register kinds".into()),
                }
            }
            Inst::Cast(a, t) => cast(g, reg(&regs, a)?, t)?,
            Inst::Index(n) => V::I(
                *index
                    .get(n as usize)
                    .ok_or_else(|| format!("index {n} is outside the kernel's domain"))?,
            ),
        };
        regs.push(v);
    }
    body.results.iter().map(|&r| reg(&regs, r)).collect()
}

fn sel<'ctx>(
    g: &Gen<'_, 'ctx>,
    c: IntValue<'ctx>,
    a: BasicValueEnum<'ctx>,
    b: BasicValueEnum<'ctx>,
) -> R<BasicValueEnum<'ctx>> {
    g.b.build_select(c, a, b, "sel").map_err(e)
}

pub(crate) fn fsel<'ctx>(
    g: &Gen<'_, 'ctx>,
    c: IntValue<'ctx>,
    a: FloatValue<'ctx>,
    b: FloatValue<'ctx>,
) -> R<FloatValue<'ctx>> {
    Ok(sel(g, c, a.into(), b.into())?.into_float_value())
}

pub(crate) fn isel<'ctx>(
    g: &Gen<'_, 'ctx>,
    c: IntValue<'ctx>,
    a: IntValue<'ctx>,
    b: IntValue<'ctx>,
) -> R<IntValue<'ctx>> {
    Ok(sel(g, c, a.into(), b.into())?.into_int_value())
}

fn bool_i64<'ctx>(g: &Gen<'_, 'ctx>, c: IntValue<'ctx>) -> R<IntValue<'ctx>> {
    g.b.build_int_z_extend(c, g.i64t, "b").map_err(e)
}

pub(crate) fn f1<'ctx>(g: &Gen<'_, 'ctx>, name: &str, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    Ok(g.intrinsic(name, &[g.f32t.into()], &[x.into()])?
        .into_float_value())
}

/// `a · b + c`, fused where the target has a fused multiply-add (`llvm.fmuladd`): polynomial
/// steps take one instruction instead of two.
pub(crate) fn fmuladd<'ctx>(
    g: &Gen<'_, 'ctx>,
    a: FloatValue<'ctx>,
    b: FloatValue<'ctx>,
    c: FloatValue<'ctx>,
) -> R<FloatValue<'ctx>> {
    Ok(g.intrinsic(
        "llvm.fmuladd",
        &[a.get_type().into()],
        &[a.into(), b.into(), c.into()],
    )?
    .into_float_value())
}

/// exp without calls, so loops over it vectorise (Cephes' method: `2^n · p(r)` with
/// `x = n·ln2 + r`, a degree-6 polynomial, within 2 ulp of `expf`), with `expf`'s results at
/// the edges: `inf` above 88.72, 0 far below, NaN for NaN.
pub fn exp<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let c = |v: f64| g.f32t.const_float(v);
    let lo = c(-104.0);
    let xc = clamp(g, x, -104.0, 88.8)?;
    let (p, n) = exp_parts(g, xc)?;
    // 2^n as two factors, so n in [-151, 129] never leaves the exponent range.
    let b = &g.b;
    let n1 = b
        .build_right_shift(n, g.i32t.const_int(1, false), true, "n1")
        .map_err(e)?;
    let n2 = b.build_int_sub(n, n1, "n2").map_err(e)?;
    let v = b.build_float_mul(p, pow2(g, n1)?, "v").map_err(e)?;
    let v = b.build_float_mul(v, pow2(g, n2)?, "v").map_err(e)?;
    let over = g.fcmp(FP::OGT, x, c(88.722_84))?;
    let v = fsel(g, over, c(f64::INFINITY), v)?;
    let under = g.fcmp(FP::OLT, x, lo)?;
    let v = fsel(g, under, c(0.0), v)?;
    let nan = g.fcmp(FP::UNO, x, x)?;
    fsel(g, nan, x, v)
}

/// `1 / (1 + e^-x)`, in as few vector instructions as a swish epilogue can have them: `x`
/// limited to `[-88, 87]` (a NaN passes the limits), `e^-x` by [`exp_of_neg`], `1 + e^-x` as
/// one fused multiply-add of its parts, and its [`reciprocal`] (the row kernels'
/// `sigmoid16` computes the same). 1 in f32 above 87, 0 below -88 (the true value is under
/// 1e-38 there, and `x · sigmoid(x)` at `-inf` is then NaN, as ONNX Runtime has it), NaN for
/// NaN.
pub fn sigmoid<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let c = |v: f64| g.f32t.const_float(v);
    let y = fsel(g, g.fcmp(FP::OLT, x, c(-88.0))?, c(-88.0), x)?;
    let y = fsel(g, g.fcmp(FP::OGT, y, c(87.0))?, c(87.0), y)?;
    let (p, power) = exp_of_neg(g, y)?;
    let d = fmuladd(g, p, power, c(1.0))?;
    let s = reciprocal(g, d)?;
    fsel(g, g.fcmp(FP::OLT, x, c(-88.0))?, c(0.0), s)
}

/// `e^-y` as `(p, 2^n)`, whose product it is, for `y` in `[-88, 87]` (a NaN gives a NaN `p`):
/// `-y` reduced to `n·ln2 + r` with `n` rounded by adding [`SIGMOID_ROUND`] (whose sum's low
/// bits are then `2^n`'s exponent field, shifted into place), `e^r` by [`SIGMOID_EXP_POLY`]
/// (within 1e-7 relative on `|r| ≤ ln2/2`) evaluated at `-r` with its odd coefficients
/// negated: the same values, bit for bit, as at `r`, with no negation of `y`.
fn exp_of_neg<'ctx>(
    g: &Gen<'_, 'ctx>,
    y: FloatValue<'ctx>,
) -> R<(FloatValue<'ctx>, FloatValue<'ctx>)> {
    let b = &g.b;
    let c = |v: f64| g.f32t.const_float(v);
    let round = c(SIGMOID_ROUND.into());
    let shifted = fmuladd(g, y, c(-std::f64::consts::LOG2_E), round)?;
    let n = b.build_float_sub(shifted, round, "n").map_err(e)?;
    // `-r`: `y + n·ln2`, as `-y - n·ln2` with every rounding mirrored.
    let [hi, lo] = LN2_SPLIT.map(f64::from);
    let minus_r = fmuladd(g, n, c(hi), y)?;
    let minus_r = fmuladd(g, n, c(-lo), minus_r)?;
    let mut p = c(SIGMOID_EXP_POLY[0].into());
    for (i, &k) in SIGMOID_EXP_POLY.iter().enumerate().skip(1) {
        let odd = (SIGMOID_EXP_POLY.len() - 1 - i) % 2 == 1;
        p = fmuladd(g, p, minus_r, c(f64::from(if odd { -k } else { k })))?;
    }
    let bits = b
        .build_bit_cast(shifted, g.i32t, "bits")
        .map_err(e)?
        .into_int_value();
    let field = b
        .build_left_shift(bits, g.i32t.const_int(23, false), "field")
        .map_err(e)?;
    let power = b
        .build_bit_cast(field, g.f32t, "power")
        .map_err(e)?
        .into_float_value();
    Ok((p, power))
}

/// `1 / d` for a finite `d` (or NaN): on targets whose reciprocal estimate one Newton step
/// makes as good as a division ([`Gen::estimate_reciprocals`]: AVX-512F and VL's 14 bits), the
/// estimate and that step, two fused multiply-adds where `vdivps` takes 16 cycles a vector;
/// elsewhere the division.
fn reciprocal<'ctx>(g: &Gen<'_, 'ctx>, d: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let one = g.f32t.const_float(1.0);
    let r = g.b.build_float_div(one, d, "rcp").map_err(e)?;
    if !g.estimate_reciprocals {
        return Ok(r);
    }
    // `arcp` lets LLVM estimate (the function's `reciprocal-estimates` asks for no refinement
    // of its own); `ninf` holds, `d` being finite.
    if let Some(inst) = r.as_instruction() {
        inst.set_fast_math_flags(FastMathFlags::AllowReciprocal | FastMathFlags::NoInfs)
            .map_err(e)?;
    }
    let neg_d = g.b.build_float_neg(d, "nd").map_err(e)?;
    let error = fmuladd(g, neg_d, r, one)?;
    fmuladd(g, r, error, r)
}

/// `x` limited to `[lo, hi]` (`lo` for NaN).
fn clamp<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>, lo: f64, hi: f64) -> R<FloatValue<'ctx>> {
    let (lo, hi) = (g.f32t.const_float(lo), g.f32t.const_float(hi));
    let x = g.intrinsic("llvm.maxnum", &[g.f32t.into()], &[x.into(), lo.into()])?;
    Ok(
        g.intrinsic("llvm.minnum", &[g.f32t.into()], &[x.into(), hi.into()])?
            .into_float_value(),
    )
}

/// `e^x` as `(p, n)` with `e^x = p · 2^n`, `p` in `[√½, √2]`: the reduction by `n·ln2` in
/// two parts and Cephes' polynomial, for finite `x`.
fn exp_parts<'ctx>(
    g: &Gen<'_, 'ctx>,
    x: FloatValue<'ctx>,
) -> R<(FloatValue<'ctx>, IntValue<'ctx>)> {
    let b = &g.b;
    let c = |v: f64| g.f32t.const_float(v);
    let t = b
        .build_float_mul(x, c(std::f64::consts::LOG2_E), "t")
        .map_err(e)?;
    let n = f1(g, "llvm.roundeven", t)?;
    let r = minus_n_ln2(g, x, n)?;
    let mut p = c(1.987_569_15e-4);
    for k in [
        1.398_199_950_7e-3,
        8.333_451_907_3e-3,
        4.166_579_589_4e-2,
        1.666_666_545_9e-1,
        5.000_000_120_1e-1,
    ] {
        p = fmuladd(g, p, r, c(k))?;
    }
    let rr = b.build_float_mul(r, r, "rr").map_err(e)?;
    let p = fmuladd(g, p, rr, r)?;
    let p = b.build_float_add(p, c(1.0), "p").map_err(e)?;
    let n = b.build_float_to_signed_int(n, g.i32t, "n").map_err(e)?;
    Ok((p, n))
}

/// `x - n·ln2` for an integer `n`, with `ln2` in two parts (Cody and Waite's: the first's
/// product with `n` exact), so that the remainder keeps f32's precision.
fn minus_n_ln2<'ctx>(
    g: &Gen<'_, 'ctx>,
    x: FloatValue<'ctx>,
    n: FloatValue<'ctx>,
) -> R<FloatValue<'ctx>> {
    let c = |v: f32| g.f32t.const_float(v.into());
    let r = fmuladd(g, n, c(-LN2_SPLIT[0]), x)?;
    fmuladd(g, n, c(LN2_SPLIT[1]), r)
}

/// `2^k` for `k` in f32's normal exponent range `[-126, 127]`.
fn pow2<'ctx>(g: &Gen<'_, 'ctx>, k: IntValue<'ctx>) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let biased = b
        .build_int_add(k, g.i32t.const_int(127, false), "b")
        .map_err(e)?;
    let bits = b
        .build_left_shift(biased, g.i32t.const_int(23, false), "bits")
        .map_err(e)?;
    Ok(b.build_bit_cast(bits, g.f32t, "s")
        .map_err(e)?
        .into_float_value())
}

fn unary<'ctx>(g: &Gen<'_, 'ctx>, f: UnaryFn, a: V<'ctx>) -> R<V<'ctx>> {
    let b = &g.b;
    let x = match a {
        V::I(x) => {
            let zero = g.i64t.const_zero();
            return Ok(V::I(match f {
                UnaryFn::Neg => b.build_int_neg(x, "neg").map_err(e)?,
                UnaryFn::Abs => {
                    let n = b.build_int_neg(x, "neg").map_err(e)?;
                    isel(g, g.icmp(IP::SLT, x, zero)?, n, x)?
                }
                UnaryFn::Relu => isel(g, g.icmp(IP::SGT, x, zero)?, x, zero)?,
                UnaryFn::Sign => {
                    let m = isel(
                        g,
                        g.icmp(IP::SLT, x, zero)?,
                        g.i64t.const_int(u64::MAX, true),
                        zero,
                    )?;
                    isel(g, g.icmp(IP::SGT, x, zero)?, g.i64t.const_int(1, false), m)?
                }
                UnaryFn::Not => bool_i64(g, g.icmp(IP::EQ, x, zero)?)?,
                UnaryFn::BitNot => b.build_not(x, "not").map_err(e)?,
                other => return Err(format!("{other:?} does not apply to integers")),
            }));
        }
        V::F(x) => x,
    };
    let zero = g.f32t.const_zero();
    let one = g.f32t.const_float(1.0);
    Ok(V::F(match f {
        UnaryFn::Neg => b.build_float_neg(x, "neg").map_err(e)?,
        UnaryFn::Abs => f1(g, "llvm.fabs", x)?,
        UnaryFn::Exp => exp(g, x)?,
        UnaryFn::Log if g.inline_math => inline_math::log(g, x)?,
        UnaryFn::Log => f1(g, "llvm.log", x)?,
        UnaryFn::Sqrt => f1(g, "llvm.sqrt", x)?,
        UnaryFn::Erf => erf(g, x)?,
        UnaryFn::Relu => fsel(g, g.fcmp(FP::UGT, x, zero)?, x, zero)?,
        UnaryFn::Sigmoid => sigmoid(g, x)?,
        // Inline everywhere: a call to `tanhf` per element keeps a loop (an LSTM's or GRU's
        // gates, tanh-approximated GELU) from vectorising.
        UnaryFn::Tanh => inline_math::tanh(g, x)?,
        UnaryFn::Not | UnaryFn::BitNot => return Err(format!("{f:?} does not apply to floats")),
        UnaryFn::Floor => f1(g, "llvm.floor", x)?,
        UnaryFn::Ceil => f1(g, "llvm.ceil", x)?,
        UnaryFn::Round => f1(g, "llvm.roundeven", x)?,
        UnaryFn::Sign => {
            let m = fsel(g, g.fcmp(FP::OLT, x, zero)?, g.f32t.const_float(-1.0), zero)?;
            fsel(g, g.fcmp(FP::OGT, x, zero)?, one, m)?
        }
        UnaryFn::Sin if g.inline_math => inline_math::sin_cos(g, x, false)?,
        UnaryFn::Cos if g.inline_math => inline_math::sin_cos(g, x, true)?,
        UnaryFn::Sin => f1(g, "llvm.sin", x)?,
        UnaryFn::Cos => f1(g, "llvm.cos", x)?,
        UnaryFn::Softplus if g.inline_math => inline_math::softplus(g, x)?,
        UnaryFn::Softplus => {
            let ex = exp(g, x)?;
            let l = g.libm("log1pf", &[ex.into()])?.into_float_value();
            fsel(g, g.fcmp(FP::OGT, x, g.f32t.const_float(20.0))?, x, l)?
        }
    }))
}

/// erf without branches or calls, so loops over it vectorise: a Taylor series below 0.5 in
/// magnitude (relative error under 1e-7 there) and Abramowitz & Stegun 7.1.26 above (absolute
/// error under 1.5e-7 where erf is at least 0.52): within 5e-7 relative, about 4 ulp.
fn erf<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let c = |v: f64| g.f32t.const_float(v);
    let ax = f1(g, "llvm.fabs", x)?;
    // Near zero: 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320).
    let x2 = b.build_float_mul(x, x, "x2").map_err(e)?;
    let mut series = c(-1.0 / 1320.0);
    for k in [1.0 / 216.0, -1.0 / 42.0, 1.0 / 10.0, -1.0 / 3.0, 1.0] {
        series = fmuladd(g, series, x2, c(k))?;
    }
    let series = b.build_float_mul(series, x, "s").map_err(e)?;
    let small = b
        .build_float_mul(series, c(std::f64::consts::FRAC_2_SQRT_PI), "small")
        .map_err(e)?;
    // Elsewhere: 1 - poly(t) * exp(-x^2), t = 1 / (1 + p|x|), with x's sign. Past |x| = 9
    // the tail is under 1e-36 (erf is ±1 in f32): |x| is limited there, keeping `t`'s divisor
    // finite and x^2 in `exp_of_neg`'s range (a NaN passes the limit).
    let limited = fsel(g, g.fcmp(FP::OGT, ax, c(9.0))?, c(9.0), ax)?;
    let t = reciprocal(g, fmuladd(g, c(0.327_591_1), limited, c(1.0))?)?;
    let mut poly = c(1.061_405_429);
    for k in [-1.453_152_027, 1.421_413_741, -0.284_496_736, 0.254_829_592] {
        poly = fmuladd(g, poly, t, c(k))?;
    }
    let poly = b.build_float_mul(poly, t, "p").map_err(e)?;
    let square = b.build_float_mul(limited, limited, "sq").map_err(e)?;
    let (ex, power) = exp_of_neg(g, square)?;
    let ex = b.build_float_mul(ex, power, "ex").map_err(e)?;
    let tail = b.build_float_mul(poly, ex, "tail").map_err(e)?;
    let large = b.build_float_sub(c(1.0), tail, "large").map_err(e)?;
    let large = g
        .intrinsic("llvm.copysign", &[g.f32t.into()], &[large.into(), x.into()])?
        .into_float_value();
    let is_small = g.fcmp(FP::OLT, ax, c(0.5))?;
    fsel(g, is_small, small, large)
}

fn binary<'ctx>(g: &Gen<'_, 'ctx>, f: BinaryFn, a: V<'ctx>, c: V<'ctx>) -> R<V<'ctx>> {
    let b = &g.b;
    match (a, c) {
        (V::I(x), V::I(y)) => {
            let zero = g.i64t.const_zero();
            Ok(V::I(match f {
                BinaryFn::Add => b.build_int_add(x, y, "add").map_err(e)?,
                BinaryFn::Sub => b.build_int_sub(x, y, "sub").map_err(e)?,
                BinaryFn::Mul => b.build_int_mul(x, y, "mul").map_err(e)?,
                BinaryFn::Div => {
                    let by_zero = g.icmp(IP::EQ, y, zero)?;
                    let min = g.icmp(IP::EQ, x, g.i64t.const_int(i64::MIN as u64, true))?;
                    let m1 = g.icmp(IP::EQ, y, g.i64t.const_int(u64::MAX, true))?;
                    let ovf = b.build_and(min, m1, "ovf").map_err(e)?;
                    let bad = b.build_or(by_zero, ovf, "bad").map_err(e)?;
                    let safe = isel(g, bad, g.i64t.const_int(1, false), y)?;
                    let q = b.build_int_signed_div(x, safe, "q").map_err(e)?;
                    isel(g, bad, zero, q)?
                }
                BinaryFn::Pow if g.inline_math => inline_math::ipow(g, x, y)?,
                BinaryFn::Pow => {
                    let p = g.declare(
                        "kiln_ipow",
                        g.i64t.fn_type(&[g.i64t.into(), g.i64t.into()], false),
                    );
                    g.call(p, &[x.into(), y.into()])?.into_int_value()
                }
                BinaryFn::Max => isel(g, g.icmp(IP::SGT, x, y)?, x, y)?,
                BinaryFn::Min => isel(g, g.icmp(IP::SLT, x, y)?, x, y)?,
                BinaryFn::Equal => bool_i64(g, g.icmp(IP::EQ, x, y)?)?,
                BinaryFn::Less => bool_i64(g, g.icmp(IP::SLT, x, y)?)?,
                BinaryFn::Greater => bool_i64(g, g.icmp(IP::SGT, x, y)?)?,
                BinaryFn::And | BinaryFn::Or => {
                    let nx = g.icmp(IP::NE, x, zero)?;
                    let ny = g.icmp(IP::NE, y, zero)?;
                    logic(g, f, nx, ny)?
                }
                BinaryFn::BitAnd => b.build_and(x, y, "and").map_err(e)?,
                BinaryFn::BitOr => b.build_or(x, y, "or").map_err(e)?,
                BinaryFn::BitXor => b.build_xor(x, y, "xor").map_err(e)?,
                BinaryFn::Shl | BinaryFn::Shr => {
                    // LLVM's shifts are poison from 64 on: amounts outside 0..64 (negative
                    // ones compare as huge unsigned) shift everything out instead.
                    let in_range = g.icmp(IP::ULT, y, g.i64t.const_int(64, false))?;
                    let amount = isel(g, in_range, y, zero)?;
                    let (shifted, out) = if f == BinaryFn::Shl {
                        (b.build_left_shift(x, amount, "shl").map_err(e)?, zero)
                    } else {
                        let k = g.i64t.const_int(63, false);
                        let sign = b.build_right_shift(x, k, true, "sign").map_err(e)?;
                        (
                            b.build_right_shift(x, amount, true, "shr").map_err(e)?,
                            sign,
                        )
                    };
                    isel(g, in_range, shifted, out)?
                }
            }))
        }
        (V::F(x), V::F(y)) => Ok(match f {
            BinaryFn::Add => V::F(b.build_float_add(x, y, "add").map_err(e)?),
            BinaryFn::Sub => V::F(b.build_float_sub(x, y, "sub").map_err(e)?),
            BinaryFn::Mul => V::F(b.build_float_mul(x, y, "mul").map_err(e)?),
            BinaryFn::Div => V::F(b.build_float_div(x, y, "div").map_err(e)?),
            BinaryFn::Pow if g.inline_math => V::F(inline_math::pow(g, x, y)?),
            BinaryFn::Pow => V::F(g.libm("powf", &[x.into(), y.into()])?.into_float_value()),
            BinaryFn::Max | BinaryFn::Min => {
                let name = if f == BinaryFn::Max {
                    "llvm.maximum"
                } else {
                    "llvm.minimum"
                };
                V::F(
                    g.intrinsic(name, &[g.f32t.into()], &[x.into(), y.into()])?
                        .into_float_value(),
                )
            }
            BinaryFn::Equal => V::I(bool_i64(g, g.fcmp(FP::OEQ, x, y)?)?),
            BinaryFn::Less => V::I(bool_i64(g, g.fcmp(FP::OLT, x, y)?)?),
            BinaryFn::Greater => V::I(bool_i64(g, g.fcmp(FP::OGT, x, y)?)?),
            BinaryFn::And | BinaryFn::Or => {
                let zero = g.f32t.const_zero();
                let nx = g.fcmp(FP::UNE, x, zero)?;
                let ny = g.fcmp(FP::UNE, y, zero)?;
                V::I(logic(g, f, nx, ny)?)
            }
            bitwise => return Err(format!("{bitwise:?} does not apply to floats")),
        }),
        _ => Err(format!("{f:?} mixes register kinds")),
    }
}

fn logic<'ctx>(
    g: &Gen<'_, 'ctx>,
    f: BinaryFn,
    nx: IntValue<'ctx>,
    ny: IntValue<'ctx>,
) -> R<IntValue<'ctx>> {
    let c = if f == BinaryFn::And {
        g.b.build_and(nx, ny, "and").map_err(e)?
    } else {
        g.b.build_or(nx, ny, "or").map_err(e)?
    };
    bool_i64(g, c)
}

/// The bfloat16 bits (in the low half of an i32) of `x`, rounded to nearest-even.
pub fn bf16_bits<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<IntValue<'ctx>> {
    let b = &g.b;
    let u = b
        .build_bit_cast(x, g.i32t, "u")
        .map_err(e)?
        .into_int_value();
    let k16 = g.i32t.const_int(16, false);
    let hi = b.build_right_shift(u, k16, false, "hi").map_err(e)?;
    let lsb = b
        .build_and(hi, g.i32t.const_int(1, false), "lsb")
        .map_err(e)?;
    let r = b
        .build_int_add(u, g.i32t.const_int(0x7fff, false), "r")
        .map_err(e)?;
    let r = b.build_int_add(r, lsb, "r").map_err(e)?;
    let r = b.build_right_shift(r, k16, false, "r").map_err(e)?;
    let nan = g.fcmp(FP::UNO, x, x)?;
    let quiet = b
        .build_or(hi, g.i32t.const_int(0x7fc0, false), "q")
        .map_err(e)?;
    isel(g, nan, quiet, r)
}

/// `x` converted to i64 as Rust's `as` does (saturating; NaN is 0), in operations that
/// vectorise: a clamp into range, a plain conversion, then the edges (`llvm.fptosi.sat` to
/// i64 from f32 is scalarised on x86).
fn saturating_i64<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<IntValue<'ctx>> {
    let b = &g.b;
    // The largest f32 below 2^63, and 2^63.
    let (below, limit) = (f32::from_bits(0x5eff_ffff), f32::from_bits(0x5f00_0000));
    let lo = g.f32t.const_float(-9.223_372e18);
    let clamped = g
        .intrinsic("llvm.maxnum", &[g.f32t.into()], &[x.into(), lo.into()])?
        .into_float_value();
    let hi = g.f32t.const_float(below as f64);
    let clamped = g
        .intrinsic(
            "llvm.minnum",
            &[g.f32t.into()],
            &[clamped.into(), hi.into()],
        )?
        .into_float_value();
    let v = b
        .build_float_to_signed_int(clamped, g.i64t, "i")
        .map_err(e)?;
    let over = g.fcmp(FP::OGE, x, g.f32t.const_float(limit as f64))?;
    let v = isel(g, over, g.i64t.const_int(i64::MAX as u64, false), v)?;
    let nan = g.fcmp(FP::UNO, x, x)?;
    isel(g, nan, g.i64t.const_zero(), v)
}

/// A VMVX cast: to a float type rounds to its precision; to an integer type saturates
/// (NaN becomes 0) and wraps; to `i1` tests for nonzero.
pub fn cast<'ctx>(g: &Gen<'_, 'ctx>, a: V<'ctx>, t: ElementType) -> R<V<'ctx>> {
    let b = &g.b;
    let round = |x: FloatValue<'ctx>| -> R<FloatValue<'ctx>> {
        Ok(match t {
            ElementType::F16 => g.f16_to_f32(g.to_f16_bits(x)?)?,
            ElementType::BF16 => {
                let bits = bf16_bits(g, x)?;
                let w = b
                    .build_left_shift(bits, g.i32t.const_int(16, false), "w")
                    .map_err(e)?;
                b.build_bit_cast(w, g.f32t, "bf")
                    .map_err(e)?
                    .into_float_value()
            }
            _ => x,
        })
    };
    let wrap = |x: IntValue<'ctx>| -> R<IntValue<'ctx>> {
        Ok(match t {
            int if int.int_width().is_some_and(|(bits, _)| bits < 64) => {
                let n = b.build_int_truncate(x, g.int_type(int), "n").map_err(e)?;
                g.extend(n, int)?
            }
            ElementType::I1 => bool_i64(g, g.icmp(IP::NE, x, g.i64t.const_zero())?)?,
            _ => x,
        })
    };
    Ok(match (a, reg_kind(t)) {
        (V::F(x), RegKind::F) => V::F(round(x)?),
        (V::I(x), RegKind::F) => {
            // Through f64, then rounded once to the target type, as the interpreter does.
            let d = b.build_signed_int_to_float(x, g.f64t, "d").map_err(e)?;
            V::F(match t {
                ElementType::F16 => g.f16_to_f32(g.to_f16_bits(d)?)?,
                ElementType::BF16 => {
                    let bits = if g.gpu.is_some() {
                        // Through f32 (rounded twice), as the SPIR-V generator does.
                        let f = b.build_float_trunc(d, g.f32t, "f").map_err(e)?;
                        let bits = bf16_bits(g, f)?;
                        b.build_int_truncate(bits, g.i16t, "bits").map_err(e)?
                    } else {
                        let to =
                            g.declare("kiln_f64_to_bf16", g.i16t.fn_type(&[g.f64t.into()], false));
                        g.call(to, &[d.into()])?.into_int_value()
                    };
                    let w = b.build_int_z_extend(bits, g.i32t, "w").map_err(e)?;
                    let w = b
                        .build_left_shift(w, g.i32t.const_int(16, false), "w")
                        .map_err(e)?;
                    b.build_bit_cast(w, g.f32t, "bf")
                        .map_err(e)?
                        .into_float_value()
                }
                _ => b.build_float_trunc(d, g.f32t, "f").map_err(e)?,
            })
        }
        (V::I(x), RegKind::I) => V::I(wrap(x)?),
        (V::F(x), RegKind::I) => {
            if t == ElementType::I1 {
                return Ok(V::I(bool_i64(g, g.fcmp(FP::UNE, x, g.f32t.const_zero())?)?));
            }
            V::I(wrap(saturating_i64(g, x)?)?)
        }
    })
}
