//! The recurrent ops LSTM, GRU and RNN: one [`OpKind::Recurrent`] kernel over the whole
//! sequence where every target compiles one and the node allows it
//! ([`crate::ImportOptions::recurrent_kernels`]); else unrolled over a short sequence known at
//! compile time, loops of the control program otherwise.
//!
//! Per direction, the input projection of every time step (`X·Wᵀ` plus the biases that do not
//! depend on the state) is one matmul over `seq × batch` rows. Each step then multiplies the
//! state by `Rᵀ` (one matmul over the batch) and computes the gates elementwise, which
//! dispatch formation fuses into that matmul's epilogue. Every ONNX attribute is honoured:
//! `direction` (forward, reverse, bidirectional), `activations` with `activation_alpha` /
//! `activation_beta`, `clip`, `layout` 0 and 1, LSTM's `input_forget` and peepholes `P`,
//! GRU's `linear_before_reset`, initial states, and `sequence_lens` (a batch entry's state
//! stops changing after its length and its outputs there are zero, as ONNX Runtime computes).
//!
//! ONNX Runtime's `com.microsoft.DynamicQuantizeLSTM` is the same LSTM over 8-bit weights
//! (given transposed, with a scale per direction or per column): each product quantises its
//! float operand to `u8` on the fly, over all of it (the whole input sequence for the input
//! projection, the batch's state for each recurrent step), and sums integers, as ONNX Runtime
//! does ([`quantized_product`]).

use super::ops::{
    arg, bin, named_activation, reduce_over, reshape_dims, reshape_to, scalar_like, slice_axis, un,
    whole_dim_end, Outputs,
};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{BinaryOp, Dim, OpKind, ReduceKind, TensorType, UnaryOp, ValueId};
use kiln_types::control::Stmt;
use kiln_types::recurrent::{Activation as RecurrentActivation, Cell, Directions, RecurrentCell};
use kiln_types::{ElementType, HostTensor};

/// ONNX's default activations of `cell`, per direction.
fn default_activations(cell: Cell) -> &'static [&'static str] {
    match cell {
        Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        Cell::Gru => &["Sigmoid", "Tanh"],
        Cell::Rnn => &["Tanh"],
    }
}

/// One activation function with its parameters.
struct Activation {
    name: String,
    alpha: f64,
    beta: f64,
}

/// The activations of each direction; alphas and betas are consumed in order by the
/// functions that take them, the rest getting their ONNX defaults.
fn activations(
    ctx: &NodeCtx,
    cell: Cell,
    dirs: usize,
) -> Result<Vec<Vec<Activation>>, ImportError> {
    let per_dir = default_activations(cell).len();
    let names: Vec<String> = match ctx.attr("activations") {
        Some(a) if !a.strings.is_empty() => a
            .strings
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
        _ => (0..dirs)
            .flat_map(|_| default_activations(cell).iter().map(|s| s.to_string()))
            .collect(),
    };
    if names.len() != per_dir * dirs {
        return Err(ctx.err(format!(
            "needs {} activations ({per_dir} per direction), got {}",
            per_dir * dirs,
            names.len()
        )));
    }
    let floats = |key: &str| ctx.attr(key).map(|a| a.floats.clone()).unwrap_or_default();
    let (mut alphas, mut betas) = (
        floats("activation_alpha").into_iter(),
        floats("activation_beta").into_iter(),
    );
    let mut out: Vec<Activation> = vec![];
    for name in names {
        // ONNX spells them like the ops (`LeakyRelu`); ONNX Runtime also accepts any case.
        let canonical = [
            "Relu",
            "Tanh",
            "Sigmoid",
            "Softsign",
            "Softplus",
            "LeakyRelu",
            "ThresholdedRelu",
            "Elu",
            "HardSigmoid",
            "Affine",
            "ScaledTanh",
        ]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ctx.err(format!("activation '{name}' is not supported")))?;
        let (alpha, beta) = match canonical {
            "LeakyRelu" => (alphas.next().unwrap_or(0.01), 0.0),
            "ThresholdedRelu" | "Elu" => (alphas.next().unwrap_or(1.0), 0.0),
            "HardSigmoid" => (alphas.next().unwrap_or(0.2), betas.next().unwrap_or(0.5)),
            "Affine" => (alphas.next().unwrap_or(1.0), betas.next().unwrap_or(0.0)),
            "ScaledTanh" => (alphas.next().unwrap_or(1.0), betas.next().unwrap_or(1.0)),
            _ => (0.0, 0.0),
        };
        let name = canonical.to_string();
        out.push(Activation {
            name,
            alpha: alpha as f64,
            beta: beta as f64,
        });
    }
    let mut per_direction = vec![];
    while !out.is_empty() {
        per_direction.push(out.drain(..per_dir).collect());
    }
    Ok(per_direction)
}

/// The longest sequence known at compile time that is unrolled: each step's kernels then
/// fuse with their neighbours' and need no loop of the control program. Longer sequences
/// run as such a loop, whose compile time and module size do not grow with their length
/// (a speech model's 500 steps in two bidirectional GRUs took 117 s, 6.9 GB and a 1.7 GB
/// module unrolled). A target that runs straight-line programs only has every static
/// sequence unrolled ([`ImportOptions::straight_line`]).
///
/// [`ImportOptions::straight_line`]: crate::ImportOptions::straight_line
const UNROLLED_STEPS: usize = 16;

/// What a recurrent node needs while it is unrolled.
struct Rnn<'a> {
    ctx: &'a NodeCtx<'a>,
    cell: Cell,
    hidden: usize,
    clip: Option<f64>,
    /// LSTM: couple the input and forget gates (`f = 1 - i`).
    input_forget: bool,
    /// GRU: apply the reset gate after the recurrent matmul.
    linear_before_reset: bool,
    /// Whether each batch entry is still inside its sequence at step `t`, per step (`[batch, 1]`
    /// booleans); `None` when every sequence has the full length.
    active: Option<Vec<ValueId>>,
    /// DynamicQuantizeLSTM's quantised weights.
    quantized: Option<Quantized>,
}

impl Rnn<'_> {
    fn emit(
        &self,
        im: &mut Importer,
        kind: OpKind,
        operands: &[ValueId],
    ) -> Result<ValueId, ImportError> {
        im.emit(self.ctx, kind, operands)
    }

    fn bin(
        &self,
        im: &mut Importer,
        b: BinaryOp,
        x: ValueId,
        y: ValueId,
    ) -> Result<ValueId, ImportError> {
        bin(im, self.ctx, b, x, y)
    }

    /// Columns `[gate·H, (gate+count)·H)` of a `[rows, G·H]` value.
    fn gate(
        &self,
        im: &mut Importer,
        x: ValueId,
        gate: usize,
        count: usize,
    ) -> Result<ValueId, ImportError> {
        let dims = im.dims(x);
        let h = self.hidden;
        slice_axis(im, self.ctx, x, &dims, 1, gate * h, (gate + count) * h)
    }

    /// `a · w`, through [`quantized_product`] for quantised weights (with their `scale`).
    fn product(
        &self,
        im: &mut Importer,
        a: ValueId,
        w: ValueId,
        scale: Option<ValueId>,
    ) -> Result<ValueId, ImportError> {
        match scale {
            Some(s) => quantized_product(im, self.ctx, a, w, s),
            None => self.emit(im, OpKind::MatMul, &[a, w]),
        }
    }

    /// `x` clipped to `[-clip, clip]` when the node asks for it.
    fn clip(&self, im: &mut Importer, x: ValueId) -> Result<ValueId, ImportError> {
        let Some(c) = self.clip else { return Ok(x) };
        let (lo, hi) = (
            scalar_like(im, self.ctx, x, -c),
            scalar_like(im, self.ctx, x, c),
        );
        let t = self.bin(im, BinaryOp::Max, x, lo)?;
        self.bin(im, BinaryOp::Min, t, hi)
    }

    /// `act(clip(x))`.
    fn activate(
        &self,
        im: &mut Importer,
        act: &Activation,
        x: ValueId,
    ) -> Result<ValueId, ImportError> {
        let x = self.clip(im, x)?;
        named_activation(im, self.ctx, &act.name, [act.alpha, act.beta], x)
    }

    /// `new` where step `t` is inside the sequence, else `old`.
    fn hold(
        &self,
        im: &mut Importer,
        t: usize,
        new: ValueId,
        old: ValueId,
    ) -> Result<ValueId, ImportError> {
        match &self.active {
            Some(active) => self.emit(im, OpKind::Select, &[active[t], new, old]),
            None => Ok(new),
        }
    }
}

/// One direction's weights: `Wᵀ` `[I, G·H]`, `Rᵀ` `[H, G·H]`, and the biases split into the
/// part added to the input projection and (GRU with `linear_before_reset`) the recurrent
/// hidden gate's `Rbh`.
struct Weights {
    w_t: ValueId,
    r_t: ValueId,
    input_bias: ValueId,
    recurrent_h_bias: Option<ValueId>,
    peepholes: Option<ValueId>,
    /// For quantised weights (`w_t` and `r_t` then hold integers less their zero point, as
    /// floats): the scales of `W` and `R`, `[1, G·H]` or rank 0.
    w_scale: Option<ValueId>,
    r_scale: Option<ValueId>,
}

/// DynamicQuantizeLSTM's inputs past the LSTM's: the scales and zero points of `W` and `R`.
#[derive(Clone, Copy)]
struct Quantized {
    scales: [ValueId; 2],
    zero_points: [ValueId; 2],
}

/// `a · w` for `w` a matrix of integers less their zero point (held as floats) with scale
/// `w_scale`, as ONNX Runtime's dynamically quantised products compute it: `a` (any rank, all
/// of it) is quantised to `u8` with the range `[min(a, 0), max(a, 0)]` (scale `range / 255`, or
/// 1 for an empty range; zero point and values rounded half to even), the integers are
/// summed exactly (float sums of integers stay exact below 2²⁴), and the sums are scaled by
/// `a_scale · w_scale`.
fn quantized_product(
    im: &mut Importer,
    ctx: &NodeCtx,
    a: ValueId,
    w: ValueId,
    w_scale: ValueId,
) -> Result<ValueId, ImportError> {
    let all: Vec<usize> = (0..im.ty(a).rank()).collect();
    let c = |im: &mut Importer, v: f64| scalar_like(im, ctx, a, v);
    let zero = c(im, 0.0);
    let lo = reduce_over(im, ctx, ReduceKind::Min, a, all.clone(), false)?;
    let lo = bin(im, ctx, BinaryOp::Min, lo, zero)?;
    let hi = reduce_over(im, ctx, ReduceKind::Max, a, all, false)?;
    let hi = bin(im, ctx, BinaryOp::Max, hi, zero)?;
    let range = bin(im, ctx, BinaryOp::Sub, hi, lo)?;
    let levels = c(im, 255.0);
    let step = bin(im, ctx, BinaryOp::Div, range, levels)?;
    let empty = bin(im, ctx, BinaryOp::Equal, range, zero)?;
    let one = c(im, 1.0);
    let scale = im.emit(ctx, OpKind::Select, &[empty, one, step])?;
    let below = bin(im, ctx, BinaryOp::Sub, zero, lo)?;
    let zp = bin(im, ctx, BinaryOp::Div, below, scale)?;
    let zp = bin(im, ctx, BinaryOp::Max, zp, zero)?;
    let zp = bin(im, ctx, BinaryOp::Min, zp, levels)?;
    let zp = un(im, ctx, UnaryOp::Round, zp)?;
    let q = bin(im, ctx, BinaryOp::Div, a, scale)?;
    let (q_lo, q_hi) = (
        bin(im, ctx, BinaryOp::Sub, zero, zp)?,
        bin(im, ctx, BinaryOp::Sub, levels, zp)?,
    );
    let q = bin(im, ctx, BinaryOp::Max, q, q_lo)?;
    let q = bin(im, ctx, BinaryOp::Min, q, q_hi)?;
    // The quantised value less its zero point: the rounded quotient itself.
    let q = un(im, ctx, UnaryOp::Round, q)?;
    let sums = im.emit(ctx, OpKind::MatMul, &[q, w])?;
    let s = bin(im, ctx, BinaryOp::Mul, scale, w_scale)?;
    bin(im, ctx, BinaryOp::Mul, sums, s)
}

/// The `d`-th `[rows, cols]` matrix of a `[D, rows, cols]` input, or the `d`-th row of a
/// `[D, n]` one.
fn direction_slice(
    im: &mut Importer,
    ctx: &NodeCtx,
    v: ValueId,
    d: usize,
) -> Result<ValueId, ImportError> {
    let dims = im.dims(v);
    if dims.first().and_then(Dim::as_static).is_none_or(|n| n <= d) {
        return Err(ctx.err(format!(
            "{} must have a leading dim per direction",
            im.ty(v)
        )));
    }
    let s = slice_axis(im, ctx, v, &dims, 0, d, d + 1)?;
    reshape_dims(im, ctx, s, dims[1..].to_vec())
}

/// The LSTM, GRU and RNN builder.
pub(super) fn recurrent(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    recurrent_with(im, ctx, inputs, None)
}

/// `com.microsoft.DynamicQuantizeLSTM`: an LSTM whose inputs 8 to 11 are the scales and zero
/// points of its 8-bit `W` and `R` (see the module docs).
pub(super) fn dynamic_quantize_lstm(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Outputs {
    let q = Quantized {
        scales: [arg(ctx, inputs, 8)?, arg(ctx, inputs, 10)?],
        zero_points: [arg(ctx, inputs, 9)?, arg(ctx, inputs, 11)?],
    };
    recurrent_with(im, ctx, inputs, Some(q))
}

fn recurrent_with(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
    quantized: Option<Quantized>,
) -> Outputs {
    let cell = match ctx.op_type {
        "RNN" => Cell::Rnn,
        "GRU" => Cell::Gru,
        _ => Cell::Lstm,
    };
    let x = arg(ctx, inputs, 0)?;
    let (w, r) = (arg(ctx, inputs, 1)?, arg(ctx, inputs, 2)?);
    let opt = |i: usize| inputs.get(i).copied().flatten();
    let et = im.ty(x).element_type;
    if !et.is_float() {
        return Err(ctx.err(format!("needs float input, got {et}")));
    }
    let layout = if ctx.opset >= 14 {
        ctx.int("layout", 0)
    } else {
        0
    };
    if !matches!(layout, 0 | 1) {
        return Err(ctx.err(format!("layout {layout} must be 0 or 1")));
    }
    // Everything below works in layout 0: X is [seq, batch, input], states [D, batch, H].
    let to_layout0 = |im: &mut Importer, v: ValueId| -> Result<ValueId, ImportError> {
        if layout == 0 {
            return Ok(v);
        }
        let rank = im.ty(v).rank();
        if rank < 2 {
            return Err(ctx.err(format!(
                "layout 1 needs inputs of rank 2 or more, got {}",
                im.ty(v)
            )));
        }
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.swap(0, 1);
        im.emit(ctx, OpKind::Transpose { perm }, &[v])
    };
    let x = to_layout0(im, x)?;
    let x_dims = im.dims(x);
    let [seq_dim, batch, input] = &x_dims[..] else {
        return Err(ctx.err(format!("X must be 3-D, got {}", im.ty(x))));
    };
    let Some(input) = input.as_static() else {
        return Err(ctx.err(format!("needs a static input size, got {}", im.ty(x))));
    };
    let batch_dim = batch.clone();
    let dirs = match ctx.string("direction").as_deref().unwrap_or("forward") {
        "forward" => vec![false],
        "reverse" => vec![true],
        "bidirectional" => vec![false, true],
        other => return Err(ctx.err(format!("direction '{other}' is not supported"))),
    };
    let g = cell.gates();
    let rs = im.shape(ctx, r)?;
    let hidden = match ctx.attr("hidden_size").and_then(|a| a.i) {
        Some(h) => {
            usize::try_from(h).map_err(|_| ctx.err(format!("hidden_size {h} must be positive")))?
        }
        None if quantized.is_some() => *rs.get(1).unwrap_or(&0),
        None => *rs.get(2).unwrap_or(&0),
    };
    let ws = im.shape(ctx, w)?;
    // Quantised weights come transposed: [D, I, G·H] and [D, H, G·H].
    let (w_want, r_want) = match quantized {
        Some(_) => (
            [dirs.len(), input, g * hidden],
            [dirs.len(), hidden, g * hidden],
        ),
        None => (
            [dirs.len(), g * hidden, input],
            [dirs.len(), g * hidden, hidden],
        ),
    };
    if ws != w_want || rs != r_want {
        return Err(ctx.err(format!(
            "W {} and R {} do not fit {} direction(s), {g} gate(s) of hidden size {hidden} and input size {input}",
            im.ty(w),
            im.ty(r),
            dirs.len()
        )));
    }
    let clip = ctx.attr("clip").and_then(|a| a.f).map(f64::from);
    let acts = activations(ctx, cell, dirs.len())?;

    let mut rnn = Rnn {
        ctx,
        cell,
        hidden,
        clip,
        input_forget: cell == Cell::Lstm && ctx.int("input_forget", 0) != 0,
        linear_before_reset: cell == Cell::Gru && ctx.int("linear_before_reset", 0) != 0,
        active: None,
        quantized,
    };
    let parts = Parts {
        rnn: &rnn,
        x,
        seq: seq_dim.clone(),
        batch: batch_dim.clone(),
        weights: [w, r],
        bias: opt(3),
        peepholes: opt(7),
        lens: opt(4),
        initial: [opt(5), opt(6)],
        acts: &acts,
    };
    if let Some(outputs) = parts.as_one_kernel(im, &dirs, &to_layout0)? {
        return back_to_layout(im, ctx, cell, layout, outputs);
    }
    // A sequence length or batch known only per call, or a sequence too long to unroll, runs
    // as loops of the control program.
    let static_sizes = match (seq_dim.as_static(), batch_dim.as_static()) {
        // (A constant input's projection folds to a constant, which the loop cannot carry.)
        (Some(seq), Some(batch))
            if seq <= UNROLLED_STEPS || im.straight_line || im.const_of(x).is_some() =>
        {
            Some((seq, batch))
        }
        _ => None,
    };
    let Some((seq, batch)) = static_sizes else {
        let outputs = parts.run_as_loops(im, &dirs, &to_layout0)?;
        return back_to_layout(im, ctx, cell, layout, outputs);
    };
    if let Some(lens) = opt(4) {
        rnn.active = sequence_mask(im, ctx, lens, seq, batch)?;
    }
    let zeros = |im: &mut Importer| {
        let n = batch * hidden;
        im.constant(
            HostTensor::from_f64(et, &[batch, hidden], &vec![0.0; n]),
            &ctx.name,
        )
    };
    let initial = |im: &mut Importer, i: usize, d: usize| -> Result<ValueId, ImportError> {
        match opt(i) {
            Some(v) => {
                let v = to_layout0(im, v)?;
                direction_slice(im, ctx, v, d)
            }
            None => Ok(zeros(im)),
        }
    };

    let mut ys = vec![];
    let mut final_h = vec![];
    let mut final_c = vec![];
    for (d, &reverse) in dirs.iter().enumerate() {
        let weights = direction_weights(im, &rnn, [w, r], opt(3), opt(7), d)?;
        // The input projection of every step at once: [seq·batch, I] · [I, G·H] + bias.
        let flat = reshape_to(im, ctx, x, vec![seq * batch, input])?;
        let proj = rnn.product(im, flat, weights.w_t, weights.w_scale)?;
        let proj = rnn.bin(im, BinaryOp::Add, proj, weights.input_bias)?;
        let mut h = initial(im, 5, d)?;
        let mut c = initial(im, 6, d)?;
        let mut outputs = vec![None; seq];
        let steps: Vec<usize> = if reverse {
            (0..seq).rev().collect()
        } else {
            (0..seq).collect()
        };
        for t in steps {
            let dims = im.dims(proj);
            let xt = slice_axis(im, ctx, proj, &dims, 0, t * batch, (t + 1) * batch)?;
            let (new_h, new_c) = step(im, &rnn, &weights, &acts[d], xt, [h, c])?;
            let held_h = rnn.hold(im, t, new_h, h)?;
            if cell == Cell::Lstm {
                c = rnn.hold(im, t, new_c, c)?;
            }
            let zero = zeros(im);
            outputs[t] = Some(rnn.hold(im, t, new_h, zero)?);
            h = held_h;
        }
        let steps: Vec<ValueId> = outputs.into_iter().flatten().collect();
        let steps: Vec<ValueId> = steps
            .into_iter()
            .map(|y| reshape_to(im, ctx, y, vec![1, 1, batch, hidden]))
            .collect::<Result<_, _>>()?;
        ys.push(concat(im, ctx, &steps, 0)?);
        final_h.push(reshape_to(im, ctx, h, vec![1, batch, hidden])?);
        if cell == Cell::Lstm {
            final_c.push(reshape_to(im, ctx, c, vec![1, batch, hidden])?);
        }
    }
    back_to_layout(im, ctx, cell, layout, [ys, final_h, final_c])
}

/// The node's outputs from each direction's `[Y, Y_h, Y_c]` parts (in layout 0): directions
/// concatenated, then transposed back to `layout`.
fn back_to_layout(
    im: &mut Importer,
    ctx: &NodeCtx,
    cell: Cell,
    layout: i64,
    [ys, final_h, final_c]: [Vec<ValueId>; 3],
) -> Outputs {
    let y = concat(im, ctx, &ys, 1)?;
    let yh = concat(im, ctx, &final_h, 0)?;
    let back = |im: &mut Importer, v: ValueId, perm: Vec<usize>| -> Result<ValueId, ImportError> {
        if layout == 0 {
            Ok(v)
        } else {
            im.emit(ctx, OpKind::Transpose { perm }, &[v])
        }
    };
    let mut outputs = vec![
        Some(back(im, y, vec![2, 0, 1, 3])?),
        Some(back(im, yh, vec![1, 0, 2])?),
    ];
    if cell == Cell::Lstm {
        let yc = concat(im, ctx, &final_c, 0)?;
        outputs.push(Some(back(im, yc, vec![1, 0, 2])?));
    }
    Ok(outputs)
}

/// A recurrent node over a sequence whose length is known only per call.
struct Parts<'a> {
    rnn: &'a Rnn<'a>,
    x: ValueId,
    seq: Dim,
    batch: Dim,
    weights: [ValueId; 2],
    bias: Option<ValueId>,
    peepholes: Option<ValueId>,
    lens: Option<ValueId>,
    initial: [Option<ValueId>; 2],
    acts: &'a [Vec<Activation>],
}

impl Parts<'_> {
    /// The node as one [`OpKind::Recurrent`] where every target compiles it and the node
    /// allows it (see [`ImportOptions::recurrent_kernels`]); `None` otherwise. Each
    /// direction's input projection of every step is one matmul before it, written straight
    /// into its part of the kernel's operand, whose bias the kernel adds (one batched matmul
    /// for both directions ran 1.3 ms slower in the zoo's speech model, and a bias added to
    /// the projections a pass of its own, 0.56 ms). Returns
    /// `[Y, Y_h, Y_c]` (in layout 0), each one part.
    ///
    /// [`ImportOptions::recurrent_kernels`]: crate::ImportOptions::recurrent_kernels
    fn as_one_kernel(
        &self,
        im: &mut Importer,
        dirs: &[bool],
        to_layout0: &dyn Fn(&mut Importer, ValueId) -> Result<ValueId, ImportError>,
    ) -> Result<Option<[Vec<ValueId>; 3]>, ImportError> {
        let (rnn, ctx) = (self.rnn, self.rnn.ctx);
        let clip = match rnn.clip {
            Some(c) if c > 0.0 => Some(c as f32),
            Some(_) => return Ok(None),
            None => None,
        };
        let activations: Option<Vec<_>> = self
            .acts
            .iter()
            .flatten()
            .map(|a| RecurrentActivation::from_name(&a.name))
            .collect();
        let directions = match dirs {
            [false] => Directions::Forward,
            [true] => Directions::Reverse,
            _ => Directions::Bidirectional,
        };
        let full_lengths = match (self.lens, self.seq.as_static()) {
            (None, _) => true,
            (Some(l), Some(seq)) => im
                .const_of(l)
                .is_some_and(|t| t.to_i64().iter().all(|&n| n == seq as i64)),
            (Some(_), None) => false,
        };
        let et = im.ty(self.x).element_type;
        let (Some(activations), true, true, None, ElementType::F32) = (
            activations,
            im.recurrent_kernels,
            full_lengths,
            rnn.quantized,
            et,
        ) else {
            return Ok(None);
        };
        let cell = RecurrentCell {
            cell: rnn.cell,
            directions,
            activations,
            clip,
            input_forget: rnn.input_forget,
            linear_before_reset: rnn.linear_before_reset,
        };
        let (h, gh) = (rnn.hidden, rnn.cell.gates() * rnn.hidden);
        let extra_len = cell.cell.extra_gates() * h;
        // The initial states first: one the kernel cannot take leaves the node to the steps
        // before anything else is emitted.
        let state = vec![Dim::Static(dirs.len()), self.batch.clone(), Dim::Static(h)];
        let mut initial = vec![];
        for (k, init) in self.initial.iter().enumerate() {
            initial.push(match init {
                Some(v) => {
                    let v = to_layout0(im, *v)?;
                    // The kernel takes states of exactly [D, batch, H]; one that broadcasts
                    // or names its batch otherwise goes through the steps' elementwise ops.
                    if im.dims(v) != state {
                        return Ok(None);
                    }
                    v
                }
                None => {
                    let loc = format!("{}_state{k}", ctx.name);
                    let zero = im.constant(HostTensor::from_f64(et, &[], &[0.0]), &loc);
                    let shape = state.clone();
                    rnn.emit(im, OpKind::Broadcast { shape }, &[zero])?
                }
            });
        }
        let (seq, batch) = (self.seq.clone(), self.batch.clone());
        let input = im.dims(self.x)[2].clone();
        let steps = Dim::from_expr(seq.expr() * batch.expr())
            .ok_or_else(|| ctx.err("the sequence is too long"))?;
        let flat = reshape_dims(im, ctx, self.x, vec![steps, input])?;
        let one = Dim::Static(1);
        // Per direction: the input projection of every step (one matmul, which then writes
        // straight into its part of the stack; the kernel adds the bias), R^T and the biases,
        // each with a leading dim of 1, stacked.
        let mut stacks: [Vec<ValueId>; 4] = Default::default();
        for d in 0..dirs.len() {
            let wt = direction_weights(im, rnn, self.weights, self.bias, self.peepholes, d)?;
            let proj = rnn.emit(im, OpKind::MatMul, &[flat, wt.w_t])?;
            let zeros = || HostTensor::from_f64(et, &[1, 1, extra_len], &vec![0.0; extra_len]);
            let extra = match (wt.peepholes, wt.recurrent_h_bias) {
                (Some(v), _) | (None, Some(v)) => v,
                (None, None) => im.constant(zeros(), &ctx.name),
            };
            let shaped = [
                (
                    proj,
                    vec![one.clone(), seq.clone(), batch.clone(), Dim::Static(gh)],
                ),
                (wt.r_t, vec![one.clone(), Dim::Static(h), Dim::Static(gh)]),
                (
                    wt.input_bias,
                    vec![one.clone(), one.clone(), Dim::Static(gh)],
                ),
                (
                    extra,
                    vec![one.clone(), one.clone(), Dim::Static(extra_len)],
                ),
            ];
            for (stack, (v, dims)) in stacks.iter_mut().zip(shaped) {
                stack.push(reshape_dims(im, ctx, v, dims)?);
            }
        }
        let [proj, r_all, input_bias, extra] = stacks.map(|parts| concat(im, ctx, &parts, 0));
        let proj = proj?;
        let biases = im.emit(ctx, OpKind::Concat { axis: 2 }, &[input_bias?, extra?])?;
        let all = rnn.emit(
            im,
            OpKind::Recurrent(cell),
            &[proj, r_all?, initial[0], initial[1], biases],
        )?;
        // Rows of the result: final h, final c, then each step's h.
        let dims = im.dims(all);
        let rows_from = |im: &mut Importer, start: i64| {
            let mut starts = vec![0; 4];
            starts[0] = start;
            let ends = dims.iter().map(whole_dim_end).collect();
            im.emit(
                ctx,
                OpKind::Slice {
                    starts,
                    ends,
                    steps: vec![1; 4],
                },
                &[all],
            )
        };
        let first_row = |im: &mut Importer, v: ValueId| -> Result<ValueId, ImportError> {
            let mut shape = vec![Dim::Static(1)];
            shape.extend(state.iter().cloned());
            let row = im.emit(ctx, OpKind::Take { shape }, &[v])?;
            reshape_dims(im, ctx, row, state.clone())
        };
        let ys = rows_from(im, 2)?;
        let final_h = first_row(im, all)?;
        let final_c = rows_from(im, 1)?;
        let final_c = first_row(im, final_c)?;
        Ok(Some([vec![ys], vec![final_h], vec![final_c]]))
    }

    /// Each direction as a loop of the control program: the input projection of every step
    /// is one matmul before the loop; the body gathers its step's rows, computes the gates
    /// and holds states past each entry's sequence length; the outputs of the steps are
    /// stacked (in time order, for the reverse direction too). Returns `[Y, Y_h, Y_c]` parts
    /// per direction.
    fn run_as_loops(
        &self,
        im: &mut Importer,
        dirs: &[bool],
        to_layout0: &dyn Fn(&mut Importer, ValueId) -> Result<ValueId, ImportError>,
    ) -> Result<[Vec<ValueId>; 3], ImportError> {
        let (rnn, ctx) = (self.rnn, self.rnn.ctx);
        let (batch, hidden) = (self.batch.clone(), rnn.hidden);
        let et = im.ty(self.x).element_type;
        let lens = match self.lens {
            Some(l) => Some(reshape_dims(
                im,
                ctx,
                l,
                vec![batch.clone(), Dim::Static(1)],
            )?),
            None => None,
        };
        // Every direction's values before the loops, which run one after the other: per
        // direction the states, the projection and the recurrent weights.
        const PER_DIRECTION: usize = 7;
        let mut reads: Vec<Option<ValueId>> = vec![];
        for d in 0..dirs.len() {
            let weights = direction_weights(im, rnn, self.weights, self.bias, self.peepholes, d)?;
            let proj = rnn.product(im, self.x, weights.w_t, weights.w_scale)?;
            let proj = rnn.bin(im, BinaryOp::Add, proj, weights.input_bias)?;
            for (k, init) in self.initial.iter().enumerate() {
                reads.push(Some(match init {
                    Some(v) => {
                        let v = to_layout0(im, *v)?;
                        direction_slice(im, ctx, v, d)?
                    }
                    None => {
                        let loc = format!("{}_state{k}", ctx.name);
                        let zero = im.constant(HostTensor::from_f64(et, &[], &[0.0]), &loc);
                        let shape = vec![batch.clone(), Dim::Static(hidden)];
                        rnn.emit(im, OpKind::Broadcast { shape }, &[zero])?
                    }
                }));
            }
            reads.extend([
                Some(proj),
                Some(weights.r_t),
                weights.recurrent_h_bias,
                weights.peepholes,
                weights.r_scale,
            ]);
        }
        reads.push(lens);
        // States travel in registers (the loops update them); constants are made again
        // inside the bodies.
        let carried: Vec<bool> = (0..reads.len())
            .map(|i| i % PER_DIRECTION < 2 && i < dirs.len() * PER_DIRECTION)
            .collect();
        let outer = im.outer_values(&reads, &carried);
        let carry = im.end_segment(&outer.exits())?;
        let row = TensorType {
            element_type: et,
            dims: vec![batch.clone(), Dim::Static(hidden)],
        };
        let mut results = vec![];
        for (d, &reverse) in dirs.iter().enumerate() {
            let at = |k: usize| d * PER_DIRECTION + k;
            let (h_reg, c_reg) = (
                outer.register(at(0)).expect("a state"),
                outer.register(at(1)).expect("a state"),
            );
            let projection = outer.register(at(2)).expect("the projection is computed");
            let steps = im.steps_over(projection, 0);
            let y_reg = im.new_register(Some(row.clone()));
            im.open_block();
            let step_reg = im.step_tensor(&steps, reverse);
            let t = im.start_segment(&carry, &[step_reg], &ctx.name)[0];
            let mut picks: Vec<usize> = (0..PER_DIRECTION).map(at).collect();
            picks.push(reads.len() - 1);
            let inside = outer.inside(im, &picks);
            let [h, c, proj, r_t, recurrent_h_bias, peepholes, r_scale, lens] = inside[..] else {
                unreachable!("eight values were picked");
            };
            let (h, c, proj) = (
                h.expect("given"),
                c.expect("given"),
                proj.expect("computed"),
            );
            let inner = Weights {
                w_t: proj,
                r_t: r_t.expect("R is given"),
                input_bias: proj,
                recurrent_h_bias,
                peepholes,
                w_scale: None,
                r_scale,
            };
            let xt = rnn.emit(im, OpKind::Gather { axis: 0 }, &[proj, t])?;
            let (new_h, new_c) = step(im, rnn, &inner, &self.acts[d], xt, [h, c])?;
            let (held_h, held_c, y) = match lens {
                Some(lens) => {
                    let lens_et = im.ty(lens).element_type;
                    let tl = im.emit(ctx, OpKind::Cast(lens_et), &[t])?;
                    let active = bin(im, ctx, BinaryOp::Less, tl, lens)?;
                    let held_h = rnn.emit(im, OpKind::Select, &[active, new_h, h])?;
                    let held_c = rnn.emit(im, OpKind::Select, &[active, new_c, c])?;
                    let zero = scalar_like(im, ctx, new_h, 0.0);
                    let zeros = rnn.bin(im, BinaryOp::Mul, new_h, zero)?;
                    let y = rnn.emit(im, OpKind::Select, &[active, new_h, zeros])?;
                    (held_h, held_c, y)
                }
                None => (new_h, new_c, new_h),
            };
            let mut exits = vec![(held_h, h_reg), (y, y_reg)];
            if rnn.cell == Cell::Lstm {
                exits.push((held_c, c_reg));
            }
            im.end_segment(&exits)?;
            let body = im.close_block();
            let scan = im.scan_into(y_reg, &row, self.seq.clone(), reverse);
            let ys_reg = scan.dst;
            im.push_stmt(Stmt::Loop {
                max: Some(steps.count),
                cond: None,
                index: steps.index,
                body,
                scans: vec![scan],
            });
            results.extend([ys_reg, h_reg, c_reg]);
        }
        let after = im.start_segment(&carry, &results, &ctx.name);
        let mut parts: [Vec<ValueId>; 3] = Default::default();
        for values in after.chunks(3) {
            // The sizes as this segment names them (a size expression became a symbol).
            let [seq, batch, _] = &im.dims(values[0])[..] else {
                unreachable!("the stacked outputs are [seq, batch, hidden]");
            };
            let (seq, batch) = (seq.clone(), batch.clone());
            let y_dims = vec![seq, Dim::Static(1), batch.clone(), Dim::Static(hidden)];
            parts[0].push(reshape_dims(im, ctx, values[0], y_dims)?);
            let state = vec![Dim::Static(1), batch.clone(), Dim::Static(hidden)];
            parts[1].push(reshape_dims(im, ctx, values[1], state.clone())?);
            if rnn.cell == Cell::Lstm {
                parts[2].push(reshape_dims(im, ctx, values[2], state)?);
            }
        }
        Ok(parts)
    }
}

fn concat(
    im: &mut Importer,
    ctx: &NodeCtx,
    parts: &[ValueId],
    axis: usize,
) -> Result<ValueId, ImportError> {
    match parts {
        [one] => Ok(*one),
        _ => im.emit(ctx, OpKind::Concat { axis }, parts),
    }
}

/// Per step, whether each batch entry is inside its sequence (`t < sequence_lens[b]`), as
/// `[batch, 1]` booleans; `None` when the lengths are constants that cover every step.
fn sequence_mask(
    im: &mut Importer,
    ctx: &NodeCtx,
    lens: ValueId,
    seq: usize,
    batch: usize,
) -> Result<Option<Vec<ValueId>>, ImportError> {
    if im.shape(ctx, lens)? != [batch] {
        return Err(ctx.err(format!(
            "sequence_lens must be [{batch}], got {}",
            im.ty(lens)
        )));
    }
    if let Some(t) = im.const_of(lens) {
        let values = t.to_i64();
        if let Some(bad) = values.iter().find(|&&n| n < 0 || n as usize > seq) {
            return Err(ctx.err(format!("sequence length {bad} is outside 0..={seq}")));
        }
        if values.iter().all(|&n| n as usize == seq) {
            return Ok(None);
        }
    }
    let et = im.ty(lens).element_type;
    let lens = reshape_to(im, ctx, lens, vec![batch, 1])?;
    let mut out = vec![];
    for t in 0..seq {
        let step = im.constant(HostTensor::from_f64(et, &[], &[t as f64]), &ctx.name);
        out.push(bin(im, ctx, BinaryOp::Less, step, lens)?);
    }
    Ok(Some(out))
}

/// Direction `d`'s transposed weights `[W, R]`, biases `b` and peepholes `p`.
fn direction_weights(
    im: &mut Importer,
    rnn: &Rnn,
    [w, r]: [ValueId; 2],
    b: Option<ValueId>,
    p: Option<ValueId>,
    d: usize,
) -> Result<Weights, ImportError> {
    let ctx = rnn.ctx;
    let (g, h) = (rnn.cell.gates(), rnn.hidden);
    let ([w_t, r_t], [w_scale, r_scale]) = match rnn.quantized {
        Some(q) => {
            let (w_t, w_scale) = quantized_weights(im, ctx, w, q.scales[0], q.zero_points[0], d)?;
            let (r_t, r_scale) = quantized_weights(im, ctx, r, q.scales[1], q.zero_points[1], d)?;
            ([w_t, r_t], [Some(w_scale), Some(r_scale)])
        }
        None => {
            let mut t = [w, r];
            for m in &mut t {
                let md = direction_slice(im, ctx, *m, d)?;
                *m = im.emit(ctx, OpKind::Transpose { perm: vec![1, 0] }, &[md])?;
            }
            (t, [None, None])
        }
    };
    let et = im.ty(w_t).element_type;
    let (input_bias, recurrent_h_bias) = match b {
        None => (
            im.constant(
                HostTensor::from_f64(et, &[g * h], &vec![0.0; g * h]),
                &ctx.name,
            ),
            None,
        ),
        Some(b) => {
            let bd = direction_slice(im, ctx, b, d)?;
            let bd = reshape_to(im, ctx, bd, vec![1, 2 * g * h])?;
            let wb = rnn.gate(im, bd, 0, g)?;
            let rb = rnn.gate(im, bd, g, g)?;
            if rnn.linear_before_reset {
                // Rbh stays inside the reset gate's product.
                let rb_zr = rnn.gate(im, rb, 0, 2)?;
                let zr = rnn.gate(im, wb, 0, 2)?;
                let zr = rnn.bin(im, BinaryOp::Add, zr, rb_zr)?;
                let wbh = rnn.gate(im, wb, 2, 1)?;
                let bias = im.emit(ctx, OpKind::Concat { axis: 1 }, &[zr, wbh])?;
                (bias, Some(rnn.gate(im, rb, 2, 1)?))
            } else {
                (rnn.bin(im, BinaryOp::Add, wb, rb)?, None)
            }
        }
    };
    let peepholes = match p {
        Some(p) if rnn.cell == Cell::Lstm => {
            let pd = direction_slice(im, ctx, p, d)?;
            Some(reshape_to(im, ctx, pd, vec![1, 3 * h])?)
        }
        _ => None,
    };
    Ok(Weights {
        w_t,
        r_t,
        input_bias,
        recurrent_h_bias,
        peepholes,
        w_scale,
        r_scale,
    })
}

/// Direction `d` of DynamicQuantizeLSTM's weights `w` (`[D, in, G·H]` 8-bit integers): the
/// integers less their zero point (the direction's first, as ONNX Runtime reads it) as f32,
/// and the scale, `[1, G·H]` per column or rank 0 per direction.
fn quantized_weights(
    im: &mut Importer,
    ctx: &NodeCtx,
    w: ValueId,
    scale: ValueId,
    zero_point: ValueId,
    d: usize,
) -> Result<(ValueId, ValueId), ImportError> {
    let wd = direction_slice(im, ctx, w, d)?;
    let zps = im
        .const_of(zero_point)
        .ok_or_else(|| ctx.err("the weights' zero points must be constants"))?
        .to_f64();
    let per_direction = zps.len() / im.shape(ctx, w)?[0].max(1);
    let zp = *zps
        .get(d * per_direction)
        .ok_or_else(|| ctx.err("a zero point is missing for a direction"))?;
    let wd = super::ops::cast_to(im, ctx, wd, ElementType::F32)?;
    let zp = scalar_like(im, ctx, wd, zp);
    let less = bin(im, ctx, BinaryOp::Sub, wd, zp)?;
    let sd = direction_slice(im, ctx, scale, d)?;
    let sd = super::ops::cast_to(im, ctx, sd, ElementType::F32)?;
    let sd = match im.shape(ctx, sd)?[..] {
        [] => sd,
        [n] => reshape_to(im, ctx, sd, vec![1, n])?,
        _ => {
            return Err(ctx.err(format!(
                "a weight scale must be per direction or per column, got {}",
                im.ty(scale)
            )))
        }
    };
    Ok((less, sd))
}

/// One time step: the new hidden state and (LSTM) cell state from the step's input
/// projection `xt` `[batch, G·H]` and the previous states `[h, c]`.
fn step(
    im: &mut Importer,
    rnn: &Rnn,
    wt: &Weights,
    acts: &[Activation],
    xt: ValueId,
    [h, c]: [ValueId; 2],
) -> Result<(ValueId, ValueId), ImportError> {
    let ctx = rnn.ctx;
    let mm = |im: &mut Importer, a: ValueId, b: ValueId| im.emit(ctx, OpKind::MatMul, &[a, b]);
    match rnn.cell {
        Cell::Rnn => {
            let rec = rnn.product(im, h, wt.r_t, wt.r_scale)?;
            let pre = rnn.bin(im, BinaryOp::Add, xt, rec)?;
            Ok((rnn.activate(im, &acts[0], pre)?, c))
        }
        Cell::Lstm => {
            let rec = rnn.product(im, h, wt.r_t, wt.r_scale)?;
            let pre = rnn.bin(im, BinaryOp::Add, xt, rec)?;
            // Gate blocks in ONNX order: input, output, forget, cell.
            let peep = |im: &mut Importer,
                        k: usize,
                        state: ValueId,
                        x: ValueId|
             -> Result<ValueId, ImportError> {
                match wt.peepholes {
                    Some(p) => {
                        let pk = rnn.gate(im, p, k, 1)?;
                        let t = rnn.bin(im, BinaryOp::Mul, pk, state)?;
                        rnn.bin(im, BinaryOp::Add, x, t)
                    }
                    None => Ok(x),
                }
            };
            let i = rnn.gate(im, pre, 0, 1)?;
            let i = peep(im, 0, c, i)?;
            let i = rnn.activate(im, &acts[0], i)?;
            let f = if rnn.input_forget {
                let one = scalar_like(im, ctx, i, 1.0);
                rnn.bin(im, BinaryOp::Sub, one, i)?
            } else {
                let f = rnn.gate(im, pre, 2, 1)?;
                let f = peep(im, 2, c, f)?;
                rnn.activate(im, &acts[0], f)?
            };
            let cg = rnn.gate(im, pre, 3, 1)?;
            let cg = rnn.activate(im, &acts[1], cg)?;
            let kept = rnn.bin(im, BinaryOp::Mul, f, c)?;
            let added = rnn.bin(im, BinaryOp::Mul, i, cg)?;
            let new_c = rnn.bin(im, BinaryOp::Add, kept, added)?;
            let o = rnn.gate(im, pre, 1, 1)?;
            let o = peep(im, 1, new_c, o)?;
            let o = rnn.activate(im, &acts[0], o)?;
            let hc = rnn.activate(im, &acts[2], new_c)?;
            Ok((rnn.bin(im, BinaryOp::Mul, o, hc)?, new_c))
        }
        Cell::Gru => {
            // Gate blocks in ONNX order: update (z), reset (r), hidden (h).
            let r_zr = rnn.gate(im, wt.r_t, 0, 2)?;
            let r_h = rnn.gate(im, wt.r_t, 2, 1)?;
            let rec = mm(im, h, r_zr)?;
            let x_zr = rnn.gate(im, xt, 0, 2)?;
            let pre = rnn.bin(im, BinaryOp::Add, x_zr, rec)?;
            let z = rnn.gate(im, pre, 0, 1)?;
            let z = rnn.activate(im, &acts[0], z)?;
            let reset = rnn.gate(im, pre, 1, 1)?;
            let reset = rnn.activate(im, &acts[0], reset)?;
            let x_h = rnn.gate(im, xt, 2, 1)?;
            let rec_h = if rnn.linear_before_reset {
                let t = mm(im, h, r_h)?;
                let t = match wt.recurrent_h_bias {
                    Some(b) => rnn.bin(im, BinaryOp::Add, t, b)?,
                    None => t,
                };
                rnn.bin(im, BinaryOp::Mul, reset, t)?
            } else {
                let rh = rnn.bin(im, BinaryOp::Mul, reset, h)?;
                mm(im, rh, r_h)?
            };
            let pre_h = rnn.bin(im, BinaryOp::Add, x_h, rec_h)?;
            let hh = rnn.activate(im, &acts[1], pre_h)?;
            // (1 - z)·hh + z·h = hh + z·(h - hh)
            let diff = rnn.bin(im, BinaryOp::Sub, h, hh)?;
            let t = rnn.bin(im, BinaryOp::Mul, z, diff)?;
            Ok((rnn.bin(im, BinaryOp::Add, hh, t)?, c))
        }
    }
}
