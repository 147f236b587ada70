//! A call's symbol values: the open input dims of a function, read from the shapes a caller
//! passes, and the sizes that follow from them.
//!
//! An input dim that is exactly a symbol defines it; every other dim (a constant, or an
//! expression such as `2*n`) is checked against the values so found. Errors are one line naming
//! the input, the dim and both sizes.

use crate::{FunctionDef, TensorSig};
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use kiln_types::sym::SymExpr;

/// Values of a function's symbols for one call.
///
/// ```
/// use kiln_module::{FunctionDef, TensorSig};
/// use kiln_types::{sym::SymExpr, ElementType};
/// let sig = |name: &str, dims: &[&str]| TensorSig {
///     name: name.into(),
///     element_type: ElementType::F32,
///     dims: dims.iter().map(|d| SymExpr::parse(d).unwrap()).collect(),
///     any_rank: false,
/// };
/// let f = FunctionDef {
///     name: "main".into(),
///     inputs: vec![sig("ids", &["b", "s"]), sig("mask", &["b", "s"])],
///     outputs: vec![sig("y", &["b", "s", "64"])],
///     programs: vec![],
///     checks: vec![],
///     control: None,
///     internal: false,
/// };
/// let symbols = f.bind_inputs(&[&[2, 7], &[2, 7]]).unwrap();
/// assert_eq!(symbols.shape(&f.outputs[0]).unwrap(), [2, 7, 64]);
/// let err = f.bind_inputs(&[&[2, 7], &[2, 9]]).unwrap_err();
/// assert_eq!(err, "input 1 ('mask') of 'main': dim 1 is 9, but input 0 ('ids') dim 1 makes 's' 7");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Symbols {
    values: Vec<(String, i64)>,
}

impl Symbols {
    /// The value of symbol `name`, if bound.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.values.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// Every bound symbol with its value, in the order the inputs define them.
    pub fn values(&self) -> &[(String, i64)] {
        &self.values
    }

    /// `size` evaluated: a non-negative number, or an error naming the expression.
    pub fn size(&self, size: &SymExpr) -> Result<u64, String> {
        size.eval(&|n| self.get(n))
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| kiln_types::message!("size {size} has no non-negative value for {self}"))
    }

    /// The shape of a tensor of signature `sig` in this call.
    pub fn shape(&self, sig: &TensorSig) -> Result<Vec<usize>, String> {
        sig.dims
            .iter()
            .map(|d| {
                self.size(d).and_then(|v| {
                    usize::try_from(v)
                        .map_err(|_| kiln_types::message!("dim {d} = {v} does not fit"))
                })
            })
            .collect()
    }

    /// Bytes of a tensor of signature `sig` in this call.
    pub fn byte_size(&self, sig: &TensorSig) -> Result<u64, String> {
        self.shape(sig)?
            .iter()
            .try_fold(sig.element_type.byte_size() as u64, |acc, &d| {
                acc.checked_mul(d as u64)
            })
            .ok_or_else(|| {
                kiln_types::message!("'{}' has more bytes than fit in 64 bits", sig.name)
            })
    }
}

impl core::fmt::Display for Symbols {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.values.is_empty() {
            return f.write_str("no symbols");
        }
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

impl FunctionDef {
    /// The symbols this function's inputs define (dims that are exactly one symbol), each once,
    /// in order of first appearance.
    pub fn symbols(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for d in self.inputs.iter().flat_map(|s| &s.dims) {
            if let Some(n) = d.as_symbol() {
                if !out.iter().any(|o| o == n) {
                    out.push(n.to_string());
                }
            }
        }
        out
    }

    /// Checks a call's inputs, given as `(element type, shape)`: their number and element
    /// types, then (as [`FunctionDef::bind_inputs`]) their dims, reading the symbols' values.
    pub fn check_inputs<'a>(
        &self,
        inputs: impl ExactSizeIterator<Item = (kiln_types::ElementType, &'a [usize])>,
    ) -> Result<Symbols, String> {
        let name = self.name.as_str();
        if inputs.len() != self.inputs.len() {
            return Err(kiln_types::message!(
                "function '{name}' takes {} inputs but {} were given",
                self.inputs.len(),
                inputs.len()
            ));
        }
        let mut shapes = vec![];
        for (i, (sig, (element_type, shape))) in self.inputs.iter().zip(inputs).enumerate() {
            if sig.element_type != element_type {
                return Err(kiln_types::message!(
                    "input {i} ('{}') of '{name}' expects {} but got {}",
                    sig.name,
                    sig.type_string(),
                    kiln_types::type_string(element_type, shape)
                ));
            }
            shapes.push(shape);
        }
        self.bind_inputs(&shapes)
    }

    /// Reads the symbols' values from a call's input shapes and checks every input dim:
    /// the rank, fixed dims, and dims that two inputs share must agree; then the sizes the
    /// program takes as equal ([`FunctionDef::checks`]). The caller checks the number of
    /// inputs and their element types.
    pub fn bind_inputs(&self, shapes: &[&[usize]]) -> Result<Symbols, String> {
        let mut symbols = Symbols::default();
        // Where each symbol got its value, for the error when another dim disagrees.
        let mut origin: Vec<(usize, usize)> = vec![];
        let name = |i: usize| {
            kiln_types::message!("input {i} ('{}') of '{}'", self.inputs[i].name, self.name)
        };
        for (i, (sig, shape)) in self.inputs.iter().zip(shapes).enumerate() {
            if sig.dims.len() != shape.len() {
                return Err(kiln_types::message!(
                    "{} expects {} but got {} (rank {} instead of {})",
                    name(i),
                    sig.type_string(),
                    kiln_types::type_string(sig.element_type, shape),
                    shape.len(),
                    sig.dims.len()
                ));
            }
            for (d, (dim, &n)) in sig.dims.iter().zip(shape.iter()).enumerate() {
                let Some(s) = dim.as_symbol() else { continue };
                match symbols.get(s) {
                    None => {
                        let v = i64::try_from(n).map_err(|_| {
                            kiln_types::message!("{}: dim {d} is too large", name(i))
                        })?;
                        symbols.values.push((s.to_string(), v));
                        origin.push((i, d));
                    }
                    Some(v) if v as usize == n => {}
                    Some(v) => {
                        let k = symbols
                            .values
                            .iter()
                            .position(|(x, _)| x == s)
                            .expect("bound");
                        let (oi, od) = origin[k];
                        return Err(kiln_types::message!(
                            "{}: dim {d} is {n}, but {} dim {od} makes '{s}' {v}",
                            name(i),
                            name(oi).replace(&format!(" of '{}'", self.name), "")
                        ));
                    }
                }
            }
        }
        for (i, (sig, shape)) in self.inputs.iter().zip(shapes).enumerate() {
            for (d, (dim, &n)) in sig.dims.iter().zip(shape.iter()).enumerate() {
                if dim.as_symbol().is_some() {
                    continue;
                }
                let want = symbols.size(dim)?;
                if want != n as u64 {
                    let rule = match dim.as_const() {
                        Some(_) => kiln_types::message!("{want}"),
                        None => kiln_types::message!("{dim} = {want}"),
                    };
                    return Err(kiln_types::message!(
                        "{} expects {} but got {}: dim {d} must be {rule}",
                        name(i),
                        sig.type_string(),
                        kiln_types::type_string(sig.element_type, shape)
                    ));
                }
            }
        }
        for c in &self.checks {
            let (a, b) = (symbols.size(&c.a)?, symbols.size(&c.b)?);
            let holds = match c.at_most {
                false => a == b,
                true => a <= b,
            };
            if !holds {
                let needs = match c.at_most {
                    false => kiln_types::message!("{} and {} to be equal", c.a, c.b),
                    true => kiln_types::message!("{} to be at most {}", c.a, c.b),
                };
                return Err(kiln_types::message!(
                    "'{}' of '{}' needs {needs}, but they are {a} and {b} for these inputs \
                     ({symbols})",
                    c.op,
                    self.name
                ));
            }
        }
        Ok(symbols)
    }
}
