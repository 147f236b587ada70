//! Dispatch formation: turns a tensor program into a list of kernels over storages.
//!
//! Contract: the input is a verified program with static shapes; the output ([`Dispatches`])
//! lists kernels in a valid execution order, each reading and writing storages by id.
//!
//! How values become kernels:
//! - Every value is first an *expression*: an elementwise body over strided *leaves* (views of
//!   stored data). Elementwise ops extend expressions; transpose, slice, broadcast and (when the
//!   strides allow) reshape only re-stride leaves. Nothing is computed yet.
//! - An expression is *materialised* (one generic kernel writes it to new storage) when a
//!   non-elementwise op needs it stored, when it is a function result, or when it computes
//!   something and has several uses (so work is never duplicated) — unless every use flows
//!   back into one elementwise op (`x · erf(x)`, `x · sigmoid(x)`), where the branches merge
//!   into one expression again and shared instructions are computed once.
//! - Matmul, convolution, pooling, softmax and layer norm are *roots*: their kernel is held back
//!   until their result is needed. If the first thing to materialise it is an elementwise
//!   expression over the root's whole result (its only use), that expression becomes the root
//!   kernel's epilogue: bias adds, activations, residual adds and batch-norm scales run on each
//!   output tile while it is still in cache. A matmul operand that is such an expression read
//!   through a transpose of the root's result becomes the epilogue too (computed in the
//!   root's layout, read back through the transposed strides).
//! - Reductions absorb their producer expression as a prologue; concat writes each input
//!   expression straight into its slice of the output.

use crate::views::{broadcast_strides, collapse, contiguous_strides, reshape_strides};
use crate::CompileError;
use kiln_ir::{BinaryOp, Function, OpKind, PoolKind, Program, ReduceKind, UnaryOp, ValueId};
use kiln_kernel::{
    BinaryFn, Body, Dispatch, Dispatches, Epilogue, Inst, Op as KernelOp, ReduceFn, Storage,
    StorageId, StorageKind, UnaryFn, View, MAX_BODY_INSTS,
};
use kiln_types::ElementType;
use std::cmp::Reverse;

/// A storage during formation: an index into [`Former::storages`] (a [`StorageId`] once
/// formed).
type StorageIndex = usize;

/// Where a leaf reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Src {
    Storage(StorageIndex),
    Pending(usize),
}

/// A strided read of a source, in the coordinates of the expression that holds it.
#[derive(Clone, Debug, PartialEq)]
struct Leaf {
    src: Src,
    element_type: ElementType,
    offset: i64,
    strides: Vec<i64>,
}

/// An elementwise computation over leaves, not yet stored anywhere.
#[derive(Clone, Debug)]
struct Expr {
    shape: Vec<usize>,
    element_type: ElementType,
    leaves: Vec<Leaf>,
    insts: Vec<Inst>,
    result: u32,
}

impl Expr {
    fn leaf(src: Src, element_type: ElementType, shape: &[usize]) -> Expr {
        let leaf = Leaf {
            src,
            element_type,
            offset: 0,
            strides: contiguous_strides(shape),
        };
        Expr {
            shape: shape.to_vec(),
            element_type,
            leaves: vec![leaf],
            insts: vec![Inst::Input(0)],
            result: 0,
        }
    }

    /// True if the expression only reads one leaf (a view).
    fn is_view(&self) -> bool {
        self.insts.len() == 1 && matches!(self.insts[0], Inst::Input(0)) && self.leaves.len() == 1
    }

    /// Re-strides every leaf to read this expression broadcast to `shape`.
    fn broadcast(&self, shape: &[usize]) -> Expr {
        let mut e = self.clone();
        for l in &mut e.leaves {
            l.strides = broadcast_strides(&self.shape, &l.strides, shape);
        }
        e.shape = shape.to_vec();
        e
    }

    fn body(&self) -> Body {
        Body {
            insts: self.insts.clone(),
            results: vec![self.result],
        }
    }
}

/// How an epilogue's leaves map to the root kernel's output coordinates.
#[derive(Clone, Debug)]
enum Coords {
    Same,
    /// Merge consecutive dims in groups of these sizes.
    Collapse(Vec<usize>),
}

/// A root op whose kernel has not been emitted yet.
#[derive(Clone, Debug)]
struct PendingRoot {
    op: KernelOp,
    shape: Vec<usize>,
    element_type: ElementType,
    coords: Coords,
    fusable: bool,
    emitted: Option<StorageIndex>,
}

/// Placeholder binding of a pending root's output view.
const OUTPUT: u32 = u32::MAX;

struct Former<'a> {
    program: &'a Program,
    f: &'a Function,
    uses: Vec<usize>,
    exprs: Vec<Option<Expr>>,
    storages: Vec<Storage>,
    pending: Vec<PendingRoot>,
    dispatches: Vec<Dispatch>,
    loc: String,
}

/// Forms the dispatches of function `f`.
pub fn form_dispatches(program: &Program, f: &Function) -> Result<Dispatches, CompileError> {
    let mut fm = Former {
        program,
        f,
        uses: f.use_counts(),
        exprs: vec![None; f.values.len()],
        storages: vec![],
        pending: vec![],
        dispatches: vec![],
        loc: String::new(),
    };
    for (i, p) in f.params.iter().enumerate() {
        let ty = f.ty(p.value);
        let shape = ty.static_shape().ok_or_else(|| CompileError::Unsupported {
            loc: p.name.clone(),
            message: format!(
                "input '{}' has symbolic dim '{}'; kiln compiles static shapes only for now",
                p.name,
                ty.first_symbol().unwrap_or("?")
            ),
        })?;
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

/// Values used more than once whose every use flows, through elementwise ops whose results
/// are used once, into one elementwise op (`x · erf(x/√2)`, `x · sigmoid(x)`). They stay
/// expressions instead of being stored: the branches meet again in one expression, where
/// their leaves coincide, so an activation like GELU can still become its producer's
/// epilogue. (Each branch repeats the value's instructions, never a memory pass.)
fn converging_values(f: &Function, uses: &[usize]) -> Vec<bool> {
    let elementwise = |op: usize| {
        matches!(
            f.ops[op].kind,
            OpKind::Unary(_) | OpKind::Binary(_) | OpKind::Select | OpKind::Cast(_)
        )
    };
    let mut users = vec![vec![]; f.values.len()];
    for (i, op) in f.ops.iter().enumerate() {
        for v in &op.operands {
            users[v.index()].push(i);
        }
    }
    // The op an elementwise op's result flows into alone, if that op is elementwise too.
    let next = |op: usize| match users[f.ops[op].results[0].index()][..] {
        [user] if uses[f.ops[op].results[0].index()] == 1 && elementwise(user) => Some(user),
        _ => None,
    };
    let chain = |op: usize| std::iter::successors(Some(op), |&o| next(o)).collect::<Vec<_>>();
    (0..f.values.len())
        .map(|v| {
            let ops = &users[v];
            // A function result is stored anyway (its uses include the result).
            if uses[v] < 2 || ops.len() != uses[v] || !ops.iter().all(|&o| elementwise(o)) {
                return false;
            }
            let chains: Vec<Vec<usize>> = ops.iter().map(|&o| chain(o)).collect();
            chains[0]
                .iter()
                .any(|o| chains[1..].iter().all(|c| c.contains(o)))
        })
        .collect()
}

fn unary_fn(u: UnaryOp) -> UnaryFn {
    match u {
        UnaryOp::Neg => UnaryFn::Neg,
        UnaryOp::Abs => UnaryFn::Abs,
        UnaryOp::Exp => UnaryFn::Exp,
        UnaryOp::Log => UnaryFn::Log,
        UnaryOp::Sqrt => UnaryFn::Sqrt,
        UnaryOp::Erf => UnaryFn::Erf,
        UnaryOp::Relu => UnaryFn::Relu,
        UnaryOp::Sigmoid => UnaryFn::Sigmoid,
        UnaryOp::Tanh => UnaryFn::Tanh,
        UnaryOp::Not => UnaryFn::Not,
        UnaryOp::Floor => UnaryFn::Floor,
        UnaryOp::Ceil => UnaryFn::Ceil,
        UnaryOp::Round => UnaryFn::Round,
        UnaryOp::Sign => UnaryFn::Sign,
        UnaryOp::Sin => UnaryFn::Sin,
        UnaryOp::Cos => UnaryFn::Cos,
        UnaryOp::Softplus => UnaryFn::Softplus,
    }
}

fn binary_fn(b: BinaryOp) -> BinaryFn {
    match b {
        BinaryOp::Add => BinaryFn::Add,
        BinaryOp::Sub => BinaryFn::Sub,
        BinaryOp::Mul => BinaryFn::Mul,
        BinaryOp::Div => BinaryFn::Div,
        BinaryOp::Pow => BinaryFn::Pow,
        BinaryOp::Max => BinaryFn::Max,
        BinaryOp::Min => BinaryFn::Min,
        BinaryOp::Equal => BinaryFn::Equal,
        BinaryOp::Less => BinaryFn::Less,
        BinaryOp::Greater => BinaryFn::Greater,
        BinaryOp::And => BinaryFn::And,
        BinaryOp::Or => BinaryFn::Or,
    }
}

fn u64s(v: &[usize]) -> Vec<u64> {
    v.iter().map(|&x| x as u64).collect()
}

/// `e` converted to element type `to` (a no-op when it already has it).
fn cast_expr(mut e: Expr, to: ElementType) -> Expr {
    if e.element_type != to {
        e.insts.push(Inst::Cast(e.result, to));
        e.result = e.insts.len() as u32 - 1;
        e.element_type = to;
    }
    e
}

/// Appends `b`'s instructions to `a`'s (remapping registers and leaves), reusing any
/// instruction `a` already has (instructions are pure, so an expression that reaches an op
/// through two branches is computed once); returns `b`'s result register in the merged
/// expression.
fn merge(a: &mut Expr, b: &Expr) -> u32 {
    let leaf_map: Vec<u32> = b
        .leaves
        .iter()
        .map(|l| match a.leaves.iter().position(|x| x == l) {
            Some(i) => i as u32,
            None => {
                a.leaves.push(l.clone());
                a.leaves.len() as u32 - 1
            }
        })
        .collect();
    let mut regs: Vec<u32> = Vec::with_capacity(b.insts.len());
    for inst in &b.insts {
        let r = |x: &u32| regs[*x as usize];
        let inst = match inst {
            Inst::Input(n) => Inst::Input(leaf_map[*n as usize]),
            Inst::Unary(f, x) => Inst::Unary(*f, r(x)),
            Inst::Binary(f, x, y) => Inst::Binary(*f, r(x), r(y)),
            Inst::Select(c, x, y) => Inst::Select(r(c), r(x), r(y)),
            Inst::Cast(x, t) => Inst::Cast(r(x), *t),
            other => other.clone(),
        };
        let reg = match a.insts.iter().position(|x| *x == inst) {
            Some(i) => i,
            None => {
                a.insts.push(inst);
                a.insts.len() - 1
            }
        };
        regs.push(reg as u32);
    }
    regs[b.result as usize]
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
        shape: &[usize],
    ) -> StorageIndex {
        self.storages.push(Storage {
            kind,
            element_type,
            elements: shape.iter().product::<usize>() as u64,
        });
        self.storages.len() - 1
    }

    fn expr(&self, v: ValueId) -> Expr {
        self.exprs[v.index()]
            .clone()
            .expect("operands are defined before use (verified)")
    }

    fn shape(&self, v: ValueId) -> Vec<usize> {
        self.f
            .ty(v)
            .static_shape()
            .expect("every value has a static shape once inputs do")
    }

    /// Makes a multiply-used value safe to share: computed values are stored once; views of a
    /// held-back root get that root emitted so no consumer fuses it.
    fn share(&mut self, e: Expr) -> Expr {
        if e.is_view() {
            let mut e = e;
            self.resolve(&mut e);
            return e;
        }
        let s = self.materialize(&e);
        Expr::leaf(Src::Storage(s), e.element_type, &e.shape)
    }

    fn op(
        &mut self,
        kind: &OpKind,
        operands: &[ValueId],
        result: ValueId,
    ) -> Result<Expr, CompileError> {
        let out_shape = self.shape(result);
        let out_ty = self.f.ty(result).element_type;
        let args: Vec<Expr> = operands.iter().map(|v| self.expr(*v)).collect();
        // Named kernels compute in f32: f16/bf16 operands are widened on the way in and the
        // result narrowed on the way out (both casts fuse into the neighbouring expressions).
        let named = matches!(
            kind,
            OpKind::MatMul
                | OpKind::Conv2d(_)
                | OpKind::Pool2d(_)
                | OpKind::Softmax { .. }
                | OpKind::LayerNorm { .. }
        );
        let narrow_to =
            (named && matches!(out_ty, ElementType::F16 | ElementType::BF16)).then_some(out_ty);
        let (args, out_ty) = match narrow_to {
            Some(_) => (
                args.into_iter()
                    .map(|a| cast_expr(a, ElementType::F32))
                    .collect::<Vec<_>>(),
                ElementType::F32,
            ),
            None => (args, out_ty),
        };
        let e = match kind {
            OpKind::Constant(id) => {
                let c = self.program.constant(*id);
                let s = self.new_storage(StorageKind::Constant(id.0), c.element_type, &c.shape);
                Expr::leaf(Src::Storage(s), c.element_type, &c.shape)
            }
            OpKind::Unary(_) | OpKind::Binary(_) | OpKind::Select | OpKind::Cast(_) => {
                let mut e = args[0].broadcast(&out_shape);
                let mut regs = vec![e.result];
                for a in &args[1..] {
                    regs.push(merge(&mut e, &a.broadcast(&out_shape)));
                }
                let inst = match kind {
                    OpKind::Unary(u) => Inst::Unary(unary_fn(*u), regs[0]),
                    OpKind::Binary(b) => Inst::Binary(binary_fn(*b), regs[0], regs[1]),
                    OpKind::Select => Inst::Select(regs[0], regs[1], regs[2]),
                    OpKind::Cast(t) => Inst::Cast(regs[0], *t),
                    _ => unreachable!("elementwise kinds only"),
                };
                e.insts.push(inst);
                e.result = e.insts.len() as u32 - 1;
                e.element_type = out_ty;
                e
            }
            OpKind::Transpose { perm } => {
                let mut e = args[0].clone();
                for l in &mut e.leaves {
                    l.strides = perm.iter().map(|&p| l.strides[p]).collect();
                }
                e.shape = out_shape;
                e
            }
            OpKind::Slice { starts, steps, .. } => {
                let mut e = args[0].clone();
                for l in &mut e.leaves {
                    l.offset += starts
                        .iter()
                        .zip(&l.strides)
                        .map(|(s, st)| s * st)
                        .sum::<i64>();
                    // A dim the slice leaves with one element needs no stride (its step may be huge).
                    l.strides = l
                        .strides
                        .iter()
                        .zip(steps)
                        .zip(&out_shape)
                        .map(|((s, k), &n)| if n <= 1 { 0 } else { s * k })
                        .collect();
                }
                e.shape = out_shape;
                e
            }
            OpKind::Broadcast { .. } => args[0].broadcast(&out_shape),
            OpKind::Reshape { shape } => {
                let mut e = args[0].clone();
                let restrided: Option<Vec<Vec<i64>>> = e
                    .leaves
                    .iter()
                    .map(|l| reshape_strides(&e.shape, &l.strides, shape))
                    .collect();
                match restrided {
                    Some(all) => {
                        for (l, s) in e.leaves.iter_mut().zip(all) {
                            l.strides = s;
                        }
                        e.shape = shape.clone();
                        e
                    }
                    None => {
                        let s = self.materialize(&e);
                        Expr::leaf(Src::Storage(s), e.element_type, shape)
                    }
                }
            }
            OpKind::MatMul => self.matmul(&args[0], &args[1], &out_shape, result)?,
            OpKind::Conv2d(a) => {
                self.require_f32(out_ty, "conv2d")?;
                let x = self.contiguous_view(&args[0]);
                let w = self.contiguous_view(&args[1]);
                let y = View::contiguous(OUTPUT, 0, out_ty, &u64s(&out_shape));
                let op = KernelOp::Conv2d {
                    x,
                    w,
                    y,
                    strides: a.strides.map(|v| v as u64),
                    pads: a.pads.map(|v| v as u64),
                    dilations: a.dilations.map(|v| v as u64),
                    groups: a.groups as u64,
                    epilogue: None,
                };
                self.pend(op, out_shape, out_ty, Coords::Same, result)
            }
            OpKind::Pool2d(a) => {
                self.require_f32(out_ty, "pool2d")?;
                let x = self.contiguous_view(&args[0]);
                let y = View::contiguous(OUTPUT, 0, out_ty, &u64s(&out_shape));
                let op = KernelOp::Pool2d {
                    x,
                    y,
                    max: a.kind == PoolKind::Max,
                    kernel: a.kernel.map(|v| v as u64),
                    strides: a.strides.map(|v| v as u64),
                    pads: a.pads.map(|v| v as u64),
                    count_include_pad: a.count_include_pad,
                    epilogue: None,
                };
                self.pend(op, out_shape, out_ty, Coords::Same, result)
            }
            OpKind::Softmax { axis } => {
                self.require_f32(out_ty, "softmax")?;
                let rank = out_shape.len();
                let groups = vec![*axis, 1, rank - axis - 1];
                let mut x = self.contiguous_view(&args[0]);
                let (shape3, _) = collapse(&out_shape, &contiguous_strides(&out_shape), &groups)
                    .expect("contiguous views collapse");
                x = View::contiguous(x.operand, x.offset, x.element_type, &u64s(&shape3));
                let y = View::contiguous(OUTPUT, 0, out_ty, &u64s(&shape3));
                self.pend(
                    KernelOp::Softmax {
                        x,
                        y,
                        epilogue: None,
                    },
                    out_shape,
                    out_ty,
                    Coords::Collapse(groups),
                    result,
                )
            }
            OpKind::LayerNorm { axis, epsilon } => {
                self.require_f32(out_ty, "layer_norm")?;
                let groups = vec![*axis, out_shape.len() - axis];
                let rows: usize = out_shape[..*axis].iter().product();
                let len: usize = out_shape[*axis..].iter().product();
                let x = self.contiguous_view(&args[0]);
                let x = View::contiguous(
                    x.operand,
                    x.offset,
                    x.element_type,
                    &[rows as u64, len as u64],
                );
                let y = View::contiguous(OUTPUT, 0, out_ty, &[rows as u64, len as u64]);
                self.pend(
                    KernelOp::LayerNorm {
                        x,
                        y,
                        epsilon: *epsilon as f32,
                        epilogue: None,
                    },
                    out_shape,
                    out_ty,
                    Coords::Collapse(groups),
                    result,
                )
            }
            OpKind::Reduce { kind, axes, .. } => {
                self.reduce(&args[0], *kind, axes, &out_shape, out_ty)
            }
            OpKind::Gather { axis } => {
                let dshape = self.shape(operands[0]);
                let data = self.contiguous_view(&args[0]);
                let (outer, len, inner) = (
                    dshape[..*axis].iter().product::<usize>(),
                    dshape[*axis],
                    dshape[axis + 1..].iter().product::<usize>(),
                );
                let data = View::contiguous(
                    data.operand,
                    data.offset,
                    data.element_type,
                    &[outer as u64, len as u64, inner as u64],
                );
                let idx = self.contiguous_view(&args[1]);
                let n = args[1].shape.iter().product::<usize>() as u64;
                let indices = View::contiguous(idx.operand, idx.offset, idx.element_type, &[n]);
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let out = View::contiguous(s as u32, 0, out_ty, &[outer as u64, n, inner as u64]);
                self.push_kernel(KernelOp::Gather { data, indices, out });
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
            OpKind::Pad { lows, value, .. } => {
                // Fill the whole output with the padding value, then copy the input expression
                // into its interior.
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let constant = if out_ty.is_float() {
                    Inst::ConstF(*value as f32)
                } else {
                    Inst::ConstI(*value as i64)
                };
                let fill = Expr {
                    shape: out_shape.clone(),
                    element_type: out_ty,
                    leaves: vec![],
                    insts: vec![constant],
                    result: 0,
                };
                self.push_generic(
                    &fill,
                    View::contiguous(s as u32, 0, out_ty, &u64s(&out_shape)),
                );
                let mut a = args[0].clone();
                self.resolve(&mut a);
                let strides = contiguous_strides(&out_shape);
                let offset: i64 = lows
                    .iter()
                    .zip(&strides)
                    .map(|(&l, &st)| l as i64 * st)
                    .sum();
                let interior = View {
                    operand: s as u32,
                    offset: offset as u64,
                    element_type: out_ty,
                    shape: u64s(&a.shape),
                    strides,
                };
                self.push_generic(&a, interior);
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
            OpKind::Concat { axis } => {
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let strides = contiguous_strides(&out_shape);
                let mut at = 0i64;
                for a in &args {
                    let mut a = a.clone();
                    self.resolve(&mut a);
                    let out = View {
                        operand: s as u32,
                        offset: (at * strides[*axis]) as u64,
                        element_type: out_ty,
                        shape: u64s(&a.shape),
                        strides: strides.clone(),
                    };
                    at += a.shape[*axis] as i64;
                    self.push_generic(&a, out);
                }
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
        };
        Ok(match narrow_to {
            Some(t) => cast_expr(e, t),
            None => e,
        })
    }

    fn require_f32(&self, t: ElementType, op: &str) -> Result<(), CompileError> {
        if t == ElementType::F32 {
            Ok(())
        } else {
            Err(self.err(format!(
                "'{op}' on {t} is not supported by the vmvx backend yet (f32 only)"
            )))
        }
    }

    fn pend(
        &mut self,
        op: KernelOp,
        shape: Vec<usize>,
        element_type: ElementType,
        coords: Coords,
        result: ValueId,
    ) -> Expr {
        let fusable = self.uses[result.index()] == 1;
        self.pending.push(PendingRoot {
            op,
            shape: shape.clone(),
            element_type,
            coords,
            fusable,
            emitted: None,
        });
        Expr::leaf(Src::Pending(self.pending.len() - 1), element_type, &shape)
    }

    fn matmul(
        &mut self,
        a: &Expr,
        b: &Expr,
        out: &[usize],
        result: ValueId,
    ) -> Result<Expr, CompileError> {
        let et = a.element_type;
        self.require_f32(et, "matmul")?;
        let r = out.len();
        let nb = r - 2;
        let k = a.shape[a.shape.len() - 1];
        let operand = |fm: &mut Self, e: &Expr, rows: usize, cols: usize| -> View {
            let mut full = out[..nb].to_vec();
            full.extend([rows, cols]);
            let mut groups = vec![nb, 1, 1];
            if nb == 0 {
                groups = vec![0, 1, 1];
            }
            let try_view = |fm: &mut Self, e: &Expr| -> Option<View> {
                let v = fm.strided_view(e)?;
                let st = broadcast_strides(&e.shape, &v.strides, &full);
                let (shape3, st3) = collapse(&full, &st, &groups)?;
                st3.iter().all(|&s| s >= 0).then(|| View {
                    shape: u64s(&shape3),
                    strides: st3,
                    ..v
                })
            };
            // A bias add (or any elementwise work) over a transposed projection becomes the
            // projection's epilogue, and this operand reads its result through the transpose.
            let folded = if e.is_view() {
                None
            } else {
                fm.fold_into_root(e)
            };
            let e = folded.as_ref().unwrap_or(e);
            if let Some(v) = try_view(fm, e) {
                return v;
            }
            let s = fm.materialize(&e.broadcast(&full));
            let stored = Expr::leaf(Src::Storage(s), e.element_type, &full);
            try_view(fm, &stored).expect("a contiguous operand always collapses")
        };
        let av = operand(self, a, out[r - 2], k);
        let bv = operand(self, b, k, out[r - 1]);
        let c_shape = [av.shape[0], out[r - 2] as u64, out[r - 1] as u64];
        let c = View::contiguous(OUTPUT, 0, et, &c_shape);
        let op = KernelOp::MatMul {
            a: av,
            b: bv,
            c,
            epilogue: None,
        };
        let groups = if nb == 0 {
            vec![0, 1, 1]
        } else {
            vec![nb, 1, 1]
        };
        Ok(self.pend(op, out.to_vec(), et, Coords::Collapse(groups), result))
    }

    fn reduce(
        &mut self,
        x: &Expr,
        kind: ReduceKind,
        axes: &[usize],
        out_shape: &[usize],
        out_ty: ElementType,
    ) -> Expr {
        let mut e = x.clone();
        self.resolve(&mut e);
        let rank = e.shape.len();
        let order: Vec<usize> = (0..rank)
            .filter(|d| !axes.contains(d))
            .chain(axes.iter().copied())
            .collect();
        let domain: Vec<usize> = order.iter().map(|&d| e.shape[d]).collect();
        for l in &mut e.leaves {
            l.strides = order.iter().map(|&d| l.strides[d]).collect();
        }
        e.shape = domain.clone();
        let p = rank - axes.len();
        let s = self.new_storage(StorageKind::Computed, out_ty, out_shape);
        let mut out_strides = contiguous_strides(&domain[..p]);
        out_strides.extend(std::iter::repeat_n(0, axes.len()));
        let out = View {
            operand: s as u32,
            offset: 0,
            element_type: out_ty,
            shape: u64s(&domain),
            strides: out_strides,
        };
        let reduce = match kind {
            ReduceKind::Sum => ReduceFn::Sum,
            ReduceKind::Max => ReduceFn::Max,
            ReduceKind::Min => ReduceFn::Min,
            ReduceKind::Mean => ReduceFn::Mean,
        };
        let inputs = self.leaf_views(&e);
        self.push_kernel(KernelOp::Generic {
            shape: u64s(&domain),
            reduction_dims: axes.len() as u32,
            reduce,
            inputs,
            outputs: vec![out],
            body: e.body(),
        });
        Expr::leaf(Src::Storage(s), out_ty, out_shape)
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
        if l.offset < 0 {
            return None;
        }
        Some(View {
            operand: s as u32,
            offset: l.offset as u64,
            element_type: l.element_type,
            shape: u64s(&e.shape),
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
        View::contiguous(s as u32, 0, e.element_type, &u64s(&e.shape))
    }

    /// Stores `e`, returning its storage. Views of whole stored tensors are returned as they are;
    /// an expression over a whole held-back root becomes that root's epilogue.
    fn materialize(&mut self, e: &Expr) -> StorageIndex {
        if let Some(v) = self.strided_view(e) {
            let whole =
                self.storages[v.operand as usize].elements == v.shape.iter().product::<u64>();
            if v.offset == 0 && v.is_contiguous() && whole {
                return v.operand as usize;
            }
        }
        let identity = contiguous_strides(&e.shape);
        let fusable = e.leaves.iter().enumerate().find_map(|(i, l)| {
            self.fusable_root(l, e.element_type)
                .filter(|&p| l.strides == identity && self.pending[p].shape == e.shape)
                .map(|p| (i, p))
        });
        if let Some((i, p)) = fusable {
            if let Some(s) = self.fuse_epilogue(e, i, p) {
                return s;
            }
        }
        self.emit_generic(e)
    }

    /// The held-back root leaf `l` reads from its first element, if that root may still take
    /// an epilogue whose values are `element_type`.
    fn fusable_root(&self, l: &Leaf, element_type: ElementType) -> Option<usize> {
        let Src::Pending(p) = l.src else {
            return None;
        };
        let root = &self.pending[p];
        (root.fusable
            && root.emitted.is_none()
            && l.offset == 0
            && root.element_type == element_type)
            .then_some(p)
    }

    /// Emits root `p` with `e` as its epilogue (leaf `i` of `e` reads the root's result).
    /// `None` when another leaf reads the root too (through other strides): the root would be
    /// emitted for that leaf first, without the epilogue.
    fn fuse_epilogue(&mut self, e: &Expr, i: usize, p: usize) -> Option<StorageIndex> {
        let reads_root = |l: &Leaf| matches!(l.src, Src::Pending(q) if q == p);
        if e.leaves.iter().filter(|l| reads_root(l)).count() != 1 {
            return None;
        }
        let mut e = e.clone();
        self.resolve_except(&mut e, i);
        let coords = self.pending[p].coords.clone();
        let mut inputs = vec![];
        let mut remap = vec![0u32; e.leaves.len()];
        for (j, l) in e.leaves.iter().enumerate() {
            if j == i {
                continue;
            }
            let Src::Storage(s) = l.src else {
                unreachable!("resolved")
            };
            let (shape, strides) = match &coords {
                Coords::Same => (e.shape.clone(), l.strides.clone()),
                Coords::Collapse(groups) => collapse(&e.shape, &l.strides, groups)?,
            };
            if l.offset < 0 {
                return None;
            }
            remap[j] = inputs.len() as u32 + 1;
            inputs.push(View {
                operand: s as u32,
                offset: l.offset as u64,
                element_type: l.element_type,
                shape: u64s(&shape),
                strides,
            });
        }
        let insts = e.insts.iter().map(|inst| match inst {
            Inst::Input(n) => Inst::Input(remap[*n as usize]),
            other => other.clone(),
        });
        let body = Body {
            insts: insts.collect(),
            results: vec![e.result],
        };
        Some(self.emit_pending(p, Some(Epilogue { inputs, body })))
    }

    /// `e` as a view of a held-back root's stored result, with `e` computed by that root's
    /// epilogue, when `e` reads the root's whole result through a permutation of its dims (a
    /// transpose of a reshape, as attention's head split of a projection is): the root
    /// computes `e` in its own layout, and the view reads it back in `e`'s. `None` when `e`
    /// reads no such root (or reads it twice, see [`Former::fuse_epilogue`]), or another
    /// leaf's strides have no equivalent over the root's dims.
    fn fold_into_root(&mut self, e: &Expr) -> Option<Expr> {
        let (i, p) = e
            .leaves
            .iter()
            .enumerate()
            .find_map(|(i, l)| Some((i, self.fusable_root(l, e.element_type)?)))?;
        let root_shape = self.pending[p].shape.clone();
        let sigma = &e.leaves[i].strides;
        if e.shape.contains(&0) {
            return None;
        }
        // `e`'s dims (size-1 ones aside) in the order they lie in the root's result, which
        // they must cover exactly once.
        let mut dims: Vec<usize> = (0..e.shape.len()).filter(|&d| e.shape[d] != 1).collect();
        dims.sort_by_key(|&d| Reverse(sigma[d]));
        let sizes: Vec<usize> = dims.iter().map(|&d| e.shape[d]).collect();
        let in_order = contiguous_strides(&sizes);
        if sizes.iter().product::<usize>() != root_shape.iter().product::<usize>()
            || dims.iter().zip(&in_order).any(|(&d, &s)| sigma[d] != s)
        {
            return None;
        }
        let mut in_root = e.clone();
        in_root.shape = root_shape.clone();
        for (j, leaf) in in_root.leaves.iter_mut().enumerate() {
            leaf.strides = if j == i {
                contiguous_strides(&root_shape)
            } else {
                let along: Vec<i64> = dims.iter().map(|&d| leaf.strides[d]).collect();
                reshape_strides(&sizes, &along, &root_shape)?
            };
        }
        let s = self.fuse_epilogue(&in_root, i, p)?;
        let mut view = Expr::leaf(Src::Storage(s), e.element_type, &e.shape);
        view.leaves[0].strides = sigma.clone();
        Some(view)
    }

    fn resolve_except(&mut self, e: &mut Expr, keep: usize) {
        for j in 0..e.leaves.len() {
            if j == keep {
                continue;
            }
            if let Src::Pending(q) = e.leaves[j].src {
                let s = self.emit_pending(q, None);
                e.leaves[j].src = Src::Storage(s);
            }
        }
    }

    /// Emits a held-back root's kernel (once) and returns its output storage.
    fn emit_pending(&mut self, p: usize, epilogue: Option<Epilogue>) -> StorageIndex {
        if let Some(s) = self.pending[p].emitted {
            return s;
        }
        let (shape, et) = (self.pending[p].shape.clone(), self.pending[p].element_type);
        let s = self.new_storage(StorageKind::Computed, et, &shape);
        let mut op = self.pending[p].op.clone();
        let (y, slot) = op
            .result_and_epilogue()
            .expect("only named ops with a result are held back");
        if y.operand == OUTPUT {
            y.operand = s as u32;
        }
        *slot = epilogue;
        self.pending[p].emitted = Some(s);
        self.push_kernel(op);
        s
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
                    offset: l.offset as u64,
                    element_type: l.element_type,
                    shape: u64s(&e.shape),
                    strides: l.strides.clone(),
                }
            })
            .collect()
    }

    /// Stores `e` into new storage with a generic kernel.
    fn emit_generic(&mut self, e: &Expr) -> StorageIndex {
        let s = self.new_storage(StorageKind::Computed, e.element_type, &e.shape);
        let out = View::contiguous(s as u32, 0, e.element_type, &u64s(&e.shape));
        let mut e = e.clone();
        self.resolve(&mut e);
        self.push_generic(&e, out);
        s
    }

    fn push_generic(&mut self, e: &Expr, out: View) {
        let inputs = self.leaf_views(e);
        self.push_kernel(KernelOp::Generic {
            shape: u64s(&e.shape),
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
