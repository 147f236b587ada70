//! CPU microkernels: the inner loops every CPU backend calls.
//!
//! - [`Kernels`] is a table of function pointers for one register tile
//!   ([`gemm::TileShape`]): [`Kernels::generic`] the portable one, [`Kernels::best`] the best
//!   whose instructions (AVX2+FMA, AVX-512) a run-time CPU feature check finds. Every ISA
//!   kernel is tested against the generic one.
//! - [`gemm`] is a packed, register-tiled f32 matrix product (BLIS-style blocking for L1/L2).
//! - [`rows`] holds row-wise kernels: reductions, softmax, layer normalisation, pooling and the
//!   depthwise convolution.
//!
//! Kernels take raw output pointers because the runtime runs workgroups that write disjoint parts
//! of one buffer on several threads at once; callers uphold the documented `# Safety` contracts.

pub mod gemm;
pub mod rows;

pub use gemm::Matrix;

/// Signature of an f32 matrix-product kernel; see [`gemm::sgemm_generic`].
pub type SgemmFn = unsafe fn(usize, usize, usize, &Matrix, &Matrix, *mut f32, usize, bool);

/// The microkernel table.
#[derive(Clone, Copy)]
pub struct Kernels {
    pub sgemm: SgemmFn,
    /// The register tile (and instruction set) of `sgemm` and `packed_gemm`.
    pub tile: gemm::TileShape,
    /// [`gemm::packed_gemm`] for `tile`: operands packed during the call or in `tile`'s layout.
    pub packed_gemm: gemm::PackedGemmFn,
}

impl Kernels {
    /// Portable kernels only.
    pub fn generic() -> Kernels {
        Kernels {
            sgemm: gemm::sgemm_generic,
            tile: gemm::PORTABLE_TILE,
            packed_gemm: gemm::packed_gemm_generic,
        }
    }

    /// The kernels of register tile `tile`, if this CPU runs its instructions.
    pub fn for_tile(tile: gemm::TileShape) -> Option<Kernels> {
        Some(Kernels {
            sgemm: gemm::sgemm(tile)?,
            tile,
            packed_gemm: gemm::packed_gemm(tile)?,
        })
    }

    /// The fastest kernels this CPU supports, detected once per process.
    pub fn best() -> &'static Kernels {
        static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        BEST.get_or_init(|| {
            gemm::TILE_SHAPES
                .into_iter()
                .find_map(Kernels::for_tile)
                .unwrap_or_else(Kernels::generic)
        })
    }
}
