//! Recurrent layers (LSTM, GRU, RNN) over whole sequences, [`KernelOp::Recurrent`]: a
//! workgroup runs one direction's steps in order. It packs the direction's recurrent weights
//! into the GEMM's strips once; each step then multiplies the batch's hidden state by them
//! and computes the gates over rows of f32 that LLVM vectorises. The states never leave the
//! workgroup between steps. (Reading the weights in place instead made each step's product
//! twice as slow: a batch of one row uses every weight once, from strided rows.)

use super::Mem;
use crate::format::*;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
#[cfg(not(feature = "std"))]
use kiln_types::math::Float;
use kiln_types::recurrent::{Activation, Cell, RecurrentCell};
use kiln_ukernel::gemm::{pack_rhs, Lhs, MatrixMut, Rhs};
use kiln_ukernel::{rows, Kernels, Matrix};

/// `act(clip(x))` over a row, in place.
fn activate(act: Activation, clip: Option<f32>, xs: &mut [f32]) {
    if let Some(c) = clip {
        xs.iter_mut().for_each(|x| *x = x.clamp(-c, c));
    }
    match act {
        Activation::Sigmoid => rows::sigmoid_in_place(xs),
        Activation::Tanh => rows::tanh_in_place(xs),
        Activation::Relu => xs.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Softsign => xs.iter_mut().for_each(|x| *x /= 1.0 + x.abs()),
        // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which stays finite for large x.
        Activation::Softplus => xs
            .iter_mut()
            .for_each(|x| *x = x.max(0.0) + rows::exp(-x.abs()).ln_1p()),
    }
}

/// `acc[j] += a[j]·b[j]`.
fn add_product(acc: &mut [f32], a: &[f32], b: &[f32]) {
    acc.iter_mut()
        .zip(a.iter().zip(b))
        .for_each(|(s, (x, y))| *s += x * y);
}

/// `acc[j] += x[j]`.
fn add(acc: &mut [f32], x: &[f32]) {
    acc.iter_mut().zip(x).for_each(|(s, v)| *s += v);
}

/// One direction's run: the views as slices of the bindings and the step's scratch.
struct Direction<'a> {
    cell: &'a RecurrentCell,
    acts: &'a [Activation],
    kernels: &'a Kernels,
    batch: usize,
    hidden: usize,
    /// The weights of each product a step makes, packed: its first column and its strips.
    /// One product over every gate, but a GRU that resets the state before its product (two:
    /// the update and reset gates', then the hidden gate's).
    packed: Vec<(usize, usize, Vec<f32>)>,
    extra: Vec<f32>,
}

impl Direction<'_> {
    /// `out[b, col..col + n] = lhs[b] · weights[:, col..col + n]` for each batch row `b`
    /// with product `p`'s columns (`lhs` `batch × hidden`, `out` rows `G·H` apart).
    fn product(&self, lhs: &[f32], p: usize, out: &mut [f32]) {
        let gh = self.cell.cell.gates() * self.hidden;
        let (col, n, strips) = &self.packed[p];
        assert!(out.len() >= self.batch * gh && col + n <= gh);
        // SAFETY: `out` holds `batch` rows of `gh` values, columns `col..col + n` of them
        // inside (asserted); the strips were packed for these kernels, depth `hidden`.
        unsafe {
            self.kernels.packed_gemm(
                self.batch,
                *n,
                self.hidden,
                Lhs::Matrix(Matrix::row_major(lhs, self.hidden)),
                Rhs::Packed(strips),
                MatrixMut::rows(out.as_mut_ptr().add(*col), gh),
            )
        }
    }

    /// One step from `x`, the step's input projection with its bias: `h` and `c` (`batch ×
    /// hidden`) become the new states. `scratch` holds `batch × hidden` values.
    fn step(
        &self,
        x: &[f32],
        gates: &mut [f32],
        h: &mut [f32],
        c: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (hn, clip, act) = (self.hidden, self.cell.clip, self.acts);
        let gh = self.cell.cell.gates() * hn;
        match self.cell.cell {
            Cell::Rnn => {
                self.product(h, 0, gates);
                for b in 0..self.batch {
                    let g = &mut gates[b * gh..][..hn];
                    add(g, &x[b * gh..][..hn]);
                    activate(act[0], clip, g);
                    h[b * hn..][..hn].copy_from_slice(g);
                }
            }
            Cell::Gru => {
                let lbr = self.cell.linear_before_reset;
                self.product(h, 0, gates);
                for b in 0..self.batch {
                    let (g, xb) = (&mut gates[b * gh..][..gh], &x[b * gh..][..gh]);
                    add(&mut g[..2 * hn], &xb[..2 * hn]);
                    activate(act[0], clip, &mut g[..2 * hn]);
                    let (zr, hh) = g.split_at_mut(2 * hn);
                    let (hb, sb) = (&h[b * hn..][..hn], &mut scratch[b * hn..][..hn]);
                    if lbr {
                        // hh = x_h + r ⊙ (h·R_h + Rb_h)
                        add(hh, &self.extra);
                        hh.iter_mut().zip(&zr[hn..]).for_each(|(v, r)| *v *= r);
                    } else {
                        sb.iter_mut()
                            .zip(zr[hn..].iter().zip(hb))
                            .for_each(|(s, (r, hv))| *s = r * hv);
                    }
                }
                if !lbr {
                    self.product(scratch, 1, gates);
                }
                for b in 0..self.batch {
                    let (g, xb) = (&mut gates[b * gh..][..gh], &x[b * gh..][..gh]);
                    let (zr, hh) = g.split_at_mut(2 * hn);
                    add(hh, &xb[2 * hn..]);
                    activate(act[1], clip, hh);
                    // h' = hh + z ⊙ (h - hh)
                    h[b * hn..][..hn]
                        .iter_mut()
                        .zip(zr[..hn].iter().zip(&*hh))
                        .for_each(|(hv, (z, hhv))| *hv = hhv + z * (*hv - hhv));
                }
            }
            Cell::Lstm => {
                self.product(h, 0, gates);
                let (pi, po, pf) = (
                    &self.extra[..hn],
                    &self.extra[hn..2 * hn],
                    &self.extra[2 * hn..],
                );
                for b in 0..self.batch {
                    let g = &mut gates[b * gh..][..gh];
                    add(g, &x[b * gh..][..gh]);
                    let (i, rest) = g.split_at_mut(hn);
                    let (o, rest) = rest.split_at_mut(hn);
                    let (f, cc) = rest.split_at_mut(hn);
                    let cb = &mut c[b * hn..][..hn];
                    add_product(i, pi, cb);
                    activate(act[0], clip, i);
                    if self.cell.input_forget {
                        f.iter_mut().zip(&*i).for_each(|(fv, iv)| *fv = 1.0 - iv);
                    } else {
                        add_product(f, pf, cb);
                        activate(act[0], clip, f);
                    }
                    activate(act[1], clip, cc);
                    // c' = f ⊙ c + i ⊙ cc
                    cb.iter_mut()
                        .zip(f.iter().zip(i.iter().zip(&*cc)))
                        .for_each(|(cv, (fv, (iv, ccv)))| *cv = fv * *cv + iv * ccv);
                    add_product(o, po, cb);
                    activate(act[0], clip, o);
                    // h' = o ⊙ act(c'), through `cc`'s row.
                    cc.copy_from_slice(cb);
                    activate(act[2], clip, cc);
                    h[b * hn..][..hn]
                        .iter_mut()
                        .zip(o.iter().zip(&*cc))
                        .for_each(|(hv, (ov, av))| *hv = ov * av);
                }
            }
        }
    }
}

/// Copies `[batch, hidden]` rows of `v` at direction `d` into `out`.
fn read_rows(m: &Mem, v: &View, d: u64, out: &mut [f32]) {
    let data = m.f32s(v);
    let hidden = v.shape[2] as usize;
    for (b, row) in out.chunks_exact_mut(hidden.max(1)).enumerate() {
        let at = v.offset as i64 + d as i64 * v.strides[0] + b as i64 * v.strides[1];
        row.copy_from_slice(&data[at as usize..][..hidden]);
    }
}

/// Runs workgroup `wg` (direction `wg`) of a [`KernelOp::Recurrent`].
pub(super) fn run(m: &Mem, k: &Kernel, wg: u64, kernels: &Kernels) -> Result<(), String> {
    let KernelOp::Recurrent {
        proj,
        weights,
        h0,
        c0,
        biases,
        y,
        cell,
    } = &k.op
    else {
        unreachable!("called for recurrent kernels")
    };
    let d = wg;
    let dirs = weights.shape[0];
    let (seq, batch) = (proj.shape[1] as usize, proj.shape[2] as usize);
    let (hidden, gh) = (weights.shape[1] as usize, weights.shape[2] as usize);
    let state = batch * hidden;
    let (mut h, mut c) = (vec![0.0f32; state], vec![0.0f32; state]);
    read_rows(m, h0, d, &mut h);
    read_rows(m, c0, d, &mut c);
    let w_start = weights.offset as i64 + d as i64 * weights.strides[0];
    // The projection's bias, then the peepholes or the recurrent hidden bias.
    let mut bias = vec![0.0f32; biases.shape[2] as usize];
    read_rows(m, biases, d, &mut bias);
    let extra = bias.split_off(gh);
    let products = match cell.cell {
        Cell::Gru if !cell.linear_before_reset => vec![(0, 2 * hidden), (2 * hidden, hidden)],
        _ => vec![(0, gh)],
    };
    let wdata = m.f32s(weights);
    let packed = products
        .into_iter()
        .map(|(col, n)| {
            let w = Matrix {
                data: wdata,
                offset: w_start as usize + col,
                row_stride: weights.strides[1] as usize,
                col_stride: 1,
            };
            (col, n, pack_rhs(&w, hidden, n, kernels.tile.nr))
        })
        .collect();
    let dir = Direction {
        cell,
        acts: cell.activations(d as usize),
        kernels,
        batch,
        hidden,
        packed,
        extra,
    };
    let (mut gates, mut x, mut scratch) = (
        vec![0.0f32; batch * gh],
        vec![0.0f32; batch * gh],
        vec![0.0f32; state],
    );
    let ps = m.f32s(proj);
    // Row `r` of the result for this direction: `batch × hidden` contiguous values.
    let y_row = |r: usize| ((r as u64 * dirs + d) as usize * batch) * hidden;
    for step in 0..seq {
        let t = if cell.directions.reverse(d as usize) {
            seq - 1 - step
        } else {
            step
        };
        for (b, row) in x.chunks_exact_mut(gh.max(1)).enumerate() {
            let at = proj.offset as i64
                + d as i64 * proj.strides[0]
                + t as i64 * proj.strides[1]
                + b as i64 * proj.strides[2];
            row.iter_mut()
                .zip(&ps[at as usize..][..gh])
                .zip(&bias)
                .for_each(|((x, p), b)| *x = p + b);
        }
        dir.step(&x, &mut gates, &mut h, &mut c, &mut scratch);
        m.f32_mut(y, y_row(2 + t), state).copy_from_slice(&h);
    }
    m.f32_mut(y, y_row(0), state).copy_from_slice(&h);
    let final_c = m.f32_mut(y, y_row(1), state);
    match cell.cell {
        Cell::Lstm => final_c.copy_from_slice(&c),
        Cell::Gru | Cell::Rnn => final_c.fill(0.0),
    }
    Ok(())
}
