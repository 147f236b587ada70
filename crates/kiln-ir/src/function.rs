//! Programs, functions, ops and values: the tensor program's data structures and its builder.
//!
//! Values and ops are stored in tables and referred to by typed ids ([`ValueId`], printed `%N`).
//! A function's ops are kept in program order, which is always a valid topological order: every
//! operand is a parameter or the result of an earlier op.

use crate::ops::{ConstId, OpKind};
use crate::types::TensorType;
use kiln_types::HostTensor;
use std::fmt;

/// Index of a value in [`Function::values`]; prints as `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for ConstId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@c{}", self.0)
    }
}

/// Facts about one SSA value.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueData {
    pub ty: TensorType,
}

/// One op: its kind, operands, results and the source location it came from (an ONNX node name,
/// an MLIR location), which errors quote.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub operands: Vec<ValueId>,
    pub results: Vec<ValueId>,
    pub loc: String,
}

/// A named function argument or result.
#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub value: ValueId,
    pub name: String,
}

/// A function of the tensor program.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Function {
    pub name: String,
    pub params: Vec<Port>,
    pub results: Vec<Port>,
    pub values: Vec<ValueData>,
    /// Ops in program order.
    pub ops: Vec<Op>,
    /// Called only by other functions' control programs, never exported.
    pub internal: bool,
    /// A function with run-time control flow has no ops: its control program calls other
    /// (straight-line) functions of the program. Its params and results are values no op
    /// defines, which give its signature.
    pub control: Option<Control>,
}

/// The body of a function with run-time control flow.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Control {
    pub program: kiln_types::control::ControlProgram,
    /// Per result: its rank is known only per call (branches that differ in rank), so its
    /// value's type gives only the element type.
    pub any_rank: Vec<bool>,
}

/// A whole program: functions plus the constant table they share.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub functions: Vec<Function>,
    pub constants: Vec<HostTensor>,
}

impl Program {
    pub fn add_constant(&mut self, t: HostTensor) -> ConstId {
        self.constants.push(t);
        ConstId(self.constants.len() as u32 - 1)
    }

    pub fn constant(&self, id: ConstId) -> &HostTensor {
        &self.constants[id.0 as usize]
    }

    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The type of a constant as a tensor type.
    pub fn constant_type(&self, id: ConstId) -> TensorType {
        let t = self.constant(id);
        TensorType::new(t.element_type, &t.shape)
    }
}

impl Function {
    pub fn new(name: impl Into<String>) -> Self {
        Function {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn ty(&self, v: ValueId) -> &TensorType {
        &self.values[v.index()].ty
    }

    /// Creates a fresh value of type `ty` (not yet defined by anything).
    pub fn new_value(&mut self, ty: TensorType) -> ValueId {
        self.values.push(ValueData { ty });
        ValueId(self.values.len() as u32 - 1)
    }

    pub fn add_param(&mut self, name: impl Into<String>, ty: TensorType) -> ValueId {
        let value = self.new_value(ty);
        self.params.push(Port {
            value,
            name: name.into(),
        });
        value
    }

    /// Appends an op whose result types follow from [`OpKind::infer`]; returns its results.
    pub fn push_op(
        &mut self,
        kind: OpKind,
        operands: &[ValueId],
        loc: &str,
    ) -> Result<Vec<ValueId>, String> {
        let types: Vec<&TensorType> = operands.iter().map(|v| self.ty(*v)).collect();
        let result_types = kind.infer(&types).map_err(|e| e.to_string())?;
        let results = result_types
            .into_iter()
            .map(|t| self.new_value(t))
            .collect::<Vec<_>>();
        self.ops.push(Op {
            kind,
            operands: operands.to_vec(),
            results: results.clone(),
            loc: loc.into(),
        });
        Ok(results)
    }

    /// Appends a constant op for `id` with type `ty`.
    pub fn push_constant(&mut self, id: ConstId, ty: TensorType, loc: &str) -> ValueId {
        let v = self.new_value(ty);
        self.ops.push(Op {
            kind: OpKind::Constant(id),
            operands: vec![],
            results: vec![v],
            loc: loc.into(),
        });
        v
    }

    /// Replaces the symbols `lookup` binds by their sizes in every value type and op
    /// attribute (specialising the function); the caller re-verifies. An error names a size
    /// that became negative.
    pub fn bind_symbols(&mut self, lookup: &dyn Fn(&str) -> Option<i64>) -> Result<(), String> {
        for v in &mut self.values {
            for d in &mut v.ty.dims {
                *d = d
                    .substitute(lookup)
                    .ok_or_else(|| format!("size {d} is negative for these bindings"))?;
            }
        }
        for op in &mut self.ops {
            op.kind = op.kind.substitute(lookup)?;
        }
        Ok(())
    }

    /// For each value, the index of the op defining it (`None` for parameters).
    pub fn definers(&self) -> Vec<Option<usize>> {
        let mut def = vec![None; self.values.len()];
        for (i, op) in self.ops.iter().enumerate() {
            for r in &op.results {
                def[r.index()] = Some(i);
            }
        }
        def
    }

    /// For each value, how many times it is used by ops and results.
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0; self.values.len()];
        for op in &self.ops {
            for v in &op.operands {
                uses[v.index()] += 1;
            }
        }
        for r in &self.results {
            uses[r.value.index()] += 1;
        }
        uses
    }
}
