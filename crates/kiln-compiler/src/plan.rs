//! Buffer planning and host program emission.
//!
//! Contract: takes the kernels of one function in execution order and produces its
//! [`HostProgram`] plus the kernels with per-dispatch binding numbers.
//!
//! - Parameters, results and constants live in their own buffer spaces. Every other storage gets
//!   an offset in one transient arena; a storage's bytes are reused once its last reader has run
//!   (first fit over live intervals, 64-byte aligned).
//! - A barrier goes between two dispatches only when the later one touches bytes the earlier
//!   ones (since the last barrier) wrote, or writes bytes they read.

use crate::dispatch::{Dispatches, StorageId, StorageKind};
use crate::CompileError;
use kiln_ir::ConstId;
use kiln_module::{BindingRef, BufferSpace, HostInst, HostProgram};
use kiln_vmvx::format::Kernel;
use std::collections::HashMap;

const ALIGN: u64 = 64;

/// Bytes `start..end` of a buffer space.
type ByteRange = (BufferSpace, u64, u64);

/// Plans buffers and emits the host program. `constant_index` maps a program constant to its
/// index in the module's constant table; `executable` is the index of the executable holding
/// kernel `first_kernel + i` as entry point `i`; `workgroups` is the target's grid for a kernel.
pub fn plan(
    d: &Dispatches,
    first_kernel: u32,
    executable: u32,
    constant_index: &mut dyn FnMut(ConstId) -> u32,
    workgroups: &dyn Fn(&Kernel) -> Result<[u32; 3], String>,
) -> Result<(HostProgram, Vec<Kernel>), CompileError> {
    let n = d.storages.len();
    // Live range of each computed storage, in kernel indices.
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (k, kernel) in d.kernels.iter().enumerate() {
        for v in kernel.views() {
            let s = v.binding as usize;
            first[s] = first[s].min(k);
            last[s] = last[s].max(k);
        }
    }
    let mut placement: Vec<(BufferSpace, u64)> = vec![(BufferSpace::Transient, 0); n];
    for (i, s) in d.storages.iter().enumerate() {
        placement[i].0 = match s.kind {
            StorageKind::Param(p) => BufferSpace::Input(p as u32),
            StorageKind::Constant(c) => BufferSpace::Constant(constant_index(c)),
            StorageKind::Computed => BufferSpace::Transient,
        };
    }
    for (r, &s) in d.results.iter().enumerate() {
        placement[s].0 = BufferSpace::Output(r as u32);
    }
    // First-fit arena allocation in kernel order.
    let mut live: Vec<(u64, u64, usize)> = vec![]; // (offset, size, last use)
    let mut transient_size = 0u64;
    for k in 0..d.kernels.len() {
        live.retain(|&(_, _, end)| end >= k);
        for s in 0..n {
            if first[s] != k || placement[s].0 != BufferSpace::Transient {
                continue;
            }
            let size = d.storages[s].bytes().div_ceil(ALIGN) * ALIGN;
            live.sort_unstable();
            let mut offset = 0;
            for &(o, sz, _) in &live {
                if o >= offset + size {
                    break;
                }
                offset = offset.max(o + sz);
            }
            live.push((offset, size, last[s]));
            placement[s].1 = offset;
            transient_size = transient_size.max(offset + size);
        }
    }
    let mut insts = vec![];
    let mut kernels = vec![];
    let (mut since_w, mut since_r): (Vec<ByteRange>, Vec<ByteRange>) = (vec![], vec![]);
    let overlaps =
        |a: &ByteRange, set: &[ByteRange]| set.iter().any(|b| a.0 == b.0 && a.1 < b.2 && b.1 < a.2);
    for (k, kernel) in d.kernels.iter().enumerate() {
        let writes: Vec<u32> = kernel.outputs().iter().map(|v| v.binding).collect();
        let mut order: Vec<StorageId> = vec![];
        for v in kernel.views() {
            if !order.contains(&(v.binding as usize)) {
                order.push(v.binding as usize);
            }
        }
        let range = |s: StorageId| {
            (
                placement[s].0,
                placement[s].1,
                placement[s].1 + d.storages[s].bytes(),
            )
        };
        let reads_k: Vec<_> = order
            .iter()
            .filter(|s| !writes.contains(&(**s as u32)))
            .map(|&s| range(s))
            .collect();
        let writes_k: Vec<_> = writes.iter().map(|&s| range(s as usize)).collect();
        let hazard = reads_k.iter().any(|r| overlaps(r, &since_w))
            || writes_k
                .iter()
                .any(|w| overlaps(w, &since_w) || overlaps(w, &since_r));
        if hazard {
            insts.push(HostInst::Barrier);
            since_w.clear();
            since_r.clear();
        }
        since_w.extend(writes_k);
        since_r.extend(reads_k);
        let index: HashMap<StorageId, u32> = order
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, i as u32))
            .collect();
        let mut kernel = kernel.clone();
        for v in kernel.views_mut() {
            v.binding = index[&(v.binding as usize)];
        }
        let bindings = order
            .iter()
            .map(|&s| BindingRef {
                space: placement[s].0,
                offset: placement[s].1,
                length: d.storages[s].bytes(),
            })
            .collect();
        insts.push(HostInst::Dispatch {
            executable,
            kernel: first_kernel + k as u32,
            workgroups: workgroups(&kernel).map_err(CompileError::Invalid)?,
            bindings,
        });
        kernels.push(kernel);
    }
    Ok((
        HostProgram {
            transient_size,
            insts,
        },
        kernels,
    ))
}
