//! What a loop body built by the importer reads from before the loop: values that travel in
//! registers or constants made again inside ([`Outer`]), and the scalars of a loop over a
//! dim with its step as a tensor ([`Steps`]).

use super::Importer;
use kiln_ir::{ConstId, Dim, TensorType, ValueId};
use kiln_types::control::{ArithOp, Scan, Stmt};
use std::collections::HashMap;

/// Values of a segment that the next segment (a loop body) reads: constants are made again
/// inside it, the others travel in registers.
pub(crate) struct Outer {
    values: Vec<Option<(ValueId, Place)>>,
}

#[derive(Clone)]
enum Place {
    Register(u32),
    Constant(ConstId, TensorType),
}

impl Outer {
    /// The `(value, register)` pairs the segment must end with.
    pub fn exits(&self) -> Vec<(ValueId, u32)> {
        self.values
            .iter()
            .flatten()
            .filter_map(|(v, p)| match p {
                Place::Register(r) => Some((*v, *r)),
                Place::Constant(..) => None,
            })
            .collect()
    }

    /// The register of value `i`, when it travels in one.
    pub fn register(&self, i: usize) -> Option<u32> {
        match self.values.get(i)?.as_ref()?.1 {
            Place::Register(r) => Some(r),
            Place::Constant(..) => None,
        }
    }

    /// The values `picks` inside the segment started after them: a register's parameter, or
    /// the constant made again.
    pub fn inside(&self, im: &mut Importer, picks: &[usize]) -> Vec<Option<ValueId>> {
        let params: HashMap<u32, ValueId> =
            im.staging().params.iter().map(|&(v, r)| (r, v)).collect();
        let mut out = vec![];
        for entry in picks.iter().map(|&i| &self.values[i]) {
            out.push(match entry {
                None => None,
                Some((_, Place::Register(r))) => match params.get(r) {
                    Some(&v) => Some(v),
                    None => Some(im.start_parameter(*r)),
                },
                Some((_, Place::Constant(id, ty))) => {
                    let v = im.func.push_constant(*id, ty.clone(), "outer");
                    im.consts.insert(v, *id);
                    Some(v)
                }
            });
        }
        out
    }
}

impl Importer {
    /// Where each of `values` will be for the next segment (see [`Outer`]); those marked
    /// `carried` go in registers even when constant (a loop updates them).
    pub(crate) fn outer_values(&mut self, values: &[Option<ValueId>], carried: &[bool]) -> Outer {
        let mut out = vec![];
        for (v, &carried) in values.iter().zip(carried) {
            out.push(v.map(|v| {
                let place = match self.consts.get(&v) {
                    Some(&id) if !carried => Place::Constant(id, self.func.ty(v).clone()),
                    _ => Place::Register(self.new_register(Some(self.func.ty(v).clone()))),
                };
                (v, place)
            }));
        }
        Outer { values: out }
    }

    /// A new parameter of the current segment reading register `reg`.
    fn start_parameter(&mut self, reg: u32) -> ValueId {
        let ty = self.staging().tensors[reg as usize]
            .clone()
            .expect("ranked register");
        let ty = self.parameter_type(&ty);
        let v = self.func.add_param(format!("r{reg}"), ty);
        self.staging().params.push((v, reg));
        v
    }
}

/// The scalars of a loop over one dim of a tensor register: its size (the trip count), the
/// iteration index the loop sets, and the last index.
pub(crate) struct Steps {
    pub count: u32,
    pub index: u32,
    last: u32,
}

impl Importer {
    /// A loop over dim `axis` of the tensor in register `reg` (statements before the loop).
    pub(crate) fn steps_over(&mut self, reg: u32, axis: usize) -> Steps {
        let count = self.new_scalar();
        self.push_stmt(Stmt::Dim {
            tensor: reg,
            axis: axis as u32,
            scalar: count,
        });
        let one = self.scalar_constant(1);
        let last = self.arith(ArithOp::Sub, count, one);
        let index = self.new_scalar();
        Steps { count, index, last }
    }

    /// In the loop's body: a register holding the step as a rank-0 `i64` tensor, counting
    /// down from the last index when `reverse`.
    pub(crate) fn step_tensor(&mut self, steps: &Steps, reverse: bool) -> u32 {
        let reg = self.new_register(Some(TensorType::new(kiln_types::ElementType::I64, &[])));
        let scalar = match reverse {
            true => self.arith(ArithOp::Sub, steps.last, steps.index),
            false => steps.index,
        };
        self.push_stmt(Stmt::Tensor {
            scalar,
            element_type: kiln_types::ElementType::I64.code(),
            tensor: reg,
        });
        reg
    }
}

impl Importer {
    /// A loop's scan output: the tensor of type `ty` in `src` after each iteration, stacked
    /// (in reverse when `reverse`) into a new register of type `[leading, ty…]`.
    pub(crate) fn scan_into(
        &mut self,
        src: u32,
        ty: &TensorType,
        leading: Dim,
        reverse: bool,
    ) -> Scan {
        let mut stacked = ty.clone();
        stacked.dims.insert(0, leading);
        Scan {
            src,
            dst: self.new_register(Some(stacked)),
            element_type: ty.element_type.code(),
            dims: ty
                .dims
                .iter()
                .map(|d| d.as_static().map_or(-1, |n| n as i64))
                .collect(),
            reverse,
        }
    }
}
