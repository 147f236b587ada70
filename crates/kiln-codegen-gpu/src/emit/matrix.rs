//! The GEMM of [`Mapping::MatrixTiles`] on the subgroup matrix units, for every generator
//! that provides [`GpuBuilder`]'s matrix instructions (PTX's WMMA today).
//!
//! A workgroup computes one [`MATRIX_TILE`] output tile. Each step along `k` stages an
//! `m×k` tile of A and a `k×n` tile of B into shared memory in the operands' own type (the
//! loads are the GEMM's `load_a`/`load_b`, zero outside the operands, so any size and any
//! layout, convolution's implicit patches included, works); then every subgroup multiplies
//! its share of the tile, `16×16×16` fragments accumulated in f32 registers. The results
//! leave through a per-subgroup shared scratch fragment, element by element, through the
//! GEMM's `store` (bounds, epilogue and output type as the scalar GEMM).

use super::{add_k, mul_k, Ctx, GemmLoad, GemmStore, Kind, MatrixOperand, Val, R};
use crate::index::gemm_tile;
use crate::{GpuBuilder, MATRIX_FRAGMENT, MATRIX_PAD, MATRIX_TILE, MATRIX_WARPS};
use kiln_kernel::RegKind;
use kiln_types::ElementType;

impl<B: GpuBuilder> Ctx<B> {
    /// `store(b, i, j, Σ_k load_a(b, i, k) · load_b(b, k, j))` over `batch` GEMMs of `m×k`
    /// by `k×n` operands of type `element`, on the matrix units.
    pub(super) fn matrix_gemm(
        &mut self,
        (batch, m, n, kdim): (B::Index, B::Index, B::Index, B::Index),
        element: ElementType,
        load_a: GemmLoad<B>,
        load_b: GemmLoad<B>,
        store: GemmStore<B>,
    ) -> R<()> {
        let [tm, tn, tk] = MATRIX_TILE;
        let [warps_m, warps_n] = MATRIX_WARPS;
        let f = MATRIX_FRAGMENT;
        let size = self.config.workgroup_size;
        let subgroup = size / (warps_m * warps_n);
        // Each subgroup's part of the tile, in fragments.
        let (frags_m, frags_n) = (tm / warps_m / f, tn / warps_n / f);
        let (stride_a, stride_b) = (tk + MATRIX_PAD, tn + MATRIX_PAD);
        let sa = self.s.matrix_shared_array(element, tm * stride_a)?;
        let sb = self.s.matrix_shared_array(element, tk * stride_b)?;
        // Accumulator fragments are stored from 32-byte aligned addresses too.
        let scratch = self
            .s
            .matrix_shared_array(ElementType::F32, warps_m * warps_n * f * f)?;
        let acc_len = self.s.matrix_accumulator_len();
        if acc_len == 0 || !size.is_multiple_of(warps_m * warps_n) {
            return Err("the target's matrix units cannot run this tiling".into());
        }

        let (b, row0, col0) = gemm_tile(&mut self.s, m, n, [tm as u64, tn as u64]);
        let lid = self.s.local_index();
        let batch_ok = self.ilt(b, batch);
        // This invocation's subgroup and its place in the workgroup's grid of subgroups.
        let sg = self.s.constant(subgroup as u64);
        let warp = self.s.div(lid, sg);
        let lane = self.s.rem(lid, sg);
        let wn = self.s.constant(warps_n as u64);
        let warp_m = self.s.div(warp, wn);
        let warp_n = self.s.rem(warp, wn);
        let warp_row = mul_k(&mut self.s, warp_m, (frags_m * f) as i64);
        let warp_col = mul_k(&mut self.s, warp_n, (frags_n * f) as i64);

        let zero = self.s.const_f32(0.0);
        let acc: Vec<Vec<B::Var>> = (0..frags_m * frags_n)
            .map(|_| {
                (0..acc_len)
                    .map(|_| {
                        let v = self.s.var(Kind::F32);
                        self.s.set(v, zero);
                        v
                    })
                    .collect()
            })
            .collect();
        let staged = self.s.var(Kind::F32);

        let (start, step) = (self.s.const_index(0), self.s.const_index(tk as i32));
        self.each(start, kdim, step, |k, k0| {
            // Stage A[row0.., k0..] and B[k0.., col0..]: consecutive invocations take
            // consecutive columns, so reads of row-major operands coalesce.
            let plans = [
                (sa, tm, tk, stride_a, row0, k0, m, kdim, load_a),
                (sb, tk, tn, stride_b, k0, col0, kdim, n, load_b),
            ];
            for (array, rows, cols, stride, r0, c0, bound_r, bound_c, load) in plans {
                for i in 0..rows * cols / size {
                    let e = add_k(&mut k.s, lid, (i * size) as i64);
                    let cols_v = k.s.constant(cols as u64);
                    let (r, c) = (k.s.div(e, cols_v), k.s.rem(e, cols_v));
                    let (gr, gc) = (k.s.add(r0, r), k.s.add(c0, c));
                    k.s.set(staged, zero);
                    let ok_r = k.ilt(gr, bound_r);
                    let ok_c = k.ilt(gc, bound_c);
                    let ok = k.s.and(ok_r, ok_c);
                    let ok = k.s.and(ok, batch_ok);
                    k.when(ok, |k| {
                        let v = load(k, b, gr, gc)?;
                        k.s.set(staged, v);
                        Ok(())
                    })?;
                    let at = mul_k(&mut k.s, r, stride as i64);
                    let at = k.s.add(at, c);
                    let v = k.s.get(staged);
                    k.s.matrix_stage(array, at, v)?;
                }
            }
            k.s.barrier();
            for kk in 0..tk / f {
                let a: Vec<Vec<B::Index>> = (0..frags_m)
                    .map(|i| {
                        let r = add_k(&mut k.s, warp_row, (i * f) as i64);
                        let at = mul_k(&mut k.s, r, stride_a as i64);
                        let at = add_k(&mut k.s, at, (kk * f) as i64);
                        k.s.matrix_load(MatrixOperand::A, element, sa, at, stride_a)
                    })
                    .collect::<R<_>>()?;
                let bf: Vec<Vec<B::Index>> = (0..frags_n)
                    .map(|j| {
                        let c = add_k(&mut k.s, warp_col, (j * f) as i64);
                        let at = add_k(&mut k.s, c, (kk * f * stride_b) as i64);
                        k.s.matrix_load(MatrixOperand::B, element, sb, at, stride_b)
                    })
                    .collect::<R<_>>()?;
                for i in 0..frags_m {
                    for j in 0..frags_n {
                        let vars = &acc[(i * frags_n + j) as usize];
                        let c: Vec<B::Index> = vars.iter().map(|&v| k.s.get(v)).collect();
                        let d =
                            k.s.matrix_multiply_add(element, &a[i as usize], &bf[j as usize], &c)?;
                        for (&v, x) in vars.iter().zip(d) {
                            k.s.set(v, x);
                        }
                    }
                }
            }
            k.s.barrier();
            Ok(())
        })?;

        // Each fragment through the subgroup's scratch, then element by element to `store`.
        let own = mul_k(&mut self.s, warp, (f * f) as i64);
        for i in 0..frags_m {
            for j in 0..frags_n {
                let vars = &acc[(i * frags_n + j) as usize];
                let c: Vec<B::Index> = vars.iter().map(|&v| self.s.get(v)).collect();
                self.s.matrix_store(scratch, own, f, &c)?;
                self.s.barrier();
                let r0 = self.s.add(row0, warp_row);
                let r0 = add_k(&mut self.s, r0, (i * f) as i64);
                let c0 = self.s.add(col0, warp_col);
                let c0 = add_k(&mut self.s, c0, (j * f) as i64);
                for e in 0..f * f / subgroup {
                    let idx = add_k(&mut self.s, lane, (e * subgroup) as i64);
                    let fv = self.s.constant(f as u64);
                    let (r, c) = (self.s.div(idx, fv), self.s.rem(idx, fv));
                    let (gr, gc) = (self.s.add(r0, r), self.s.add(c0, c));
                    let ok_r = self.ilt(gr, m);
                    let ok_c = self.ilt(gc, n);
                    let ok = self.s.and(ok_r, ok_c);
                    let ok = self.s.and(ok, batch_ok);
                    let at = self.s.add(own, idx);
                    self.when(ok, |k| {
                        let v = k.s.shared_load(scratch, at);
                        store(
                            k,
                            b,
                            gr,
                            gc,
                            Val {
                                kind: RegKind::F,
                                id: v,
                            },
                        )
                    })?;
                }
                self.s.barrier();
            }
        }
        Ok(())
    }
}
