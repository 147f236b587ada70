//! Integer matrix products for quantised models: `i8` rows by `u8` columns, summed exactly in
//! `i32` — the form of x86's VNNI dot product (`vpdpbusd`: per 32-bit lane, four `u8·i8`
//! products added to an `i32`).
//!
//! Both operands are packed in groups of [`DEPTH_GROUP`] along the depth, so that one 32-bit
//! lane holds the four values a dot-product instruction consumes:
//! - the left-hand side (`m × k`, the weights) row by row, each row's depth rounded up to a
//!   whole group with zeros ([`pack_rows`]);
//! - the right-hand side (`k × n`, the pixels) as `ceil(k / 4)` panels, each `n_pad` columns of
//!   four bytes ([`Columns`]), `n_pad` a multiple of [`COLUMN_BLOCK`] (zeros past `n`).
//!
//! [`IntKernels::best`] picks the AVX-512 VNNI tile (8 rows × 32 columns) when the CPU has it,
//! else the portable loops; both give the same exact sums.
//!
//! ```
//! use kiln_ukernel::igemm::{pack_rows, Columns, IntKernels};
//! // A = [[1, -2], [3, 4]] (i8), B = [[5, 6], [7, 8]] (u8).
//! let a = pack_rows(&[1, -2, 3, 4], 2, 2);
//! let mut b = Columns::new(2, 2);
//! for (k, row) in [[5u8, 6], [7, 8]].iter().enumerate() {
//!     for (j, &v) in row.iter().enumerate() {
//!         b.set(k, j, v);
//!     }
//! }
//! let mut c = [0i32; 4];
//! unsafe { IntKernels::best().gemm(2, &a, &b, c.as_mut_ptr(), 2) };
//! assert_eq!(c, [5 - 14, 6 - 16, 15 + 28, 18 + 32]);
//! ```

use alloc::vec;
use alloc::vec::Vec;
/// Depth values one 32-bit lane holds.
pub const DEPTH_GROUP: usize = 4;
/// Columns the packed right-hand side is padded to a multiple of.
pub const COLUMN_BLOCK: usize = 32;

/// The `m × k` row-major matrix `a` with each row's depth rounded up to [`DEPTH_GROUP`]
/// (zeros), as [`IntKernels::gemm`] reads its left-hand side.
pub fn pack_rows(a: &[i8], m: usize, k: usize) -> Vec<i8> {
    let k4 = k.next_multiple_of(DEPTH_GROUP);
    let mut out = vec![0i8; m * k4];
    for (dst, src) in out.chunks_exact_mut(k4).zip(a.chunks_exact(k)) {
        dst[..k].copy_from_slice(src);
    }
    out
}

/// Channels of a convolution filter as the GEMM's depth takes them: four per 32-bit lane.
pub fn channel_quads(channels: usize) -> usize {
    channels.div_ceil(DEPTH_GROUP)
}

/// Convolution filters `[filters, channels, taps]` (OIHW, taps `kh · kw`) as the rows of
/// [`IntKernels::gemm`]'s left-hand side for a depth in the order `(tap, channel / 4,
/// channel % 4)`: four channels of one tap per lane, channels padded with zero weights to a
/// multiple of four ([`channel_quads`]). Each row is `taps · 4 · quads` long.
///
/// ```
/// // One filter, 2 channels, 2 taps: [[1, 2], [3, 4]] -> tap 0: 1, 3, 0, 0; tap 1: 2, 4, 0, 0.
/// let packed = kiln_ukernel::igemm::pack_conv_filters(&[1, 2, 3, 4], 1, 2, 2);
/// assert_eq!(packed, [1, 3, 0, 0, 2, 4, 0, 0]);
/// ```
pub fn pack_conv_filters(w: &[i8], filters: usize, channels: usize, taps: usize) -> Vec<i8> {
    let lanes = channel_quads(channels) * DEPTH_GROUP;
    let mut out = vec![0i8; filters * taps * lanes];
    for (dst, filter) in out
        .chunks_exact_mut(taps * lanes)
        .zip(w.chunks_exact(channels * taps))
    {
        for (c, channel) in filter.chunks_exact(taps).enumerate() {
            for (tap, &v) in channel.iter().enumerate() {
                dst[tap * lanes + c] = v;
            }
        }
    }
    out
}

/// A packed `k × n` right-hand side: `ceil(k / 4)` panels of `n_pad` columns × 4 bytes.
pub struct Columns {
    data: Vec<u8>,
    depth: usize,
    columns: usize,
    padded: usize,
}

impl Columns {
    /// Zeros, `depth × columns`.
    pub fn new(depth: usize, columns: usize) -> Columns {
        let mut c = Columns {
            data: vec![],
            depth: 0,
            columns: 0,
            padded: 0,
        };
        c.reset(depth, columns);
        c
    }

    /// Reuses the allocation for a `depth × columns` operand whose elements the caller then
    /// writes. What it leaves unwritten keeps earlier bytes: harmless in the columns past
    /// `columns` (their sums are never stored) and in the depth past `depth` where the rows
    /// are zero there (as [`pack_rows`] and [`pack_conv_filters`] pad them), nowhere else.
    pub fn reset(&mut self, depth: usize, columns: usize) {
        self.depth = depth;
        self.columns = columns;
        self.padded = columns.next_multiple_of(COLUMN_BLOCK);
        let len = depth.div_ceil(DEPTH_GROUP) * self.padded * DEPTH_GROUP;
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
    }

    /// Sets element `(k, j)`.
    pub fn set(&mut self, k: usize, j: usize, v: u8) {
        let (g, t) = (k / DEPTH_GROUP, k % DEPTH_GROUP);
        self.data[(g * self.padded + j) * DEPTH_GROUP + t] = v;
    }

    /// Panel `g`'s columns as 32-bit lanes, one per column: byte `t` of lane `j` is element
    /// `(4g + t, j)`.
    pub fn panel_mut(&mut self, g: usize) -> &mut [u32] {
        let len = self.padded * DEPTH_GROUP;
        let bytes = &mut self.data[g * len..][..len];
        // SAFETY: any four bytes are a valid u32; `align_to_mut` only yields aligned lanes.
        let (head, lanes, _) = unsafe { bytes.align_to_mut::<u32>() };
        assert!(
            head.is_empty(),
            "a Vec<u8> of u32-sized panels is u32-aligned"
        );
        lanes
    }

    /// The operand's depth and columns.
    pub fn dims(&self) -> (usize, usize) {
        (self.depth, self.columns)
    }
}

/// Signature of an integer GEMM: `m`, packed A, B, C, C's row stride.
type IgemmFn = unsafe fn(usize, &[i8], &Columns, *mut i32, usize);

/// Signature of a row multiply-add: `acc[i] += w · x[i]`.
type MacFn = fn(&mut [i32], &[u8], i32);

/// The integer GEMM (and row multiply-add) this CPU runs best.
#[derive(Clone, Copy)]
pub struct IntKernels {
    gemm: IgemmFn,
    mac: MacFn,
    /// The instruction set, for reports (`"vnni"` or `"portable"`).
    pub isa: &'static str,
}

impl IntKernels {
    /// The portable loops.
    pub const fn generic() -> IntKernels {
        IntKernels {
            gemm: gemm_portable,
            mac: mac_portable,
            isa: "portable",
        }
    }

    /// `acc[i] += w · x[i]` over the shorter of the two rows (a depthwise convolution's tap).
    pub fn multiply_add(&self, acc: &mut [i32], x: &[u8], w: i32) {
        (self.mac)(acc, x, w)
    }

    /// The fastest kernels this CPU supports, detected once per process (without `std`, the
    /// portable ones).
    pub fn best() -> &'static IntKernels {
        #[cfg(feature = "std")]
        {
            static BEST: std::sync::OnceLock<IntKernels> = std::sync::OnceLock::new();
            BEST.get_or_init(|| {
                #[cfg(target_arch = "x86_64")]
                if crate::x86_feature!("avx512f")
                    && crate::x86_feature!("avx512bw")
                    && crate::x86_feature!("avx512vnni")
                {
                    return IntKernels {
                        gemm: vnni::gemm,
                        mac: vnni::multiply_add,
                        isa: "vnni",
                    };
                }
                IntKernels::generic()
            })
        }
        #[cfg(not(feature = "std"))]
        {
            static GENERIC: IntKernels = IntKernels::generic();
            &GENERIC
        }
    }

    /// `C[m × n] = A·B`, `A` from [`pack_rows`] (`m` rows of B's depth rounded up), `B`'s
    /// columns `n`.
    ///
    /// # Safety
    /// `c` must address `m` rows of `n` writable `i32`s, `ldc` apart, written by this call
    /// alone. `a` must hold `m` packed rows of `b`'s depth (checked).
    pub unsafe fn gemm(&self, m: usize, a: &[i8], b: &Columns, c: *mut i32, ldc: usize) {
        let k4 = b.depth.next_multiple_of(DEPTH_GROUP);
        assert!(
            a.len() >= m * k4,
            "the packed rows are shorter than m × depth"
        );
        // SAFETY: forwarded contract; the kernel was chosen for this CPU.
        unsafe { (self.gemm)(m, a, b, c, ldc) }
    }
}

/// The row multiply-add, written once for every instruction set it is compiled for.
#[inline(always)]
fn mac_rows(acc: &mut [i32], x: &[u8], w: i32) {
    // Wrapping, as the dot-product instructions do.
    for (a, &v) in acc.iter_mut().zip(x) {
        *a = a.wrapping_add(w.wrapping_mul(v as i32));
    }
}

fn mac_portable(acc: &mut [i32], x: &[u8], w: i32) {
    mac_rows(acc, x, w)
}

/// The portable GEMM: each output row accumulated panel by panel.
unsafe fn gemm_portable(m: usize, a: &[i8], b: &Columns, c: *mut i32, ldc: usize) {
    let groups = b.depth.div_ceil(DEPTH_GROUP);
    let k4 = groups * DEPTH_GROUP;
    let n = b.columns;
    let mut row = vec![0i32; n];
    for i in 0..m {
        row.fill(0);
        for g in 0..groups {
            let w = &a[i * k4 + g * DEPTH_GROUP..][..DEPTH_GROUP];
            let panel = &b.data[g * b.padded * DEPTH_GROUP..][..n * DEPTH_GROUP];
            for (acc, x) in row.iter_mut().zip(panel.chunks_exact(DEPTH_GROUP)) {
                // Wrapping, as the dot-product instructions do (only a crafted depth
                // overflows).
                let dot =
                    (0..DEPTH_GROUP).fold(0i32, |s, t| s.wrapping_add(w[t] as i32 * x[t] as i32));
                *acc = acc.wrapping_add(dot);
            }
        }
        // SAFETY: row i of C holds n writable elements (contract of `IntKernels::gemm`).
        unsafe { core::ptr::copy_nonoverlapping(row.as_ptr(), c.add(i * ldc), n) };
    }
}

// Without `std` there is no run-time CPU detection, so `IntKernels::best` is portable.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
mod vnni {
    //! The AVX-512 VNNI tile: 8 rows × 32 columns, sixteen `i32` accumulators.

    use super::{Columns, COLUMN_BLOCK, DEPTH_GROUP};
    use core::arch::x86_64::*;

    /// Rows of the register tile.
    const MR: usize = 8;

    /// [`super::IntKernels::multiply_add`] vectorised for AVX-512.
    pub(super) fn multiply_add(acc: &mut [i32], x: &[u8], w: i32) {
        // SAFETY: chosen only when the CPU has these features.
        unsafe { multiply_add_avx512(acc, x, w) }
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    fn multiply_add_avx512(acc: &mut [i32], x: &[u8], w: i32) {
        super::mac_rows(acc, x, w)
    }

    /// [`super::IntKernels::gemm`] with the VNNI tile.
    ///
    /// # Safety
    /// As [`super::IntKernels::gemm`], on a CPU with AVX-512F, BW and VNNI.
    pub(super) unsafe fn gemm(m: usize, a: &[i8], b: &Columns, c: *mut i32, ldc: usize) {
        // SAFETY: chosen only when the CPU has these features.
        unsafe { gemm_vnni(m, a, b, c, ldc) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn gemm_vnni(m: usize, a: &[i8], b: &Columns, c: *mut i32, ldc: usize) {
        let k4 = b.depth.next_multiple_of(DEPTH_GROUP);
        let n = b.columns;
        for i in (0..m).step_by(MR) {
            let rows = (m - i).min(MR);
            for j in (0..n).step_by(COLUMN_BLOCK) {
                let t = Tile {
                    a: a[i * k4..].as_ptr(),
                    k4,
                    b: b.data[j * DEPTH_GROUP..].as_ptr(),
                    panel: b.padded * DEPTH_GROUP,
                    c: c.wrapping_add(i * ldc + j),
                    ldc,
                    cols: (n - j).min(COLUMN_BLOCK),
                };
                // SAFETY: rows i.. and columns j.. lie inside A, B and C.
                unsafe {
                    match rows {
                        8 => t.run::<8>(),
                        7 => t.run::<7>(),
                        6 => t.run::<6>(),
                        5 => t.run::<5>(),
                        4 => t.run::<4>(),
                        3 => t.run::<3>(),
                        2 => t.run::<2>(),
                        _ => t.run::<1>(),
                    }
                }
            }
        }
    }

    /// One register tile's operands: rows of A from `a` (`k4` apart), B's 32 columns from `b`
    /// (panels `panel` bytes apart), C from `c`, of which `cols` columns are stored.
    struct Tile {
        a: *const i8,
        k4: usize,
        b: *const u8,
        panel: usize,
        c: *mut i32,
        ldc: usize,
        cols: usize,
    }

    impl Tile {
        /// `R` rows of the tile.
        ///
        /// # Safety
        /// `R` rows of A, every panel's 128 bytes from `b` and `R` rows of `cols` i32 of C
        /// from `c` are in bounds.
        #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
        unsafe fn run<const R: usize>(&self) {
            // SAFETY: in-bounds as the contract says; unaligned loads and stores.
            unsafe {
                let mut acc = [[_mm512_setzero_si512(); 2]; R];
                for g in 0..self.k4 / DEPTH_GROUP {
                    let bp = self.b.add(g * self.panel);
                    let b0 = _mm512_loadu_si512(bp as *const __m512i);
                    let b1 = _mm512_loadu_si512(bp.add(64) as *const __m512i);
                    for (r, row) in acc.iter_mut().enumerate() {
                        let w = (self.a.add(r * self.k4 + g * DEPTH_GROUP) as *const i32)
                            .read_unaligned();
                        let w = _mm512_set1_epi32(w);
                        row[0] = _mm512_dpbusd_epi32(row[0], b0, w);
                        row[1] = _mm512_dpbusd_epi32(row[1], b1, w);
                    }
                }
                let mask = |from: usize| -> __mmask16 {
                    let n = self.cols.saturating_sub(from).min(16);
                    ((1u32 << n) - 1) as __mmask16
                };
                let (m0, m1) = (mask(0), mask(16));
                for (r, row) in acc.iter().enumerate() {
                    let cp = self.c.add(r * self.ldc);
                    _mm512_mask_storeu_epi32(cp, m0, row[0]);
                    _mm512_mask_storeu_epi32(cp.add(16), m1, row[1]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn reference(a: &[i8], b: &[u8], m: usize, k: usize, n: usize) -> Vec<i32> {
        let mut c = vec![0i32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| a[i * k + p] as i32 * b[p * n + j] as i32)
                    .sum();
            }
        }
        c
    }

    #[test]
    fn best_and_portable_sum_exactly() {
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        };
        for (m, k, n) in [
            (1, 1, 1),
            (3, 9, 5),
            (8, 27, 32),
            (13, 144, 77),
            (17, 290, 40),
        ] {
            let a: Vec<i8> = (0..m * k).map(|_| next() as i8).collect();
            let b: Vec<u8> = (0..k * n).map(|_| next()).collect();
            let packed = pack_rows(&a, m, k);
            let mut cols = Columns::new(k, n);
            for p in 0..k {
                for j in 0..n {
                    cols.set(p, j, b[p * n + j]);
                }
            }
            let expected = reference(&a, &b, m, k, n);
            for kernels in [IntKernels::generic(), *IntKernels::best()] {
                // C rows wider than n: columns past n stay untouched.
                let ldc = n + 3;
                let mut c = vec![-1i32; m * ldc];
                unsafe { kernels.gemm(m, &packed, &cols, c.as_mut_ptr(), ldc) };
                for i in 0..m {
                    assert_eq!(
                        &c[i * ldc..][..n],
                        &expected[i * n..][..n],
                        "{}",
                        kernels.isa
                    );
                    assert!(c[i * ldc + n..][..3].iter().all(|&v| v == -1));
                }
            }
        }
    }
}
