//! CPU microkernels: the inner loops every CPU backend calls.
//!
//! - [`Kernels`] is a table of function pointers. [`Kernels::generic`] fills it with portable
//!   kernels; [`Kernels::best`] then lets each instruction set plug in its own entries after a
//!   run-time CPU feature check (AVX2+FMA, AVX-512). Every ISA kernel is tested against the
//!   generic one.
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
    /// Name of the variant chosen for `sgemm`, for diagnostics.
    pub sgemm_isa: &'static str,
    /// The tile shape of `packed_gemm` (the same instruction set as `sgemm`).
    pub tile: gemm::TileShape,
    /// [`gemm::packed_gemm`] for `tile`: operands packed during the call or in `tile`'s layout.
    pub packed_gemm: gemm::PackedGemmFn,
}

impl Kernels {
    /// Portable kernels only.
    pub fn generic() -> Kernels {
        let tile = gemm::TILE_SHAPES[gemm::TILE_SHAPES.len() - 1];
        Kernels {
            sgemm: gemm::sgemm_generic,
            sgemm_isa: tile.isa,
            tile,
            packed_gemm: gemm::packed_gemm(tile).expect("the portable kernel runs anywhere"),
        }
    }

    /// The fastest kernels this CPU supports, detected once per process.
    pub fn best() -> &'static Kernels {
        static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        BEST.get_or_init(|| {
            let mut k = Kernels::generic();
            #[cfg(target_arch = "x86_64")]
            gemm::x86::plug(&mut k);
            k
        })
    }
}
