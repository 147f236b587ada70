//! Sizes read from tensor data: a shape, count or length a model computes at run time
//! (Reshape's target shape or ConstantOfShape's shape given as an input, Range's length,
//! OneHot's depth, Tile's repeats).
//!
//! The segment built so far ends returning the sizes as one-element tensors (computed on the
//! device first where an op's rules need it: Reshape's `0` and `-1`, Range's length). The
//! control program reads each one and makes them the dims of an empty carrier tensor
//! (`sizes`, which fails the call on a negative size), and the next segment takes the carrier
//! as a parameter, binding its dims as fresh symbols like any other size. The node then goes
//! on as if the sizes had been symbolic shape values from the start.

use super::ops::slice_axis;
use super::shape_values::ShapeValue;
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{Dim, TensorType, ValueId};
use kiln_types::control::Stmt;
use kiln_types::ElementType;

/// The most sizes one tensor of data may give.
const MAX_SIZES: usize = 16;

impl Importer {
    /// `v`'s elements (a 0-D or 1-D tensor of a static length up to [`MAX_SIZES`]; floats
    /// truncated toward zero) as size symbols of a new segment. Value ids from before are stale afterwards: the node
    /// looks its inputs up again with [`Importer::node_inputs`].
    pub(crate) fn sizes_from_data(
        &mut self,
        ctx: &NodeCtx,
        v: ValueId,
    ) -> Result<ShapeValue, ImportError> {
        Ok(self.sizes_from_data_keeping(ctx, v, &[])?.0)
    }

    /// [`Importer::sizes_from_data`], with the values `keep` (computed before the read) as
    /// the new segment holds them.
    pub(crate) fn sizes_from_data_keeping(
        &mut self,
        ctx: &NodeCtx,
        v: ValueId,
        keep: &[ValueId],
    ) -> Result<(ShapeValue, Vec<ValueId>), ImportError> {
        let ty = self.ty(v).clone();
        let count = match ty.static_shape().as_deref() {
            Some([]) => None,
            Some(&[n]) if n <= MAX_SIZES => Some(n),
            _ => {
                return Err(ctx.err(format!(
                "sizes given as data must be a scalar or a vector of at most {MAX_SIZES}, got {ty}"
            )))
            }
        };
        if ty.element_type.is_narrow_float() {
            return Err(ctx.err(format!("sizes given as data cannot be {ty}")));
        }
        let parts = match count {
            None => vec![v],
            Some(n) => (0..n)
                .map(|i| slice_axis(self, ctx, v, &ty.dims, 0, i, i + 1))
                .collect::<Result<_, _>>()?,
        };
        let exits: Vec<(ValueId, u32)> = parts
            .iter()
            .map(|&p| (p, self.new_register(Some(self.ty(p).clone()))))
            .collect();
        let kept: Vec<Option<ValueId>> = keep.iter().copied().map(Some).collect();
        let outer = self.outer_values(&kept, &vec![false; keep.len()]);
        let carry = self.end_segment(&[exits.clone(), outer.exits()].concat())?;
        let mut scalars = vec![];
        for &(_, tensor) in &exits {
            let scalar = self.new_scalar();
            self.push_stmt(Stmt::Read { tensor, scalar });
            scalars.push(scalar);
        }
        let symbols: Vec<Dim> = scalars.iter().map(|_| self.fresh_symbol()).collect();
        let carrier = TensorType {
            element_type: ElementType::I8,
            dims: [vec![Dim::Static(0)], symbols.clone()].concat(),
        };
        let tensor = self.new_register(Some(carrier));
        self.push_stmt(Stmt::Sizes { scalars, tensor });
        self.start_segment(&carry, &[tensor], &ctx.name);
        let kept = outer
            .inside(self, &(0..keep.len()).collect::<Vec<_>>())
            .into_iter()
            .map(|v| v.expect("every kept value is given"))
            .collect();
        let sizes = ShapeValue {
            values: symbols.iter().map(Dim::expr).collect(),
            scalar: count.is_none(),
        };
        Ok((sizes, kept))
    }

    /// The node's inputs by name, as the current segment holds them.
    pub(crate) fn node_inputs(&self, ctx: &NodeCtx) -> Vec<Option<ValueId>> {
        ctx.node
            .input
            .iter()
            .map(|n| match n.as_str() {
                "" => None,
                n => self.names.get(n).copied(),
            })
            .collect()
    }

    /// Input `i` as a shape value: folded when the model computes it from sizes, else read
    /// from its data (`inputs` then holds the node's inputs in the new segment).
    pub(crate) fn shape_input(
        &mut self,
        ctx: &NodeCtx,
        inputs: &mut Vec<Option<ValueId>>,
        i: usize,
    ) -> Result<ShapeValue, ImportError> {
        let v = inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| ctx.err(format!("input {i} is required")))?;
        if let Some(s) = self.shape_value(v) {
            return Ok(s);
        }
        let s = self.sizes_from_data(ctx, v)?;
        *inputs = self.node_inputs(ctx);
        Ok(s)
    }
}
