//! Buffer planning and host program emission.
//!
//! Contract: takes one function's dispatches in execution order, in any kernel form (the
//! target-free kernel IR or a backend's lowered kernels: planning only reads storages and
//! operands), and produces its host program with sizes in bytes ([`BoundProgram`]). A dispatch's bindings are its operands, in
//! order.
//!
//! - Parameters, results and constants live in their own buffer spaces. Every other storage gets
//!   an offset in one transient arena; a storage's bytes are reused once its last reader has run
//!   (first fit over live intervals, 64-byte aligned).
//! - A barrier goes between two dispatches only when the later one touches bytes the earlier
//!   ones (since the last barrier) wrote, or writes bytes they read.

use crate::CompileError;
use kiln_kernel::{Dispatch, Dispatches, StorageId, StorageKind};
use kiln_module::{BindingRef, BoundProgram, BufferSpace, HostInst};

const ALIGN: u64 = 64;

/// Bytes `start..end` of a buffer space.
type ByteRange = (BufferSpace, u64, u64);

/// What the planner needs to know of a target's kernels.
pub struct PlanTarget<'a, K> {
    /// The index of the executable holding dispatch `i` as entry point `first_entry + i`.
    pub executable: u32,
    pub first_entry: u32,
    /// The storages a dispatch writes.
    pub written: &'a dyn Fn(&Dispatch<K>) -> Vec<StorageId>,
    /// The target's workgroup grid for a kernel.
    pub workgroups: &'a dyn Fn(&K) -> Result<[u32; 3], CompileError>,
}

/// Plans buffers and emits the host program. `constant_index` maps a storage's constant id to
/// its index in the module's constant table.
pub fn plan<K>(
    d: &Dispatches<K>,
    target: &PlanTarget<K>,
    constant_index: &mut dyn FnMut(u32) -> u32,
) -> Result<BoundProgram, CompileError> {
    let n = d.storages.len();
    // Live range of each storage, in dispatch indices.
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (k, dispatch) in d.dispatches.iter().enumerate() {
        for s in &dispatch.operands {
            first[s.index()] = first[s.index()].min(k);
            last[s.index()] = last[s.index()].max(k);
        }
    }
    let mut placement: Vec<(BufferSpace, u64)> = vec![(BufferSpace::Transient, 0); n];
    for (i, s) in d.storages.iter().enumerate() {
        placement[i].0 = match s.kind {
            StorageKind::Param(p) => BufferSpace::Input(p),
            StorageKind::Constant(c) if first[i] != usize::MAX => {
                BufferSpace::Constant(constant_index(c))
            }
            StorageKind::Constant(_) | StorageKind::Computed => BufferSpace::Transient,
        };
    }
    for (r, s) in d.results.iter().enumerate() {
        placement[s.index()].0 = BufferSpace::Output(r as u32);
    }
    // First-fit arena allocation in dispatch order.
    let mut live: Vec<(u64, u64, usize)> = vec![]; // (offset, size, last use)
    let mut transient_size = 0u64;
    for k in 0..d.dispatches.len() {
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
    let (mut since_w, mut since_r): (Vec<ByteRange>, Vec<ByteRange>) = (vec![], vec![]);
    let overlaps =
        |a: &ByteRange, set: &[ByteRange]| set.iter().any(|b| a.0 == b.0 && a.1 < b.2 && b.1 < a.2);
    for (k, dispatch) in d.dispatches.iter().enumerate() {
        let writes = (target.written)(dispatch);
        let range = |s: StorageId| {
            let (space, offset) = placement[s.index()];
            (space, offset, offset + d.storages[s.index()].bytes())
        };
        let reads_k: Vec<_> = dispatch
            .operands
            .iter()
            .filter(|s| !writes.contains(s))
            .map(|&s| range(s))
            .collect();
        let writes_k: Vec<_> = writes.iter().map(|&s| range(s)).collect();
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
        let bindings = dispatch
            .operands
            .iter()
            .map(|&s| BindingRef {
                space: placement[s.index()].0,
                offset: placement[s.index()].1,
                length: d.storages[s.index()].bytes(),
            })
            .collect();
        insts.push(HostInst::Dispatch {
            executable: target.executable,
            kernel: target.first_entry + k as u32,
            workgroups: (target.workgroups)(&dispatch.kernel)?.map(u64::from),
            bindings,
        });
    }
    Ok(BoundProgram {
        transient_size,
        insts,
    })
}
