//! Storages and dispatches: one function's work as dispatch regions.

use crate::{Op, Sizes, Static};
use kiln_types::ElementType;

/// Index into [`Dispatches::storages`]; prints as `%sN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageId(pub u32);

impl StorageId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for StorageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "%s{}", self.0)
    }
}

/// Where a storage's bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// The function's parameter of this index.
    Param(u32),
    /// The program constant of this index (data-tiled constants are added by backends).
    Constant(u32),
    /// Written by a dispatch.
    Computed,
}

/// A contiguous buffer holding one tensor's elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Storage<Z: Sizes = Static> {
    pub kind: StorageKind,
    pub element_type: ElementType,
    pub elements: Z::Extent,
}

impl Storage {
    pub fn bytes(&self) -> u64 {
        self.elements * self.element_type.byte_size() as u64
    }
}

/// One dispatch region: operand `i` is the storage its kernel's views numbered `i` read or
/// write (the binding number every backend gives it).
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatch<K = Op> {
    pub operands: Vec<StorageId>,
    pub kernel: K,
}

/// One function's dispatch regions in execution order, over its storages.
///
/// `K` is the kernel form: the target-free [`Op`] from dispatch formation, or a backend's
/// lowered kernel after [`Dispatches::map`].
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatches<K = Op, Z: Sizes = Static> {
    pub storages: Vec<Storage<Z>>,
    pub dispatches: Vec<Dispatch<K>>,
    /// The storage holding each function result.
    pub results: Vec<StorageId>,
}

impl<K, Z: Sizes> Dispatches<K, Z> {
    /// Adds a storage and returns its id.
    pub fn add_storage(&mut self, storage: Storage<Z>) -> StorageId {
        self.storages.push(storage);
        StorageId(self.storages.len() as u32 - 1)
    }

    /// The same storages with every kernel lowered by `f` (dispatch index, dispatch).
    pub fn map<L, E>(
        &self,
        mut f: impl FnMut(usize, &Dispatch<K>) -> Result<L, E>,
    ) -> Result<Dispatches<L, Z>, E> {
        Ok(Dispatches {
            storages: self.storages.clone(),
            dispatches: self
                .dispatches
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    Ok(Dispatch {
                        operands: d.operands.clone(),
                        kernel: f(i, d)?,
                    })
                })
                .collect::<Result<_, E>>()?,
            results: self.results.clone(),
        })
    }
}

impl<Z: Sizes> Dispatch<Op<Z>> {
    /// A dispatch of `op` whose views' `operand` fields hold storage ids: they are renumbered
    /// to operand indices in order of first appearance in [`Op::views`].
    pub fn over_storages(mut op: Op<Z>) -> Dispatch<Op<Z>> {
        let (operands, numbers) = number_operands(op.views().iter().map(|v| StorageId(v.operand)));
        for (v, n) in op.views_mut().into_iter().zip(numbers) {
            v.operand = n;
        }
        Dispatch {
            operands,
            kernel: op,
        }
    }

    /// The storages the dispatch writes.
    pub fn written(&self) -> Vec<StorageId> {
        self.kernel.written(&self.operands)
    }
}

/// Numbers the storages a kernel's views name, in order, by first appearance: returns the
/// operand list and each view's operand number. Every backend's binding order is this one.
pub fn number_operands(
    storages: impl IntoIterator<Item = StorageId>,
) -> (Vec<StorageId>, Vec<u32>) {
    let mut operands: Vec<StorageId> = vec![];
    let numbers = storages
        .into_iter()
        .map(|s| match operands.iter().position(|&o| o == s) {
            Some(i) => i as u32,
            None => {
                operands.push(s);
                operands.len() as u32 - 1
            }
        })
        .collect();
    (operands, numbers)
}
