//! Who writes and who reads each storage of a lowered function: what the CPU fusions
//! ([`crate::attention`], [`crate::pointwise_depthwise`]) check before they merge dispatches.

use kiln_kernel::{Dispatch, Dispatches, StorageId};
use kiln_types::ElementType;
use kiln_vmvx::format::{Kernel, KernelOp, View};

/// Who writes and who reads each storage, by dispatch index.
pub(crate) struct Uses {
    pub writers: Vec<Vec<usize>>,
    pub readers: Vec<Vec<usize>>,
}

impl Uses {
    pub fn of(d: &Dispatches<Kernel>) -> Uses {
        let n = d.storages.len();
        let mut uses = Uses {
            writers: vec![vec![]; n],
            readers: vec![vec![]; n],
        };
        for (i, dispatch) in d.dispatches.iter().enumerate() {
            let written = crate::written(dispatch);
            for &s in &dispatch.operands {
                match written.contains(&s) {
                    true => uses.writers[s.index()].push(i),
                    false => uses.readers[s.index()].push(i),
                }
            }
        }
        uses
    }

    /// Whether a dispatch after `first` up to and including `last` writes a storage that
    /// `d` (dispatch `first`) reads, other than its result `result`: `d` computed at
    /// `last`'s place, as a fusion moves it, would read something else.
    pub fn changed_after(
        &self,
        d: &Dispatch<Kernel>,
        result: StorageId,
        first: usize,
        last: usize,
    ) -> bool {
        d.kernel.views().iter().any(|view| {
            let storage = d.operands[view.binding as usize];
            storage != result
                && self.writers[storage.index()]
                    .iter()
                    .any(|&w| w > first && w <= last)
        })
    }

    /// The one dispatch that writes `s`, when one other reads it: `reader`.
    pub fn only_link(&self, s: StorageId, reader: usize) -> Option<usize> {
        match (&self.writers[s.index()][..], &self.readers[s.index()][..]) {
            ([w], [r]) if *r == reader => Some(*w),
            _ => None,
        }
    }
}

/// The storage a view of dispatch `d` reads, when the view covers it from its start in row
/// order with shape `shape`.
pub(crate) fn whole(d: &Dispatch<Kernel>, v: &View, shape: &[u64]) -> Option<StorageId> {
    (v.offset == 0 && v.shape == shape && v.is_contiguous() && v.element_type == ElementType::F32)
        .then(|| d.operands[v.binding as usize])
}

/// `view` of dispatch `second` as a view of the dispatch [`merged`] makes of `first` and it.
pub(crate) fn from_second(first: &Dispatch<Kernel>, view: &View) -> View {
    View {
        binding: view.binding + first.operands.len() as u32,
        ..view.clone()
    }
}

/// One dispatch computing `op` over `first`'s operands followed by `second`'s (`op`'s views
/// of `second`'s made by [`from_second`]), operands renumbered in order of first use.
pub(crate) fn merged(
    first: &Dispatch<Kernel>,
    second: &Dispatch<Kernel>,
    op: KernelOp,
) -> Dispatch<Kernel> {
    let mut fused = Dispatch {
        operands: first
            .operands
            .iter()
            .chain(&second.operands)
            .copied()
            .collect(),
        kernel: Kernel {
            name: String::new(),
            op,
        },
    };
    crate::renumber(&mut fused);
    fused
}

/// Puts each fused dispatch at its index, drops the `removed` ones it replaces, and renames
/// the kernels in their new order.
pub(crate) fn replace_fused(
    d: &mut Dispatches<Kernel>,
    fused: Vec<(usize, Dispatch<Kernel>)>,
    removed: &[bool],
) {
    if fused.is_empty() {
        return;
    }
    for (at, dispatch) in fused {
        d.dispatches[at] = dispatch;
    }
    remove(d, removed);
}

/// Drops the `removed` dispatches and renames the kernels in their new order (nothing
/// changes where none is removed).
pub(crate) fn remove(d: &mut Dispatches<Kernel>, removed: &[bool]) {
    if !removed.contains(&true) {
        return;
    }
    let mut i = 0;
    d.dispatches.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    for (i, k) in d.dispatches.iter_mut().enumerate() {
        k.kernel.name = format!("dispatch_{i}");
    }
}
