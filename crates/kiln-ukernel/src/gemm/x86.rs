//! The x86-64 register tiles: AVX2+FMA 6×16 and AVX-512 8×32 (every height 1-8), with the
//! GEMM entry points that run the drivers around them inside `#[target_feature]` functions.

use super::{
    packed_gemm_impl, sgemm_impl, store, Ahead, Lhs, LhsStrip, Matrix, MatrixMut, Rhs, RowStarts,
    Stride, Tile, TileDst,
};
use crate::transpose::transpose16;
use core::arch::x86_64::*;

/// 6×16 tile: twelve 8-lane accumulators.
#[derive(Clone, Copy)]
struct Avx2;

impl Tile for Avx2 {
    #[inline(always)]
    fn mr(self) -> usize {
        6
    }
    #[inline(always)]
    fn nr(self) -> usize {
        16
    }
    #[inline(always)]
    unsafe fn tile<A: LhsStrip, R: RowStarts>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        rows: R,
        dst: TileDst,
    ) {
        // SAFETY: callers run this inside an avx2+fma function; slices hold kc strips.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; 6];
            for p in 0..kc {
                let bp = b.as_ptr().add(rows.start(p));
                let (b0, b1) = (_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8)));
                for (i, row) in acc.iter_mut().enumerate() {
                    let av = _mm256_set1_ps(a.at(p, i));
                    row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(av, b1, row[1]);
                }
            }
            if dst.m == 6 && dst.n == 16 && dst.c.col_stride == 1 {
                for (i, row) in acc.iter().enumerate() {
                    let cp = dst.c.at(i, 0);
                    for (h, &v) in row.iter().enumerate() {
                        let v = if dst.accumulate {
                            _mm256_add_ps(_mm256_loadu_ps(cp.add(8 * h)), v)
                        } else {
                            v
                        };
                        _mm256_storeu_ps(cp.add(8 * h), v);
                    }
                }
                return;
            }
            let mut out = [0.0f32; 96];
            for (i, row) in acc.iter().enumerate() {
                _mm256_storeu_ps(out.as_mut_ptr().add(i * 16), row[0]);
                _mm256_storeu_ps(out.as_mut_ptr().add(i * 16 + 8), row[1]);
            }
            store(&out, 16, dst);
        }
    }
}

/// 8×32 tile: sixteen 16-lane accumulators. A ragged last strip of fewer rows runs a tile
/// of that height, so it does not compute 8, and one of at most 16 columns a tile
/// of one vector per row, so it does not compute 32.
#[derive(Clone, Copy)]
struct Avx512;

impl Tile for Avx512 {
    #[inline(always)]
    fn mr(self) -> usize {
        8
    }
    #[inline(always)]
    fn nr(self) -> usize {
        32
    }
    #[inline(always)]
    unsafe fn tile<A: LhsStrip, R: RowStarts>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        rows: R,
        dst: TileDst,
    ) {
        // SAFETY: forwarded contract.
        unsafe { avx512_any(kc, a, b, rows, (), dst) }
    }
    #[inline(always)]
    fn fetches_ahead(self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn tile_ahead<A: LhsStrip>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        ahead: Ahead,
        dst: TileDst,
    ) {
        // SAFETY: forwarded contract.
        unsafe { avx512_any(kc, a, b, Stride(self.nr()), ahead, dst) }
    }
}

/// [`Avx512`]'s tile with as many 16-lane vectors per row as `dst` has columns: a strip of at
/// most 16 columns takes a tile of one vector per row, so it does not compute 32.
///
/// # Safety
/// As [`avx512_tile`].
#[inline(always)]
unsafe fn avx512_any<A: LhsStrip, R: RowStarts, F: Fetch>(
    kc: usize,
    a: A,
    b: &[f32],
    rows: R,
    fetch: F,
    dst: TileDst,
) {
    // SAFETY: forwarded contract.
    unsafe {
        if dst.n <= 16 {
            avx512_rows::<1, A, R, F>(kc, a, b, rows, fetch, dst)
        } else {
            avx512_rows::<2, A, R, F>(kc, a, b, rows, fetch, dst)
        }
    }
}

/// [`Avx512`]'s tile of `VECS` vectors per row, with as many rows as `dst` needs.
///
/// # Safety
/// As [`avx512_tile`].
#[inline(always)]
unsafe fn avx512_rows<const VECS: usize, A: LhsStrip, R: RowStarts, F: Fetch>(
    kc: usize,
    a: A,
    b: &[f32],
    rows: R,
    fetch: F,
    dst: TileDst,
) {
    // SAFETY: forwarded contract.
    unsafe {
        match dst.m {
            1 => avx512_tile::<1, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            2 => avx512_tile::<2, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            3 => avx512_tile::<3, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            4 => avx512_tile::<4, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            5 => avx512_tile::<5, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            6 => avx512_tile::<6, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            7 => avx512_tile::<7, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
            _ => avx512_tile::<8, VECS, A, R, F>(kc, a, b, rows, fetch, dst),
        }
    }
}

/// Adds depth row `p` of the product to `acc`, and asks the cache for what `fetch` says.
///
/// # Safety
/// As [`avx512_tile`], with `p < kc`.
#[inline(always)]
unsafe fn avx512_step<const ROWS: usize, const VECS: usize, A: LhsStrip, R: RowStarts, F: Fetch>(
    acc: &mut [[__m512; VECS]; ROWS],
    a: A,
    b: &[f32],
    rows: R,
    fetch: F,
    p: usize,
) {
    // SAFETY: forwarded contract.
    unsafe {
        let bp = b.as_ptr().add(rows.start(p));
        let bv: [__m512; VECS] = core::array::from_fn(|h| _mm512_loadu_ps(bp.add(16 * h)));
        // The next strip's lines: at its vectors' last values, so that a strip not aligned to
        // a line (three lines, the first shared with this strip) has each fetched.
        let distance = match rows.fetches_next_strip() {
            true => 16 * VECS + 15,
            false => PREFETCH,
        };
        for h in 0..VECS {
            _mm_prefetch::<_MM_HINT_T0>(bp.wrapping_add(distance + 16 * h) as *const i8);
        }
        if let Some(ahead) = fetch.at(p) {
            _mm_prefetch::<_MM_HINT_T1>(ahead as *const i8);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(a.at(p, i));
            for (r, &b) in row.iter_mut().zip(&bv) {
                *r = _mm512_fmadd_ps(av, b, *r);
            }
        }
    }
}

/// What a register tile asks the cache for at each depth step, besides its own operands.
trait Fetch: Copy {
    /// The address to fetch at depth step `p`, if any.
    fn at(self, p: usize) -> Option<*const f32>;
}

/// Nothing more.
impl Fetch for () {
    #[inline(always)]
    fn at(self, _: usize) -> Option<*const f32> {
        None
    }
}

impl Fetch for Ahead {
    #[inline(always)]
    fn at(self, p: usize) -> Option<*const f32> {
        // A prefetch does not fault: the last share may run past the strip.
        Some(self.start.wrapping_add(p * self.step))
    }
}

/// How far ahead (in values) a tile asks for its right-hand strip: packed strips are read
/// in order, and the first tile over a strip may be reading it from memory.
const PREFETCH: usize = 1024;

/// The most accumulator sets a small [`avx512_tile`] splits its depth between.
const MAX_SPLIT: usize = 4;

/// [`Avx512`]'s tile with `ROWS` rows (at least `dst.m`) of `VECS` 16-lane vectors (at
/// least `dst.n` columns).
///
/// # Safety
/// As [`Tile::tile`]; the CPU must support AVX-512F.
#[inline(never)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512_tile<const ROWS: usize, const VECS: usize, A: LhsStrip, R: RowStarts, F: Fetch>(
    kc: usize,
    a: A,
    b: &[f32],
    rows: R,
    fetch: F,
    dst: TileDst,
) {
    // SAFETY: slices hold kc strips; ROWS ≤ MR rows of A are read.
    unsafe {
        let whole = dst.m == ROWS && dst.n == 16 * VECS && dst.c.col_stride == 1;
        if whole {
            // C's lines, asked for before the depth loop so that the misses of a C in memory
            // (a large convolution's output, a residual added in place) are served while the
            // tile computes, not when it stores.
            for i in 0..ROWS {
                let cp = dst.c.at(i, 0);
                for h in 0..VECS {
                    _mm_prefetch::<_MM_HINT_T0>(cp.add(16 * h) as *const i8);
                }
            }
        }
        let mut acc = [[_mm512_setzero_ps(); VECS]; ROWS];
        // A tile of fewer than 8 accumulators would wait on each FMA's latency; it keeps
        // `split` sets that take turns over the depth and are added at the end.
        let split = (8 / (ROWS * VECS)).clamp(1, MAX_SPLIT);
        if split == 1 {
            for p in 0..kc {
                avx512_step(&mut acc, a, b, rows, fetch, p);
            }
        } else {
            let mut others = [[[_mm512_setzero_ps(); VECS]; ROWS]; MAX_SPLIT - 1];
            let paired = kc - kc % split;
            for p in (0..paired).step_by(split) {
                avx512_step(&mut acc, a, b, rows, fetch, p);
                for (s, set) in others[..split - 1].iter_mut().enumerate() {
                    avx512_step(set, a, b, rows, fetch, p + 1 + s);
                }
            }
            for p in paired..kc {
                avx512_step(&mut acc, a, b, rows, fetch, p);
            }
            for set in &others[..split - 1] {
                for (row, other) in acc.iter_mut().zip(set) {
                    for (r, &o) in row.iter_mut().zip(other) {
                        *r = _mm512_add_ps(*r, o);
                    }
                }
            }
        }
        if whole {
            for (i, row) in acc.iter().enumerate() {
                let cp = dst.c.at(i, 0);
                for (h, &v) in row.iter().enumerate() {
                    let v = if dst.accumulate {
                        _mm512_add_ps(_mm512_loadu_ps(cp.add(16 * h)), v)
                    } else {
                        v
                    };
                    _mm512_storeu_ps(cp.add(16 * h), v);
                }
            }
            return;
        }
        // A copy escapes to the store, not `acc`: a borrowed `acc` would live in memory
        // through the loop above rather than in registers.
        let tile = acc;
        if store_columns(&tile, dst) {
            return;
        }
        let mut out = [0.0f32; 256];
        for (i, row) in acc.iter().enumerate() {
            for (h, &v) in row.iter().enumerate() {
                _mm512_storeu_ps(out.as_mut_ptr().add(i * 32 + 16 * h), v);
            }
        }
        store(&out, 32, dst);
    }
}

/// Stores an [`avx512_tile`] column by column when C's columns lie far apart but its rows
/// next to each other (a convolution's NCHW output whose GEMM rows are the pixels of one
/// output row): each column's `m` values are one run, written from a register transpose
/// rather than one value at a time. Returns whether it stored the tile (nothing otherwise).
///
/// # Safety
/// As [`avx512_tile`].
#[inline(never)]
#[target_feature(enable = "avx512f")]
unsafe fn store_columns<const ROWS: usize, const VECS: usize>(
    acc: &[[__m512; VECS]; ROWS],
    dst: TileDst,
) -> bool {
    let c = dst.c;
    let adjacent = match c.row_offsets {
        Some(offsets) => offsets[..dst.m].windows(2).all(|w| w[1] == w[0] + 1),
        None => c.row_stride == 1,
    };
    // A tile of a few rows stores faster value by value than through two transposes.
    if c.col_stride == 1 || ROWS > 16 || dst.m > ROWS || dst.m < 4 || !adjacent {
        return false;
    }
    let mask = ((1u32 << dst.m) - 1) as __mmask16;
    for h in 0..VECS {
        let rows = core::array::from_fn(|i| acc.get(i).map_or(_mm512_setzero_ps(), |r| r[h]));
        let columns = transpose16(rows);
        for (l, &v) in columns
            .iter()
            .enumerate()
            .take(dst.n.saturating_sub(16 * h))
        {
            // SAFETY: rows `0..m` of column `16h + l < n` are writable (the caller's
            // contract), and they are the `m` values from the column's row 0.
            unsafe {
                let p = c.at(0, 16 * h + l);
                let v = if dst.accumulate {
                    _mm512_add_ps(_mm512_maskz_loadu_ps(mask, p), v)
                } else {
                    v
                };
                _mm512_mask_storeu_ps(p, mask, v);
            }
        }
    }
    true
}

/// # Safety
/// As [`super::sgemm_generic`]; the CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_avx2(
    m: usize,
    n: usize,
    k: usize,
    a: &Matrix,
    b: &Matrix,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: forwarded contract.
    unsafe { sgemm_impl(Avx2, m, n, k, a, b, c, ldc, accumulate) }
}

/// # Safety
/// As [`super::sgemm_generic`]; the CPU must support AVX-512F.
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_avx512(
    m: usize,
    n: usize,
    k: usize,
    a: &Matrix,
    b: &Matrix,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: forwarded contract.
    unsafe { sgemm_impl(Avx512, m, n, k, a, b, c, ldc, accumulate) }
}

/// [`super::packed_gemm`] with the 6×16 tile.
///
/// # Safety
/// As `packed_gemm_impl`; the CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn packed_gemm_avx2(m: usize, n: usize, k: usize, lhs: Lhs, rhs: Rhs, c: MatrixMut) {
    // SAFETY: forwarded contract.
    unsafe { packed_gemm_impl(Avx2, m, n, k, lhs, rhs, c) }
}

/// [`super::packed_gemm`] with the 8×32 tile.
///
/// # Safety
/// As `packed_gemm_impl`; the CPU must support AVX-512F.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn packed_gemm_avx512(m: usize, n: usize, k: usize, lhs: Lhs, rhs: Rhs, c: MatrixMut) {
    // SAFETY: forwarded contract.
    unsafe { packed_gemm_impl(Avx512, m, n, k, lhs, rhs, c) }
}

/// Packs the first columns of a transposed right-hand block into strip `dst` (depth `p` of
/// column `c` at `dst[p·nr + c]`; column `c` is `src[c·col_stride..][..kc]`), 16 columns by 16
/// depths at a time through a register transpose, when the CPU has AVX-512: returns how many
/// columns (a multiple of 16) it packed to what depth (a multiple of 16), `[0, 0]` if none.
pub(super) fn pack_transposed(
    src: &[f32],
    col_stride: usize,
    cols: usize,
    kc: usize,
    nr: usize,
    dst: &mut [f32],
) -> [usize; 2] {
    let (blocks, depth) = (cols / 16 * 16, kc / 16 * 16);
    if !has_avx512() || blocks == 0 || depth == 0 {
        return [0, 0];
    }
    assert!(
        (blocks - 1) * col_stride + depth <= src.len() && (depth - 1) * nr + blocks <= dst.len(),
        "a transposed block reaches past its data"
    );
    // SAFETY: AVX-512F is present; the reads and writes below stay inside the bounds checked.
    unsafe { pack_transposed_avx512(src, col_stride, blocks, depth, nr, dst) };
    [blocks, depth]
}

/// # Safety
/// The CPU must support AVX-512F; `src` and `dst` must hold what [`pack_transposed`] checks.
#[target_feature(enable = "avx512f")]
unsafe fn pack_transposed_avx512(
    src: &[f32],
    col_stride: usize,
    blocks: usize,
    depth: usize,
    nr: usize,
    dst: &mut [f32],
) {
    for c0 in (0..blocks).step_by(16) {
        for p0 in (0..depth).step_by(16) {
            // SAFETY: column c0 + i's depths p0..p0 + 16 and the strip's rows p0..p0 + 16 at
            // columns c0..c0 + 16 lie inside the checked bounds.
            unsafe {
                let rows: [__m512; 16] = core::array::from_fn(|i| {
                    _mm512_loadu_ps(src.as_ptr().add((c0 + i) * col_stride + p0))
                });
                for (i, &v) in transpose16(rows).iter().enumerate() {
                    _mm512_storeu_ps(dst.as_mut_ptr().add((p0 + i) * nr + c0), v);
                }
            }
        }
    }
}

pub(crate) fn has_avx2_fma() -> bool {
    crate::x86_feature!("avx2") && crate::x86_feature!("fma")
}

pub(crate) fn has_avx512() -> bool {
    has_avx2_fma() && crate::x86_feature!("avx512f")
}
