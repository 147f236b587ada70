//! The expression algebra of dispatch formation: elementwise bodies over strided leaves,
//! broadcast, cast and merged (shared instructions computed once) before anything is stored.

use super::*;

/// Where a leaf reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Src {
    Storage(StorageIndex),
    Pending(usize),
}

/// A strided read of a source, in the coordinates of the expression that holds it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Leaf {
    pub(super) src: Src,
    pub(super) element_type: ElementType,
    pub(super) offset: SymExpr,
    pub(super) strides: Vec<SymExpr>,
}

/// An elementwise computation over leaves, not yet stored anywhere.
#[derive(Clone, Debug)]
pub(super) struct Expr {
    pub(super) shape: Vec<SymExpr>,
    pub(super) element_type: ElementType,
    pub(super) leaves: Vec<Leaf>,
    pub(super) insts: Vec<Inst>,
    pub(super) result: u32,
}

impl Expr {
    pub(super) fn leaf(src: Src, element_type: ElementType, shape: &[SymExpr]) -> Expr {
        let leaf = Leaf {
            src,
            element_type,
            offset: SymExpr::from(0),
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
    pub(super) fn is_view(&self) -> bool {
        self.insts.len() == 1 && matches!(self.insts[0], Inst::Input(0)) && self.leaves.len() == 1
    }

    /// Re-strides every leaf to read this expression broadcast to `shape`.
    pub(super) fn broadcast(&self, shape: &[SymExpr]) -> Expr {
        let mut e = self.clone();
        for l in &mut e.leaves {
            l.strides = broadcast_strides(&self.shape, &l.strides, shape);
        }
        e.shape = shape.to_vec();
        e
    }

    pub(super) fn body(&self) -> Body {
        Body {
            insts: self.insts.clone(),
            results: vec![self.result],
        }
    }
}

/// How an epilogue's leaves map to the root kernel's output coordinates.
#[derive(Clone, Debug)]
pub(super) enum Coords {
    Same,
    /// Merge consecutive dims in groups of these sizes.
    Collapse(Vec<usize>),
}

/// `e` converted to element type `to` (a no-op when it already has it).
pub(super) fn cast_expr(mut e: Expr, to: ElementType) -> Expr {
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
pub(super) fn merge(a: &mut Expr, b: &Expr) -> u32 {
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
        let inst = match inst {
            Inst::Input(n) => Inst::Input(leaf_map[*n as usize]),
            other => other.with_registers(|x| regs[x as usize]),
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
