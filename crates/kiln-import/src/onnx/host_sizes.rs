//! Sizes a model reads as data (Shape → Cast → Div), computed on the host: the control
//! program evaluates each size expression from the segment's arguments' dims before the
//! segment's call and packs the values into a tensor parameter.

use super::Importer;
use crate::ImportError;
use kiln_ir::{Port, ValueId};
use kiln_types::control::{ArithOp, Stmt};
use kiln_types::sym::SymArith;

impl Importer {
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
