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
}

impl Kernels {
    /// Portable kernels only.
    pub fn generic() -> Kernels {
        Kernels {
            sgemm: gemm::sgemm_generic,
            sgemm_isa: "generic",
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
