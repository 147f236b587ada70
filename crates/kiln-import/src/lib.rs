//! Frontends: turn model files into kiln's tensor program ([`kiln_ir::Program`]).
//!
//! - [`onnx`] reads ONNX models (opsets 7–21, tested on 13–21) through `prost`.
//! - Importers only lower; they do not optimise beyond folding ops whose operands are all
//!   constants (which shape-computing subgraphs need).
//! - Every error names the source: the node, its op type and the opset.
#![forbid(unsafe_code)]

pub mod onnx;

use std::path::Path;

/// Errors from reading a model.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImportError {
    #[error("cannot read '{path}': {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("node '{node}' ({op_type}, opset {opset}): {message}")]
    Node {
        op_type: String,
        node: String,
        opset: i64,
        message: String,
    },
    #[error("unknown input type '{0}' (types: onnx, kir)")]
    UnknownInputType(String),
    /// An input binding that does not fit the model.
    #[error("{0}")]
    BadBinding(String),
}

/// Model formats kiln can import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    Onnx,
    /// kiln's own tensor program text (what `--compile-to=input` prints).
    KilnIr,
}

impl std::str::FromStr for InputType {
    type Err = ImportError;
    /// `onnx`, or `kir` (`kiln`) for kiln's tensor program text: what `--iree-input-type` and
    /// Python's `input_type` take.
    fn from_str(s: &str) -> Result<InputType, ImportError> {
        match s {
            "onnx" => Ok(InputType::Onnx),
            "kir" | "kiln" => Ok(InputType::KilnIr),
            other => Err(ImportError::UnknownInputType(other.into())),
        }
    }
}

impl InputType {
    /// Guesses the format from a file name.
    pub fn from_path(path: &Path) -> Option<InputType> {
        match path.extension()?.to_str()? {
            "onnx" => Some(InputType::Onnx),
            "kir" => Some(InputType::KilnIr),
            _ => None,
        }
    }
}

/// How to import: sizes for symbolic input dims (`batch=8`). Unbound symbolic input dims are
/// given size 1 and reported in [`Imported::notes`], unless `keep_symbols` asks for the
/// program with its symbolic dims (the compiler's default).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub dims: Vec<(String, usize)>,
    /// Values for one-element inputs (`--kiln-bind-input=NAME=VALUE`): each becomes a constant
    /// of that value and leaves the compiled function's inputs, so what depends on it folds
    /// (an `If` on a sample rate keeps one branch).
    pub inputs: Vec<(String, f64)>,
    /// Return the symbolic program (types such as `tensor<{batch}x{(h+1)/2}xf32>`) rather than
    /// binding the dims left unbound to 1.
    pub keep_symbols: bool,
    /// Import every op ONNX defines as a function through ONNX's function body, even where
    /// kiln lowers the op directly (`--kiln-onnx-expand-functions`): a check of kiln's
    /// lowerings against ONNX's own definitions. Ops kiln does not lower are expanded either
    /// way.
    pub expand_functions: bool,
    /// The program must run with no loop or branch of the control program (a target such
    /// as `vmvx-inline` runs straight-line programs only): recurrences over a sequence
    /// known at compile time are unrolled at any length, where otherwise long ones loop.
    pub straight_line: bool,
    /// Every target compiles a recurrent layer as one kernel (`OpKind::Recurrent`): LSTM, GRU
    /// and RNN nodes become one where they allow it (f32, no `sequence_lens` shorter than the
    /// sequence, activations without parameters), rather than steps unrolled or looped.
    pub recurrent_kernels: bool,
}

/// An imported program and what the user should know about the import.
#[derive(Clone, Debug)]
pub struct Imported {
    pub program: kiln_ir::Program,
    pub notes: Vec<String>,
}

/// Imports a model file of the given (or guessed) format with default options.
pub fn import_file(
    path: &Path,
    input_type: Option<InputType>,
) -> Result<kiln_ir::Program, ImportError> {
    Ok(import_file_with(path, input_type, &ImportOptions::default())?.program)
}

/// Imports a model file of the given (or guessed) format.
pub fn import_file_with(
    path: &Path,
    input_type: Option<InputType>,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let kind = input_type
        .or_else(|| InputType::from_path(path))
        .ok_or_else(|| {
            ImportError::Unsupported(format!(
                "cannot tell the format of '{}' from its extension (expected .onnx or .kir)",
                path.display()
            ))
        })?;
    match kind {
        InputType::Onnx => onnx::import_file_with(path, options),
        InputType::KilnIr => {
            let text = std::fs::read_to_string(path).map_err(|e| ImportError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let program = kiln_ir::text::parse_program(&text)
                .map_err(|e| ImportError::Malformed(format!("{}: {e}", path.display())))?;
            Ok(Imported {
                program,
                notes: vec![],
            })
        }
    }
}
