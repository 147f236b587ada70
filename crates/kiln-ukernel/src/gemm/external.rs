//! Register tiles that native code brings with it: the C ABI they are called through and the
//! drivers around them.

use super::*;
use alloc::format;
use alloc::string::String;

/// A register tile compiled outside this crate, called through the C ABI: `tile(kc, a, b, acc)`
/// sets `acc[i·nr + j] = Σ_p a[p·mr + i]·b[p·nr + j]` for `i < mr`, `j < nr`, `p < kc`, where
/// `a` is a packed left-hand strip and `b` a packed right-hand strip of depth `kc` (the
/// drivers never pass 0; kiln's generated tiles write zeros for it).
pub type TileFn = unsafe extern "C" fn(kc: usize, a: *const f32, b: *const f32, acc: *mut f32);

/// The most columns an [`ExternalTile`] may have: the widest panel the convolution band
/// kernels fill.
pub const MAX_EXTERNAL_NR: usize = crate::rows::MAX_PANEL_WIDTH;

/// A register tile of some [`TileShape`] that native code brings with it (an `llvm-cpu`
/// executable's, generated as LLVM IR for its target CPU). The GEMM drivers here call it for
/// every tile; operands it cannot read in place (gathered rows, strided matrices) are first
/// packed into per-thread buffers.
#[derive(Clone, Copy, Debug)]
pub struct ExternalTile {
    shape: TileShape,
    func: TileFn,
}

impl ExternalTile {
    /// A tile of `shape` computed by `func`; refused if the shape is larger than the drivers
    /// handle.
    ///
    /// # Safety
    /// `func` must compute what [`TileFn`] says for `shape.mr`×`shape.nr`, reading and writing
    /// nothing else, and stay callable while the tile is used.
    pub unsafe fn new(shape: TileShape, func: TileFn) -> Result<ExternalTile, String> {
        if !(1..=MAX_MR).contains(&shape.mr) || !(1..=MAX_EXTERNAL_NR).contains(&shape.nr) {
            return Err(format!(
                "a {}x{} register tile is larger than the GEMM drivers handle",
                shape.mr, shape.nr
            ));
        }
        Ok(ExternalTile { shape, func })
    }

    /// The tile's shape.
    pub fn shape(&self) -> TileShape {
        self.shape
    }
}

impl Tile for ExternalTile {
    #[inline(always)]
    fn mr(self) -> usize {
        self.shape.mr
    }
    #[inline(always)]
    fn nr(self) -> usize {
        self.shape.nr
    }
    #[inline(always)]
    fn reads_in_place(self) -> bool {
        false
    }
    unsafe fn tile<A: LhsStrip, R: RowStarts>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        rows: R,
        dst: TileDst,
    ) {
        let (mr, nr) = (self.shape.mr, self.shape.nr);
        // The drivers pack every operand for a tile that does not read in place.
        let a = a
            .packed(mr)
            .expect("the GEMM drivers pack left-hand strips for an external tile");
        assert_eq!(
            rows.stride(),
            Some(nr),
            "the GEMM drivers pack right-hand strips for an external tile"
        );
        let mut acc = [0.0f32; MAX_MR * MAX_EXTERNAL_NR];
        // SAFETY: the strips hold kc·mr (sliced so by the drivers) and kc·nr (sliced here)
        // values in packed layout and `acc` holds mr·nr; `func` follows `TileFn`'s contract
        // (ExternalTile::new).
        unsafe { (self.func)(kc, a, b[..kc * nr].as_ptr(), acc.as_mut_ptr()) };
        // SAFETY: forwarded contract.
        unsafe { store(&acc, nr, dst) };
    }
}

/// [`sgemm_generic`] with an external tile.
///
/// # Safety
/// As [`sgemm_generic`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_external(
    tile: ExternalTile,
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
    unsafe { sgemm_impl(tile, m, n, k, a, b, c, ldc, accumulate) }
}

/// [`packed_gemm`] with an external tile (packed operands in its shape's layout).
///
/// # Safety
/// As `packed_gemm_impl`.
pub unsafe fn packed_gemm_external(
    tile: ExternalTile,
    m: usize,
    n: usize,
    k: usize,
    lhs: Lhs,
    rhs: Rhs,
    c: MatrixMut,
) {
    // SAFETY: forwarded contract.
    unsafe { packed_gemm_impl(tile, m, n, k, lhs, rhs, c) }
}
