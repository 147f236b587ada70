//! `If`, `Loop` and `Scan`: subgraphs inlined where their structure is known at compile time,
//! run-time branches and loops of the control program ([`super::staging`]) otherwise.
//!
//! - `If` on a condition known at compile time keeps only the branch taken. On a run-time
//!   condition whose branches return the same types and hold no control flow, both branches
//!   are computed and each output is selected (ONNX subgraphs have no side effects, so this
//!   is the same function); other branches run as a run-time branch.
//! - `Loop` is unrolled when its trip count is a constant of at most [`UNROLL_LIMIT`] and
//!   its condition stays known; otherwise it runs as a run-time loop.
//! - `Scan` (version 9 on) is unrolled over a static scanned axis (at most [`MAX_UNROLL`]
//!   steps); over a length known only per call it runs as a run-time loop.
//!
//! A subgraph sees the values of the graphs around it by name; its own names are dropped once
//! it is imported.

use super::ops::{arg, reshape_to, slice_axis, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{OpKind, TensorType, ValueId};
use kiln_types::control::Stmt;
use kiln_types::{ElementType, HostTensor};

use super::proto::GraphProto;

/// Most iterations a Scan is unrolled into.
pub(crate) const MAX_UNROLL: usize = 4096;

/// Most iterations of a Loop with a constant trip count that is unrolled rather than run by
/// the control program.
const UNROLL_LIMIT: usize = 64;

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
        let epoch = self.epoch();
        let mut defined: Vec<String> = vec![];
        for init in &graph.initializer {
            let name = init.name.clone().unwrap_or_default();
            let t = self
                .tensor(init)
                .map_err(|m| ctx.err(format!("subgraph initializer '{name}': {m}")))?;
            let v = self.constant(t, &name);
            defined.push(name.clone());
            self.names.insert(name, v);
        }
        for (input, &v) in graph.input.iter().zip(args) {
            let name = input.name.clone().unwrap_or_default();
            defined.push(name.clone());
            self.names.insert(name, v);
        }
        defined.extend(graph.node.iter().flat_map(|n| n.output.iter().cloned()));
        let result = self.walk(&graph.node, &graph.output).and_then(|()| {
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
        if self.epoch() == epoch {
            self.names = outer;
        } else {
            // The graph was cut inside: the outer values still needed are in the new
            // segment's names already; drop the subgraph's own.
            for name in defined {
                self.names.remove(&name);
            }
        }
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
    if then_g.output.len() != else_g.output.len() {
        return Err(ctx.err(format!(
            "the branches return {} and {} values",
            then_g.output.len(),
            else_g.output.len()
        )));
    }
    if has_control_flow(then_g) || has_control_flow(else_g) {
        return if_at_run_time(im, ctx, cond, [then_g, else_g]);
    }
    // Small branches of one type are both computed and each output selected (no wait for
    // the condition); others branch at run time.
    let then_out = im.inline_graph(ctx, then_g, &[])?;
    let else_out = im.inline_graph(ctx, else_g, &[])?;
    let same = then_out
        .iter()
        .zip(&else_out)
        .all(|(&a, &b)| im.ty(a) == im.ty(b));
    if !same {
        return if_at_run_time(im, ctx, cond, [then_g, else_g]);
    }
    let flag = reshape_to(im, ctx, cond, vec![])?;
    let mut out = vec![];
    for (&a, &b) in then_out.iter().zip(&else_out) {
        out.push(Some(im.emit(ctx, OpKind::Select, &[flag, a, b])?));
    }
    Ok(out)
}

/// Whether `g` (or a subgraph of it) has an `If`, `Loop` or `Scan` node.
fn has_control_flow(g: &GraphProto) -> bool {
    g.node.iter().any(|n| {
        matches!(n.op_type.as_deref(), Some("If" | "Loop" | "Scan"))
            || n.attribute
                .iter()
                .any(|a| a.g.as_ref().is_some_and(has_control_flow))
    })
}

/// An `If` as a run-time branch of the control program: the segment so far ends (its
/// condition read back), each branch is a segment of its own writing the same registers, and
/// the outputs' types are what the branches agree on (a size they differ in becomes a symbol;
/// a rank they differ in is known only per call).
fn if_at_run_time(
    im: &mut Importer,
    ctx: &NodeCtx,
    cond: ValueId,
    branches: [&GraphProto; 2],
) -> Outputs {
    let cond_reg = im.new_register(Some(im.ty(cond).clone()));
    let carry = im.end_segment(&[(cond, cond_reg)])?;
    let flag = im.new_scalar();
    im.push_stmt(Stmt::Read {
        tensor: cond_reg,
        scalar: flag,
    });
    let n = branches[0].output.len();
    let regs: Vec<u32> = (0..n).map(|_| im.new_register(None)).collect();
    let mut bodies = vec![];
    let mut types = vec![];
    let mut refusal = None;
    for g in branches {
        im.open_block();
        let depth = im.block_depth();
        im.start_segment(&carry, &[], &ctx.name);
        match im.inline_graph(ctx, g, &[]) {
            Ok(outs) => {
                types.push(outs.iter().map(|&v| im.branch_type(v)).collect::<Vec<_>>());
                let exits: Vec<(ValueId, u32)> =
                    outs.into_iter().zip(regs.iter().copied()).collect();
                im.end_segment(&exits)?;
            }
            // A branch that cannot be built for these inputs (the other path of a model
            // exported for one configuration) fails the call that takes it.
            Err(e) => {
                im.truncate_blocks(depth);
                im.push_stmt(Stmt::Fail {
                    message: format!("node '{}' (If): this branch cannot run: {e}", ctx.name),
                });
                refusal.get_or_insert(e);
            }
        }
        bodies.push(im.close_block());
    }
    if types.is_empty() {
        return Err(refusal.unwrap_or_else(|| ctx.err("neither branch can be built")));
    }
    let else_body = bodies.pop().unwrap_or_default();
    let then_body = bodies.pop().unwrap_or_default();
    im.push_stmt(Stmt::If {
        cond: flag,
        then_body,
        else_body,
    });
    im.merge_types(ctx, &regs, &types)?;
    let values = im.start_segment(&carry, &regs, &ctx.name);
    Ok(values.into_iter().map(Some).collect())
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

/// Whether a loop body's condition output is known when its input is: the condition input
/// passed through (through Identity nodes too), or a constant.
fn static_condition(body: &GraphProto) -> bool {
    let Some(mut out) = body.output.first().and_then(|o| o.name.as_deref()) else {
        return false;
    };
    loop {
        if body.input.get(1).and_then(|i| i.name.as_deref()) == Some(out)
            || body
                .initializer
                .iter()
                .any(|i| i.name.as_deref() == Some(out))
        {
            return true;
        }
        let Some(n) = body.node.iter().find(|n| n.output.iter().any(|o| o == out)) else {
            return false;
        };
        match (n.op_type.as_deref(), n.input.first()) {
            (Some("Constant"), _) => return true,
            (Some("Identity"), Some(i)) => out = i,
            _ => return false,
        }
    }
}

pub(super) fn loop_(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let body = subgraph(ctx, "body")?;
    let n_carried = inputs.iter().skip(2).flatten().count();
    if body.output.len() < 1 + n_carried || body.input.len() != 2 + n_carried {
        return Err(ctx.err(format!(
            "the body takes {} inputs and returns {} values for {n_carried} loop-carried values",
            body.input.len(),
            body.output.len()
        )));
    }
    let max = inputs.first().copied().flatten();
    let trips = max.map(|m| im.const_of(m).and_then(|t| t.to_i64().first().copied()));
    let cond_input = inputs.get(1).copied().flatten();
    let cond = cond_input.map(|c| known_flag(im, c));
    let unrolls = matches!(trips, Some(Some(n)) if n <= UNROLL_LIMIT as i64)
        && !matches!(cond, Some(None))
        && static_condition(body)
        && !has_control_flow(body);
    if !unrolls {
        return loop_at_run_time(im, ctx, inputs, body);
    }
    let trips = match trips {
        Some(Some(n)) => usize::try_from(n.max(0)).unwrap_or(0),
        _ => MAX_UNROLL + 1,
    };
    let mut cond = cond.flatten().unwrap_or(true);
    let mut carried: Vec<ValueId> = inputs.iter().skip(2).flatten().copied().collect();
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
    let flag = |dirs: &Option<Vec<i64>>, k: usize| {
        dirs.as_ref().and_then(|d| d.get(k).copied()).unwrap_or(0) != 0
    };
    let mut scanned = vec![];
    let mut length = None;
    for (k, &x) in args[n_state..].iter().enumerate() {
        let dims = im.dims(x);
        let axis = scan_axis(ctx, &in_axes, k, dims.len())?;
        let reverse = flag(&in_dirs, k);
        let Some(n) = dims[axis].as_static() else {
            let scans = (0..n_scan)
                .map(|k| {
                    let x = args[n_state + k];
                    let axis = scan_axis(ctx, &in_axes, k, im.ty(x).rank())?;
                    Ok((x, axis, flag(&in_dirs, k)))
                })
                .collect::<Result<Vec<_>, ImportError>>()?;
            let outs = (0..n_scan_out)
                .map(|k| {
                    (
                        out_axes.as_ref().and_then(|a| a.get(k).copied()),
                        flag(&out_dirs, k),
                    )
                })
                .collect::<Vec<_>>();
            return scan_at_run_time(im, ctx, body, &args[..n_state], &scans, &outs);
        };
        if *length.get_or_insert(n) != n {
            return Err(ctx.err("scan inputs differ in sequence length"));
        }
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

/// A `Scan` over a length known only per call, run by the control program: the segment so
/// far ends with the states and the scanned inputs in registers, the body is a segment called
/// once per step with the states and each input's slice at the step (gathered; counting down
/// for reversed inputs), and its outputs are stacked after the loop (in reverse for reversed
/// outputs), then moved to their axes. `scans` holds each scanned input, its axis and
/// direction; `outs` each scan output's axis attribute and direction.
fn scan_at_run_time(
    im: &mut Importer,
    ctx: &NodeCtx,
    body: &GraphProto,
    states: &[ValueId],
    scans: &[(ValueId, usize, bool)],
    outs: &[(Option<i64>, bool)],
) -> Outputs {
    let state_types: Vec<TensorType> = states.iter().map(|&v| im.ty(v).clone()).collect();
    let seq = im.dims(scans[0].0)[scans[0].1].clone();
    let mut exits = vec![];
    let mut reg = |im: &mut Importer, v: ValueId| {
        let r = im.new_register(Some(im.ty(v).clone()));
        exits.push((v, r));
        r
    };
    let state_regs: Vec<u32> = states.iter().map(|&v| reg(im, v)).collect();
    let input_regs: Vec<u32> = scans.iter().map(|&(v, _, _)| reg(im, v)).collect();
    let carry = im.end_segment(&exits)?;
    let steps = im.steps_over(input_regs[0], scans[0].1);
    let out_regs: Vec<u32> = outs.iter().map(|_| im.new_register(None)).collect();
    im.open_block();
    let forward_reg = im.step_tensor(&steps, false);
    let backward_reg = im.step_tensor(&steps, true);
    let mut regs = vec![forward_reg, backward_reg];
    regs.extend(&state_regs);
    regs.extend(&input_regs);
    let params = im.start_segment(&carry, &regs, &ctx.name);
    let (at_step, rest) = params.split_at(2);
    let (state_params, input_params) = rest.split_at(states.len());
    let mut args = state_params.to_vec();
    for (&x, &(_, axis, reverse)) in input_params.iter().zip(scans) {
        let at = at_step[reverse as usize];
        args.push(im.emit(ctx, OpKind::Gather { axis }, &[x, at])?);
    }
    let body_outs = im.inline_graph(ctx, body, &args)?;
    for (k, (&v, was)) in body_outs.iter().zip(&state_types).enumerate() {
        if im.ranked_type(v).as_ref() != Some(was) {
            return Err(ctx.err(format!(
                "state {k} enters the body as {was} and leaves it as {}; a scan over a length known only per call keeps its states' types",
                im.ty(v)
            )));
        }
    }
    let elements: Vec<Option<TensorType>> = body_outs[states.len()..]
        .iter()
        .map(|&v| im.ranked_type(v))
        .collect();
    let exits: Vec<(ValueId, u32)> = body_outs
        .iter()
        .copied()
        .zip(state_regs.iter().chain(&out_regs).copied())
        .collect();
    im.end_segment(&exits)?;
    let stmts = im.close_block();
    let mut loop_scans = vec![];
    let mut stacked_regs = vec![];
    for ((&src, ty), &(_, reverse)) in out_regs.iter().zip(&elements).zip(outs) {
        let ty = ty
            .as_ref()
            .ok_or_else(|| ctx.err("a scan output has a rank known only per call"))?;
        im.set_register_type(src, Some(ty.clone()), ty.element_type);
        let scan = im.scan_into(src, ty, seq.clone(), reverse);
        stacked_regs.push(scan.dst);
        loop_scans.push(scan);
    }
    im.push_stmt(Stmt::Loop {
        max: Some(steps.count),
        cond: None,
        index: steps.index,
        body: stmts,
        scans: loop_scans,
    });
    let mut after = state_regs.clone();
    after.extend(&stacked_regs);
    let values = im.start_segment(&carry, &after, &ctx.name);
    let mut outputs: Vec<Option<ValueId>> =
        values[..states.len()].iter().copied().map(Some).collect();
    for (&v, &(axis, _)) in values[states.len()..].iter().zip(outs) {
        let rank = im.ty(v).rank();
        let axis = scan_axis(ctx, &axis.map(|a| vec![a]), 0, rank)?;
        let mut perm: Vec<usize> = (1..rank).collect();
        perm.insert(axis, 0);
        outputs.push(Some(if axis == 0 {
            v
        } else {
            im.emit(ctx, OpKind::Transpose { perm }, &[v])?
        }));
    }
    Ok(outputs)
}

/// A `Loop` run by the control program: the segment so far ends with the initial values in the
/// loop's registers (trip count and condition read back), the body is a segment called once per
/// iteration with the iteration number, the condition and the carried values, and its scan
/// outputs are stacked after the loop. A carried value whose size the body changes gets a
/// symbol for it (the body is imported again with it).
fn loop_at_run_time(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    body: &GraphProto,
) -> Outputs {
    let initial: Vec<ValueId> = inputs.iter().skip(2).flatten().copied().collect();
    let mut types: Vec<TensorType> = initial.iter().map(|&v| im.ty(v).clone()).collect();
    let mut exits = vec![];
    let carried: Vec<u32> = initial
        .iter()
        .map(|&v| {
            let r = im.new_register(Some(im.ty(v).clone()));
            exits.push((v, r));
            r
        })
        .collect();
    let bool_scalar = TensorType::new(ElementType::I1, &[]);
    let cond_reg;
    let mut reads = vec![];
    let mut max = None;
    let cond;
    let mut set = vec![];
    if let Some(m) = inputs.first().copied().flatten() {
        let s = im.new_scalar();
        match im.const_of(m).and_then(|t| t.to_i64().first().copied()) {
            Some(value) => set.push(Stmt::SetScalar { scalar: s, value }),
            None => {
                let r = im.new_register(Some(im.ty(m).clone()));
                exits.push((m, r));
                reads.push(Stmt::Read {
                    tensor: r,
                    scalar: s,
                });
            }
        }
        max = Some(s);
    }
    let flag = im.new_scalar();
    match inputs.get(1).copied().flatten() {
        Some(c) if im.const_of(c).is_none() => {
            cond_reg = im.new_register(Some(im.ty(c).clone()));
            exits.push((c, cond_reg));
            reads.push(Stmt::Read {
                tensor: cond_reg,
                scalar: flag,
            });
            cond = Some(flag);
        }
        given => {
            let value = given.and_then(|c| known_flag(im, c)).unwrap_or(true) as i64;
            cond_reg = im.new_register(Some(bool_scalar.clone()));
            set.push(Stmt::SetScalar {
                scalar: flag,
                value,
            });
            set.push(Stmt::Tensor {
                scalar: flag,
                element_type: ElementType::I1.code(),
                tensor: cond_reg,
            });
            cond = given.map(|_| flag);
        }
    }
    let carry = im.end_segment(&exits)?;
    for stmt in set.into_iter().chain(reads) {
        im.push_stmt(stmt);
    }
    let index = im.new_scalar();
    let index_reg = im.new_register(Some(TensorType::new(ElementType::I64, &[])));
    let n_scans = body.output.len() - 1 - carried.len();
    let scan_regs: Vec<u32> = (0..n_scans).map(|_| im.new_register(None)).collect();
    let functions = im.program.functions.len();
    let (stmts, scan_types) = 'attempts: {
        for attempt in 0..2 {
            for (&r, ty) in carried.iter().zip(&types) {
                im.set_register_type(r, Some(ty.clone()), ty.element_type);
            }
            im.open_block();
            im.push_stmt(Stmt::Tensor {
                scalar: index,
                element_type: ElementType::I64.code(),
                tensor: index_reg,
            });
            let mut regs = vec![index_reg, cond_reg];
            regs.extend(&carried);
            let args = im.start_segment(&carry, &regs, &ctx.name);
            let outs = im.inline_graph(ctx, body, &args)?;
            let mut changed = false;
            for (k, &v) in outs[1..1 + carried.len()].iter().enumerate() {
                let now = im.ranked_type(v).ok_or_else(|| {
                    ctx.err(format!(
                        "loop-carried value {k} has a rank known only per call"
                    ))
                })?;
                let was = &types[k];
                if now == *was {
                    continue;
                }
                if now.rank() != was.rank() || now.element_type != was.element_type {
                    return Err(ctx.err(format!(
                        "loop-carried value {k} enters the body as {was} and leaves it as {now}"
                    )));
                }
                let mut open = was.clone();
                for (d, e) in open.dims.iter_mut().zip(&now.dims) {
                    if d != e {
                        *d = im.fresh_symbol();
                    }
                }
                types[k] = open;
                changed = true;
            }
            if changed && attempt == 0 {
                im.close_block();
                im.program.functions.truncate(functions);
                continue;
            }
            let mut cond_out = outs[0];
            let cond_ty = im.register_type(cond_reg).unwrap_or(bool_scalar.clone());
            if im.ty(cond_out) != &cond_ty {
                let shape = cond_ty
                    .static_shape()
                    .ok_or_else(|| ctx.err("the loop condition must have a static shape"))?;
                cond_out = reshape_to(im, ctx, cond_out, shape)?;
            }
            let mut exits = vec![(cond_out, cond_reg)];
            exits.extend(
                outs[1..]
                    .iter()
                    .copied()
                    .zip(carried.iter().chain(&scan_regs).copied()),
            );
            let scan_types: Vec<Option<TensorType>> = outs[1 + carried.len()..]
                .iter()
                .map(|&v| im.ranked_type(v))
                .collect();
            im.end_segment(&exits)?;
            if let Some(c) = cond {
                im.push_stmt(Stmt::Read {
                    tensor: cond_reg,
                    scalar: c,
                });
            }
            break 'attempts (im.close_block(), scan_types);
        }
        return Err(ctx.err("the loop-carried values change size in every pass"));
    };
    let mut scans = vec![];
    let mut dsts = vec![];
    for (&src, ty) in scan_regs.iter().zip(&scan_types) {
        let ty = ty
            .as_ref()
            .ok_or_else(|| ctx.err("a scan output has a rank known only per call"))?;
        // The iteration count and a size that may differ per run get symbols of their own.
        let (open, count) = (im.open_type(ty), im.fresh_symbol());
        let scan = im.scan_into(src, &open, count, false);
        dsts.push(scan.dst);
        scans.push(scan);
    }
    im.push_stmt(Stmt::Loop {
        max,
        cond,
        index,
        body: stmts,
        scans,
    });
    let mut regs = carried.clone();
    regs.extend(dsts);
    let values = im.start_segment(&carry, &regs, &ctx.name);
    Ok(values.into_iter().map(Some).collect())
}
