//! Packed, register-tiled f32 matrix product: `C = A·B` or `C += A·B`.
//!
//! Blocking follows BLIS: a `KC`-deep panel of B is packed into `NR`-wide column strips, an
//! `MC`-tall block of A is walked `MR` rows at a time (a row-major A is read in place by the
//! built-in tiles, whose broadcasts stream its rows; otherwise it is packed into row strips),
//! and an `MR×NR` register tile accumulates over the panel. One generic implementation is
//! instantiated per instruction set with its own tile shape, inside `#[target_feature]`
//! functions so LLVM uses that ISA's vector registers.
//!
//! Data tiling (IREE's pack → mmt4d → unpack) uses the same strips as a storage layout:
//! [`pack_lhs`] and [`pack_rhs`] turn a constant operand into strips once, at compile time, in
//! the layout of one [`TileShape`]; [`packed_gemm`] then multiplies with [`Lhs::Packed`] /
//! [`Rhs::Packed`] operands read in place, or with right-hand panels a callback fills directly
//! (a convolution's im2col, written in strip layout and used while it is in cache).
//!
//! Files: this one holds the operands and the blocked drivers; `layout.rs` the tile shapes
//! and packed layouts; one file per register tile: `portable.rs`, `x86.rs` (AVX2, AVX-512),
//! and `external.rs` for tiles native code brings.

use crate::scratch::Scratch;
use crate::AlignedVec;
use alloc::vec::Vec;

/// A read-only strided f32 matrix: element `(i, j)` is `data[offset + i*row_stride + j*col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Matrix<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A row-major matrix of rows `cols` wide, starting at `data[0]`.
    pub fn row_major(data: &'a [f32], cols: usize) -> Self {
        Matrix {
            data,
            offset: 0,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose: element `(i, j)` is this matrix's `(j, i)`.
    pub fn transposed(self) -> Self {
        Matrix {
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[self.offset + i * self.row_stride + j * self.col_stride]
    }
}

const KC: usize = 1024;

crate::scratch! {
    static PACK: (AlignedVec, AlignedVec);
}

/// Packs rows `i0..i0+mc`, depth `p0..p0+kc` of `a` into MR-tall strips, zero-padded.
fn pack_a(mr: usize, a: &Matrix, i0: usize, mc: usize, p0: usize, kc: usize, out: &mut AlignedVec) {
    let strips = mc.div_ceil(mr);
    out.clear();
    out.resize(strips * mr * kc, 0.0);
    for s in 0..strips {
        let dst = &mut out[s * mr * kc..(s + 1) * mr * kc];
        let rows = mr.min(mc - s * mr);
        for r in 0..rows {
            let i = i0 + s * mr + r;
            if a.col_stride == 1 {
                let base = a.offset + i * a.row_stride + p0;
                for (p, &v) in a.data[base..base + kc].iter().enumerate() {
                    dst[p * mr + r] = v;
                }
            } else {
                for p in 0..kc {
                    dst[p * mr + r] = a.at(i, p0 + p);
                }
            }
        }
    }
}

/// Packs depth `p0..p0+kc`, columns `j0..j0+nc` of `b` into NR-wide strips, zero-padded.
fn pack_b(nr: usize, b: &Matrix, p0: usize, kc: usize, j0: usize, nc: usize, out: &mut AlignedVec) {
    let strips = nc.div_ceil(nr);
    out.clear();
    out.resize(strips * nr * kc, 0.0);
    for s in 0..strips {
        let dst = &mut out[s * nr * kc..(s + 1) * nr * kc];
        let cols = nr.min(nc - s * nr);
        if b.col_stride != 1 && b.row_stride == 1 {
            // A transposed B: each column is a contiguous run, written down the strip (16
            // columns by 16 depths through a register transpose where the CPU has AVX-512).
            #[cfg(target_arch = "x86_64")]
            let done = {
                let first = b.offset + p0 + (j0 + s * nr) * b.col_stride;
                x86::pack_transposed(&b.data[first..], b.col_stride, cols, kc, nr, dst)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let done = [0, 0];
            for c in 0..cols {
                let base = b.offset + p0 + (j0 + s * nr + c) * b.col_stride;
                let from = if c < done[0] { done[1] } else { 0 };
                for (p, &v) in b.data[base..base + kc].iter().enumerate().skip(from) {
                    dst[p * nr + c] = v;
                }
            }
            continue;
        }
        for p in 0..kc {
            let row = &mut dst[p * nr..p * nr + cols];
            if b.col_stride == 1 {
                let base = b.offset + (p0 + p) * b.row_stride + j0 + s * nr;
                row.copy_from_slice(&b.data[base..base + cols]);
            } else {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = b.at(p0 + p, j0 + s * nr + c);
                }
            }
        }
    }
}

mod layout;
pub use layout::{pack_lhs, pack_rhs, Packing, TileShape, PORTABLE_TILE, TILE_SHAPES};

/// A table of element offsets (row starts, pixel offsets) for [`packed_gemm`]'s operands that
/// are read in place, with its largest value, found once when the table is made: a product
/// checks its reads against its data without a pass over the table, so tables built once and
/// kept (a convolution's taps) cost nothing per call. So is the step between its values where
/// they rise evenly, which tiles then compute instead of loading.
///
/// ```
/// use kiln_ukernel::gemm::Offsets;
/// let rows: Offsets = [0, 12, 4].into_iter().collect();
/// assert_eq!((rows.max(), &rows[..], rows.step()), (12, &[0, 12, 4][..], None));
/// let channels: Offsets = (0..64).map(|c| 5 + 3 * c).collect();
/// assert_eq!(channels.step(), Some(3));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Offsets {
    values: Vec<usize>,
    max: usize,
    step: Option<usize>,
}

impl Offsets {
    pub fn new(values: Vec<usize>) -> Offsets {
        let max = values.iter().copied().max().unwrap_or(0);
        let step = match values[..] {
            [first, second, ..] if second >= first => {
                let step = second - first;
                values
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| v == first + i * step)
                    .then_some(step)
            }
            _ => None,
        };
        Offsets { values, max, step }
    }

    /// The largest offset (0 for an empty table).
    pub fn max(&self) -> usize {
        self.max
    }

    /// The distance between neighbouring offsets where it is one and the same, rising, over
    /// the whole table (two values or more): a tile then computes each offset rather than
    /// loading it.
    pub fn step(&self) -> Option<usize> {
        self.step
    }

    /// The offsets, to reuse their allocation.
    pub fn into_values(self) -> Vec<usize> {
        self.values
    }
}

impl core::ops::Deref for Offsets {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.values
    }
}

impl FromIterator<usize> for Offsets {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Offsets {
        Offsets::new(iter.into_iter().collect())
    }
}

/// The left-hand operand of [`packed_gemm`].
#[derive(Clone, Copy)]
pub enum Lhs<'a> {
    /// Strips from [`pack_lhs`] (of at least `m` rows, depth exactly `k`).
    Packed(&'a [f32]),
    /// A strided matrix, read in place.
    Matrix(Matrix<'a>),
    /// Read in place: element `(i, p)` is `data[rows[p] + offsets[i]]` (a convolution's output
    /// pixels as rows, each tap's input a row start, each pixel an offset from it).
    Gather {
        data: &'a [f32],
        rows: &'a Offsets,
        offsets: &'a Offsets,
    },
}

/// Where [`packed_gemm`] writes `C`: element `(i, j)` at `ptr + i·row_stride + j·col_stride`,
/// or at `ptr + row_offsets[i] + j·col_stride` when rows are listed one by one (a convolution's
/// output pixels in any order). With `accumulate`, the product is added to the values `C`
/// holds (`C += A·B`: a residual already in the output), else it replaces them.
#[derive(Clone, Copy, Debug)]
pub struct MatrixMut<'a> {
    pub ptr: *mut f32,
    pub row_stride: usize,
    pub col_stride: usize,
    pub row_offsets: Option<&'a [usize]>,
    pub accumulate: bool,
}

impl MatrixMut<'_> {
    /// A row-major matrix with rows `ldc` apart.
    pub fn rows(ptr: *mut f32, ldc: usize) -> MatrixMut<'static> {
        MatrixMut {
            ptr,
            row_stride: ldc,
            col_stride: 1,
            row_offsets: None,
            accumulate: false,
        }
    }

    /// The same matrix, the product added to its values when `accumulate`.
    pub fn accumulating(self, accumulate: bool) -> Self {
        MatrixMut { accumulate, ..self }
    }

    /// Element `(i, j)`.
    ///
    /// # Safety
    /// It must lie inside the allocation `ptr` points into (and `i` inside `row_offsets`).
    #[inline(always)]
    unsafe fn at(self, i: usize, j: usize) -> *mut f32 {
        let row = match self.row_offsets {
            // SAFETY: by the caller's contract.
            Some(offsets) => unsafe { *offsets.get_unchecked(i) },
            None => i * self.row_stride,
        };
        // SAFETY: by the caller's contract.
        unsafe { self.ptr.add(row + j * self.col_stride) }
    }

    /// The same matrix starting at element `(i, j)`.
    ///
    /// # Safety
    /// As [`MatrixMut::at`].
    #[inline(always)]
    unsafe fn offset(self, i: usize, j: usize) -> Self {
        match self.row_offsets {
            Some(offsets) => MatrixMut {
                // SAFETY: by the caller's contract.
                ptr: unsafe { self.ptr.add(j * self.col_stride) },
                row_offsets: Some(&offsets[i..]),
                ..self
            },
            None => MatrixMut {
                // SAFETY: by the caller's contract.
                ptr: unsafe { self.at(i, j) },
                ..self
            },
        }
    }
}

/// Fills a right-hand panel: `(j0, width, p0, kc, panel)` writes columns `j0..j0+width`, depth
/// `p0..p0+kc` of B as `kc` rows of `NR`: all `kc·NR` values, columns past `width` zero.
pub type PanelFn<'a> = dyn FnMut(usize, usize, usize, usize, &mut [f32]) + 'a;

/// The right-hand operand of [`packed_gemm`].
pub enum Rhs<'a, 'f> {
    /// Strips from [`pack_rhs`] (of at least `n` columns, depth exactly `k`).
    Packed(&'a [f32]),
    /// Panels produced on demand, each used for a whole column strip of C.
    Panels(&'f mut PanelFn<'a>),
    /// Read in place: row `p` is `data[rows[p]..]`, columns contiguous; columns `0..n` must
    /// be readable. Where columns up to `n` rounded up to the strip width are readable too
    /// (their values do not matter), the last strip is read in place as well, else copied.
    Gather { data: &'a [f32], rows: &'a Offsets },
    /// Some depth rows of strips from [`pack_rhs`]: column strip `s` starts at
    /// `data[s·strip_len]`, and depth row `p` of the product is the strip's row starting at
    /// offset `rows[p]` in it (a packed row index times the strip width; `data` may start
    /// inside the first strip). A convolution skips the taps that only read padding this way.
    PackedSelect {
        data: &'a [f32],
        strip_len: usize,
        rows: &'a Offsets,
    },
}

/// Signature of [`packed_gemm`]'s kernels: `(m, n, k, lhs, rhs, c)`.
pub type PackedGemmFn = unsafe fn(usize, usize, usize, Lhs, Rhs, MatrixMut);

/// The [`SgemmFn`](crate::SgemmFn) with `shape`'s register tile, if this CPU can run it.
pub fn sgemm(shape: TileShape) -> Option<crate::SgemmFn> {
    match shape.isa {
        "generic" => Some(sgemm_generic as crate::SgemmFn),
        #[cfg(target_arch = "x86_64")]
        "avx2+fma" if x86::has_avx2_fma() => Some(x86::sgemm_avx2 as crate::SgemmFn),
        #[cfg(target_arch = "x86_64")]
        "avx512" if x86::has_avx512() => Some(x86::sgemm_avx512 as crate::SgemmFn),
        _ => None,
    }
}

/// The kernel for operands packed in `shape`'s layout, if this CPU can run it (a module
/// compiled for AVX-512 names the feature it needs before it gets here).
pub fn packed_gemm(shape: TileShape) -> Option<PackedGemmFn> {
    match shape.isa {
        "generic" => Some(packed_gemm_generic as PackedGemmFn),
        #[cfg(target_arch = "x86_64")]
        "avx2+fma" if x86::has_avx2_fma() => Some(x86::packed_gemm_avx2 as PackedGemmFn),
        #[cfg(target_arch = "x86_64")]
        "avx512" if x86::has_avx512() => Some(x86::packed_gemm_avx512 as PackedGemmFn),
        _ => None,
    }
}

/// `C[m×n] = lhs·rhs` with the `MR×NR` tile of `T` (packed operands must use that layout).
///
/// # Safety
/// As [`sgemm_generic`] for `c` (elements `(i, j)`, `i < m`, `j < n`); packed and gathered
/// operands must hold their strips (checked, panics otherwise); the CPU must support `T`'s
/// instructions.
#[inline(always)]
unsafe fn packed_gemm_impl<T: Tile>(
    t: T,
    m: usize,
    n: usize,
    k: usize,
    lhs: Lhs,
    mut rhs: Rhs,
    c: MatrixMut,
) {
    let (mr, nr) = (t.mr(), t.nr());
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        c.row_offsets.is_none_or(|o| m <= o.len()),
        "C lists fewer rows than the product has"
    );
    if k == 0 {
        if !c.accumulate {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: rows < m, columns < n are writable by contract.
                    unsafe { *c.at(i, j) = 0.0 };
                }
            }
        }
        return;
    }
    match &rhs {
        Rhs::Gather { data, rows } => assert!(
            k <= rows.len() && rows.max() + n <= data.len(),
            "gathered right-hand rows reach past their data"
        ),
        Rhs::PackedSelect {
            data,
            strip_len,
            rows,
        } => assert!(
            k <= rows.len() && (n.div_ceil(nr) - 1) * strip_len + rows.max() + nr <= data.len(),
            "selected right-hand rows reach past their data"
        ),
        Rhs::Packed(_) | Rhs::Panels(_) => {}
    }
    match &lhs {
        Lhs::Gather {
            data,
            rows,
            offsets,
        } => assert!(
            k <= rows.len() && m <= offsets.len() && rows.max() + offsets.max() < data.len(),
            "gathered left-hand rows reach past their data"
        ),
        Lhs::Matrix(a) => assert_lhs_inside(a, m, k),
        Lhs::Packed(_) => {}
    }
    // A strided matrix is walked MC rows at a time so they stay in L2 across the column strips;
    // gathered rows (a convolution's pixels, read in place over their whole depth) as many at
    // a time as stay in L1 across them.
    let mc_max = match lhs {
        Lhs::Matrix(_) => mr * 16,
        Lhs::Gather { .. } => gathered_block_rows(k, mr).min(m),
        Lhs::Packed(_) => m,
    };
    // Gathered rows (a convolution's pixels) take the whole depth at once: their tiles store
    // C transposed, which costs more than re-reading a deeper strip of B.
    let kc_max = match lhs {
        Lhs::Gather { .. } => k,
        Lhs::Matrix(_) | Lhs::Packed(_) => KC,
    };
    let mut pb = PACK.with_mut(|p| core::mem::take(&mut p.1));
    // A ragged last strip of gathered rows with nothing readable past `n` (a convolution's
    // input planes, read in place) is copied: its tiles read whole strips.
    let ragged_past_data = matches!(&rhs,
        Rhs::Gather { data, rows } if rows.max() + n.next_multiple_of(nr) > data.len());
    // A tile that reads packed strips only gets strided and gathered left-hand rows packed
    // once per block, and gathered right-hand rows once per strip, rather than once per tile.
    let in_place = t.reads_in_place();
    let (mut xa, mut xb) = CALL_PACK.with_mut(core::mem::take);
    let pack_lhs = !in_place && !matches!(lhs, Lhs::Packed(_));
    for (p0, i0) in (0..k)
        .step_by(kc_max)
        .flat_map(|p0| (0..m).step_by(mc_max).map(move |i0| (p0, i0)))
    {
        let (kc, mc) = (kc_max.min(k - p0), mc_max.min(m - i0));
        if pack_lhs {
            pack_lhs_block(&lhs, mr, i0, mc, p0, kc, &mut xa);
        }
        // Gathered right-hand rows a page or more apart (a pointwise convolution's input
        // planes, read in place) cost a tile a TLB walk per depth row, every tile over the
        // strip: a strip several row tiles read is copied together once instead.
        let planes = matches!(&rhs, Rhs::Gather { rows, .. } if far_apart(&rows[p0..p0 + kc]));
        let pack_rhs = !in_place || (mc >= PACK_SCATTERED_FOR_TILES * mr && planes);
        for j in (0..n).step_by(nr) {
            let width = nr.min(n - j);
            let pack_rhs = pack_rhs || (ragged_past_data && width < nr);
            let (strip, strip_rows) = match &mut rhs {
                Rhs::Packed(b) => (&b[((j / nr) * k + p0) * nr..][..kc * nr], StripRows::Packed),
                Rhs::Panels(fill) => {
                    pb.resize(kc * nr, 0.0);
                    fill(j, width, p0, kc, &mut pb);
                    (&pb[..], StripRows::Packed)
                }
                Rhs::Gather { data, rows } if planes => {
                    (&data[j..], StripRows::Planes(&rows[p0..p0 + kc]))
                }
                Rhs::Gather { data, rows } => (&data[j..], StripRows::Gathered(&rows[p0..p0 + kc])),
                Rhs::PackedSelect {
                    data,
                    strip_len,
                    rows,
                } => (
                    &data[(j / nr) * *strip_len..],
                    StripRows::Gathered(&rows[p0..p0 + kc]),
                ),
            };
            let (strip, strip_rows) = match strip_rows {
                StripRows::Gathered(rows) | StripRows::Planes(rows) if pack_rhs => {
                    copy_strip_rows(strip, rows, width, nr, &mut xb);
                    (&xb[..], StripRows::Packed)
                }
                _ => (strip, strip_rows),
            };
            let even = matches!(lhs, Lhs::Gather { .. }) && !pack_lhs;
            // Packed weights under several row tiles: the tiles over this strip fetch the next
            // one between them. A lone tile streams its own strip, which runs on into the next;
            // gathered left-hand rows hold a register per row and have none to spare for it.
            let tiles = mc.div_ceil(mr);
            let next = match (&rhs, &lhs) {
                (Rhs::Packed(b), Lhs::Matrix(_) | Lhs::Packed(_))
                    if tiles > 1 && t.fetches_ahead() =>
                {
                    b.get(((j / nr + 1) * k + p0) * nr..)
                        .filter(|next| !next.is_empty())
                        .map(|next| &next[..next.len().min(kc * nr)])
                }
                _ => None,
            };
            for (tile, (i, rows_here)) in row_tiles(i0, mc, mr, even).enumerate() {
                let ahead = next.map(|next| Ahead::share(next, tile, tiles, kc));
                let dst = TileDst {
                    // SAFETY: the tile's corner lies inside C's m×n.
                    c: unsafe { c.offset(i, j) },
                    m: rows_here,
                    n: width,
                    accumulate: c.accumulate || p0 > 0,
                };
                // SAFETY: the tile lies inside C's m×n by the min() bounds; gathered and
                // strided operands were checked to lie inside their data above (a ragged last
                // strip that would read past them was copied: `ragged_past_data`), packed
                // strips are sliced whole.
                unsafe {
                    match &lhs {
                        _ if pack_lhs => {
                            let a = &xa[((i - i0) / mr) * kc * mr..][..kc * mr];
                            tile_with(t, kc, PackedStrip::new(a, mr), strip, strip_rows, dst)
                        }
                        Lhs::Packed(a) => {
                            let a = &a[((i / mr) * k + p0) * mr..][..kc * mr];
                            let a = PackedStrip::new(a, mr);
                            tile_fetching(t, kc, a, strip, strip_rows, ahead, dst)
                        }
                        // A row-major (or any strided) matrix is read in place: its rows are
                        // streams the broadcasts walk, as good as a packed strip.
                        Lhs::Matrix(a) => {
                            let strip_a = GatheredStrip::of_matrix(a, i, p0, rows_here);
                            tile_fetching(t, kc, strip_a, strip, strip_rows, ahead, dst)
                        }
                        Lhs::Gather {
                            data,
                            rows,
                            offsets,
                        } => {
                            let offsets = &offsets[i..i + rows_here];
                            // Depth rows evenly apart (a pointwise convolution's input
                            // channels): each start is computed, not loaded per depth step.
                            if let Some(step) = rows.step() {
                                let first = rows[p0];
                                let strip_a =
                                    GatheredStrip::new(data, Stride(step), rows_here, |r| {
                                        offsets[r] + first
                                    });
                                tile_with(t, kc, strip_a, strip, strip_rows, dst)
                            } else {
                                let strip_a =
                                    GatheredStrip::new(data, &rows[p0..p0 + kc], rows_here, |r| {
                                        offsets[r]
                                    });
                                tile_with(t, kc, strip_a, strip, strip_rows, dst)
                            }
                        }
                    }
                };
            }
        }
    }
    PACK.with_mut(|p| p.1 = pb);
    for kept in [&mut xa, &mut xb] {
        if kept.capacity() > KEPT_PACK_VALUES {
            *kept = AlignedVec::default();
        }
    }
    CALL_PACK.with_mut(|p| *p = (xa, xb));
}

/// Bytes of gathered left-hand rows [`packed_gemm_impl`] keeps in L1 across the column strips.
const GATHERED_BLOCK_BYTES: usize = 32 * 1024;

/// How many gathered left-hand rows ([`Lhs::Gather`]) of depth `k` [`packed_gemm`] takes at a
/// time through every column strip: those 32 KB hold, in whole tiles of `mr` rows, at least
/// one tile.
///
/// ```
/// use kiln_ukernel::gemm::gathered_block_rows;
/// assert_eq!(gathered_block_rows(64, 8), 128); // 128 rows of 64 floats: 32 KB
/// assert_eq!(gathered_block_rows(4608, 8), 8); // one tile however deep
/// ```
pub fn gathered_block_rows(k: usize, mr: usize) -> usize {
    let rows = GATHERED_BLOCK_BYTES / (k.max(1) * core::mem::size_of::<f32>());
    (rows / mr).max(1) * mr
}

/// Copies `width` values from each of `rows` of `strip` into `dst`, `nr` apart with zeros
/// after them: a gathered right-hand strip made contiguous, sized once rather than grown row
/// by row.
fn copy_strip_rows(strip: &[f32], rows: &[usize], width: usize, nr: usize, dst: &mut AlignedVec) {
    // Every value is overwritten: sized, not cleared.
    dst.resize(rows.len() * nr, 0.0);
    for (d, &r) in dst.chunks_exact_mut(nr).zip(rows) {
        let (values, rest) = d.split_at_mut(width);
        values.copy_from_slice(&strip[r..][..width]);
        rest.fill(0.0);
    }
}

/// Row tiles that must read a right-hand strip for [`packed_gemm_impl`] to copy it together
/// when its rows lie far apart.
const PACK_SCATTERED_FOR_TILES: usize = 4;

/// Whether the depth rows starting at `rows` span a page (4 KiB) or more per row: their span
/// over their count (the average gap when they are in order, as a convolution's are).
fn far_apart(rows: &[usize]) -> bool {
    const PAGE_VALUES: usize = 4096 / core::mem::size_of::<f32>();
    let (Some(&lo), Some(&hi)) = (rows.iter().min(), rows.iter().max()) else {
        return false;
    };
    rows.len() > 1 && (hi - lo) / (rows.len() - 1) >= PAGE_VALUES
}

/// Packs rows `i0..i0+mc`, depths `p0..p0+kc` of a strided or gathered left-hand side into
/// `mr`-row strips, zero-padded (a packed one is never repacked).
fn pack_lhs_block(
    lhs: &Lhs,
    mr: usize,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    out: &mut AlignedVec,
) {
    match lhs {
        Lhs::Matrix(a) => pack_a(mr, a, i0, mc, p0, kc, out),
        Lhs::Gather {
            data,
            rows,
            offsets,
        } => {
            out.clear();
            out.resize(mc.div_ceil(mr) * mr * kc, 0.0);
            let offsets = &offsets[i0..i0 + mc];
            for (strip, dst) in out.chunks_exact_mut(mr * kc).enumerate() {
                let offsets = &offsets[strip * mr..offsets.len().min((strip + 1) * mr)];
                for (&row, depth) in rows[p0..p0 + kc].iter().zip(dst.chunks_exact_mut(mr)) {
                    let source = &data[row..];
                    for (d, &offset) in depth.iter_mut().zip(offsets) {
                        *d = source[offset];
                    }
                }
            }
        }
        Lhs::Packed(_) => {}
    }
}

/// The register tiles over rows `i0..i0 + mc`: `(first row, rows)`. Packed strips are `mr`
/// rows each, the last ragged; rows read in place (`even`) are spread evenly over as many
/// tiles, so that 25 rows run as 7, 6, 6 and 6 rather than 8, 8, 8 and a lone row, whose tile
/// would wait on its FMAs.
fn row_tiles(i0: usize, mc: usize, mr: usize, even: bool) -> impl Iterator<Item = (usize, usize)> {
    let tiles = mc.div_ceil(mr);
    let (base, extra) = if even {
        (mc / tiles.max(1), mc % tiles.max(1))
    } else {
        (mr, 0)
    };
    (0..tiles).scan(i0, move |next, t| {
        let rows = if even {
            base + usize::from(t < extra)
        } else {
            mr.min(i0 + mc - *next)
        };
        let first = *next;
        *next += rows;
        Some((first, rows))
    })
}

/// Where the depth rows of a right-hand strip start.
#[derive(Clone, Copy)]
enum StripRows<'a> {
    /// `nr` apart: a packed strip.
    Packed,
    /// Where the table says.
    Gathered(&'a [usize]),
    /// Where the table says, a page or more apart: input planes read in place ([`PlaneRows`]).
    Planes(&'a [usize]),
}

/// One register tile over a right-hand strip whose rows start where `rows` says.
///
/// # Safety
/// As [`Tile::tile`].
#[inline(always)]
unsafe fn tile_with<T: Tile, A: LhsStrip>(
    t: T,
    kc: usize,
    a: A,
    b: &[f32],
    rows: StripRows,
    dst: TileDst,
) {
    // SAFETY: forwarded contract.
    unsafe {
        match rows {
            StripRows::Packed => t.tile(kc, a, b, Stride(t.nr()), dst),
            StripRows::Gathered(rows) => t.tile(kc, a, b, rows, dst),
            StripRows::Planes(rows) => t.tile(kc, a, b, PlaneRows(rows), dst),
        }
    }
}

/// [`tile_with`], the tile asking the cache for `ahead` (when given) as it goes.
///
/// # Safety
/// As [`Tile::tile`].
#[inline(always)]
unsafe fn tile_fetching<T: Tile, A: LhsStrip>(
    t: T,
    kc: usize,
    a: A,
    b: &[f32],
    rows: StripRows,
    ahead: Option<Ahead>,
    dst: TileDst,
) {
    // SAFETY: forwarded contract.
    unsafe {
        match (rows, ahead) {
            (StripRows::Packed, Some(ahead)) => t.tile_ahead(kc, a, b, ahead, dst),
            _ => tile_with(t, kc, a, b, rows, dst),
        }
    }
}

/// [`packed_gemm`] with the portable 4×8 tile.
///
/// # Safety
/// As [`packed_gemm_impl`].
pub(crate) unsafe fn packed_gemm_generic(
    m: usize,
    n: usize,
    k: usize,
    lhs: Lhs,
    rhs: Rhs,
    c: MatrixMut,
) {
    // SAFETY: forwarded contract.
    unsafe { packed_gemm_impl(Portable, m, n, k, lhs, rhs, c) }
}

/// Where each row of a right-hand strip starts in its slice.
pub(crate) trait RowStarts: Copy {
    fn start(self, p: usize) -> usize;

    /// [`RowStarts::start`] without a bounds check.
    ///
    /// # Safety
    /// `p` must be below the number of rows.
    #[inline(always)]
    unsafe fn start_unchecked(self, p: usize) -> usize {
        self.start(p)
    }

    /// The distance between rows, when it is fixed.
    #[inline(always)]
    fn stride(self) -> Option<usize> {
        None
    }

    /// Whether a tile that fetches its strip ahead asks for the next strip's values of each
    /// row rather than values further on: rows that run on past the strip for many strips,
    /// pages apart ([`PlaneRows`]).
    #[cfg_attr(
        not(target_arch = "x86_64"),
        expect(dead_code, reason = "only the x86-64 tiles prefetch")
    )]
    #[inline(always)]
    fn fetches_next_strip(self) -> bool {
        false
    }
}

/// Rows a fixed distance apart (`NR` when packed, B's row stride when read in place).
#[derive(Clone, Copy)]
pub(crate) struct Stride(pub usize);

impl RowStarts for Stride {
    #[inline(always)]
    fn start(self, p: usize) -> usize {
        p * self.0
    }

    #[inline(always)]
    fn stride(self) -> Option<usize> {
        Some(self.0)
    }
}

/// Rows anywhere: a table of starts ([`Rhs::Gather`]).
impl RowStarts for &[usize] {
    #[inline(always)]
    fn start(self, p: usize) -> usize {
        self[p]
    }

    #[inline(always)]
    unsafe fn start_unchecked(self, p: usize) -> usize {
        // SAFETY: by the caller's contract.
        unsafe { *self.get_unchecked(p) }
    }
}

/// Rows a page or more apart that run on for many strips: a pointwise convolution's input
/// planes read in place. Each strip's rows are as many cache lines, and too many streams
/// for the hardware to fetch ahead; fetched further on than the next strip, they would wait
/// in L1 for many strips and be evicted before being read.
#[derive(Clone, Copy)]
pub(crate) struct PlaneRows<'a>(&'a [usize]);

impl RowStarts for PlaneRows<'_> {
    #[inline(always)]
    fn start(self, p: usize) -> usize {
        self.0.start(p)
    }

    #[inline(always)]
    unsafe fn start_unchecked(self, p: usize) -> usize {
        // SAFETY: by the caller's contract.
        unsafe { self.0.start_unchecked(p) }
    }

    #[inline(always)]
    fn fetches_next_strip(self) -> bool {
        true
    }
}

/// The left-hand side of one register tile: `MR` rows of A over a depth block.
pub(crate) trait LhsStrip: Copy {
    /// Element `(i, p)`: row `i`, depth `p` of the block.
    ///
    /// # Safety
    /// `p` must be below the block's depth and `i` below the tile's `MR`.
    unsafe fn at(self, p: usize, i: usize) -> f32;

    /// The strip's values in packed layout for tiles of `mr` rows (element `(i, p)` at
    /// `p·mr + i`), when it is held that way.
    #[inline(always)]
    fn packed(self, mr: usize) -> Option<*const f32> {
        let _ = mr;
        None
    }
}

/// A strip in packed layout: element `(i, p)` at `p·mr + i`.
#[derive(Clone, Copy)]
pub(crate) struct PackedStrip<'a> {
    a: &'a [f32],
    mr: usize,
}

impl<'a> PackedStrip<'a> {
    #[inline(always)]
    fn new(a: &'a [f32], mr: usize) -> Self {
        PackedStrip { a, mr }
    }
}

impl LhsStrip for PackedStrip<'_> {
    #[inline(always)]
    unsafe fn at(self, p: usize, i: usize) -> f32 {
        // SAFETY: strips are sliced to depth × mr values.
        unsafe { *self.a.get_unchecked(p * self.mr + i) }
    }

    #[inline(always)]
    fn packed(self, mr: usize) -> Option<*const f32> {
        (mr == self.mr).then_some(self.a.as_ptr())
    }
}

/// The most rows any tile has.
const MAX_MR: usize = 8;
const _: () = {
    let mut t = 0;
    while t < TILE_SHAPES.len() {
        assert!(TILE_SHAPES[t].mr <= MAX_MR);
        t += 1;
    }
};

/// A strip read in place ([`Lhs::Gather`], [`Lhs::Matrix`]): element `(i, p)` at
/// `bases[i][rows.start(p)]`.
#[derive(Clone, Copy)]
pub(crate) struct GatheredStrip<R> {
    bases: [*const f32; MAX_MR],
    rows: R,
}

impl<R: RowStarts> GatheredStrip<R> {
    /// Row `i` of `count` (at least 1) starts at `data[offset(i)]`; rows past the last repeat
    /// it (computed, never stored). The bases come from one expression, which LLVM builds in
    /// registers: a tile copies the strip as a whole, and a copy that reads what several
    /// smaller (or masked) stores just wrote stalls until they reach the cache (filling the
    /// array in parts did that, seen in perf).
    #[inline(always)]
    fn new(data: &[f32], rows: R, count: usize, offset: impl Fn(usize) -> usize) -> Self {
        let last = count.clamp(1, MAX_MR) - 1;
        let bases = core::array::from_fn(|i| data[offset(i.min(last))..].as_ptr());
        GatheredStrip { bases, rows }
    }
}

impl GatheredStrip<Stride> {
    /// Rows `i..i + rows` of matrix `a` from depth `p0` on, read in place (its rows are
    /// streams the broadcasts walk, as good as a packed strip). Its reads must have been
    /// checked ([`assert_lhs_inside`]).
    #[inline(always)]
    fn of_matrix(a: &Matrix, i: usize, p0: usize, rows: usize) -> Self {
        let first = a.offset + i * a.row_stride + p0 * a.col_stride;
        GatheredStrip::new(a.data, Stride(a.col_stride), rows, |r| {
            first + r * a.row_stride
        })
    }
}

/// Checks that the `m×k` left-hand matrix `a` lies inside its data before tiles read it in
/// place unchecked (`m` and `k` at least 1).
fn assert_lhs_inside(a: &Matrix, m: usize, k: usize) {
    assert!(
        a.offset + (m - 1) * a.row_stride + (k - 1) * a.col_stride < a.data.len(),
        "the left-hand matrix reaches past its data"
    );
}

impl<R: RowStarts> LhsStrip for GatheredStrip<R> {
    #[inline(always)]
    unsafe fn at(self, p: usize, i: usize) -> f32 {
        // SAFETY: packed_gemm_impl checked every row start plus every offset against the data.
        unsafe { *self.bases[i].add(self.rows.start_unchecked(p)) }
    }
}

/// Where one register tile goes: the `m×n` corner of C at `c`, added to what is there when
/// `accumulate`.
#[derive(Clone, Copy)]
pub(crate) struct TileDst<'a> {
    c: MatrixMut<'a>,
    m: usize,
    n: usize,
    accumulate: bool,
}

/// One tile's share of the next packed right-hand strip, `step` values per depth step from
/// `start`: the row tiles over a strip fetch a slice of the next one each, so weights read
/// from memory (too many to stay in cache between calls) arrive while the strip before them
/// is computed rather than stalling the first tile over them.
#[derive(Clone, Copy)]
#[cfg_attr(
    not(target_arch = "x86_64"),
    expect(dead_code, reason = "only the x86-64 tiles prefetch")
)]
pub(crate) struct Ahead {
    start: *const f32,
    step: usize,
}

impl Ahead {
    /// Share `tile` of `tiles` of strip `next`, fetched over `kc` depth steps.
    fn share(next: &[f32], tile: usize, tiles: usize, kc: usize) -> Ahead {
        let chunk = next.len().div_ceil(tiles);
        Ahead {
            start: next.as_ptr().wrapping_add(tile * chunk),
            step: chunk.div_ceil(kc),
        }
    }
}

/// A register tile: `acc = Σ_p a[p] ⊗ b[p]` over `MR` rows of A and an `NR`-wide strip of B
/// whose row `p` starts at `rows.start(p)`, then stored (or added) into `dst`.
pub(crate) trait Tile: Copy {
    /// Rows of the tile (of a packed left-hand strip).
    fn mr(self) -> usize;
    /// Columns of the tile (of a packed right-hand strip).
    fn nr(self) -> usize;
    /// Whether the tile reads strided and gathered operands in place as well as packed
    /// strips; the drivers pack them first for one that does not.
    #[inline(always)]
    fn reads_in_place(self) -> bool {
        true
    }
    /// # Safety
    /// `dst` must be valid for writes of its `m×n` elements; `a` must hold `kc` depths; `b`
    /// must hold `rows.start(p) + NR` elements for every `p < kc` (the portable tile checks);
    /// the CPU must support the instructions the implementation uses.
    unsafe fn tile<A: LhsStrip, R: RowStarts>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        rows: R,
        dst: TileDst,
    );
    /// Whether [`Tile::tile_ahead`] asks the cache for anything, so that drivers work out
    /// what to ask for only for a tile that uses it.
    #[inline(always)]
    fn fetches_ahead(self) -> bool {
        false
    }
    /// [`Tile::tile`] over a packed strip, asking the cache for `ahead` as it goes (a tile
    /// that does not prefetch ignores it).
    ///
    /// # Safety
    /// As [`Tile::tile`], the strip's rows `nr` apart.
    #[inline(always)]
    unsafe fn tile_ahead<A: LhsStrip>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        ahead: Ahead,
        dst: TileDst,
    ) {
        let _ = ahead;
        // SAFETY: forwarded contract.
        unsafe { self.tile(kc, a, b, Stride(self.nr()), dst) }
    }
}

/// Stores an `MR×NR` accumulator held row-major in `acc` into `dst`.
///
/// # Safety
/// As [`Tile::tile`].
#[inline(always)]
unsafe fn store(acc: &[f32], nr: usize, dst: TileDst) {
    let TileDst {
        c,
        m,
        n,
        accumulate,
    } = dst;
    let put = |i: usize, j: usize| {
        // SAFETY: rows < m and columns < n of C are writable by contract.
        unsafe {
            let p = c.at(i, j);
            *p = if accumulate {
                *p + acc[i * nr + j]
            } else {
                acc[i * nr + j]
            };
        }
    };
    // Walk C's contiguous direction innermost.
    if c.col_stride != 1 {
        (0..n).for_each(|j| (0..m).for_each(|i| put(i, j)));
    } else {
        (0..m).for_each(|i| (0..n).for_each(|j| put(i, j)));
    }
}

crate::scratch! {
    /// Left-hand blocks and right-hand strips the drivers pack during a call: for an
    /// [`ExternalTile`], and right-hand strips whose gathered rows lie pages apart.
    static CALL_PACK: (AlignedVec, AlignedVec);
}

/// The most values a packing buffer keeps between calls (a gathered left-hand side is packed
/// at full depth, which for a large convolution may be tens of megabytes).
const KEPT_PACK_VALUES: usize = 1 << 20;

mod external;
mod portable;
/// x86-64 variants, chosen after CPU feature detection ([`sgemm`], [`packed_gemm`]).
#[cfg(target_arch = "x86_64")]
pub mod x86;

pub use external::{packed_gemm_external, sgemm_external, ExternalTile, TileFn, MAX_EXTERNAL_NR};
pub(crate) use portable::Portable;

/// The blocked product with an `MR×NR` register tile.
///
/// # Safety
/// See [`sgemm_generic`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm_impl<T: Tile>(
    t: T,
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
                unsafe { core::ptr::write_bytes(c.add(i * ldc), 0, n) };
            }
        }
        return;
    }
    let (mr, nr) = (t.mr(), t.nr());
    let mc_max = mr * 16;
    // With a single strip of A each element of B is used once: reading B in place beats
    // packing it (small-batch inference), when its rows are contiguous.
    if m <= mr && b.col_stride == 1 {
        // SAFETY: forwarded contract.
        unsafe { sgemm_single_strip(t, m, n, k, a, b, c, ldc, accumulate) };
        return;
    }
    // A tile that reads in place walks a row-major A's rows where they are (streams, as good
    // as a packed strip); a transposed A (a cache line per depth step) and other tiles get
    // each block packed once.
    let in_place = t.reads_in_place() && a.col_stride == 1;
    if in_place {
        assert_lhs_inside(a, m, k);
    }
    // Take the packing buffers out of the thread-local so the loops below run in this function,
    // which carries the caller's target features (a closure would not).
    let (mut pa, mut pb) = PACK.with_mut(core::mem::take);
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        let acc = accumulate || p0 > 0;
        pack_b(nr, b, p0, kc, 0, n, &mut pb);
        for i0 in (0..m).step_by(mc_max) {
            let mc = mc_max.min(m - i0);
            if !in_place {
                pack_a(mr, a, i0, mc, p0, kc, &mut pa);
            }
            for (sj, bs) in pb.chunks_exact(nr * kc).enumerate() {
                let j = sj * nr;
                for i in (0..mc).step_by(mr) {
                    let dst = TileDst {
                        // SAFETY: the tile's corner lies inside C's m×n.
                        c: MatrixMut::rows(unsafe { c.add((i0 + i) * ldc + j) }, ldc),
                        m: mr.min(mc - i),
                        n: nr.min(n - j),
                        accumulate: acc,
                    };
                    // SAFETY: the tile lies inside C's m×n by the min() bounds; A's rows were
                    // checked to lie inside its data.
                    unsafe {
                        if in_place {
                            let strip = GatheredStrip::of_matrix(a, i0 + i, p0, dst.m);
                            t.tile(kc, strip, bs, Stride(nr), dst)
                        } else {
                            let strip = &pa[(i / mr) * mr * kc..][..mr * kc];
                            t.tile(kc, PackedStrip::new(strip, mr), bs, Stride(nr), dst)
                        }
                    };
                }
            }
        }
    }
    PACK.with_mut(|p| *p = (pa, pb));
}

/// [`sgemm_impl`] for `m <= MR` and row-contiguous B: A is packed once per depth block, full
/// `NR`-wide strips of B are read in place (by tiles that read in place), and only a ragged
/// last strip is packed.
///
/// # Safety
/// See [`sgemm_generic`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm_single_strip<T: Tile>(
    t: T,
    m: usize,
    n: usize,
    k: usize,
    a: &Matrix,
    b: &Matrix,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    let (mr, nr) = (t.mr(), t.nr());
    let (mut pa, mut pb) = PACK.with_mut(core::mem::take);
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        let acc = accumulate || p0 > 0;
        pack_a(mr, a, 0, m, p0, kc, &mut pa);
        for j in (0..n).step_by(nr) {
            let width = nr.min(n - j);
            // Only a tile that reads in place takes B's rows where they are.
            let (strip, ldb) = if width == nr && t.reads_in_place() {
                let start = b.offset + p0 * b.row_stride + j;
                (
                    &b.data[start..start + (kc - 1) * b.row_stride + nr],
                    b.row_stride,
                )
            } else {
                pack_b(nr, b, p0, kc, j, width, &mut pb);
                (&pb[..], nr)
            };
            // SAFETY: the tile lies inside C's m×n; `strip` holds (kc-1)*ldb + NR elements.
            unsafe {
                t.tile(
                    kc,
                    PackedStrip::new(&pa, mr),
                    strip,
                    Stride(ldb),
                    TileDst {
                        c: MatrixMut::rows(c.add(j), ldc),
                        m,
                        n: width,
                        accumulate: acc,
                    },
                )
            };
        }
    }
    PACK.with_mut(|p| *p = (pa, pb));
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
/// let (ma, mb) = (Matrix::row_major(&a, 2), Matrix::row_major(&b, 2));
/// unsafe { sgemm_generic(2, 2, 2, &ma, &mb, c.as_mut_ptr(), 2, false) };
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_generic(
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
    unsafe { sgemm_impl(Portable, m, n, k, a, b, c, ldc, accumulate) }
}
