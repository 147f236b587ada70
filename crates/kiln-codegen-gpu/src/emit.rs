//! What each invocation does for each kernel IR op under its thread mapping, written once for
//! every GPU code generator over [`GpuBuilder`], the instructions a generator provides.
//!
//! - Elementwise generics, pooling and gather: one invocation per output element.
//! - Reductions, softmax and layer norm: a group of `T` invocations per output row (`T` is the
//!   workgroup size when rows are long, 1 when short), each striding over the row, combined
//!   through workgroup shared memory with a tree of barriers.
//! - Matmul and convolution: one GEMM template, `TILE×TILE` outputs per workgroup, with `A`
//!   and `B` tiles staged through shared memory; convolution is implicit GEMM (its `B` tile is
//!   read straight from the image with padding, no im2col buffer).
//!
//! Sizes are i32 values of the kernel: constants for a kernel whose sizes are known when
//! compiling, or computed at entry from the symbols' values ([`GpuSizes`]); generators fold
//! index arithmetic on constants, so a static kernel's code has its sizes inline.

mod matrix;

use crate::{Config, GpuError, IndexBuilder, Mapping};
use kiln_kernel::{Body, Epilogue, Op, ReduceFn, RegKind, Sizes, Static, Symbolic, View};
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;

/// A generator's error while emitting a kernel (the message says why).
pub type R<T> = Result<T, String>;

/// A register value: its kind (f32 or i64) and the generator's handle for it.
#[derive(Clone, Copy, Debug)]
pub struct Val<V> {
    pub kind: RegKind,
    pub id: V,
}

/// What a value holds: a 32-bit signed index, a condition, or a register (f32 or i64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Index,
    Bool,
    F32,
    I64,
}

impl Kind {
    /// The kind of registers of `k`.
    pub fn of(k: RegKind) -> Kind {
        match k {
            RegKind::F => Kind::F32,
            RegKind::I => Kind::I64,
        }
    }
}

/// A comparison (signed, except [`Cmp::ULt`]; ordered for floats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Gt,
    Ge,
    Eq,
    /// `a < b` comparing as unsigned (an index wrapped past 2^31 is never below a size).
    ULt,
}

/// Arithmetic on registers. Float `Max`/`Min` return the other operand when one is NaN;
/// integer `Div` truncates (its divisor is never zero here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

/// The instructions a GPU code generator provides for [`emit`]: index math (the
/// [`IndexBuilder`] supertrait, with [`IndexBuilder::Index`] the handle of a value of any
/// [`Kind`]), register arithmetic, variables, structured control flow, shared memory and the
/// bindings. Generators fold index operations on constants.
pub trait GpuBuilder: IndexBuilder {
    /// A function-local mutable variable.
    type Var: Copy;
    /// A workgroup-shared array.
    type Shared: Copy;
    /// An open `if`.
    type IfScope;
    /// An open counted loop.
    type LoopScope;

    /// The value of `v` when it is an index constant.
    fn known(&self, v: Self::Index) -> Option<i64>;
    /// An index constant (strides may be negative).
    fn const_index(&mut self, v: i32) -> Self::Index;
    /// A size expression over the kernel's symbols as an index value.
    fn size(&mut self, n: &SymExpr) -> R<Self::Index>;
    /// `a - b` on indices.
    fn sub(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    /// Compares two values of `kind` (an index or a register kind).
    fn compare(&mut self, kind: Kind, c: Cmp, a: Self::Index, b: Self::Index) -> Self::Index;
    fn and(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    fn not(&mut self, a: Self::Index) -> Self::Index;
    fn select(&mut self, kind: Kind, c: Self::Index, a: Self::Index, b: Self::Index)
        -> Self::Index;
    fn const_f32(&mut self, v: f32) -> Self::Index;
    fn const_i64(&mut self, v: i64) -> Self::Index;
    fn arith(&mut self, op: Arith, kind: RegKind, a: Self::Index, b: Self::Index) -> Self::Index;
    fn sqrt(&mut self, a: Self::Index) -> Self::Index;
    fn exp(&mut self, a: Self::Index) -> Self::Index;
    /// Converts between kinds: index to f32 or i64, i64 to index, f32 to i64 (truncating a
    /// value known to be in range).
    fn convert(&mut self, from: Kind, to: Kind, a: Self::Index) -> Self::Index;

    fn var(&mut self, kind: Kind) -> Self::Var;
    fn get(&mut self, v: Self::Var) -> Self::Index;
    fn set(&mut self, v: Self::Var, value: Self::Index);
    fn begin_if(&mut self, cond: Self::Index) -> R<Self::IfScope>;
    fn end_if(&mut self, scope: Self::IfScope) -> R<()>;
    /// Opens `for i in (start..end).step_by(step)`; returns the scope and `i`.
    fn begin_loop(
        &mut self,
        start: Self::Index,
        end: Self::Index,
        step: Self::Index,
    ) -> R<(Self::LoopScope, Self::Index)>;
    fn end_loop(&mut self, scope: Self::LoopScope) -> R<()>;

    /// A workgroup-shared array of `n` registers of kind `kind`.
    fn shared_array(&mut self, kind: RegKind, n: u32) -> Self::Shared;
    fn shared_load(&mut self, array: Self::Shared, index: Self::Index) -> Self::Index;
    fn shared_store(&mut self, array: Self::Shared, index: Self::Index, value: Self::Index);
    /// A workgroup barrier ordering shared-memory accesses.
    fn barrier(&mut self);

    /// The element index where binding `b`'s view offsets count from.
    fn binding_base(&mut self, b: u32) -> Self::Index;
    /// Loads element `index` of `binding` as a register of its element type's kind.
    fn load(&mut self, binding: u32, index: Self::Index) -> R<Val<Self::Index>>;
    /// Stores a register into element `index` of `binding`, converting to its element type.
    fn store(&mut self, binding: u32, index: Self::Index, value: Val<Self::Index>) -> R<()>;
    /// Copies one element between bindings of the same element type, bit for bit.
    fn copy_element(
        &mut self,
        from: u32,
        from_index: Self::Index,
        to: u32,
        to_index: Self::Index,
    ) -> R<()>;
    /// Reports a gather index outside its dim (the dispatch fails with that error).
    fn report_index_out_of_range(&mut self) -> R<()>;
    /// Evaluates a scalar body at `coords` with the interpreter's semantics; `input(b, n)`
    /// produces `Input(n)`.
    #[allow(clippy::type_complexity)]
    fn eval_body(
        &mut self,
        body: &Body,
        coords: &[Self::Index],
        input: &mut dyn FnMut(&mut Self, u32) -> R<Val<Self::Index>>,
    ) -> R<Vec<Val<Self::Index>>>;
    /// A body's cast of a register to element type `t`'s values.
    fn cast(&mut self, v: Val<Self::Index>, t: ElementType) -> Val<Self::Index>;

    /// f32 values each invocation holds of a `16×16` accumulator fragment of the subgroup
    /// matrix units (0 where the generator has none: the default).
    fn matrix_accumulator_len(&self) -> usize {
        0
    }
    /// A workgroup-shared array of `n` elements of `t` (one of the target's
    /// [`crate::GpuTarget::matrix_types`], or f32 for accumulators), aligned for
    /// [`GpuBuilder::matrix_load`] and [`GpuBuilder::matrix_store`].
    fn matrix_shared_array(&mut self, t: ElementType, n: u32) -> R<Self::Shared> {
        let _ = n;
        Err(format!("this generator has no matrix units for {t}"))
    }
    /// Stores the f32 register `value`, a value of the array's element type, into element
    /// `index` of an array of [`GpuBuilder::matrix_shared_array`].
    fn matrix_stage(
        &mut self,
        array: Self::Shared,
        index: Self::Index,
        value: Self::Index,
    ) -> R<()> {
        let _ = (array, index, value);
        Err("this generator has no matrix units".into())
    }
    /// The subgroup's `16×16` fragment of `operand`, elements of `t` read row-major from
    /// element `offset` of `array`, rows `stride` elements apart (a multiple of 8).
    fn matrix_load(
        &mut self,
        operand: MatrixOperand,
        t: ElementType,
        array: Self::Shared,
        offset: Self::Index,
        stride: u32,
    ) -> R<Vec<Self::Index>> {
        let _ = (operand, array, offset, stride);
        Err(format!("this generator has no matrix units for {t}"))
    }
    /// `c + a·b` on fragments of `t` operands and an f32 accumulator.
    fn matrix_multiply_add(
        &mut self,
        t: ElementType,
        a: &[Self::Index],
        b: &[Self::Index],
        c: &[Self::Index],
    ) -> R<Vec<Self::Index>> {
        let _ = (a, b, c);
        Err(format!("this generator has no matrix units for {t}"))
    }
    /// Stores accumulator fragment `c` row-major into the f32 shared `array` from element
    /// `offset`, rows `stride` elements apart.
    fn matrix_store(
        &mut self,
        array: Self::Shared,
        offset: Self::Index,
        stride: u32,
        c: &[Self::Index],
    ) -> R<()> {
        let _ = (array, offset, stride, c);
        Err("this generator has no matrix units".into())
    }
}

/// Which operand of a matrix multiply a fragment holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixOperand {
    /// The left operand (`m×k`).
    A,
    /// The right operand (`k×n`).
    B,
}

/// How a size family's extents become kernel values, and what a runtime checks for them.
pub trait GpuSizes: Sizes {
    /// The index value of an extent or stride (a constant when known).
    fn extent<B: GpuBuilder>(b: &mut B, n: &Self::Extent) -> R<B::Index>;
    fn stride<B: GpuBuilder>(b: &mut B, n: &Self::Stride) -> R<B::Index>;
    /// Bytes a view may touch from its binding's start, as an expression over the symbols;
    /// errors where 32-bit indices cannot address it.
    fn view_extent(v: &View<Self>) -> R<SymExpr>;
    /// The extent as an expression over the symbols.
    fn expr(n: &Self::Extent) -> SymExpr;
    fn stride_expr(n: &Self::Stride) -> SymExpr;
}

impl GpuSizes for Static {
    fn extent<B: GpuBuilder>(b: &mut B, n: &u64) -> R<B::Index> {
        i32::try_from(*n)
            .map(|n| b.const_index(n))
            .map_err(|_| format!("an extent of {n} exceeds 2^31 elements"))
    }
    fn stride<B: GpuBuilder>(b: &mut B, n: &i64) -> R<B::Index> {
        i32::try_from(*n)
            .map(|n| b.const_index(n))
            .map_err(|_| format!("a stride of {n} exceeds 2^31 elements"))
    }
    fn view_extent(v: &View) -> R<SymExpr> {
        let Some((lo, hi)) = v.span().map_err(|e| e.to_string())? else {
            return Ok(SymExpr::from(0));
        };
        if lo < 0 || hi > i32::MAX as i64 {
            return Err(format!(
                "a view spans elements {lo}..{hi}; GPU kernels index at most 2^31 elements per binding"
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

impl GpuSizes for Symbolic {
    fn extent<B: GpuBuilder>(b: &mut B, n: &SymExpr) -> R<B::Index> {
        b.size(n)
    }
    fn stride<B: GpuBuilder>(b: &mut B, n: &SymExpr) -> R<B::Index> {
        b.size(n)
    }
    fn view_extent(v: &View<Symbolic>) -> R<SymExpr> {
        // offset + Σ (extent − 1)·stride + 1 elements, strides non-negative (a view of no
        // elements may evaluate below zero, which binds as nothing).
        let mut end = v.offset.clone() + SymExpr::from(1);
        for (n, st) in v.shape.iter().zip(&v.strides) {
            if !st.is_nonnegative() && st.as_const() != Some(0) {
                return Err(format!(
                    "a view with stride {st} over sizes known only at run time (GPU kernels need non-negative strides there)"
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
pub fn binding_types<Z: Sizes>(kernel: &Op<Z>) -> R<Vec<ElementType>> {
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
pub fn binding_extents<Z: GpuSizes>(kernel: &Op<Z>, count: usize) -> R<Vec<SymExpr>> {
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

/// The symbols an op's sizes read, sorted: the order a dispatch passes their values.
pub fn symbols_of<Z: GpuSizes>(kernel: &Op<Z>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for v in kernel.views() {
        let sizes = std::iter::once(&v.offset).chain(&v.shape);
        out.extend(sizes.flat_map(|n| Z::expr(n).symbols()));
        out.extend(v.strides.iter().flat_map(|n| Z::stride_expr(n).symbols()));
    }
    if let Op::Generic { shape, .. } = kernel {
        out.extend(shape.iter().flat_map(|n| Z::expr(n).symbols()));
    }
    out.sort();
    out.dedup();
    out
}

/// A view with its offset, extents and strides as kernel values.
struct ValueView<I> {
    operand: u32,
    element_type: ElementType,
    offset: I,
    shape: Vec<I>,
    strides: Vec<I>,
}

fn value_view<Z: GpuSizes, B: GpuBuilder>(b: &mut B, v: &View<Z>) -> R<ValueView<B::Index>> {
    Ok(ValueView {
        operand: v.operand,
        element_type: v.element_type,
        offset: Z::extent(b, &v.offset)?,
        shape: v.shape.iter().map(|n| Z::extent(b, n)).collect::<R<_>>()?,
        strides: v
            .strides
            .iter()
            .map(|n| Z::stride(b, n))
            .collect::<R<_>>()?,
    })
}

fn value_views<Z: GpuSizes, B: GpuBuilder>(
    b: &mut B,
    vs: &[View<Z>],
) -> R<Vec<ValueView<B::Index>>> {
    vs.iter().map(|v| value_view(b, v)).collect()
}

fn values<Z: GpuSizes, B: GpuBuilder>(b: &mut B, ns: &[Z::Extent]) -> R<Vec<B::Index>> {
    ns.iter().map(|n| Z::extent(b, n)).collect()
}

/// An epilogue with its inputs' views as values.
struct ValueEpilogue<'k, I> {
    inputs: Vec<ValueView<I>>,
    body: &'k Body,
}

fn value_epilogue<'k, Z: GpuSizes, B: GpuBuilder>(
    b: &mut B,
    e: Option<&'k Epilogue<Z>>,
) -> R<Option<ValueEpilogue<'k, B::Index>>> {
    e.map(|e| {
        Ok(ValueEpilogue {
            inputs: value_views(b, &e.inputs)?,
            body: &e.body,
        })
    })
    .transpose()
}

/// Emits `kernel`'s code into `b` for its GPU lowering `config` (from [`crate::configure`]),
/// after every view's extent is checked addressable with 32-bit indices; returns the builder.
pub fn emit<Z: GpuSizes, B: GpuBuilder>(b: B, kernel: &Op<Z>, config: &Config<Z::Extent>) -> R<B> {
    let types = binding_types(kernel)?;
    for v in kernel.views() {
        Z::view_extent(v)?;
    }
    let size = config.workgroup_size;
    let (tile, group) = match config.mapping {
        Mapping::GemmTiles { tile, .. } => (tile, 1),
        Mapping::MatrixTiles { .. } => (0, 1),
        Mapping::Rows { group, .. } => (0, group),
        Mapping::Elements { .. } => (0, 1),
    };
    let mut s = b;
    let bases: Vec<B::Index> = (0..types.len() as u32).map(|i| s.binding_base(i)).collect();
    let mapping = match &config.mapping {
        Mapping::Elements { domain } => Mapping::Elements {
            domain: values::<Z, B>(&mut s, domain)?,
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
            per_thread,
        } => Mapping::GemmTiles {
            batch: Z::extent(&mut s, batch)?,
            m: Z::extent(&mut s, m)?,
            n: Z::extent(&mut s, n)?,
            k: Z::extent(&mut s, k)?,
            tile: *tile,
            per_thread: *per_thread,
        },
        Mapping::MatrixTiles {
            batch,
            m,
            n,
            k,
            element,
        } => Mapping::MatrixTiles {
            batch: Z::extent(&mut s, batch)?,
            m: Z::extent(&mut s, m)?,
            n: Z::extent(&mut s, n)?,
            k: Z::extent(&mut s, k)?,
            element: *element,
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
        Op::Generic {
            shape,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
            ..
        } => {
            let shape = values::<Z, B>(&mut k.s, shape)?;
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
        Op::MatMul {
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
        Op::Conv2d {
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
        Op::Pool2d {
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
                PoolGeometry {
                    max: *max,
                    window: *window,
                    strides: *strides,
                    pads: *pads,
                    count_include_pad: *count_include_pad,
                },
                e.as_ref(),
            )?
        }
        Op::Softmax { x, y, epilogue } => {
            let (x, y) = (value_view(&mut k.s, x)?, value_view(&mut k.s, y)?);
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.softmax(&x, &y, e.as_ref())?
        }
        Op::LayerNorm {
            x,
            y,
            epsilon,
            epilogue,
        } => {
            let (x, y) = (value_view(&mut k.s, x)?, value_view(&mut k.s, y)?);
            let e = value_epilogue(&mut k.s, epilogue.as_ref())?;
            k.layer_norm(&x, &y, *epsilon, e.as_ref())?
        }
        Op::Gather { data, indices, out } => {
            let (data, indices, out) = (
                value_view(&mut k.s, data)?,
                value_view(&mut k.s, indices)?,
                value_view(&mut k.s, out)?,
            );
            k.gather(&data, &indices, &out)?
        }
        Op::Recurrent { .. } => return Err(GpuError::CpuOnly { op: kernel.name() }.to_string()),
    }
    Ok(k.s)
}

struct ConvGeometry {
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
    groups: u64,
}

struct PoolGeometry {
    max: bool,
    window: [u64; 2],
    strides: [u64; 2],
    pads: [u64; 4],
    count_include_pad: bool,
}

/// How a reduction combines values.
#[derive(Clone, Copy)]
enum Combine {
    Sum,
    Max,
    Min,
    Prod,
}

impl Combine {
    fn arith(self) -> Arith {
        match self {
            Combine::Sum => Arith::Add,
            Combine::Max => Arith::Max,
            Combine::Min => Arith::Min,
            Combine::Prod => Arith::Mul,
        }
    }
}

/// Invocations cooperating on one row (see [`Ctx::row_group`]).
struct RowGroup<B: GpuBuilder> {
    /// Invocations per row: 1 or the workgroup size.
    size: u32,
    /// Scratch for combining partial results, when `size > 1`.
    shared: Option<B::Shared>,
    lid: B::Index,
    /// Index within the row group.
    lane: B::Index,
    row: B::Index,
    valid: B::Index,
}

/// Code computing something at index `i` of a row.
type RowFn<'a, B, T> = &'a dyn Fn(&mut Ctx<B>, <B as IndexBuilder>::Index) -> R<T>;
/// Code loading a GEMM operand element at (batch, row, column).
type GemmLoad<'a, B> = &'a dyn Fn(
    &mut Ctx<B>,
    <B as IndexBuilder>::Index,
    <B as IndexBuilder>::Index,
    <B as IndexBuilder>::Index,
) -> R<<B as IndexBuilder>::Index>;
/// Code storing a GEMM result at (batch, row, column).
type GemmStore<'a, B> = &'a dyn Fn(
    &mut Ctx<B>,
    <B as IndexBuilder>::Index,
    <B as IndexBuilder>::Index,
    <B as IndexBuilder>::Index,
    Val<<B as IndexBuilder>::Index>,
) -> R<()>;

struct Ctx<B: GpuBuilder> {
    s: B,
    /// Each binding's element base.
    bases: Vec<B::Index>,
    /// The op's thread mapping ([`crate::configure`]), its sizes as values.
    config: Config<B::Index>,
    /// Invocations per row of a [`Mapping::Rows`].
    group: u32,
}

/// Element index of `v` at `coords` (one per dim of `v`).
fn offset<B: GpuBuilder>(
    s: &mut B,
    bases: &[B::Index],
    v: &ValueView<B::Index>,
    coords: &[B::Index],
) -> B::Index {
    let mut at = s.add(bases[v.operand as usize], v.offset);
    for (d, &c) in coords.iter().enumerate().take(v.shape.len()) {
        if s.known(v.strides[d]) != Some(0) && s.known(v.shape[d]) != Some(1) {
            let t = s.mul(c, v.strides[d]);
            at = s.add(at, t);
        }
    }
    at
}

fn load_view<B: GpuBuilder>(
    s: &mut B,
    bases: &[B::Index],
    v: &ValueView<B::Index>,
    coords: &[B::Index],
) -> R<Val<B::Index>> {
    let at = offset(s, bases, v, coords);
    s.load(v.operand, at)
}

/// The product of index values.
fn product<B: GpuBuilder>(s: &mut B, dims: &[B::Index]) -> B::Index {
    let one = s.const_index(1);
    dims.iter().fold(one, |a, &d| s.mul(a, d))
}

/// `a + k` for a constant `k`.
fn add_k<B: GpuBuilder>(s: &mut B, a: B::Index, k: i64) -> B::Index {
    if k == 0 {
        return a;
    }
    let c = s.const_index(k as i32);
    s.add(a, c)
}

/// `a · k` for a constant `k`.
fn mul_k<B: GpuBuilder>(s: &mut B, a: B::Index, k: i64) -> B::Index {
    let c = s.const_index(k as i32);
    s.mul(a, c)
}

impl<B: GpuBuilder> Ctx<B> {
    fn load(&mut self, v: &ValueView<B::Index>, coords: &[B::Index]) -> R<Val<B::Index>> {
        load_view(&mut self.s, &self.bases, v, coords)
    }

    fn store(
        &mut self,
        v: &ValueView<B::Index>,
        coords: &[B::Index],
        value: Val<B::Index>,
    ) -> R<()> {
        let at = offset(&mut self.s, &self.bases, v, coords);
        self.s.store(v.operand, at, value)
    }

    fn decompose(&mut self, linear: B::Index, shape: &[B::Index]) -> Vec<B::Index> {
        crate::decompose(&mut self.s, linear, shape)
    }

    fn ilt(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.compare(Kind::Index, Cmp::Lt, a, b)
    }

    fn ult(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.compare(Kind::Index, Cmp::ULt, a, b)
    }

    fn fadd(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.arith(Arith::Add, RegKind::F, a, b)
    }

    fn fsub(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.arith(Arith::Sub, RegKind::F, a, b)
    }

    fn fmul(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.arith(Arith::Mul, RegKind::F, a, b)
    }

    fn fdiv(&mut self, a: B::Index, b: B::Index) -> B::Index {
        self.s.arith(Arith::Div, RegKind::F, a, b)
    }

    /// Stores `value` into `y` at `coords`, through the epilogue if there is one.
    fn store_with_epilogue(
        &mut self,
        y: &ValueView<B::Index>,
        e: Option<&ValueEpilogue<B::Index>>,
        coords: &[B::Index],
        value: Val<B::Index>,
    ) -> R<()> {
        let result = match e {
            None => value,
            Some(e) => {
                // The op's result is a value of its output type (a GEMM of f16 operands
                // yields f16) before the epilogue reads it, as the graph says.
                let value = match y.element_type {
                    ElementType::F16 | ElementType::BF16 => self.s.cast(value, y.element_type),
                    _ => value,
                };
                let bases = &self.bases;
                let vals = self.s.eval_body(e.body, coords, &mut |s, n| {
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
    fn global_id(&mut self) -> B::Index {
        self.config.element_index(&mut self.s)
    }

    fn elementwise(
        &mut self,
        shape: &[B::Index],
        inputs: &[ValueView<B::Index>],
        outputs: &[ValueView<B::Index>],
        body: &Body,
    ) -> R<()> {
        let total = product(&mut self.s, shape);
        let gid = self.global_id();
        let inside = self.ult(gid, total);
        self.when(inside, |k| {
            let coords = k.decompose(gid, shape);
            let vals = k.eval_at(body, inputs, &coords)?;
            for (o, v) in outputs.iter().zip(vals) {
                k.store(o, &coords, v)?;
            }
            Ok(())
        })
    }

    /// Evaluates `body` with `Input(n)` read from `inputs[n]` at `coords`.
    fn eval_at(
        &mut self,
        body: &Body,
        inputs: &[ValueView<B::Index>],
        coords: &[B::Index],
    ) -> R<Vec<Val<B::Index>>> {
        let bases = &self.bases;
        self.s.eval_body(body, coords, &mut |s, n| {
            let v = inputs
                .get(n as usize)
                .ok_or_else(|| format!("input {n} does not exist"))?;
            load_view(s, bases, v, coords)
        })
    }

    /// Runs `f` inside `if cond { … }`.
    fn when(&mut self, cond: B::Index, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        let scope = self.s.begin_if(cond)?;
        f(self)?;
        self.s.end_if(scope)
    }

    /// Runs `f(i)` for `i` in `start..end` by `step`.
    fn each(
        &mut self,
        start: B::Index,
        end: B::Index,
        step: B::Index,
        f: impl FnOnce(&mut Self, B::Index) -> R<()>,
    ) -> R<()> {
        let (scope, i) = self.s.begin_loop(start, end, step)?;
        f(self, i)?;
        self.s.end_loop(scope)
    }

    fn combine(&mut self, how: Combine, kind: RegKind, a: B::Index, b: B::Index) -> B::Index {
        self.s.arith(how.arith(), kind, a, b)
    }

    /// `acc = combine(acc, v)`; float sums are compensated (Kahan), so long rows keep close
    /// to the interpreter's f64 accumulation.
    fn accumulate(
        &mut self,
        how: Combine,
        kind: RegKind,
        acc: B::Var,
        compensation: B::Var,
        v: B::Index,
    ) {
        let a = self.s.get(acc);
        if !(matches!(how, Combine::Sum) && kind == RegKind::F) {
            let c = self.combine(how, kind, a, v);
            self.s.set(acc, c);
            return;
        }
        let c = self.s.get(compensation);
        let y = self.fsub(v, c);
        let t = self.fadd(a, y);
        let d = self.fsub(t, a);
        let c = self.fsub(d, y);
        self.s.set(compensation, c);
        self.s.set(acc, t);
    }

    fn identity(&mut self, how: Combine, kind: RegKind) -> B::Index {
        let (f, i) = match how {
            Combine::Sum => (0.0, 0),
            Combine::Max => (f32::NEG_INFINITY, i64::MIN),
            Combine::Min => (f32::INFINITY, i64::MAX),
            Combine::Prod => (1.0, 1),
        };
        match kind {
            RegKind::F => self.s.const_f32(f),
            RegKind::I => self.s.const_i64(i),
        }
    }

    /// Combines `value` across the invocations of each row group; every invocation gets the
    /// result. All invocations of the workgroup must call this.
    fn group_reduce(
        &mut self,
        g: &RowGroup<B>,
        how: Combine,
        kind: RegKind,
        value: B::Index,
    ) -> R<B::Index> {
        let Some(arr) = g.shared else {
            return Ok(value);
        };
        self.s.shared_store(arr, g.lid, value);
        self.s.barrier();
        let mut stride = g.size / 2;
        while stride >= 1 {
            let limit = self.s.const_index(stride as i32);
            let active = self.ilt(g.lane, limit);
            self.when(active, |k| {
                let other = add_k(&mut k.s, g.lid, stride as i64);
                let a = k.s.shared_load(arr, g.lid);
                let b = k.s.shared_load(arr, other);
                let c = k.combine(how, kind, a, b);
                k.s.shared_store(arr, g.lid, c);
                Ok(())
            })?;
            self.s.barrier();
            stride /= 2;
        }
        let first = self.s.sub(g.lid, g.lane);
        let r = self.s.shared_load(arr, first);
        self.s.barrier();
        Ok(r)
    }

    /// The row-group layout of the op's [`Mapping::Rows`] for `rows` rows whose partial results
    /// have register kind `kind`: `group` invocations per row, combined through shared memory.
    fn row_group(&mut self, rows: B::Index, kind: RegKind) -> RowGroup<B> {
        let wg = self.config.workgroup_size;
        let (size, shared) = if self.group == 1 {
            (1, None)
        } else {
            (wg, Some(self.s.shared_array(kind, wg)))
        };
        let at = self.config.row_position(&mut self.s);
        let valid = self.ult(at.row, rows);
        RowGroup {
            size,
            shared,
            lid: at.local,
            lane: at.lane,
            row: at.row,
            valid,
        }
    }

    fn reduction(
        &mut self,
        shape: &[B::Index],
        reduction_dims: usize,
        reduce: ReduceFn,
        inputs: &[ValueView<B::Index>],
        outputs: &[ValueView<B::Index>],
        body: &Body,
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
        let acc = self.s.var(Kind::of(kind));
        let init = self.identity(how, kind);
        self.s.set(acc, init);
        let compensation = self.s.var(Kind::of(kind));
        self.s.set(compensation, init);
        self.when(g.valid, |k| {
            let pc = k.decompose(g.row, &shape[..p]);
            let step = k.s.const_index(g.size as i32);
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
        let zero = self.s.const_index(0);
        let lane0 = self.s.compare(Kind::Index, Cmp::Eq, g.lane, zero);
        let write = self.s.and(g.valid, lane0);
        self.when(write, |k| {
            let mut v = total;
            if reduce == ReduceFn::Mean {
                v = match kind {
                    RegKind::F => {
                        let n = k.s.convert(Kind::Index, Kind::F32, len);
                        k.fdiv(v, n)
                    }
                    RegKind::I => {
                        let one = k.s.const_index(1);
                        let n = k.s.max(len, one);
                        let n = k.s.convert(Kind::Index, Kind::I64, n);
                        k.s.arith(Arith::Div, RegKind::I, v, n)
                    }
                };
            }
            let coords = k.decompose(g.row, &shape[..p]);
            k.store(output, &coords, Val { kind, id: v })
        })
    }

    /// Reduces `f(k, i)` over `i` in this invocation's share of `0..len`, then across the row
    /// group; returns the combined value in every invocation.
    fn row_reduce(
        &mut self,
        g: &RowGroup<B>,
        len: B::Index,
        how: Combine,
        f: RowFn<B, B::Index>,
    ) -> R<B::Index> {
        let acc = self.s.var(Kind::F32);
        let init = self.identity(how, RegKind::F);
        self.s.set(acc, init);
        let compensation = self.s.var(Kind::F32);
        let zero = self.s.const_f32(0.0);
        self.s.set(compensation, zero);
        self.when(g.valid, |k| {
            let step = k.s.const_index(g.size as i32);
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
    fn row_write(&mut self, g: &RowGroup<B>, len: B::Index, f: RowFn<B, ()>) -> R<()> {
        self.when(g.valid, |k| {
            let step = k.s.const_index(g.size as i32);
            k.each(g.lane, len, step, |k, i| f(k, i))
        })
    }

    fn softmax(
        &mut self,
        x: &ValueView<B::Index>,
        y: &ValueView<B::Index>,
        e: Option<&ValueEpilogue<B::Index>>,
    ) -> R<()> {
        let (outer, len, inner) = (x.shape[0], x.shape[1], x.shape[2]);
        let rows = product(&mut self.s, &[outer, inner]);
        let g = self.row_group(rows, RegKind::F);
        let one = self.s.const_index(1);
        let inner = self.s.max(inner, one);
        let (o, i) = (self.s.div(g.row, inner), self.s.rem(g.row, inner));
        let read =
            move |k: &mut Self, j: B::Index| -> R<B::Index> { Ok(k.load(x, &[o, j, i])?.id) };
        let max = self.row_reduce(&g, len, Combine::Max, &read)?;
        let shifted_exp = move |k: &mut Self, j: B::Index| -> R<B::Index> {
            let v = read(k, j)?;
            let d = k.fsub(v, max);
            Ok(k.s.exp(d))
        };
        let sum = self.row_reduce(&g, len, Combine::Sum, &shifted_exp)?;
        let one = self.s.const_f32(1.0);
        let inv = self.fdiv(one, sum);
        self.row_write(&g, len, &|k, j| {
            let v = shifted_exp(k, j)?;
            let v = k.fmul(v, inv);
            k.store_with_epilogue(
                y,
                e,
                &[o, j, i],
                Val {
                    kind: RegKind::F,
                    id: v,
                },
            )
        })
    }

    fn layer_norm(
        &mut self,
        x: &ValueView<B::Index>,
        y: &ValueView<B::Index>,
        eps: f32,
        e: Option<&ValueEpilogue<B::Index>>,
    ) -> R<()> {
        let (rows, len) = (x.shape[0], x.shape[1]);
        let g = self.row_group(rows, RegKind::F);
        let row = g.row;
        let read = move |k: &mut Self, j: B::Index| -> R<B::Index> { Ok(k.load(x, &[row, j])?.id) };
        let sum = self.row_reduce(&g, len, Combine::Sum, &read)?;
        let n = self.s.convert(Kind::Index, Kind::F32, len);
        let mean = self.fdiv(sum, n);
        let centered = move |k: &mut Self, j: B::Index| -> R<B::Index> {
            let v = read(k, j)?;
            Ok(k.fsub(v, mean))
        };
        let square = |k: &mut Self, j: B::Index| -> R<B::Index> {
            let c = centered(k, j)?;
            Ok(k.fmul(c, c))
        };
        let ss = self.row_reduce(&g, len, Combine::Sum, &square)?;
        let var = self.fdiv(ss, n);
        let eps = self.s.const_f32(eps);
        let ve = self.fadd(var, eps);
        let sd = self.s.sqrt(ve);
        let one = self.s.const_f32(1.0);
        let inv = self.fdiv(one, sd);
        self.row_write(&g, len, &|k, j| {
            let c = centered(k, j)?;
            let v = k.fmul(c, inv);
            k.store_with_epilogue(
                y,
                e,
                &[row, j],
                Val {
                    kind: RegKind::F,
                    id: v,
                },
            )
        })
    }

    fn pool2d(
        &mut self,
        x: &ValueView<B::Index>,
        y: &ValueView<B::Index>,
        p: PoolGeometry,
        e: Option<&ValueEpilogue<B::Index>>,
    ) -> R<()> {
        let total = product(&mut self.s, &y.shape);
        let (h, w) = (x.shape[2], x.shape[3]);
        let gid = self.global_id();
        let inside = self.ult(gid, total);
        self.when(inside, |k| {
            let c = k.decompose(gid, &y.shape);
            let acc = k.s.var(Kind::F32);
            let count = k.s.var(Kind::Index);
            let init = k.s.const_f32(if p.max { f32::NEG_INFINITY } else { 0.0 });
            k.s.set(acc, init);
            let zero = k.s.const_index(0);
            k.s.set(count, zero);
            let oy = mul_k(&mut k.s, c[2], p.strides[0] as i64);
            let oy = add_k(&mut k.s, oy, -(p.pads[0] as i64));
            let ox = mul_k(&mut k.s, c[3], p.strides[1] as i64);
            let ox = add_k(&mut k.s, ox, -(p.pads[1] as i64));
            let (z, kh) = (k.s.const_index(0), k.s.const_index(p.window[0] as i32));
            let one = k.s.const_index(1);
            k.each(z, kh, one, |k, ky| {
                let kw = k.s.const_index(p.window[1] as i32);
                k.each(z, kw, one, |k, kx| {
                    let iy = k.s.add(oy, ky);
                    let ix = k.s.add(ox, kx);
                    let ok = k.in_range(iy, h);
                    let ok_x = k.in_range(ix, w);
                    let ok = k.s.and(ok, ok_x);
                    k.when(ok, |k| {
                        let v = k.load(x, &[c[0], c[1], iy, ix])?.id;
                        let a = k.s.get(acc);
                        let n = if p.max {
                            k.combine(Combine::Max, RegKind::F, a, v)
                        } else {
                            k.fadd(a, v)
                        };
                        k.s.set(acc, n);
                        let cn = k.s.get(count);
                        let cn = add_k(&mut k.s, cn, 1);
                        k.s.set(count, cn);
                        Ok(())
                    })
                })
            })?;
            let mut v = k.s.get(acc);
            if !p.max {
                let divisor = if p.count_include_pad {
                    k.s.const_f32((p.window[0] * p.window[1]) as f32)
                } else {
                    let cn = k.s.get(count);
                    let one = k.s.const_index(1);
                    let m = k.ilt(cn, one);
                    let cn = k.s.select(Kind::Index, m, one, cn);
                    k.s.convert(Kind::Index, Kind::F32, cn)
                };
                v = k.fdiv(v, divisor);
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
        })
    }

    /// `0 <= i < n`.
    fn in_range(&mut self, i: B::Index, n: B::Index) -> B::Index {
        let z = self.s.const_index(0);
        let ge = self.s.compare(Kind::Index, Cmp::Ge, i, z);
        let lt = self.ilt(i, n);
        self.s.and(ge, lt)
    }

    fn gather(
        &mut self,
        data: &ValueView<B::Index>,
        indices: &ValueView<B::Index>,
        out: &ValueView<B::Index>,
    ) -> R<()> {
        let total = product(&mut self.s, &out.shape);
        let gid = self.global_id();
        let inside = self.ult(gid, total);
        let dim = data.shape[1];
        self.when(inside, |k| {
            let c = k.decompose(gid, &out.shape);
            let raw = k.load(indices, &[c[1]])?.id;
            let zero = k.s.const_i64(0);
            let len = k.s.convert(Kind::Index, Kind::I64, dim);
            let neg = k.s.compare(Kind::I64, Cmp::Lt, raw, zero);
            let wrapped = k.s.arith(Arith::Add, RegKind::I, raw, len);
            let idx = k.s.select(Kind::I64, neg, wrapped, raw);
            let ge = k.s.compare(Kind::I64, Cmp::Ge, idx, zero);
            let lt = k.s.compare(Kind::I64, Cmp::Lt, idx, len);
            let ok = k.s.and(ge, lt);
            let bad = k.s.not(ok);
            k.when(bad, |k| k.s.report_index_out_of_range())?;
            k.when(ok, |k| {
                let i = k.s.convert(Kind::I64, Kind::Index, idx);
                let from = offset(&mut k.s, &k.bases, data, &[c[0], i, c[2]]);
                let to = offset(&mut k.s, &k.bases, out, &c);
                k.s.copy_element(data.operand, from, out.operand, to)
            })
        })
    }

    /// Batched `C[b] = A[b]·B[b]` with `TILE×TILE` output tiles staged through shared memory,
    /// over f32 values. `load_a(k, b, m, kk)` and `load_b(k, b, kk, n)` are called only for
    /// in-range indices; `store(k, b, m, n, value)` only for in-range outputs. With `integer`,
    /// the operands are integers of at most 8 bits loaded as floats: each depth tile's f32 sum
    /// is exact (a tile of at most 512 products of 255·128), and the tiles add up in an i64
    /// register, so the result — an integer value — is exact at any depth.
    fn gemm(
        &mut self,
        (batch, m, n, kdim): (B::Index, B::Index, B::Index, B::Index),
        tile: u32,
        integer: bool,
        load_a: GemmLoad<B>,
        load_b: GemmLoad<B>,
        store: GemmStore<B>,
    ) -> R<()> {
        if let Mapping::MatrixTiles { element, .. } = self.config.mapping {
            return self.matrix_gemm((batch, m, n, kdim), element, load_a, load_b, store);
        }
        debug_assert!(!integer || tile <= 512);
        let [pm, pn] = match self.config.mapping {
            Mapping::GemmTiles { per_thread, .. } => per_thread,
            _ => [1, 1],
        };
        let t = tile as i64;
        // A is staged `k`-major with rows padded by one (stores free of bank conflicts), B
        // `k`-major as it is: an invocation reads its rows and columns of both, `tile` apart.
        let (side_m, side_n) = (tile * pm, tile * pn);
        let stride_a = side_m as i64 + 1;
        let sa = self.s.shared_array(RegKind::F, tile * (side_m + 1));
        let sb = self.s.shared_array(RegKind::F, tile * side_n);
        let at = self.config.gemm_position(&mut self.s, m, n);
        let (b, row, col, ty, tx) = (at.batch, at.row, at.col, at.ty, at.tx);
        let batch_ok = self.ilt(b, batch);
        let zero_f = self.s.const_f32(0.0);
        let outputs = (pm * pn) as usize;
        let acc: Vec<B::Var> = (0..outputs)
            .map(|_| {
                let v = self.s.var(Kind::F32);
                self.s.set(v, zero_f);
                v
            })
            .collect();
        let staged = self.s.var(Kind::F32);
        // Integer products sum their exact tiles in 64 bits (float kernels never touch
        // 64-bit integers, which WebGPU lacks).
        let totals: Option<Vec<B::Var>> = integer.then(|| {
            (0..outputs)
                .map(|_| {
                    let total = self.s.var(Kind::I64);
                    let zero_i = self.s.const_i64(0);
                    self.s.set(total, zero_i);
                    total
                })
                .collect()
        });
        let (z, step) = (self.s.const_index(0), self.s.const_index(tile as i32));
        self.each(z, kdim, step, |k, k0| {
            // Stage A[row + tile·i, k0 + tx] and B[k0 + ty, col + tile·j]:
            // consecutive invocations read consecutive columns.
            let ka = k.s.add(k0, tx);
            let kb = k.s.add(k0, ty);
            let a_rows = (0..pm).map(|i| (0, i, add_k(&mut k.s, row, t * i as i64), ka));
            let a_rows: Vec<_> = a_rows.collect();
            let b_cols = (0..pn).map(|j| (1, j, kb, add_k(&mut k.s, col, t * j as i64)));
            let b_cols: Vec<_> = b_cols.collect();
            for (which, i, r, c) in a_rows.into_iter().chain(b_cols) {
                let (bound_r, bound_c) = if which == 0 { (m, kdim) } else { (kdim, n) };
                let zero_f = k.s.const_f32(0.0);
                k.s.set(staged, zero_f);
                let ok_r = k.ilt(r, bound_r);
                let ok_c = k.ilt(c, bound_c);
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
                let (array, at) = if which == 0 {
                    // sa[tx][ty + tile·i]
                    let at = mul_k(&mut k.s, tx, stride_a);
                    let at = k.s.add(at, ty);
                    (sa, add_k(&mut k.s, at, t * i as i64))
                } else {
                    // sb[ty][tx + tile·j]
                    let at = mul_k(&mut k.s, ty, side_n as i64);
                    let at = k.s.add(at, tx);
                    (sb, add_k(&mut k.s, at, t * i as i64))
                };
                k.s.shared_store(array, at, v);
            }
            k.s.barrier();
            let (z, te, one) = (
                k.s.const_index(0),
                k.s.const_index(tile as i32),
                k.s.const_index(1),
            );
            k.each(z, te, one, |k, kk| {
                // `count` values `tile` apart from `array[kk][first]`.
                let row = |k: &mut Self, array, stride: i64, first, count: u32| {
                    let base = mul_k(&mut k.s, kk, stride);
                    let base = k.s.add(base, first);
                    (0..count)
                        .map(|i| {
                            let at = add_k(&mut k.s, base, t * i as i64);
                            k.s.shared_load(array, at)
                        })
                        .collect::<Vec<B::Index>>()
                };
                let av = row(k, sa, stride_a, ty, pm);
                let bv = row(k, sb, side_n as i64, tx, pn);
                for (i, &a) in av.iter().enumerate() {
                    for (j, &bj) in bv.iter().enumerate() {
                        let v = acc[i * pn as usize + j];
                        let p = k.fmul(a, bj);
                        let sum = k.s.get(v);
                        let sum = k.fadd(sum, p);
                        k.s.set(v, sum);
                    }
                }
                Ok(())
            })?;
            if let Some(totals) = &totals {
                for (&v, &total) in acc.iter().zip(totals) {
                    let tile_sum = k.s.get(v);
                    let tile_sum = k.s.convert(Kind::F32, Kind::I64, tile_sum);
                    let sum = k.s.get(total);
                    let sum = k.s.arith(Arith::Add, RegKind::I, sum, tile_sum);
                    k.s.set(total, sum);
                    let zero_f = k.s.const_f32(0.0);
                    k.s.set(v, zero_f);
                }
            }
            k.s.barrier();
            Ok(())
        })?;
        for i in 0..pm {
            for j in 0..pn {
                let r = add_k(&mut self.s, row, t * i as i64);
                let c = add_k(&mut self.s, col, t * j as i64);
                let ok_r = self.ilt(r, m);
                let ok_c = self.ilt(c, n);
                let ok = self.s.and(ok_r, ok_c);
                let ok = self.s.and(ok, batch_ok);
                let slot = (i * pn + j) as usize;
                self.when(ok, |k| {
                    let v = match &totals {
                        Some(totals) => Val {
                            kind: RegKind::I,
                            id: k.s.get(totals[slot]),
                        },
                        None => Val {
                            kind: RegKind::F,
                            id: k.s.get(acc[slot]),
                        },
                    };
                    store(k, b, r, c, v)
                })?;
            }
        }
        Ok(())
    }

    fn matmul(
        &mut self,
        a: &ValueView<B::Index>,
        b: &ValueView<B::Index>,
        c: &ValueView<B::Index>,
        e: Option<&ValueEpilogue<B::Index>>,
        tile: u32,
    ) -> R<()> {
        let dims = (c.shape[0], c.shape[1], c.shape[2], a.shape[2]);
        // ui8 by i8: summed exactly as integers (i32 into the epilogue).
        let integer = b.element_type == ElementType::I8;
        let as_f32 = |k: &mut Self, v: Val<B::Index>| k.s.cast(v, ElementType::F32).id;
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
        x: &ValueView<B::Index>,
        w: &ValueView<B::Index>,
        y: &ValueView<B::Index>,
        g: ConvGeometry,
        e: Option<&ValueEpilogue<B::Index>>,
        tile: u32,
    ) -> R<()> {
        let (n_img, h, wd) = (x.shape[0], x.shape[2], x.shape[3]);
        let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
        let (oh, ow) = (y.shape[2], y.shape[3]);
        // ui8 pixels by i8 weights: summed exactly as integers (i32 into the epilogue).
        let integer = w.element_type == ElementType::I8;
        let groups = g.groups.max(1);
        let groups_v = self.s.const_index(groups as i32);
        let ocg = self.s.div(oc, groups_v);
        let kdim = product(&mut self.s, &[icg, kh, kw]);
        let pixels = product(&mut self.s, &[oh, ow]);
        let batch = product(&mut self.s, &[n_img, groups_v]);
        let taps = self.s.mul(kh, kw);
        // A = weights of group g: rows oc, columns (ic, ky, kx).
        let load_a = |k: &mut Self, bg: B::Index, m: B::Index, kk: B::Index| -> R<B::Index> {
            let gi = k.s.rem(bg, groups_v);
            let o = k.s.mul(gi, ocg);
            let o = k.s.add(o, m);
            let ic = k.s.div(kk, taps);
            let r = k.s.rem(kk, taps);
            let (ky, kx) = (k.s.div(r, kw), k.s.rem(r, kw));
            let v = k.load(w, &[o, ic, ky, kx])?;
            Ok(k.s.cast(v, ElementType::F32).id)
        };
        // B = the image patch matrix, read in place: rows (ic, ky, kx), columns output pixels.
        let load_b = |k: &mut Self, bg: B::Index, kk: B::Index, p: B::Index| -> R<B::Index> {
            let ni = k.s.div(bg, groups_v);
            let gi = k.s.rem(bg, groups_v);
            let ic = k.s.div(kk, taps);
            let r = k.s.rem(kk, taps);
            let (ky, kx) = (k.s.div(r, kw), k.s.rem(r, kw));
            let (py, px) = (k.s.div(p, ow), k.s.rem(p, ow));
            let iy = mul_k(&mut k.s, py, g.strides[0] as i64);
            let dy = mul_k(&mut k.s, ky, g.dilations[0] as i64);
            let iy = k.s.add(iy, dy);
            let iy = add_k(&mut k.s, iy, -(g.pads[0] as i64));
            let ix = mul_k(&mut k.s, px, g.strides[1] as i64);
            let dx = mul_k(&mut k.s, kx, g.dilations[1] as i64);
            let ix = k.s.add(ix, dx);
            let ix = add_k(&mut k.s, ix, -(g.pads[1] as i64));
            let ok_y = k.in_range(iy, h);
            let ok_x = k.in_range(ix, wd);
            let ok = k.s.and(ok_y, ok_x);
            let v = k.s.var(Kind::F32);
            let zero = k.s.const_f32(0.0);
            k.s.set(v, zero);
            let c = k.s.mul(gi, icg);
            let c = k.s.add(c, ic);
            k.when(ok, |k| {
                let val = k.load(x, &[ni, c, iy, ix])?;
                let val = k.s.cast(val, ElementType::F32).id;
                k.s.set(v, val);
                Ok(())
            })?;
            Ok(k.s.get(v))
        };
        let store = |k: &mut Self, bg: B::Index, m: B::Index, p: B::Index, v: Val<B::Index>| {
            let ni = k.s.div(bg, groups_v);
            let gi = k.s.rem(bg, groups_v);
            let o = k.s.mul(gi, ocg);
            let o = k.s.add(o, m);
            let (py, px) = (k.s.div(p, ow), k.s.rem(p, ow));
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
