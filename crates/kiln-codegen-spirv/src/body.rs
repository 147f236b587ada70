//! Elementwise bodies as SPIR-V: one register per VMVX body instruction, with the same scalar
//! semantics as the VMVX interpreter (NaN-propagating max/min, saturating float-to-int casts,
//! integer division by zero giving 0, wrapping integer arithmetic).

use crate::shader::{glsl, Shader, Val, R};
use kiln_kernel::{reg_kind, BinaryFn, Body, Inst, RegKind, UnaryFn};
use kiln_types::ElementType;
use rspirv::spirv::{Op, Word};

/// Evaluates `body` at element `index` of its domain (i32 coordinates); `input(s, n)`
/// produces the value of `Input(n)`. Returns the result registers.
pub fn eval(
    s: &mut Shader,
    body: &Body,
    index: &[Word],
    input: &mut dyn FnMut(&mut Shader, u32) -> R<Val>,
) -> R<Vec<Val>> {
    let mut regs: Vec<Val> = Vec::with_capacity(body.insts.len());
    let reg = |regs: &[Val], r: u32| -> R<Val> {
        regs.get(r as usize)
            .copied()
            .ok_or_else(|| format!("register {r} used before definition"))
    };
    for inst in &body.insts {
        let v = match *inst {
            Inst::Input(n) => input(s, n)?,
            Inst::ConstF(c) => s.const_kind(RegKind::F, c, 0),
            Inst::ConstI(c) => s.const_kind(RegKind::I, 0.0, c),
            Inst::Unary(f, a) => unary(s, f, reg(&regs, a)?)?,
            Inst::Binary(f, a, b) => binary(s, f, reg(&regs, a)?, reg(&regs, b)?)?,
            Inst::Select(c, a, b) => {
                let (c, a, b) = (reg(&regs, c)?, reg(&regs, a)?, reg(&regs, b)?);
                let z = s.const_i64(0);
                let cond = s.op(Op::INotEqual, s.bool_, &[c.id, z]);
                let ty = ty_of(s, a.kind);
                Val {
                    kind: a.kind,
                    id: s.select(ty, cond, a.id, b.id),
                }
            }
            Inst::Cast(a, t) => cast(s, reg(&regs, a)?, t),
            Inst::Index(n) => {
                let c = *index
                    .get(n as usize)
                    .ok_or_else(|| format!("index {n} is outside the kernel's domain"))?;
                i(s.op(Op::SConvert, s.i64_, &[c]))
            }
        };
        regs.push(v);
    }
    body.results.iter().map(|&r| reg(&regs, r)).collect()
}

fn ty_of(s: &Shader, k: RegKind) -> Word {
    match k {
        RegKind::F => s.f32_,
        RegKind::I => s.i64_,
    }
}

fn f(id: Word) -> Val {
    Val {
        kind: RegKind::F,
        id,
    }
}
fn i(id: Word) -> Val {
    Val {
        kind: RegKind::I,
        id,
    }
}

fn unary(s: &mut Shader, func: UnaryFn, a: Val) -> R<Val> {
    let x = a.id;
    let t = s.f32_;
    if a.kind == RegKind::I {
        let (zero, one, minus) = (s.const_i64(0), s.const_i64(1), s.const_i64(-1));
        let i64_ = s.i64_;
        return Ok(i(match func {
            UnaryFn::Neg => s.op(Op::SNegate, i64_, &[x]),
            UnaryFn::Abs => {
                let neg = s.op(Op::SNegate, i64_, &[x]);
                let lt = s.op(Op::SLessThan, s.bool_, &[x, zero]);
                s.select(i64_, lt, neg, x)
            }
            UnaryFn::Relu => {
                let gt = s.op(Op::SGreaterThan, s.bool_, &[x, zero]);
                s.select(i64_, gt, x, zero)
            }
            UnaryFn::Sign => {
                let gt = s.op(Op::SGreaterThan, s.bool_, &[x, zero]);
                let lt = s.op(Op::SLessThan, s.bool_, &[x, zero]);
                let m = s.select(i64_, lt, minus, zero);
                s.select(i64_, gt, one, m)
            }
            UnaryFn::Not => {
                let eq = s.op(Op::IEqual, s.bool_, &[x, zero]);
                s.bool_to_i64(eq)
            }
            UnaryFn::BitNot => s.op(Op::Not, i64_, &[x]),
            other => return Err(format!("{other:?} does not apply to integers")),
        }));
    }
    let zero = s.const_f32(0.0);
    let one = s.const_f32(1.0);
    Ok(f(match func {
        UnaryFn::Neg => s.op(Op::FNegate, t, &[x]),
        UnaryFn::Abs => s.ext(t, glsl::FABS, &[x]),
        UnaryFn::Exp => s.ext(t, glsl::EXP, &[x]),
        UnaryFn::Log => s.ext(t, glsl::LOG, &[x]),
        UnaryFn::Sqrt => s.ext(t, glsl::SQRT, &[x]),
        UnaryFn::Erf => erf(s, x),
        UnaryFn::Relu => {
            let gt = s.op(Op::FOrdGreaterThan, s.bool_, &[x, zero]);
            let nan = s.is_nan(x);
            let keep = s.or(gt, nan);
            s.select(t, keep, x, zero)
        }
        UnaryFn::Sigmoid => {
            let n = s.op(Op::FNegate, t, &[x]);
            let e = s.ext(t, glsl::EXP, &[n]);
            let d = s.fadd(one, e);
            s.fdiv(one, d)
        }
        UnaryFn::Tanh => {
            // tanh is ±1 in f32 beyond ±15; clamping keeps exp-based implementations finite.
            let (lo, hi) = (s.const_f32(-15.0), s.const_f32(15.0));
            let c = s.ext(t, glsl::FCLAMP, &[x, lo, hi]);
            let nan = s.is_nan(x);
            let c = s.select(t, nan, x, c);
            let th = s.ext(t, glsl::TANH, &[c]);
            // Drivers may compute tanh from exponentials, which cancels for small x (lavapipe
            // is 0.2% off at 5e-5); there tanh x = x - x³/3 + 2x⁵/15 to f32 precision.
            let ax = s.ext(t, glsl::FABS, &[x]);
            let small = s.const_f32(0.0625);
            let is_small = s.op(Op::FOrdLessThan, s.bool_, &[ax, small]);
            let x2 = s.fmul(x, x);
            let (c3, c5) = (s.const_f32(-1.0 / 3.0), s.const_f32(2.0 / 15.0));
            let p = s.fmul(x2, c5);
            let p = s.fadd(p, c3);
            let p = s.fmul(p, x2);
            let p = s.fmul(p, x);
            let series = s.fadd(x, p);
            s.select(t, is_small, series, th)
        }
        UnaryFn::Not | UnaryFn::BitNot => return Err(format!("{func:?} does not apply to floats")),
        UnaryFn::Floor => s.ext(t, glsl::FLOOR, &[x]),
        UnaryFn::Ceil => s.ext(t, glsl::CEIL, &[x]),
        UnaryFn::Round => s.ext(t, glsl::ROUND_EVEN, &[x]),
        UnaryFn::Sign => {
            let gt = s.op(Op::FOrdGreaterThan, s.bool_, &[x, zero]);
            let lt = s.op(Op::FOrdLessThan, s.bool_, &[x, zero]);
            let m1 = s.const_f32(-1.0);
            let m = s.select(t, lt, m1, zero);
            s.select(t, gt, one, m)
        }
        UnaryFn::Sin => s.ext(t, glsl::SIN, &[x]),
        UnaryFn::Cos => s.ext(t, glsl::COS, &[x]),
        UnaryFn::Softplus => {
            // log1p(e^x), as the CPU targets compute it: log(1 + e) alone loses the low bits
            // of a small e (x far below 0), so it is rescaled by e / ((1 + e) - 1), exact
            // in f32 (w == 1 only when e is below half an ulp of 1, where log1p(e) = e).
            let e = s.ext(t, glsl::EXP, &[x]);
            let w = s.fadd(one, e);
            let lw = s.ext(t, glsl::LOG, &[w]);
            let wm1 = s.fsub(w, one);
            let scaled = s.fmul(lw, e);
            let scaled = s.fdiv(scaled, wm1);
            let tiny = s.op(Op::FOrdEqual, s.bool_, &[w, one]);
            let l = s.select(t, tiny, e, scaled);
            let k = s.const_f32(20.0);
            let big = s.op(Op::FOrdGreaterThan, s.bool_, &[x, k]);
            s.select(t, big, x, l)
        }
    }))
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(s: &mut Shader, x: Word) -> Word {
    let t = s.f32_;
    let ax = s.ext(t, glsl::FABS, &[x]);
    let p = s.const_f32(0.327_591_1);
    let one = s.const_f32(1.0);
    let d = s.fmul(p, ax);
    let d = s.fadd(one, d);
    let k = s.fdiv(one, d);
    let coeffs = [
        1.061_405_4_f32,
        -1.453_152_1,
        1.421_413_7,
        -0.284_496_74,
        0.254_829_6,
    ];
    let mut poly = s.const_f32(coeffs[0]);
    for &c in &coeffs[1..] {
        let cc = s.const_f32(c);
        let m = s.fmul(poly, k);
        poly = s.fadd(m, cc);
    }
    poly = s.fmul(poly, k);
    let x2 = s.fmul(ax, ax);
    let nx2 = s.op(Op::FNegate, t, &[x2]);
    let e = s.ext(t, glsl::EXP, &[nx2]);
    let pe = s.fmul(poly, e);
    let r = s.fsub(one, pe);
    let sign = s.ext(t, glsl::FSIGN, &[x]);
    s.fmul(sign, r)
}

fn binary(s: &mut Shader, func: BinaryFn, a: Val, b: Val) -> R<Val> {
    if a.kind != b.kind {
        return Err(format!("{func:?} mixes register kinds"));
    }
    let (x, y) = (a.id, b.id);
    let bool_ = s.bool_;
    if a.kind == RegKind::I {
        let t = s.i64_;
        let zero = s.const_i64(0);
        return Ok(i(match func {
            BinaryFn::Add => s.op(Op::IAdd, t, &[x, y]),
            BinaryFn::Sub => s.op(Op::ISub, t, &[x, y]),
            BinaryFn::Mul => s.op(Op::IMul, t, &[x, y]),
            BinaryFn::Div => {
                // checked_div: zero for division by zero and for MIN / -1.
                let (one, minus, min) = (s.const_i64(1), s.const_i64(-1), s.const_i64(i64::MIN));
                let by_zero = s.op(Op::IEqual, bool_, &[y, zero]);
                let is_min = s.op(Op::IEqual, bool_, &[x, min]);
                let is_m1 = s.op(Op::IEqual, bool_, &[y, minus]);
                let ovf = s.and(is_min, is_m1);
                let bad = s.or(by_zero, ovf);
                let safe = s.select(t, bad, one, y);
                let q = s.op(Op::SDiv, t, &[x, safe]);
                s.select(t, bad, zero, q)
            }
            BinaryFn::Pow => int_pow(s, x, y)?,
            BinaryFn::Max => {
                let gt = s.op(Op::SGreaterThan, bool_, &[x, y]);
                s.select(t, gt, x, y)
            }
            BinaryFn::Min => {
                let lt = s.op(Op::SLessThan, bool_, &[x, y]);
                s.select(t, lt, x, y)
            }
            BinaryFn::Equal => {
                let c = s.op(Op::IEqual, bool_, &[x, y]);
                s.bool_to_i64(c)
            }
            BinaryFn::Less => {
                let c = s.op(Op::SLessThan, bool_, &[x, y]);
                s.bool_to_i64(c)
            }
            BinaryFn::Greater => {
                let c = s.op(Op::SGreaterThan, bool_, &[x, y]);
                s.bool_to_i64(c)
            }
            BinaryFn::And | BinaryFn::Or => logic(s, func, Op::INotEqual, x, y, zero),
            BinaryFn::BitAnd => s.op(Op::BitwiseAnd, t, &[x, y]),
            BinaryFn::BitOr => s.op(Op::BitwiseOr, t, &[x, y]),
            BinaryFn::BitXor => s.op(Op::BitwiseXor, t, &[x, y]),
            BinaryFn::Shl | BinaryFn::Shr => {
                // Amounts outside 0..64 (negative ones read as huge unsigned) shift everything
                // out: 0, or the sign for an arithmetic right shift.
                let limit = s.const_i64(64);
                let in_range = s.op(Op::ULessThan, bool_, &[y, limit]);
                let amount = s.select(t, in_range, y, zero);
                let (shift, out) = if func == BinaryFn::Shl {
                    (s.op(Op::ShiftLeftLogical, t, &[x, amount]), zero)
                } else {
                    // The sign fill as x >> 63, not a comparison with a constant (which
                    // lavapipe miscompiles for sign-extended loads: see kiln-compiler's
                    // `immediate`).
                    let k = s.const_i64(63);
                    let sign = s.op(Op::ShiftRightArithmetic, t, &[x, k]);
                    (s.op(Op::ShiftRightArithmetic, t, &[x, amount]), sign)
                };
                s.select(t, in_range, shift, out)
            }
        }));
    }
    let t = s.f32_;
    let predicate = |s: &mut Shader, op: Op| {
        let c = s.op(op, bool_, &[x, y]);
        i(s.bool_to_i64(c))
    };
    Ok(match func {
        BinaryFn::Add => f(s.fadd(x, y)),
        BinaryFn::Sub => f(s.fsub(x, y)),
        BinaryFn::Mul => f(s.fmul(x, y)),
        BinaryFn::Div => f(s.fdiv(x, y)),
        BinaryFn::Pow => f(float_pow(s, x, y)),
        BinaryFn::Max | BinaryFn::Min => {
            let which = if func == BinaryFn::Max {
                glsl::FMAX
            } else {
                glsl::FMIN
            };
            let m = s.ext(t, which, &[x, y]);
            let (nx, ny) = (s.is_nan(x), s.is_nan(y));
            let any = s.or(nx, ny);
            let nan = s.fadd(x, y);
            f(s.select(t, any, nan, m))
        }
        BinaryFn::Equal => predicate(s, Op::FOrdEqual),
        BinaryFn::Less => predicate(s, Op::FOrdLessThan),
        BinaryFn::Greater => predicate(s, Op::FOrdGreaterThan),
        BinaryFn::And | BinaryFn::Or => {
            let zero = s.const_f32(0.0);
            i(logic(s, func, Op::FUnordNotEqual, x, y, zero))
        }
        bitwise => return Err(format!("{bitwise:?} does not apply to floats")),
    })
}

/// `And`/`Or` of two registers read as "nonzero" (`nonzero` compares with `zero`), as 0/1 i64.
fn logic(s: &mut Shader, func: BinaryFn, nonzero: Op, x: Word, y: Word, zero: Word) -> Word {
    let nx = s.op(nonzero, s.bool_, &[x, zero]);
    let ny = s.op(nonzero, s.bool_, &[y, zero]);
    let c = if func == BinaryFn::And {
        s.and(nx, ny)
    } else {
        s.or(nx, ny)
    };
    s.bool_to_i64(c)
}

/// `x^y` as `powf` does it: negative bases with integral exponents, signed zeros, and the
/// cases that are 1 whatever the other operand (`x^0`, `1^y`, `(-1)^±inf`).
fn float_pow(s: &mut Shader, x: Word, y: Word) -> Word {
    let t = s.f32_;
    let bool_ = s.bool_;
    let ax = s.ext(t, glsl::FABS, &[x]);
    let l = s.ext(t, glsl::LOG2, &[ax]);
    let m = s.fmul(y, l);
    let r = s.ext(t, glsl::EXP2, &[m]);
    // log2(0) need not be -inf on a GPU: a zero base is 0 or inf by the exponent's sign.
    let zero = s.const_f32(0.0);
    let inf = s.const_f32(f32::INFINITY);
    let x0 = s.op(Op::FOrdEqual, bool_, &[x, zero]);
    let y_neg = s.op(Op::FOrdLessThan, bool_, &[y, zero]);
    let r0 = s.select(t, y_neg, inf, zero);
    let r = s.select(t, x0, r0, r);
    let fl = s.ext(t, glsl::FLOOR, &[y]);
    let integral = s.op(Op::FOrdEqual, bool_, &[fl, y]);
    let half = s.const_f32(0.5);
    let h = s.fmul(y, half);
    let hf = s.ext(t, glsl::FLOOR, &[h]);
    let odd = s.op(Op::FOrdNotEqual, bool_, &[hf, h]);
    let odd_integral = s.and(integral, odd);
    let bits = s.op(Op::Bitcast, s.u32_, &[x]);
    let sign_bit = s.const_u32(0x8000_0000);
    let sign = s.op(Op::BitwiseAnd, s.u32_, &[bits, sign_bit]);
    let zero_u = s.const_u32(0);
    let negative = s.op(Op::INotEqual, bool_, &[sign, zero_u]);
    let flip = s.and(negative, odd_integral);
    let neg_r = s.op(Op::FNegate, t, &[r]);
    let v = s.select(t, flip, neg_r, r);
    // A finite negative base to a fractional power, or a NaN exponent, is NaN (`-inf` to a
    // fractional power is `inf` or 0, as its magnitude gives).
    let below_zero = s.op(Op::FOrdLessThan, bool_, &[x, zero]);
    let neg_inf = s.const_f32(f32::NEG_INFINITY);
    let finite = s.op(Op::FOrdNotEqual, bool_, &[x, neg_inf]);
    let below_zero = s.and(below_zero, finite);
    let fractional = s.op(Op::LogicalNot, bool_, &[integral]);
    let nan_case = s.and(below_zero, fractional);
    let y_nan = s.is_nan(y);
    let nan_case = s.or(nan_case, y_nan);
    let nan = s.const_f32(f32::NAN);
    let v = s.select(t, nan_case, nan, v);
    let one = s.const_f32(1.0);
    let y0 = s.op(Op::FOrdEqual, bool_, &[y, zero]);
    let x1 = s.op(Op::FOrdEqual, bool_, &[x, one]);
    let minus_one = s.const_f32(-1.0);
    let xm1 = s.op(Op::FOrdEqual, bool_, &[x, minus_one]);
    let y_inf = s.is_inf(y);
    let xm1_inf = s.and(xm1, y_inf);
    let is_one = s.or(y0, x1);
    let is_one = s.or(is_one, xm1_inf);
    s.select(t, is_one, one, v)
}

/// Wrapping integer power by squaring, the exponent clamped to `0..=u32::MAX`.
fn int_pow(s: &mut Shader, x: Word, y: Word) -> R<Word> {
    let t = s.i64_;
    let zero = s.const_i64(0);
    let max = s.const_i64(u32::MAX as i64);
    let bool_ = s.bool_;
    let neg = s.op(Op::SLessThan, bool_, &[y, zero]);
    let e0 = s.select(t, neg, zero, y);
    let big = s.op(Op::SGreaterThan, bool_, &[e0, max]);
    let e0 = s.select(t, big, max, e0);
    let (result, base, e) = (s.var(t), s.var(t), s.var(t));
    let one = s.const_i64(1);
    s.set(result, one);
    s.set(base, x);
    s.set(e, e0);
    s.for_count(32, |s, _| {
        let ev = s.get(e);
        let bit = s.op(Op::BitwiseAnd, t, &[ev, one]);
        let set = s.op(Op::INotEqual, s.bool_, &[bit, zero]);
        let (rv, bv) = (s.get(result), s.get(base));
        let prod = s.op(Op::IMul, t, &[rv, bv]);
        let nr = s.select(t, set, prod, rv);
        s.set(result, nr);
        let sq = s.op(Op::IMul, t, &[bv, bv]);
        s.set(base, sq);
        let sh = s.op(Op::ShiftRightLogical, t, &[ev, one]);
        s.set(e, sh);
        Ok(())
    })?;
    Ok(s.get(result))
}

/// A VMVX cast: to a float type rounds to its precision; to an integer type saturates
/// (NaN becomes 0) and wraps; to `i1` tests for nonzero.
pub fn cast(s: &mut Shader, a: Val, t: ElementType) -> Val {
    let bool_ = s.bool_;
    match (a.kind, reg_kind(t)) {
        (RegKind::F, RegKind::F) => f(s.round_float(a.id, t)),
        (RegKind::I, RegKind::F) => {
            let v = s.op(Op::ConvertSToF, s.f32_, &[a.id]);
            f(s.round_float(v, t))
        }
        (RegKind::I, RegKind::I) => i(s.wrap_int(a.id, t)),
        (RegKind::F, RegKind::I) => {
            if t == ElementType::I1 {
                let zero = s.const_f32(0.0);
                let nz = s.op(Op::FUnordNotEqual, bool_, &[a.id, zero]);
                return i(s.bool_to_i64(nz));
            }
            // Saturate like Rust's `as`: [-2^63, 2^63) converts, beyond clamps.
            let fty = s.f32_;
            let lo = s.const_f32(-9.223_372e18);
            let below_limit = s.const_f32(f32::from_bits(0x5eff_ffff));
            let limit = s.const_f32(f32::from_bits(0x5f00_0000));
            let c = s.ext(fty, glsl::FCLAMP, &[a.id, lo, below_limit]);
            let v = s.op(Op::ConvertFToS, s.i64_, &[c]);
            let (min, max) = (s.const_i64(i64::MIN), s.const_i64(i64::MAX));
            let under = s.op(Op::FOrdLessThan, bool_, &[a.id, lo]);
            let over = s.op(Op::FOrdGreaterThanEqual, bool_, &[a.id, limit]);
            let v = s.select(s.i64_, under, min, v);
            let v = s.select(s.i64_, over, max, v);
            let nan = s.is_nan(a.id);
            let zero = s.const_i64(0);
            let v = s.select(s.i64_, nan, zero, v);
            i(s.wrap_int(v, t))
        }
    }
}
