//! The core op set of the tensor program, declared once.
//!
//! Each op kind knows its text name, its attributes (for the printer and parser), how many
//! operands it takes, and its result type rule ([`OpKind::infer`]). The builder, the verifier, the
//! printer and the parser all go through these, so adding an op means touching this file and the
//! interpreter.
//!
//! The set is close to linalg's named ops plus generic elementwise and reduction ops: frontends
//! (ONNX, MLIR) lower their richer op sets onto it.

use crate::sym::SymExpr;
use crate::types::{dims_product, Dim, TensorType};
use kiln_types::recurrent::RecurrentCell;
use kiln_types::ElementType;

/// Index of a constant in [`crate::Program::constants`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConstId(pub u32);

macro_rules! name_table {
    ($(#[$doc:meta])* $enum:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $enum { $($variant),* }
        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];
            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => $name),* }
            }
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }
    };
}

name_table! {
    /// Elementwise functions of one operand; the result has the operand's type.
    UnaryOp {
        Neg => "neg", Abs => "abs", Exp => "exp", Log => "log", Sqrt => "sqrt", Erf => "erf",
        Relu => "relu", Sigmoid => "sigmoid", Tanh => "tanh", Not => "not", Floor => "floor",
        Ceil => "ceil", Round => "round", Sign => "sign", Sin => "sin", Cos => "cos",
        Softplus => "softplus", BitNot => "bitnot",
    }
}

name_table! {
    /// Elementwise functions of two operands with NumPy broadcasting. The bitwise ones
    /// (`bitand` … `shr`) take integers; shifts by a negative amount or by the type's width
    /// and more shift every bit out.
    BinaryOp {
        Add => "add", Sub => "sub", Mul => "mul", Div => "div", Pow => "pow", Max => "max",
        Min => "min", Equal => "equal", Less => "less", Greater => "greater", And => "and",
        Or => "or", BitAnd => "bitand", BitOr => "bitor", BitXor => "bitxor", Shl => "shl",
        Shr => "shr",
    }
}

impl BinaryOp {
    /// Comparisons and logic produce `i1`; arithmetic keeps the operand type.
    pub fn is_predicate(self) -> bool {
        matches!(
            self,
            BinaryOp::Equal | BinaryOp::Less | BinaryOp::Greater | BinaryOp::And | BinaryOp::Or
        )
    }
}

name_table! {
    /// How a reduction combines elements.
    ReduceKind { Sum => "sum", Max => "max", Min => "min", Mean => "mean", Prod => "prod" }
}

name_table! {
    /// Pooling function.
    PoolKind { Max => "max", Avg => "avg" }
}

/// Attributes of a 2-D convolution in NCHW layout with OIHW weights.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dAttrs {
    pub strides: [usize; 2],
    /// Top, left, bottom, right.
    pub pads: [usize; 4],
    pub dilations: [usize; 2],
    pub groups: usize,
}

/// Attributes of a 2-D pooling window in NCHW layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PoolAttrs {
    pub kind: PoolKind,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top, left, bottom, right.
    pub pads: [usize; 4],
    /// For average pooling: whether padding counts in the divisor.
    pub count_include_pad: bool,
}

/// What an op computes. Operands and results live in [`crate::Op`].
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// A constant tensor from the program's constant table.
    Constant(ConstId),
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `select %cond, %a, %b`: `a` where `cond` is true, else `b`, with broadcasting.
    Select,
    Cast(ElementType),
    /// The same bytes read as another element type of the same width (f32 bits as i32).
    BitCast(ElementType),
    /// Batched matrix product with NumPy broadcasting of the batch dims (both operands rank ≥ 2),
    /// of one float type, or `ui8` by `i8` summed in `i32`.
    MatMul,
    /// NCHW convolution; operands are input and OIHW weights, both of one float type, or
    /// `ui8` pixels and `i8` weights summed in `i32` (padding reads zeros).
    Conv2d(Conv2dAttrs),
    Pool2d(PoolAttrs),
    Reduce {
        kind: ReduceKind,
        axes: Vec<usize>,
        keep_dims: bool,
    },
    Softmax {
        axis: usize,
    },
    /// Normalises over the dims from `axis` on to zero mean and unit variance.
    LayerNorm {
        axis: usize,
        epsilon: f64,
    },
    /// Same elements, new shape (static or symbolic dims).
    Reshape {
        shape: Vec<Dim>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    /// Per-dim `[start, end)` with a positive or negative step, already clamped and normalised
    /// on static dims. On a symbolic dim the step is positive, the start non-negative and the
    /// end [`SLICE_TO_END`] (the rest of the dim from the start).
    Slice {
        starts: Vec<i64>,
        ends: Vec<i64>,
        steps: Vec<i64>,
    },
    Concat {
        axis: usize,
    },
    /// `gather %data, %indices` along `axis` (indices may be negative).
    Gather {
        axis: usize,
    },
    /// NumPy-broadcasts the operand to a shape (static or symbolic dims).
    Broadcast {
        shape: Vec<Dim>,
    },
    /// The operand itself, whose dims must equal `shape` when the program runs: where two
    /// sizes that must agree are different expressions (a skip connection concatenated with
    /// an upsampled branch), one is taken for the other and the runtime checks they agree
    /// before a call runs.
    CheckShape {
        shape: Vec<Dim>,
    },
    /// An `i64` tensor of `shape` whose elements are their own coordinate along `axis`
    /// (positions over a size known only at run time: `Range(0, seq)`).
    Iota {
        shape: Vec<Dim>,
        axis: usize,
    },
    /// The first `shape[d]` elements along each dim of the operand: a slice from the start
    /// whose length may be a size known only at run time (each at most the operand's dim,
    /// which the runtime checks before a call runs).
    Take {
        shape: Vec<Dim>,
    },
    /// Constant padding: `lows[d]` elements before and `highs[d]` after each dim.
    Pad {
        lows: Vec<usize>,
        highs: Vec<usize>,
        value: f64,
    },
    /// A recurrent layer over a whole sequence (see [`RecurrentCell`]), f32. Operands: each
    /// step's input projection `[D, T, B, G·H]`, the recurrent weights transposed
    /// `[D, H, G·H]`, the initial hidden and cell states `[D, B, H]`, and per direction the
    /// biases `[D, 1, (G + E)·H]` ([`RecurrentCell::bias_len`]): what is added to each step's
    /// projection (the biases that do not depend on the state), then LSTM's peepholes (`E` =
    /// 3) or GRU's recurrent hidden bias for `linear_before_reset` (`E` = 1), zeros where
    /// unused. The result `[2 + T, D, B, H]` holds the final hidden state, the
    /// final cell state (zeros but for an LSTM), then every step's hidden state in time order.
    Recurrent(RecurrentCell),
}

/// The end of a slice of a symbolic dim that runs to the dim's end.
pub const SLICE_TO_END: i64 = i64::MAX;

/// An attribute value in the text format.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    Int(i64),
    Float(f64),
    Ints(Vec<i64>),
    /// A shape with at least one symbolic dim: `[2, {b*s}, 64]`.
    Dims(Vec<Dim>),
    Word(String),
}

impl std::fmt::Display for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attr::Int(v) => write!(f, "{v}"),
            Attr::Float(v) => write!(f, "{v:?}"),
            Attr::Ints(v) => {
                let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Attr::Dims(v) => {
                let items: Vec<String> = v.iter().map(|d| d.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Attr::Word(w) => f.write_str(w),
        }
    }
}

fn ints(v: &[usize]) -> Attr {
    Attr::Ints(v.iter().map(|&x| x as i64).collect())
}

/// A shape attribute: a list of integers when every dim is static.
fn dims_attr(v: &[Dim]) -> Attr {
    match v.iter().map(Dim::as_static).collect::<Option<Vec<usize>>>() {
        Some(s) => ints(&s),
        None => Attr::Dims(v.to_vec()),
    }
}

/// Looks up attributes by key while parsing, with errors naming the op and key.
struct AttrReader<'a> {
    op: &'a str,
    attrs: &'a [(String, Attr)],
}

impl AttrReader<'_> {
    fn get(&self, key: &str) -> Result<&Attr, String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("'{}' needs attribute '{key}'", self.op))
    }
    fn int(&self, key: &str) -> Result<i64, String> {
        match self.get(key)? {
            Attr::Int(v) => Ok(*v),
            _ => Err(format!(
                "'{}' attribute '{key}' must be an integer",
                self.op
            )),
        }
    }
    fn usize(&self, key: &str) -> Result<usize, String> {
        usize::try_from(self.int(key)?)
            .map_err(|_| format!("'{}' attribute '{key}' must be non-negative", self.op))
    }
    fn float(&self, key: &str) -> Result<f64, String> {
        match self.get(key)? {
            Attr::Float(v) => Ok(*v),
            Attr::Int(v) => Ok(*v as f64),
            _ => Err(format!("'{}' attribute '{key}' must be a number", self.op)),
        }
    }
    fn ints(&self, key: &str) -> Result<Vec<i64>, String> {
        match self.get(key)? {
            Attr::Ints(v) => Ok(v.clone()),
            _ => Err(format!(
                "'{}' attribute '{key}' must be a list of integers",
                self.op
            )),
        }
    }
    fn usizes(&self, key: &str) -> Result<Vec<usize>, String> {
        self.ints(key)?
            .into_iter()
            .map(|v| {
                usize::try_from(v)
                    .map_err(|_| format!("'{}' attribute '{key}' must be non-negative", self.op))
            })
            .collect()
    }
    fn dims(&self, key: &str) -> Result<Vec<Dim>, String> {
        match self.get(key)? {
            Attr::Dims(v) => Ok(v.clone()),
            _ => Ok(self.usizes(key)?.into_iter().map(Dim::Static).collect()),
        }
    }
    fn array<const N: usize>(&self, key: &str) -> Result<[usize; N], String> {
        let v = self.usizes(key)?;
        v.try_into()
            .map_err(|_| format!("'{}' attribute '{key}' must have {N} entries", self.op))
    }
    fn word(&self, key: &str) -> Result<&str, String> {
        match self.get(key)? {
            Attr::Word(w) => Ok(w),
            _ => Err(format!("'{}' attribute '{key}' must be a word", self.op)),
        }
    }
}

/// Why an op's operands do not fit its type rule ([`OpKind::infer`]).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeError {
    #[error("'{op}' takes {expected} operands, got {got}")]
    Arity {
        op: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("'{op}' does not apply to {element_type}")]
    ElementType {
        op: &'static str,
        element_type: ElementType,
    },
    #[error("'{op}' operands differ in element type: {a} vs {b}")]
    MixedTypes {
        op: &'static str,
        a: ElementType,
        b: ElementType,
    },
    #[error("constants are typed by their data")]
    Constant,
    /// A shape, rank or attribute rule (the message names the op and the values).
    #[error("{0}")]
    Rule(String),
}

impl From<String> for TypeError {
    fn from(message: String) -> TypeError {
        TypeError::Rule(message)
    }
}

impl From<&str> for TypeError {
    fn from(message: &str) -> TypeError {
        TypeError::Rule(message.into())
    }
}

impl OpKind {
    /// The op's name in the text format: `matmul`, `add`, `conv2d`, …
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Constant(_) => "constant",
            OpKind::Unary(u) => u.name(),
            OpKind::Binary(b) => b.name(),
            OpKind::Select => "select",
            OpKind::Cast(_) => "cast",
            OpKind::BitCast(_) => "bitcast",
            OpKind::MatMul => "matmul",
            OpKind::Conv2d(_) => "conv2d",
            OpKind::Pool2d(_) => "pool2d",
            OpKind::Reduce { .. } => "reduce",
            OpKind::Softmax { .. } => "softmax",
            OpKind::LayerNorm { .. } => "layer_norm",
            OpKind::Reshape { .. } => "reshape",
            OpKind::Transpose { .. } => "transpose",
            OpKind::Slice { .. } => "slice",
            OpKind::Concat { .. } => "concat",
            OpKind::Gather { .. } => "gather",
            OpKind::Broadcast { .. } => "broadcast",
            OpKind::CheckShape { .. } => "check_shape",
            OpKind::Take { .. } => "take",
            OpKind::Iota { .. } => "iota",
            OpKind::Pad { .. } => "pad",
            OpKind::Recurrent(_) => "recurrent",
        }
    }

    /// The op with the symbols `lookup` binds replaced in its attributes (a reshape's or
    /// broadcast's shape); an error names a symbol left unbound or a negative size.
    pub fn substitute(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> Result<OpKind, String> {
        let bind = |shape: &[Dim]| -> Result<Vec<Dim>, String> {
            shape
                .iter()
                .map(|d| {
                    d.substitute(lookup)
                        .ok_or_else(|| format!("size {d} is negative"))
                })
                .collect()
        };
        Ok(match self {
            OpKind::Reshape { shape } => OpKind::Reshape {
                shape: bind(shape)?,
            },
            OpKind::Broadcast { shape } => OpKind::Broadcast {
                shape: bind(shape)?,
            },
            OpKind::CheckShape { shape } => OpKind::CheckShape {
                shape: bind(shape)?,
            },
            OpKind::Take { shape } => OpKind::Take {
                shape: bind(shape)?,
            },
            OpKind::Iota { shape, axis } => OpKind::Iota {
                shape: bind(shape)?,
                axis: *axis,
            },
            other => other.clone(),
        })
    }

    /// True for ops computed independently per element (after broadcasting).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            OpKind::Unary(_) | OpKind::Binary(_) | OpKind::Select | OpKind::Cast(_)
        )
    }

    /// Attributes in printing order (the constant id is printed separately).
    pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
        match self {
            OpKind::Constant(_)
            | OpKind::Unary(_)
            | OpKind::Binary(_)
            | OpKind::Select
            | OpKind::MatMul => vec![],
            OpKind::Cast(t) | OpKind::BitCast(t) => vec![("to", Attr::Word(t.name().into()))],
            OpKind::Conv2d(a) => vec![
                ("strides", ints(&a.strides)),
                ("pads", ints(&a.pads)),
                ("dilations", ints(&a.dilations)),
                ("groups", Attr::Int(a.groups as i64)),
            ],
            OpKind::Pool2d(a) => vec![
                ("kind", Attr::Word(a.kind.name().into())),
                ("kernel", ints(&a.kernel)),
                ("strides", ints(&a.strides)),
                ("pads", ints(&a.pads)),
                ("count_include_pad", Attr::Int(a.count_include_pad as i64)),
            ],
            OpKind::Reduce {
                kind,
                axes,
                keep_dims,
            } => vec![
                ("kind", Attr::Word(kind.name().into())),
                ("axes", ints(axes)),
                ("keep_dims", Attr::Int(*keep_dims as i64)),
            ],
            OpKind::Softmax { axis } => vec![("axis", Attr::Int(*axis as i64))],
            OpKind::LayerNorm { axis, epsilon } => {
                vec![
                    ("axis", Attr::Int(*axis as i64)),
                    ("epsilon", Attr::Float(*epsilon)),
                ]
            }
            OpKind::Reshape { shape }
            | OpKind::Broadcast { shape }
            | OpKind::CheckShape { shape }
            | OpKind::Take { shape } => vec![("shape", dims_attr(shape))],
            OpKind::Iota { shape, axis } => vec![
                ("shape", dims_attr(shape)),
                ("axis", Attr::Int(*axis as i64)),
            ],
            OpKind::Transpose { perm } => vec![("perm", ints(perm))],
            OpKind::Slice {
                starts,
                ends,
                steps,
            } => vec![
                ("starts", Attr::Ints(starts.clone())),
                ("ends", Attr::Ints(ends.clone())),
                ("steps", Attr::Ints(steps.clone())),
            ],
            OpKind::Concat { axis } | OpKind::Gather { axis } => {
                vec![("axis", Attr::Int(*axis as i64))]
            }
            OpKind::Pad { lows, highs, value } => vec![
                ("lows", ints(lows)),
                ("highs", ints(highs)),
                ("value", Attr::Float(*value)),
            ],
            OpKind::Recurrent(cell) => vec![
                ("cell", Attr::Word(cell.word())),
                ("clip", Attr::Float(cell.clip.map_or(0.0, f64::from))),
            ],
        }
    }

    /// Rebuilds an op kind from its text name and attributes (`constant` is parsed elsewhere).
    pub fn from_parts(name: &str, attrs: &[(String, Attr)]) -> Result<OpKind, String> {
        let r = AttrReader { op: name, attrs };
        if let Some(u) = UnaryOp::from_name(name) {
            return Ok(OpKind::Unary(u));
        }
        if let Some(b) = BinaryOp::from_name(name) {
            return Ok(OpKind::Binary(b));
        }
        Ok(match name {
            "select" => OpKind::Select,
            "matmul" => OpKind::MatMul,
            "cast" | "bitcast" => {
                let to = r.word("to")?;
                let to = ElementType::from_name(to)
                    .ok_or_else(|| format!("unknown element type '{to}'"))?;
                if name == "cast" {
                    OpKind::Cast(to)
                } else {
                    OpKind::BitCast(to)
                }
            }
            "conv2d" => OpKind::Conv2d(Conv2dAttrs {
                strides: r.array("strides")?,
                pads: r.array("pads")?,
                dilations: r.array("dilations")?,
                groups: r.usize("groups")?,
            }),
            "pool2d" => {
                let kind = r.word("kind")?;
                OpKind::Pool2d(PoolAttrs {
                    kind: PoolKind::from_name(kind)
                        .ok_or_else(|| format!("unknown pool kind '{kind}'"))?,
                    kernel: r.array("kernel")?,
                    strides: r.array("strides")?,
                    pads: r.array("pads")?,
                    count_include_pad: r.int("count_include_pad")? != 0,
                })
            }
            "reduce" => {
                let kind = r.word("kind")?;
                OpKind::Reduce {
                    kind: ReduceKind::from_name(kind)
                        .ok_or_else(|| format!("unknown reduce kind '{kind}'"))?,
                    axes: r.usizes("axes")?,
                    keep_dims: r.int("keep_dims")? != 0,
                }
            }
            "softmax" => OpKind::Softmax {
                axis: r.usize("axis")?,
            },
            "layer_norm" => OpKind::LayerNorm {
                axis: r.usize("axis")?,
                epsilon: r.float("epsilon")?,
            },
            "reshape" => OpKind::Reshape {
                shape: r.dims("shape")?,
            },
            "broadcast" => OpKind::Broadcast {
                shape: r.dims("shape")?,
            },
            "check_shape" => OpKind::CheckShape {
                shape: r.dims("shape")?,
            },
            "take" => OpKind::Take {
                shape: r.dims("shape")?,
            },
            "iota" => OpKind::Iota {
                shape: r.dims("shape")?,
                axis: r.usize("axis")?,
            },
            "transpose" => OpKind::Transpose {
                perm: r.usizes("perm")?,
            },
            "slice" => OpKind::Slice {
                starts: r.ints("starts")?,
                ends: r.ints("ends")?,
                steps: r.ints("steps")?,
            },
            "concat" => OpKind::Concat {
                axis: r.usize("axis")?,
            },
            "gather" => OpKind::Gather {
                axis: r.usize("axis")?,
            },
            "pad" => OpKind::Pad {
                lows: r.usizes("lows")?,
                highs: r.usizes("highs")?,
                value: r.float("value")?,
            },
            // A clip of 0 is no clip (a clip must be positive).
            "recurrent" => {
                let clip = r.float("clip")? as f32;
                OpKind::Recurrent(RecurrentCell::from_word(
                    r.word("cell")?,
                    (clip != 0.0).then_some(clip),
                )?)
            }
            other => return Err(format!("unknown op '{other}'")),
        })
    }

    /// Result types from operand types; the error explains which rule was broken.
    /// `Constant` is typed by its tensor and is not handled here.
    pub fn infer(&self, operands: &[&TensorType]) -> Result<Vec<TensorType>, TypeError> {
        let arity = |n: usize| -> Result<(), TypeError> {
            if operands.len() == n {
                Ok(())
            } else {
                Err(TypeError::Arity {
                    op: self.name(),
                    expected: n,
                    got: operands.len(),
                })
            }
        };
        let one = |t: TensorType| Ok(vec![t]);
        // Narrow floats are held as their bits: only moving them and reading their bits as
        // an integer are meaningful (importers convert them with integer arithmetic).
        let moves_data = matches!(
            self,
            OpKind::BitCast(_)
                | OpKind::Reshape { .. }
                | OpKind::Transpose { .. }
                | OpKind::Slice { .. }
                | OpKind::Concat { .. }
                | OpKind::Gather { .. }
                | OpKind::Broadcast { .. }
                | OpKind::CheckShape { .. }
                | OpKind::Take { .. }
                | OpKind::Pad { .. }
        );
        let narrow = operands
            .iter()
            .map(|t| t.element_type)
            .chain(match self {
                OpKind::Cast(t) => Some(*t),
                _ => None,
            })
            .find(|t| t.is_narrow_float());
        if let (Some(t), false) = (narrow, moves_data) {
            return Err(TypeError::from(format!(
                "'{}' cannot compute on {t}: narrow floats are held as their bits (bitcast them \
                 to an integer to convert them)",
                self.name()
            )));
        }
        match self {
            OpKind::Constant(_) => Err(TypeError::Constant),
            OpKind::Unary(u) => {
                arity(1)?;
                let t = operands[0];
                let ok = match u {
                    UnaryOp::Not => t.element_type == ElementType::I1,
                    UnaryOp::BitNot => t.element_type.int_width().is_some(),
                    UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Relu | UnaryOp::Sign => {
                        t.element_type != ElementType::I1
                    }
                    _ => t.element_type.is_float(),
                };
                if !ok {
                    return Err(TypeError::ElementType {
                        op: u.name(),
                        element_type: t.element_type,
                    });
                }
                one(t.clone())
            }
            OpKind::Binary(b) => {
                arity(2)?;
                let (a, c) = (operands[0], operands[1]);
                if a.element_type != c.element_type {
                    return Err(TypeError::MixedTypes {
                        op: b.name(),
                        a: a.element_type,
                        b: c.element_type,
                    });
                }
                let is_bool = a.element_type == ElementType::I1;
                let ok = match b {
                    BinaryOp::And | BinaryOp::Or => is_bool,
                    BinaryOp::Equal | BinaryOp::Less | BinaryOp::Greater => true,
                    BinaryOp::BitAnd
                    | BinaryOp::BitOr
                    | BinaryOp::BitXor
                    | BinaryOp::Shl
                    | BinaryOp::Shr => a.element_type.int_width().is_some(),
                    _ => !is_bool,
                };
                if !ok {
                    return Err(TypeError::ElementType {
                        op: b.name(),
                        element_type: a.element_type,
                    });
                }
                let dims = broadcast_dims(&a.dims, &c.dims)?;
                let et = if b.is_predicate() {
                    ElementType::I1
                } else {
                    a.element_type
                };
                one(TensorType {
                    element_type: et,
                    dims,
                })
            }
            OpKind::Select => {
                arity(3)?;
                if operands[0].element_type != ElementType::I1 {
                    return Err(TypeError::from(format!(
                        "'select' condition must be i1, got {}",
                        operands[0].element_type
                    )));
                }
                if operands[1].element_type != operands[2].element_type {
                    return Err(TypeError::from("'select' branches differ in element type"));
                }
                let dims = broadcast_dims(
                    &broadcast_dims(&operands[0].dims, &operands[1].dims)?,
                    &operands[2].dims,
                )?;
                one(TensorType {
                    element_type: operands[1].element_type,
                    dims,
                })
            }
            OpKind::Cast(to) => {
                arity(1)?;
                one(operands[0].with_element_type(*to))
            }
            OpKind::BitCast(to) => {
                arity(1)?;
                let from = operands[0].element_type;
                if from.byte_size() != to.byte_size() || from == ElementType::I1 {
                    return Err(TypeError::from(format!(
                        "'bitcast' keeps the bits: {from} cannot be read as {to}"
                    )));
                }
                one(operands[0].with_element_type(*to))
            }
            OpKind::MatMul => {
                arity(2)?;
                let (a, b) = (operands[0], operands[1]);
                let integer =
                    [a.element_type, b.element_type] == [ElementType::U8, ElementType::I8];
                if !integer && (a.element_type != b.element_type || !a.element_type.is_float()) {
                    return Err(TypeError::from(format!(
                        "'matmul' takes two float operands of one type, or ui8 by i8; got {} and {}",
                        a.element_type, b.element_type
                    )));
                }
                if a.rank() < 2 || b.rank() < 2 {
                    return Err(TypeError::from(
                        "'matmul' operands must have rank 2 or more",
                    ));
                }
                let (ar, br) = (a.rank(), b.rank());
                if !dims_compatible(&a.dims[ar - 1], &b.dims[br - 2]) {
                    return Err(TypeError::from(format!(
                        "'matmul' contraction dims differ: {} vs {}",
                        a.dims[ar - 1],
                        b.dims[br - 2]
                    )));
                }
                let mut dims = broadcast_dims(&a.dims[..ar - 2], &b.dims[..br - 2])?;
                dims.push(a.dims[ar - 2].clone());
                dims.push(b.dims[br - 1].clone());
                one(TensorType {
                    element_type: if integer {
                        ElementType::I32
                    } else {
                        a.element_type
                    },
                    dims,
                })
            }
            OpKind::Conv2d(c) => {
                arity(2)?;
                let (x, w) = (operands[0], operands[1]);
                let xs = image4(x, "conv2d input")?;
                let ws = static4(w, "conv2d weights")?;
                if c.groups == 0 || xs.1 != ws[1] * c.groups || ws[0] % c.groups != 0 {
                    return Err(TypeError::from(format!(
                        "'conv2d' channels do not match: input has {}, weights {}x{} with {} groups",
                        xs.1, ws[0], ws[1], c.groups
                    )));
                }
                if c.strides.contains(&0) || c.dilations.contains(&0) {
                    return Err(TypeError::from(
                        "'conv2d' strides and dilations must be positive",
                    ));
                }
                let oh = window_out_dim(
                    &xs.2,
                    ws[2],
                    c.strides[0],
                    c.pads[0] + c.pads[2],
                    c.dilations[0],
                )?;
                let ow = window_out_dim(
                    &xs.3,
                    ws[3],
                    c.strides[1],
                    c.pads[1] + c.pads[3],
                    c.dilations[1],
                )?;
                one(TensorType {
                    element_type: conv_element_type(x.element_type, w.element_type)?,
                    dims: vec![xs.0, Dim::Static(ws[0]), oh, ow],
                })
            }
            OpKind::Pool2d(p) => {
                arity(1)?;
                let xs = image4(operands[0], "pool2d input")?;
                if p.strides.contains(&0) || p.kernel.contains(&0) {
                    return Err(TypeError::from(
                        "'pool2d' kernel and strides must be positive",
                    ));
                }
                let oh =
                    window_out_dim(&xs.2, p.kernel[0], p.strides[0], p.pads[0] + p.pads[2], 1)?;
                let ow =
                    window_out_dim(&xs.3, p.kernel[1], p.strides[1], p.pads[1] + p.pads[3], 1)?;
                one(TensorType {
                    element_type: operands[0].element_type,
                    dims: vec![xs.0, Dim::Static(xs.1), oh, ow],
                })
            }
            OpKind::Reduce {
                axes, keep_dims, ..
            } => {
                arity(1)?;
                let t = operands[0];
                check_axes(axes, t.rank(), "reduce")?;
                let mut dims = vec![];
                for (i, d) in t.dims.iter().enumerate() {
                    if axes.contains(&i) {
                        if *keep_dims {
                            dims.push(Dim::Static(1));
                        }
                    } else {
                        dims.push(d.clone());
                    }
                }
                one(TensorType {
                    element_type: t.element_type,
                    dims,
                })
            }
            OpKind::Softmax { axis } | OpKind::LayerNorm { axis, .. } => {
                arity(1)?;
                let t = operands[0];
                if *axis >= t.rank() || !t.element_type.is_float() {
                    return Err(TypeError::from(format!(
                        "'{}' needs a float operand with axis {axis} < rank {}",
                        self.name(),
                        t.rank()
                    )));
                }
                one(t.clone())
            }
            OpKind::Reshape { shape } => {
                arity(1)?;
                let t = operands[0];
                let to = TensorType {
                    element_type: t.element_type,
                    dims: shape.clone(),
                };
                let same_count = match (t.static_shape(), to.static_shape()) {
                    (Some(from), Some(to)) => {
                        let count =
                            |s: &[usize]| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                        count(&from).is_some() && count(&from) == count(&to)
                    }
                    _ => dims_product(&t.dims) == dims_product(shape),
                };
                if !same_count {
                    return Err(TypeError::from(format!(
                        "'reshape' cannot turn {} into {}",
                        t.shape_string(),
                        to.shape_string()
                    )));
                }
                one(to)
            }
            OpKind::Iota { shape, axis } => {
                arity(0)?;
                if *axis >= shape.len() {
                    return Err(TypeError::from(format!(
                        "'iota' along axis {axis} of a rank-{} shape",
                        shape.len()
                    )));
                }
                one(TensorType {
                    element_type: ElementType::I64,
                    dims: shape.clone(),
                })
            }
            OpKind::CheckShape { shape } | OpKind::Take { shape } => {
                arity(1)?;
                let t = operands[0];
                let take = matches!(self, OpKind::Take { .. });
                let agree = t.rank() == shape.len()
                    && t.dims.iter().zip(shape).all(|(a, b)| match (a, b) {
                        (Dim::Static(a), Dim::Static(b)) => a == b || (take && b <= a),
                        _ => true,
                    });
                if !agree {
                    return Err(TypeError::from(format!(
                        "'{}' of {} cannot hold dims {}",
                        self.name(),
                        t.shape_string(),
                        TensorType {
                            element_type: t.element_type,
                            dims: shape.clone(),
                        }
                        .shape_string()
                    )));
                }
                one(TensorType {
                    element_type: t.element_type,
                    dims: shape.clone(),
                })
            }
            OpKind::Broadcast { shape } => {
                arity(1)?;
                let t = operands[0];
                let dims = broadcast_dims(&t.dims, shape)?;
                if dims != *shape {
                    let target = TensorType {
                        element_type: t.element_type,
                        dims: shape.clone(),
                    };
                    return Err(TypeError::from(format!(
                        "'broadcast' cannot expand {} to {}",
                        t.shape_string(),
                        target.shape_string()
                    )));
                }
                one(TensorType {
                    element_type: t.element_type,
                    dims,
                })
            }
            OpKind::Transpose { perm } => {
                arity(1)?;
                let t = operands[0];
                let mut seen = vec![false; t.rank()];
                if perm.len() != t.rank()
                    || perm
                        .iter()
                        .any(|&p| p >= t.rank() || std::mem::replace(&mut seen[p], true))
                {
                    return Err(TypeError::from(format!(
                        "'transpose' perm {perm:?} is not a permutation of rank {}",
                        t.rank()
                    )));
                }
                one(TensorType {
                    element_type: t.element_type,
                    dims: perm.iter().map(|&p| t.dims[p].clone()).collect(),
                })
            }
            OpKind::Slice {
                starts,
                ends,
                steps,
            } => {
                arity(1)?;
                let t = operands[0];
                if starts.len() != t.rank() || ends.len() != t.rank() || steps.len() != t.rank() {
                    return Err(TypeError::from(
                        "'slice' needs a start, end and step per dim",
                    ));
                }
                let mut dims = vec![];
                for d in 0..t.rank() {
                    dims.push(slice_dim(&t.dims[d], starts[d], ends[d], steps[d])?);
                }
                one(TensorType {
                    element_type: t.element_type,
                    dims,
                })
            }
            OpKind::Concat { axis } => {
                if operands.is_empty() {
                    return Err(TypeError::from("'concat' needs at least one operand"));
                }
                let first = operands[0];
                if *axis >= first.rank() {
                    return Err(TypeError::from(format!(
                        "'concat' axis {axis} out of range for rank {}",
                        first.rank()
                    )));
                }
                let mut total = SymExpr::from(0);
                for t in operands {
                    if t.rank() != first.rank() || t.element_type != first.element_type {
                        return Err(TypeError::from(
                            "'concat' operands differ in rank or element type",
                        ));
                    }
                    for d in 0..t.rank() {
                        if d != *axis && !dims_compatible(&t.dims[d], &first.dims[d]) {
                            return Err(TypeError::from(format!(
                                "'concat' operands differ in dim {d}: {} vs {}",
                                t.dims[d], first.dims[d]
                            )));
                        }
                    }
                    total = total + t.dims[*axis].expr();
                }
                let mut dims = first.dims.clone();
                dims[*axis] = Dim::from_expr(total)
                    .ok_or_else(|| TypeError::from("'concat' result is too large"))?;
                one(TensorType {
                    element_type: first.element_type,
                    dims,
                })
            }
            OpKind::Pad { lows, highs, .. } => {
                arity(1)?;
                let t = operands[0];
                if lows.len() != t.rank() || highs.len() != t.rank() {
                    return Err(TypeError::from(format!(
                        "'pad' needs a low and high padding per dim (rank {})",
                        t.rank()
                    )));
                }
                let dims: Vec<Dim> = (0..t.rank())
                    .map(|d| match &t.dims[d] {
                        Dim::Static(n) => n
                            .checked_add(lows[d])
                            .and_then(|v| v.checked_add(highs[d]))
                            .map(Dim::Static),
                        Dim::Sym(e) => {
                            let pad = lows[d].checked_add(highs[d])?;
                            Dim::from_expr(e.clone() + SymExpr::from(i64::try_from(pad).ok()?))
                        }
                    })
                    .collect::<Option<_>>()
                    .ok_or_else(|| "'pad' result is too large".to_string())?;
                one(TensorType {
                    element_type: t.element_type,
                    dims,
                })
            }
            OpKind::Recurrent(cell) => {
                arity(5)?;
                recurrent_result(cell, operands).map(|t| vec![t])
            }
            OpKind::Gather { axis } => {
                arity(2)?;
                let (data, idx) = (operands[0], operands[1]);
                if *axis >= data.rank() {
                    return Err(TypeError::from(format!(
                        "'gather' axis {axis} out of range for rank {}",
                        data.rank()
                    )));
                }
                if !matches!(idx.element_type, ElementType::I32 | ElementType::I64) {
                    return Err(TypeError::from(format!(
                        "'gather' indices must be i32 or i64, got {}",
                        idx.element_type
                    )));
                }
                let mut dims = data.dims[..*axis].to_vec();
                dims.extend(idx.dims.iter().cloned());
                dims.extend(data.dims[axis + 1..].iter().cloned());
                one(TensorType {
                    element_type: data.element_type,
                    dims,
                })
            }
        }
    }
}

/// The result type of [`OpKind::Recurrent`] over its five operands, or which one does not fit.
fn recurrent_result(cell: &RecurrentCell, ops: &[&TensorType]) -> Result<TensorType, TypeError> {
    cell.check()?;
    let names = [
        "projection",
        "weights",
        "initial hidden state",
        "initial cell state",
        "biases",
    ];
    if let Some((i, t)) = ops
        .iter()
        .enumerate()
        .find(|(_, t)| t.element_type != ElementType::F32)
    {
        return Err(TypeError::from(format!(
            "'recurrent' computes in f32; its {} is {t}",
            names[i]
        )));
    }
    let (proj, w) = (ops[0], ops[1]);
    let d = cell.directions.count();
    let g = cell.cell.gates();
    let bad = |what: &str| {
        TypeError::from(format!(
            "'recurrent' ({}) needs {what}; got projection {proj}, weights {w}",
            cell.word()
        ))
    };
    let [Dim::Static(wd), Dim::Static(h), Dim::Static(gh)] = w.dims[..] else {
        return Err(bad("static weights [D, H, G·H]"));
    };
    if wd != d || gh != g * h {
        return Err(bad(&format!("weights [{d}, H, {g}·H]")));
    }
    let [pd, seq, batch, pgh] = &proj.dims[..] else {
        return Err(bad("a projection [D, T, B, G·H]"));
    };
    if pd.as_static() != Some(d) || pgh.as_static() != Some(gh) {
        return Err(bad(&format!("a projection [{d}, T, B, {gh}]")));
    }
    let state = [Dim::Static(d), batch.clone(), Dim::Static(h)];
    let biases = [
        Dim::Static(d),
        Dim::Static(1),
        Dim::Static(cell.bias_len(h)),
    ];
    for (i, want) in [(2, &state), (3, &state), (4, &biases)] {
        let t = ops[i];
        let fits = t.rank() == 3 && t.dims.iter().zip(want).all(|(a, b)| dims_compatible(a, b));
        if !fits {
            let want: Vec<String> = want.iter().map(|d| d.to_string()).collect();
            return Err(TypeError::from(format!(
                "'recurrent' needs its {} as [{}], got {t}",
                names[i],
                want.join(", ")
            )));
        }
    }
    let steps = Dim::from_expr(seq.expr() + SymExpr::from(2))
        .ok_or_else(|| TypeError::from("'recurrent' result is too large"))?;
    Ok(TensorType {
        element_type: ElementType::F32,
        dims: vec![steps, Dim::Static(d), batch.clone(), Dim::Static(h)],
    })
}

fn dims_compatible(a: &Dim, b: &Dim) -> bool {
    a == b
}

/// NumPy broadcasting of two dim lists.
pub fn broadcast_dims(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, String> {
    let rank = a.len().max(b.len());
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            Some(&a[i + a.len() - rank])
        } else {
            None
        };
        let db = if i + b.len() >= rank {
            Some(&b[i + b.len() - rank])
        } else {
            None
        };
        let d = match (da, db) {
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (Some(x), Some(y)) if x == y => x.clone(),
            (Some(Dim::Static(1)), Some(y)) => y.clone(),
            (Some(x), Some(Dim::Static(1))) => x.clone(),
            (Some(x), Some(y)) => return Err(format!("shapes do not broadcast: dim {x} vs {y}")),
            (None, None) => unreachable!("rank is the larger of the two ranks"),
        };
        out.push(d);
    }
    Ok(out)
}

/// An NCHW image: batch, height and width may be symbolic; channels must be static.
fn image4(t: &TensorType, what: &str) -> Result<(Dim, usize, Dim, Dim), String> {
    match &t.dims[..] {
        [n, Dim::Static(c), h, w] => Ok((n.clone(), *c, h.clone(), w.clone())),
        _ => Err(format!(
            "{what} must be a 4-D tensor with static channels, got {t}"
        )),
    }
}

/// Output length of a sliding window over a static or symbolic input length. A symbolic
/// input must hold at least one window when the program runs.
pub fn window_out_dim(
    input: &Dim,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<Dim, String> {
    let e = match input {
        Dim::Static(n) => return window_out(*n, kernel, stride, pad, dilation).map(Dim::Static),
        Dim::Sym(e) => e,
    };
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err("window kernel, stride and dilation must be positive".into());
    }
    let too_big = || format!("window of kernel {kernel}, dilation {dilation} is too large");
    let span = dilation
        .checked_mul(kernel - 1)
        .and_then(|s| s.checked_add(1))
        .and_then(|s| i64::try_from(s).ok())
        .ok_or_else(too_big)?;
    let pad = i64::try_from(pad).map_err(|_| too_big())?;
    let stride = i64::try_from(stride).map_err(|_| too_big())?;
    let out =
        (e.clone() + SymExpr::from(pad) - SymExpr::from(span)).floor_div(stride) + SymExpr::from(1);
    Dim::from_expr(out).ok_or_else(too_big)
}

/// The result type of a convolution of `x` by `w`: a float operand's own, or `i32` for the
/// integer convolution of `ui8` pixels by `i8` weights, whose products sum exactly in `i32`.
fn conv_element_type(x: ElementType, w: ElementType) -> Result<ElementType, String> {
    match (x, w) {
        (ElementType::U8, ElementType::I8) => Ok(ElementType::I32),
        _ if x == w && x.is_float() => Ok(x),
        _ => Err(format!(
            "'conv2d' takes two float operands of one type, or ui8 pixels and i8 weights; got {x} and {w}"
        )),
    }
}

fn static4(t: &TensorType, what: &str) -> Result<[usize; 4], String> {
    t.static_shape()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| format!("{what} must be a static 4-D tensor, got {t}"))
}

/// Output length of a sliding window.
pub fn window_out(
    input: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<usize, String> {
    let too_big = || format!("window of kernel {kernel}, dilation {dilation} is too large");
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err("window kernel, stride and dilation must be positive".into());
    }
    let span = dilation
        .checked_mul(kernel - 1)
        .and_then(|s| s.checked_add(1))
        .ok_or_else(too_big)?;
    let padded = input.checked_add(pad).ok_or_else(too_big)?;
    if padded < span {
        return Err(format!(
            "window of {span} does not fit input {input} with padding {pad}"
        ));
    }
    Ok((input + pad - span) / stride + 1)
}

/// Length of a slice of a static dim, or of a symbolic dim sliced from a non-negative
/// start to [`SLICE_TO_END`] with a positive step.
pub fn slice_dim(dim: &Dim, start: i64, end: i64, step: i64) -> Result<Dim, String> {
    let e = match dim {
        Dim::Static(n) => return slice_len(*n, start, end, step).map(Dim::Static),
        Dim::Sym(e) => e,
    };
    if step <= 0 || start < 0 || end != SLICE_TO_END {
        return Err(format!(
            "'slice' of symbolic dim {dim} must run from a non-negative start to its end with a positive step (got {start}:{end}:{step})"
        ));
    }
    let len = (e.clone() - SymExpr::from(start)).ceil_div(step);
    Ok(Dim::from_expr(len).unwrap_or(Dim::Static(0)))
}

/// Number of elements a normalised slice selects.
pub fn slice_len(dim: usize, start: i64, end: i64, step: i64) -> Result<usize, String> {
    if step == 0 {
        return Err("'slice' step must not be zero".into());
    }
    let dim = i64::try_from(dim).map_err(|_| "'slice' dim too large".to_string())?;
    // A slice to the end of a dim that was symbolic when the op was built.
    let (start, end) = if step > 0 && end == SLICE_TO_END {
        (start.min(dim), dim)
    } else {
        (start, end)
    };
    // Normalised bounds: [0, dim] for positive steps, [-1, dim - 1] for negative ones.
    let (lo, hi) = if step > 0 { (0, dim) } else { (-1, dim - 1) };
    if !(lo..=hi).contains(&start) || !(lo..=hi).contains(&end) || step == i64::MIN {
        return Err(format!(
            "'slice' range [{start}, {end}) with step {step} exceeds dim {dim}"
        ));
    }
    let (span, step) = if step > 0 {
        (end - start, step)
    } else {
        (start - end, -step)
    };
    Ok((span.max(0) as u64).div_ceil(step as u64) as usize)
}

fn check_axes(axes: &[usize], rank: usize, op: &str) -> Result<(), String> {
    for (i, &a) in axes.iter().enumerate() {
        if a >= rank || axes[..i].contains(&a) {
            return Err(format!("'{op}' axes {axes:?} invalid for rank {rank}"));
        }
    }
    Ok(())
}
