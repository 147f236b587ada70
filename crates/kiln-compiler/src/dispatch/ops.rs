//! Per-op lowering: how each tensor IR op becomes an expression, a re-strided view, a held-back
//! root or a kernel.

use super::expr::*;
use super::*;

pub(super) fn unary_fn(u: UnaryOp) -> UnaryFn {
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
        UnaryOp::BitNot => UnaryFn::BitNot,
    }
}

pub(super) fn binary_fn(b: BinaryOp) -> BinaryFn {
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
        BinaryOp::BitAnd => BinaryFn::BitAnd,
        BinaryOp::BitOr => BinaryFn::BitOr,
        BinaryOp::BitXor => BinaryFn::BitXor,
        BinaryOp::Shl => BinaryFn::Shl,
        BinaryOp::Shr => BinaryFn::Shr,
    }
}

impl Former<'_> {
    pub(super) fn op(
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
        // Except matmuls and convolutions of two f16 or two bf16 operands, which targets with
        // matrix units take as they are (summing in f32 all the same).
        let gemm = matches!(kind, OpKind::MatMul | OpKind::Conv2d(_));
        let narrow_operands = gemm
            && self.narrow_gemm_operands
            && matches!(out_ty, ElementType::F16 | ElementType::BF16)
            && operands
                .iter()
                .all(|&v| self.f.ty(v).element_type == out_ty);
        let narrow_to = (named
            && !narrow_operands
            && matches!(
                out_ty,
                ElementType::F16 | ElementType::BF16 | ElementType::F64
            ))
        .then_some(out_ty);
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
                match immediate(c) {
                    Some(e) => e,
                    None => {
                        let kind = StorageKind::Constant(id.0);
                        let shape = sizes(&c.shape);
                        let s = self.new_storage(kind, c.element_type, &shape);
                        Expr::leaf(Src::Storage(s), c.element_type, &shape)
                    }
                }
            }
            OpKind::Unary(_) | OpKind::Binary(_) | OpKind::Select | OpKind::Cast(_) => {
                let args = self.within_leaf_budget(args);
                let args = self.stored_before_broadcast(args, &out_shape);
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
                let arithmetic = matches!(inst, Inst::Unary(..) | Inst::Binary(..));
                e.insts.push(inst);
                e.result = e.insts.len() as u32 - 1;
                // Integers compute in 64-bit registers: a result of a narrower type wraps to
                // it at once, so later instructions see what the stored value would be.
                if arithmetic && out_ty.int_width().is_some_and(|(bits, _)| bits < 64) {
                    e.insts.push(Inst::Cast(e.result, out_ty));
                    e.result += 1;
                }
                e.element_type = out_ty;
                e
            }
            OpKind::Transpose { perm } => {
                let mut e = args[0].clone();
                for l in &mut e.leaves {
                    l.strides = perm.iter().map(|&p| l.strides[p].clone()).collect();
                }
                e.shape = out_shape;
                e
            }
            OpKind::Slice { starts, steps, .. } => {
                let mut e = args[0].clone();
                for l in &mut e.leaves {
                    for (&start, st) in starts.iter().zip(&l.strides) {
                        l.offset = l.offset.clone() + SymExpr::from(start) * st.clone();
                    }
                    // A dim the slice leaves with one element needs no stride (its step may be huge).
                    l.strides = l
                        .strides
                        .iter()
                        .zip(steps)
                        .zip(&out_shape)
                        .map(|((s, &k), n)| {
                            if n.as_const().is_some_and(|n| n <= 1) {
                                SymExpr::from(0)
                            } else {
                                s.clone() * SymExpr::from(k)
                            }
                        })
                        .collect();
                }
                e.shape = out_shape;
                e
            }
            OpKind::Broadcast { .. } => args[0].broadcast(&out_shape),
            // Positions are stored at once: a later transpose, slice or broadcast re-strides
            // what it reads, never a coordinate inside a body.
            OpKind::Iota { axis, .. } => {
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let iota = Expr {
                    shape: out_shape.clone(),
                    element_type: out_ty,
                    leaves: vec![],
                    insts: vec![Inst::Index(*axis as u32)],
                    result: 0,
                };
                self.push_generic(
                    &iota,
                    contiguous(s as u32, SymExpr::from(0), out_ty, &out_shape),
                );
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
            // The same elements, or the leading ones: the sizes are equal (or at most the
            // operand's) when the function runs, which is checked first.
            OpKind::CheckShape { .. } | OpKind::Take { .. } => {
                let mut e = args[0].clone();
                e.shape = out_shape;
                e
            }
            // The stored bytes read as the new type: no kernel of its own.
            OpKind::BitCast(to) => {
                let s = self.materialize(&args[0]);
                Expr::leaf(Src::Storage(s), *to, &out_shape)
            }
            OpKind::Reshape { .. } => {
                let mut e = args[0].clone();
                let restrided: Option<Vec<Vec<SymExpr>>> = e
                    .leaves
                    .iter()
                    .map(|l| reshape_strides(&e.shape, &l.strides, &out_shape))
                    .collect();
                match restrided {
                    Some(all) => {
                        for (l, s) in e.leaves.iter_mut().zip(all) {
                            l.strides = s;
                        }
                        e.shape = out_shape;
                        e
                    }
                    None => {
                        let s = self.materialize(&e);
                        Expr::leaf(Src::Storage(s), e.element_type, &out_shape)
                    }
                }
            }
            OpKind::MatMul => self.matmul(&args[0], &args[1], &out_shape, result)?,
            OpKind::Conv2d(a) => {
                // The IR admits one integer form: ui8 pixels by i8 weights summed in i32.
                if out_ty != ElementType::I32 {
                    self.require_gemm_type(out_ty, "conv2d")?;
                }
                let x = self.contiguous_view(&args[0]);
                let w = self.contiguous_view(&args[1]);
                let y = contiguous(OUTPUT, SymExpr::from(0), out_ty, &out_shape);
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
                let y = contiguous(OUTPUT, SymExpr::from(0), out_ty, &out_shape);
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
                x = contiguous(x.operand, x.offset, x.element_type, &shape3);
                let y = contiguous(OUTPUT, SymExpr::from(0), out_ty, &shape3);
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
                let rows_len = [product(&out_shape[..*axis]), product(&out_shape[*axis..])];
                let x = self.contiguous_view(&args[0]);
                let x = contiguous(x.operand, x.offset, x.element_type, &rows_len);
                let y = contiguous(OUTPUT, SymExpr::from(0), out_ty, &rows_len);
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
            OpKind::Recurrent(cell) => {
                let views: Vec<View> = args.iter().map(|a| self.contiguous_view(a)).collect();
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let y = contiguous(s as u32, SymExpr::from(0), out_ty, &out_shape);
                let [proj, weights, h0, c0, biases] = <[View; 5]>::try_from(views)
                    .unwrap_or_else(|_| unreachable!("typed with five operands"));
                self.push_kernel(KernelOp::Recurrent {
                    proj,
                    weights,
                    h0,
                    c0,
                    biases,
                    y,
                    cell: cell.clone(),
                });
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
            OpKind::Gather { axis } => {
                let dshape = self.shape(operands[0]);
                let data = self.contiguous_view(&args[0]);
                let (outer, len, inner) = (
                    product(&dshape[..*axis]),
                    dshape[*axis].clone(),
                    product(&dshape[axis + 1..]),
                );
                let data = contiguous(
                    data.operand,
                    data.offset,
                    data.element_type,
                    &[outer.clone(), len, inner.clone()],
                );
                let idx = self.contiguous_view(&args[1]);
                let n = product(&args[1].shape);
                let indices = contiguous(
                    idx.operand,
                    idx.offset,
                    idx.element_type,
                    std::slice::from_ref(&n),
                );
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let out = contiguous(s as u32, SymExpr::from(0), out_ty, &[outer, n, inner]);
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
                    contiguous(s as u32, SymExpr::from(0), out_ty, &out_shape),
                );
                let mut a = args[0].clone();
                self.resolve(&mut a);
                let strides = contiguous_strides(&out_shape);
                let offset = lows
                    .iter()
                    .zip(&strides)
                    .fold(SymExpr::from(0), |acc, (&l, st)| {
                        acc + SymExpr::from(l as i64) * st.clone()
                    });
                let interior = View {
                    operand: s as u32,
                    offset,
                    element_type: out_ty,
                    shape: a.shape.clone(),
                    strides,
                };
                self.push_generic(&a, interior);
                Expr::leaf(Src::Storage(s), out_ty, &out_shape)
            }
            OpKind::Concat { axis } => {
                let s = self.new_storage(StorageKind::Computed, out_ty, &out_shape);
                let strides = contiguous_strides(&out_shape);
                let mut at = SymExpr::from(0);
                for a in &args {
                    let mut a = a.clone();
                    self.resolve(&mut a);
                    let out = View {
                        operand: s as u32,
                        offset: at.clone() * strides[*axis].clone(),
                        element_type: out_ty,
                        shape: a.shape.clone(),
                        strides: strides.clone(),
                    };
                    at = at + a.shape[*axis].clone();
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

    pub(super) fn require_f32(&self, t: ElementType, op: &str) -> Result<(), CompileError> {
        if t == ElementType::F32 {
            Ok(())
        } else {
            Err(self.err(format!(
                "'{op}' on {t} is not supported by the vmvx backend yet (f32 only)"
            )))
        }
    }

    /// [`Former::require_f32`], or f16/bf16 where the targets take narrow GEMM operands.
    fn require_gemm_type(&self, t: ElementType, op: &str) -> Result<(), CompileError> {
        let narrow = matches!(t, ElementType::F16 | ElementType::BF16);
        if narrow && self.narrow_gemm_operands {
            return Ok(());
        }
        self.require_f32(t, op)
    }

    pub(super) fn matmul(
        &mut self,
        a: &Expr,
        b: &Expr,
        out: &[SymExpr],
        result: ValueId,
    ) -> Result<Expr, CompileError> {
        // The IR admits one integer form: ui8 by i8 summed in i32.
        let et = if [a.element_type, b.element_type] == [ElementType::U8, ElementType::I8] {
            ElementType::I32
        } else {
            self.require_gemm_type(a.element_type, "matmul")?;
            a.element_type
        };
        let r = out.len();
        let nb = r - 2;
        let k = a.shape[a.shape.len() - 1].clone();
        // Each operand is viewed as `[batch, rows, cols]`, its batch dims collapsed by the first
        // of `options` (dim groups of `[batch..., rows, cols]`) its layout allows; with none, it
        // is stored contiguously first. Returns the view and the option taken.
        let operand = |fm: &mut Self,
                       e: &Expr,
                       rows: SymExpr,
                       cols: SymExpr,
                       options: &[Vec<usize>]|
         -> (View, usize) {
            let mut full = out[..nb].to_vec();
            full.extend([rows, cols]);
            // `contiguous`: the operand was just stored in `full`'s order, so its strides are
            // products of sizes, never negative, even where an expression (`(n+128)/160-3`)
            // cannot show it.
            let try_view = |fm: &mut Self, e: &Expr, contiguous: bool| -> Option<(View, usize)> {
                let v = fm.strided_view(e)?;
                let st = broadcast_strides(&e.shape, &v.strides, &full);
                options.iter().enumerate().find_map(|(i, groups)| {
                    let (shape3, st3) = collapse(&full, &st, groups)?;
                    (contiguous || st3.iter().all(SymExpr::is_nonnegative)).then(|| {
                        let view = View {
                            operand: v.operand,
                            offset: v.offset.clone(),
                            element_type: v.element_type,
                            shape: shape3,
                            strides: st3,
                        };
                        (view, i)
                    })
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
            if let Some(v) = try_view(fm, e, false) {
                return v;
            }
            let s = fm.materialize(&e.broadcast(&full));
            let stored = Expr::leaf(Src::Storage(s), e.element_type, &full);
            try_view(fm, &stored, true).expect("a contiguous operand always collapses")
        };
        let batched = if nb == 0 {
            vec![0, 1, 1]
        } else {
            vec![nb, 1, 1]
        };
        // A right-hand side shared by every batch (a projection's weights, broadcast) makes
        // the batch part of the rows: one GEMM over `[batch·rows, k]`, weights packed once.
        let b_batch = b.shape.len().saturating_sub(2);
        let shared = nb > 0 && (0..b_batch).all(|d| is(&b.shape[d], 1));
        let options = if shared {
            vec![vec![0, nb + 1, 1], batched.clone()]
        } else {
            vec![batched.clone()]
        };
        let (av, taken) = operand(self, a, out[r - 2].clone(), k.clone(), &options);
        let groups = options[taken].clone();
        let (mut bv, _) = operand(self, b, k, out[r - 1].clone(), &[batched]);
        if groups[0] == 0 {
            bv.shape[0] = SymExpr::from(1);
        }
        let c_shape = [av.shape[0].clone(), av.shape[1].clone(), out[r - 1].clone()];
        let c = contiguous(OUTPUT, SymExpr::from(0), et, &c_shape);
        let op = KernelOp::MatMul {
            a: av,
            b: bv,
            c,
            epilogue: None,
        };
        Ok(self.pend(op, out.to_vec(), et, Coords::Collapse(groups), result))
    }

    pub(super) fn reduce(
        &mut self,
        x: &Expr,
        kind: ReduceKind,
        axes: &[usize],
        out_shape: &[SymExpr],
        out_ty: ElementType,
    ) -> Expr {
        let mut e = x.clone();
        self.resolve(&mut e);
        let rank = e.shape.len();
        let order: Vec<usize> = (0..rank)
            .filter(|d| !axes.contains(d))
            .chain(axes.iter().copied())
            .collect();
        let domain: Vec<SymExpr> = order.iter().map(|&d| e.shape[d].clone()).collect();
        for l in &mut e.leaves {
            l.strides = order.iter().map(|&d| l.strides[d].clone()).collect();
        }
        e.shape = domain.clone();
        let p = rank - axes.len();
        let s = self.new_storage(StorageKind::Computed, out_ty, out_shape);
        let mut out_strides = contiguous_strides(&domain[..p]);
        out_strides.extend(std::iter::repeat_n(SymExpr::from(0), axes.len()));
        let out = View {
            operand: s as u32,
            offset: SymExpr::from(0),
            element_type: out_ty,
            shape: domain.clone(),
            strides: out_strides,
        };
        let reduce = match kind {
            ReduceKind::Sum => ReduceFn::Sum,
            ReduceKind::Max => ReduceFn::Max,
            ReduceKind::Min => ReduceFn::Min,
            ReduceKind::Mean => ReduceFn::Mean,
            ReduceKind::Prod => ReduceFn::Prod,
        };
        let inputs = self.leaf_views(&e);
        self.push_kernel(KernelOp::Generic {
            shape: domain,
            reduction_dims: axes.len() as u32,
            reduce,
            inputs,
            outputs: vec![out],
            body: e.body(),
        });
        Expr::leaf(Src::Storage(s), out_ty, out_shape)
    }
}

/// Most leaves one fused elementwise expression reads unless a target asks for fewer. Each is
/// a binding of its kernel, and GPUs bound those per shader (lavapipe and many mobile GPUs
/// allow 31 or fewer storage buffers, WebGPU 8 by default), so wide expressions (a bicubic
/// sample's sixteen gathers) are stored in parts.
pub(super) const MAX_LEAVES: usize = 16;

impl Former<'_> {
    /// Stores first each operand that computes a transcendental function (a
    /// squeeze-and-excitation block's `sigmoid` of its per-channel scale) and that this op
    /// broadcasts to [`BROADCAST_STORED_FROM`] times its elements or more: each of its values
    /// is then computed once instead of once for every element it is broadcast to. Only
    /// where that costs no dispatch of its own (the operand becomes its producer's epilogue)
    /// or the broadcast is large enough to repay one ([`BROADCAST_STORED_DISPATCH_FROM`]).
    /// (Compilers hoist such values out of the loops only where the broadcast dims are
    /// innermost; over a channels-last image a per-channel value changes along them.) A root
    /// that a converging value reads is never given the operand as its epilogue here: the
    /// value's other branches still read the root's own result.
    fn stored_before_broadcast(&mut self, args: Vec<Expr>, out_shape: &[SymExpr]) -> Vec<Expr> {
        let elements = |shape: &[SymExpr]| product(shape).estimate();
        let broadcast_to = elements(out_shape);
        let large = broadcast_to >= BROADCAST_STORED_DISPATCH_FROM;
        args.into_iter()
            .map(|mut a| {
                let transcendental = a.insts.iter().any(|i| match *i {
                    Inst::Unary(f, _) => f.is_transcendental(),
                    Inst::Binary(f, ..) => f.is_transcendental(),
                    _ => false,
                });
                let fold = elements(&a.shape).saturating_mul(BROADCAST_STORED_FROM);
                if !transcendental || fold > broadcast_to {
                    return a;
                }
                let shared = a
                    .leaves
                    .iter()
                    .any(|l| matches!(l.src, Src::Pending(p) if self.pending[p].shared));
                let epilogue = match self.epilogue_root(&a) {
                    Some((i, p)) if !shared => self.fuse_epilogue(&a, i, p),
                    _ => None,
                };
                let stored = epilogue.or_else(|| {
                    large.then(|| {
                        self.resolve(&mut a);
                        self.emit_generic(&a)
                    })
                });
                match stored {
                    Some(s) => Expr::leaf(Src::Storage(s), a.element_type, &a.shape),
                    None => a,
                }
            })
            .collect()
    }

    /// `args` with the operands that read the most leaves stored first, until an elementwise
    /// op over them reads at most `max_leaves`.
    fn within_leaf_budget(&mut self, mut args: Vec<Expr>) -> Vec<Expr> {
        let distinct = |args: &[Expr]| {
            let mut leaves: Vec<&Leaf> = vec![];
            for l in args.iter().flat_map(|a| &a.leaves) {
                if !leaves.contains(&l) {
                    leaves.push(l);
                }
            }
            leaves.len()
        };
        while distinct(&args) > self.max_leaves {
            let widest = (0..args.len())
                .max_by_key(|&i| args[i].leaves.len())
                .expect("an elementwise op has operands");
            if args[widest].leaves.len() <= 1 {
                break;
            }
            let a = &args[widest];
            let s = self.materialize(a);
            args[widest] = Expr::leaf(Src::Storage(s), a.element_type, &a.shape);
        }
        args
    }
}

/// How many times its elements an operand that computes a transcendental function must be
/// broadcast to before it is stored first ([`Former::stored_before_broadcast`]).
const BROADCAST_STORED_FROM: i64 = 16;

/// The fewest elements a broadcast of such an operand must have for the operand to be
/// stored by a dispatch of its own: about where computing the function for every element
/// costs more than a dispatch does.
const BROADCAST_STORED_DISPATCH_FROM: i64 = 1 << 16;

/// A one-element float constant as an immediate in the body (no binding, no load): scalars
/// such as an activation's coefficients, exact in the f32 register. Integer scalars stay
/// bindings: Mesa's lavapipe miscompiles a signed comparison of a sign-extended i32 load
/// with a 64-bit constant (valid SPIR-V; `SLessThan(2, sext(x))` comes out true for x = 1).
fn immediate(c: &kiln_types::HostTensor) -> Option<Expr> {
    let float = c.element_type.is_float();
    if c.element_count() != 1 || !float {
        return None;
    }
    let inst = Inst::ConstF(c.to_f64()[0] as f32);
    Some(Expr {
        shape: sizes(&c.shape),
        element_type: c.element_type,
        leaves: vec![],
        insts: vec![inst],
        result: 0,
    })
}

/// A static shape as sizes.
fn sizes(shape: &[usize]) -> Vec<SymExpr> {
    shape.iter().map(|&d| SymExpr::from(d as i64)).collect()
}
