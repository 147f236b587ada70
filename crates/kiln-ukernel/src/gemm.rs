//! Packed, register-tiled f32 matrix product: `C = A·B` or `C += A·B`.
//!
//! Blocking follows BLIS: a `KC`-deep panel of B is packed into `NR`-wide column strips, an
//! `MC`-tall block of A into `MR`-tall row strips, and an `MR×NR` register tile accumulates
//! over the panel. One generic implementation is instantiated per instruction set with its own
//! tile shape, inside `#[target_feature]` functions so LLVM uses that ISA's vector registers.

use std::cell::RefCell;

/// A read-only strided f32 matrix: element `(i, j)` is `data[offset + i*row_stride + j*col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Matrix<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl Matrix<'_> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[self.offset + i * self.row_stride + j * self.col_stride]
    }
}

const KC: usize = 256;

thread_local! {
    static PACK: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Packs rows `i0..i0+mc`, depth `p0..p0+kc` of `a` into MR-tall strips, zero-padded.
fn pack_a<const MR: usize>(a: &Matrix, i0: usize, mc: usize, p0: usize, kc: usize, out: &mut Vec<f32>) {
    let strips = mc.div_ceil(MR);
    out.clear();
    out.resize(strips * MR * kc, 0.0);
    for s in 0..strips {
        let dst = &mut out[s * MR * kc..(s + 1) * MR * kc];
        let rows = MR.min(mc - s * MR);
        for r in 0..rows {
            let i = i0 + s * MR + r;
            if a.col_stride == 1 {
                let base = a.offset + i * a.row_stride + p0;
                for (p, &v) in a.data[base..base + kc].iter().enumerate() {
                    dst[p * MR + r] = v;
                }
            } else {
                for p in 0..kc {
                    dst[p * MR + r] = a.at(i, p0 + p);
                }
            }
        }
    }
}

/// Packs depth `p0..p0+kc`, columns `j0..j0+nc` of `b` into NR-wide strips, zero-padded.
fn pack_b<const NR: usize>(b: &Matrix, p0: usize, kc: usize, j0: usize, nc: usize, out: &mut Vec<f32>) {
    let strips = nc.div_ceil(NR);
    out.clear();
    out.resize(strips * NR * kc, 0.0);
    for s in 0..strips {
        let dst = &mut out[s * NR * kc..(s + 1) * NR * kc];
        let cols = NR.min(nc - s * NR);
        for p in 0..kc {
            let row = &mut dst[p * NR..p * NR + cols];
            if b.col_stride == 1 {
                let base = b.offset + (p0 + p) * b.row_stride + j0 + s * NR;
                row.copy_from_slice(&b.data[base..base + cols]);
            } else {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = b.at(p0 + p, j0 + s * NR + c);
                }
            }
        }
    }
}

/// The register tile: `acc = Σ_p a[p] ⊗ b[p]`, then stored (or added) into the `m×n` corner of C.
///
/// # Safety
/// `c` must be valid for writes of rows `0..m` (stride `ldc`) and columns `0..n`.
#[inline(always)]
unsafe fn tile<const MR: usize, const NR: usize, const FMA: bool>(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    m: usize,
    n: usize,
    accumulate: bool,
) {
    let mut acc = [[0.0f32; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(kc) {
        let bp: &[f32; NR] = bp.try_into().expect("NR-wide strip");
        for i in 0..MR {
            let av = ap[i];
            for j in 0..NR {
                acc[i][j] = if FMA { av.mul_add(bp[j], acc[i][j]) } else { acc[i][j] + av * bp[j] };
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(m) {
        // SAFETY: the caller guarantees rows < m and columns < n of C are writable.
        let dst = unsafe { c.add(i * ldc) };
        for (j, &v) in row.iter().enumerate().take(n) {
            unsafe {
                let p = dst.add(j);
                *p = if accumulate { *p + v } else { v };
            }
        }
    }
}

/// The blocked product with an `MR×NR` register tile.
///
/// # Safety
/// See [`sgemm_generic`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm_impl<const MR: usize, const NR: usize, const FMA: bool>(
    m: usize,
    n: usize,
    k: usize,
    a: &Matrix,
    b: &Matrix,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                // SAFETY: rows < m, columns < n are writable by contract.
                unsafe { std::ptr::write_bytes(c.add(i * ldc), 0, n) };
            }
        }
        return;
    }
    let mc_max = MR * 16;
    PACK.with(|cell| {
        let (pa, pb) = &mut *cell.borrow_mut();
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            let acc = accumulate || p0 > 0;
            pack_b::<NR>(b, p0, kc, 0, n, pb);
            for i0 in (0..m).step_by(mc_max) {
                let mc = mc_max.min(m - i0);
                pack_a::<MR>(a, i0, mc, p0, kc, pa);
                for (sj, bs) in pb.chunks_exact(NR * kc).enumerate() {
                    let j = sj * NR;
                    for (si, as_) in pa.chunks_exact(MR * kc).enumerate() {
                        let i = si * MR;
                        // SAFETY: the tile lies inside C's m×n by the min() bounds.
                        unsafe { tile::<MR, NR, FMA>(kc, as_, bs, c.add((i0 + i) * ldc + j), ldc, MR.min(mc - i), NR.min(n - j), acc) };
                    }
                }
            }
        }
    });
}

/// Portable f32 GEMM: `C[m×n] = A[m×k]·B[k×n]` (or `+=` when `accumulate`), C row-major with
/// row stride `ldc`.
///
/// # Safety
/// `c` must be valid for reads and writes of `c[i*ldc + j]` for `i < m`, `j < n`, and no other
/// thread may access those elements during the call. `a` and `b` must cover every element they
/// address (checked, panics otherwise).
///
/// ```
/// use kiln_ukernel::{gemm::sgemm_generic, Matrix};
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let b = [5.0, 6.0, 7.0, 8.0];
/// let mut c = [0.0f32; 4];
/// let (ma, mb) = (Matrix { data: &a, offset: 0, row_stride: 2, col_stride: 1 },
///                 Matrix { data: &b, offset: 0, row_stride: 2, col_stride: 1 });
/// unsafe { sgemm_generic(2, 2, 2, &ma, &mb, c.as_mut_ptr(), 2, false) };
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_generic(m: usize, n: usize, k: usize, a: &Matrix, b: &Matrix, c: *mut f32, ldc: usize, accumulate: bool) {
    // SAFETY: forwarded contract.
    unsafe { sgemm_impl::<4, 8, false>(m, n, k, a, b, c, ldc, accumulate) }
}

/// x86-64 variants, plugged in after CPU feature detection.
#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use super::{sgemm_impl, Matrix};
    use crate::Kernels;

    /// # Safety
    /// As [`super::sgemm_generic`]; the CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn sgemm_avx2(m: usize, n: usize, k: usize, a: &Matrix, b: &Matrix, c: *mut f32, ldc: usize, accumulate: bool) {
        // SAFETY: forwarded contract.
        unsafe { sgemm_impl::<6, 16, true>(m, n, k, a, b, c, ldc, accumulate) }
    }

    /// # Safety
    /// As [`super::sgemm_generic`]; the CPU must support AVX-512F and FMA.
    #[target_feature(enable = "avx512f,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn sgemm_avx512(m: usize, n: usize, k: usize, a: &Matrix, b: &Matrix, c: *mut f32, ldc: usize, accumulate: bool) {
        // SAFETY: forwarded contract.
        unsafe { sgemm_impl::<8, 32, true>(m, n, k, a, b, c, ldc, accumulate) }
    }

    /// Overrides table entries with the best variants this CPU supports.
    pub fn plug(k: &mut Kernels) {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            k.sgemm = sgemm_avx2;
            k.sgemm_isa = "avx2+fma";
        }
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
            k.sgemm = sgemm_avx512;
            k.sgemm_isa = "avx512";
        }
    }
}
