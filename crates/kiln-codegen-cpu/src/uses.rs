//! Who writes and who reads each storage of a lowered function: what the CPU fusions
//! ([`crate::attention`], [`crate::pointwise_depthwise`]) check before they merge dispatches.

use kiln_kernel::{Dispatch, Dispatches, StorageId};
use kiln_types::ElementType;
use kiln_vmvx::format::{Kernel, View};

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
    let mut i = 0;
    d.dispatches.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    for (i, k) in d.dispatches.iter_mut().enumerate() {
        k.kernel.name = format!("dispatch_{i}");
    }
}
