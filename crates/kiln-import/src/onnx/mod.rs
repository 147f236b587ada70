//! ONNX importer: decodes a `ModelProto` and lowers its graph to a tensor program.
//!
//! - Initializers and `Constant` nodes become constants; tensor data may be raw, typed or stored
//!   in external files next to the model.
//! - Every node is lowered by a builder looked up by op type in `ops.rs`. Builders see constant
//!   operands' values, so shape-computing subgraphs (`Shape → Gather → Concat → Reshape`) fold
//!   while importing: any op whose operands are all constants is evaluated by the reference
//!   interpreter and replaced by its result.
//! - Input dims are static or symbolic: a named dim (`dim_param`) is one symbol wherever it
//!   appears; an unnamed (or `?`) or negative one gets a fresh symbol `INPUT_AXIS`. Types are inferred
//!   from the inputs, never taken from the file's declared value or output shapes, so symbolic
//!   sizes flow through as expressions (`{(h+1)/2}`); `shape_values.rs` folds shape subgraphs
//!   over them. Dims the options bind are static from the start.
//! - With [`ImportOptions::keep_symbols`] (what the compiler asks for by default) the program
//!   keeps its symbols; without it, symbols the options leave unbound are bound to 1 (with a
//!   note), and a model whose ops do not all take symbolic dims yet is imported with those
//!   symbols bound from the start.
//! - Errors name the node, its op type and the opset; nothing here panics on a malformed file.

mod affine_unpool;
mod causal_conv;
mod col2im;
mod control_flow;
mod conv3d;
mod conv_transpose;
mod data_counts;
mod data_pads;
mod data_sizes;
mod data_slices;
mod dft;
mod einsum;
mod functions;
mod grid_sample;
mod host_sizes;
mod indexing;
mod linear_attention;
mod loop_values;
mod narrow_types;
mod nms;
mod op_versions;
mod ops;
pub mod proto;
mod quantize;
mod recurrent;
mod resize;
mod resize_data;
mod roi_align;
mod rotary;
mod scatter;
mod shape_values;
mod staging;
mod std_functions;
mod uses;
mod value_cases;
mod versions;
mod windows;

use crate::{ImportError, ImportOptions, Imported};
use kiln_ir::{interp, ConstId, Dim, Function, OpKind, Program, TensorType, ValueId};
use kiln_types::{ElementType, HostTensor};
use prost::Message;
use proto::{AttributeProto, ModelProto, NodeProto, TensorProto};
use shape_values::ShapeValue;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest result (in elements) the importer folds eagerly when all operands are constant.
const FOLD_LIMIT: usize = 1 << 24;

/// Imports an ONNX model file with default options. External tensor data is looked up next to
/// the file.
pub fn import_file(path: &Path) -> Result<Program, ImportError> {
    Ok(import_file_with(path, &ImportOptions::default())?.program)
}

/// Imports an ONNX model file, binding symbolic input dims as `options` says.
pub fn import_file_with(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    import_bytes_with(&bytes, path.parent().map(Path::to_path_buf), options)
}

/// Imports an ONNX model from memory with default options; `base_dir` resolves external data.
pub fn import_bytes(bytes: &[u8], base_dir: Option<PathBuf>) -> Result<Program, ImportError> {
    Ok(import_bytes_with(bytes, base_dir, &ImportOptions::default())?.program)
}

/// Imports an ONNX model from memory, binding symbolic input dims as `options` says.
pub fn import_bytes_with(
    bytes: &[u8],
    base_dir: Option<PathBuf>,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| ImportError::Malformed(format!("not a valid ONNX model: {e}")))?;
    let symbolic = import_model(&model, base_dir.clone(), options, false);
    let (mut program, mut notes) = match symbolic {
        Ok(imported) => imported,
        Err(_) if !options.keep_symbols => import_model(&model, base_dir, options, true)?,
        Err(e) => return Err(e),
    };
    if !options.keep_symbols {
        bind_unbound(&mut program, &mut notes)?;
    }
    Ok(Imported { program, notes })
}

/// Binds every symbol still open to 1, noting each once with how to choose its size.
/// Symbols of internal functions (sizes control flow computes per call) stay open.
fn bind_unbound(program: &mut Program, notes: &mut Vec<String>) -> Result<(), ImportError> {
    let mut inputs = std::collections::HashSet::new();
    for f in program.functions.iter().filter(|f| !f.internal) {
        for p in &f.params {
            for sym in f.ty(p.value).symbols() {
                note_unbound(notes, &p.name, &sym);
                inputs.insert(sym);
            }
        }
    }
    for f in &mut program.functions {
        f.bind_symbols(&|s| inputs.contains(s).then_some(1))
            .map_err(|m| ImportError::Malformed(format!("binding symbolic dims to 1: {m}")))?;
    }
    kiln_ir::verify::verify(program)
        .map_err(|e| ImportError::Malformed(format!("imported program is invalid: {e}")))
}

/// Notes, once per symbol, that `sym` compiles as 1 and how to choose another size.
fn note_unbound(notes: &mut Vec<String>, input: &str, sym: &str) {
    if !notes.iter().any(|n| n.contains(&format!("dim '{sym}';"))) {
        notes.push(format!("input '{input}' has symbolic dim '{sym}'; compiling for {sym}=1 (choose with --kiln-bind-dim={sym}=SIZE)"));
    }
}

/// Imports `model` with the dims `options` binds static, and the others symbolic, or (with
/// `bind_all`) bound to 1 from the start.
fn import_model(
    model: &ModelProto,
    base_dir: Option<PathBuf>,
    options: &ImportOptions,
    bind_all: bool,
) -> Result<(Program, Vec<String>), ImportError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| ImportError::Malformed("the model has no graph".into()))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
        .and_then(|o| o.version)
        .unwrap_or(1);
    if !(1..=op_versions::newest_opset()).contains(&opset) {
        return Err(ImportError::Unsupported(format!(
            "ONNX opset {opset} is not supported (this build knows opsets 1 to {})",
            op_versions::newest_opset()
        )));
    }
    let local_functions = model.functions.clone();
    let mut im = Importer {
        program: Program::default(),
        func: Function::new("main"),
        names: HashMap::new(),
        consts: HashMap::new(),
        sym_values: HashMap::new(),
        opset,
        base_dir,
        local_functions,
        expand_functions: options.expand_functions,
        straight_line: options.straight_line,
        recurrent_kernels: options.recurrent_kernels,
        function_depth: 0,
        staging: None,
        uses: uses::Uses::default(),
        dequantized: HashMap::new(),
        shifted_pixels: HashMap::new(),
    };
    for init in &graph.initializer {
        let name = init.name.clone().unwrap_or_default();
        let t = im
            .tensor(init)
            .map_err(|m| ImportError::Malformed(format!("initializer '{name}': {m}")))?;
        let v = im.constant(t, &name);
        im.names.insert(name, v);
    }
    let mut notes = vec![];
    for input in &graph.input {
        let name = input.name.clone().unwrap_or_default();
        if im.names.contains_key(&name) {
            continue; // An initializer listed as an input (IR version < 4 style) keeps its value.
        }
        let mut ty = value_type(input, &name, options.keep_symbols)
            .map_err(|m| ImportError::Malformed(format!("graph input '{name}': {m}")))?;
        if let Some(&(_, value)) = options.inputs.iter().rev().find(|(n, _)| *n == name) {
            let v = im.constant(bound_input(&name, &ty, value)?, &name);
            notes.push(format!(
                "input '{name}' is bound to {value}; the compiled function does not take it"
            ));
            im.names.insert(name, v);
            continue;
        }
        bind_dims(&mut ty, &name, options, bind_all, &mut notes);
        let v = im.func.add_param(name.clone(), ty);
        im.names.insert(name, v);
    }
    if let Some((unknown, _)) = options.inputs.iter().find(|(n, _)| {
        !graph
            .input
            .iter()
            .any(|i| i.name.as_deref() == Some(n.as_str()))
    }) {
        let names: Vec<&str> = graph
            .input
            .iter()
            .filter_map(|i| i.name.as_deref())
            .collect();
        return Err(ImportError::BadBinding(format!(
            "the model has no input '{unknown}' (its inputs: {})",
            names.join(", ")
        )));
    }
    im.walk(&graph.node, &graph.output)?;
    let mut outputs = vec![];
    for output in &graph.output {
        let name = output.name.clone().unwrap_or_default();
        let v = *im.names.get(&name).ok_or_else(|| {
            ImportError::Malformed(format!("graph output '{name}' is never produced"))
        })?;
        outputs.push((name, v));
    }
    let roots: Vec<ValueId> = outputs.iter().map(|&(_, v)| v).collect();
    // Sizes read as data are computed by a control program before the function's call.
    if im.is_staged() || !im.live_placeholders(&roots).is_empty() {
        im.finish_staged(&outputs)?;
    } else {
        for (name, value) in outputs {
            im.func.results.push(kiln_ir::Port { value, name });
        }
        im.check_placeholders()?;
        im.program.functions.push(std::mem::take(&mut im.func));
    }
    let Importer { program, .. } = im;
    kiln_ir::verify::verify(&program)
        .map_err(|e| ImportError::Malformed(format!("imported program is invalid: {e}")))?;
    Ok((program, notes))
}

/// Replaces the symbolic dims of an input's type that `options` binds by their sizes; with
/// `bind_all`, the others become 1 (with a note once per symbol).
fn bind_dims(
    ty: &mut TensorType,
    input: &str,
    options: &ImportOptions,
    bind_all: bool,
    notes: &mut Vec<String>,
) {
    for d in &mut ty.dims {
        let Some(sym) = d.expr().as_symbol().map(str::to_string) else {
            continue;
        };
        match options.dims.iter().rev().find(|(n, _)| *n == sym) {
            Some((_, size)) => *d = Dim::Static(*size),
            None if bind_all => {
                note_unbound(notes, input, &sym);
                *d = Dim::Static(1);
            }
            None => {}
        }
    }
}

/// The constant a one-element input bound to `value` becomes.
fn bound_input(name: &str, ty: &TensorType, value: f64) -> Result<HostTensor, ImportError> {
    let bad = |why: String| ImportError::BadBinding(format!("input '{name}' ({ty}) {why}"));
    // A bound input holds one element: its dims are 1, or symbolic (taken as 1).
    if ty
        .dims
        .iter()
        .any(|d| matches!(d, Dim::Static(n) if *n != 1))
    {
        return Err(bad(
            "has more than one element and cannot be bound to a value".into(),
        ));
    }
    let et = ty.element_type;
    let exact = match et {
        ElementType::I1 => value == 0.0 || value == 1.0,
        int if int.int_width().is_some() => {
            value.fract() == 0.0 && value.abs() < 9.2e18 && int.wrap(value as i64) as f64 == value
        }
        _ => value.is_finite(),
    };
    if !exact {
        return Err(bad(format!("cannot hold the value {value}")));
    }
    let shape = vec![1; ty.rank()];
    Ok(HostTensor::from_f64(et, &shape, &[value]))
}

/// An input's type: named dims become their (sanitised) symbol, unnamed (or `?`) and negative
/// ones a fresh symbol `INPUT_AXIS`, and with `open_zero` (dims kept open) so do dims declared 0,
/// which exporters write for sizes they do not know.
fn value_type(
    info: &proto::ValueInfoProto,
    input: &str,
    open_zero: bool,
) -> Result<TensorType, String> {
    let tt = info
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or("only tensor inputs are supported")?;
    let et = element_type(tt.elem_type.unwrap_or(0))?;
    let shape = tt
        .shape
        .as_ref()
        .ok_or("the input has no shape (kiln needs ranked inputs)")?;
    let mut dims = vec![];
    for (i, d) in shape.dim.iter().enumerate() {
        dims.push(match (d.dim_value, &d.dim_param) {
            (Some(0), _) if open_zero => {
                Dim::symbol(kiln_ir::sym::symbol_name(&format!("{input}_{i}")))
            }
            (Some(v), _) if v >= 0 => Dim::Static(v as usize),
            // paddle2onnx writes `?` for a dim it does not know: unnamed, like an empty name.
            (_, Some(p)) if !p.is_empty() && p != "?" => Dim::symbol(kiln_ir::sym::symbol_name(p)),
            _ => Dim::symbol(kiln_ir::sym::symbol_name(&format!("{input}_{i}"))),
        });
    }
    Ok(TensorType {
        element_type: et,
        dims,
    })
}

/// Maps an ONNX `TensorProto.DataType` to a kiln element type.
fn element_type(code: i32) -> Result<ElementType, String> {
    Ok(match code {
        1 => ElementType::F32,
        2 => ElementType::U8,
        3 => ElementType::I8,
        4 => ElementType::U16,
        5 => ElementType::I16,
        6 => ElementType::I32,
        12 => ElementType::U32,
        13 => ElementType::U64,
        7 => ElementType::I64,
        9 => ElementType::I1,
        10 => ElementType::F16,
        16 => ElementType::BF16,
        11 => ElementType::F64,
        17 => ElementType::F8E4M3FN,
        18 => ElementType::F8E4M3FNUZ,
        19 => ElementType::F8E5M2,
        20 => ElementType::F8E5M2FNUZ,
        21 => ElementType::U4,
        22 => ElementType::I4,
        23 => ElementType::F4E2M1FN,
        24 => ElementType::F8E8M0FNU,
        25 => ElementType::U2,
        26 => ElementType::I2,
        other => {
            let name = match other {
                8 => "string",
                _ => "this",
            };
            return Err(format!(
                "element type {name} (ONNX data type {other}) is not supported"
            ));
        }
    })
}

/// `count` elements of `bits` bits each, packed low bits first, spread one per byte.
fn unpack(packed: &[u8], bits: u32, count: usize) -> Result<Vec<u8>, String> {
    let per_byte = (8 / bits) as usize;
    if packed.len() != count.div_ceil(per_byte) {
        return Err(format!(
            "{count} elements of {bits} bits need {} packed bytes, found {}",
            count.div_ceil(per_byte),
            packed.len()
        ));
    }
    let mask = (1u8 << bits) - 1;
    Ok((0..count)
        .map(|i| (packed[i / per_byte] >> ((i % per_byte) as u32 * bits)) & mask)
        .collect())
}

/// One ONNX value during import: its tensor program value and, if known, its constant value.
pub(crate) struct Importer {
    program: Program,
    func: Function,
    names: HashMap<String, ValueId>,
    consts: HashMap<ValueId, ConstId>,
    /// Values holding symbolic sizes ([`shape_values`]); their program values are placeholders.
    sym_values: HashMap<ValueId, ShapeValue>,
    opset: i64,
    base_dir: Option<PathBuf>,
    /// The model's local functions, imported by inlining their bodies ([`functions`]).
    local_functions: Vec<proto::FunctionProto>,
    /// Import function-defined ops through ONNX's bodies even where kiln lowers them
    /// ([`std_functions`]).
    expand_functions: bool,
    /// The program must run without loops of the control program ([`ImportOptions`]).
    ///
    /// [`ImportOptions`]: crate::ImportOptions
    straight_line: bool,
    /// Recurrent layers may become one kernel each ([`ImportOptions::recurrent_kernels`]).
    ///
    /// [`ImportOptions::recurrent_kernels`]: crate::ImportOptions::recurrent_kernels
    recurrent_kernels: bool,
    /// How deeply the function bodies being imported nest.
    function_depth: usize,
    /// Run-time control flow's segments, once the graph has been cut ([`staging`]).
    staging: Option<staging::Staging>,
    /// Reads of each name still ahead, per graph being walked.
    uses: uses::Uses,
    /// DequantizeLinear's outputs in the function being built, for the ops that compute on
    /// the quantised integers instead ([`quantize::Dequantized`]).
    dequantized: HashMap<ValueId, quantize::Dequantized>,
    /// `int8` pixels shifted to `ui8` for integer convolutions, by the `int8` value.
    shifted_pixels: HashMap<ValueId, ValueId>,
}

/// What a node builder sees: the node and helpers that name it in errors.
pub(crate) struct NodeCtx<'a> {
    pub node: &'a NodeProto,
    pub op_type: &'a str,
    pub name: String,
    pub opset: i64,
}

impl NodeCtx<'_> {
    pub fn err(&self, message: impl Into<String>) -> ImportError {
        ImportError::Node {
            op_type: self.op_type.to_string(),
            node: self.name.clone(),
            opset: self.opset,
            message: message.into(),
        }
    }
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
    }
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }
    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).and_then(|a| a.f).unwrap_or(default)
    }
    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }
    pub fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
}

impl Importer {
    /// Imports `nodes` in order, counting their reads (and the graph's `outputs`) so a cut
    /// knows which values are still needed.
    pub(crate) fn walk(
        &mut self,
        nodes: &[NodeProto],
        outputs: &[proto::ValueInfoProto],
    ) -> Result<(), ImportError> {
        self.uses.push(nodes, outputs);
        let result = nodes.iter().try_for_each(|n| {
            self.node(n)?;
            self.uses.done(n);
            Ok(())
        });
        self.uses.pop();
        result
    }

    fn node(&mut self, node: &NodeProto) -> Result<(), ImportError> {
        let op_type = node.op_type.as_deref().unwrap_or("");
        let name = node
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| node.output.first().cloned().unwrap_or_default());
        let ctx = NodeCtx {
            node,
            op_type,
            name,
            opset: self.opset,
        };
        if let Some(function) = self.local_function(node) {
            return self.inline_function(&ctx, &function);
        }
        let domain = node.domain.as_deref().unwrap_or("");
        let contrib = match domain {
            "" | "ai.onnx" => None,
            "com.microsoft" => Some(ops::contrib_builder(op_type).ok_or_else(|| {
                ctx.err(format!(
                    "ONNX Runtime's contrib op 'com.microsoft.{op_type}' is not supported"
                ))
            })?),
            _ => return Err(ctx.err(format!("op domain '{domain}' is not supported"))),
        };
        // An op ONNX defines as a function, which kiln does not lower at this version (or
        // which the options ask to expand), is imported through ONNX's body.
        if let (None, Some(version)) = (contrib, op_versions::op_version(op_type, self.opset)) {
            let lowered = ops::builder(op_type).is_some()
                && op_versions::implemented(op_type)
                    .is_some_and(|(oldest, newest)| (oldest..=newest).contains(&version));
            if !lowered || self.expand_functions {
                if let Some(f) = std_functions::standard_function(op_type, version, self.opset) {
                    return self.inline_function(&ctx, f);
                }
            }
        }
        if let (true, Some((oldest, newest))) = (
            contrib.is_none() && ops::builder(op_type).is_some(),
            op_versions::implemented(op_type),
        ) {
            match op_versions::op_version(op_type, self.opset) {
                None => {
                    return Err(ctx.err(format!(
                        "'{op_type}' is not defined at opset {} (it appears at opset {oldest})",
                        self.opset
                    )))
                }
                Some(version) if !(oldest..=newest).contains(&version) => {
                    return Err(ctx.err(format!(
                        "version {version} of '{op_type}' is not supported (kiln implements versions {oldest} to {newest})"
                    )))
                }
                Some(_) => {}
            }
        }
        let builder = contrib.or_else(|| ops::builder(op_type)).ok_or_else(|| {
            ImportError::Unsupported(format!(
                "unsupported op '{op_type}' (node '{}', opset {})",
                ctx.name, self.opset
            ))
        })?;
        let mut inputs = vec![];
        for n in &node.input {
            if n.is_empty() {
                inputs.push(None);
            } else {
                let v = *self.names.get(n).ok_or_else(|| {
                    ctx.err(format!("input '{n}' is not defined before this node"))
                })?;
                self.check_ranked(&ctx, n, v)?;
                inputs.push(Some(v));
            }
        }
        let outputs = match contrib {
            Some(build) => build(self, &ctx, &inputs)?,
            None => match self.fold_shape_node(&ctx, &inputs)? {
                Some(v) => vec![Some(v)],
                None => match self.value_domain(&ctx, &inputs) {
                    Some(domain) => self.import_per_value(&ctx, &inputs, domain, builder)?,
                    None => builder(self, &ctx, &inputs)?,
                },
            },
        };
        for (i, out_name) in node.output.iter().enumerate() {
            if out_name.is_empty() {
                continue;
            }
            let v =
                outputs.get(i).copied().flatten().ok_or_else(|| {
                    ctx.err(format!("output {i} ('{out_name}') is not supported"))
                })?;
            self.names.insert(out_name.clone(), v);
        }
        Ok(())
    }

    pub(crate) fn ty(&self, v: ValueId) -> &TensorType {
        self.func.ty(v)
    }

    /// The static shape of `v`, or an error naming the node.
    pub(crate) fn shape(&self, ctx: &NodeCtx, v: ValueId) -> Result<Vec<usize>, ImportError> {
        self.ty(v)
            .static_shape()
            .ok_or_else(|| ctx.err(format!("needs a static shape, got {}", self.ty(v))))
    }

    /// `operands` of an elementwise op or a concat, with every size that must agree with
    /// another operand's but is a different expression taken to be that one (a `check_shape`,
    /// which the runtime checks before a call): a static size over a symbolic one, else the
    /// first operand's. Sizes that broadcast (a static 1) are left alone.
    fn unify_sizes(
        &mut self,
        ctx: &NodeCtx,
        kind: &OpKind,
        operands: &[ValueId],
    ) -> Result<Vec<ValueId>, ImportError> {
        let concat_axis = match kind {
            OpKind::Binary(_) | OpKind::Select => None,
            OpKind::Concat { axis } => Some(*axis),
            _ => return Ok(operands.to_vec()),
        };
        let dims: Vec<Vec<Dim>> = operands.iter().map(|v| self.dims(*v)).collect();
        if dims.iter().flatten().all(|d| matches!(d, Dim::Static(_))) {
            return Ok(operands.to_vec());
        }
        let rank = dims.iter().map(Vec::len).max().unwrap_or(0);
        if concat_axis.is_some() && dims.iter().any(|d| d.len() != rank) {
            return Ok(operands.to_vec());
        }
        // Right-aligned position `p` of each operand's dims.
        let at = |d: &[Dim], p: usize| (p + d.len()).checked_sub(rank).map(|i| d[i].clone());
        let mut target: Vec<Option<Dim>> = vec![None; rank];
        for (p, t) in target.iter_mut().enumerate() {
            if Some(p) == concat_axis {
                continue;
            }
            let sizes: Vec<Dim> = dims
                .iter()
                .filter_map(|d| at(d, p))
                .filter(|d| *d != Dim::Static(1))
                .collect();
            let Some(first) = sizes.first() else { continue };
            if sizes.iter().all(|d| d == first) {
                continue;
            }
            let stat = sizes.iter().find(|d| matches!(d, Dim::Static(_)));
            *t = Some(stat.unwrap_or(first).clone());
        }
        let mut out = operands.to_vec();
        for (v, d) in out.iter_mut().zip(&dims) {
            let mut shape = d.clone();
            for (p, t) in target.iter().enumerate() {
                let Some(t) = t else { continue };
                if let Some(i) = (p + d.len()).checked_sub(rank) {
                    if shape[i] != Dim::Static(1) {
                        shape[i] = t.clone();
                    }
                }
            }
            if shape != *d {
                *v = self
                    .func
                    .push_op(OpKind::CheckShape { shape }, &[*v], &ctx.name)
                    .map_err(|m| ctx.err(m))?[0];
            }
        }
        Ok(out)
    }

    /// The dims of `v`, static or symbolic.
    pub(crate) fn dims(&self, v: ValueId) -> Vec<Dim> {
        self.ty(v).dims.clone()
    }

    /// The constant value of `v`, if it is known at import time.
    pub(crate) fn const_of(&self, v: ValueId) -> Option<&HostTensor> {
        self.consts.get(&v).map(|c| self.program.constant(*c))
    }

    pub(crate) fn constant(&mut self, t: HostTensor, loc: &str) -> ValueId {
        let (v, id) = self.placeholder(t, loc);
        self.consts.insert(v, id);
        v
    }

    /// A program value holding `t` that the importer does not read as a constant.
    fn placeholder(&mut self, t: HostTensor, loc: &str) -> (ValueId, ConstId) {
        let ty = TensorType::new(t.element_type, &t.shape);
        let id = self.program.add_constant(t);
        (self.func.push_constant(id, ty, loc), id)
    }

    /// Emits an op; if all operands are constants, evaluates it now and emits the result instead.
    pub(crate) fn emit(
        &mut self,
        ctx: &NodeCtx,
        kind: OpKind,
        operands: &[ValueId],
    ) -> Result<ValueId, ImportError> {
        let unified = self.unify_sizes(ctx, &kind, operands)?;
        let operands = &unified[..];
        let types: Vec<&TensorType> = operands.iter().map(|v| self.ty(*v)).collect();
        let result = kind
            .infer(&types)
            .map_err(|m| ctx.err(m.to_string()))?
            .remove(0);
        let all_const = operands.iter().all(|v| self.consts.contains_key(v));
        let small = result
            .static_shape()
            .is_some_and(|s| s.iter().product::<usize>() <= FOLD_LIMIT);
        if all_const && small {
            let args: Vec<interp::Tensor> = operands
                .iter()
                .map(|v| interp::Tensor::from_host(self.const_of(*v).expect("checked constant")))
                .collect();
            let refs: Vec<&interp::Tensor> = args.iter().collect();
            let folded = interp::eval_op(&self.program, &kind, &refs).map_err(|m| ctx.err(m))?;
            return Ok(self.constant(folded.to_host(), &ctx.name));
        }
        let results = self
            .func
            .push_op(kind, operands, &ctx.name)
            .map_err(|m| ctx.err(m))?;
        Ok(results[0])
    }

    /// Decodes a `TensorProto`, reading external data relative to the model's folder.
    fn tensor(&self, t: &TensorProto) -> Result<HostTensor, String> {
        let et = element_type(t.data_type.unwrap_or(0))?;
        let shape: Vec<usize> = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("negative dim {d}")))
            .collect::<Result<_, _>>()?;
        let count = kiln_types::element_count(&shape).ok_or("too many elements")?;
        // 4- and 2-bit types are packed in files (low bits first), one per byte in kiln.
        let packed = match et.int_width() {
            Some((bits, _)) if bits < 8 => Some(bits),
            _ => None,
        };
        let bytes = if t.data_location == Some(1) {
            self.external_data(t)?
        } else if let Some(raw) = &t.raw_data {
            raw.clone()
        } else if packed.is_some() {
            t.int32_data.iter().map(|&v| v as u8).collect()
        } else {
            let mut out = Vec::with_capacity(count * et.byte_size());
            match et {
                ElementType::F32 => t
                    .float_data
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
                ElementType::I64 => t
                    .int64_data
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
                ElementType::I4
                | ElementType::U4
                | ElementType::I2
                | ElementType::U2
                | ElementType::F4E2M1FN => unreachable!("packed types are read above"),
                // Narrow floats travel as their bit patterns in int32_data.
                ElementType::F8E4M3FN
                | ElementType::F8E4M3FNUZ
                | ElementType::F8E5M2
                | ElementType::F8E5M2FNUZ
                | ElementType::F8E8M0FNU => t.int32_data.iter().for_each(|&v| out.push(v as u8)),
                ElementType::I32
                | ElementType::I16
                | ElementType::U16
                | ElementType::I8
                | ElementType::U8
                | ElementType::I1 => t
                    .int32_data
                    .iter()
                    .for_each(|&v| et.write_f64(v as f64, &mut out)),
                ElementType::U32 => t
                    .uint64_data
                    .iter()
                    .for_each(|&v| et.write_f64(v as f64, &mut out)),
                ElementType::F64 => t
                    .double_data
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
                ElementType::U64 => t
                    .uint64_data
                    .iter()
                    .for_each(|&v| out.extend_from_slice(&v.to_le_bytes())),
                // f16 and bf16 travel as their bit patterns in int32_data.
                ElementType::F16 | ElementType::BF16 => t
                    .int32_data
                    .iter()
                    .for_each(|&v| out.extend_from_slice(&(v as u16).to_le_bytes())),
            }
            out
        };
        let bytes = match packed {
            Some(bits) => unpack(&bytes, bits, count)?,
            None => bytes,
        };
        HostTensor::new(et, shape, bytes).map_err(|e| e.to_string())
    }

    fn external_data(&self, t: &TensorProto) -> Result<Vec<u8>, String> {
        let get = |k: &str| {
            t.external_data
                .iter()
                .find(|e| e.key.as_deref() == Some(k))
                .and_then(|e| e.value.clone())
        };
        let location = get("location").ok_or("external data without a location")?;
        let rel = Path::new(&location);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "external data location '{location}' must stay inside the model's folder"
            ));
        }
        let path = self.base_dir.clone().unwrap_or_default().join(rel);
        let data = std::fs::read(&path)
            .map_err(|e| format!("cannot read external data '{}': {e}", path.display()))?;
        let parse = |k: &str| {
            get(k)
                .map(|v| {
                    v.parse::<usize>()
                        .map_err(|_| format!("bad external data {k} '{v}'"))
                })
                .transpose()
        };
        let offset = parse("offset")?.unwrap_or(0);
        let length = parse("length")?.unwrap_or(data.len().saturating_sub(offset));
        let end = offset
            .checked_add(length)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                format!(
                    "external data range {offset}+{length} exceeds '{}' ({} bytes)",
                    path.display(),
                    data.len()
                )
            })?;
        Ok(data[offset..end].to_vec())
    }
}
