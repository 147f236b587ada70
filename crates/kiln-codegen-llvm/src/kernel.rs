//! One kernel as one LLVM function: `i32 (ptr ctx, ptr bindings, i64 workgroup, ptr sizes)`.
//!
//! A kernel whose sizes are expressions over symbols reads the symbols' values from `sizes`
//! (in [`Kernel::symbols`] order), followed by a generic kernel's workgroup tile per parallel
//! dim, which the runtime chooses for each call's sizes; the generated code computes every
//! view's offset, extents and strides from them at entry. Kernels with static sizes ignore
//! `sizes` and see constants only.

use crate::body::{self, V};
use inkwell::attributes::AttributeLoc;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum, FloatType, IntType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValueEnum, FastMathFlags, FloatValue, FunctionValue, IntValue,
    PointerValue,
};
use inkwell::{AddressSpace, FloatPredicate, IntPredicate};
use kiln_codegen_cpu::lowered::tiling::IndexArith;
use kiln_codegen_cpu::lowered::{reg_kind, Body, Kernel, KernelOp, ReduceFn, RegKind, View};
use kiln_scalar::Inst;
use kiln_types::sizes::{Sizes, Static, Symbolic};
use kiln_types::sym::{SymArith, SymExpr};
use kiln_types::ElementType;
use std::collections::HashMap;

pub type R<T> = Result<T, String>;

pub fn e<E: std::fmt::Display>(x: E) -> String {
    format!("LLVM builder: {x}")
}

/// The state of the function being written.
pub struct Gen<'a, 'ctx> {
    pub cx: &'ctx Context,
    pub m: &'a Module<'ctx>,
    pub b: Builder<'ctx>,
    pub f: FunctionValue<'ctx>,
    pub f32t: FloatType<'ctx>,
    pub f64t: FloatType<'ctx>,
    pub i64t: IntType<'ctx>,
    pub i32t: IntType<'ctx>,
    pub i16t: IntType<'ctx>,
    pub i8t: IntType<'ctx>,
    /// Each binding's base address.
    pub(crate) bases: Vec<PointerValue<'ctx>>,
    /// The values of the kernel's symbols, loaded at entry.
    pub(crate) symbols: HashMap<String, IntValue<'ctx>>,
    /// Whether math functions are written inline (GPU kernels, bare-metal CPUs: no C
    /// library) rather than calling `libm`. (Half-precision conversions are inline on GPUs
    /// only: CPUs call the runtime's helpers, which need no F16C.)
    pub(crate) inline_math: bool,
    /// What a GPU kernel adds (its bindings' types, status word, shared arrays); `None` on
    /// the CPU path.
    pub(crate) gpu: Option<crate::gpu::GpuState<'ctx>>,
    /// Whether the innermost loops of the function being written run their remainder as a
    /// masked vector iteration ([`Gen::fold_remainder`]): set where they are known to be
    /// short ([`prefer_wide_vectors`]).
    pub(crate) fold_short_loops: bool,
    /// Whether a reciprocal may be the target's estimate refined by one Newton step
    /// (`body::reciprocal`): AVX-512's 14-bit `vrcp14ps` at every vector width (AVX-512F
    /// and VL), which one step makes as exact as a division, not SSE's or NEON's shorter
    /// ones.
    pub(crate) estimate_reciprocals: bool,
}

/// A view with its offset, extents and strides as values of the function (constants when
/// static).
pub struct ValueView<'ctx> {
    binding: u32,
    element_type: ElementType,
    offset: IntValue<'ctx>,
    shape: Vec<IntValue<'ctx>>,
    strides: Vec<IntValue<'ctx>>,
}

impl<'ctx> ValueView<'ctx> {
    /// The view's constant stride over dim `d`, 0 where it broadcasts (a stride of 0 or an
    /// extent of 1); `None` where either is known only at run time.
    fn step(&self, d: usize) -> Option<i64> {
        let c = |x: IntValue| x.get_sign_extended_constant();
        match (c(self.shape[d])?, c(self.strides[d])?) {
            (1, _) | (_, 0) => Some(0),
            (_, s) => Some(s),
        }
    }

    /// This view with dims `d` and `d + 1` (`inner` values long) as one dim, if it steps
    /// through them as through one: its stride over `d` is its stride over `d + 1` times
    /// `inner` (contiguous dims, or a value broadcast along both), all constants.
    fn merged(&self, g: &Gen<'_, 'ctx>, d: usize, inner: i64) -> Option<ValueView<'ctx>> {
        let c = |x: IntValue| x.get_sign_extended_constant();
        let (outer, step) = (self.step(d)?, self.step(d + 1)?);
        if outer != step * inner || (step != 0 && c(self.shape[d + 1])? != inner) {
            return None;
        }
        let extent = match step {
            0 => 1,
            _ => c(self.shape[d])? * inner,
        };
        let k = |n: i64| g.i64t.const_int(n as u64, true);
        let (mut shape, mut strides) = (self.shape.clone(), self.strides.clone());
        shape[d] = k(extent);
        strides[d] = k(step);
        shape.remove(d + 1);
        strides.remove(d + 1);
        Some(ValueView {
            binding: self.binding,
            element_type: self.element_type,
            offset: self.offset,
            shape,
            strides,
        })
    }
}

/// How a size family's extents and strides become values of the generated function.
pub trait LlvmSizes: Sizes {
    /// Whether a generic kernel's workgroup tiles follow the symbols in `sizes` (chosen per
    /// call) rather than being the kernel's own numbers.
    const RUNTIME_TILES: bool;
    fn extent<'ctx>(g: &mut Gen<'_, 'ctx>, n: &Self::Extent) -> R<IntValue<'ctx>>;
    fn stride<'ctx>(g: &mut Gen<'_, 'ctx>, s: &Self::Stride) -> R<IntValue<'ctx>>;
}

impl LlvmSizes for Static {
    const RUNTIME_TILES: bool = false;
    fn extent<'ctx>(g: &mut Gen<'_, 'ctx>, n: &u64) -> R<IntValue<'ctx>> {
        Ok(g.i64t.const_int(*n, false))
    }
    fn stride<'ctx>(g: &mut Gen<'_, 'ctx>, s: &i64) -> R<IntValue<'ctx>> {
        Ok(g.i64t.const_int(*s as u64, true))
    }
}

impl LlvmSizes for Symbolic {
    const RUNTIME_TILES: bool = true;
    fn extent<'ctx>(g: &mut Gen<'_, 'ctx>, n: &SymExpr) -> R<IntValue<'ctx>> {
        n.eval_in(g)
    }
    fn stride<'ctx>(g: &mut Gen<'_, 'ctx>, s: &SymExpr) -> R<IntValue<'ctx>> {
        s.eval_in(g)
    }
}

/// Size expressions as i64 instructions over the symbols' values.
impl<'ctx> SymArith for Gen<'_, 'ctx> {
    type Value = IntValue<'ctx>;
    type Error = String;
    fn constant(&mut self, c: i64) -> R<IntValue<'ctx>> {
        Ok(self.i64t.const_int(c as u64, true))
    }
    fn symbol(&mut self, name: &str) -> R<IntValue<'ctx>> {
        self.symbols
            .get(name)
            .copied()
            .ok_or_else(|| format!("size symbol '{name}' is not among the kernel's symbols"))
    }
    fn add(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_add(a, b, "size").map_err(e)
    }
    fn mul(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_mul(a, b, "size").map_err(e)
    }
    fn floor_div(&mut self, a: IntValue<'ctx>, d: i64) -> R<IntValue<'ctx>> {
        // floor(a / d) = (a < 0 ? a - (d - 1) : a) / d, rounding toward zero.
        let d_minus_1 = self.i64t.const_int((d - 1) as u64, true);
        let negative = self.icmp(IntPredicate::SLT, a, self.i64t.const_zero())?;
        let lowered = self.b.build_int_sub(a, d_minus_1, "lowered").map_err(e)?;
        let a = self
            .b
            .build_select(negative, lowered, a, "dividend")
            .map_err(e)?
            .into_int_value();
        let d = self.i64t.const_int(d as u64, true);
        self.b.build_int_signed_div(a, d, "fdiv").map_err(e)
    }
}

impl<'ctx> Gen<'_, 'ctx> {
    fn value_view<Z: LlvmSizes>(&mut self, v: &View<Z>) -> R<ValueView<'ctx>> {
        Ok(ValueView {
            binding: v.binding,
            element_type: v.element_type,
            offset: Z::extent(self, &v.offset)?,
            shape: v
                .shape
                .iter()
                .map(|n| Z::extent(self, n))
                .collect::<R<_>>()?,
            strides: v
                .strides
                .iter()
                .map(|s| Z::stride(self, s))
                .collect::<R<_>>()?,
        })
    }

    fn value_views<Z: LlvmSizes>(&mut self, vs: &[View<Z>]) -> R<Vec<ValueView<'ctx>>> {
        vs.iter().map(|v| self.value_view(v)).collect()
    }
}

/// Emits kernel `index` of an executable as function `symbol`; `symbols` are the symbols its
/// sizes read, in the order the runtime passes their values.
pub fn emit<'ctx, Z: LlvmSizes>(
    cx: &'ctx Context,
    m: &Module<'ctx>,
    symbol: &str,
    index: u32,
    kernel: &Kernel<Z>,
    symbols: &[String],
    (inline_math, estimate_reciprocals): (bool, bool),
) -> R<()> {
    let ptr = cx.ptr_type(AddressSpace::default());
    let i64t = cx.i64_type();
    let i32t = cx.i32_type();
    let fty = i32t.fn_type(&[ptr.into(), ptr.into(), i64t.into(), ptr.into()], false);
    let f = m.add_function(symbol, fty, Some(Linkage::External));
    let entry = cx.append_basic_block(f, "entry");
    let b = cx.create_builder();
    b.position_at_end(entry);
    let mut g = Gen {
        cx,
        m,
        b,
        f,
        f32t: cx.f32_type(),
        f64t: cx.f64_type(),
        i64t,
        i32t,
        i16t: cx.i16_type(),
        i8t: cx.i8_type(),
        bases: vec![],
        symbols: HashMap::new(),
        inline_math,
        gpu: None,
        fold_short_loops: false,
        estimate_reciprocals,
    };
    if estimate_reciprocals {
        // Estimates for the divisions marked `arcp`, refined by the code (no step of LLVM's).
        f.add_attribute(
            AttributeLoc::Function,
            cx.create_string_attribute("reciprocal-estimates", "divf:0,vec-divf:0"),
        );
    }
    let ctx = f.get_nth_param(0).ok_or("no ctx")?.into_pointer_value();
    let bindings = f
        .get_nth_param(1)
        .ok_or("no bindings")?
        .into_pointer_value();
    let wg = f.get_nth_param(2).ok_or("no workgroup")?.into_int_value();
    let sizes = f.get_nth_param(3).ok_or("no sizes")?.into_pointer_value();
    let count = kernel
        .views()
        .iter()
        .map(|v| v.binding as usize + 1)
        .max()
        .unwrap_or(0);
    for i in 0..count {
        let at = g.gep(ptr.into(), bindings, g.i64t.const_int(i as u64, false))?;
        let base = g.b.build_load(ptr, at, "base").map_err(e)?;
        g.bases.push(base.into_pointer_value());
    }
    let load_size = |g: &mut Gen<'_, 'ctx>, slot: usize| -> R<IntValue<'ctx>> {
        let at = g.gep(i64t.into(), sizes, i64t.const_int(slot as u64, false))?;
        Ok(g.b.build_load(i64t, at, "sym").map_err(e)?.into_int_value())
    };
    for (slot, name) in symbols.iter().enumerate() {
        let v = load_size(&mut g, slot)?;
        g.symbols.insert(name.clone(), v);
    }
    match &kernel.op {
        KernelOp::Generic {
            shape,
            tile,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
        } => {
            let p = shape.len() - *reduction_dims as usize;
            let shape: Vec<IntValue> = shape
                .iter()
                .map(|n| Z::extent(&mut g, n))
                .collect::<R<_>>()?;
            let tile: Vec<IntValue> = (0..p)
                .map(|d| match Z::RUNTIME_TILES {
                    true => load_size(&mut g, symbols.len() + d),
                    false => Ok(g.i64t.const_int(tile[d], false)),
                })
                .collect::<R<_>>()?;
            let mut inputs = g.value_views(inputs)?;
            let mut outputs = g.value_views(outputs)?;
            let (mut shape, mut tile) = (shape, tile);
            let reads_index = body.insts.iter().any(|i| matches!(i, Inst::Index(_)));
            let p = if reads_index {
                p
            } else {
                let mut views: Vec<&mut ValueView> =
                    inputs.iter_mut().chain(outputs.iter_mut()).collect();
                let p = match p == shape.len() {
                    true => {
                        merge_dims(&g, &mut shape, Some(&mut tile), 0, &mut views);
                        shape.len()
                    }
                    false => {
                        merge_dims(&g, &mut shape, None, p, &mut views);
                        p
                    }
                };
                prefer_wide_vectors(
                    &mut g,
                    shape.last().and_then(|n| n.get_zero_extended_constant()),
                );
                p
            };
            let (lo, hi) =
                kiln_codegen_cpu::lowered::tiling::tile_box_in(&mut g, &shape[..p], &tile, wg)?;
            let ctx = Generic {
                shape,
                p,
                reduce: *reduce,
                inputs,
                outputs,
                body,
            };
            if let Some(width) = ctx.reduces_across_rows(&tile) {
                // Its innermost loop runs over the tile's `width` (or fewer) channels.
                prefer_wide_vectors(&mut g, Some(width as u64));
                ctx.rows_in_chunks(&mut g, &lo, &hi, width)?;
            } else {
                g.nest(&lo, &hi, &mut |g, idx| ctx.element(g, idx))?;
            }
            g.b.build_return(Some(&g.i32t.const_zero())).map_err(e)?;
        }
        _ if kernel.epilogue().is_some() => {
            // The epilogue's innermost loop: a convolution's runs over its last two dims, or
            // over a float channels-last output its channels; other ops' rows.
            let conv = kernel.op.is_conv2d();
            let y = kernel.outputs().first().map(|y| {
                let dims = match conv {
                    true if y.is_channels_last() && !kernel.op.is_integer_product() => 1..2,
                    true => y.shape.len().saturating_sub(2)..y.shape.len(),
                    false => y.shape.len().saturating_sub(1)..y.shape.len(),
                };
                y.shape[dims]
                    .iter()
                    .map(|n| Z::extent(&mut g, n).ok()?.get_zero_extended_constant())
                    .product::<Option<u64>>()
            });
            prefer_wide_vectors(&mut g, y.flatten());
            g.named_op_with_epilogue(kernel, index, ctx, wg)?;
        }
        _ => g.runtime_workgroup(index, ctx, wg)?,
    }
    Ok(())
}

/// Lets the loops of the function being written vectorise to 512 bits where its innermost
/// loop runs over `inner` values, known: LLVM's tuning for some AVX-512 CPUs (Zen 4 among
/// them) otherwise stops at 256. A known loop shorter than [`WIDE_LOOP`] (a 7x7 plane's 49
/// values) would leave most of its values to the scalar remainder of 512-bit vectors times
/// LLVM's interleaving, and most of the rest to that of 256-bit ones: its remainder is folded
/// into one masked iteration instead ([`Gen::fold_remainder`]), which longer loops do not pay
/// for (computing the mask costs every iteration). A cap, so harmless on CPUs without
/// AVX-512.
fn prefer_wide_vectors(g: &mut Gen<'_, '_>, inner: Option<u64>) {
    let Some(n) = inner else { return };
    g.fold_short_loops = n < WIDE_LOOP;
    g.f.add_attribute(
        AttributeLoc::Function,
        g.cx.create_string_attribute("prefer-vector-width", "512"),
    );
}

/// The status a convolution's epilogue returns for a workgroup box that splits an output row.
const SPLIT_ROW_STATUS: u64 = 3;

/// The shortest innermost loop [`prefer_wide_vectors`] widens without folding its remainder.
const WIDE_LOOP: u64 = 64;

/// Merges neighbouring dims `d` and `d + 1` (both at or after `first`) of a generic kernel's
/// domain where every view steps through them as through one dim (its stride over `d` is its
/// stride over `d + 1` times that dim's extent: contiguous and broadcast dims alike) and,
/// for parallel dims (`tile` given), a workgroup's tile spans dim `d + 1` whole, so the
/// workgroup grid is unchanged. The innermost loop then runs over, say, a 14×14 image's 196
/// elements rather than 14 of them: long enough to vectorise; a reduction's reduced dims
/// (from `first` = the parallel dims' count, no tile) merge the same way, a mean over 56×56
/// becoming one loop of 3,136. Only constant extents, strides and tiles merge.
fn merge_dims<'ctx>(
    g: &Gen<'_, 'ctx>,
    shape: &mut Vec<IntValue<'ctx>>,
    mut tile: Option<&mut Vec<IntValue<'ctx>>>,
    first: usize,
    views: &mut [&mut ValueView<'ctx>],
) {
    let c = |v: IntValue| v.get_sign_extended_constant();
    let k = |n: i64| g.i64t.const_int(n as u64, true);
    if views.iter().any(|v| v.shape.len() != shape.len()) {
        return;
    }
    for d in (first..shape.len().saturating_sub(1)).rev() {
        let (Some(n), Some(inner)) = (c(shape[d]), c(shape[d + 1])) else {
            continue;
        };
        let outer_tile = match tile.as_deref() {
            None => None,
            Some(t) => match (c(t[d]), c(t[d + 1])) {
                (Some(t), Some(inner_t)) if t >= 1 && inner_t == inner => Some(t),
                _ => continue,
            },
        };
        if inner < 1 || n < 1 {
            continue;
        }
        let Some(merged) = views
            .iter()
            .map(|v| v.merged(g, d, inner))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        shape[d] = k(n * inner);
        shape.remove(d + 1);
        if let (Some(tile), Some(t)) = (tile.as_deref_mut(), outer_tile) {
            tile[d] = k(t * inner);
            tile.remove(d + 1);
        }
        for (v, m) in views.iter_mut().zip(merged) {
            **v = m;
        }
    }
}

/// A generic kernel's parts, for the per-element callback.
struct Generic<'k, 'ctx> {
    shape: Vec<IntValue<'ctx>>,
    p: usize,
    reduce: ReduceFn,
    inputs: Vec<ValueView<'ctx>>,
    outputs: Vec<ValueView<'ctx>>,
    body: &'k Body,
}

impl<'ctx> Generic<'_, 'ctx> {
    /// Computes and stores the outputs at parallel index `idx`.
    fn element(&self, g: &mut Gen<'_, 'ctx>, idx: &[IntValue<'ctx>]) -> R<()> {
        if self.p == self.shape.len() {
            let vals = body::eval(g, self.body, idx, &mut |g, n| {
                let v = self.inputs.get(n as usize).ok_or("no such input")?;
                g.load(v, idx)
            })?;
            for (o, v) in self.outputs.iter().zip(vals) {
                g.store(o, idx, v)?;
            }
            return Ok(());
        }
        let [output] = &self.outputs[..] else {
            return Err("a reduction must have exactly one output".into());
        };
        let acc_ty = self.acc_type(g, output);
        let acc = g.alloca(acc_ty)?;
        g.b.build_store(acc, self.acc_init(g, output)).map_err(e)?;
        let zero = g.i64t.const_zero();
        let lo = vec![zero; self.shape.len() - self.p];
        let hi = &self.shape[self.p..];
        g.nest(&lo, hi, &mut |g, ridx| {
            let mut full = idx.to_vec();
            full.extend_from_slice(ridx);
            self.accumulate(g, acc_ty, acc, &full)
        })?;
        let result = self.finish(g, output, acc_ty, acc)?;
        g.store(output, idx, result)
    }

    /// The accumulators [`Generic::rows`] takes at a time, where the reduction should run it:
    /// its innermost parallel dim is every input's contiguous one (or broadcast) and its tile
    /// a constant (a mean over a channels-last image's pixels, read a pixel's channels at a
    /// time rather than a channel's pixels a row apart each); a tile of more than
    /// [`ROW_ACCUMULATORS`] runs in chunks of that many.
    fn reduces_across_rows(&self, tile: &[IntValue<'ctx>]) -> Option<u32> {
        let c = |x: IntValue| x.get_sign_extended_constant();
        let inner = self.p.checked_sub(1)?;
        if self.p == self.shape.len() {
            return None;
        }
        let width = c(tile[inner]).filter(|&t| t >= 1)?.min(ROW_ACCUMULATORS);
        let contiguous = self.inputs.iter().all(|v| match v.step(inner) {
            Some(0) => true,
            Some(1) => (self.p..self.shape.len()).all(|d| v.step(d).is_some_and(|s| s != 1)),
            _ => false,
        });
        let reads_rows = self.inputs.iter().any(|v| v.step(inner) == Some(1));
        (contiguous && reads_rows).then_some(width as u32)
    }

    /// Runs [`Generic::rows`] over the box `lo..hi` of the parallel dims: every index of the
    /// outer ones, the innermost one in ⌈(hi - lo) / width⌉ chunks of at most `width`.
    fn rows_in_chunks(
        &self,
        g: &mut Gen<'_, 'ctx>,
        lo: &[IntValue<'ctx>],
        hi: &[IntValue<'ctx>],
        width: u32,
    ) -> R<()> {
        let inner = self.p - 1;
        let (first, end) = (lo[inner], hi[inner]);
        let step = g.i64t.const_int(width as u64, false);
        let span = g.b.build_int_sub(end, first, "span").map_err(e)?;
        let below = g.i64t.const_int(width as u64 - 1, false);
        let rounded = g.b.build_int_add(span, below, "rounded").map_err(e)?;
        let chunks = IndexArith::div(g, rounded, step)?;
        let mut outer_lo = lo[..inner].to_vec();
        let mut outer_hi = hi[..inner].to_vec();
        outer_lo.push(g.i64t.const_zero());
        outer_hi.push(chunks);
        g.nest(&outer_lo, &outer_hi, &mut |g, idx| {
            let (outer, chunk) = idx.split_at(inner);
            let offset = g.b.build_int_mul(chunk[0], step, "offset").map_err(e)?;
            let from = g.b.build_int_add(first, offset, "from").map_err(e)?;
            let past = g.b.build_int_add(from, step, "past").map_err(e)?;
            let to = IndexArith::min(g, past, end)?;
            self.rows(g, outer, [from, to], width)
        })
    }

    /// Computes and stores the outputs of a reduction at parallel index `outer` (all but the
    /// innermost parallel dim) for every index `lo..hi` of the innermost one: one accumulator
    /// per index, the reduced dims walked outside them, so that each step reads a run of
    /// contiguous values (vectorised) and every output still sums its values in the order
    /// [`Generic::element`] does.
    fn rows(
        &self,
        g: &mut Gen<'_, 'ctx>,
        outer: &[IntValue<'ctx>],
        [lo, hi]: [IntValue<'ctx>; 2],
        width: u32,
    ) -> R<()> {
        let [output] = &self.outputs[..] else {
            return Err("a reduction must have exactly one output".into());
        };
        let acc_ty = self.acc_type(g, output);
        let accs = g.alloca(acc_ty.array_type(width).into())?;
        let slot = |g: &mut Gen<'_, 'ctx>, i: IntValue<'ctx>| -> R<PointerValue<'ctx>> {
            let k = g.b.build_int_sub(i, lo, "k").map_err(e)?;
            g.gep(acc_ty, accs, k)
        };
        let init = self.acc_init(g, output);
        g.nest(&[lo], &[hi], &mut |g, i| {
            let at = slot(g, i[0])?;
            g.b.build_store(at, init).map_err(e)?;
            Ok(())
        })?;
        let zero = g.i64t.const_zero();
        let rlo = vec![zero; self.shape.len() - self.p];
        g.nest(&rlo, &self.shape[self.p..], &mut |g, ridx| {
            g.nest(&[lo], &[hi], &mut |g, i| {
                let mut full = outer.to_vec();
                full.push(i[0]);
                full.extend_from_slice(ridx);
                let at = slot(g, i[0])?;
                self.accumulate(g, acc_ty, at, &full)
            })
        })?;
        g.nest(&[lo], &[hi], &mut |g, i| {
            let at = slot(g, i[0])?;
            let result = self.finish(g, output, acc_ty, at)?;
            let mut idx = outer.to_vec();
            idx.push(i[0]);
            g.store(output, &idx, result)
        })
    }

    /// The accumulator's type: floats accumulate in f64 and integers wrap, as the interpreter
    /// does.
    fn acc_type(&self, g: &Gen<'_, 'ctx>, output: &ValueView<'ctx>) -> BasicTypeEnum<'ctx> {
        match reg_kind(output.element_type) {
            RegKind::F => g.f64t.into(),
            RegKind::I => g.i64t.into(),
        }
    }

    /// The reduction's identity in the accumulator's type.
    fn acc_init(&self, g: &Gen<'_, 'ctx>, output: &ValueView<'ctx>) -> BasicValueEnum<'ctx> {
        match (reg_kind(output.element_type), self.reduce) {
            (RegKind::F, ReduceFn::Max) => g.f64t.const_float(f64::NEG_INFINITY).into(),
            (RegKind::F, ReduceFn::Min) => g.f64t.const_float(f64::INFINITY).into(),
            (RegKind::F, ReduceFn::Prod) => g.f64t.const_float(1.0).into(),
            (RegKind::F, _) => g.f64t.const_zero().into(),
            (RegKind::I, ReduceFn::Max) => g.i64t.const_int(i64::MIN as u64, true).into(),
            (RegKind::I, ReduceFn::Min) => g.i64t.const_int(i64::MAX as u64, true).into(),
            (RegKind::I, ReduceFn::Prod) => g.i64t.const_int(1, false).into(),
            (RegKind::I, _) => g.i64t.const_zero().into(),
        }
    }

    /// Adds the body's value at the full index `full` into the accumulator at `acc`.
    fn accumulate(
        &self,
        g: &mut Gen<'_, 'ctx>,
        acc_ty: BasicTypeEnum<'ctx>,
        acc: PointerValue<'ctx>,
        full: &[IntValue<'ctx>],
    ) -> R<()> {
        let v = body::eval(g, self.body, full, &mut |g, n| {
            let v = self.inputs.get(n as usize).ok_or("no such input")?;
            g.load(v, full)
        })?;
        let v = *v.first().ok_or("a reduction body yields no value")?;
        let a = g.b.build_load(acc_ty, acc, "acc").map_err(e)?;
        let next: BasicValueEnum = match v {
            V::F(x) => {
                let x = g.b.build_float_ext(x, g.f64t, "wide").map_err(e)?;
                let a = a.into_float_value();
                match self.reduce {
                    ReduceFn::Sum | ReduceFn::Mean => {
                        reassociable(g.b.build_float_add(a, x, "sum").map_err(e)?)?
                    }
                    ReduceFn::Max => {
                        g.intrinsic("llvm.maxnum", &[g.f64t.into()], &[a.into(), x.into()])?
                    }
                    ReduceFn::Min => {
                        g.intrinsic("llvm.minnum", &[g.f64t.into()], &[a.into(), x.into()])?
                    }
                    ReduceFn::Prod => reassociable(g.b.build_float_mul(a, x, "prod").map_err(e)?)?,
                }
            }
            V::I(x) => {
                let a = a.into_int_value();
                match self.reduce {
                    ReduceFn::Sum | ReduceFn::Mean => {
                        g.b.build_int_add(a, x, "sum").map_err(e)?.into()
                    }
                    ReduceFn::Max => {
                        g.intrinsic("llvm.smax", &[g.i64t.into()], &[a.into(), x.into()])?
                    }
                    ReduceFn::Min => {
                        g.intrinsic("llvm.smin", &[g.i64t.into()], &[a.into(), x.into()])?
                    }
                    ReduceFn::Prod => g.b.build_int_mul(a, x, "prod").map_err(e)?.into(),
                }
            }
        };
        g.b.build_store(acc, next).map_err(e)?;
        Ok(())
    }

    /// The reduction's result from the accumulator at `acc`: a mean divided by the count of
    /// reduced values, a float narrowed to f32.
    fn finish(
        &self,
        g: &mut Gen<'_, 'ctx>,
        output: &ValueView<'ctx>,
        acc_ty: BasicTypeEnum<'ctx>,
        acc: PointerValue<'ctx>,
    ) -> R<V<'ctx>> {
        let mut count = g.i64t.const_int(1, false);
        for &n in &self.shape[self.p..] {
            count = g.b.build_int_mul(count, n, "count").map_err(e)?;
        }
        let a = g.b.build_load(acc_ty, acc, "acc").map_err(e)?;
        Ok(match reg_kind(output.element_type) {
            RegKind::F => {
                let mut a = a.into_float_value();
                if self.reduce == ReduceFn::Mean {
                    let n =
                        g.b.build_unsigned_int_to_float(count, g.f64t, "n")
                            .map_err(e)?;
                    a = g.b.build_float_div(a, n, "mean").map_err(e)?;
                }
                V::F(g.b.build_float_trunc(a, g.f32t, "narrow").map_err(e)?)
            }
            RegKind::I => {
                let mut a = a.into_int_value();
                if self.reduce == ReduceFn::Mean {
                    let one = g.i64t.const_int(1, false);
                    let n = IndexArith::max(g, count, one)?;
                    a = g.b.build_int_signed_div(a, n, "mean").map_err(e)?;
                }
                V::I(a)
            }
        })
    }
}

/// The most accumulators [`Generic::rows`] keeps on the stack (8 KiB of f64): a workgroup
/// tile's innermost parallel extent, or a chunk of it.
const ROW_ACCUMULATORS: i64 = 1024;

/// `step` (a float reduction's accumulation) marked reassociable, so that LLVM may keep
/// several partial sums or products in vector lanes. They stay f64, so the order changes the
/// f32 result by no more than its rounding.
fn reassociable(step: FloatValue<'_>) -> R<BasicValueEnum<'_>> {
    if let Some(inst) = step.as_instruction() {
        inst.set_fast_math_flags(FastMathFlags::AllowReassoc)
            .map_err(e)?;
    }
    Ok(step.into())
}

impl<'ctx> Gen<'_, 'ctx> {
    /// A named op run whole by the runtime's microkernels, through the `kiln_vmvx_workgroup`
    /// import.
    fn runtime_workgroup(
        &mut self,
        index: u32,
        ctx: PointerValue<'ctx>,
        wg: IntValue<'ctx>,
    ) -> R<()> {
        let (ptr, i32t) = (self.cx.ptr_type(AddressSpace::default()), self.i32t);
        let callee = self.declare(
            "kiln_vmvx_workgroup",
            i32t.fn_type(&[ptr.into(), i32t.into(), self.i64t.into()], false),
        );
        let r = self
            .call(
                callee,
                &[
                    ctx.into(),
                    i32t.const_int(index as u64, false).into(),
                    wg.into(),
                ],
            )?
            .into_int_value();
        self.b.build_return(Some(&r)).map_err(e)?;
        Ok(())
    }

    /// A named op whose microkernel runs through the `kiln_vmvx_workgroup_raw` import, then its
    /// epilogue generated here over the output box the import reports. An integer
    /// convolution's or matmul's sums are never stored: `kiln_vmvx_integer_sums` leaves them
    /// in the runtime's scratch (`[channel][row][column]` over a convolution's box,
    /// `[column][row]` over a matmul's), where the epilogue reads them.
    fn named_op_with_epilogue<Z: LlvmSizes>(
        &mut self,
        kernel: &Kernel<Z>,
        index: u32,
        ctx: PointerValue<'ctx>,
        wg: IntValue<'ctx>,
    ) -> R<()> {
        let ep = kernel.epilogue().ok_or("no epilogue")?;
        let y = *kernel.outputs().first().ok_or("no output")?;
        let channels_last = y.is_channels_last();
        let integer = kernel.op.is_integer_product();
        let transposed = matches!(kernel.op, KernelOp::MatMul { .. });
        let rank = y.shape.len();
        if rank > kiln_native::imports::MAX_BOX_RANK {
            return Err(format!("an output of rank {rank} is too deep"));
        }
        let boxes = self
            .i64t
            .array_type(kiln_native::imports::MAX_BOX_RANK as u32);
        let (lo_arr, hi_arr) = (self.alloca(boxes.into())?, self.alloca(boxes.into())?);
        let ptr = self.cx.ptr_type(AddressSpace::default());
        let sums_at = self.alloca(ptr.into())?;
        let mut params: Vec<BasicMetadataTypeEnum> = vec![
            ptr.into(),
            self.i32t.into(),
            self.i64t.into(),
            ptr.into(),
            ptr.into(),
        ];
        let mut args: Vec<BasicMetadataValueEnum> = vec![
            ctx.into(),
            self.i32t.const_int(index as u64, false).into(),
            wg.into(),
            lo_arr.into(),
            hi_arr.into(),
        ];
        let name = if integer {
            params.push(ptr.into());
            args.push(sums_at.into());
            "kiln_vmvx_integer_sums"
        } else {
            "kiln_vmvx_workgroup_raw"
        };
        let callee = self.declare(name, self.i32t.fn_type(&params, false));
        let status = self.call(callee, &args)?.into_int_value();
        let (failed, go) = (
            self.cx.append_basic_block(self.f, "failed"),
            self.cx.append_basic_block(self.f, "epilogue"),
        );
        let bad = self.icmp(IntPredicate::NE, status, self.i32t.const_zero())?;
        self.b
            .build_conditional_branch(bad, failed, go)
            .map_err(e)?;
        self.b.position_at_end(failed);
        self.b.build_return(Some(&status)).map_err(e)?;
        self.b.position_at_end(go);
        let mut lo = vec![];
        let mut hi = vec![];
        for d in 0..rank {
            let index = self.i64t.const_int(d as u64, false);
            let l = self.gep(self.i64t.into(), lo_arr, index)?;
            let h = self.gep(self.i64t.into(), hi_arr, index)?;
            lo.push(
                self.b
                    .build_load(self.i64t, l, "lo")
                    .map_err(e)?
                    .into_int_value(),
            );
            hi.push(
                self.b
                    .build_load(self.i64t, h, "hi")
                    .map_err(e)?
                    .into_int_value(),
            );
        }
        let y = self.value_view(y)?;
        let inputs = self.value_views(&ep.inputs)?;
        let sums = match integer {
            true => Some(
                self.b
                    .build_load(ptr, sums_at, "sums")
                    .map_err(e)?
                    .into_pointer_value(),
            ),
            false => None,
        };
        // A convolution's workgroup box spans whole output rows (its tiles split channels and
        // rows only), so its epilogue walks each channel's rows as one run, long enough to
        // vectorise, where every view steps through a row's end into the next.
        let reads_index = ep.body.insts.iter().any(|i| matches!(i, Inst::Index(_)));
        let conv = kernel.op.is_conv2d();
        let rows_as_runs = (conv && !integer && !reads_index && !channels_last && rank >= 2)
            .then(|| {
                let width = y.shape[rank - 1].get_zero_extended_constant()?;
                let runs = |v: &ValueView<'ctx>| match v.shape.len() == rank {
                    true => v.merged(self, rank - 2, width as i64),
                    false => None,
                };
                Some((
                    width,
                    runs(&y)?,
                    inputs.iter().map(runs).collect::<Option<Vec<_>>>()?,
                ))
            })
            .flatten();
        if let Some((width, y_runs, input_runs)) = rows_as_runs {
            let (runs, split) = (
                self.cx.append_basic_block(self.f, "runs"),
                self.cx.append_basic_block(self.f, "split"),
            );
            let w = self.i64t.const_int(width, false);
            let starts = self.icmp(IntPredicate::EQ, lo[rank - 1], self.i64t.const_zero())?;
            let ends = self.icmp(IntPredicate::EQ, hi[rank - 1], w)?;
            let whole = self.b.build_and(starts, ends, "whole").map_err(e)?;
            self.b
                .build_conditional_branch(whole, runs, split)
                .map_err(e)?;
            // A box that splits a row breaks the tiling's contract: a failed dispatch, never
            // a wrong answer.
            self.b.position_at_end(split);
            self.b
                .build_return(Some(&self.i32t.const_int(SPLIT_ROW_STATUS, false)))
                .map_err(e)?;
            self.b.position_at_end(runs);
            let mut run_lo = lo[..rank - 1].to_vec();
            let mut run_hi = hi[..rank - 1].to_vec();
            run_lo[rank - 2] = self.b.build_int_mul(lo[rank - 2], w, "lo").map_err(e)?;
            run_hi[rank - 2] = self.b.build_int_mul(hi[rank - 2], w, "hi").map_err(e)?;
            self.nest(&run_lo, &run_hi, &mut |g, idx| {
                let vals = body::eval(g, &ep.body, idx, &mut |g, n| match n {
                    0 => g.load(&y_runs, idx),
                    n => g.load(input_runs.get(n as usize - 1).ok_or("no such input")?, idx),
                })?;
                g.store(
                    &y_runs,
                    idx,
                    *vals.first().ok_or("an epilogue yields no value")?,
                )
            })?;
            self.b
                .build_return(Some(&self.i32t.const_zero()))
                .map_err(e)?;
            return Ok(());
        }
        // The box's dims, outermost first: a channels-last output's channels innermost (each
        // pixel's lie together, so the loop reads and writes them as vectors), else in order.
        let order: Vec<usize> = match conv && !integer && channels_last {
            true => vec![0, 2, 3, 1],
            false => (0..rank).collect(),
        };
        let (lo_nest, hi_nest): (Vec<_>, Vec<_>) = order.iter().map(|&d| (lo[d], hi[d])).unzip();
        self.nest(&lo_nest, &hi_nest, &mut |g, nested| {
            let mut idx = nested.to_vec();
            for (&d, &i) in order.iter().zip(nested) {
                idx[d] = i;
            }
            let vals = body::eval(g, &ep.body, &idx, &mut |g, n| {
                if let (0, Some(sums)) = (n, sums) {
                    return g.tile_sum(sums, &lo, &hi, &idx, transposed);
                }
                if n == 0 {
                    return g.load(&y, &idx);
                }
                let v = inputs.get(n as usize - 1).ok_or("no such epilogue input")?;
                g.load(v, &idx)
            })?;
            g.store(
                &y,
                &idx,
                *vals.first().ok_or("an epilogue yields no value")?,
            )
        })?;
        self.b
            .build_return(Some(&self.i32t.const_zero()))
            .map_err(e)?;
        Ok(())
    }

    /// Element `idx` of an integer product's sums over the box `lo..hi` from `sums`: a
    /// convolution's (`[image, channel, row, column]`, one image) laid out
    /// `[channel][row][column]`, or with `transposed` a matmul's (`[batch, row, column]`, one
    /// batch) laid out `[column][row]`.
    fn tile_sum(
        &self,
        sums: PointerValue<'ctx>,
        lo: &[IntValue<'ctx>],
        hi: &[IntValue<'ctx>],
        idx: &[IntValue<'ctx>],
        transposed: bool,
    ) -> R<V<'ctx>> {
        let b = &self.b;
        let rel = |d: usize| b.build_int_sub(idx[d], lo[d], "rel").map_err(e);
        let len = |d: usize| b.build_int_sub(hi[d], lo[d], "len").map_err(e);
        // Row-major over `order`, dims of the box.
        let order: &[usize] = if transposed { &[2, 1] } else { &[1, 2, 3] };
        let mut at = rel(order[0])?;
        for &d in &order[1..] {
            at = b.build_int_mul(at, len(d)?, "at").map_err(e)?;
            at = b.build_int_add(at, rel(d)?, "at").map_err(e)?;
        }
        let p = self.gep(self.i32t.into(), sums, at)?;
        let v = b
            .build_load(self.i32t, p, "sum")
            .map_err(e)?
            .into_int_value();
        Ok(V::I(b.build_int_s_extend(v, self.i64t, "sum").map_err(e)?))
    }

    pub fn gep(
        &self,
        ty: BasicTypeEnum<'ctx>,
        base: PointerValue<'ctx>,
        index: IntValue<'ctx>,
    ) -> R<PointerValue<'ctx>> {
        // SAFETY (for LLVM, not Rust): indices stay inside the binding, which the runtime
        // checked against the kernel's views before running it.
        unsafe { self.b.build_in_bounds_gep(ty, base, &[index], "at") }.map_err(e)
    }

    /// A stack slot in the entry block (promoted to a register by LLVM).
    pub fn alloca(&self, ty: BasicTypeEnum<'ctx>) -> R<PointerValue<'ctx>> {
        let entry = self.f.get_first_basic_block().ok_or("no entry block")?;
        let tmp = self.cx.create_builder();
        match entry.get_first_instruction() {
            Some(i) => tmp.position_before(&i),
            None => tmp.position_at_end(entry),
        }
        tmp.build_alloca(ty, "slot").map_err(e)
    }

    /// A function declared by name (an import, or a C math function LLVM may call).
    pub fn declare(
        &self,
        name: &str,
        ty: inkwell::types::FunctionType<'ctx>,
    ) -> FunctionValue<'ctx> {
        self.m
            .get_function(name)
            .unwrap_or_else(|| self.m.add_function(name, ty, Some(Linkage::External)))
    }

    pub fn call(
        &self,
        f: FunctionValue<'ctx>,
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> R<BasicValueEnum<'ctx>> {
        self.b
            .build_call(f, args, "call")
            .map_err(e)?
            .try_as_basic_value()
            .basic()
            .ok_or_else(|| "a call returns nothing".to_string())
    }

    /// Calls LLVM intrinsic `name` overloaded on `types`.
    pub fn intrinsic(
        &self,
        name: &str,
        types: &[BasicTypeEnum<'ctx>],
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> R<BasicValueEnum<'ctx>> {
        let i = inkwell::intrinsics::Intrinsic::find(name)
            .ok_or_else(|| format!("no LLVM intrinsic {name}"))?;
        let f = i
            .get_declaration(self.m, types)
            .ok_or_else(|| format!("cannot declare {name}"))?;
        self.call(f, args)
    }

    /// A C function `float name(float...)` LLVM resolves through the import table.
    pub fn libm(
        &self,
        name: &str,
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> R<BasicValueEnum<'ctx>> {
        let params: Vec<BasicMetadataTypeEnum> = args.iter().map(|_| self.f32t.into()).collect();
        let f = self.declare(name, self.f32t.fn_type(&params, false));
        self.call(f, args)
    }

    /// Runs `f(idx)` for every index in the box `[lo, hi)`, the last dim innermost.
    fn nest(
        &mut self,
        lo: &[IntValue<'ctx>],
        hi: &[IntValue<'ctx>],
        f: &mut dyn FnMut(&mut Self, &[IntValue<'ctx>]) -> R<()>,
    ) -> R<()> {
        self.nest_from(lo, hi, &mut vec![], f)
    }

    fn nest_from(
        &mut self,
        lo: &[IntValue<'ctx>],
        hi: &[IntValue<'ctx>],
        idx: &mut Vec<IntValue<'ctx>>,
        f: &mut dyn FnMut(&mut Self, &[IntValue<'ctx>]) -> R<()>,
    ) -> R<()> {
        let d = idx.len();
        if d == lo.len() {
            return f(self, idx);
        }
        let counter = self.alloca(self.i64t.into())?;
        self.b.build_store(counter, lo[d]).map_err(e)?;
        let (head, inner, exit) = (
            self.cx.append_basic_block(self.f, "head"),
            self.cx.append_basic_block(self.f, "body"),
            self.cx.append_basic_block(self.f, "exit"),
        );
        self.b.build_unconditional_branch(head).map_err(e)?;
        self.b.position_at_end(head);
        let i = self
            .b
            .build_load(self.i64t, counter, "i")
            .map_err(e)?
            .into_int_value();
        let more = self
            .b
            .build_int_compare(IntPredicate::ULT, i, hi[d], "more")
            .map_err(e)?;
        self.b
            .build_conditional_branch(more, inner, exit)
            .map_err(e)?;
        self.b.position_at_end(inner);
        idx.push(i);
        self.nest_from(lo, hi, idx, f)?;
        idx.pop();
        let next = self
            .b
            .build_int_add(i, self.i64t.const_int(1, false), "next")
            .map_err(e)?;
        self.b.build_store(counter, next).map_err(e)?;
        let latch = self.b.build_unconditional_branch(head).map_err(e)?;
        if self.fold_short_loops && d + 1 == lo.len() {
            self.fold_remainder(latch);
        }
        self.b.position_at_end(exit);
        Ok(())
    }

    /// Asks LLVM's loop vectoriser to run the remainder of the loop whose back edge is `latch`
    /// as one masked vector iteration rather than a scalar loop (`llvm.loop` metadata,
    /// `llvm.loop.vectorize.predicate.enable`).
    fn fold_remainder(&self, latch: inkwell::values::InstructionValue<'ctx>) {
        use inkwell::llvm_sys::core::{
            LLVMGetMDKindIDInContext, LLVMMDNodeInContext2, LLVMMDStringInContext2,
            LLVMMetadataAsValue, LLVMSetMetadata, LLVMValueAsMetadata,
        };
        use inkwell::llvm_sys::debuginfo::{LLVMMetadataReplaceAllUsesWith, LLVMTemporaryMDNode};
        use inkwell::values::AsValueRef;
        let (kind, option) = ("llvm.loop", "llvm.loop.vectorize.predicate.enable");
        let yes = self.cx.bool_type().const_int(1, false);
        // SAFETY: every reference comes from this context and outlives the calls; the
        // temporary node is replaced by the loop's (self-referencing, as LLVM requires) ID.
        unsafe {
            let cx = self.cx.raw();
            let key = LLVMMDStringInContext2(cx, option.as_ptr().cast(), option.len());
            let mut pair = [key, LLVMValueAsMetadata(yes.as_value_ref())];
            let enable = LLVMMDNodeInContext2(cx, pair.as_mut_ptr(), pair.len());
            let temporary = LLVMTemporaryMDNode(cx, std::ptr::null_mut(), 0);
            let mut operands = [temporary, enable];
            let id = LLVMMDNodeInContext2(cx, operands.as_mut_ptr(), operands.len());
            LLVMMetadataReplaceAllUsesWith(temporary, id);
            let kind = LLVMGetMDKindIDInContext(cx, kind.as_ptr().cast(), kind.len() as u32);
            LLVMSetMetadata(latch.as_value_ref(), kind, LLVMMetadataAsValue(cx, id));
        }
    }

    /// The element offset of `v`'s element at `idx` (trailing dims of `idx` beyond `v`'s rank
    /// unused).
    fn offset(&self, v: &ValueView<'ctx>, idx: &[IntValue<'ctx>]) -> R<IntValue<'ctx>> {
        let mut off = v.offset;
        for (d, &i) in idx.iter().enumerate().take(v.shape.len()) {
            let constant = |x: IntValue| x.get_sign_extended_constant();
            if constant(v.strides[d]) == Some(0) || constant(v.shape[d]) == Some(1) {
                continue;
            }
            let t = self.b.build_int_mul(i, v.strides[d], "t").map_err(e)?;
            off = self.b.build_int_add(off, t, "off").map_err(e)?;
        }
        Ok(off)
    }

    /// The address of element `off` of `binding`, viewed as `t`, and the LLVM type it is
    /// stored as.
    pub(crate) fn element_ptr(
        &self,
        binding: u32,
        t: ElementType,
        off: IntValue<'ctx>,
    ) -> R<(PointerValue<'ctx>, BasicTypeEnum<'ctx>)> {
        let ty: BasicTypeEnum = match t {
            ElementType::F32 => self.f32t.into(),
            ElementType::F64 => self.f64t.into(),
            ElementType::F16 | ElementType::BF16 => self.i16t.into(),
            ElementType::I1 => self.i8t.into(),
            int => self.int_type(int).into(),
        };
        let base = *self
            .bases
            .get(binding as usize)
            .ok_or("a view's binding is missing")?;
        Ok((self.gep(ty, base, off)?, ty))
    }

    /// Loads `v` at `idx` as a register (f32 or i64).
    pub fn load(&self, v: &ValueView<'ctx>, idx: &[IntValue<'ctx>]) -> R<V<'ctx>> {
        let off = self.offset(v, idx)?;
        self.load_element(v.binding, v.element_type, off)
    }

    /// Loads element `off` of `binding`, of element type `t`, as a register (f32 or i64).
    pub(crate) fn load_element(
        &self,
        binding: u32,
        t: ElementType,
        off: IntValue<'ctx>,
    ) -> R<V<'ctx>> {
        let (p, ty) = self.element_ptr(binding, t, off)?;
        let raw = self.b.build_load(ty, p, "raw").map_err(e)?;
        Ok(match t {
            ElementType::F32 => V::F(raw.into_float_value()),
            ElementType::F64 => V::F(
                self.b
                    .build_float_trunc(raw.into_float_value(), self.f32t, "f")
                    .map_err(e)?,
            ),
            ElementType::F16 => V::F(self.f16_to_f32(raw.into_int_value())?),
            ElementType::BF16 => {
                let w = self
                    .b
                    .build_int_z_extend(raw.into_int_value(), self.i32t, "w")
                    .map_err(e)?;
                let w = self
                    .b
                    .build_left_shift(w, self.i32t.const_int(16, false), "w")
                    .map_err(e)?;
                V::F(
                    self.b
                        .build_bit_cast(w, self.f32t, "bf")
                        .map_err(e)?
                        .into_float_value(),
                )
            }
            ElementType::I64 => V::I(raw.into_int_value()),
            ElementType::I1 => {
                let nz = self
                    .b
                    .build_int_compare(
                        IntPredicate::NE,
                        raw.into_int_value(),
                        self.i8t.const_zero(),
                        "nz",
                    )
                    .map_err(e)?;
                V::I(self.b.build_int_z_extend(nz, self.i64t, "b").map_err(e)?)
            }
            int => V::I(self.extend(raw.into_int_value(), int)?),
        })
    }

    /// The LLVM integer type holding an element of integer type `t` (a byte for sub-byte
    /// integers and narrow floats' bits).
    pub fn int_type(&self, t: ElementType) -> inkwell::types::IntType<'ctx> {
        match t.int_width().map(|(bits, _)| bits) {
            Some(..=8) => self.i8t,
            Some(16) => self.i16t,
            Some(32) => self.i32t,
            _ => self.i64t,
        }
    }

    /// `x`, an integer of `t`'s width (in the low bits of a byte for sub-byte integers),
    /// extended to an i64 register as `t`'s signedness says.
    pub fn extend(&self, x: IntValue<'ctx>, t: ElementType) -> R<IntValue<'ctx>> {
        Ok(match t.int_width() {
            Some((64, _)) | None => x,
            Some((bits, signed)) if bits < 8 => {
                let w = self.b.build_int_z_extend(x, self.i64t, "w").map_err(e)?;
                let k = self.i64t.const_int(u64::from(64 - bits), false);
                let w = self.b.build_left_shift(w, k, "w").map_err(e)?;
                self.b.build_right_shift(w, k, signed, "x").map_err(e)?
            }
            Some((_, true)) => self.b.build_int_s_extend(x, self.i64t, "x").map_err(e)?,
            Some((_, false)) => self.b.build_int_z_extend(x, self.i64t, "x").map_err(e)?,
        })
    }

    /// Stores a register into `v` at `idx`, converting to its element type.
    pub fn store(&self, v: &ValueView<'ctx>, idx: &[IntValue<'ctx>], value: V<'ctx>) -> R<()> {
        let off = self.offset(v, idx)?;
        self.store_element(v.binding, v.element_type, off, value)
    }

    /// Stores a register into element `off` of `binding`, converting to element type `t`.
    pub(crate) fn store_element(
        &self,
        binding: u32,
        t: ElementType,
        off: IntValue<'ctx>,
        value: V<'ctx>,
    ) -> R<()> {
        let (p, _) = self.element_ptr(binding, t, off)?;
        let raw: BasicValueEnum = match (t, value) {
            (ElementType::F32, V::F(x)) => x.into(),
            (ElementType::F64, V::F(x)) => {
                self.b.build_float_ext(x, self.f64t, "d").map_err(e)?.into()
            }
            (ElementType::F16, V::F(x)) => self.to_f16_bits(x)?.into(),
            (ElementType::BF16, V::F(x)) => {
                let bits = body::bf16_bits(self, x)?;
                self.b
                    .build_int_truncate(bits, self.i16t, "bf")
                    .map_err(e)?
                    .into()
            }
            (ElementType::I64, V::I(x)) => x.into(),
            (int, V::I(x)) if int.int_width().is_some() => {
                let x = match int.int_width() {
                    // A sub-byte integer keeps only its own bits (`-1` as `i4` is `0x0f`).
                    Some((bits, _)) if bits < 8 => {
                        let mask = self.i64t.const_int((1 << bits) - 1, false);
                        self.b.build_and(x, mask, "m").map_err(e)?
                    }
                    _ => x,
                };
                self.b
                    .build_int_truncate(x, self.int_type(int), "n")
                    .map_err(e)?
                    .into()
            }
            (ElementType::I1, V::I(x)) => {
                let nz = self
                    .b
                    .build_int_compare(IntPredicate::NE, x, self.i64t.const_zero(), "nz")
                    .map_err(e)?;
                self.b
                    .build_int_z_extend(nz, self.i8t, "b")
                    .map_err(e)?
                    .into()
            }
            (t, _) => return Err(format!("a register of the wrong kind is stored as {t}")),
        };
        self.b.build_store(p, raw).map_err(e)?;
        Ok(())
    }

    /// The f32 value of f16 bits.
    pub fn f16_to_f32(&self, bits: IntValue<'ctx>) -> R<FloatValue<'ctx>> {
        if self.gpu.is_some() {
            let h = self
                .b
                .build_bit_cast(bits, self.cx.f16_type(), "h")
                .map_err(e)?;
            return self
                .b
                .build_float_ext(h.into_float_value(), self.f32t, "f")
                .map_err(e);
        }
        let f = self.declare(
            "kiln_f16_to_f32",
            self.f32t.fn_type(&[self.i16t.into()], false),
        );
        Ok(self.call(f, &[bits.into()])?.into_float_value())
    }

    /// The f16 bits of `x` (a float of any width), rounded to nearest-even once.
    pub fn to_f16_bits(&self, x: FloatValue<'ctx>) -> R<IntValue<'ctx>> {
        if self.gpu.is_some() {
            let h = self
                .b
                .build_float_trunc(x, self.cx.f16_type(), "h")
                .map_err(e)?;
            return Ok(self
                .b
                .build_bit_cast(h, self.i16t, "bits")
                .map_err(e)?
                .into_int_value());
        }
        let (name, from) = if x.get_type() == self.f64t {
            ("kiln_f64_to_f16", self.f64t)
        } else {
            ("kiln_f32_to_f16", self.f32t)
        };
        let f = self.declare(name, self.i16t.fn_type(&[from.into()], false));
        Ok(self.call(f, &[x.into()])?.into_int_value())
    }

    pub fn fcmp(
        &self,
        p: FloatPredicate,
        a: inkwell::values::FloatValue<'ctx>,
        b: inkwell::values::FloatValue<'ctx>,
    ) -> R<IntValue<'ctx>> {
        self.b.build_float_compare(p, a, b, "c").map_err(e)
    }

    pub fn icmp(&self, p: IntPredicate, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_compare(p, a, b, "c").map_err(e)
    }
}

/// The tile box arithmetic of [`kiln_codegen_cpu::lowered::tiling`] as LLVM instructions, so generated kernels
/// take the same box of their domain as the interpreter does.
impl<'ctx> IndexArith for Gen<'_, 'ctx> {
    type Value = IntValue<'ctx>;
    type Error = String;
    fn constant(&mut self, v: u64) -> R<IntValue<'ctx>> {
        Ok(self.i64t.const_int(v, false))
    }
    fn div(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_unsigned_div(a, b, "div").map_err(e)
    }
    fn rem(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_unsigned_rem(a, b, "rem").map_err(e)
    }
    fn mul(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_mul(a, b, "mul").map_err(e)
    }
    fn add(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        self.b.build_int_add(a, b, "add").map_err(e)
    }
    fn min(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        Ok(self
            .intrinsic("llvm.umin", &[self.i64t.into()], &[a.into(), b.into()])?
            .into_int_value())
    }
    fn max(&mut self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> R<IntValue<'ctx>> {
        Ok(self
            .intrinsic("llvm.umax", &[self.i64t.into()], &[a.into(), b.into()])?
            .into_int_value())
    }
}
