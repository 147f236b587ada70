//! Residuals added in place for CPU targets: a float matmul or convolution whose epilogue
//! adds a residual that nothing reads afterwards computes its result in the residual's
//! storage, adding the product to it (`accumulate`), and the epilogue no longer reads it.
//!
//! A residual block ends `relu(conv(x) + bias + r)`. Computed as written, the convolution
//! writes its output (whose lines the CPU first reads from memory to write them), then the
//! epilogue reads the output back and reads `r`: three passes over memory for one output,
//! serial after the GEMM. With the output placed where `r` lies, the GEMM reads each residual
//! line as it stores its tile there, and the epilogue reads lines already in cache: one pass
//! fewer (ONNX Runtime's fused `Conv` + `Sum` reuses the residual's buffer the same way).
//!
//! For dispatch `i`, output storage `o` and an epilogue input `r` of storage `s`:
//! - the op is an f32 matmul, or an f32 convolution with packed weights (not depthwise),
//!   and `r` is the output's view of another storage (shape, strides, offset), read nowhere
//!   else in `i`;
//! - the epilogue reads the op's result and `r` once each, as terms of one sum whose partial
//!   sums it reads nowhere else: `g((acc + b) + r)` becomes `g(acc' + b)` with
//!   `acc' = acc + r`, the same sum in another order (it may round differently in the last
//!   place);
//! - `s` is computed by dispatches before `i`, is not a result, and nothing reads it after
//!   `i`; `o` has `s`'s element type and size, only `i` writes it and only later dispatches
//!   read it.
//!
//! Then every view of `s` becomes one of `o`: `s`'s writers write it into `o`, its readers up
//! to `i` read it there, and `i` adds its product to it. A chain of blocks (each block's
//! output the next one's residual) shares one storage this way.

use crate::uses::Uses;
use kiln_kernel::{Dispatches, StorageId, StorageKind};
use kiln_types::ElementType;
use kiln_vmvx::format::{BinaryFn, Body, Inst, Kernel, KernelOp, View};

/// Adds residuals in place wherever the module docs allow, one dispatch at a time in order.
pub fn add_residuals_in_place(d: &mut Dispatches<Kernel>) {
    let mut uses = Uses::of(d);
    for i in 0..d.dispatches.len() {
        if let Some(plan) = plan(d, &uses, i) {
            apply(d, i, plan);
            uses = Uses::of(d);
        }
    }
}

/// What [`apply`] changes for one dispatch.
struct Plan {
    /// The epilogue input that is the residual.
    input: usize,
    /// The residual's storage, which becomes `into`.
    from: StorageId,
    into: StorageId,
    /// The epilogue with the residual added by the op instead.
    body: Body,
}

/// The residual dispatch `i` can add in place, if any.
fn plan(d: &Dispatches<Kernel>, uses: &Uses, i: usize) -> Option<Plan> {
    let dispatch = &d.dispatches[i];
    let k = &dispatch.kernel;
    let (out, epilogue) = match &k.op {
        KernelOp::MatMul {
            c,
            accumulate: false,
            epilogue: Some(e),
            ..
        } => (c, e),
        KernelOp::Conv2d {
            w,
            y,
            accumulate: false,
            epilogue: Some(e),
            ..
        } if w.shape.len() == 6 => (y, e),
        _ => return None,
    };
    if k.op.is_integer_product() || out.element_type != ElementType::F32 {
        return None;
    }
    let into = dispatch.operands[out.binding as usize];
    let views = k.views();
    epilogue.inputs.iter().enumerate().find_map(|(input, r)| {
        let from = dispatch.operands[r.binding as usize];
        let alone = views
            .iter()
            .filter(|v| dispatch.operands[v.binding as usize] == from)
            .count()
            == 1;
        if from == into || !alone || !laid_out_alike(r, out) || !movable(d, uses, i, from, into) {
            return None;
        }
        Some(Plan {
            input,
            from,
            into,
            body: added_by_op(&epilogue.body, input as u32 + 1)?,
        })
    })
}

/// Whether `r` views its storage as `out` views its own.
fn laid_out_alike(r: &View, out: &View) -> bool {
    r.element_type == out.element_type
        && r.shape == out.shape
        && r.strides == out.strides
        && r.offset == out.offset
}

/// Whether storage `from` (a residual of dispatch `i`) can live in `into` (`i`'s output).
fn movable(
    d: &Dispatches<Kernel>,
    uses: &Uses,
    i: usize,
    from: StorageId,
    into: StorageId,
) -> bool {
    let (s, o) = (&d.storages[from.index()], &d.storages[into.index()]);
    let writers = &uses.writers[from.index()];
    s.kind == StorageKind::Computed
        && o.kind == StorageKind::Computed
        && s.element_type == o.element_type
        && s.elements == o.elements
        && !d.results.contains(&from)
        && !writers.is_empty()
        && writers.iter().all(|&w| w < i)
        && uses.readers[from.index()].iter().all(|&r| r <= i)
        && uses.writers[into.index()] == [i]
        && uses.readers[into.index()].iter().all(|&r| r > i)
}

/// `body` (an epilogue: input 0 the op's result) with its input `residual` added by the op
/// instead, if the body reads the result and the residual once each, as two terms of one sum
/// (adds whose partial sums nothing else reads, the other terms independent of both). The
/// residual's input and its add go, later inputs one lower.
fn added_by_op(body: &Body, residual: u32) -> Option<Body> {
    let mut users = vec![vec![]; body.insts.len()];
    for (reg, inst) in body.insts.iter().enumerate() {
        for operand in inst.registers() {
            users[operand as usize].push(reg);
        }
    }
    let in_results = |reg: usize| body.results.iter().any(|&r| r as usize == reg);
    let read_once = |input: u32| {
        let mut reads = (0..body.insts.len()).filter(|&reg| body.insts[reg] == Inst::Input(input));
        match (reads.next(), reads.next()) {
            (Some(reg), None) if users[reg].len() == 1 && !in_results(reg) => Some(reg),
            _ => None,
        }
    };
    // The adds a register's value goes up through: its one user while that is an add, then
    // that add's one user while that is an add, and so on.
    let sums_above = |reg: usize| {
        let mut path = vec![];
        let mut at = reg;
        while let [user] = users[at][..] {
            if in_results(at) || !matches!(body.insts[user], Inst::Binary(BinaryFn::Add, ..)) {
                break;
            }
            path.push(user);
            at = user;
        }
        path
    };
    let (acc, r) = (read_once(0)?, read_once(residual)?);
    let above_r = sums_above(r);
    // Both terms of one sum: an add above the result that is above the residual too.
    sums_above(acc).iter().find(|s| above_r.contains(s))?;
    // The add of the residual goes (its other operand stands for it), and the residual's
    // input with it; registers after them move down.
    let add = users[r][0];
    let Inst::Binary(BinaryFn::Add, a, b) = body.insts[add] else {
        return None;
    };
    let other = if a as usize == r { b } else { a };
    let mut number = vec![0u32; body.insts.len()];
    let mut insts = Vec::with_capacity(body.insts.len() - 2);
    for (reg, inst) in body.insts.iter().enumerate() {
        if reg == r {
            continue;
        }
        if reg == add {
            number[reg] = number[other as usize];
            continue;
        }
        let inst = match *inst {
            Inst::Input(n) if n > residual => Inst::Input(n - 1),
            _ => inst.with_registers(|a| number[a as usize]),
        };
        number[reg] = insts.len() as u32;
        insts.push(inst);
    }
    Some(Body {
        insts,
        results: body.results.iter().map(|&r| number[r as usize]).collect(),
    })
}

/// Moves the residual of dispatch `i` into its output's storage and has `i` add to it.
fn apply(d: &mut Dispatches<Kernel>, i: usize, plan: Plan) {
    for dispatch in &mut d.dispatches {
        for operand in &mut dispatch.operands {
            if *operand == plan.from {
                *operand = plan.into;
            }
        }
    }
    let dispatch = &mut d.dispatches[i];
    if let KernelOp::MatMul {
        accumulate,
        epilogue,
        ..
    }
    | KernelOp::Conv2d {
        accumulate,
        epilogue,
        ..
    } = &mut dispatch.kernel.op
    {
        *accumulate = true;
        if let Some(e) = epilogue {
            e.inputs.remove(plan.input);
            e.body = plan.body;
            // An epilogue that only added the residual has nothing left to do.
            if e.inputs.is_empty() && e.body.is_identity() {
                *epilogue = None;
            }
        }
    }
    crate::renumber(dispatch);
}
