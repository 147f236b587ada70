//! Lowering of each kernel op to a compute shader, and the thread mapping it uses.
//!
//! - Elementwise generics, pooling and gather: one invocation per output element.
//! - Reductions, softmax and layer norm: a group of `T` invocations per output row (`T` is the
//!   workgroup size when rows are long, 1 when short), each striding over the row, combined
//!   through workgroup shared memory with a tree of barriers.
//! - Matmul and convolution: one GEMM template, `TILE×TILE` outputs per workgroup, with `A`
//!   and `B` tiles staged through shared memory; convolution is implicit GEMM (its `B` tile is
//!   read straight from the image with padding, no im2col buffer).
//!
//! Sizes are i32 values of the shader: constants for a kernel whose sizes are known when
//! compiling, or computed at entry from the symbols' push constants ([`SpirvSizes`]); the
//! shader's index arithmetic folds constants, so a static kernel's code has its sizes inline.

use crate::body;
use crate::shader::{glsl, Shader, Val, Var, R};
use crate::VulkanTarget;
use kiln_codegen_gpu::{Config, Mapping};
use kiln_kernel::{Epilogue, Op as KernelOp, ReduceFn, RegKind, Sizes, Static, Symbolic, View};
use kiln_spirv::ErrorCode;
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;
use rspirv::spirv::{Op, Word};

/// What lowering a kernel produced.
pub struct Lowered {
    pub code: Vec<u32>,
    pub workgroup_size: u32,
    pub shader: ShaderInfo,
}

/// Facts about the shader the executable records.
pub struct ShaderInfo {
    pub features: kiln_spirv::Features,
    pub shared_memory: u32,
}

/// How a size family's extents become shader values, and what the runtime checks for them.
pub trait SpirvSizes: Sizes {
    /// The i32 value of an extent or stride (a constant when known).
    fn extent(s: &mut Shader, n: &Self::Extent) -> R<Word>;
    fn stride(s: &mut Shader, n: &Self::Stride) -> R<Word>;
    /// Bytes a view may touch from its binding's start, as an expression over the symbols;
    /// errors where the shader's 32-bit indices cannot address it.
    fn view_extent(v: &View<Self>) -> R<SymExpr>;
    /// The extent as an expression over the symbols.
    fn expr(n: &Self::Extent) -> SymExpr;
    fn stride_expr(n: &Self::Stride) -> SymExpr;
}

impl SpirvSizes for Static {
    fn extent(s: &mut Shader, n: &u64) -> R<Word> {
        i32::try_from(*n)
            .map(|n| s.const_i32(n))
            .map_err(|_| format!("an extent of {n} exceeds 2^31 elements"))
    }
    fn stride(s: &mut Shader, n: &i64) -> R<Word> {
        i32::try_from(*n)
            .map(|n| s.const_i32(n))
            .map_err(|_| format!("a stride of {n} exceeds 2^31 elements"))
    }
    fn view_extent(v: &View) -> R<SymExpr> {
        let Some((lo, hi)) = v.span().map_err(|e| e.to_string())? else {
            return Ok(SymExpr::from(0));
        };
        if lo < 0 || hi > i32::MAX as i64 {
            return Err(format!(
                "a view spans elements {lo}..{hi}; vulkan-spirv kernels index at most 2^31 elements per binding"
            ));
        }
        let bytes = (hi as u64)
            .checked_mul(v.element_type.byte_size() as u64)
            .ok_or("a view's extent overflows")?;
        Ok(SymExpr::from(bytes as i64))
    }
    fn expr(n: &u64) -> SymExpr {
        SymExpr::from(*n as i64)
    }
    fn stride_expr(n: &i64) -> SymExpr {
        SymExpr::from(*n)
    }
}

impl SpirvSizes for Symbolic {
    fn extent(s: &mut Shader, n: &SymExpr) -> R<Word> {
        n.eval_in(s)
    }
    fn stride(s: &mut Shader, n: &SymExpr) -> R<Word> {
        n.eval_in(s)
    }
    fn view_extent(v: &View<Symbolic>) -> R<SymExpr> {
        // offset + Σ (extent − 1)·stride + 1 elements, strides non-negative (a view of no
        // elements may evaluate below zero, which binds as nothing).
        let mut end = v.offset.clone() + SymExpr::from(1);
        for (n, st) in v.shape.iter().zip(&v.strides) {
            if !st.is_nonnegative() && st.as_const() != Some(0) {
                return Err(format!(
                    "a view with stride {st} over sizes known only at run time (vulkan-spirv needs non-negative strides there)"
                ));
            }
            end = end + (n.clone() - SymExpr::from(1)) * st.clone();
        }
        Ok(end * SymExpr::from(v.element_type.byte_size() as i64))
    }
    fn expr(n: &SymExpr) -> SymExpr {
        n.clone()
    }
    fn stride_expr(n: &SymExpr) -> SymExpr {
        n.clone()
    }
}

/// The element type each binding is accessed as, in binding order.
pub fn binding_types<Z: Sizes>(kernel: &KernelOp<Z>) -> R<Vec<ElementType>> {
    let mut types: Vec<Option<ElementType>> = vec![];
    for v in kernel.views() {
        let b = v.operand as usize;
        if types.len() <= b {
            types.resize(b + 1, None);
        }
        match types[b] {
            Some(t) if t != v.element_type => {
                return Err(format!(
                    "binding {b} is viewed as both {t} and {}",
                    v.element_type
                ))
            }
            _ => types[b] = Some(v.element_type),
        }
    }
    types
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| format!("binding {i} is never used")))
        .collect()
}

/// Bytes each binding must hold from its start: the end of the furthest view into it.
pub fn binding_extents<Z: SpirvSizes>(kernel: &KernelOp<Z>, count: usize) -> R<Vec<SymExpr>> {
    let mut extents: Vec<Vec<SymExpr>> = vec![vec![]; count];
    for v in kernel.views() {
        let e = Z::view_extent(v)?;
        let all = &mut extents[v.operand as usize];
        if !all.contains(&e) {
            all.push(e);
        }
    }
    Ok(extents.into_iter().map(max_of).collect())
}

/// The largest of extents: the one constant when all are, else the one every other is at
/// most at every size (as polynomials with non-negative coefficients), else their sum.
fn max_of(mut es: Vec<SymExpr>) -> SymExpr {
    if let Some(c) = es.iter().map(SymExpr::as_const).collect::<Option<Vec<_>>>() {
        return SymExpr::from(c.into_iter().max().unwrap_or(0));
    }
    es.dedup();
    let covers = |a: &SymExpr, b: &SymExpr| (a.clone() - b.clone()).is_nonnegative() || a == b;
    if let Some(top) = es.iter().find(|a| es.iter().all(|b| covers(a, b))) {
        return top.clone();
    }
    es.into_iter().fold(SymExpr::from(0), |acc, e| acc + e)
}

/// A view with its offset, extents and strides as shader values.
struct ValueView {
    operand: u32,
    element_type: ElementType,
    offset: Word,
    shape: Vec<Word>,
    strides: Vec<Word>,
}

fn value_view<Z: SpirvSizes>(s: &mut Shader, v: &View<Z>) -> R<ValueView> {
    Ok(ValueView {
        operand: v.operand,
        element_type: v.element_type,
        offset: Z::extent(s, &v.offset)?,
        shape: v.shape.iter().map(|n| Z::extent(s, n)).collect::<R<_>>()?,
        strides: v
            .strides
            .iter()
            .map(|n| Z::stride(s, n))
            .collect::<R<_>>()?,
    })
}

fn value_views<Z: SpirvSizes>(s: &mut Shader, vs: &[View<Z>]) -> R<Vec<ValueView>> {
    vs.iter().map(|v| value_view(s, v)).collect()
}

fn values<Z: SpirvSizes>(s: &mut Shader, ns: &[Z::Extent]) -> R<Vec<Word>> {
    ns.iter().map(|n| Z::extent(s, n)).collect()
}

/// An epilogue with its inputs' views as values.
struct ValueEpilogue<'k> {
    inputs: Vec<ValueView>,
    body: &'k kiln_kernel::Body,
}

fn value_epilogue<'k, Z: SpirvSizes>(
    s: &mut Shader,
    e: Option<&'k Epilogue<Z>>,
) -> R<Option<ValueEpilogue<'k>>> {
    e.map(|e| {
        Ok(ValueEpilogue {
            inputs: value_views(s, &e.inputs)?,
            body: &e.body,
        })
    })
    .transpose()
}

/// Writes `kernel`'s shader for its GPU lowering `config`; the values of `symbols` (the
/// symbols its sizes read) come from push constants.
pub fn lower<Z: SpirvSizes>(
    kernel: &KernelOp<Z>,
    target: &VulkanTarget,
    config: &Config<Z::Extent>,
    symbols: &[String],
) -> R<Lowered> {
    let types = binding_types(kernel)?;
    // Every view's extent must be addressable with 32-bit indices (checked per call for
    // sizes known only at run time).
    for v in kernel.views() {
        Z::view_extent(v)?;
    }
    let reports_errors = matches!(kernel, KernelOp::Gather { .. });
    let size = config.workgroup_size;
    let (tile, group) = match config.mapping {
        Mapping::GemmTiles { tile, .. } => (tile, 1),
        Mapping::Rows { group, .. } => (0, group),
        Mapping::Elements { .. } => (0, 1),
    };
    let mut s = Shader::new(&types, reports_errors, size, symbols)?;
    let bases: Vec<Word> = (0..types.len() as u32).map(|b| s.binding_base(b)).collect();
    let mapping = match &config.mapping {
        Mapping::Elements { domain } => Mapping::Elements {
            domain: values::<Z>(&mut s, domain)?,
        },
        Mapping::Rows { rows, len, group } => Mapping::Rows {
            rows: Z::extent(&mut s, rows)?,
            len: Z::extent(&mut s, len)?,
            group: *group,
        },
        Mapping::GemmTiles {
            batch,
            m,
            n,
            k,
            tile,
        } => Mapping::GemmTiles {
            batch: Z::extent(&mut s, batch)?,
            m: Z::extent(&mut s, m)?,
            n: Z::extent(&mut s, n)?,
            k: Z::extent(&mut s, k)?,
            tile: *tile,
        },
    };
    let config = Config {
        mapping,
        workgroup_size: size,
        partial_bytes: config.partial_bytes,
    };
    let mut k = Ctx {
        s,
        bases,
        config,
        group,
    };
    match kernel {
        KernelOp::Generic {
            shape,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
            ..
        } => {
            let shape = values::<Z>(&mut k.s, shape)?;
            let inputs = value_views(&mut k.s, inputs)?;
            let outputs = value_views(&mut k.s, outputs)?;
            if *reduction_dims == 0 {
                k.elementwise(&shape, &inputs, &outputs, body)?
            } else {
                k.reduction(
                    &shape,
                    *reduction_dims as usize,
                    *reduce,
                    &inputs,
                    &outputs,
                    body,
                )?
            }
        }
        KernelOp::MatMul {
            a, b, c, epilogue, ..
        } => {
            let (a, b, c) = (
                value_view(&mut k.s, a)?,
                value_view(&mut k.s, b)?,
                value_view(&mut k.s, c)?,
            );
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.matmul(&a, &b, &c, e.as_ref(), tile)?
        }
        KernelOp::Conv2d {
            x,
            w,
            y,
            strides,
            pads,
            dilations,
            groups,
            epilogue,
            ..
        } => {
            let (x, w, y) = (
                value_view(&mut k.s, x)?,
                value_view(&mut k.s, w)?,
                value_view(&mut k.s, y)?,
            );
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.conv2d(
                &x,
                &w,
                &y,
                ConvGeometry {
                    strides: *strides,
                    pads: *pads,
                    dilations: *dilations,
                    groups: *groups,
                },
                e.as_ref(),
                tile,
            )?
        }
        KernelOp::Pool2d {
            x,
            y,
            max,
            kernel: window,
            strides,
            pads,
            count_include_pad,
            epilogue,
        } => {
            let (x, y) = (value_view(&mut k.s, x)?, value_view(&mut k.s, y)?);
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.pool2d(
                &x,
                &y,
                *max,
                *window,
                *strides,
                *pads,
                *count_include_pad,
                e.as_ref(),
            )?
        }
        KernelOp::Softmax { x, y, epilogue } => {
            let (x, y) = (value_view(&mut k.s, x)?, value_view(&mut k.s, y)?);
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.softmax(&x, &y, e.as_ref())?
        }
        KernelOp::LayerNorm {
            x,
            y,
            epsilon,
            epilogue,
        } => {
            let (x, y) = (value_view(&mut k.s, x)?, value_view(&mut k.s, y)?);
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.layer_norm(&x, &y, *epsilon, e.as_ref())?
        }
        KernelOp::Gather { data, indices, out } => {
            let (data, indices, out) = (
                value_view(&mut k.s, data)?,
                value_view(&mut k.s, indices)?,
                value_view(&mut k.s, out)?,
            );
            k.gather(&data, &indices, &out)?
        }
    }
    let shader = ShaderInfo {
        features: k.s.features,
        shared_memory: k.s.shared_bytes,
    };
    if shader.shared_memory > target.max_shared_memory {
        return Err(format!(
            "needs {} bytes of shared memory; target '{}' has {}",
            shader.shared_memory, target.name, target.max_shared_memory
        ));
    }
    Ok(Lowered {
        code: k.s.finish()?,
        workgroup_size: size,
        shader,
    })
}

struct ConvGeometry {
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
    groups: u64,
}

/// How a reduction combines values.
#[derive(Clone, Copy)]
enum Combine {
    Sum,
    Max,
    Min,
    Prod,
}

/// Invocations cooperating on one row (see [`Ctx::row_group`]).
struct RowGroup {
    /// Invocations per row: 1 or the workgroup size.
    size: u32,
    /// Scratch for combining partial results, when `size > 1`.
    shared: Option<(Word, Word)>,
    lid: Word,
    /// Index within the row group.
    lane: Word,
    row: Word,
    valid: Word,
}

/// Code computing something at index `i` of a row.
type RowFn<'a, T> = &'a dyn Fn(&mut Ctx, Word) -> R<T>;
/// Code loading a GEMM operand element at (batch, row, column).
type GemmLoad<'a> = &'a dyn Fn(&mut Ctx, Word, Word, Word) -> R<Word>;
/// Code storing a GEMM result at (batch, row, column).
type GemmStore<'a> = &'a dyn Fn(&mut Ctx, Word, Word, Word, Val) -> R<()>;

struct Ctx {
    s: Shader,
    /// Each binding's element bias, loaded once in the entry block.
    bases: Vec<Word>,
    /// The op's thread mapping ([`kiln_codegen_gpu::configure`]), its sizes as values.
    config: Config<Word>,
    /// Invocations per row of a [`Mapping::Rows`].
    group: u32,
}

/// Element index of `v` at `coords` (one per dim of `v`).
fn offset(s: &mut Shader, bases: &[Word], v: &ValueView, coords: &[Word]) -> Word {
    let mut at = s.iadd(bases[v.operand as usize], v.offset);
    for (d, &c) in coords.iter().enumerate().take(v.shape.len()) {
        if s.known(v.strides[d]) != Some(0) && s.known(v.shape[d]) != Some(1) {
            let t = s.imul(c, v.strides[d]);
            at = s.iadd(at, t);
        }
    }
    at
}

fn load_view(s: &mut Shader, bases: &[Word], v: &ValueView, coords: &[Word]) -> R<Val> {
    let at = offset(s, bases, v, coords);
    s.load(v.operand, at)
}

/// The product of i32 sizes.
fn product(s: &mut Shader, dims: &[Word]) -> Word {
    let one = s.const_i32(1);
    dims.iter().fold(one, |a, &d| s.imul(a, d))
}

impl Ctx {
    fn load(&mut self, v: &ValueView, coords: &[Word]) -> R<Val> {
        load_view(&mut self.s, &self.bases, v, coords)
    }

    fn store(&mut self, v: &ValueView, coords: &[Word], value: Val) -> R<()> {
        let at = offset(&mut self.s, &self.bases, v, coords);
        self.s.store(v.operand, at, value)
    }

    /// Row-major coordinates of `linear` in `shape` (the GPU backends' shared index math).
    fn decompose(&mut self, linear: Word, shape: &[Word]) -> Vec<Word> {
        kiln_codegen_gpu::decompose(&mut self.s, linear, shape)
    }

    /// Stores `value` into `y` at `coords`, through the epilogue if there is one.
    fn store_with_epilogue(
        &mut self,
        y: &ValueView,
        e: Option<&ValueEpilogue>,
        coords: &[Word],
        value: Val,
    ) -> R<()> {
        let result = match e {
            None => value,
            Some(e) => {
                let bases = &self.bases;
                let vals = body::eval(&mut self.s, e.body, coords, &mut |s, n| {
                    if n == 0 {
                        return Ok(value);
                    }
                    let v = e
                        .inputs
                        .get(n as usize - 1)
                        .ok_or_else(|| format!("epilogue input {n} does not exist"))?;
                    load_view(s, bases, v, coords)
                })?;
                *vals.first().ok_or("an epilogue yields no value")?
            }
        };
        self.store(y, coords, result)
    }

    /// The element this invocation computes under the op's [`Mapping::Elements`].
    fn global_id(&mut self) -> Word {
        self.config.element_index(&mut self.s)
    }

    fn elementwise(
        &mut self,
        shape: &[Word],
        inputs: &[ValueView],
        outputs: &[ValueView],
        body: &kiln_kernel::Body,
    ) -> R<()> {
        let total = product(&mut self.s, shape);
        let gid = self.global_id();
        let inside = self.s.ult(gid, total);
        self.when(inside, |k| {
            let coords = k.decompose(gid, shape);
            let vals = k.eval_at(body, inputs, &coords)?;
            for (o, v) in outputs.iter().zip(vals) {
                k.store(o, &coords, v)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Evaluates `body` with `Input(n)` read from `inputs[n]` at `coords`.
    fn eval_at(
        &mut self,
        body: &kiln_kernel::Body,
        inputs: &[ValueView],
        coords: &[Word],
    ) -> R<Vec<Val>> {
        let bases = &self.bases;
        body::eval(&mut self.s, body, coords, &mut |s, n| {
            let v = inputs
                .get(n as usize)
                .ok_or_else(|| format!("input {n} does not exist"))?;
            load_view(s, bases, v, coords)
        })
    }

    /// Runs `f` inside `if cond { … }`.
    fn when(&mut self, cond: Word, f: impl FnOnce(&mut Ctx) -> R<()>) -> R<()> {
        let scope = self.s.begin_if(cond)?;
        f(self)?;
        self.s.end_if(scope)
    }

    /// Runs `f(i)` for `i` in `start..end` by `step`.
    fn each(
        &mut self,
        start: Word,
        end: Word,
        step: Word,
        f: impl FnOnce(&mut Ctx, Word) -> R<()>,
    ) -> R<()> {
        let (scope, i) = self.s.begin_loop(start, end, step)?;
        f(self, i)?;
        self.s.end_loop(scope)
    }

    fn combine(&mut self, how: Combine, kind: RegKind, a: Word, b: Word) -> Word {
        let s = &mut self.s;
        match (kind, how) {
            (RegKind::F, Combine::Sum) => s.fadd(a, b),
            (RegKind::F, Combine::Max) => s.ext(s.f32_, glsl::NMAX, &[a, b]),
            (RegKind::F, Combine::Min) => s.ext(s.f32_, glsl::NMIN, &[a, b]),
            (RegKind::I, Combine::Sum) => s.op(Op::IAdd, s.i64_, &[a, b]),
            (RegKind::I, Combine::Max) => {
                let gt = s.op(Op::SGreaterThan, s.bool_, &[a, b]);
                s.select(s.i64_, gt, a, b)
            }
            (RegKind::I, Combine::Min) => {
                let lt = s.op(Op::SLessThan, s.bool_, &[a, b]);
                s.select(s.i64_, lt, a, b)
            }
            (RegKind::F, Combine::Prod) => s.op(Op::FMul, s.f32_, &[a, b]),
            (RegKind::I, Combine::Prod) => s.op(Op::IMul, s.i64_, &[a, b]),
        }
    }

    /// `acc = combine(acc, v)`; float sums are compensated (Kahan), so long rows keep close
    /// to the interpreter's f64 accumulation.
    fn accumulate(&mut self, how: Combine, kind: RegKind, acc: Var, compensation: Var, v: Word) {
        let a = self.s.get(acc);
        if !(matches!(how, Combine::Sum) && kind == RegKind::F) {
            let c = self.combine(how, kind, a, v);
            self.s.set(acc, c);
            return;
        }
        let c = self.s.get(compensation);
        let y = self.s.fsub(v, c);
        let t = self.s.fadd(a, y);
        let d = self.s.fsub(t, a);
        let c = self.s.fsub(d, y);
        self.s.set(compensation, c);
        self.s.set(acc, t);
    }

    fn identity(&mut self, how: Combine, kind: RegKind) -> Word {
        let v = match how {
            Combine::Sum => self.s.const_kind(kind, 0.0, 0),
            Combine::Max => self.s.const_kind(kind, f32::NEG_INFINITY, i64::MIN),
            Combine::Min => self.s.const_kind(kind, f32::INFINITY, i64::MAX),
            Combine::Prod => self.s.const_kind(kind, 1.0, 1),
        };
        v.id
    }

    /// Combines `value` across the invocations of each row group; every invocation gets the
    /// result. All invocations of the workgroup must call this.
    fn group_reduce(&mut self, g: &RowGroup, how: Combine, kind: RegKind, value: Word) -> R<Word> {
        let Some(arr) = g.shared else {
            return Ok(value);
        };
        let ty = match kind {
            RegKind::F => self.s.f32_,
            RegKind::I => self.s.i64_,
        };
        self.s.shared_store(arr, g.lid, value);
        self.s.barrier();
        let mut stride = g.size / 2;
        while stride >= 1 {
            let active = self.s.ilt_k(g.lane, stride as i64);
            self.when(active, |k| {
                let other = k.s.iadd_k(g.lid, stride as i64);
                let a = k.s.shared_load(arr, ty, g.lid);
                let b = k.s.shared_load(arr, ty, other);
                let c = k.combine(how, kind, a, b);
                k.s.shared_store(arr, g.lid, c);
                Ok(())
            })?;
            self.s.barrier();
            stride /= 2;
        }
        let first = self.s.op(Op::ISub, self.s.i32_, &[g.lid, g.lane]);
        let r = self.s.shared_load(arr, ty, first);
        self.s.barrier();
        Ok(r)
    }

    /// The row-group layout of the op's [`Mapping::Rows`] for `rows` rows whose partial results
    /// have register kind `kind`: `group` invocations per row, combined through shared memory.
    fn row_group(&mut self, rows: Word, kind: RegKind) -> RowGroup {
        let wg = self.s.workgroup_size;
        let group = self.group;
        let (size, shared) = if group == 1 {
            (1, None)
        } else {
            let (ty, bytes) = match kind {
                RegKind::F => (self.s.f32_, 4),
                RegKind::I => (self.s.i64_, 8),
            };
            (wg, Some(self.s.shared_array(ty, bytes, wg)))
        };
        let at = self.config.row_position(&mut self.s);
        let (lid, lane, row) = (at.local, at.lane, at.row);
        let valid = self.s.ult(row, rows);
        RowGroup {
            size,
            shared,
            lid,
            lane,
            row,
            valid,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reduction(
        &mut self,
        shape: &[Word],
        reduction_dims: usize,
        reduce: ReduceFn,
        inputs: &[ValueView],
        outputs: &[ValueView],
        body: &kiln_kernel::Body,
    ) -> R<()> {
        let [output] = outputs else {
            return Err("a reduction must have exactly one output".into());
        };
        let p = shape.len() - reduction_dims;
        let rows = product(&mut self.s, &shape[..p]);
        let len = product(&mut self.s, &shape[p..]);
        let kind = kiln_kernel::reg_kind(output.element_type);
        let how = match reduce {
            ReduceFn::Sum | ReduceFn::Mean => Combine::Sum,
            ReduceFn::Max => Combine::Max,
            ReduceFn::Min => Combine::Min,
            ReduceFn::Prod => Combine::Prod,
        };
        let g = self.row_group(rows, kind);
        let ty = match kind {
            RegKind::F => self.s.f32_,
            RegKind::I => self.s.i64_,
        };
        let acc = self.s.var(ty);
        let init = self.identity(how, kind);
        self.s.set(acc, init);
        let compensation = self.s.var(ty);
        self.s.set(compensation, init);
        self.when(g.valid, |k| {
            let pc = k.decompose(g.row, &shape[..p]);
            let step = k.s.const_i32(g.size as i32);
            k.each(g.lane, len, step, |k, r| {
                let mut coords = pc.clone();
                coords.extend(k.decompose(r, &shape[p..]));
                let v = k.eval_at(body, inputs, &coords)?;
                let v = v.first().ok_or("a reduction body yields no value")?;
                if v.kind != kind {
                    return Err("a reduction body yields the wrong register kind".into());
                }
                k.accumulate(how, kind, acc, compensation, v.id);
                Ok(())
            })
        })?;
        let a = self.s.get(acc);
        let total = self.group_reduce(&g, how, kind, a)?;
        let zero = self.s.const_i32(0);
        let lane0 = self.s.op(Op::IEqual, self.s.bool_, &[g.lane, zero]);
        let write = self.s.and(g.valid, lane0);
        self.when(write, |k| {
            let mut v = total;
            if reduce == ReduceFn::Mean {
                v = match kind {
                    RegKind::F => {
                        let n = k.s.to_f32(len);
                        k.s.fdiv(v, n)
                    }
                    RegKind::I => {
                        let one = k.s.const_i32(1);
                        let n = k.s.imax(len, one);
                        let n = k.s.widen(n);
                        k.s.op(Op::SDiv, k.s.i64_, &[v, n])
                    }
                };
            }
            let coords = k.decompose(g.row, &shape[..p]);
            k.store(output, &coords, Val { kind, id: v })
        })?;
        Ok(())
    }

    /// Reduces `f(k, i)` over `i` in this invocation's share of `0..len`, then across the row
    /// group; returns the combined value in every invocation.
    fn row_reduce(&mut self, g: &RowGroup, len: Word, how: Combine, f: RowFn<Word>) -> R<Word> {
        let acc = self.s.var(self.s.f32_);
        let init = self.identity(how, RegKind::F);
        self.s.set(acc, init);
        let compensation = self.s.var(self.s.f32_);
        let zero = self.s.const_f32(0.0);
        self.s.set(compensation, zero);
        self.when(g.valid, |k| {
            let step = k.s.const_i32(g.size as i32);
            k.each(g.lane, len, step, |k, i| {
                let v = f(k, i)?;
                k.accumulate(how, RegKind::F, acc, compensation, v);
                Ok(())
            })
        })?;
        let a = self.s.get(acc);
        self.group_reduce(g, how, RegKind::F, a)
    }

    /// Runs `f(k, i)` for this invocation's share of `0..len`.
    fn row_write(&mut self, g: &RowGroup, len: Word, f: RowFn<()>) -> R<()> {
        self.when(g.valid, |k| {
            let step = k.s.const_i32(g.size as i32);
            k.each(g.lane, len, step, |k, i| f(k, i))
        })
    }

    fn softmax(&mut self, x: &ValueView, y: &ValueView, e: Option<&ValueEpilogue>) -> R<()> {
        let (outer, len, inner) = (x.shape[0], x.shape[1], x.shape[2]);
        let rows = product(&mut self.s, &[outer, inner]);
        let g = self.row_group(rows, RegKind::F);
        let one = self.s.const_i32(1);
        let inner = self.s.imax(inner, one);
        let (o, i) = (self.s.idiv(g.row, inner), self.s.irem(g.row, inner));
        let read = move |k: &mut Ctx, j: Word| -> R<Word> { Ok(k.load(x, &[o, j, i])?.id) };
        let max = self.row_reduce(&g, len, Combine::Max, &read)?;
        let shifted_exp = move |k: &mut Ctx, j: Word| -> R<Word> {
            let v = read(k, j)?;
            let d = k.s.fsub(v, max);
            Ok(k.s.ext(k.s.f32_, glsl::EXP, &[d]))
        };
        let sum = self.row_reduce(&g, len, Combine::Sum, &shifted_exp)?;
        let one = self.s.const_f32(1.0);
        let inv = self.s.fdiv(one, sum);
        self.row_write(&g, len, &|k, j| {
            let v = shifted_exp(k, j)?;
            let v = k.s.fmul(v, inv);
            k.store_with_epilogue(
                y,
                e,
                &[o, j, i],
                Val {
                    kind: RegKind::F,
                    id: v,
                },
            )
        })?;
        Ok(())
    }

    fn layer_norm(
        &mut self,
        x: &ValueView,
        y: &ValueView,
        eps: f32,
        e: Option<&ValueEpilogue>,
    ) -> R<()> {
        let (rows, len) = (x.shape[0], x.shape[1]);
        let g = self.row_group(rows, RegKind::F);
        let row = g.row;
        let read = move |k: &mut Ctx, j: Word| -> R<Word> { Ok(k.load(x, &[row, j])?.id) };
        let sum = self.row_reduce(&g, len, Combine::Sum, &read)?;
        let n = self.s.to_f32(len);
        let mean = self.s.fdiv(sum, n);
        let centered = move |k: &mut Ctx, j: Word| -> R<Word> {
            let v = read(k, j)?;
            Ok(k.s.fsub(v, mean))
        };
        let square = |k: &mut Ctx, j: Word| -> R<Word> {
            let c = centered(k, j)?;
            Ok(k.s.fmul(c, c))
        };
        let ss = self.row_reduce(&g, len, Combine::Sum, &square)?;
        let var = self.s.fdiv(ss, n);
        let eps = self.s.const_f32(eps);
        let ve = self.s.fadd(var, eps);
        let sd = self.s.ext(self.s.f32_, glsl::SQRT, &[ve]);
        let one = self.s.const_f32(1.0);
        let inv = self.s.fdiv(one, sd);
        self.row_write(&g, len, &|k, j| {
            let c = centered(k, j)?;
            let v = k.s.fmul(c, inv);
            k.store_with_epilogue(
                y,
                e,
                &[row, j],
                Val {
                    kind: RegKind::F,
                    id: v,
                },
            )
        })?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn pool2d(
        &mut self,
        x: &ValueView,
        y: &ValueView,
        max: bool,
        window: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        count_include_pad: bool,
        e: Option<&ValueEpilogue>,
    ) -> R<()> {
        let total = product(&mut self.s, &y.shape);
        let (h, w) = (x.shape[2], x.shape[3]);
        let gid = self.global_id();
        let inside = self.s.ult(gid, total);
        self.when(inside, |k| {
            let c = k.decompose(gid, &y.shape);
            let f32_ = k.s.f32_;
            let acc = k.s.var(f32_);
            let count = k.s.var(k.s.i32_);
            let init = k.s.const_f32(if max { f32::NEG_INFINITY } else { 0.0 });
            k.s.set(acc, init);
            let zero = k.s.const_i32(0);
            k.s.set(count, zero);
            let oy = k.s.imul_k(c[2], strides[0] as i64);
            let oy = k.s.iadd_k(oy, -(pads[0] as i64));
            let ox = k.s.imul_k(c[3], strides[1] as i64);
            let ox = k.s.iadd_k(ox, -(pads[1] as i64));
            let (z, kh) = (k.s.const_i32(0), k.s.const_i32(window[0] as i32));
            let one = k.s.const_i32(1);
            k.each(z, kh, one, |k, ky| {
                let kw = k.s.const_i32(window[1] as i32);
                k.each(z, kw, one, |k, kx| {
                    let iy = k.s.iadd(oy, ky);
                    let ix = k.s.iadd(ox, kx);
                    let ok = k.in_range(iy, h);
                    let ok_x = k.in_range(ix, w);
                    let ok = k.s.and(ok, ok_x);
                    k.when(ok, |k| {
                        let v = k.load(x, &[c[0], c[1], iy, ix])?.id;
                        let a = k.s.get(acc);
                        let n = if max {
                            k.combine(Combine::Max, RegKind::F, a, v)
                        } else {
                            k.s.fadd(a, v)
                        };
                        k.s.set(acc, n);
                        let cn = k.s.get(count);
                        let cn = k.s.iadd_k(cn, 1);
                        k.s.set(count, cn);
                        Ok(())
                    })
                })
            })?;
            let mut v = k.s.get(acc);
            if !max {
                let divisor = if count_include_pad {
                    k.s.const_f32((window[0] * window[1]) as f32)
                } else {
                    let cn = k.s.get(count);
                    let one = k.s.const_i32(1);
                    let m = k.s.op(Op::SLessThan, k.s.bool_, &[cn, one]);
                    let cn = k.s.select(k.s.i32_, m, one, cn);
                    k.s.op(Op::ConvertSToF, f32_, &[cn])
                };
                v = k.s.fdiv(v, divisor);
            }
            k.store_with_epilogue(
                y,
                e,
                &c,
                Val {
                    kind: RegKind::F,
                    id: v,
                },
            )
        })?;
        Ok(())
    }

    /// `0 <= i < n`.
    fn in_range(&mut self, i: Word, n: Word) -> Word {
        let z = self.s.const_i32(0);
        let ge = self.s.op(Op::SGreaterThanEqual, self.s.bool_, &[i, z]);
        let lt = self.s.ilt(i, n);
        self.s.and(ge, lt)
    }

    fn gather(&mut self, data: &ValueView, indices: &ValueView, out: &ValueView) -> R<()> {
        let total = product(&mut self.s, &out.shape);
        let gid = self.global_id();
        let inside = self.s.ult(gid, total);
        let dim = data.shape[1];
        self.when(inside, |k| {
            let c = k.decompose(gid, &out.shape);
            let raw = k.load(indices, &[c[1]])?.id;
            let i64_ = k.s.i64_;
            let zero = k.s.const_i64(0);
            let len = k.s.widen(dim);
            let neg = k.s.op(Op::SLessThan, k.s.bool_, &[raw, zero]);
            let wrapped = k.s.op(Op::IAdd, i64_, &[raw, len]);
            let idx = k.s.select(i64_, neg, wrapped, raw);
            let ge = k.s.op(Op::SGreaterThanEqual, k.s.bool_, &[idx, zero]);
            let lt = k.s.op(Op::SLessThan, k.s.bool_, &[idx, len]);
            let ok = k.s.and(ge, lt);
            let bad = k.s.op(Op::LogicalNot, k.s.bool_, &[ok]);
            k.when(bad, |k| {
                k.s.report_error(ErrorCode::GatherIndexOutOfRange as u32)
            })?;
            k.when(ok, |k| {
                let i = k.s.op(Op::SConvert, k.s.i32_, &[idx]);
                let from = offset(&mut k.s, &k.bases, data, &[c[0], i, c[2]]);
                let to = offset(&mut k.s, &k.bases, out, &c);
                k.s.copy_element(data.operand, from, out.operand, to)
            })
        })?;
        Ok(())
    }

    /// Batched `C[b] = A[b]·B[b]` with `TILE×TILE` output tiles staged through shared memory.
    /// `load_a(k, b, m, kk)` and `load_b(k, b, kk, n)` are called only for in-range indices;
    /// `store(k, b, m, n, value)` only for in-range outputs.
    #[allow(clippy::too_many_arguments)]
    /// A tiled GEMM over f32 values. With `integer`, the operands are integers of at most
    /// 8 bits loaded as floats: each depth tile's f32 sum is exact (a tile of at most 512
    /// products of 255·128), and the tiles add up in an i64 register, so the result — an
    /// integer value — is exact at any depth.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &mut self,
        (batch, m, n, kdim): (Word, Word, Word, Word),
        tile: u32,
        integer: bool,
        load_a: GemmLoad,
        load_b: GemmLoad,
        store: GemmStore,
    ) -> R<()> {
        debug_assert!(!integer || tile <= 512);
        let t = tile as u64;
        let f32_ = self.s.f32_;
        let sa = self.s.shared_array(f32_, 4, tile * tile);
        let sb = self.s.shared_array(f32_, 4, tile * tile);
        let at = self.config.gemm_position(&mut self.s, m, n);
        let (lid, b, row, col, ty, tx) = (at.local, at.batch, at.row, at.col, at.ty, at.tx);
        let batch_ok = self.s.ilt(b, batch);
        let acc = self.s.var(f32_);
        let zero_f = self.s.const_f32(0.0);
        self.s.set(acc, zero_f);
        let staged = self.s.var(f32_);
        let total = self.s.var(self.s.i64_);
        let zero_i = self.s.const_i64(0);
        self.s.set(total, zero_i);
        let (z, step) = (self.s.const_i32(0), self.s.const_i32(tile as i32));
        self.each(z, kdim, step, |k, k0| {
            // Stage A[row, k0+tx] and B[k0+ty, col].
            let ka = k.s.iadd(k0, tx);
            let kb = k.s.iadd(k0, ty);
            for (which, r, c, bound_r, bound_c) in [(0, row, ka, m, kdim), (1, kb, col, kdim, n)] {
                let zero_f = k.s.const_f32(0.0);
                k.s.set(staged, zero_f);
                let ok_r = k.s.ilt(r, bound_r);
                let ok_c = k.s.ilt(c, bound_c);
                let ok = k.s.and(ok_r, ok_c);
                let ok = k.s.and(ok, batch_ok);
                k.when(ok, |k| {
                    let v = if which == 0 {
                        load_a(k, b, r, c)?
                    } else {
                        load_b(k, b, r, c)?
                    };
                    k.s.set(staged, v);
                    Ok(())
                })?;
                let v = k.s.get(staged);
                k.s.shared_store(if which == 0 { sa } else { sb }, lid, v);
            }
            k.s.barrier();
            let (z, te, one) = (
                k.s.const_i32(0),
                k.s.const_i32(tile as i32),
                k.s.const_i32(1),
            );
            k.each(z, te, one, |k, kk| {
                let ai = k.s.imul_k(ty, t as i64);
                let ai = k.s.iadd(ai, kk);
                let bi = k.s.imul_k(kk, t as i64);
                let bi = k.s.iadd(bi, tx);
                let av = k.s.shared_load(sa, f32_, ai);
                let bv = k.s.shared_load(sb, f32_, bi);
                let p = k.s.fmul(av, bv);
                let a = k.s.get(acc);
                let s = k.s.fadd(a, p);
                k.s.set(acc, s);
                Ok(())
            })?;
            if integer {
                let i64_ = k.s.i64_;
                let tile_sum = k.s.get(acc);
                let tile_sum = k.s.op(Op::ConvertFToS, i64_, &[tile_sum]);
                let sum = k.s.get(total);
                let sum = k.s.op(Op::IAdd, i64_, &[sum, tile_sum]);
                k.s.set(total, sum);
                let zero_f = k.s.const_f32(0.0);
                k.s.set(acc, zero_f);
            }
            k.s.barrier();
            Ok(())
        })?;
        let ok_r = self.s.ilt(row, m);
        let ok_c = self.s.ilt(col, n);
        let ok = self.s.and(ok_r, ok_c);
        let ok = self.s.and(ok, batch_ok);
        self.when(ok, |k| {
            let v = if integer {
                Val {
                    kind: RegKind::I,
                    id: k.s.get(total),
                }
            } else {
                Val {
                    kind: RegKind::F,
                    id: k.s.get(acc),
                }
            };
            store(k, b, row, col, v)
        })?;
        Ok(())
    }

    fn matmul(
        &mut self,
        a: &ValueView,
        b: &ValueView,
        c: &ValueView,
        e: Option<&ValueEpilogue>,
        tile: u32,
    ) -> R<()> {
        let dims = (c.shape[0], c.shape[1], c.shape[2], a.shape[2]);
        // ui8 by i8: summed exactly as integers (i32 into the epilogue).
        let integer = b.element_type == ElementType::I8;
        let as_f32 = |k: &mut Ctx, v: Val| body::cast(&mut k.s, v, ElementType::F32).id;
        self.gemm(
            dims,
            tile,
            integer,
            &|k, bi, m, kk| {
                let v = k.load(a, &[bi, m, kk])?;
                Ok(as_f32(k, v))
            },
            &|k, bi, kk, n| {
                let v = k.load(b, &[bi, kk, n])?;
                Ok(as_f32(k, v))
            },
            &|k, bi, m, n, v| k.store_with_epilogue(c, e, &[bi, m, n], v),
        )
    }

    fn conv2d(
        &mut self,
        x: &ValueView,
        w: &ValueView,
        y: &ValueView,
        g: ConvGeometry,
        e: Option<&ValueEpilogue>,
        tile: u32,
    ) -> R<()> {
        let (n_img, h, wd) = (x.shape[0], x.shape[2], x.shape[3]);
        let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
        let (oh, ow) = (y.shape[2], y.shape[3]);
        // ui8 pixels by i8 weights: summed exactly as integers (i32 into the epilogue).
        let integer = w.element_type == ElementType::I8;
        let groups = g.groups.max(1);
        let groups_v = self.s.const_i32(groups as i32);
        let ocg = self.s.idiv(oc, groups_v);
        let kdim = product(&mut self.s, &[icg, kh, kw]);
        let pixels = product(&mut self.s, &[oh, ow]);
        let batch = product(&mut self.s, &[n_img, groups_v]);
        let taps = self.s.imul(kh, kw);
        // A = weights of group g: rows oc, columns (ic, ky, kx).
        let load_a = |k: &mut Ctx, bg: Word, m: Word, kk: Word| -> R<Word> {
            let gi = k.s.irem(bg, groups_v);
            let o = k.s.imul(gi, ocg);
            let o = k.s.iadd(o, m);
            let ic = k.s.idiv(kk, taps);
            let r = k.s.irem(kk, taps);
            let (ky, kx) = (k.s.idiv(r, kw), k.s.irem(r, kw));
            let v = k.load(w, &[o, ic, ky, kx])?;
            Ok(body::cast(&mut k.s, v, ElementType::F32).id)
        };
        // B = the image patch matrix, read in place: rows (ic, ky, kx), columns output pixels.
        let load_b = |k: &mut Ctx, bg: Word, kk: Word, p: Word| -> R<Word> {
            let ni = k.s.idiv(bg, groups_v);
            let gi = k.s.irem(bg, groups_v);
            let ic = k.s.idiv(kk, taps);
            let r = k.s.irem(kk, taps);
            let (ky, kx) = (k.s.idiv(r, kw), k.s.irem(r, kw));
            let (py, px) = (k.s.idiv(p, ow), k.s.irem(p, ow));
            let iy = k.s.imul_k(py, g.strides[0] as i64);
            let dy = k.s.imul_k(ky, g.dilations[0] as i64);
            let iy = k.s.iadd(iy, dy);
            let iy = k.s.iadd_k(iy, -(g.pads[0] as i64));
            let ix = k.s.imul_k(px, g.strides[1] as i64);
            let dx = k.s.imul_k(kx, g.dilations[1] as i64);
            let ix = k.s.iadd(ix, dx);
            let ix = k.s.iadd_k(ix, -(g.pads[1] as i64));
            let ok_y = k.in_range(iy, h);
            let ok_x = k.in_range(ix, wd);
            let ok = k.s.and(ok_y, ok_x);
            let v = k.s.var(k.s.f32_);
            let zero = k.s.const_f32(0.0);
            k.s.set(v, zero);
            let c = k.s.imul(gi, icg);
            let c = k.s.iadd(c, ic);
            k.when(ok, |k| {
                let val = k.load(x, &[ni, c, iy, ix])?;
                let val = body::cast(&mut k.s, val, ElementType::F32).id;
                k.s.set(v, val);
                Ok(())
            })?;
            Ok(k.s.get(v))
        };
        let store = |k: &mut Ctx, bg: Word, m: Word, p: Word, v: Val| -> R<()> {
            let ni = k.s.idiv(bg, groups_v);
            let gi = k.s.irem(bg, groups_v);
            let o = k.s.imul(gi, ocg);
            let o = k.s.iadd(o, m);
            let (py, px) = (k.s.idiv(p, ow), k.s.irem(p, ow));
            k.store_with_epilogue(y, e, &[ni, o, py, px], v)
        };
        self.gemm(
            (batch, ocg, pixels, kdim),
            tile,
            integer,
            &load_a,
            &load_b,
            &store,
        )
    }
}
