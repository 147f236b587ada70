//! The CPU backends' lowering: kernel IR into VMVX's tiled kernel form.
//!
//! `vmvx` and `llvm-cpu` run on the same HAL devices (`local-sync`, `local-task`) with the same
//! microkernels, so they share one lowering, IREE's CPU "lowering config" and encoding
//! materialisation:
//! - [`config`] picks each kernel's workgroup tile (how a dispatch is split over threads);
//! - [`channels_last`] stores the images around depthwise convolutions channels-last;
//! - [`copied_inputs`] drops layout copies (transposes) into convolutions that read the
//!   copied image where it lies;
//! - [`data_tiling`] packs constant GEMM operands into the target CPU's register-tile strips
//!   at compile time, chooses each convolution's GEMM orientation, and inserts a `ConvBand`
//!   dispatch where laying a convolution's input out once beats every workgroup doing it;
//! - [`attention`] fuses a scores matmul, its softmax and the product with the values into one
//!   dispatch whose workgroups keep their scores in scratch;
//! - [`pointwise_depthwise`] fuses a pointwise convolution into the depthwise convolution that
//!   alone reads its result, whose workgroups keep the rows they read in scratch;
//! - [`residual`] has a matmul or convolution whose epilogue adds a residual nothing reads
//!   later compute in the residual's storage, adding its product to it.
//!
//! The result is `Dispatches<kiln_vmvx::Kernel>`: the same storages and operands as the kernel
//! IR (plus packed constants and laid-out bands; fusions leave the storages of the results
//! they keep in scratch unused, residuals added in place those of the residuals), which the `vmvx` backend encodes as it is and
//! `llvm-cpu` compiles to native code.

pub mod attention;
pub mod channels_last;
pub mod copied_inputs;
pub mod data_tiling;
pub mod pointwise_depthwise;
pub mod residual;
mod uses;

pub use kiln_vmvx::tile_config as config;

use kiln_kernel::{Dispatch, Dispatches, Op, Sizes, StorageId, Symbolic, View};
use kiln_types::HostTensor;
use kiln_ukernel::gemm::TileShape;
use kiln_vmvx::format::{self as vmvx, ConvGemm, KernelOp};

pub use data_tiling::PackedConstants;

/// Lowers one function's dispatches for a CPU target: workgroup tiles for every kernel, then,
/// when `tile` names the target's register tile, data tiling of the constant weights
/// (`constants` are the program's; packed ones are added to `packed`).
///
/// ```
/// use kiln_kernel::{Body, Dispatch, Dispatches, Inst, Op, ReduceFn, Storage, StorageId, StorageKind, View};
/// use kiln_types::ElementType::F32;
/// let storage = |kind| Storage { kind, element_type: F32, elements: 1 << 20 };
/// let copy = Op::Generic {
///     shape: vec![1024, 1024], reduction_dims: 0, reduce: ReduceFn::Sum,
///     inputs: vec![View::contiguous(0, 0, F32, &[1024, 1024])],
///     outputs: vec![View::contiguous(1, 0, F32, &[1024, 1024])],
///     body: Body { insts: vec![Inst::Input(0)], results: vec![0] },
/// };
/// let d = Dispatches {
///     storages: vec![storage(StorageKind::Param(0)), storage(StorageKind::Computed)],
///     dispatches: vec![Dispatch::over_storages(copy)],
///     results: vec![StorageId(1)],
/// };
/// let cpu = kiln_codegen_cpu::lower(&d, &[], None, &mut kiln_codegen_cpu::PackedConstants::new(0));
/// assert_eq!(cpu.dispatches[0].kernel.workgroup_count(), 32);
/// ```
pub fn lower(
    d: &Dispatches<Op>,
    constants: &[HostTensor],
    tile: Option<TileShape>,
    packed: &mut PackedConstants,
) -> Dispatches<vmvx::Kernel> {
    let mut cpu = untiled_all(d);
    data_tiling::pack_integer_weights(&mut cpu, constants, packed);
    if let Some(tile) = tile {
        channels_last::lay_out_channels_last(&mut cpu, constants, tile);
        copied_inputs::read_copied_inputs_in_place(&mut cpu, constants, tile);
        data_tiling::pack_weights(&mut cpu, constants, tile, packed);
    }
    attention::fuse_attention(&mut cpu);
    if tile.is_some() {
        pointwise_depthwise::fuse_pointwise_depthwise(&mut cpu);
    }
    for d in &mut cpu.dispatches {
        d.kernel.choose_tiles();
    }
    if tile.is_some() {
        data_tiling::lay_out_conv_inputs(&mut cpu);
    }
    residual::add_residuals_in_place(&mut cpu);
    cpu
}

/// Lowers the dispatches of a function whose sizes are known only at run time: the VMVX
/// kernels keep their sizes as expressions, and get their workgroup tiles when a dispatch
/// binds them to actual sizes (`Kernel::bind`). Constant weights are packed for `tile` as
/// [`lower`] packs them (their sizes are known); convolution inputs are read in place.
pub fn lower_symbolic(
    d: &Dispatches<Op<Symbolic>, Symbolic>,
    constants: &[HostTensor],
    tile: Option<TileShape>,
    packed: &mut PackedConstants,
) -> Dispatches<vmvx::Kernel<Symbolic>, Symbolic> {
    let mut cpu = untiled_all(d);
    data_tiling::pack_integer_weights(&mut cpu, constants, packed);
    if let Some(tile) = tile {
        data_tiling::pack_weights(&mut cpu, constants, tile, packed);
    }
    cpu
}

/// Every dispatch's VMVX kernel, tiles not chosen yet.
fn untiled_all<Z: Sizes>(d: &Dispatches<Op<Z>, Z>) -> Dispatches<vmvx::Kernel<Z>, Z> {
    let Ok(cpu) = d.map(|i, dispatch| Ok::<_, std::convert::Infallible>(untiled(i, dispatch)));
    cpu
}

/// The VMVX kernel of a kernel IR dispatch, its workgroup tiles not chosen yet (zero).
fn untiled<Z: Sizes>(index: usize, d: &Dispatch<Op<Z>>) -> vmvx::Kernel<Z> {
    let epilogue = |e: &Option<kiln_kernel::Epilogue<Z>>| {
        e.as_ref().map(|e| vmvx::Epilogue {
            inputs: e.inputs.iter().map(view).collect(),
            body: e.body.clone(),
        })
    };
    let op = match &d.kernel {
        Op::Generic {
            shape,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
        } => KernelOp::Generic {
            shape: shape.clone(),
            tile: vec![0; shape.len()],
            reduction_dims: *reduction_dims,
            reduce: *reduce,
            inputs: inputs.iter().map(view).collect(),
            outputs: outputs.iter().map(view).collect(),
            body: body.clone(),
        },
        Op::MatMul {
            a,
            b,
            c,
            epilogue: e,
        } => KernelOp::MatMul {
            a: view(a),
            b: view(b),
            c: view(c),
            tile_m: 0,
            tile_n: 0,
            accumulate: false,
            epilogue: epilogue(e),
        },
        Op::Conv2d {
            x,
            w,
            y,
            strides,
            pads,
            dilations,
            groups,
            epilogue: e,
        } => KernelOp::Conv2d {
            x: view(x),
            w: view(w),
            y: view(y),
            strides: *strides,
            pads: *pads,
            dilations: *dilations,
            groups: *groups,
            gemm: ConvGemm::ChannelRows,
            tile_co: 0,
            tile_oh: 0,
            accumulate: false,
            epilogue: epilogue(e),
        },
        Op::Pool2d {
            x,
            y,
            max,
            kernel,
            strides,
            pads,
            count_include_pad,
            epilogue: e,
        } => KernelOp::Pool2d {
            x: view(x),
            y: view(y),
            max: *max,
            kernel: *kernel,
            strides: *strides,
            pads: *pads,
            count_include_pad: *count_include_pad,
            epilogue: epilogue(e),
        },
        Op::Softmax { x, y, epilogue: e } => KernelOp::Softmax {
            x: view(x),
            y: view(y),
            epilogue: epilogue(e),
        },
        Op::LayerNorm {
            x,
            y,
            epsilon,
            epilogue: e,
        } => KernelOp::LayerNorm {
            x: view(x),
            y: view(y),
            epsilon: *epsilon,
            epilogue: epilogue(e),
        },
        Op::Gather { data, indices, out } => KernelOp::Gather {
            data: view(data),
            indices: view(indices),
            out: view(out),
        },
        Op::Recurrent {
            proj,
            weights,
            h0,
            c0,
            biases,
            y,
            cell,
        } => KernelOp::Recurrent {
            proj: view(proj),
            weights: view(weights),
            h0: view(h0),
            c0: view(c0),
            biases: view(biases),
            y: view(y),
            cell: cell.clone(),
        },
    };
    vmvx::Kernel {
        name: format!("dispatch_{index}"),
        op,
    }
}

fn view<Z: Sizes>(v: &View<Z>) -> vmvx::View<Z> {
    vmvx::View {
        binding: v.operand,
        offset: v.offset.clone(),
        element_type: v.element_type,
        shape: v.shape.clone(),
        strides: v.strides.clone(),
    }
}

/// Renumbers a lowered dispatch's operands in order of first appearance in its views (the
/// binding order), dropping operands no view reads any more.
fn renumber<Z: Sizes>(d: &mut Dispatch<vmvx::Kernel<Z>>) {
    let storages: Vec<StorageId> = d
        .kernel
        .views()
        .iter()
        .map(|v| d.operands[v.binding as usize])
        .collect();
    let (operands, numbers) = kiln_kernel::number_operands(storages);
    for (v, n) in d.kernel.views_mut().into_iter().zip(numbers) {
        v.binding = n;
    }
    d.operands = operands;
}

/// The lowered form of a CPU kernel: VMVX's kernel, tiles and packed layouts included.
pub use kiln_vmvx::format::Kernel as CpuKernel;

/// The CPU backends' lowered kernel form, for the code generators that compile it (llvm-cpu):
/// VMVX's kernel types, its executable (which native executables carry for their named ops)
/// and the CPU family's workgroup → tile mapping.
pub mod lowered {
    pub use kiln_vmvx::format::*;
    pub use kiln_vmvx::tiling;
    pub use kiln_vmvx::Executable;
}

/// The storages a lowered dispatch writes.
pub fn written<Z: Sizes>(d: &Dispatch<vmvx::Kernel<Z>>) -> Vec<StorageId> {
    d.kernel
        .outputs()
        .iter()
        .map(|v| d.operands[v.binding as usize])
        .collect()
}

/// The one-dimensional workgroup grid a lowered kernel needs; `None` past 2^32 workgroups.
pub fn workgroups(kernel: &CpuKernel) -> Option<[u32; 3]> {
    u32::try_from(kernel.workgroup_count())
        .ok()
        .map(|n| [n, 1, 1])
}

/// The `vmvx` backend's executable: the lowered kernels encoded as they are.
pub fn encode_vmvx(kernels: Vec<CpuKernel>) -> Vec<u8> {
    kiln_vmvx::Executable { kernels }.encode()
}

/// The `vmvx` backend's executable for kernels whose sizes are expressions over symbols.
pub fn encode_vmvx_symbolic(kernels: Vec<vmvx::Kernel<Symbolic>>) -> Vec<u8> {
    kiln_vmvx::Executable { kernels }.encode()
}

/// The format string of VMVX executables.
pub const VMVX_FORMAT: &str = kiln_vmvx::FORMAT;

/// The format string of `vmvx-inline` executables (VMVX bytes the inline runtime runs).
pub const VMVX_INLINE_FORMAT: &str = kiln_vmvx::INLINE_FORMAT;

#[cfg(test)]
mod tests {
    use super::*;

    /// Kernel IR text in, the CPU lowering (VMVX kernels with their tiles) out.
    fn check(kernel_ir: &str, expect: expect_test::Expect) {
        // The dispatches' storages; their sizes do not matter to this lowering.
        let storages = "%s0 = param 0 [1xf32]\n%s1 = param 1 [1xf32]\n%s2 = computed [1xf32]\n";
        let d = kiln_kernel::parse(&format!("{storages}{kernel_ir}")).unwrap();
        let cpu = lower(&d, &[], None, &mut PackedConstants::new(0));
        let out: Vec<String> = cpu
            .dispatches
            .iter()
            .map(|d| format!("{} workgroups {}", d.kernel, d.kernel.workgroup_count()))
            .collect();
        expect.assert_eq(&out.join("\n"));
    }

    #[test]
    fn workgroup_tiles() {
        check(
            "dispatch_0(%s0, %s1) = generic [64x1024] (#0[64x1024xf32]) -> (#1[64x1024xf32]) { r0 = in0; yield r0 }
             dispatch_1(%s0, %s1, %s2) = matmul #0[1x512x256xf32], #1[1x256x1000xf32] -> #2[1x512x1000xf32]
             dispatch_2(%s0, %s1, %s2) = matmul #0[1x8x256xf32], #1[1x256x1000xf32] -> #2[1x8x1000xf32]
             dispatch_3(%s0, %s1, %s2) = conv2d #0[1x64x56x56xf32], #1[64x64x3x3xf32] -> #2[1x64x56x56xf32] strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1
             dispatch_4(%s0, %s1) = softmax #0[100x10x1xf32] -> #1[100x10x1xf32]",
            expect_test::expect![[r#"
                dispatch_0 = generic [64x1024] tile [32x1024] (#0[64x1024xf32]) -> (#1[64x1024xf32]) { r0 = in0; yield r0 } workgroups 2
                dispatch_1 = matmul #0[1x512x256xf32], #1[1x256x1000xf32] -> #2[1x512x1000xf32] tile 256x512 workgroups 4
                dispatch_2 = matmul #0[1x8x256xf32], #1[1x256x1000xf32] -> #2[1x8x1000xf32] tile 8x512 workgroups 2
                dispatch_3 = conv2d #0[1x64x56x56xf32], #1[64x64x3x3xf32] -> #2[1x64x56x56xf32] strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 tile 64x7 workgroups 8
                dispatch_4 = softmax #0[100x10x1xf32] -> #1[100x10x1xf32] workgroups 7"#]],
        );
    }
}
