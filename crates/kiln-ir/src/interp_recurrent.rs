//! The reference interpreter's recurrent layer ([`OpKind::Recurrent`]): each step in f64,
//! written from ONNX's equations, independently of the runtime's kernel.
//!
//! [`OpKind::Recurrent`]: crate::ops::OpKind::Recurrent

use crate::interp::Tensor;
use kiln_types::recurrent::{Activation, Cell, RecurrentCell};

fn activate(a: Activation, clip: Option<f32>, x: f64) -> f64 {
    let x = match clip {
        Some(c) => x.clamp(-f64::from(c), f64::from(c)),
        None => x,
    };
    match a {
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Tanh => x.tanh(),
        Activation::Relu => x.max(0.0),
        Activation::Softsign => x / (1.0 + x.abs()),
        Activation::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
    }
}

/// The `[2 + T, D, B, H]` result from the operands `[proj, weights, h0, c0, biases]`.
pub(crate) fn recurrent(cell: &RecurrentCell, args: &[&Tensor]) -> Vec<f64> {
    let [proj, w, h0, c0, biases] = args else {
        unreachable!("typed with five operands")
    };
    let (dirs, seq, batch, gh) = (proj.shape[0], proj.shape[1], proj.shape[2], proj.shape[3]);
    let h = w.shape[1];
    let mut out = vec![0.0; (2 + seq) * dirs * batch * h];
    let at = |t: usize, d: usize, b: usize| ((t * dirs + d) * batch + b) * h;
    for d in 0..dirs {
        let acts = cell.activations(d);
        let act = |k: usize, x: f64| activate(acts[k], cell.clip, x);
        let wd = &w.data[d * h * gh..][..h * gh];
        let all = &biases.data[d * biases.shape[2]..][..biases.shape[2]];
        let (bias, ex) = all.split_at(gh);
        for b in 0..batch {
            let mut hs: Vec<f64> = h0.data[(d * batch + b) * h..][..h].to_vec();
            let mut cs: Vec<f64> = c0.data[(d * batch + b) * h..][..h].to_vec();
            let steps: Vec<usize> = if cell.directions.reverse(d) {
                (0..seq).rev().collect()
            } else {
                (0..seq).collect()
            };
            for t in steps {
                let row = &proj.data[((d * seq + t) * batch + b) * gh..][..gh];
                let x: Vec<f64> = row.iter().zip(bias).map(|(p, q)| p + q).collect();
                // state · weights over the columns `cols`.
                let product = |state: &[f64], col: usize| -> f64 {
                    (0..h).map(|k| state[k] * wd[k * gh + col]).sum()
                };
                let mut new_h = vec![0.0; h];
                match cell.cell {
                    Cell::Rnn => {
                        for j in 0..h {
                            new_h[j] = act(0, x[j] + product(&hs, j));
                        }
                    }
                    Cell::Gru => {
                        let z: Vec<f64> = (0..h).map(|j| act(0, x[j] + product(&hs, j))).collect();
                        let r: Vec<f64> = (0..h)
                            .map(|j| act(0, x[h + j] + product(&hs, h + j)))
                            .collect();
                        let rh: Vec<f64> = (0..h).map(|j| r[j] * hs[j]).collect();
                        for j in 0..h {
                            let rec = if cell.linear_before_reset {
                                r[j] * (product(&hs, 2 * h + j) + ex[j])
                            } else {
                                product(&rh, 2 * h + j)
                            };
                            let hh = act(1, x[2 * h + j] + rec);
                            new_h[j] = (1.0 - z[j]) * hh + z[j] * hs[j];
                        }
                    }
                    Cell::Lstm => {
                        for j in 0..h {
                            let pre = |k: usize| x[k * h + j] + product(&hs, k * h + j);
                            let i = act(0, pre(0) + ex[j] * cs[j]);
                            let f = if cell.input_forget {
                                1.0 - i
                            } else {
                                act(0, pre(2) + ex[2 * h + j] * cs[j])
                            };
                            let c = f * cs[j] + i * act(1, pre(3));
                            let o = act(0, pre(1) + ex[h + j] * c);
                            new_h[j] = o * act(2, c);
                            cs[j] = c;
                        }
                    }
                }
                hs = new_h;
                out[at(2 + t, d, b)..][..h].copy_from_slice(&hs);
            }
            out[at(0, d, b)..][..h].copy_from_slice(&hs);
            if cell.cell == Cell::Lstm {
                out[at(1, d, b)..][..h].copy_from_slice(&cs);
            }
        }
    }
    out
}
