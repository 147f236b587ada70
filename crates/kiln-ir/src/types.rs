//! Tensor types of the tensor program: an element type and a list of static or symbolic dims.

use crate::sym::SymExpr;
use kiln_types::ElementType;
use std::fmt;

/// One dimension: a known size or a symbolic size ([`SymExpr`]) known when the program runs.
/// A symbolic dim never simplifies to a constant ([`Dim::from_expr`] keeps that true).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Static(usize),
    Sym(SymExpr),
}

impl Dim {
    /// The dim named `name`.
    pub fn symbol(name: impl Into<String>) -> Dim {
        Dim::Sym(SymExpr::symbol(name))
    }

    /// A dim from an expression, static when the expression is a constant. `None` for a
    /// negative constant, which no dim can be.
    pub fn from_expr(e: SymExpr) -> Option<Dim> {
        match e.as_const() {
            Some(c) => usize::try_from(c).ok().map(Dim::Static),
            None => Some(Dim::Sym(e)),
        }
    }

    /// The dim as an expression (a constant for a static dim).
    pub fn expr(&self) -> SymExpr {
        match self {
            Dim::Static(n) => SymExpr::from(*n as i64),
            Dim::Sym(e) => e.clone(),
        }
    }

    pub fn as_static(&self) -> Option<usize> {
        match self {
            Dim::Static(n) => Some(*n),
            Dim::Sym(_) => None,
        }
    }

    /// The dim with the symbols `lookup` binds replaced by their values.
    pub fn substitute(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> Option<Dim> {
        match self {
            Dim::Static(n) => Some(Dim::Static(*n)),
            Dim::Sym(e) => Dim::from_expr(e.substitute(lookup)),
        }
    }
}

impl From<usize> for Dim {
    fn from(n: usize) -> Dim {
        Dim::Static(n)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Static(n) => write!(f, "{n}"),
            Dim::Sym(e) => write!(f, "{{{e}}}"),
        }
    }
}

/// The element count of `dims` as an expression.
pub fn dims_product(dims: &[Dim]) -> SymExpr {
    dims.iter().fold(SymExpr::from(1), |acc, d| acc * d.expr())
}

/// A ranked tensor type. Prints as `tensor<2x{batch}x3xf32>`; a scalar is `tensor<f32>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub element_type: ElementType,
    pub dims: Vec<Dim>,
}

impl TensorType {
    pub fn new(element_type: ElementType, shape: &[usize]) -> Self {
        TensorType {
            element_type,
            dims: shape.iter().map(|&d| Dim::Static(d)).collect(),
        }
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// The static shape, or `None` if any dim is symbolic.
    pub fn static_shape(&self) -> Option<Vec<usize>> {
        self.dims.iter().map(Dim::as_static).collect()
    }

    /// Every symbol the dims mention, sorted, each once.
    pub fn symbols(&self) -> Vec<String> {
        let mut out: Vec<String> = self.dims.iter().flat_map(|d| d.expr().symbols()).collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn with_element_type(&self, element_type: ElementType) -> Self {
        TensorType {
            element_type,
            dims: self.dims.clone(),
        }
    }

    /// Shape string without the element type: `2x{batch}x3`.
    pub fn shape_string(&self) -> String {
        self.dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x")
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dims.is_empty() {
            write!(f, "tensor<{}>", self.element_type)
        } else {
            write!(f, "tensor<{}x{}>", self.shape_string(), self.element_type)
        }
    }
}
