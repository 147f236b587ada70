//! Buffer planning and host program emission.
//!
//! Contract: takes one function's dispatches in execution order, in any kernel form (the
//! target-free kernel IR or a backend's lowered kernels: planning only reads storages and
//! operands), and produces its host program: with sizes in bytes for static sizes
//! ([`plan`], a [`BoundProgram`]), or as expressions over the function's symbols
//! ([`plan_symbolic`]). A dispatch's bindings are its operands, in order.
//!
//! - Parameters, results and constants live in their own buffer spaces. Every other storage gets
//!   an offset in one transient arena, 64-byte aligned. With static sizes, a storage's bytes are
//!   reused once its last reader has run (first fit over live intervals). With symbolic sizes,
//!   a storage reuses the block of a dead one of the very same size expression, and otherwise
//!   gets a new block after the others, so blocks never overlap at any size.
//! - A barrier goes between two dispatches only when the later one touches bytes the earlier
//!   ones (since the last barrier) wrote, or writes bytes they read.

use crate::CompileError;
use kiln_kernel::{Dispatch, Dispatches, Sizes, StorageId, StorageKind, Symbolic};
use kiln_module::{BindingRef, BoundProgram, BufferSpace, HostInst, HostProgram};
use kiln_types::sym::SymExpr;

const ALIGN: u64 = 64;

/// Bytes `start..end` of a buffer space (for symbolic sizes: a block's number and the next).
type ByteRange = (BufferSpace, u64, u64);

/// A kernel's workgroup grid; `None` when the executable computes it for each dispatch's
/// sizes.
pub type GridFn<K, S> = dyn Fn(&K) -> Result<Option<[S; 3]>, CompileError>;

/// What the planner needs to know of a target's kernels, with sizes of family `Z`.
pub struct PlanTarget<'a, K, S> {
    /// The index of the executable holding dispatch `i` as entry point `first_entry + i`.
    pub executable: u32,
    pub first_entry: u32,
    /// The storages a dispatch writes.
    pub written: &'a dyn Fn(&Dispatch<K>) -> Vec<StorageId>,
    /// The target's workgroup grid for a kernel.
    pub workgroups: &'a GridFn<K, S>,
    /// The values a dispatch of the kernel passes (the symbols it reads).
    pub params: &'a dyn Fn(&K) -> Vec<S>,
}

/// Live range of each storage, in dispatch indices (`first` is `usize::MAX` for unused ones).
fn live_ranges<K, Z: Sizes>(d: &Dispatches<K, Z>) -> (Vec<usize>, Vec<usize>) {
    let n = d.storages.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (k, dispatch) in d.dispatches.iter().enumerate() {
        for s in &dispatch.operands {
            first[s.index()] = first[s.index()].min(k);
            last[s.index()] = last[s.index()].max(k);
        }
    }
    (first, last)
}

/// The buffer space of each storage.
fn spaces<K, Z: Sizes>(
    d: &Dispatches<K, Z>,
    first: &[usize],
    constant_index: &mut dyn FnMut(u32) -> u32,
) -> Vec<BufferSpace> {
    let mut spaces: Vec<BufferSpace> = d
        .storages
        .iter()
        .enumerate()
        .map(|(i, s)| match s.kind {
            StorageKind::Param(p) => BufferSpace::Input(p),
            StorageKind::Constant(c) if first[i] != usize::MAX => {
                BufferSpace::Constant(constant_index(c))
            }
            StorageKind::Constant(_) | StorageKind::Computed => BufferSpace::Transient,
        })
        .collect();
    for (r, s) in d.results.iter().enumerate() {
        spaces[s.index()] = BufferSpace::Output(r as u32);
    }
    spaces
}

/// The dispatches and barriers, given each storage's byte range (for hazards) and binding.
fn emit<K, Z: Sizes, S>(
    d: &Dispatches<K, Z>,
    target: &PlanTarget<K, S>,
    range: &dyn Fn(StorageId) -> ByteRange,
    binding: &dyn Fn(StorageId) -> BindingRef<S>,
) -> Result<Vec<HostInst<S>>, CompileError> {
    let mut insts = vec![];
    let (mut since_w, mut since_r): (Vec<ByteRange>, Vec<ByteRange>) = (vec![], vec![]);
    let overlaps =
        |a: &ByteRange, set: &[ByteRange]| set.iter().any(|b| a.0 == b.0 && a.1 < b.2 && b.1 < a.2);
    for (k, dispatch) in d.dispatches.iter().enumerate() {
        let writes = (target.written)(dispatch);
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
        insts.push(HostInst::Dispatch {
            executable: target.executable,
            kernel: target.first_entry + k as u32,
            workgroups: (target.workgroups)(&dispatch.kernel)?,
            bindings: dispatch.operands.iter().map(|&s| binding(s)).collect(),
            params: (target.params)(&dispatch.kernel),
        });
    }
    Ok(insts)
}

/// Plans buffers and emits the host program of a function with static sizes.
/// `constant_index` maps a storage's constant id to its index in the module's constant table.
pub fn plan<K>(
    d: &Dispatches<K>,
    target: &PlanTarget<K, u64>,
    constant_index: &mut dyn FnMut(u32) -> u32,
) -> Result<BoundProgram, CompileError> {
    let (first, last) = live_ranges(d);
    let spaces = spaces(d, &first, constant_index);
    let mut offsets = vec![0u64; d.storages.len()];
    // First-fit arena allocation in dispatch order.
    let mut live: Vec<(u64, u64, usize)> = vec![]; // (offset, size, last use)
    let mut transient_size = 0u64;
    for k in 0..d.dispatches.len() {
        live.retain(|&(_, _, end)| end >= k);
        for s in 0..d.storages.len() {
            if first[s] != k || spaces[s] != BufferSpace::Transient {
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
            offsets[s] = offset;
            transient_size = transient_size.max(offset + size);
        }
    }
    let range = |s: StorageId| {
        let o = offsets[s.index()];
        (spaces[s.index()], o, o + d.storages[s.index()].bytes())
    };
    let binding = |s: StorageId| BindingRef {
        space: spaces[s.index()],
        offset: offsets[s.index()],
        length: d.storages[s.index()].bytes(),
    };
    Ok(BoundProgram {
        transient_size,
        insts: emit(d, target, &range, &binding)?,
    })
}

/// Plans buffers and emits the host program of a function whose sizes are expressions over
/// its symbols: binding ranges, the arena's size, workgroup counts and kernel parameters are
/// expressions the runtime evaluates per call.
pub fn plan_symbolic<K>(
    d: &Dispatches<K, Symbolic>,
    target: &PlanTarget<K, SymExpr>,
    constant_index: &mut dyn FnMut(u32) -> u32,
) -> Result<HostProgram, CompileError> {
    let (first, last) = live_ranges(d);
    let spaces = spaces(d, &first, constant_index);
    let bytes = |s: usize| {
        let st = &d.storages[s];
        st.elements.clone() * SymExpr::from(st.element_type.byte_size() as i64)
    };
    // Blocks of the arena: offset, size, and the last use of the storage holding it.
    let mut blocks: Vec<(SymExpr, SymExpr, usize)> = vec![];
    let mut block_of = vec![usize::MAX; d.storages.len()];
    let mut end = SymExpr::from(0);
    for k in 0..d.dispatches.len() {
        for s in 0..d.storages.len() {
            if first[s] != k || spaces[s] != BufferSpace::Transient {
                continue;
            }
            let size = bytes(s).ceil_div(ALIGN as i64) * SymExpr::from(ALIGN as i64);
            let free = blocks
                .iter()
                .position(|(_, sz, until)| *until < k && *sz == size);
            let b = match free {
                Some(b) => b,
                None => {
                    blocks.push((end.clone(), size.clone(), 0));
                    end = end + size;
                    blocks.len() - 1
                }
            };
            blocks[b].2 = last[s];
            block_of[s] = b;
        }
    }
    // Hazards compare blocks (and whole buffers of the other spaces): blocks never overlap.
    let range = |s: StorageId| match spaces[s.index()] {
        BufferSpace::Transient => {
            let b = block_of[s.index()] as u64;
            (BufferSpace::Transient, b, b + 1)
        }
        other => (other, 0, 1),
    };
    let binding = |s: StorageId| BindingRef {
        space: spaces[s.index()],
        offset: match spaces[s.index()] {
            BufferSpace::Transient => blocks[block_of[s.index()]].0.clone(),
            _ => SymExpr::from(0),
        },
        length: bytes(s.index()),
    };
    Ok(HostProgram {
        transient_size: end.clone(),
        insts: emit(d, target, &range, &binding)?,
    })
}
