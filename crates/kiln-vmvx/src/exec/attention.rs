//! Workgroups of attention kernels: a strip of query rows of one batch, its scores computed,
//! stepped and normalised in the workgroup's scratch, then multiplied by the values. The
//! products are the same GEMM calls the unfused matmuls make, and the softmax the same row
//! kernel, so the results are those of the three dispatches the kernel replaces.

use super::Mem;
use crate::format::*;
use alloc::string::String;
use kiln_ukernel::scratch::Scratch;
use kiln_ukernel::{rows, AlignedVec, Kernels, Matrix};

kiln_ukernel::scratch! {
    /// Per-thread scratch of attention workgroups: their rows of scores.
    static SCORES: AlignedVec;
}

/// Runs workgroup `wg` of attention `k`.
///
/// # Safety
/// As [`crate::Executable::run_workgroup`].
pub(super) unsafe fn run(m: &Mem, k: &Kernel, wg: u64, kernels: &Kernels) -> Result<(), String> {
    let KernelOp::Attention {
        q,
        k: keys,
        v,
        out,
        scores,
        ..
    } = &k.op
    else {
        return Err("not an attention".into());
    };
    let steps = match scores {
        Some(e) => ScoreSteps::of(&e.body, e.inputs.len()).ok_or("unknown score steps")?,
        None => ScoreSteps::default(),
    };
    let mask = scores
        .as_ref()
        .and_then(|e| e.inputs.first())
        .filter(|_| steps.mask);
    let (lo, hi) = k.grid().tile_box(wg);
    let (b, m0) = (lo[0], lo[1]);
    let rows = (hi[1] - m0) as usize;
    let (depth, n, e) = (
        q.shape[2] as usize,
        keys.shape[2] as usize,
        v.shape[2] as usize,
    );
    SCORES.with_mut(|s| {
        s.resize(rows * n, 0.0);
        // SAFETY: the scratch holds rows × n scores; the views were checked for this dispatch.
        unsafe {
            kernels.sgemm(
                rows,
                n,
                depth,
                &m.matrix(q, b, m0, 0),
                &m.matrix(keys, b, 0, 0),
                s.as_mut_ptr(),
                n,
                false,
            )
        };
        for (r, row) in s.chunks_exact_mut(n.max(1)).take(rows).enumerate() {
            let mask_row = mask.map(|mv| {
                let at = mv.offset as i64
                    + b as i64 * mv.strides[0]
                    + (m0 + r as u64) as i64 * mv.strides[1];
                (&m.f32s(mv)[at as usize..], mv.strides[2] as usize)
            });
            steps.apply(row, mask_row);
            rows::softmax_in_place(row);
        }
        let probabilities = Matrix {
            data: s,
            offset: 0,
            row_stride: n,
            col_stride: 1,
        };
        // SAFETY: this workgroup owns output rows [m0, m0 + rows) of batch b.
        unsafe {
            kernels.sgemm(
                rows,
                e,
                n,
                &probabilities,
                &m.matrix(v, b, 0, 0),
                m.f32_ptr(out, &[b, m0, 0]),
                out.strides[1] as usize,
                false,
            )
        };
    });
    Ok(())
}
