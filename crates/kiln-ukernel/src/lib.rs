//! CPU microkernels: the inner loops every CPU backend calls.
//!
//! - [`Kernels`] holds the GEMMs of one register tile ([`gemm::TileShape`]):
//!   [`Kernels::generic`] the portable one, [`Kernels::best`] the best whose instructions
//!   (AVX2+FMA, AVX-512) a run-time CPU feature check finds, [`Kernels::external`] the drivers
//!   here around a tile native code brings (an `llvm-cpu` executable's, generated as LLVM IR:
//!   the NEON tile on AArch64). Every ISA kernel is tested against the generic one.
//! - [`gemm`] is a packed, register-tiled f32 matrix product (BLIS-style blocking for L1/L2).
//! - [`igemm`] is the integer product of quantised models: `i8` by `u8` summed in `i32`, with
//!   AVX-512 VNNI dot products where the CPU has them.
//! - [`rows`] holds row-wise kernels: reductions, softmax, layer normalisation, pooling and the
//!   depthwise convolution.
//!
//! Kernels take raw output pointers because the runtime runs workgroups that write disjoint parts
//! of one buffer on several threads at once; callers uphold the documented `# Safety` contracts.
#![no_std]

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;
#[cfg(test)]
#[macro_use]
extern crate std;

mod aligned;
pub mod gemm;
pub mod igemm;
pub mod rows;
pub mod scratch;
#[cfg(target_arch = "x86_64")]
mod transpose;

/// Whether this x86 CPU has target feature `$f`: detected at run time with `std`; without it,
/// whether the build enables the feature.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
macro_rules! x86_feature {
    ($f:tt) => {
        std::arch::is_x86_feature_detected!($f)
    };
}
#[cfg(all(not(feature = "std"), target_arch = "x86_64"))]
macro_rules! x86_feature {
    ($f:tt) => {
        cfg!(target_feature = $f)
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_feature;

/// `std`, for [`scratch!`]'s expansion in other crates.
#[cfg(feature = "std")]
#[doc(hidden)]
pub extern crate std as __std;

pub use aligned::AlignedVec;
pub use gemm::Matrix;

/// Signature of an f32 matrix-product kernel; see [`gemm::sgemm_generic`].
pub type SgemmFn = unsafe fn(usize, usize, usize, &Matrix, &Matrix, *mut f32, usize, bool);

/// The microkernel table: the GEMMs of one register tile.
///
/// ```
/// # #[cfg(feature = "sgemm")] {
/// use kiln_ukernel::{gemm::Packing, Kernels, Matrix};
/// let kernels = Kernels::best();
/// let (a, b) = ([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]);
/// let mut c = [0.0f32; 4];
/// let (ma, mb) = (Matrix::row_major(&a, 2), Matrix::row_major(&b, 2));
/// unsafe { kernels.sgemm(2, 2, 2, &ma, &mb, c.as_mut_ptr(), 2, false) };
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// // Operands packed for the portable tile's 8-column strips run on kernels that read them.
/// assert_eq!(kernels.for_packing(Packing::Columns(8)).unwrap().tile.nr, 8);
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Kernels {
    /// The register tile (and instruction set) of both GEMMs.
    pub tile: gemm::TileShape,
    gemm: Gemm,
}

/// Where a [`Kernels`] table's GEMMs come from.
#[derive(Clone, Copy)]
enum Gemm {
    /// This crate's, for a built-in tile.
    Builtin {
        #[cfg(feature = "sgemm")]
        sgemm: SgemmFn,
        packed: gemm::PackedGemmFn,
    },
    /// This crate's drivers around a tile native code brought.
    External(gemm::ExternalTile),
}

impl Kernels {
    /// Portable kernels only.
    pub const fn generic() -> Kernels {
        Kernels {
            tile: gemm::PORTABLE_TILE,
            gemm: Gemm::Builtin {
                #[cfg(feature = "sgemm")]
                sgemm: gemm::sgemm_generic,
                packed: gemm::packed_gemm_generic,
            },
        }
    }

    /// The kernels of register tile `tile`, if this crate has them and this CPU runs their
    /// instructions.
    pub fn for_tile(tile: gemm::TileShape) -> Option<Kernels> {
        Some(Kernels {
            tile,
            gemm: Gemm::Builtin {
                #[cfg(feature = "sgemm")]
                sgemm: gemm::sgemm(tile)?,
                packed: gemm::packed_gemm(tile)?,
            },
        })
    }

    /// The kernels around an external register tile.
    pub fn external(tile: gemm::ExternalTile) -> Kernels {
        Kernels {
            tile: tile.shape(),
            gemm: Gemm::External(tile),
        }
    }

    /// The fastest kernels this CPU supports, detected once per process (without `std`, the
    /// portable ones).
    pub fn best() -> &'static Kernels {
        #[cfg(feature = "std")]
        {
            static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
            BEST.get_or_init(|| {
                gemm::TILE_SHAPES
                    .into_iter()
                    .find_map(Kernels::for_tile)
                    .unwrap_or_else(Kernels::generic)
            })
        }
        #[cfg(not(feature = "std"))]
        {
            static GENERIC: Kernels = Kernels::generic();
            &GENERIC
        }
    }

    /// Kernels whose tile reads operands packed as `packing` says: these, or the best built-in
    /// ones that do; an error names the tiles and the CPU features they need otherwise.
    pub fn for_packing(&self, packing: gemm::Packing) -> Result<Kernels, String> {
        if packing.fits(self.tile) {
            return Ok(*self);
        }
        let fitting = || gemm::TILE_SHAPES.into_iter().filter(|t| packing.fits(*t));
        fitting().find_map(Kernels::for_tile).ok_or_else(|| {
            let tiles: Vec<String> = fitting()
                .map(|t| format!("{} ({})", t.isa, t.features.join(",")))
                .collect();
            format!(
                "weights were packed for {packing} strips, whose tiles ({}) this CPU or build cannot run",
                tiles.join(" or ")
            )
        })
    }

    /// Whether the tile reads strided and gathered operands in place; the drivers pack them
    /// for one that does not (an external tile), so callers should then pass them in as few
    /// calls as they can.
    pub fn reads_operands_in_place(&self) -> bool {
        matches!(self.gemm, Gemm::Builtin { .. })
    }

    /// `C[m×n] = A·B` (or `+=`), as [`gemm::sgemm_generic`] (the `sgemm` feature).
    ///
    /// # Safety
    /// As [`gemm::sgemm_generic`].
    #[cfg(feature = "sgemm")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn sgemm(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &Matrix,
        b: &Matrix,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: forwarded contract; built-in kernels were chosen for this CPU.
        unsafe {
            match self.gemm {
                Gemm::Builtin { sgemm, .. } => sgemm(m, n, k, a, b, c, ldc, accumulate),
                Gemm::External(t) => gemm::sgemm_external(t, m, n, k, a, b, c, ldc, accumulate),
            }
        }
    }

    /// `C[m×n] = lhs·rhs` (`+=` where `c` accumulates), packed operands in [`Kernels::tile`]'s layout, as
    /// [`gemm::packed_gemm`]'s kernels.
    ///
    /// # Safety
    /// As [`gemm::PackedGemmFn`]: C's `m×n` elements must be writable by this call alone;
    /// operands are checked.
    pub unsafe fn packed_gemm(
        &self,
        m: usize,
        n: usize,
        k: usize,
        lhs: gemm::Lhs,
        rhs: gemm::Rhs,
        c: gemm::MatrixMut,
    ) {
        // SAFETY: forwarded contract; built-in kernels were chosen for this CPU.
        unsafe {
            match self.gemm {
                Gemm::Builtin { packed, .. } => packed(m, n, k, lhs, rhs, c),
                Gemm::External(t) => gemm::packed_gemm_external(t, m, n, k, lhs, rhs, c),
            }
        }
    }
}
