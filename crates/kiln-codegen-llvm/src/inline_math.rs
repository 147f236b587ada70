//! Math functions as straight-line LLVM IR, for code that may call nothing (GPU kernels have
//! no C library): logarithm and sine/cosine after Cephes (range reduction, then a
//! polynomial; within a few ulp over the ranges models use), tanh, `log1p(eˣ)`, `powf` with
//! its special cases, and integer powers. Each follows the interpreter's scalar semantics, as
//! the CPU path's C functions and the SPIR-V generator's do.

use crate::body::{exp, f1, fmuladd, fsel, isel};
use crate::kernel::{e, Gen, R};
use inkwell::values::{FloatValue, IntValue};
use inkwell::{FloatPredicate as FP, IntPredicate as IP};

fn c<'ctx>(g: &Gen<'_, 'ctx>, v: f64) -> FloatValue<'ctx> {
    g.f32t.const_float(v)
}

/// `Σ coefficients[i]·x^(n-1-i)` by Horner's rule.
fn poly<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>, coefficients: &[f64]) -> R<FloatValue<'ctx>> {
    let mut acc = c(g, coefficients[0]);
    for &k in &coefficients[1..] {
        acc = fmuladd(g, acc, x, c(g, k))?;
    }
    Ok(acc)
}

/// Natural logarithm: `x = m·2ᵉ` with `m` in `[√½, √2)`, then `log(m)` by Cephes' degree-9
/// polynomial; NaN below zero, `-inf` at zero, `inf` at `inf`.
pub fn log<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let i32t = g.i32t;
    // Subnormals are scaled into the normal range first.
    let tiny = g.fcmp(FP::OLT, x, c(g, f32::MIN_POSITIVE as f64))?;
    let scaled = b.build_float_mul(x, c(g, 8_388_608.0), "s").map_err(e)?;
    let xs = fsel(g, tiny, scaled, x)?;
    let adjust = isel(
        g,
        tiny,
        i32t.const_int((-23i64) as u64, true),
        i32t.const_zero(),
    )?;
    let bits = b
        .build_bit_cast(xs, i32t, "bits")
        .map_err(e)?
        .into_int_value();
    let field = b
        .build_right_shift(bits, i32t.const_int(23, false), false, "f")
        .map_err(e)?;
    let field = b
        .build_and(field, i32t.const_int(0xff, false), "f")
        .map_err(e)?;
    let exponent = b
        .build_int_sub(field, i32t.const_int(126, false), "ex")
        .map_err(e)?;
    let exponent = b.build_int_add(exponent, adjust, "ex").map_err(e)?;
    let mantissa = b
        .build_and(bits, i32t.const_int(0x007f_ffff, false), "m")
        .map_err(e)?;
    let mantissa = b
        .build_or(mantissa, i32t.const_int(0x3f00_0000, false), "m")
        .map_err(e)?;
    // m in [0.5, 1): below √½ take 2m - 1 and one less in the exponent, else m - 1.
    let m = b
        .build_bit_cast(mantissa, g.f32t, "m")
        .map_err(e)?
        .into_float_value();
    let low = g.fcmp(FP::OLT, m, c(g, std::f64::consts::FRAC_1_SQRT_2))?;
    let exponent = isel(
        g,
        low,
        b.build_int_sub(exponent, i32t.const_int(1, false), "ex")
            .map_err(e)?,
        exponent,
    )?;
    let doubled = b.build_float_add(m, m, "m2").map_err(e)?;
    let m = fsel(g, low, doubled, m)?;
    let f = b.build_float_sub(m, c(g, 1.0), "f").map_err(e)?;
    let z = b.build_float_mul(f, f, "z").map_err(e)?;
    let p = poly(
        g,
        f,
        &[
            7.037_683_629_2e-2,
            -1.151_461_031_0e-1,
            1.167_699_874_0e-1,
            -1.242_014_084_6e-1,
            1.424_932_278_7e-1,
            -1.666_805_766_5e-1,
            2.000_071_476_5e-1,
            -2.499_999_399_3e-1,
            3.333_333_117_4e-1,
        ],
    )?;
    let y = b.build_float_mul(p, z, "y").map_err(e)?;
    let y = b.build_float_mul(y, f, "y").map_err(e)?;
    let fe = b
        .build_signed_int_to_float(exponent, g.f32t, "fe")
        .map_err(e)?;
    let t = b
        .build_float_mul(fe, c(g, -2.121_944_400_546_905_8e-4), "t")
        .map_err(e)?;
    let y = b.build_float_add(y, t, "y").map_err(e)?;
    let h = b.build_float_mul(z, c(g, -0.5), "h").map_err(e)?;
    let y = b.build_float_add(y, h, "y").map_err(e)?;
    let r = b.build_float_add(f, y, "r").map_err(e)?;
    let t = b.build_float_mul(fe, c(g, 0.693_359_375), "t").map_err(e)?;
    let r = b.build_float_add(r, t, "r").map_err(e)?;
    let r = fsel(g, g.fcmp(FP::OEQ, x, c(g, f64::INFINITY))?, x, r)?;
    let r = fsel(
        g,
        g.fcmp(FP::OEQ, x, c(g, 0.0))?,
        c(g, f64::NEG_INFINITY),
        r,
    )?;
    // Negative or NaN: NaN.
    fsel(g, g.fcmp(FP::ULT, x, c(g, 0.0))?, c(g, f64::NAN), r)
}

/// Sine (`cosine` false) or cosine: reduced by multiples of π/4 (in three parts, Cody and
/// Waite), then Cephes' sine or cosine polynomial on the octant's remainder.
pub fn sin_cos<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>, cosine: bool) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let i32t = g.i32t;
    let ax = f1(g, "llvm.fabs", x)?;
    let finite = g.fcmp(FP::OLT, ax, c(g, f64::INFINITY))?;
    let ax = fsel(g, finite, ax, c(g, 0.0))?;
    let q = b
        .build_float_mul(ax, c(g, 4.0 / std::f64::consts::PI), "q")
        .map_err(e)?;
    let q = g
        .intrinsic("llvm.floor", &[g.f32t.into()], &[q.into()])?
        .into_float_value();
    // The octant modulo 8, rounded up to even (as Cephes does).
    let eighths = b.build_float_mul(q, c(g, 0.125), "e").map_err(e)?;
    let eighths = g
        .intrinsic("llvm.floor", &[g.f32t.into()], &[eighths.into()])?
        .into_float_value();
    let base = b.build_float_mul(eighths, c(g, 8.0), "b").map_err(e)?;
    let octant = b.build_float_sub(q, base, "o").map_err(e)?;
    let j = b.build_float_to_signed_int(octant, i32t, "j").map_err(e)?;
    let odd = b.build_and(j, i32t.const_int(1, false), "odd").map_err(e)?;
    let j = b.build_int_add(j, odd, "j").map_err(e)?;
    let y = b
        .build_float_add(
            q,
            b.build_signed_int_to_float(odd, g.f32t, "o").map_err(e)?,
            "y",
        )
        .map_err(e)?;
    let j = b.build_and(j, i32t.const_int(7, false), "j").map_err(e)?;
    let upper = g.icmp(IP::SGT, j, i32t.const_int(3, false))?;
    let j = isel(
        g,
        upper,
        b.build_int_sub(j, i32t.const_int(4, false), "j")
            .map_err(e)?,
        j,
    )?;
    let mut z = ax;
    for part in [
        0.785_156_25,
        2.418_756_484_985_351_6e-4,
        3.774_894_977_445_941e-8,
    ] {
        let t = b.build_float_mul(y, c(g, part), "t").map_err(e)?;
        z = b.build_float_sub(z, t, "z").map_err(e)?;
    }
    let zz = b.build_float_mul(z, z, "zz").map_err(e)?;
    let cos_poly = poly(
        g,
        zz,
        &[
            2.443_315_711_809_948e-5,
            -1.388_731_625_493_765e-3,
            4.166_664_568_298_827e-2,
        ],
    )?;
    let cos_poly = b.build_float_mul(cos_poly, zz, "c").map_err(e)?;
    let cos_poly = b.build_float_mul(cos_poly, zz, "c").map_err(e)?;
    let half = b.build_float_mul(zz, c(g, 0.5), "h").map_err(e)?;
    let cos_poly = b.build_float_sub(cos_poly, half, "c").map_err(e)?;
    let cos_poly = b.build_float_add(cos_poly, c(g, 1.0), "c").map_err(e)?;
    let sin_poly = poly(
        g,
        zz,
        &[-1.951_529_589_1e-4, 8.332_160_873_6e-3, -1.666_665_461_1e-1],
    )?;
    let sin_poly = b.build_float_mul(sin_poly, zz, "s").map_err(e)?;
    let sin_poly = b.build_float_mul(sin_poly, z, "s").map_err(e)?;
    let sin_poly = b.build_float_add(sin_poly, z, "s").map_err(e)?;
    let one = g.icmp(IP::EQ, j, i32t.const_int(1, false))?;
    let two = g.icmp(IP::EQ, j, i32t.const_int(2, false))?;
    let middle = b.build_or(one, two, "mid").map_err(e)?;
    let (r, negate) = if cosine {
        let past_one = g.icmp(IP::SGT, j, i32t.const_int(1, false))?;
        (
            fsel(g, middle, sin_poly, cos_poly)?,
            b.build_xor(upper, past_one, "neg").map_err(e)?,
        )
    } else {
        let negative = g.fcmp(FP::OLT, x, c(g, 0.0))?;
        (
            fsel(g, middle, cos_poly, sin_poly)?,
            b.build_xor(upper, negative, "neg").map_err(e)?,
        )
    };
    let r = fsel(g, negate, b.build_float_neg(r, "n").map_err(e)?, r)?;
    fsel(g, finite, r, c(g, f64::NAN))
}

/// Hyperbolic tangent: Cephes' odd polynomial below 0.625 in magnitude, else
/// `1 - 2/(e^{2|x|} + 1)` with `x`'s sign (clamped to ±15, where tanh is ±1 in f32).
pub fn tanh<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let ax = f1(g, "llvm.fabs", x)?;
    let z = b.build_float_mul(x, x, "z").map_err(e)?;
    let p = poly(
        g,
        z,
        &[
            -5.704_988_727_45e-3,
            2.063_908_879_54e-2,
            -5.373_971_555_31e-2,
            1.333_144_220_36e-1,
            -3.333_328_194_22e-1,
        ],
    )?;
    let p = b.build_float_mul(p, z, "p").map_err(e)?;
    let p = b.build_float_mul(p, x, "p").map_err(e)?;
    let small = b.build_float_add(p, x, "small").map_err(e)?;
    let clamped = g
        .intrinsic(
            "llvm.minnum",
            &[g.f32t.into()],
            &[ax.into(), c(g, 15.0).into()],
        )?
        .into_float_value();
    let twice = b.build_float_mul(clamped, c(g, 2.0), "t").map_err(e)?;
    let s = exp(g, twice)?;
    let d = b.build_float_add(s, c(g, 1.0), "d").map_err(e)?;
    let q = b.build_float_div(c(g, 2.0), d, "q").map_err(e)?;
    let large = b.build_float_sub(c(g, 1.0), q, "large").map_err(e)?;
    let large = g
        .intrinsic("llvm.copysign", &[g.f32t.into()], &[large.into(), x.into()])?
        .into_float_value();
    // NaN compares false and keeps the polynomial's NaN.
    let is_large = g.fcmp(FP::OGE, ax, c(g, 0.625))?;
    fsel(g, is_large, large, small)
}

/// `log1p(eˣ)` (softplus), as the CPU targets compute it: `log(1 + e)` rescaled by
/// `e / ((1 + e) - 1)` so a small `e` keeps its low bits; `x` itself above 20.
pub fn softplus<'ctx>(g: &Gen<'_, 'ctx>, x: FloatValue<'ctx>) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let ex = exp(g, x)?;
    let w = b.build_float_add(c(g, 1.0), ex, "w").map_err(e)?;
    let lw = log(g, w)?;
    let wm1 = b.build_float_sub(w, c(g, 1.0), "wm1").map_err(e)?;
    let scaled = b.build_float_mul(lw, ex, "s").map_err(e)?;
    let scaled = b.build_float_div(scaled, wm1, "s").map_err(e)?;
    let tiny = g.fcmp(FP::OEQ, w, c(g, 1.0))?;
    let l = fsel(g, tiny, ex, scaled)?;
    fsel(g, g.fcmp(FP::OGT, x, c(g, 20.0))?, x, l)
}

/// `x^y` as `powf` does it: `e^{y·log|x|}`, negative bases with integral exponents, zero
/// and infinite bases by the exponent's sign, NaN for a NaN operand, and the cases that are
/// 1 whatever the other operand (`x^0`, `1^y`, `(-1)^±inf`).
pub fn pow<'ctx>(
    g: &Gen<'_, 'ctx>,
    x: FloatValue<'ctx>,
    y: FloatValue<'ctx>,
) -> R<FloatValue<'ctx>> {
    let b = &g.b;
    let ax = f1(g, "llvm.fabs", x)?;
    let l = log(g, ax)?;
    let m = b.build_float_mul(y, l, "m").map_err(e)?;
    let r = exp(g, m)?;
    let zero = c(g, 0.0);
    let r0 = fsel(g, g.fcmp(FP::OLT, y, zero)?, c(g, f64::INFINITY), zero)?;
    let r = fsel(g, g.fcmp(FP::OEQ, x, zero)?, r0, r)?;
    let floor = |v: FloatValue<'ctx>| -> R<FloatValue<'ctx>> {
        Ok(g.intrinsic("llvm.floor", &[g.f32t.into()], &[v.into()])?
            .into_float_value())
    };
    let integral = g.fcmp(FP::OEQ, floor(y)?, y)?;
    let h = b.build_float_mul(y, c(g, 0.5), "h").map_err(e)?;
    let odd = g.fcmp(FP::ONE, floor(h)?, h)?;
    let odd_integral = b.build_and(integral, odd, "oi").map_err(e)?;
    let bits = b
        .build_bit_cast(x, g.i32t, "bits")
        .map_err(e)?
        .into_int_value();
    let negative = g.icmp(IP::SLT, bits, g.i32t.const_zero())?;
    let flip = b.build_and(negative, odd_integral, "flip").map_err(e)?;
    let r = fsel(g, flip, b.build_float_neg(r, "n").map_err(e)?, r)?;
    // A finite negative base to a fractional power, or a NaN exponent, is NaN (`-inf` to a
    // fractional power is `inf` or 0, as its magnitude gives).
    let below_zero = g.fcmp(FP::OLT, x, zero)?;
    let finite = g.fcmp(FP::ONE, x, c(g, f64::NEG_INFINITY))?;
    let below_zero = b.build_and(below_zero, finite, "neg").map_err(e)?;
    let fractional = b.build_not(integral, "frac").map_err(e)?;
    let nan_case = b.build_and(below_zero, fractional, "nan").map_err(e)?;
    let y_nan = g.fcmp(FP::UNO, y, y)?;
    let nan_case = b.build_or(nan_case, y_nan, "nan").map_err(e)?;
    let r = fsel(g, nan_case, c(g, f64::NAN), r)?;
    let y0 = g.fcmp(FP::OEQ, y, zero)?;
    let x1 = g.fcmp(FP::OEQ, x, c(g, 1.0))?;
    let xm1 = g.fcmp(FP::OEQ, x, c(g, -1.0))?;
    let y_inf = g.fcmp(FP::OEQ, f1(g, "llvm.fabs", y)?, c(g, f64::INFINITY))?;
    let xm1_inf = b.build_and(xm1, y_inf, "mi").map_err(e)?;
    let is_one = b.build_or(y0, x1, "one").map_err(e)?;
    let is_one = b.build_or(is_one, xm1_inf, "one").map_err(e)?;
    fsel(g, is_one, c(g, 1.0), r)
}

/// Wrapping integer power by squaring, the exponent clamped to `0..=u32::MAX` (32 steps,
/// straight-line), as the runtime's `kiln_ipow` computes it.
pub fn ipow<'ctx>(g: &Gen<'_, 'ctx>, x: IntValue<'ctx>, y: IntValue<'ctx>) -> R<IntValue<'ctx>> {
    let b = &g.b;
    let i64t = g.i64t;
    let zero = i64t.const_zero();
    let one = i64t.const_int(1, false);
    let exponent = isel(g, g.icmp(IP::SLT, y, zero)?, zero, y)?;
    let max = i64t.const_int(u32::MAX as u64, false);
    let mut exponent = isel(g, g.icmp(IP::SGT, exponent, max)?, max, exponent)?;
    let (mut result, mut base) = (one, x);
    for _ in 0..32 {
        let bit = b.build_and(exponent, one, "bit").map_err(e)?;
        let set = g.icmp(IP::NE, bit, zero)?;
        let product = b.build_int_mul(result, base, "r").map_err(e)?;
        result = isel(g, set, product, result)?;
        base = b.build_int_mul(base, base, "sq").map_err(e)?;
        exponent = b.build_right_shift(exponent, one, false, "e").map_err(e)?;
    }
    Ok(result)
}
