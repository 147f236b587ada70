//! Control flow with compile-time structure: `If`, `Loop` and `Scan`, whose subgraphs are
//! inlined into the program.
//!
//! - `If` on a condition known at compile time keeps only the branch taken. On a run-time
//!   condition whose branches return the same types, both branches are computed and each
//!   output is selected (ONNX subgraphs have no side effects, so this is the same function);
//!   branches of different types need run-time control flow, which kiln does not have yet.
//! - `Loop` is unrolled when its trip count is known at compile time and its condition stays
//!   known in every iteration (at most [`MAX_UNROLL`] iterations).
//! - `Scan` (version 9 on) is unrolled over the scanned axis, whose length must be static.
//!
//! A subgraph sees the values of the graphs around it by name; its own names are dropped once
//! it is inlined.

use super::ops::{arg, reshape_to, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{OpKind, ValueId};
use kiln_types::{ElementType, HostTensor};

use super::proto::GraphProto;

/// Most iterations a Loop is unrolled into.
pub(crate) const MAX_UNROLL: usize = 4096;

impl Importer {
    /// Inlines `graph` with its formal inputs bound to `args`; returns its outputs.
    pub(crate) fn inline_graph(
        &mut self,
        ctx: &NodeCtx,
        graph: &GraphProto,
        args: &[ValueId],
    ) -> Result<Vec<ValueId>, ImportError> {
        if graph.input.len() != args.len() {
            return Err(ctx.err(format!(
                "the subgraph takes {} inputs, the node gives {}",
                graph.input.len(),
                args.len()
            )));
        }
        let outer = self.names.clone();
        for init in &graph.initializer {
            let name = init.name.clone().unwrap_or_default();
            let t = self
                .tensor(init)
                .map_err(|m| ctx.err(format!("subgraph initializer '{name}': {m}")))?;
            let v = self.constant(t, &name);
            self.names.insert(name, v);
        }
        for (input, &v) in graph.input.iter().zip(args) {
            self.names.insert(input.name.clone().unwrap_or_default(), v);
        }
        let result = graph
            .node
            .iter()
            .try_for_each(|node| self.node(node))
            .and_then(|()| {
                graph
                    .output
                    .iter()
                    .map(|o| {
                        let name = o.name.clone().unwrap_or_default();
                        self.names.get(&name).copied().ok_or_else(|| {
                            ctx.err(format!("subgraph output '{name}' is never produced"))
                        })
                    })
                    .collect()
            });
        self.names = outer;
        result
    }
}

fn subgraph<'a>(ctx: &'a NodeCtx, name: &str) -> Result<&'a GraphProto, ImportError> {
    ctx.attr(name)
        .and_then(|a| a.g.as_ref())
        .ok_or_else(|| ctx.err(format!("attribute '{name}' (a graph) is required")))
}

/// The value of a one-element boolean or integer tensor, if known at compile time.
fn known_flag(im: &Importer, v: ValueId) -> Option<bool> {
    let t = im.const_of(v)?;
    (t.element_count() == 1).then(|| t.to_f64()[0] != 0.0)
}

pub(super) fn if_else(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let cond = arg(ctx, inputs, 0)?;
    if im.ty(cond).element_type != ElementType::I1
        || im.shape(ctx, cond)?.iter().product::<usize>() != 1
    {
        return Err(ctx.err(format!(
            "the condition must be one boolean, got {}",
            im.ty(cond)
        )));
    }
    let (then_g, else_g) = (subgraph(ctx, "then_branch")?, subgraph(ctx, "else_branch")?);
    if let Some(taken) = known_flag(im, cond) {
        let g = if taken { then_g } else { else_g };
        return Ok(im
            .inline_graph(ctx, g, &[])?
            .into_iter()
            .map(Some)
            .collect());
    }
    let then_out = im.inline_graph(ctx, then_g, &[])?;
    let else_out = im.inline_graph(ctx, else_g, &[])?;
    if then_out.len() != else_out.len() {
        return Err(ctx.err(format!(
            "the branches return {} and {} values",
            then_out.len(),
            else_out.len()
        )));
    }
    let flag = reshape_to(im, ctx, cond, vec![])?;
    let mut out = vec![];
    for (i, (&a, &b)) in then_out.iter().zip(&else_out).enumerate() {
        if im.ty(a) != im.ty(b) {
            return Err(ctx.err(format!(
                "output {i} is {} in the then branch and {} in the else branch; choosing between different types needs run-time control flow, which kiln does not have yet (a condition known at compile time keeps one branch)",
                im.ty(a),
                im.ty(b)
            )));
        }
        out.push(Some(im.emit(ctx, OpKind::Select, &[flag, a, b])?));
    }
    Ok(out)
}

/// Stacks per-iteration values along a new leading axis.
fn stack(
    im: &mut Importer,
    ctx: &NodeCtx,
    parts: &[ValueId],
    axis: usize,
) -> Result<ValueId, ImportError> {
    let mut expanded = vec![];
    for &p in parts {
        let mut dims = im.shape(ctx, p)?;
        if axis > dims.len() {
            return Err(ctx.err(format!(
                "scan output axis {axis} is out of range for {}",
                im.ty(p)
            )));
        }
        dims.insert(axis, 1);
        expanded.push(reshape_to(im, ctx, p, dims)?);
    }
    match expanded[..] {
        [one] => Ok(one),
        _ => im.emit(ctx, OpKind::Concat { axis }, &expanded),
    }
}

pub(super) fn loop_(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let body = subgraph(ctx, "body")?;
    let trips = match inputs.first().copied().flatten() {
        None => None,
        Some(m) => Some(
            im.const_of(m)
                .and_then(|t| t.to_i64().first().copied())
                .ok_or_else(|| ctx.err("the trip count must be known at compile time (kiln unrolls loops; run-time loops are not supported yet)"))?,
        ),
    };
    let mut cond = match inputs.get(1).copied().flatten() {
        None => true,
        Some(c) => known_flag(im, c).ok_or_else(|| {
            ctx.err("the loop condition must be known at compile time (kiln unrolls loops)")
        })?,
    };
    let trips = match trips {
        Some(n) => usize::try_from(n.max(0)).unwrap_or(0),
        None => MAX_UNROLL + 1,
    };
    let mut carried: Vec<ValueId> = inputs.iter().skip(2).flatten().copied().collect();
    let n_carried = carried.len();
    if body.output.len() < 1 + n_carried || body.input.len() != 2 + n_carried {
        return Err(ctx.err(format!(
            "the body takes {} inputs and returns {} values for {n_carried} loop-carried values",
            body.input.len(),
            body.output.len()
        )));
    }
    let mut scans: Vec<Vec<ValueId>> = vec![vec![]; body.output.len() - 1 - n_carried];
    let mut i = 0;
    while cond && i < trips {
        if i == MAX_UNROLL {
            return Err(ctx.err(format!(
                "the loop runs more than {MAX_UNROLL} iterations; kiln unrolls loops and needs run-time loops for this one"
            )));
        }
        let iter = im.constant(HostTensor::from_i64(&[], &[i as i64]), &ctx.name);
        let flag = im.constant(
            HostTensor::from_f64(ElementType::I1, &[], &[1.0]),
            &ctx.name,
        );
        let mut args = vec![iter, flag];
        args.extend(&carried);
        let out = im.inline_graph(ctx, body, &args)?;
        cond = known_flag(im, out[0]).ok_or_else(|| {
            ctx.err("the body's condition output depends on run-time data (kiln unrolls loops)")
        })?;
        carried = out[1..1 + n_carried].to_vec();
        for (s, &v) in scans.iter_mut().zip(&out[1 + n_carried..]) {
            s.push(v);
        }
        i += 1;
    }
    let mut outputs: Vec<Option<ValueId>> = carried.into_iter().map(Some).collect();
    for s in scans {
        if s.is_empty() {
            return Err(ctx.err("a scan output of a loop that runs no iteration is not supported"));
        }
        outputs.push(Some(stack(im, ctx, &s, 0)?));
    }
    Ok(outputs)
}

/// Normalises an axis attribute list entry against `rank`.
fn scan_axis(
    ctx: &NodeCtx,
    axes: &Option<Vec<i64>>,
    i: usize,
    rank: usize,
) -> Result<usize, ImportError> {
    let a = axes.as_ref().and_then(|v| v.get(i).copied()).unwrap_or(0);
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    usize::try_from(n)
        .ok()
        .filter(|&n| n < rank)
        .ok_or_else(|| ctx.err(format!("scan axis {a} is out of range for rank {rank}")))
}

pub(super) fn scan(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    if ctx.opset < 9 {
        return Err(
            ctx.err("Scan version 8 (with a batch axis and sequence_lens) is not supported")
        );
    }
    let body = subgraph(ctx, "body")?;
    let args: Vec<ValueId> = inputs.iter().flatten().copied().collect();
    let n_scan = usize::try_from(ctx.int("num_scan_inputs", 0))
        .ok()
        .filter(|&n| n >= 1 && n <= args.len())
        .ok_or_else(|| ctx.err("num_scan_inputs must be between 1 and the number of inputs"))?;
    let n_state = args.len() - n_scan;
    let n_scan_out = body
        .output
        .len()
        .checked_sub(n_state)
        .ok_or_else(|| ctx.err("the body returns fewer values than there are states"))?;
    let (in_axes, in_dirs) = (
        ctx.ints("scan_input_axes"),
        ctx.ints("scan_input_directions"),
    );
    let (out_axes, out_dirs) = (
        ctx.ints("scan_output_axes"),
        ctx.ints("scan_output_directions"),
    );
    let mut scanned = vec![];
    let mut length = None;
    for (k, &x) in args[n_state..].iter().enumerate() {
        let dims = im.dims(x);
        let axis = scan_axis(ctx, &in_axes, k, dims.len())?;
        let n = dims[axis].as_static().ok_or_else(|| {
            ctx.err(format!(
                "the scanned axis of input {k} must be static, got {}",
                im.ty(x)
            ))
        })?;
        if *length.get_or_insert(n) != n {
            return Err(ctx.err("scan inputs differ in sequence length"));
        }
        let reverse = in_dirs
            .as_ref()
            .and_then(|d| d.get(k).copied())
            .unwrap_or(0)
            != 0;
        scanned.push((x, dims, axis, reverse));
    }
    let length = length.unwrap_or(0);
    if length > MAX_UNROLL {
        return Err(ctx.err(format!(
            "the scan runs {length} iterations; kiln unrolls at most {MAX_UNROLL}"
        )));
    }
    let mut state: Vec<ValueId> = args[..n_state].to_vec();
    let mut outs: Vec<Vec<ValueId>> = vec![vec![]; n_scan_out];
    for t in 0..length {
        let mut step_args = state.clone();
        for (x, dims, axis, reverse) in &scanned {
            let at = if *reverse { length - 1 - t } else { t };
            let slice = slice_axis(im, ctx, *x, dims, *axis, at, at + 1)?;
            let mut shape = im.shape(ctx, slice)?;
            shape.remove(*axis);
            step_args.push(reshape_to(im, ctx, slice, shape)?);
        }
        let out = im.inline_graph(ctx, body, &step_args)?;
        state = out[..n_state].to_vec();
        for (o, &v) in outs.iter_mut().zip(&out[n_state..]) {
            o.push(v);
        }
    }
    let mut outputs: Vec<Option<ValueId>> = state.into_iter().map(Some).collect();
    for (k, mut parts) in outs.into_iter().enumerate() {
        if parts.is_empty() {
            return Err(ctx.err("a scan over an empty sequence is not supported"));
        }
        if out_dirs
            .as_ref()
            .and_then(|d| d.get(k).copied())
            .unwrap_or(0)
            != 0
        {
            parts.reverse();
        }
        let rank = im.ty(parts[0]).rank() + 1;
        let axis = scan_axis(ctx, &out_axes, k, rank)?;
        outputs.push(Some(stack(im, ctx, &parts, axis)?));
    }
    Ok(outputs)
}
