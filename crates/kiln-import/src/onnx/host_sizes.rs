//! Sizes a model reads as data (Shape → Cast → Div), computed on the host: the control
//! program evaluates each size expression from the segment's arguments' dims before the
//! segment's call and packs the values into a tensor parameter.

use super::staging::Carry;
use super::Importer;
use crate::ImportError;
use kiln_ir::{Dim, Port, SymExpr, TensorType, ValueId};
use kiln_types::control::{ArithOp, Stmt};
use kiln_types::sym::SymArith;
use std::collections::HashSet;

impl Importer {
    /// Rebases the shape values a cut carries into the next segment: an expression written in
    /// symbols of the ended segment (not the function's inputs, which the next segment binds
    /// itself) is computed by the control program from that segment's arguments, and the
    /// values reach the next segment as the dims of an empty carrier tensor (`sizes`), whose
    /// fresh symbols replace the expressions.
    pub(crate) fn rebase_shapes(&mut self, carry: &mut Carry) -> Result<(), ImportError> {
        let inputs: HashSet<String> = self
            .staging()
            .input_types
            .iter()
            .flat_map(|t| t.dims.iter().flat_map(|d| d.expr().symbols()))
            .collect();
        // A size a carried register has reaches the next segment with it (as a symbol of its
        // parameter's type).
        let carried: HashSet<SymExpr> = carry
            .regs
            .iter()
            .filter_map(|&(_, r)| self.staging().tensors[r as usize].clone())
            .flat_map(|t| t.dims.into_iter().map(|d| d.expr()))
            .collect();
        let mut local: Vec<SymExpr> = vec![];
        for (_, s) in &carry.shapes {
            for e in &s.values {
                let foreign = e.symbols().iter().any(|n| !inputs.contains(n));
                if foreign && !carried.contains(e) && !local.contains(e) {
                    local.push(e.clone());
                }
            }
        }
        if local.is_empty() {
            return Ok(());
        }
        let mut scalars = vec![];
        for e in &local {
            scalars.push(e.eval_in(&mut HostSizes { im: self }).map_err(|why| {
                ImportError::Unsupported(format!("a size {e} cannot be carried on: {why}"))
            })?);
        }
        let fresh: Vec<Dim> = local.iter().map(|_| self.fresh_symbol()).collect();
        let carrier = TensorType {
            element_type: kiln_types::ElementType::I8,
            dims: [vec![Dim::Static(0)], fresh.clone()].concat(),
        };
        let tensor = self.new_register(Some(carrier));
        self.push_stmt(Stmt::Sizes { scalars, tensor });
        for (_, s) in &mut carry.shapes {
            for e in &mut s.values {
                if let Some(i) = local.iter().position(|l| l == e) {
                    *e = fresh[i].expr();
                }
            }
        }
        carry.size_carriers.push(tensor);
        Ok(())
    }

    /// Sizes read as data: each symbolic shape value the current segment's ops read (or
    /// `roots` returns) becomes a parameter, which the control program computes before the
    /// segment's call from its arguments' dims (`dim`, scalar arithmetic, `pack`).
    pub(crate) fn compute_sizes(&mut self, roots: &[ValueId]) -> Result<(), ImportError> {
        for v in self.live_placeholders(roots) {
            let s = self.sym_values[&v].clone();
            let mut scalars = vec![];
            for e in &s.values {
                let scalar = e
                    .eval_in(&mut HostSizes { im: self })
                    .map_err(|why| self.unavailable_sizes(v, Some(&why)))?;
                scalars.push(scalar);
            }
            let ty = self.func.ty(v).clone();
            let reg = self.new_register(Some(ty));
            let element_type = kiln_types::ElementType::I64.code();
            self.push_stmt(match (s.scalar, &scalars[..]) {
                (true, &[scalar]) => Stmt::Tensor {
                    scalar,
                    element_type,
                    tensor: reg,
                },
                _ => Stmt::Pack {
                    scalars,
                    element_type,
                    tensor: reg,
                },
            });
            self.sym_values.remove(&v);
            self.func.ops.retain(|op| !op.results.contains(&v));
            self.func.params.push(Port {
                value: v,
                name: format!("r{reg}"),
            });
            self.staging().params.push((v, reg));
        }
        Ok(())
    }
}

/// Evaluates a size expression into scalar registers of the control program, reading each
/// symbol as a dim of one of the current segment's arguments.
struct HostSizes<'a> {
    im: &'a mut Importer,
}

impl SymArith for HostSizes<'_> {
    type Value = u32;
    type Error = String;

    fn constant(&mut self, value: i64) -> Result<u32, String> {
        Ok(self.im.scalar_constant(value))
    }

    fn symbol(&mut self, name: &str) -> Result<u32, String> {
        let params = self.im.staging().params.clone();
        let source = params.iter().find_map(|&(v, reg)| {
            let dims = &self.im.func.ty(v).dims;
            let axis = dims
                .iter()
                .position(|d| d.expr().as_symbol() == Some(name))?;
            Some((reg, axis as u32))
        });
        let (tensor, axis) = source
            .ok_or_else(|| format!("no input of this part of the program has dim '{name}'"))?;
        let scalar = self.im.new_scalar();
        self.im.push_stmt(Stmt::Dim {
            tensor,
            axis,
            scalar,
        });
        Ok(scalar)
    }

    fn add(&mut self, a: u32, b: u32) -> Result<u32, String> {
        Ok(self.im.arith(ArithOp::Add, a, b))
    }

    fn mul(&mut self, a: u32, b: u32) -> Result<u32, String> {
        Ok(self.im.arith(ArithOp::Mul, a, b))
    }

    fn floor_div(&mut self, a: u32, d: i64) -> Result<u32, String> {
        let d = self.constant(d)?;
        Ok(self.im.arith(ArithOp::FloorDiv, a, d))
    }
}
