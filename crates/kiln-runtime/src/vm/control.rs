//! Running control programs ([`kiln_module::ControlProgram`]) on a device: branches and loops
//! on the host between calls of straight-line functions, whose tensors stay on the device.
//!
//! Each call of a straight-line function is its own submission: its arguments' shapes bind
//! its symbols, as an exported call's do. A `read` reads one element back to the host (the
//! only place a control program waits for the device's data); scan outputs are stacked through
//! host copies and placed back on the device.

use super::{LoadedModule, Value};
use crate::RuntimeError;
use kiln_module::{ControlProgram, FunctionDef};
use kiln_types::control::{Machine, Scan};
use kiln_types::ElementType;

impl LoadedModule {
    /// Runs `f`'s control program on `args` (its first tensor registers); returns the tensors
    /// in its result registers.
    pub(super) fn run_control(
        &self,
        f: &FunctionDef,
        program: &ControlProgram,
        args: Vec<Value>,
    ) -> Result<Vec<Value>, RuntimeError> {
        kiln_types::control::run(program, args, &mut Device { module: self, f })
    }
}

/// A control program of function `f` running on `module`'s device.
struct Device<'a> {
    module: &'a LoadedModule,
    f: &'a FunctionDef,
}

impl Device<'_> {
    /// An error of a call the control program made, naming `f` too.
    fn within(&self, e: RuntimeError) -> RuntimeError {
        match e {
            RuntimeError::Input(m) => RuntimeError::Input(format!("in '{}': {m}", self.f.name)),
            other => other,
        }
    }
}

impl Machine for Device<'_> {
    type Tensor = Value;
    type Error = RuntimeError;

    fn call(&mut self, function: &str, args: &[&Value]) -> Result<Vec<Value>, RuntimeError> {
        let m = self.module;
        let callee = m
            .module
            .any_function(function)
            .ok_or_else(|| self.invalid(format!("it calls '{function}', which is not defined")))?;
        let symbols = m
            .check_inputs(
                callee,
                args.iter().map(|a| (a.element_type, a.shape.as_slice())),
            )
            .map_err(|e| self.within(e))?;
        let buffers = args.iter().map(|a| a.buffer.clone()).collect();
        m.call_bound(callee, symbols, buffers)
            .map_err(|e| self.within(e))
    }

    fn read(&mut self, value: &Value) -> Result<i64, RuntimeError> {
        if value.shape.iter().product::<usize>() != 1 {
            return Err(RuntimeError::Input(format!(
                "'{}': a condition or trip count must hold one element, not {}",
                self.f.name,
                kiln_types::type_string(value.element_type, &value.shape)
            )));
        }
        // The one element, read straight into the stack (a loop reads one every iteration).
        // Every element type is at most 8 bytes; a buffer shorter than one element fails the
        // read, as it failed the host tensor's shape check before.
        let mut bytes = [0u8; 8];
        value
            .buffer
            .read(0, &mut bytes[..value.element_type.byte_size()])?;
        Ok(match value.element_type {
            ElementType::I64 => i64::from_le_bytes(bytes),
            et => {
                let v = et.read_f64(&bytes);
                if v.is_nan() {
                    0
                } else {
                    v as i64
                }
            }
        })
    }

    fn tensor(
        &mut self,
        values: &[i64],
        shape: Vec<usize>,
        element_type: ElementType,
    ) -> Result<Value, RuntimeError> {
        let mut bytes = vec![];
        for &v in values {
            match element_type {
                ElementType::I64 => bytes.extend_from_slice(&v.to_le_bytes()),
                _ => element_type.write_f64(v as f64, &mut bytes),
            }
        }
        let buffer = self.module.device.allocate(bytes.len())?;
        buffer.write(0, &bytes)?;
        Ok(Value {
            element_type,
            shape,
            buffer,
        })
    }

    fn dim(&self, t: &Value, axis: usize) -> Option<usize> {
        t.shape.get(axis).copied()
    }

    fn stack(&mut self, parts: Vec<Value>, scan: &Scan) -> Result<Value, RuntimeError> {
        let device = &self.module.device;
        let et = ElementType::from_code(scan.element_type)
            .ok_or_else(|| self.invalid("a scan of an unknown element type".into()))?;
        let Some(first) = parts.first() else {
            return Ok(Value {
                element_type: et,
                shape: scan.empty_shape(),
                buffer: device.allocate(0)?,
            });
        };
        let shape = first.shape.clone();
        if let Some(p) = parts.iter().find(|p| p.shape != shape) {
            return Err(RuntimeError::Input(format!(
                "'{}': a loop's scan output changes shape between iterations ({} then {})",
                self.f.name,
                kiln_types::type_string(et, &shape),
                kiln_types::type_string(et, &p.shape)
            )));
        }
        let part_len = first.buffer.len();
        let buffer = device.allocate(part_len * parts.len())?;
        let mut bytes = vec![0u8; part_len];
        for (k, p) in parts.iter().enumerate() {
            p.buffer.read(0, &mut bytes)?;
            buffer.write(k * part_len, &bytes)?;
        }
        let mut stacked = vec![parts.len()];
        stacked.extend(shape);
        Ok(Value {
            element_type: et,
            shape: stacked,
            buffer,
        })
    }

    fn fail(&self, message: &str) -> RuntimeError {
        RuntimeError::Input(format!("'{}': {message}", self.f.name))
    }

    fn invalid(&self, message: String) -> RuntimeError {
        RuntimeError::BadModule {
            module: self.module.module.name.clone(),
            message: format!("control program of '{}': {message}", self.f.name),
        }
    }
}
