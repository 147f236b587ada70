//! The VMVX executable format: kernels over strided views, with a small elementwise bytecode.
//!
//! An executable is a list of [`Kernel`]s; each is one structured op ([`KernelOp`]) that reads
//! and writes [`View`]s of the dispatch's bindings. Elementwise computation is a [`Body`]: SSA
//! scalar instructions that the interpreter evaluates a whole row at a time. Named ops (matmul,
//! convolution, pooling, softmax, layer norm) call microkernels and may carry an elementwise
//! [`Epilogue`] fused after them.

use kiln_module::{ByteReader, ByteWriter, ModuleError};
use kiln_types::ElementType;
use kiln_ukernel::gemm::Packing;
use kiln_ukernel::rows::BandLayout;

/// The format string module files use for VMVX executables.
pub const FORMAT: &str = "vmvx-bytecode";
/// Version 5: pixel-row convolutions read their input planes, never a [`KernelOp::ConvBand`]
/// (4 added `ConvBand`, 3 the GEMM's orientation, [`ConvGemm`]).
const VERSION: u32 = 5;

/// A strided view of a binding: element `idx` is at element offset `offset + Σ idx[d]·strides[d]`.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub binding: u32,
    pub offset: u64,
    pub element_type: ElementType,
    pub shape: Vec<u64>,
    pub strides: Vec<i64>,
}

impl View {
    /// A contiguous row-major view.
    pub fn contiguous(binding: u32, offset: u64, element_type: ElementType, shape: &[u64]) -> View {
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        View {
            binding,
            offset,
            element_type,
            shape: shape.to_vec(),
            strides,
        }
    }

    /// Row-major without gaps (strides of size-1 dims do not matter).
    pub fn is_contiguous(&self) -> bool {
        let c = View::contiguous(self.binding, self.offset, self.element_type, &self.shape);
        self.shape.len() == self.strides.len()
            && (0..self.shape.len()).all(|d| self.shape[d] == 1 || self.strides[d] == c.strides[d])
    }

    /// Lowest and one-past-highest element offsets the view touches (`None` if empty or overflow).
    ///
    /// `Ok(None)` for an empty view; an error if the arithmetic overflows.
    pub fn span(&self) -> Result<Option<(i64, i64)>, String> {
        if self.shape.contains(&0) {
            return Ok(None);
        }
        let overflow = || "a view's extent overflows".to_string();
        let base = i64::try_from(self.offset).map_err(|_| overflow())?;
        let (mut lo, mut hi) = (base, base);
        for (&n, &s) in self.shape.iter().zip(&self.strides) {
            let reach = i64::try_from(n - 1)
                .ok()
                .and_then(|n| n.checked_mul(s))
                .ok_or_else(overflow)?;
            if reach < 0 {
                lo = lo.checked_add(reach).ok_or_else(overflow)?;
            } else {
                hi = hi.checked_add(reach).ok_or_else(overflow)?;
            }
        }
        Ok(Some((lo, hi.checked_add(1).ok_or_else(overflow)?)))
    }

    /// True if no two indices (over dims with extent > 1, except `skip` trailing dims) address
    /// the same element, so workgroups writing disjoint index boxes write disjoint memory.
    pub fn is_injective(&self, skip_trailing: usize) -> bool {
        let n = self.shape.len().saturating_sub(skip_trailing);
        let mut dims: Vec<(u64, u64)> = (0..n)
            .filter(|&d| self.shape[d] > 1)
            .map(|d| (self.strides[d].unsigned_abs(), self.shape[d]))
            .collect();
        dims.sort_unstable();
        let mut reach: u64 = 0;
        for (stride, extent) in dims {
            if stride <= reach {
                return false;
            }
            reach = match stride
                .checked_mul(extent - 1)
                .and_then(|r| r.checked_add(reach))
            {
                Some(r) => r,
                None => return false,
            };
        }
        true
    }
}

pub use kiln_scalar::{reg_kind, BinaryFn, Body, Inst, ReduceFn, RegKind, UnaryFn, MAX_BODY_INSTS};

/// Reads a scalar function stored by its [`UnaryFn::code`]-style number.
fn scalar_fn<T>(code: u8, from: fn(u8) -> Option<T>, what: &str) -> Result<T, ModuleError> {
    from(code).ok_or_else(|| ModuleError::Invalid(format!("unknown {what} code {code}")))
}

/// Elementwise code applied to a named op's output tile: `Input(0)` is the op's result there,
/// `Input(n+1)` is `inputs[n]`, indexed by the output's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Epilogue {
    pub inputs: Vec<View>,
    pub body: Body,
}

/// The structured op of one kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum KernelOp {
    /// `outputs[idx] = body(inputs[idx])` over `shape`; the last `reduction_dims` dims are
    /// reduced with `reduce` (outputs then have stride 0 along them). Workgroups take
    /// `tile`-sized boxes of the parallel dims.
    Generic {
        shape: Vec<u64>,
        tile: Vec<u64>,
        reduction_dims: u32,
        reduce: ReduceFn,
        inputs: Vec<View>,
        outputs: Vec<View>,
        body: Body,
    },
    /// `c[b] = a[b]·b[b]` for views `[B,M,K]`, `[B,K,N]` and a row-major `[B,M,N]`.
    ///
    /// Data tiling: `b` may instead be a constant packed at compile time into right-hand strips,
    /// a contiguous `[B, ceil(N/nr), K, nr]` view (`kiln_ukernel::gemm::pack_rhs` per batch);
    /// then `tile_n` is a multiple of `nr`.
    MatMul {
        a: View,
        b: View,
        c: View,
        tile_m: u64,
        tile_n: u64,
        epilogue: Option<Epilogue>,
    },
    /// NCHW convolution with OIHW weights `[co, ci/groups, kh, kw]` (all contiguous); workgroups
    /// take `tile_co` output channels and `tile_oh` output rows of one image and group.
    ///
    /// Data tiling: `w` may instead be packed at compile time into register-tile strips, a
    /// contiguous `[groups, ceil(co/groups/s), ci/groups, kh, kw, s]` view, per group
    /// `kiln_ukernel::gemm::pack_lhs` (strips of `s = mr`, [`ConvGemm::ChannelRows`]) or
    /// `pack_rhs` of the transposed weights (`s = nr`, [`ConvGemm::PixelRows`]); `tile_co` is
    /// then a multiple of `s`.
    ///
    /// `x` may instead be the rank-1 output of a [`KernelOp::ConvBand`] for this convolution's
    /// window and output size, [`conv_band_len`] values: the input laid out once for every
    /// workgroup (only with weights packed for [`ConvGemm::ChannelRows`]; pixel rows read the
    /// input planes in place).
    Conv2d {
        x: View,
        w: View,
        y: View,
        strides: [u64; 2],
        pads: [u64; 4],
        dilations: [u64; 2],
        groups: u64,
        gemm: ConvGemm,
        tile_co: u64,
        tile_oh: u64,
        epilogue: Option<Epilogue>,
    },
    /// Lays out the NCHW input `x` of a convolution with this window and output size `out`
    /// (`[oh, ow]`) as its GEMM reads it: each channel plane split into stride phases and
    /// zero-padded (`kiln_ukernel::rows::BandLayout` for all output rows), into the rank-1 `y`
    /// of [`conv_band_len`] values. Workgroups take one plane each.
    ConvBand {
        x: View,
        y: View,
        kernel: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        dilations: [u64; 2],
        out: [u64; 2],
    },
    /// NCHW pooling (contiguous); workgroups take one plane each.
    Pool2d {
        x: View,
        y: View,
        max: bool,
        kernel: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        count_include_pad: bool,
        epilogue: Option<Epilogue>,
    },
    /// Softmax along dim 1 of a `[outer, len, inner]` view into a contiguous one.
    Softmax {
        x: View,
        y: View,
        epilogue: Option<Epilogue>,
    },
    /// Layer normalisation of each row of contiguous `[rows, len]` views.
    LayerNorm {
        x: View,
        y: View,
        epsilon: f32,
        epilogue: Option<Epilogue>,
    },
    /// `out[o, n, i] = data[o, indices[n], i]`, negative indices counted from the end.
    Gather {
        data: View,
        indices: View,
        out: View,
    },
}

/// Which way round a convolution's GEMM is: what its rows and columns are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvGemm {
    /// Rows are output channels, columns output pixels: the weights are the left operand,
    /// plain or packed in left-hand strips. Pixels fill the vector lanes, which suits large
    /// images with few channels.
    ChannelRows,
    /// Rows are output pixels, columns output channels: the weights are the right operand,
    /// packed in right-hand strips. Channels fill the vector lanes and pixels are read in place
    /// one by one, which suits small images with many channels.
    PixelRows,
}

/// One entry point of an executable.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    pub op: KernelOp,
}

/// The part of a convolution's output one workgroup computes: image, group, output channels
/// `co0..co1` within the group, output rows `oy0..oy1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTile {
    pub image: u64,
    pub group: u64,
    pub group_channels: u64,
    pub co0: u64,
    pub co1: u64,
    pub oy0: u64,
    pub oy1: u64,
}

impl ConvTile {
    /// Workgroup `wg`'s tile of convolution `kernel` (its [`Kernel::grid`]).
    pub fn of(kernel: &Kernel, wg: u64) -> ConvTile {
        let grid = kernel.grid();
        let (lo, hi) = grid.tile_box(wg);
        ConvTile {
            image: lo[0],
            group: lo[1],
            group_channels: grid.domain[2],
            co0: lo[2],
            co1: hi[2],
            oy0: lo[3],
            oy1: hi[3],
        }
    }
}

/// A convolution weight's `[ci/groups, kh, kw]`, plain or packed.
pub fn conv_weight_dims(w: &View) -> [u64; 3] {
    let s = if w.shape.len() == 6 {
        &w.shape[2..5]
    } else {
        &w.shape[1..4]
    };
    [s[0], s[1], s[2]]
}

/// The window of a convolution or pooling op, as the row kernels take it.
pub fn window(
    kernel: [u64; 2],
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
) -> kiln_ukernel::rows::Window {
    kiln_ukernel::rows::Window {
        kernel: kernel.map(|v| v as usize),
        strides: strides.map(|v| v as usize),
        pads: [pads[0] as usize, pads[1] as usize],
        dilations: dilations.map(|v| v as usize),
    }
}

/// The largest kernel extent, stride, dilation or padding a convolution or `ConvBand` window
/// may have: far beyond any model's, small enough that no layout computed from a window
/// overflows.
const MAX_WINDOW: u64 = 1 << 16;

/// Whether a window's fields are within [`MAX_WINDOW`] (and positive where they must be).
fn window_in_bounds(
    kernel: [u64; 2],
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
) -> bool {
    let positive = |v: &u64| (1..=MAX_WINDOW).contains(v);
    kernel
        .iter()
        .chain(&strides)
        .chain(&dilations)
        .all(positive)
        && pads.iter().all(|&p| p <= MAX_WINDOW)
}

/// The band layout (`kiln_ukernel::rows::BandLayout`) of `rows` output rows `ow` wide, for a
/// window within [`MAX_WINDOW`] and sizes that fit in 32 bits.
fn band_layout(win: &kiln_ukernel::rows::Window, rows: u64, ow: u64) -> Option<BandLayout> {
    let size = |v: u64| usize::try_from(v).ok().filter(|&v| v <= u32::MAX as usize);
    Some(BandLayout::new(win, size(rows)?, size(ow)?))
}

/// Values per input channel of `layout`, in arithmetic that cannot overflow.
fn band_channel_len(layout: &BandLayout) -> u128 {
    layout.phase_planes() as u128 * layout.lines as u128 * layout.wp as u128
}

/// Whether laying out `channels` channels of a band (`per_channel` values each) stays within a
/// few times the `input` values it is made from (plus 64 MiB): a crafted window that reads far
/// more padding than input would otherwise have a workgroup allocate without bound.
fn band_in_proportion(per_channel: u128, channels: u64, input: u64) -> bool {
    per_channel
        .checked_mul(channels as u128)
        .is_some_and(|len| len <= 4 * input as u128 + (1 << 24))
}

/// Values in a [`KernelOp::ConvBand`] output for `n` images of `c` channels: every channel's
/// layout for all `oh` output rows, then what the GEMM may read past the last one; `None` when
/// that is no size a buffer could have. The window must be within [`MAX_WINDOW`] (compiled
/// modules' are; the loader checks).
pub fn conv_band_len(win: &kiln_ukernel::rows::Window, [n, c, oh, ow]: [u64; 4]) -> Option<u64> {
    let layout = band_layout(win, oh, ow)?;
    let tail = (layout.tail() + kiln_ukernel::rows::MAX_PANEL_WIDTH) as u128;
    let len = (n as u128 * c as u128)
        .checked_mul(band_channel_len(&layout))?
        .checked_add(tail)?;
    u64::try_from(len).ok()
}

/// How a packed GEMM operand was laid out, if the op has one: a convolution weight of rank 6
/// or a matmul right-hand side of rank 4 (see [`KernelOp::Conv2d`], [`KernelOp::MatMul`]). The
/// strip size is as recorded: [`Packing::is_known`] says whether any tile reads it.
pub fn packing(op: &KernelOp) -> Option<Packing> {
    let strip = |v: &View| usize::try_from(*v.shape.last()?).ok();
    match op {
        KernelOp::Conv2d { w, gemm, .. } if w.shape.len() == 6 => match gemm {
            ConvGemm::ChannelRows => strip(w).map(Packing::Rows),
            ConvGemm::PixelRows => strip(w).map(Packing::Columns),
        },
        KernelOp::MatMul { b, .. } if b.shape.len() == 4 => strip(b).map(Packing::Columns),
        _ => None,
    }
}

impl Kernel {
    /// The workgroup grid this kernel expects (always one-dimensional here).
    ///
    /// Zero when the kernel's output is empty; `u64::MAX` if the count overflows.
    pub fn workgroup_count(&self) -> u64 {
        if self
            .outputs()
            .iter()
            .any(|v| self.written_part(v).shape.contains(&0))
        {
            return 0;
        }
        self.grid().count()
    }

    /// The box `[lo, hi)` of the output that workgroup `wg` of a named op computes (where its
    /// epilogue applies); `None` for generic and gather kernels.
    pub fn output_box(&self, wg: u64) -> Option<(Vec<u64>, Vec<u64>)> {
        let (lo, hi) = self.grid().tile_box(wg);
        Some(match &self.op {
            KernelOp::MatMul { .. } => (lo, hi),
            KernelOp::Conv2d { y, .. } => {
                let t = ConvTile::of(self, wg);
                let c0 = t.group * t.group_channels + t.co0;
                (
                    vec![t.image, c0, t.oy0, 0],
                    vec![t.image + 1, c0 + (t.co1 - t.co0), t.oy1, y.shape[3]],
                )
            }
            KernelOp::Pool2d { y, .. } => (
                vec![lo[0], lo[1], 0, 0],
                vec![hi[0], hi[1], y.shape[2], y.shape[3]],
            ),
            KernelOp::Softmax { y, .. } => (vec![lo[0], 0, 0], vec![hi[0], y.shape[1], y.shape[2]]),
            KernelOp::LayerNorm { y, .. } => (vec![lo[0], 0], vec![hi[0], y.shape[1]]),
            KernelOp::Generic { .. } | KernelOp::Gather { .. } | KernelOp::ConvBand { .. } => {
                return None
            }
        })
    }

    /// The kernel's epilogue, if it has one.
    pub fn epilogue(&self) -> Option<&Epilogue> {
        match &self.op {
            KernelOp::MatMul { epilogue, .. }
            | KernelOp::Conv2d { epilogue, .. }
            | KernelOp::Pool2d { epilogue, .. }
            | KernelOp::Softmax { epilogue, .. }
            | KernelOp::LayerNorm { epilogue, .. } => epilogue.as_ref(),
            KernelOp::Generic { .. } | KernelOp::Gather { .. } | KernelOp::ConvBand { .. } => None,
        }
    }

    /// The same kernel without its epilogue.
    pub fn without_epilogue(&self) -> Kernel {
        let mut k = self.clone();
        match &mut k.op {
            KernelOp::MatMul { epilogue, .. }
            | KernelOp::Conv2d { epilogue, .. }
            | KernelOp::Pool2d { epilogue, .. }
            | KernelOp::Softmax { epilogue, .. }
            | KernelOp::LayerNorm { epilogue, .. } => *epilogue = None,
            KernelOp::Generic { .. } | KernelOp::Gather { .. } | KernelOp::ConvBand { .. } => {}
        }
        k
    }

    /// Every view the kernel touches, for binding checks.
    pub fn views(&self) -> Vec<&View> {
        fn ep(e: &Option<Epilogue>) -> Vec<&View> {
            e.iter().flat_map(|e| e.inputs.iter()).collect()
        }
        match &self.op {
            KernelOp::Generic {
                inputs, outputs, ..
            } => inputs.iter().chain(outputs).collect(),
            KernelOp::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Pool2d { x, y, epilogue, .. }
            | KernelOp::Softmax { x, y, epilogue }
            | KernelOp::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            KernelOp::Gather { data, indices, out } => vec![data, indices, out],
            KernelOp::ConvBand { x, y, .. } => vec![x, y],
        }
    }

    /// Mutable access to every view, in the order of [`Kernel::views`].
    pub fn views_mut(&mut self) -> Vec<&mut View> {
        fn ep(e: &mut Option<Epilogue>) -> impl Iterator<Item = &mut View> {
            e.iter_mut().flat_map(|e| e.inputs.iter_mut())
        }
        match &mut self.op {
            KernelOp::Generic {
                inputs, outputs, ..
            } => inputs.iter_mut().chain(outputs.iter_mut()).collect(),
            KernelOp::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Pool2d { x, y, epilogue, .. }
            | KernelOp::Softmax { x, y, epilogue }
            | KernelOp::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            KernelOp::Gather { data, indices, out } => vec![data, indices, out],
            KernelOp::ConvBand { x, y, .. } => vec![x, y],
        }
    }

    /// The part of output view `v` the kernel actually writes: a reduction's output view spans
    /// the reduced dims too (with stride 0), but only its parallel dims address elements.
    pub fn written_part(&self, v: &View) -> View {
        match &self.op {
            KernelOp::Generic { reduction_dims, .. } if *reduction_dims > 0 => {
                let p = v.shape.len().saturating_sub(*reduction_dims as usize);
                View {
                    shape: v.shape[..p].to_vec(),
                    strides: v.strides[..p].to_vec(),
                    ..v.clone()
                }
            }
            _ => v.clone(),
        }
    }

    /// The views the kernel writes; every other view is only read.
    pub fn outputs(&self) -> Vec<&View> {
        match &self.op {
            KernelOp::Generic { outputs, .. } => outputs.iter().collect(),
            KernelOp::MatMul { c: y, .. }
            | KernelOp::Conv2d { y, .. }
            | KernelOp::Pool2d { y, .. }
            | KernelOp::Softmax { y, .. }
            | KernelOp::LayerNorm { y, .. }
            | KernelOp::ConvBand { y, .. } => vec![y],
            KernelOp::Gather { out, .. } => vec![out],
        }
    }

    /// Structural checks done once when an executable is loaded.
    pub fn check(&self) -> Result<(), String> {
        for v in self.views() {
            if v.shape.len() != v.strides.len() {
                return Err("a view's shape and strides differ in rank".into());
            }
        }
        // Workgroups write disjoint boxes of each output, which must therefore be disjoint
        // memory; and no input may read a binding the kernel writes.
        let skip = match &self.op {
            KernelOp::Generic { reduction_dims, .. } => *reduction_dims as usize,
            _ => 0,
        };
        let outputs = self.outputs();
        if outputs.iter().any(|v| !v.is_injective(skip)) {
            return Err("an output view addresses some element twice".into());
        }
        for (i, o) in outputs.iter().enumerate() {
            if outputs[..i].iter().any(|p| p.binding == o.binding) {
                return Err(format!("two outputs write binding {}", o.binding));
            }
        }
        for v in self.views() {
            let is_output = outputs.iter().any(|o| std::ptr::eq(*o, v));
            if !is_output && outputs.iter().any(|o| o.binding == v.binding) {
                return Err(format!("binding {} is both read and written", v.binding));
            }
        }
        let f32_only = |vs: &[&View]| -> Result<(), String> {
            match vs.iter().find(|v| v.element_type != ElementType::F32) {
                Some(v) => Err(format!(
                    "this kernel needs f32 data, got {}",
                    v.element_type
                )),
                None => Ok(()),
            }
        };
        let rank = |v: &View, r: usize| {
            if v.shape.len() == r {
                Ok(())
            } else {
                Err(format!("expected a rank-{r} view"))
            }
        };
        let contiguous = |v: &View| {
            if v.is_contiguous() {
                Ok(())
            } else {
                Err("expected a contiguous view".to_string())
            }
        };
        let epilogue = |e: &Option<Epilogue>, out: &View| -> Result<(), String> {
            let Some(e) = e else { return Ok(()) };
            let mut types = vec![out.element_type];
            for v in &e.inputs {
                if v.shape != out.shape {
                    return Err("epilogue inputs must have the output's shape".into());
                }
                types.push(v.element_type);
            }
            e.body
                .check(&types, &[out.element_type])
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match &self.op {
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                inputs,
                outputs,
                body,
                ..
            } => {
                if tile.len() != shape.len()
                    || *reduction_dims as usize > shape.len()
                    || tile.contains(&0)
                {
                    return Err("generic tile or reduction dims do not fit its shape".into());
                }
                for v in inputs.iter().chain(outputs) {
                    if v.shape != *shape {
                        return Err("generic views must have the iteration shape".into());
                    }
                }
                if *reduction_dims > 0 && body.results.len() != 1 {
                    return Err("a reduction yields exactly one value".into());
                }
                let it: Vec<_> = inputs.iter().map(|v| v.element_type).collect();
                let ot: Vec<_> = outputs.iter().map(|v| v.element_type).collect();
                body.check(&it, &ot).map_err(|e| e.to_string())?;
            }
            KernelOp::MatMul {
                a,
                b,
                c,
                tile_m,
                tile_n,
                epilogue: e,
            } => {
                f32_only(&[a, b, c])?;
                for v in [a, c] {
                    rank(v, 3)?;
                }
                let (k, n) = (a.shape[2], c.shape[2]);
                let b_agrees = if b.shape.len() == 4 {
                    // Packed right-hand strips [B, ceil(N/nr), K, nr].
                    let nr = packing(&self.op)
                        .filter(|p| p.is_known())
                        .ok_or("matmul operand is packed for an unknown tile shape")?
                        .strip() as u64;
                    contiguous(b)?;
                    if tile_n % nr != 0 {
                        return Err("a packed matmul's column tile must be whole strips".into());
                    }
                    b.shape[1] == n.div_ceil(nr) && b.shape[2] == k
                } else {
                    rank(b, 3)?;
                    b.shape[1] == k && b.shape[2] == n
                };
                if a.shape[0] != c.shape[0]
                    || a.shape[1] != c.shape[1]
                    || !b_agrees
                    || b.shape[0] != c.shape[0]
                {
                    return Err("matmul shapes do not agree".into());
                }
                if a.strides.iter().chain(&b.strides).any(|&s| s < 0)
                    || c.strides[2] != 1
                    || c.strides[1] < c.shape[2] as i64
                {
                    return Err(
                        "matmul views need non-negative strides and unit-stride output rows".into(),
                    );
                }
                if *tile_m == 0 || *tile_n == 0 {
                    return Err("matmul tiles must be positive".into());
                }
                epilogue(e, c)?;
            }
            KernelOp::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                groups,
                gemm,
                tile_co,
                tile_oh,
                epilogue: e,
            } => {
                f32_only(&[x, w, y])?;
                rank(y, 4)?;
                for v in [x, w, y] {
                    contiguous(v)?;
                }
                if *groups == 0 || y.shape[1] % groups != 0 {
                    return Err("conv2d channels do not agree".into());
                }
                let [cig, kh, kw] = conv_weight_dims(w);
                if !window_in_bounds([kh, kw], *strides, *pads, *dilations) {
                    return Err("conv2d window is invalid or too large".into());
                }
                let x_agrees = if x.shape.len() == 1 {
                    // The output of a ConvBand for this window.
                    let win = window([kh, kw], *strides, *pads, *dilations);
                    let [n, oh, ow] = [y.shape[0], y.shape[2], y.shape[3]];
                    let len = conv_band_len(&win, [n, cig.saturating_mul(*groups), oh, ow]);
                    w.shape.len() == 6 && *gemm == ConvGemm::ChannelRows && Some(x.shape[0]) == len
                } else {
                    rank(x, 4)?;
                    // A workgroup lays out the input band of its rows.
                    let win = window([kh, kw], *strides, *pads, *dilations);
                    let band = band_layout(&win, (*tile_oh).min(y.shape[2]), y.shape[3])
                        .map(|layout| band_channel_len(&layout));
                    let plane = x.shape[2].saturating_mul(x.shape[3]);
                    if !band.is_some_and(|b| band_in_proportion(b, cig, cig.saturating_mul(plane)))
                    {
                        return Err("conv2d window reads far more padding than input".into());
                    }
                    x.shape[0] == y.shape[0] && cig.checked_mul(*groups) == Some(x.shape[1])
                };
                if !x_agrees {
                    return Err("conv2d input does not agree with its weights and output".into());
                }
                let cog = y.shape[1] / groups;
                let w_agrees = if w.shape.len() == 6 {
                    // Packed strips [groups, ceil(cog/s), ci/groups, kh, kw, s].
                    let strip = packing(&self.op)
                        .filter(|p| p.is_known())
                        .ok_or("conv2d weights are packed for an unknown tile shape")?
                        .strip() as u64;
                    if tile_co % strip != 0 {
                        return Err("a packed conv2d's channel tile must be whole strips".into());
                    }
                    w.shape[0] == *groups && w.shape[1] == cog.div_ceil(strip)
                } else if *gemm == ConvGemm::PixelRows {
                    return Err("a conv2d with pixel rows needs packed weights".into());
                } else {
                    rank(w, 4)?;
                    w.shape[0] == y.shape[1]
                };
                if !w_agrees {
                    return Err("conv2d channels do not agree".into());
                }
                if strides.contains(&0) || dilations.contains(&0) || *tile_oh == 0 || *tile_co == 0
                {
                    return Err("conv2d strides, dilations and tiles must be positive".into());
                }
                epilogue(e, y)?;
            }
            KernelOp::Pool2d {
                x,
                y,
                kernel,
                strides,
                epilogue: e,
                ..
            } => {
                f32_only(&[x, y])?;
                for v in [x, y] {
                    rank(v, 4)?;
                    contiguous(v)?;
                }
                if kernel.contains(&0) || strides.contains(&0) || x.shape[..2] != y.shape[..2] {
                    return Err("pool2d window or shapes are invalid".into());
                }
                epilogue(e, y)?;
            }
            KernelOp::Softmax { x, y, epilogue: e } => {
                f32_only(&[x, y])?;
                rank(x, 3)?;
                contiguous(y)?;
                if x.shape != y.shape {
                    return Err("softmax views differ in shape".into());
                }
                epilogue(e, y)?;
            }
            KernelOp::LayerNorm {
                x, y, epilogue: e, ..
            } => {
                f32_only(&[x, y])?;
                rank(x, 2)?;
                contiguous(x)?;
                contiguous(y)?;
                if x.shape != y.shape {
                    return Err("layer norm views differ in shape".into());
                }
                epilogue(e, y)?;
            }
            KernelOp::ConvBand {
                x,
                y,
                kernel,
                strides,
                pads,
                dilations,
                out,
            } => {
                f32_only(&[x, y])?;
                rank(x, 4)?;
                rank(y, 1)?;
                for v in [x, y] {
                    contiguous(v)?;
                }
                if !window_in_bounds(*kernel, *strides, *pads, *dilations) {
                    return Err("conv_band window is invalid".into());
                }
                let win = window(*kernel, *strides, *pads, *dilations);
                let [n, c] = [x.shape[0], x.shape[1]];
                let len = conv_band_len(&win, [n, c, out[0], out[1]]);
                let input = x.shape.iter().fold(1u64, |a, &d| a.saturating_mul(d));
                if len.is_none_or(|len| !band_in_proportion(len as u128, 1, input)) {
                    return Err("conv_band window is invalid".into());
                }
                if Some(y.shape[0]) != len {
                    return Err("conv_band output does not hold the layout".into());
                }
            }
            KernelOp::Gather { data, indices, out } => {
                rank(data, 3)?;
                rank(indices, 1)?;
                rank(out, 3)?;
                contiguous(out)?;
                if !matches!(indices.element_type, ElementType::I32 | ElementType::I64)
                    || data.element_type != out.element_type
                {
                    return Err("gather needs integer indices and matching data types".into());
                }
                if out.shape != [data.shape[0], indices.shape[0], data.shape[2]] {
                    return Err("gather shapes do not agree".into());
                }
            }
        }
        Ok(())
    }
}

/// A VMVX executable: its kernels, in entry-point order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Executable {
    pub kernels: Vec<Kernel>,
}

impl Executable {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.u32(self.kernels.len() as u32);
        for k in &self.kernels {
            w.str(&k.name);
            encode_op(&mut w, &k.op);
        }
        w.bytes
    }

    /// Decodes and checks an executable; errors say what is wrong and where.
    pub fn decode(bytes: &[u8]) -> Result<Executable, String> {
        let mut r = ByteReader::new(bytes, "vmvx executable");
        let mut inner = || -> Result<Executable, ModuleError> {
            let version = r.u32()?;
            if version != VERSION {
                return Err(ModuleError::Invalid(format!(
                    "vmvx executable version {version}, expected {VERSION}"
                )));
            }
            let n = r.len(8)?;
            let mut kernels = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.str()?;
                let op = decode_op(&mut r)?;
                kernels.push(Kernel { name, op });
            }
            Ok(Executable { kernels })
        };
        let exe = inner().map_err(|e| e.to_string())?;
        for k in &exe.kernels {
            k.check().map_err(|m| format!("kernel '{}': {m}", k.name))?;
        }
        Ok(exe)
    }
}

fn encode_view(w: &mut ByteWriter, v: &View) {
    w.u32(v.binding);
    w.u64(v.offset);
    w.u8(v.element_type.code());
    w.u64s(&v.shape);
    w.i64s(&v.strides);
}

fn decode_view(r: &mut ByteReader) -> Result<View, ModuleError> {
    Ok(View {
        binding: r.u32()?,
        offset: r.u64()?,
        element_type: r.element_type()?,
        shape: r.u64s()?,
        strides: r.i64s()?,
    })
}

fn encode_body(w: &mut ByteWriter, b: &Body) {
    w.u32(b.insts.len() as u32);
    for i in &b.insts {
        match i {
            Inst::Input(n) => {
                w.u8(0);
                w.u32(*n);
            }
            Inst::ConstF(v) => {
                w.u8(1);
                w.f32(*v);
            }
            Inst::ConstI(v) => {
                w.u8(2);
                w.i64(*v);
            }
            Inst::Unary(f, a) => {
                w.u8(3);
                w.u8(f.code());
                w.u32(*a);
            }
            Inst::Binary(f, a, b) => {
                w.u8(4);
                w.u8(f.code());
                w.u32(*a);
                w.u32(*b);
            }
            Inst::Select(c, a, b) => {
                w.u8(5);
                w.u32(*c);
                w.u32(*a);
                w.u32(*b);
            }
            Inst::Cast(a, t) => {
                w.u8(6);
                w.u32(*a);
                w.u8(t.code());
            }
        }
    }
    w.u32(b.results.len() as u32);
    b.results.iter().for_each(|&r| w.u32(r));
}

fn decode_body(r: &mut ByteReader) -> Result<Body, ModuleError> {
    let n = r.len(2)?;
    let mut insts = Vec::with_capacity(n);
    for _ in 0..n {
        insts.push(match r.u8()? {
            0 => Inst::Input(r.u32()?),
            1 => Inst::ConstF(r.f32()?),
            2 => Inst::ConstI(r.i64()?),
            3 => Inst::Unary(scalar_fn(r.u8()?, UnaryFn::from_code, "UnaryFn")?, r.u32()?),
            4 => Inst::Binary(
                scalar_fn(r.u8()?, BinaryFn::from_code, "BinaryFn")?,
                r.u32()?,
                r.u32()?,
            ),
            5 => Inst::Select(r.u32()?, r.u32()?, r.u32()?),
            6 => Inst::Cast(r.u32()?, r.element_type()?),
            t => {
                return Err(ModuleError::Invalid(format!(
                    "unknown body instruction {t}"
                )))
            }
        });
    }
    let nr = r.len(4)?;
    let results = (0..nr).map(|_| r.u32()).collect::<Result<_, _>>()?;
    Ok(Body { insts, results })
}

fn encode_epilogue(w: &mut ByteWriter, e: &Option<Epilogue>) {
    match e {
        None => w.u8(0),
        Some(e) => {
            w.u8(1);
            w.u32(e.inputs.len() as u32);
            e.inputs.iter().for_each(|v| encode_view(w, v));
            encode_body(w, &e.body);
        }
    }
}

fn decode_epilogue(r: &mut ByteReader) -> Result<Option<Epilogue>, ModuleError> {
    if r.u8()? == 0 {
        return Ok(None);
    }
    let n = r.len(16)?;
    let inputs = (0..n).map(|_| decode_view(r)).collect::<Result<_, _>>()?;
    Ok(Some(Epilogue {
        inputs,
        body: decode_body(r)?,
    }))
}

fn views(w: &mut ByteWriter, vs: &[&View]) {
    vs.iter().for_each(|v| encode_view(w, v));
}

fn encode_op(w: &mut ByteWriter, op: &KernelOp) {
    match op {
        KernelOp::Generic {
            shape,
            tile,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
        } => {
            w.u8(0);
            w.u64s(shape);
            w.u64s(tile);
            w.u32(*reduction_dims);
            w.u8(reduce.code());
            for vs in [inputs, outputs] {
                w.u32(vs.len() as u32);
                vs.iter().for_each(|v| encode_view(w, v));
            }
            encode_body(w, body);
        }
        KernelOp::MatMul {
            a,
            b,
            c,
            tile_m,
            tile_n,
            epilogue,
        } => {
            w.u8(1);
            views(w, &[a, b, c]);
            w.u64(*tile_m);
            w.u64(*tile_n);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Conv2d {
            x,
            w: wt,
            y,
            strides,
            pads,
            dilations,
            groups,
            gemm,
            tile_co,
            tile_oh,
            epilogue,
        } => {
            w.u8(2);
            views(w, &[x, wt, y]);
            strides
                .iter()
                .chain(pads)
                .chain(dilations)
                .for_each(|&v| w.u64(v));
            w.u64(*groups);
            w.u8(match gemm {
                ConvGemm::ChannelRows => 0,
                ConvGemm::PixelRows => 1,
            });
            w.u64(*tile_co);
            w.u64(*tile_oh);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Pool2d {
            x,
            y,
            max,
            kernel,
            strides,
            pads,
            count_include_pad,
            epilogue,
        } => {
            w.u8(3);
            views(w, &[x, y]);
            w.u8(*max as u8);
            kernel
                .iter()
                .chain(strides)
                .chain(pads)
                .for_each(|&v| w.u64(v));
            w.u8(*count_include_pad as u8);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Softmax { x, y, epilogue } => {
            w.u8(4);
            views(w, &[x, y]);
            encode_epilogue(w, epilogue);
        }
        KernelOp::LayerNorm {
            x,
            y,
            epsilon,
            epilogue,
        } => {
            w.u8(5);
            views(w, &[x, y]);
            w.f32(*epsilon);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Gather { data, indices, out } => {
            w.u8(6);
            views(w, &[data, indices, out]);
        }
        KernelOp::ConvBand {
            x,
            y,
            kernel,
            strides,
            pads,
            dilations,
            out,
        } => {
            w.u8(7);
            views(w, &[x, y]);
            kernel
                .iter()
                .chain(strides)
                .chain(pads)
                .chain(dilations)
                .chain(out)
                .for_each(|&v| w.u64(v));
        }
    }
}

fn arr<const N: usize>(r: &mut ByteReader) -> Result<[u64; N], ModuleError> {
    let mut a = [0; N];
    for v in &mut a {
        *v = r.u64()?;
    }
    Ok(a)
}

fn decode_op(r: &mut ByteReader) -> Result<KernelOp, ModuleError> {
    Ok(match r.u8()? {
        0 => {
            let shape = r.u64s()?;
            let tile = r.u64s()?;
            let reduction_dims = r.u32()?;
            let reduce = scalar_fn(r.u8()?, ReduceFn::from_code, "ReduceFn")?;
            let mut vs = [vec![], vec![]];
            for v in &mut vs {
                let n = r.len(16)?;
                *v = (0..n).map(|_| decode_view(r)).collect::<Result<_, _>>()?;
            }
            let [inputs, outputs] = vs;
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body: decode_body(r)?,
            }
        }
        1 => KernelOp::MatMul {
            a: decode_view(r)?,
            b: decode_view(r)?,
            c: decode_view(r)?,
            tile_m: r.u64()?,
            tile_n: r.u64()?,
            epilogue: decode_epilogue(r)?,
        },
        2 => KernelOp::Conv2d {
            x: decode_view(r)?,
            w: decode_view(r)?,
            y: decode_view(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            dilations: arr(r)?,
            groups: r.u64()?,
            gemm: match r.u8()? {
                0 => ConvGemm::ChannelRows,
                1 => ConvGemm::PixelRows,
                other => {
                    return Err(ModuleError::Invalid(format!(
                        "conv2d GEMM orientation {other} is not 0 or 1"
                    )))
                }
            },
            tile_co: r.u64()?,
            tile_oh: r.u64()?,
            epilogue: decode_epilogue(r)?,
        },
        3 => KernelOp::Pool2d {
            x: decode_view(r)?,
            y: decode_view(r)?,
            max: r.u8()? != 0,
            kernel: arr(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            count_include_pad: r.u8()? != 0,
            epilogue: decode_epilogue(r)?,
        },
        4 => KernelOp::Softmax {
            x: decode_view(r)?,
            y: decode_view(r)?,
            epilogue: decode_epilogue(r)?,
        },
        5 => KernelOp::LayerNorm {
            x: decode_view(r)?,
            y: decode_view(r)?,
            epsilon: r.f32()?,
            epilogue: decode_epilogue(r)?,
        },
        6 => KernelOp::Gather {
            data: decode_view(r)?,
            indices: decode_view(r)?,
            out: decode_view(r)?,
        },
        7 => KernelOp::ConvBand {
            x: decode_view(r)?,
            y: decode_view(r)?,
            kernel: arr(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            dilations: arr(r)?,
            out: arr(r)?,
        },
        t => return Err(ModuleError::Invalid(format!("unknown kernel op {t}"))),
    })
}

/// `#binding[shape]`, then `+offset` and `/strides` when they are not the contiguous default:
/// `#2[8x512]`, `#0[4x16x32]/512,1,16`.
impl std::fmt::Display for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        write!(
            f,
            "#{}[{}x{}]",
            self.binding,
            shape.join("x"),
            self.element_type
        )?;
        if self.offset != 0 {
            write!(f, "+{}", self.offset)?;
        }
        if !self.is_contiguous() {
            let strides: Vec<String> = self.strides.iter().map(|s| s.to_string()).collect();
            write!(f, "/{}", strides.join(","))?;
        }
        Ok(())
    }
}

/// One line per kernel: its op, views and tiling, then the epilogue if any.
impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |vs: &[View]| {
            vs.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let dims = |v: &[u64]| {
            v.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x")
        };
        let epilogue = |e: &Option<Epilogue>| match e {
            Some(e) => format!(" epilogue({}) {}", list(&e.inputs), e.body),
            None => String::new(),
        };
        write!(f, "{} = ", self.name)?;
        match &self.op {
            KernelOp::Generic { shape, tile, reduction_dims, reduce, inputs, outputs, body } => {
                let red = if *reduction_dims > 0 { format!(" reduce {reduce} over last {reduction_dims}") } else { String::new() };
                write!(f, "generic [{}] tile [{}]{red} ({}) -> ({}) {body}", dims(shape), dims(tile), list(inputs), list(outputs))
            }
            KernelOp::MatMul { a, b, c, tile_m, tile_n, epilogue: e } => write!(f, "matmul {a}, {b} -> {c} tile {tile_m}x{tile_n}{}", epilogue(e)),
            KernelOp::Conv2d { x, w, y, strides, pads, dilations, groups, gemm, tile_co, tile_oh, epilogue: e } => write!(
                f,
                "conv2d {x}, {w} -> {y} strides {strides:?} pads {pads:?} dilations {dilations:?} groups {groups}{} tile {tile_co}x{tile_oh}{}",
                if *gemm == ConvGemm::PixelRows { " pixel_rows" } else { "" },
                epilogue(e)
            ),
            KernelOp::Pool2d { x, y, max, kernel, strides, pads, count_include_pad, epilogue: e } => write!(
                f,
                "pool2d {} {x} -> {y} kernel {kernel:?} strides {strides:?} pads {pads:?}{}{}",
                if *max { "max" } else { "avg" },
                if *count_include_pad { " count_include_pad" } else { "" },
                epilogue(e)
            ),
            KernelOp::Softmax { x, y, epilogue: e } => write!(f, "softmax {x} -> {y}{}", epilogue(e)),
            KernelOp::LayerNorm { x, y, epsilon, epilogue: e } => write!(f, "layer_norm {x} -> {y} epsilon {epsilon:?}{}", epilogue(e)),
            KernelOp::Gather { data, indices, out } => write!(f, "gather {data}, {indices} -> {out}"),
            KernelOp::ConvBand { x, y, kernel, strides, pads, dilations, out } => write!(f, "conv_band {x} -> {y} kernel {kernel:?} strides {strides:?} pads {pads:?} dilations {dilations:?} out {out:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `conv_band` for a 3×3, stride-2, pad-1 window over a 1×2×9×9 input (5×5 output).
    fn conv_band() -> Kernel {
        let win = window([3, 3], [2, 2], [1, 1, 1, 1], [1, 1]);
        let len = conv_band_len(&win, [1, 2, 5, 5]).unwrap();
        Kernel {
            name: "dispatch_0".into(),
            op: KernelOp::ConvBand {
                x: View::contiguous(0, 0, ElementType::F32, &[1, 2, 9, 9]),
                y: View::contiguous(1, 0, ElementType::F32, &[len]),
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
                out: [5, 5],
            },
        }
    }

    #[test]
    fn conv_band_round_trips_and_is_checked() {
        let exe = Executable {
            kernels: vec![conv_band()],
        };
        let back = Executable::decode(&exe.encode()).unwrap();
        assert_eq!(back.kernels, exe.kernels);
        assert_eq!(back.kernels[0].workgroup_count(), 2);

        let mut short = conv_band();
        let KernelOp::ConvBand { y, .. } = &mut short.op else {
            unreachable!()
        };
        y.shape[0] -= 1;
        assert_eq!(
            short.check().unwrap_err(),
            "conv_band output does not hold the layout"
        );
        let mut no_window = conv_band();
        let KernelOp::ConvBand { strides, .. } = &mut no_window.op else {
            unreachable!()
        };
        strides[1] = 0;
        assert_eq!(
            no_window.check().unwrap_err(),
            "conv_band window is invalid"
        );
    }

    /// Windows are bounded before any layout is computed from them: a module whose checksums
    /// hold but whose window fields were crafted is refused, not run out of memory.
    #[test]
    fn crafted_windows_are_refused() {
        let band = |kernel: [u64; 2], pads: [u64; 4], dilations: [u64; 2]| {
            let mut k = conv_band();
            let KernelOp::ConvBand {
                kernel: kk,
                pads: pp,
                dilations: dd,
                ..
            } = &mut k.op
            else {
                unreachable!()
            };
            (*kk, *pp, *dd) = (kernel, pads, dilations);
            k.check().unwrap_err()
        };
        let invalid = "conv_band window is invalid";
        assert_eq!(band([1 << 40, 3], [1; 4], [1, 1]), invalid);
        assert_eq!(band([3, 3], [1 << 40, 1, 1, 1], [1, 1]), invalid);
        // In bounds, but 60000 apart the taps of 5x5 outputs would lay out billions of values.
        assert_eq!(band([3, 3], [1; 4], [60000, 60000]), invalid);

        let conv = |dilations: [u64; 2]| Kernel {
            name: "dispatch_0".into(),
            op: KernelOp::Conv2d {
                x: View::contiguous(0, 0, ElementType::F32, &[1, 2, 9, 9]),
                w: View::contiguous(1, 0, ElementType::F32, &[4, 2, 3, 3]),
                y: View::contiguous(2, 0, ElementType::F32, &[1, 4, 5, 5]),
                strides: [2, 2],
                pads: [1; 4],
                dilations,
                groups: 1,
                gemm: ConvGemm::ChannelRows,
                tile_co: 4,
                tile_oh: 5,
                epilogue: None,
            },
        };
        conv([1, 1]).check().unwrap();
        assert_eq!(
            conv([1 << 40, 1]).check().unwrap_err(),
            "conv2d window is invalid or too large"
        );
        assert_eq!(
            conv([60000, 60000]).check().unwrap_err(),
            "conv2d window reads far more padding than input"
        );
    }

    /// A ConvBand feeds channel rows only: pixel rows read the input planes.
    #[test]
    fn laid_out_input_needs_channel_rows() {
        let KernelOp::ConvBand { y: band, .. } = conv_band().op else {
            unreachable!()
        };
        let conv = |gemm, strip| Kernel {
            name: "dispatch_1".into(),
            op: KernelOp::Conv2d {
                x: band.clone(),
                w: View::contiguous(2, 0, ElementType::F32, &[1, 1, 2, 3, 3, strip]),
                y: View::contiguous(3, 0, ElementType::F32, &[1, 4, 5, 5]),
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
                groups: 1,
                gemm,
                tile_co: 32,
                tile_oh: 5,
                epilogue: None,
            },
        };
        conv(ConvGemm::ChannelRows, 8).check().unwrap();
        assert_eq!(
            conv(ConvGemm::PixelRows, 32).check().unwrap_err(),
            "conv2d input does not agree with its weights and output"
        );
    }
}
