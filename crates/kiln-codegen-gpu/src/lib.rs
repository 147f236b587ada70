//! The GPU backends' lowering config, written once for every GPU code generator.
//!
//! IREE's GPU paths share one target-limits record (`#iree_gpu.target`) and one set of tiling
//! and distribution decisions, and split only at emission. kiln does the same: [`GpuTarget`]
//! is a GPU family's limits, and [`configure`] decides, for one kernel IR op, its thread
//! mapping ([`Mapping`]), workgroup size, workgroup count and shared memory; where each
//! invocation works under that mapping ([`Config::element_index`], [`Config::row_position`],
//! [`Config::gemm_position`], [`decompose`]) and what it computes there ([`emit()`]: every
//! op's kernel, its reductions, shared-memory tiles and epilogues) are written once too, over
//! a [`GpuBuilder`] each generator implements for its instructions. SPIR-V implements it, and
//! so do PTX and AMDGPU through LLVM; the WebGPU and Metal generators will take the same
//! [`Config`] and kernels rather than writing them again.
//!
//! Design choices (DESIGN.md §9):
//! - The workgroup count is a function of the op's sizes only ([`Config::workgroups`]), so a
//!   host can compute it without the shader; for an op whose sizes are known only at run time
//!   it is an expression over the symbols (the config is generic over `kiln_types::sizes`),
//!   and the index math reads sizes as values of the generated code.
//! - Shared memory comes from static tile bounds only ([`Config::shared_memory`]), never from a
//!   tensor size, and is checked against the target here, before any code is generated.

pub mod emit;
mod index;

pub use emit::{emit, GpuBuilder, GpuSizes, MatrixOperand};
pub use index::{decompose, GemmPosition, IndexBuilder, RowPosition};
use kiln_kernel::{reg_kind, Op, RegKind, Sizes, Static};
use kiln_types::ElementType;

/// Errors of [`configure`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GpuError {
    #[error("a {op} over {extent} does not fit a GPU dispatch")]
    TooLarge { op: &'static str, extent: String },
    #[error(
        "a {op} kernel runs on CPU targets only (the importer forms it for them; GPU targets \
         take the op as a loop of the control program)"
    )]
    CpuOnly { op: &'static str },
    #[error("needs {needed} bytes of shared memory; target '{target}' has {available}")]
    SharedMemory {
        needed: u64,
        target: &'static str,
        available: u32,
    },
}

/// A GPU family's code generation target: its subgroup size and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuTarget {
    pub name: &'static str,
    pub description: &'static str,
    pub subgroup_size: u32,
    pub max_workgroup_invocations: u32,
    /// Bytes of workgroup shared memory.
    pub max_shared_memory: u32,
    /// Element types whose products the target's subgroup matrix units compute
    /// (`16×16×16` tiles summed in f32: NVIDIA's tensor cores through WMMA); matmuls and
    /// convolutions of them take [`Mapping::MatrixTiles`]. Empty where the generator has no
    /// matrix instructions.
    pub matrix_types: &'static [ElementType],
}

impl GpuTarget {
    /// Invocations per workgroup for elementwise and row kernels: four subgroups, a power of
    /// two within the device limit.
    pub fn workgroup_size(&self) -> u32 {
        let want = (4 * self.subgroup_size).min(self.max_workgroup_invocations);
        1 << (31 - want.max(1).leading_zeros())
    }
    /// Side of the square output tile of matmul and convolution workgroups.
    pub fn gemm_tile(&self) -> u32 {
        if self.max_workgroup_invocations >= 256 {
            16
        } else {
            8
        }
    }
}

/// Rows shorter than this get one invocation each instead of a whole workgroup.
pub const GROUP_REDUCE_MIN_LEN: u64 = 32;

/// How an op's work is spread over invocations; sizes are `N` (numbers, or expressions over
/// symbols).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapping<N = u64> {
    /// One invocation per element of `domain` (row-major, linear invocation id): elementwise
    /// generics, pooling (the output's elements), gather.
    Elements { domain: Vec<N> },
    /// `rows` rows of `len` values, `group` invocations per row striding over it and combining
    /// through shared memory with a tree of barriers when `group > 1`; a workgroup takes
    /// `workgroup_size / group` consecutive rows. Reductions, softmax, layer norm.
    Rows { rows: N, len: N, group: u32 },
    /// `batch` GEMMs `m×k · k×n` by workgroups of `tile×tile` invocations, each invocation
    /// computing `per_thread[0]×per_thread[1]` outputs `tile` rows and columns apart, so a
    /// workgroup's output tile is `tile·per_thread[0] × tile·per_thread[1]` (tiles along `n`
    /// fastest, then `m`, then batch); A and B are staged through shared memory `tile` deep.
    /// Matmul, and convolution as implicit GEMM.
    GemmTiles {
        batch: N,
        m: N,
        n: N,
        k: N,
        tile: u32,
        per_thread: [u32; 2],
    },
    /// `batch` GEMMs `m×k · k×n` of `element` operands (f16 or bf16) on the subgroup matrix
    /// units: [`MATRIX_TILE`] output tiles, one per workgroup (ordered as [`Mapping::GemmTiles`]),
    /// each split among [`MATRIX_WARPS`] subgroups that multiply `16×16×16` fragments held in
    /// registers; operand tiles are staged through shared memory in `element`, sums are f32.
    MatrixTiles {
        batch: N,
        m: N,
        n: N,
        k: N,
        element: ElementType,
    },
}

/// The `m`, `n` and `k` extents of a [`Mapping::MatrixTiles`] workgroup's tile.
pub const MATRIX_TILE: [u32; 3] = [128, 128, 32];
/// Subgroups of a [`Mapping::MatrixTiles`] workgroup along `m` and along `n`.
pub const MATRIX_WARPS: [u32; 2] = [2, 4];
/// The side of a matrix unit's fragment (`16×16×16` multiply-accumulate).
pub const MATRIX_FRAGMENT: u32 = 16;
/// Elements of padding after each row of a staged operand tile, so the fragments' loads
/// from shared memory spread over its banks (16 bytes keeps their 32-byte alignment).
pub const MATRIX_PAD: u32 = 8;

/// Most outputs per invocation of [`Mapping::GemmTiles`] along `m` and along `n`.
pub const GEMM_MAX_PER_THREAD: u32 = 4;
/// Workgroups a [`Mapping::GemmTiles`] dispatch keeps when its invocations take more outputs
/// each, so a large GPU's compute units all have work.
pub const GEMM_MIN_WORKGROUPS: u64 = 128;

/// Operands smaller than this along `m` or `k` stay on the scalar GEMM: a matrix tile would
/// be mostly padding.
const MATRIX_MIN_EXTENT: u64 = 16;

/// An op's GPU lowering config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config<N = u64> {
    pub mapping: Mapping<N>,
    /// Invocations per workgroup (one-dimensional).
    pub workgroup_size: u32,
    /// Bytes per value of a row group's shared partial results (4 for f32, 8 for i64).
    pub partial_bytes: u32,
}

impl Config {
    /// Workgroups a dispatch needs (linear); `u64::MAX` when the count overflows, which no
    /// grid accepts.
    pub fn workgroups(&self) -> u64 {
        self.workgroups_in::<Static>().unwrap_or(u64::MAX)
    }
}

impl<N: Clone> Config<N> {
    /// Workgroups a dispatch needs (linear), in the size family `Z` whose extents are `N`;
    /// `None` when a static count overflows.
    pub fn workgroups_in<Z: Sizes<Extent = N>>(&self) -> Option<N> {
        let wg = self.workgroup_size as u64;
        match &self.mapping {
            Mapping::Elements { domain } => Some(Z::ceil_div(&Z::product(domain)?, wg)),
            Mapping::Rows { rows, group, .. } => Some(Z::ceil_div(rows, wg / *group as u64)),
            Mapping::GemmTiles {
                batch,
                m,
                n,
                tile,
                per_thread: [pm, pn],
                ..
            } => {
                let (tm, tn) = ((tile * pm) as u64, (tile * pn) as u64);
                Z::product(&[batch.clone(), Z::ceil_div(m, tm), Z::ceil_div(n, tn)])
            }
            Mapping::MatrixTiles { batch, m, n, .. } => {
                let [tm, tn, _] = MATRIX_TILE.map(u64::from);
                Z::product(&[batch.clone(), Z::ceil_div(m, tm), Z::ceil_div(n, tn)])
            }
        }
    }

    /// Bytes of workgroup shared memory the mapping stages through.
    pub fn shared_memory(&self) -> u64 {
        match &self.mapping {
            Mapping::Elements { .. } => 0,
            Mapping::Rows { group, .. } if *group > 1 => {
                self.workgroup_size as u64 * self.partial_bytes as u64
            }
            Mapping::Rows { .. } => 0,
            Mapping::GemmTiles {
                tile,
                per_thread: [pm, pn],
                ..
            } => {
                let (t, pm, pn) = (*tile as u64, *pm as u64, *pn as u64);
                // A's rows are padded by one, so staging it is free of bank conflicts.
                (t * (t * pm + 1) + t * t * pn) * 4
            }
            Mapping::MatrixTiles { element, .. } => {
                let [tm, tn, tk] = MATRIX_TILE.map(u64::from);
                let pad = MATRIX_PAD as u64;
                let operands = (tm * (tk + pad) + tk * (tn + pad)) * element.byte_size() as u64;
                let fragment = (MATRIX_FRAGMENT as u64).pow(2);
                let scratch = (MATRIX_WARPS[0] * MATRIX_WARPS[1]) as u64 * fragment * 4;
                operands + scratch
            }
        }
    }
}

/// Sizes at which a row length known only at run time is taken to be, to choose between one
/// invocation and a whole workgroup per row (either is correct at every length).
const TYPICAL_SYMBOL_SIZE: u64 = 128;

/// The lowering config of `op` on `target`.
///
/// ```
/// use kiln_codegen_gpu::{configure, GpuTarget, Mapping};
/// use kiln_kernel::{Op, View};
/// use kiln_types::ElementType::F32;
/// let target = GpuTarget { name: "t", description: "", subgroup_size: 32,
///                          max_workgroup_invocations: 1024, max_shared_memory: 48 << 10,
///                          matrix_types: &[] };
/// let softmax = Op::Softmax { x: View::contiguous(0, 0, F32, &[8, 1000, 1]),
///                             y: View::contiguous(1, 0, F32, &[8, 1000, 1]), epilogue: None };
/// let c = configure(&softmax, &target)?;
/// assert_eq!(c.mapping, Mapping::Rows { rows: 8, len: 1000, group: 128 });
/// assert_eq!((c.workgroups(), c.shared_memory()), (8, 512));
/// # Ok::<(), kiln_codegen_gpu::GpuError>(())
/// ```
pub fn configure<Z: Sizes>(op: &Op<Z>, target: &GpuTarget) -> Result<Config<Z::Extent>, GpuError> {
    let wg = target.workgroup_size();
    let product = |dims: &[Z::Extent]| {
        Z::product(dims).ok_or_else(|| GpuError::TooLarge {
            op: op.name(),
            extent: format!("{dims:?}"),
        })
    };
    let rows = |rows: Z::Extent, len: Z::Extent, kind: RegKind| {
        let short = Z::typical_extent(&len, TYPICAL_SYMBOL_SIZE) < GROUP_REDUCE_MIN_LEN;
        let group = if short || wg == 1 { 1 } else { wg };
        Config {
            mapping: Mapping::Rows { rows, len, group },
            workgroup_size: wg,
            partial_bytes: if kind == RegKind::F { 4 } else { 8 },
        }
    };
    let elements = |domain: &[Z::Extent]| Config {
        mapping: Mapping::Elements {
            domain: domain.to_vec(),
        },
        workgroup_size: wg,
        partial_bytes: 0,
    };
    let tile = target.gemm_tile();
    // Outputs per invocation along m and n (at their typical sizes): doubled, the longer dim
    // first, while the workgroup's tile stays within the dim, up to GEMM_MAX_PER_THREAD, and
    // the dispatch keeps GEMM_MIN_WORKGROUPS.
    let per_thread = |batch: &Z::Extent, m: &Z::Extent, n: &Z::Extent| {
        let typical = |e| Z::typical_extent(e, TYPICAL_SYMBOL_SIZE).max(1);
        let extents = [typical(m), typical(n)];
        let count = |p: [u32; 2]| {
            let tiles = |d: usize| extents[d].div_ceil((tile * p[d]) as u64);
            typical(batch) * tiles(0) * tiles(1)
        };
        let order = if extents[0] >= extents[1] {
            [0, 1]
        } else {
            [1, 0]
        };
        let mut p = [1, 1];
        'grow: loop {
            for d in order {
                let mut q = p;
                q[d] *= 2;
                let fits = q[d] <= GEMM_MAX_PER_THREAD && extents[d] >= (tile * q[d]) as u64;
                if fits && count(q) >= GEMM_MIN_WORKGROUPS {
                    p = q;
                    continue 'grow;
                }
            }
            break p;
        }
    };
    let gemm = |batch: Z::Extent, m: Z::Extent, n: Z::Extent, k| Config {
        mapping: Mapping::GemmTiles {
            per_thread: per_thread(&batch, &m, &n),
            batch,
            m,
            n,
            k,
            tile,
        },
        workgroup_size: tile * tile,
        partial_bytes: 0,
    };
    // The matrix units take a GEMM whose operands are both of one type they multiply.
    let matrix = |a: ElementType, b: ElementType, m: &Z::Extent, k: &Z::Extent| {
        let large = |n| Z::typical_extent(n, TYPICAL_SYMBOL_SIZE) >= MATRIX_MIN_EXTENT;
        let warps = MATRIX_WARPS[0] * MATRIX_WARPS[1] * target.subgroup_size;
        (a == b
            && target.matrix_types.contains(&a)
            && warps <= target.max_workgroup_invocations
            && large(m)
            && large(k))
        .then_some((a, warps))
    };
    let gemm_on =
        |batch, m: Z::Extent, n, k: Z::Extent, types: (ElementType, ElementType)| match matrix(
            types.0, types.1, &m, &k,
        ) {
            Some((element, size)) => Config {
                mapping: Mapping::MatrixTiles {
                    batch,
                    m,
                    n,
                    k,
                    element,
                },
                workgroup_size: size,
                partial_bytes: 0,
            },
            None => gemm(batch, m, n, k),
        };
    let config = match op {
        Op::Generic {
            shape,
            reduction_dims,
            outputs,
            ..
        } => {
            let p = shape.len() - *reduction_dims as usize;
            if *reduction_dims == 0 {
                elements(shape)
            } else {
                let kind = outputs
                    .first()
                    .map_or(RegKind::F, |o| reg_kind(o.element_type));
                rows(product(&shape[..p])?, product(&shape[p..])?, kind)
            }
        }
        Op::MatMul { a, b, c, .. } => gemm_on(
            c.shape[0].clone(),
            c.shape[1].clone(),
            c.shape[2].clone(),
            a.shape[2].clone(),
            (a.element_type, b.element_type),
        ),
        Op::Conv2d {
            x, w, y, groups, ..
        } => {
            let groups = (*groups).max(1);
            gemm_on(
                product(&[y.shape[0].clone(), Z::extent_of(groups)])?,
                Z::floor_div(&w.shape[0], groups),
                product(&y.shape[2..4])?,
                product(&w.shape[1..4])?,
                (w.element_type, x.element_type),
            )
        }
        Op::Pool2d { y, .. } => elements(&y.shape),
        Op::Softmax { x, .. } => rows(
            product(&[x.shape[0].clone(), x.shape[2].clone()])?,
            x.shape[1].clone(),
            RegKind::F,
        ),
        Op::LayerNorm { x, .. } => rows(x.shape[0].clone(), x.shape[1].clone(), RegKind::F),
        Op::Gather { out, .. } => elements(&out.shape),
        Op::Recurrent { .. } => return Err(GpuError::CpuOnly { op: op.name() }),
    };
    if config.shared_memory() > target.max_shared_memory as u64 {
        return Err(GpuError::SharedMemory {
            needed: config.shared_memory(),
            target: target.name,
            available: target.max_shared_memory,
        });
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kernel IR text in, each dispatch's GPU config out.
    fn check(kernel_ir: &str, expect: expect_test::Expect) {
        let target = GpuTarget {
            name: "test",
            description: "",
            subgroup_size: 32,
            max_workgroup_invocations: 1024,
            max_shared_memory: 48 << 10,
            matrix_types: &[ElementType::F16],
        };
        // The dispatches' storages; their sizes do not matter to this lowering.
        let storages = "%s0 = param 0 [1xf32]\n%s1 = param 1 [1xf32]\n%s2 = computed [1xf32]\n";
        let d = kiln_kernel::parse(&format!("{storages}{kernel_ir}")).unwrap();
        let out: Vec<String> = d
            .dispatches
            .iter()
            .map(|d| {
                let c = configure(&d.kernel, &target).unwrap();
                format!(
                    "{:?} size {} workgroups {} shared {}",
                    c.mapping,
                    c.workgroup_size,
                    c.workgroups(),
                    c.shared_memory()
                )
            })
            .collect();
        expect.assert_eq(&out.join("\n"));
    }

    #[test]
    fn every_mapping() {
        check(
            "dispatch_0(%s0, %s1) = generic [1000x3] (#0[1000x3xf32]) -> (#1[1000x3xf32]) { r0 = in0; r1 = exp r0; yield r1 }
             dispatch_1(%s0, %s1) = generic [3x1000] reduce sum over last 1 (#0[3x1000xf32]) -> (#1[3x1000xf32]/1,0) { r0 = in0; yield r0 }
             dispatch_2(%s0, %s1) = generic [100x8] reduce max over last 1 (#0[100x8xi64]) -> (#1[100x8xi64]/1,0) { r0 = in0; yield r0 }
             dispatch_3(%s0, %s1, %s2) = matmul #0[2x100x64xf32], #1[2x64x40xf32] -> #2[2x100x40xf32]
             dispatch_4(%s0, %s1, %s2) = conv2d #0[1x8x9x9xf32], #1[16x4x3x3xf32] -> #2[1x16x5x5xf32] strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] groups 2
             dispatch_5(%s0, %s1) = layer_norm #0[8x256xf32] -> #1[8x256xf32] epsilon 1e-5
             dispatch_6(%s0, %s1, %s2) = matmul #0[2x300x72xf16], #1[2x72x130xf16] -> #2[2x300x130xf16]
             dispatch_7(%s0, %s1, %s2) = matmul #0[2x300x8xf16], #1[2x8x130xf16] -> #2[2x300x130xf16]
             dispatch_8(%s0, %s1, %s2) = matmul #0[2x300x72xbf16], #1[2x72x130xbf16] -> #2[2x300x130xf32]",
            expect_test::expect![[r#"
                Elements { domain: [1000, 3] } size 128 workgroups 24 shared 0
                Rows { rows: 3, len: 1000, group: 128 } size 128 workgroups 3 shared 512
                Rows { rows: 100, len: 8, group: 1 } size 128 workgroups 1 shared 0
                GemmTiles { batch: 2, m: 100, n: 40, k: 64, tile: 16, per_thread: [1, 1] } size 256 workgroups 42 shared 2112
                GemmTiles { batch: 2, m: 8, n: 25, k: 36, tile: 16, per_thread: [1, 1] } size 256 workgroups 4 shared 2112
                Rows { rows: 8, len: 256, group: 128 } size 128 workgroups 8 shared 512
                MatrixTiles { batch: 2, m: 300, n: 130, k: 72, element: F16 } size 256 workgroups 12 shared 27136
                GemmTiles { batch: 2, m: 300, n: 130, k: 8, tile: 16, per_thread: [2, 1] } size 256 workgroups 180 shared 3136
                GemmTiles { batch: 2, m: 300, n: 130, k: 72, tile: 16, per_thread: [2, 1] } size 256 workgroups 180 shared 3136"#]],
        );
    }
}
