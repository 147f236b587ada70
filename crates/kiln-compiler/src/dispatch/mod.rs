//! Dispatch formation: turns a tensor program into kernel IR, dispatch regions over storages.
//!
//! Contract: the input is a verified program; the output ([`Dispatches`], target-free kernel
//! IR with [`Symbolic`] sizes) lists dispatches in a valid execution order, each an op over
//! views of its operands. Sizes are expressions over the function's symbols (constants when
//! every dim is static), so a layout change counts as free only when it is free at every size;
//! choices that only affect speed may use a size's estimate.
//!
//! Files: this one drives formation and stores expressions; `expr.rs` is the expression
//! algebra, `ops.rs` the per-op lowering, `fusion.rs` the fusion rules (held-back roots,
//! epilogues, converging values, materialisation).
//!
//! How values become kernels:
//! - Every value is first an *expression*: an elementwise body over strided *leaves* (views of
//!   stored data). Elementwise ops extend expressions; transpose, slice, broadcast and (when the
//!   strides allow) reshape only re-stride leaves. Nothing is computed yet.
//! - An expression is *materialised* (one generic kernel writes it to new storage) when a
//!   non-elementwise op needs it stored, when it is a function result, or when it computes
//!   something and has several uses (so work is never duplicated) — unless every use flows
//!   back into one elementwise op (`x · erf(x)`, `x · sigmoid(x)`), where the branches merge
//!   into one expression again and shared instructions are computed once. An operand that
//!   computes a transcendental function is materialised before an elementwise op broadcasts it
//!   to 16 times its elements or more (a squeeze-and-excitation gate, `sigmoid` per channel,
//!   scaling every pixel), where that costs no dispatch of its own (it becomes its root's
//!   epilogue) or the broadcast is large: each of its values is computed once, not once per
//!   element it reaches.
//! - Matmul, convolution, pooling, softmax and layer norm are *roots*: their kernel is held back
//!   until their result is needed. If the first thing to materialise it is an elementwise
//!   expression over the root's whole result (its only use), that expression becomes the root
//!   kernel's epilogue: bias adds, activations, residual adds and batch-norm scales run on each
//!   output tile while it is still in cache. A matmul operand that is such an expression read
//!   through a transpose of the root's result becomes the epilogue too (computed in the
//!   root's layout, read back through the transposed strides).
//! - Reductions absorb their producer expression as a prologue; concat writes each input
//!   expression straight into its slice of the output.

use crate::views::{broadcast_strides, collapse, contiguous_strides, is, product, reshape_strides};
use crate::CompileError;
use kiln_ir::{
    BinaryOp, Dim, Function, OpKind, PoolKind, Program, ReduceKind, SymExpr, UnaryOp, ValueId,
};
use kiln_kernel::{
    BinaryFn, Body, Dispatch, Inst, ReduceFn, StorageId, StorageKind, Symbolic, UnaryFn,
    MAX_BODY_INSTS,
};
use kiln_types::ElementType;
use std::cmp::Reverse;

type KernelOp = kiln_kernel::Op<Symbolic>;
type View = kiln_kernel::View<Symbolic>;
type Storage = kiln_kernel::Storage<Symbolic>;
type Epilogue = kiln_kernel::Epilogue<Symbolic>;
/// The kernel IR of one function, sizes symbolic.
pub type Dispatches = kiln_kernel::Dispatches<KernelOp, Symbolic>;

mod expr;
mod fusion;
mod ops;

use expr::{Expr, Src};
use fusion::{converging_values, PendingRoot, OUTPUT};

/// A storage during formation: an index into [`Former::storages`] (a [`StorageId`] once
/// formed).
type StorageIndex = usize;

struct Former<'a> {
    program: &'a Program,
    f: &'a Function,
    uses: Vec<usize>,
    exprs: Vec<Option<Expr>>,
    storages: Vec<Storage>,
    pending: Vec<PendingRoot>,
    dispatches: Vec<Dispatch<KernelOp>>,
    loc: String,
    /// Most leaves one elementwise kernel reads (one binding each, its output another).
    max_leaves: usize,
    /// Most bindings one kernel may have, where a target caps them.
    max_bindings: Option<usize>,
    /// Keep f16/bf16 operands of matmuls and convolutions narrow.
    narrow_gemm_operands: bool,
}

/// What a module's targets ask of dispatch formation.
#[derive(Clone, Debug, Default)]
pub struct TargetLimits {
    /// Most bindings one kernel may have (its output included), where a target caps them:
    /// elementwise expressions are stored in parts, and an epilogue that would take a named
    /// op past the cap is its own kernel.
    pub max_bindings: Option<usize>,
    /// Matmuls and convolutions whose operands are both f16 or both bf16 take them as they
    /// are (every target reads them so, on matrix units where it has them for the type)
    /// instead of widened to f32.
    pub narrow_gemm_operands: bool,
}

/// Forms the dispatches of function `f`.
pub fn form_dispatches(program: &Program, f: &Function) -> Result<Dispatches, CompileError> {
    form_dispatches_within(program, f, &TargetLimits::default())
}

/// Forms the dispatches of function `f` within what its module's targets ask (`limits`).
pub fn form_dispatches_within(
    program: &Program,
    f: &Function,
    limits: &TargetLimits,
) -> Result<Dispatches, CompileError> {
    let max_bindings = limits.max_bindings;
    let max_leaves = max_bindings.map_or(ops::MAX_LEAVES, |b| {
        b.saturating_sub(1).clamp(2, ops::MAX_LEAVES)
    });
    let mut fm = Former {
        program,
        f,
        uses: f.use_counts(),
        exprs: vec![None; f.values.len()],
        storages: vec![],
        pending: vec![],
        dispatches: vec![],
        loc: String::new(),
        max_leaves,
        max_bindings,
        narrow_gemm_operands: limits.narrow_gemm_operands,
    };
    for (i, p) in f.params.iter().enumerate() {
        let ty = f.ty(p.value);
        let shape = fm.shape(p.value);
        let s = fm.new_storage(StorageKind::Param(i as u32), ty.element_type, &shape);
        fm.exprs[p.value.index()] = Some(Expr::leaf(Src::Storage(s), ty.element_type, &shape));
    }
    let converging = converging_values(f, &fm.uses);
    for op in &f.ops {
        fm.loc = op.loc.clone();
        let e = fm.op(&op.kind, &op.operands, op.results[0])?;
        let result = op.results[0].index();
        // A very long elementwise chain is stored partway so that no body outgrows what the
        // loader accepts (an op merges at most three operands). Its roots are emitted as they
        // are first: it may be one branch of a converging value whose other branches still
        // read them.
        let long = e.insts.len() > MAX_BODY_INSTS / 4;
        let e = if long {
            let mut e = e;
            fm.resolve(&mut e);
            fm.share(e)
        } else if fm.uses[result] > 1 && !converging[result] {
            fm.share(e)
        } else {
            if converging[result] {
                for l in &e.leaves {
                    if let Src::Pending(p) = l.src {
                        fm.pending[p].shared = true;
                    }
                }
            }
            e
        };
        fm.exprs[op.results[0].index()] = Some(e);
    }
    let mut results = vec![];
    for r in &f.results {
        fm.loc = r.name.clone();
        let e = fm.expr(r.value);
        let mut s = fm.materialize(&e);
        if fm.storages[s].kind != StorageKind::Computed || results.contains(&s) {
            let copy = Expr::leaf(Src::Storage(s), e.element_type, &e.shape);
            s = fm.emit_generic(&copy);
        }
        results.push(s);
    }
    Ok(Dispatches {
        storages: fm.storages,
        dispatches: fm.dispatches,
        results: results.into_iter().map(|s| StorageId(s as u32)).collect(),
    })
}

impl Former<'_> {
    fn err(&self, message: impl Into<String>) -> CompileError {
        CompileError::Unsupported {
            loc: self.loc.clone(),
            message: message.into(),
        }
    }

    fn new_storage(
        &mut self,
        kind: StorageKind,
        element_type: ElementType,
        shape: &[SymExpr],
    ) -> StorageIndex {
        self.storages.push(Storage {
            kind,
            element_type,
            elements: product(shape),
        });
        self.storages.len() - 1
    }

    fn expr(&self, v: ValueId) -> Expr {
        self.exprs[v.index()]
            .clone()
            .expect("operands are defined before use (verified)")
    }

    fn shape(&self, v: ValueId) -> Vec<SymExpr> {
        self.f.ty(v).dims.iter().map(Dim::expr).collect()
    }

    /// Makes a multiply-used value safe to share: computed values are stored once; views of a
    /// held-back root get that root emitted so no consumer fuses it; immediates (expressions
    /// that read nothing) are copied into each use.
    fn share(&mut self, e: Expr) -> Expr {
        if e.leaves.is_empty() {
            return e;
        }
        if e.is_view() {
            let mut e = e;
            self.resolve(&mut e);
            return e;
        }
        let s = self.materialize(&e);
        Expr::leaf(Src::Storage(s), e.element_type, &e.shape)
    }

    /// Emits every held-back root that `e` reads, so all its leaves are stored.
    fn resolve(&mut self, e: &mut Expr) {
        for i in 0..e.leaves.len() {
            if let Src::Pending(p) = e.leaves[i].src {
                let s = self.emit_pending(p, None);
                e.leaves[i].src = Src::Storage(s);
            }
        }
    }

    /// A strided view of a pure-view expression over stored data, or `None`.
    fn strided_view(&mut self, e: &Expr) -> Option<View> {
        if !e.is_view() {
            return None;
        }
        let mut e = e.clone();
        self.resolve(&mut e);
        let l = &e.leaves[0];
        let Src::Storage(s) = l.src else {
            unreachable!("resolved")
        };
        if !l.offset.is_nonnegative() {
            return None;
        }
        Some(View {
            operand: s as u32,
            offset: l.offset.clone(),
            element_type: l.element_type,
            shape: e.shape.clone(),
            strides: l.strides.clone(),
        })
    }

    /// A contiguous view of `e`'s value, copying it to new storage if its layout needs it.
    fn contiguous_view(&mut self, e: &Expr) -> View {
        if let Some(v) = self.strided_view(e) {
            if v.is_contiguous() {
                return v;
            }
        }
        let s = self.materialize(e);
        contiguous(s as u32, SymExpr::from(0), e.element_type, &e.shape)
    }

    fn leaf_views(&self, e: &Expr) -> Vec<View> {
        e.leaves
            .iter()
            .map(|l| {
                let Src::Storage(s) = l.src else {
                    unreachable!("resolved before use")
                };
                View {
                    operand: s as u32,
                    offset: l.offset.clone(),
                    element_type: l.element_type,
                    shape: e.shape.clone(),
                    strides: l.strides.clone(),
                }
            })
            .collect()
    }

    /// Stores `e` into new storage with a generic kernel.
    fn emit_generic(&mut self, e: &Expr) -> StorageIndex {
        let s = self.new_storage(StorageKind::Computed, e.element_type, &e.shape);
        let out = contiguous(s as u32, SymExpr::from(0), e.element_type, &e.shape);
        let mut e = e.clone();
        self.resolve(&mut e);
        self.push_generic(&e, out);
        s
    }

    fn push_generic(&mut self, e: &Expr, out: View) {
        let inputs = self.leaf_views(e);
        self.push_kernel(KernelOp::Generic {
            shape: e.shape.clone(),
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs,
            outputs: vec![out],
            body: e.body(),
        });
    }

    /// Adds a kernel unless its output is empty (then there is nothing to compute).
    /// Views of `op` name storages here; the dispatch renumbers them to its operands.
    fn push_kernel(&mut self, op: KernelOp) {
        if !op.is_empty() {
            self.dispatches.push(Dispatch::over_storages(op));
        }
    }
}

/// A contiguous row-major view.
fn contiguous(operand: u32, offset: SymExpr, element_type: ElementType, shape: &[SymExpr]) -> View {
    View::contiguous_of(operand, offset, element_type, shape)
}
