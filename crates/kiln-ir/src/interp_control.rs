//! The reference interpreter's side of control programs: registers of interpreter tensors,
//! each call evaluated by [`interp::run_function`](crate::interp::run_function).

use crate::interp::{run_function, Tensor};
use crate::{Function, IrError, Program};
use kiln_types::control::{ControlProgram, Machine, Scan};
use kiln_types::ElementType;

/// Runs `f`'s control program on `inputs`.
pub(crate) fn run(
    program: &Program,
    f: &Function,
    control: &ControlProgram,
    inputs: &[Tensor],
) -> Result<Vec<Tensor>, IrError> {
    let mut machine = Interpreter { program, f };
    kiln_types::control::run(control, inputs.to_vec(), &mut machine)
}

struct Interpreter<'a> {
    program: &'a Program,
    f: &'a Function,
}

impl Machine for Interpreter<'_> {
    type Tensor = Tensor;
    type Error = IrError;

    fn call(&mut self, function: &str, args: &[&Tensor]) -> Result<Vec<Tensor>, IrError> {
        let callee = self
            .program
            .function(function)
            .ok_or_else(|| self.invalid(format!("it calls '{function}', which is not defined")))?;
        let args: Vec<Tensor> = args.iter().map(|&t| t.clone()).collect();
        run_function(self.program, callee, &args)
    }

    fn read(&mut self, t: &Tensor) -> Result<i64, IrError> {
        match t.data[..] {
            [v] if v.is_nan() => Ok(0),
            [v] => Ok(v as i64),
            _ => Err(IrError::Eval(format!(
                "a condition or trip count must hold one element, got shape {:?}",
                t.shape
            ))),
        }
    }

    fn tensor(
        &mut self,
        values: &[i64],
        shape: Vec<usize>,
        element_type: ElementType,
    ) -> Result<Tensor, IrError> {
        Ok(Tensor {
            element_type,
            shape,
            data: values.iter().map(|&v| v as f64).collect(),
        })
    }

    fn dim(&self, t: &Tensor, axis: usize) -> Option<usize> {
        t.shape.get(axis).copied()
    }

    fn stack(&mut self, parts: Vec<Tensor>, scan: &Scan) -> Result<Tensor, IrError> {
        let element_type = ElementType::from_code(scan.element_type)
            .ok_or_else(|| self.invalid("a scan of an unknown element type".into()))?;
        let shape = match parts.first() {
            None => scan.empty_shape(),
            Some(first) => {
                if parts.iter().any(|t| t.shape != first.shape) {
                    return Err(IrError::Eval(
                        "a loop's scan output changes shape between iterations".into(),
                    ));
                }
                [vec![parts.len()], first.shape.clone()].concat()
            }
        };
        let data = parts.into_iter().flat_map(|t| t.data).collect();
        Ok(Tensor {
            element_type,
            shape,
            data,
        })
    }

    fn fail(&self, message: &str) -> IrError {
        IrError::Eval(format!("'{}': {message}", self.f.name))
    }

    fn invalid(&self, message: String) -> IrError {
        IrError::Eval(format!("control program of '{}': {message}", self.f.name))
    }
}
