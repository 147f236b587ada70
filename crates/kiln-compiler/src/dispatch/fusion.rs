//! Fusion rules: held-back roots and the epilogues they take (directly, or through a transpose
//! into a matmul operand), values whose uses converge back into one expression, and what is
//! materialised.

use super::expr::*;
use super::*;

/// A root op whose kernel has not been emitted yet.
#[derive(Clone, Debug)]
pub(super) struct PendingRoot {
    pub(super) op: KernelOp,
    pub(super) shape: Vec<SymExpr>,
    pub(super) element_type: ElementType,
    pub(super) coords: Coords,
    pub(super) fusable: bool,
    /// Whether a converging value's expression reads the root's result: its branches each
    /// hold that read until they meet, so an operand stored from one branch must not become
    /// the root's epilogue.
    pub(super) shared: bool,
    pub(super) emitted: Option<StorageIndex>,
}

/// Placeholder binding of a pending root's output view.
pub(super) const OUTPUT: u32 = u32::MAX;

/// Values used more than once whose every use flows, through elementwise ops whose results
/// are used once, into one elementwise op (`x · erf(x/√2)`, `x · sigmoid(x)`). They stay
/// expressions instead of being stored: the branches meet again in one expression, where
/// their leaves coincide, so an activation like GELU can still become its producer's
/// epilogue. (Each branch repeats the value's instructions, never a memory pass.)
pub(super) fn converging_values(f: &Function, uses: &[usize]) -> Vec<bool> {
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

impl Former<'_> {
    pub(super) fn pend(
        &mut self,
        op: KernelOp,
        shape: Vec<SymExpr>,
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
            shared: false,
            emitted: None,
        });
        Expr::leaf(Src::Pending(self.pending.len() - 1), element_type, &shape)
    }

    /// Stores `e`, returning its storage. Views of whole stored tensors are returned as they are;
    /// an expression over a whole held-back root becomes that root's epilogue.
    pub(super) fn materialize(&mut self, e: &Expr) -> StorageIndex {
        if let Some(v) = self.strided_view(e) {
            let stored = &self.storages[v.operand as usize];
            let whole = stored.elements == product(&v.shape);
            let same_type = stored.element_type == e.element_type;
            if is(&v.offset, 0) && v.is_contiguous() && whole && same_type {
                return v.operand as usize;
            }
        }
        if let Some((i, p)) = self.epilogue_root(e) {
            if let Some(s) = self.fuse_epilogue(e, i, p) {
                return s;
            }
        }
        self.emit_generic(e)
    }

    /// The leaf of `e` that reads the whole result of a held-back root that `e` may be the
    /// epilogue of, with that root: `(leaf, root)`.
    pub(super) fn epilogue_root(&self, e: &Expr) -> Option<(usize, usize)> {
        let identity = contiguous_strides(&e.shape);
        e.leaves.iter().enumerate().find_map(|(i, l)| {
            self.fusable_root(l, e.element_type)
                .filter(|&p| l.strides == identity && self.pending[p].shape == e.shape)
                .map(|p| (i, p))
        })
    }

    /// The held-back root leaf `l` reads from its first element, if that root may still take
    /// an epilogue whose values are `element_type`: of the root's own type, or of any type
    /// after an integer convolution or matmul (its `i32` sums never need to be stored).
    pub(super) fn fusable_root(&self, l: &Leaf, element_type: ElementType) -> Option<usize> {
        let Src::Pending(p) = l.src else {
            return None;
        };
        let root = &self.pending[p];
        (root.fusable
            && root.emitted.is_none()
            && is(&l.offset, 0)
            && (root.element_type == element_type || root.op.is_integer_product()))
        .then_some(p)
    }

    /// Emits root `p` with `e` as its epilogue (leaf `i` of `e` reads the root's result).
    /// `None` when another leaf reads the root too (through other strides): the root would be
    /// emitted for that leaf first, without the epilogue.
    pub(super) fn fuse_epilogue(&mut self, e: &Expr, i: usize, p: usize) -> Option<StorageIndex> {
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
            if !l.offset.is_nonnegative() {
                return None;
            }
            remap[j] = inputs.len() as u32 + 1;
            inputs.push(View {
                operand: s as u32,
                offset: l.offset.clone(),
                element_type: l.element_type,
                shape,
                strides,
            });
        }
        if let Some(most) = self.max_bindings {
            // The root's operands (its result among them) and the epilogue's, each bound once.
            let root = self.pending[p].op.views().into_iter().map(|v| v.operand);
            let mut operands: Vec<u32> = root.chain(inputs.iter().map(|v| v.operand)).collect();
            operands.sort_unstable();
            operands.dedup();
            if operands.len() > most {
                return None;
            }
        }
        let insts = e.insts.iter().map(|inst| match inst {
            Inst::Input(n) => Inst::Input(remap[*n as usize]),
            other => other.clone(),
        });
        let body = Body {
            insts: insts.collect(),
            results: vec![e.result],
        };
        Some(self.emit_pending_as(p, Some(Epilogue { inputs, body }), e.element_type))
    }

    /// `e` as a view of a held-back root's stored result, with `e` computed by that root's
    /// epilogue, when `e` reads the root's whole result through a permutation of its dims (a
    /// transpose of a reshape, as attention's head split of a projection is): the root
    /// computes `e` in its own layout, and the view reads it back in `e`'s. `None` when `e`
    /// reads no such root (or reads it twice, see [`Former::fuse_epilogue`]), or another
    /// leaf's strides have no equivalent over the root's dims.
    pub(super) fn fold_into_root(&mut self, e: &Expr) -> Option<Expr> {
        let (i, p) = e
            .leaves
            .iter()
            .enumerate()
            .find_map(|(i, l)| Some((i, self.fusable_root(l, e.element_type)?)))?;
        let root_shape = self.pending[p].shape.clone();
        let sigma = &e.leaves[i].strides;
        if e.shape.iter().any(|d| !is_positive(d)) {
            return None;
        }
        // `e`'s dims (size-1 ones aside) in the order they lie in the root's result, which
        // they must cover exactly once (an order by estimated strides, checked exactly).
        let mut dims: Vec<usize> = (0..e.shape.len())
            .filter(|&d| !is(&e.shape[d], 1))
            .collect();
        dims.sort_by_key(|&d| Reverse(sigma[d].estimate()));
        let sizes: Vec<SymExpr> = dims.iter().map(|&d| e.shape[d].clone()).collect();
        let in_order = contiguous_strides(&sizes);
        if product(&sizes) != product(&root_shape)
            || dims.iter().zip(&in_order).any(|(&d, s)| sigma[d] != *s)
        {
            return None;
        }
        let mut in_root = e.clone();
        in_root.shape = root_shape.clone();
        for (j, leaf) in in_root.leaves.iter_mut().enumerate() {
            leaf.strides = if j == i {
                contiguous_strides(&root_shape)
            } else {
                let along: Vec<SymExpr> = dims.iter().map(|&d| leaf.strides[d].clone()).collect();
                reshape_strides(&sizes, &along, &root_shape)?
            };
        }
        let s = self.fuse_epilogue(&in_root, i, p)?;
        let mut view = Expr::leaf(Src::Storage(s), e.element_type, &e.shape);
        view.leaves[0].strides = sigma.clone();
        Some(view)
    }

    pub(super) fn resolve_except(&mut self, e: &mut Expr, keep: usize) {
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
    pub(super) fn emit_pending(&mut self, p: usize, epilogue: Option<Epilogue>) -> StorageIndex {
        let et = self.pending[p].element_type;
        self.emit_pending_as(p, epilogue, et)
    }

    /// [`Former::emit_pending`] with the stored values (the epilogue's) of type `stored`.
    pub(super) fn emit_pending_as(
        &mut self,
        p: usize,
        epilogue: Option<Epilogue>,
        stored: ElementType,
    ) -> StorageIndex {
        if let Some(s) = self.pending[p].emitted {
            return s;
        }
        let shape = self.pending[p].shape.clone();
        let s = self.new_storage(StorageKind::Computed, stored, &shape);
        let mut op = self.pending[p].op.clone();
        let (y, slot) = op
            .result_and_epilogue()
            .expect("only named ops with a result are held back");
        if y.operand == OUTPUT {
            y.operand = s as u32;
            y.element_type = stored;
        }
        *slot = epilogue;
        self.pending[p].emitted = Some(s);
        self.push_kernel(op);
        s
    }
}

/// True when size `d` is at least 1 for every value of its symbols: a constant above zero, or
/// one symbol (the input dims a caller gives are checked when a dim may be zero).
fn is_positive(d: &SymExpr) -> bool {
    d.as_const().map_or(d.as_symbol().is_some(), |c| c > 0)
}
