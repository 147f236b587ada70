//! Tensor types of the tensor program: an element type and a list of static or symbolic dims.

use kiln_types::ElementType;
use std::fmt;

/// One dimension: a known size or a named symbol bound when the program runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Static(usize),
    Symbol(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Static(n) => write!(f, "{n}"),
            Dim::Symbol(s) => write!(f, "{{{s}}}"),
        }
    }
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
        self.dims
            .iter()
            .map(|d| match d {
                Dim::Static(n) => Some(*n),
                Dim::Symbol(_) => None,
            })
            .collect()
    }

    /// The first symbolic dim, if any.
    pub fn first_symbol(&self) -> Option<&str> {
        self.dims.iter().find_map(|d| match d {
            Dim::Symbol(s) => Some(s.as_str()),
            Dim::Static(_) => None,
        })
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
