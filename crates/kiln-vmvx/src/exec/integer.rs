//! Workgroups of the integer products, `ui8` by `i8` summed in `i32`: convolutions
//! (`conv_u8.rs`, with the `conv` feature) and matmuls, both on [`IntKernels::gemm`]. A
//! workgroup's sums stay in a per-thread scratch ([`TileSums`]); its epilogue reads them there
//! and stores the output's
//! type, and without an epilogue they are copied out as `i32`. llvm-cpu's generated epilogues
//! read the same scratch ([`Executable::integer_sums`]).

use super::{offset_at, run_box_from, run_epilogue_from, Binding, Mem, TileSums};
#[cfg(feature = "conv")]
use crate::conv_u8;
use crate::format::*;
use crate::tiling::{Dims, TileBox};
use crate::VmvxError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kiln_types::ElementType;
use kiln_ukernel::igemm::{Columns, IntKernels, DEPTH_GROUP};
use kiln_ukernel::scratch::Scratch;

kiln_ukernel::scratch! {
    /// Per-thread scratch of the integer products: a workgroup's sums, then the GEMM's
    /// packed operands.
    static SUMS: Vec<i32>;
    static OPERANDS: (Vec<i8>, Option<Columns>);
}

/// Runs workgroup `wg` of integer product `k`, epilogue included.
pub(super) fn run(m: &Mem, k: &Kernel, wg: u64) -> Result<(), String> {
    let out = *k
        .outputs()
        .first()
        .ok_or("an integer product has an output")?;
    SUMS.with_mut(|sums| {
        let t = sums_of(m, k, wg, sums)?;
        match k.epilogue() {
            Some(e) => run_epilogue_from(m, out, e, k, wg, Some(&t)),
            None if out.element_type == ElementType::I32 => {
                // Copied out as they are.
                let copy = Body {
                    insts: vec![Inst::Input(0)],
                    results: vec![0],
                };
                run_box_from(m, &[out], &[out], &copy, &t.lo, &t.hi, Some(&t));
            }
            None => return Err("an integer product without its epilogue stores i32".into()),
        }
        Ok(())
    })
}

/// Computes workgroup `wg`'s sums of integer product `k` into `sums`.
fn sums_of<'s>(
    m: &Mem,
    k: &Kernel,
    wg: u64,
    sums: &'s mut Vec<i32>,
) -> Result<TileSums<'s>, String> {
    let (lo, hi) = k
        .output_box(wg)
        .ok_or("an integer product's workgroup has an output box")?;
    let len = |d: usize| hi[d] - lo[d];
    let strides: Dims<u64> = match &k.op {
        // `[channel][row][column]` of one image.
        #[cfg(feature = "conv")]
        KernelOp::Conv2d { .. } => Dims::from_slice(&[0, len(2) * len(3), len(3), 1]),
        // `[column][row]`: the GEMM's rows are the matmul's columns.
        KernelOp::MatMul { .. } => Dims::from_slice(&[0, 1, len(1)]),
        _ => return Err("not an integer product".into()),
    };
    // Every sum of the box is written below: the scratch only grows.
    let count = lo.iter().zip(&hi).map(|(l, h)| h - l).product::<u64>() as usize;
    if sums.len() < count {
        sums.resize(count, 0);
    }
    let sums = &mut sums[..count];
    match &k.op {
        // No input channels: every sum is empty.
        #[cfg(feature = "conv")]
        KernelOp::Conv2d { x, .. } if x.shape[1] == 0 => sums.fill(0),
        #[cfg(feature = "conv")]
        KernelOp::Conv2d { y, groups, .. } => {
            // The workgroup's tile, from its box: one image, output channels of one group
            // (or, depthwise, of several groups of one channel each).
            let cog = (y.shape[1] / groups.max(&1)).max(1);
            let (group, group_end) = (lo[1] / cog, (hi[1] - 1) / cog + 1);
            let tile = ConvTile {
                image: lo[0],
                group,
                group_end,
                group_channels: cog,
                co0: lo[1] - group * cog,
                co1: hi[1] - (group_end - 1) * cog,
                oy0: lo[2],
                oy1: hi[2],
            };
            let plane = len(2) * len(3);
            for (i, t) in tile.per_group().enumerate() {
                let at = i * ((t.co1 - t.co0) * plane) as usize;
                conv2d(m, &k.op, t, sums[at..].as_mut_ptr(), plane);
            }
        }
        _ => matmul(m, &k.op, &lo, &hi, sums),
    }
    Ok(TileSums {
        data: sums,
        lo,
        hi,
        strides,
    })
}

impl Executable {
    /// Runs workgroup `wg` of integer product `kernel` (a convolution or matmul of `ui8` by
    /// `i8`) without its epilogue, leaving its `i32` sums in this thread's scratch. Returns
    /// where they start (they stay there until this thread runs another workgroup) and the
    /// workgroup's output box ([`Kernel::output_box`]), over which a convolution's lie
    /// `[channel][row][column]`, a matmul's `[column][row]`.
    ///
    /// # Safety
    /// As [`Executable::run_workgroup`].
    pub unsafe fn integer_sums(
        &self,
        kernel: usize,
        wg: u32,
        bindings: &[Binding],
    ) -> Result<(*const i32, TileBox<u64>), VmvxError> {
        let k = self.kernels.get(kernel).ok_or(VmvxError::NoKernel {
            index: kernel,
            count: self.kernels.len(),
        })?;
        let m = Mem { bindings };
        let failed = |message: String| VmvxError::Workgroup {
            kernel: k.name.clone(),
            message,
        };
        // The sums must stay in the scratch after this returns: its own value, not a fresh one.
        SUMS.with_kept(|sums| {
            let t = sums_of(&m, k, wg as u64, sums).map_err(failed)?;
            Ok((t.data.as_ptr(), (t.lo, t.hi)))
        })
        .unwrap_or_else(|| Err(failed("the integer sums' scratch is in use".into())))
    }
}

/// One workgroup (`tile`) of the integer convolution `op` of `ui8` pixels by `i8` weights into
/// `i32` (the only integer form the kernel check admits), NCHW, weights plain or packed in
/// channel quads: the sums of output channel `c` of the tile (from its first) and row `oy`
/// are written from `sums + c · ldc + (oy - oy0) · ow`.
#[cfg(feature = "conv")]
fn conv2d(m: &Mem, op: &KernelOp, tile: ConvTile, sums: *mut i32, ldc: u64) {
    let KernelOp::Conv2d {
        x,
        w,
        y,
        strides,
        pads,
        dilations,
        groups,
        gemm,
        ..
    } = op
    else {
        return;
    };
    let packed = *gemm == ConvGemm::ChannelQuads;
    let [kh, kw] = integer_conv_window(w, *gemm);
    let win = &window([kh, kw], *strides, *pads, *dilations);
    let [kh, kw] = [kh as usize, kw as usize];
    let cig = (x.shape[1] / groups) as usize;
    let [h, wd] = [x.shape[2], x.shape[3]].map(|v| v as usize);
    let [oh, ow] = [y.shape[2], y.shape[3]].map(|v| v as usize);
    let (n, g, cog) = (
        tile.image as usize,
        tile.group as usize,
        tile.group_channels as usize,
    );
    let c = x.shape[1] as usize;
    let [co0, co1, oy0, oy1] = [tile.co0, tile.co1, tile.oy0, tile.oy1].map(|v| v as usize);
    let depth = if packed {
        (w.shape[1] * w.shape[2] * w.shape[3]) as usize
    } else {
        cig * kh * kw
    };
    let plane = cig * h * wd;
    let xs = m.bytes(x);
    let x_group = &xs[x.offset as usize + (n * c + g * cig) * h * wd..][..plane];
    let filters =
        i8s(&m.bytes(w)[w.offset as usize + (g * cog + co0) * depth..][..(co1 - co0) * depth]);
    let job = conv_u8::Job {
        x: x_group,
        dims: [cig, h, wd],
        weights: if packed {
            conv_u8::Filters::Packed(filters)
        } else {
            conv_u8::Filters::Plain(filters)
        },
        win,
        rows: [oy0, oy1, oh, ow],
    };
    // SAFETY: the caller gives this workgroup's sums: output channels [co0, co1) of group g,
    // rows [oy0, oy1) of image n.
    unsafe { conv_u8::run(IntKernels::best(), &job, sums, ldc as usize) };
}

/// Bytes as `i8`s.
fn i8s(bytes: &[u8]) -> &[i8] {
    // SAFETY: i8 and u8 have one layout.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr() as *const i8, bytes.len()) }
}

/// The box `lo..hi` (`[batch, rows, columns]`) of the integer matmul `op` into `sums`,
/// `[column][row]`: the GEMM's rows are `b`'s columns (transposed, depth in groups of four:
/// packed at compile time or here), its columns `a`'s rows.
fn matmul(m: &Mem, op: &KernelOp, lo: &[u64], hi: &[u64], sums: &mut [i32]) {
    let KernelOp::MatMul { a, b, .. } = op else {
        return;
    };
    let (bi, m0, n0) = (lo[0], lo[1] as usize, lo[2] as usize);
    let (rows, cols) = ((hi[1] - lo[1]) as usize, (hi[2] - lo[2]) as usize);
    let depth = a.shape[2] as usize;
    let k4 = depth.next_multiple_of(DEPTH_GROUP);
    let (ab, bb) = (m.bytes(a), m.bytes(b));
    OPERANDS.with_mut(|(filters, columns)| {
        let columns = columns.get_or_insert_with(|| Columns::new(0, 0));
        columns.reset(depth, rows);
        let a0 = offset_at(a, &[bi, m0 as u64, 0]);
        let [row_step, k_step] = [a.strides[1], a.strides[2]];
        for g in 0..k4 / DEPTH_GROUP {
            let panel = columns.panel_mut(g);
            for (r, lane) in panel[..rows].iter_mut().enumerate() {
                let base = a0 + r as i64 * row_step;
                *lane = u32::from_le_bytes(core::array::from_fn(|t| {
                    let k = g * DEPTH_GROUP + t;
                    if k < depth {
                        ab[(base + k as i64 * k_step) as usize]
                    } else {
                        0
                    }
                }));
            }
        }
        let weights: &[i8] = if b.shape.len() == 4 {
            let start = b.offset as usize + (bi as usize * b.shape[1] as usize + n0) * k4;
            i8s(&bb[start..][..cols * k4])
        } else {
            let b0 = offset_at(b, &[bi, 0, n0 as u64]);
            filters.clear();
            filters.resize(cols * k4, 0);
            for (j, row) in filters.chunks_exact_mut(k4).enumerate() {
                for (k, v) in row[..depth].iter_mut().enumerate() {
                    let at = b0 + k as i64 * b.strides[1] + j as i64 * b.strides[2];
                    *v = bb[at as usize] as i8;
                }
            }
            filters
        };
        // SAFETY: `sums` holds cols rows of `rows` sums.
        unsafe { IntKernels::best().gemm(cols, weights, columns, sums.as_mut_ptr(), rows) };
    });
}
