//! Workgroups of reductions: elementwise bodies folded along their trailing dims (sum,
//! mean, extrema, product), one output element per point of the workgroup's parallel box.

use super::{
    coordinates, eval_body, for_each_outer, load_row, offset_at, store_row, with_registers, Mem,
    Reg, ROW,
};
use crate::format::*;
use crate::tiling::Dims;

/// Runs a reduction body: for each point of the parallel box, folds the body's value over all
/// reduction dims (the trailing dims of `shape`) and stores one element.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_box(
    m: &Mem,
    inputs: &[&View],
    output: &View,
    body: &Body,
    reduce: ReduceFn,
    shape: &[u64],
    lo: &[u64],
    hi: &[u64],
) {
    with_registers(body, inputs, &[output], None, |regs| {
        reduce_rows(m, inputs, output, body, reduce, shape, lo, hi, regs)
    });
}

/// [`run_box`] with its registers.
#[allow(clippy::too_many_arguments)]
fn reduce_rows(
    m: &Mem,
    inputs: &[&View],
    output: &View,
    body: &Body,
    reduce: ReduceFn,
    shape: &[u64],
    lo: &[u64],
    hi: &[u64],
    regs: &mut [Reg],
) {
    let p = lo.len();
    let r = shape.len();
    let count: u64 = shape[p..].iter().product();
    let init = match reduce {
        ReduceFn::Sum | ReduceFn::Mean => 0.0,
        ReduceFn::Max => f32::NEG_INFINITY,
        ReduceFn::Min => f32::INFINITY,
        ReduceFn::Prod => 1.0,
    };
    let mut full_lo: Dims<u64> = lo.iter().copied().collect();
    full_lo.push(0);
    let visit_parallel = |pidx: &[u64], regs: &mut [Reg]| {
        let mut acc_f = init as f64;
        let mut acc_i: i64 = match reduce {
            ReduceFn::Max => i64::MIN,
            ReduceFn::Min => i64::MAX,
            ReduceFn::Prod => 1,
            _ => 0,
        };
        let mut rlo: Dims<u64> = pidx.iter().copied().collect();
        rlo.extend(core::iter::repeat_n(0, r - p));
        let mut rhi: Dims<u64> = pidx.iter().map(|i| i + 1).collect();
        rhi.extend_from_slice(&shape[p..]);
        for_each_outer(&rlo, &rhi, |idx| {
            let mut j = 0;
            while j < shape[r - 1] {
                let len = ROW.min((shape[r - 1] - j) as usize);
                let mut at: Dims<u64> = idx.iter().copied().collect();
                at[r - 1] = j;
                eval_body(
                    body,
                    regs,
                    len,
                    |n, d| {
                        let v = inputs[n as usize];
                        load_row(m, v, offset_at(v, &at), v.strides[r - 1], len, d);
                    },
                    |dim, d| coordinates(&at, dim as usize, j, len, d),
                );
                match &regs[body.results[0] as usize] {
                    Reg::F(x) => {
                        for &v in &x[..len] {
                            acc_f = match reduce {
                                ReduceFn::Sum | ReduceFn::Mean => acc_f + v as f64,
                                ReduceFn::Max => acc_f.max(v as f64),
                                ReduceFn::Min => acc_f.min(v as f64),
                                ReduceFn::Prod => acc_f * v as f64,
                            };
                        }
                    }
                    Reg::I(x) => {
                        for &v in &x[..len] {
                            acc_i = match reduce {
                                ReduceFn::Sum | ReduceFn::Mean => acc_i.wrapping_add(v),
                                ReduceFn::Max => acc_i.max(v),
                                ReduceFn::Min => acc_i.min(v),
                                ReduceFn::Prod => acc_i.wrapping_mul(v),
                            };
                        }
                    }
                }
                j += len as u64;
            }
        });
        // The result register has the output's kind (checked at load); its first element
        // carries the folded value to the store.
        let result = &mut regs[body.results[0] as usize];
        match result {
            Reg::F(x) if reduce == ReduceFn::Mean => x[0] = (acc_f / count as f64) as f32,
            Reg::F(x) => x[0] = acc_f as f32,
            Reg::I(x) if reduce == ReduceFn::Mean => x[0] = acc_i / count.max(1) as i64,
            Reg::I(x) => x[0] = acc_i,
        }
        store_row(m, output, offset_at(output, pidx), 0, 1, result);
    };
    if p == 0 {
        visit_parallel(&[], regs);
        return;
    }
    let mut hi1: Dims<u64> = hi.iter().copied().collect();
    hi1.push(1);
    for_each_outer(&full_lo, &hi1, |idx| visit_parallel(&idx[..p], regs));
}
