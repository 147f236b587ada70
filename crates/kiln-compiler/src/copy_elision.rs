//! Copy elision: a storage whose every copy goes to one place in another storage is written
//! there in the first place.
//!
//! Dispatch formation writes each input of a concat into its slice of the result as part of
//! the kernel that computes it where it can. An input that a named op computes (a
//! convolution, a matmul), or that other ops read too, is stored first and then copied — as
//! are the halves of a split that are concatenated again (a YOLO-style block splits a
//! convolution's channels, runs a bottleneck on one half and concatenates both halves with
//! its output). Here such a storage is laid out inside its destination instead: every view
//! of it, the producer's output and every reader's input, moves to the destination at the
//! copies' shift, and the copies go.
//!
//! A storage `s` moves into `d` at shift `δ` (element `i` of `s` becomes element `i + δ` of
//! `d`) when:
//! - every copy reading `s` is an identity (`{ yield in0 }`, input and output views of one
//!   shape and strides) into `d` at shift `δ`, and there is at least one;
//! - `s` is computed in this function and is not a result; `d` has its element type and
//!   room for all of `s` at `δ`;
//! - nothing but those copies writes `d` where `s` would lie, nothing reads `d` there before
//!   the last copy, and nothing writes `s` after the first copy;
//! - no named op (a convolution, a matmul, …) touches both `s` and `d`: the CPU runtime
//!   reads a named op's inputs as whole bindings, so none may read a binding it writes; an
//!   elementwise kernel may (the VMVX loader checks the bytes read lie apart from those
//!   written).
//!
//! Static sizes only: the spans compared are numbers.

use kiln_kernel::{Dispatch, Dispatches, Op, StorageId, StorageKind};

/// Elides the copies the module docs describe, until none is left.
pub fn elide_copies(d: &mut Dispatches) {
    while let Some(plan) = find(d) {
        apply(d, &plan);
    }
}

/// A storage to move into another, and the copies that then go.
struct Move {
    from: StorageId,
    into: StorageId,
    shift: i64,
    copies: Vec<usize>,
}

/// A whole-view identity copy: its source and destination storages and the shift.
fn copy_of(dispatch: &Dispatch) -> Option<(StorageId, StorageId, i64)> {
    let Op::Generic {
        reduction_dims: 0,
        inputs,
        outputs,
        body,
        ..
    } = &dispatch.kernel
    else {
        return None;
    };
    let ([input], [output]) = (&inputs[..], &outputs[..]) else {
        return None;
    };
    let identity = body.is_identity();
    // The same element walk: strides agree wherever a dim has more than one element.
    let same_walk = input.shape == output.shape
        && input.element_type == output.element_type
        && (0..input.shape.len())
            .all(|i| input.shape[i] <= 1 || input.strides[i] == output.strides[i]);
    if !identity || !same_walk {
        return None;
    }
    let shift = i64::try_from(output.offset).ok()? - i64::try_from(input.offset).ok()?;
    Some((
        dispatch.operands[input.operand as usize],
        dispatch.operands[output.operand as usize],
        shift,
    ))
}

/// The first storage that can move, with its destination.
fn find(d: &Dispatches) -> Option<Move> {
    let copies: Vec<Option<(StorageId, StorageId, i64)>> =
        d.dispatches.iter().map(copy_of).collect();
    // The copies reading each storage, in order.
    let mut copied = vec![vec![]; d.storages.len()];
    for (k, copy) in copies.iter().enumerate() {
        if let Some((src, _, _)) = copy {
            copied[src.index()].push(k);
        }
    }
    (0..d.storages.len()).find_map(|s| {
        let from = StorageId(s as u32);
        let mine = std::mem::take(&mut copied[s]);
        let &first = mine.first()?;
        let (_, into, shift) = copies[first]?;
        let agree = mine
            .iter()
            .all(|&k| copies[k].is_some_and(|(_, i, sh)| i == into && sh == shift));
        let plan = Move {
            from,
            into,
            shift,
            copies: mine,
        };
        (agree && movable(d, &plan)).then_some(plan)
    })
}

/// Whether `plan` keeps every read and write the same (the module docs' conditions).
fn movable(d: &Dispatches, plan: &Move) -> bool {
    let (from, into) = (
        &d.storages[plan.from.index()],
        &d.storages[plan.into.index()],
    );
    let computed = from.kind == StorageKind::Computed && into.kind == StorageKind::Computed;
    let fits = plan.shift >= 0
        && from.element_type == into.element_type
        && u64::try_from(plan.shift)
            .ok()
            .and_then(|sh| sh.checked_add(from.elements))
            .is_some_and(|end| end <= into.elements);
    if plan.from == plan.into || !computed || !fits || d.results.contains(&plan.from) {
        return false;
    }
    let region = (plan.shift, plan.shift + from.elements as i64);
    let (first_copy, last_copy) = (plan.copies[0], plan.copies[plan.copies.len() - 1]);
    d.dispatches.iter().enumerate().all(|(k, dispatch)| {
        if plan.copies.contains(&k) {
            return true;
        }
        // Only elementwise kernels may read one part of a binding they write another part of
        // (named ops read their inputs as whole bindings).
        let both = [plan.from, plan.into]
            .iter()
            .all(|s| dispatch.operands.contains(s));
        if both && !matches!(dispatch.kernel, Op::Generic { .. }) {
            return false;
        }
        let written = dispatch.kernel.outputs();
        dispatch.kernel.views().iter().all(|v| {
            let storage = dispatch.operands[v.operand as usize];
            let writes = written.iter().any(|w| std::ptr::eq(*w, *v));
            let span = match writes {
                true => dispatch.kernel.written_part(v).span(),
                false => v.span(),
            };
            let span = match span {
                Ok(Some(span)) => span,
                Ok(None) => return true,
                Err(_) => return false,
            };
            let overlaps = span.0 < region.1 && region.0 < span.1;
            if storage == plan.into && overlaps {
                // Only reads of the destination's part, after the copies.
                !writes && k > last_copy
            } else if storage == plan.from && writes {
                k < first_copy
            } else {
                true
            }
        })
    })
}

/// Moves `plan.from` into `plan.into` in every view and drops the copies.
fn apply(d: &mut Dispatches, plan: &Move) {
    for dispatch in &mut d.dispatches {
        if !dispatch.operands.contains(&plan.from) {
            continue;
        }
        // Views naming storages, renumbered as a new dispatch numbers them.
        let mut kernel = dispatch.kernel.clone();
        for v in kernel.views_mut() {
            let storage = dispatch.operands[v.operand as usize];
            v.operand = if storage == plan.from {
                v.offset = (v.offset as i64 + plan.shift) as u64;
                plan.into.0
            } else {
                storage.0
            };
        }
        *dispatch = Dispatch::over_storages(kernel);
    }
    let mut k = 0;
    d.dispatches.retain(|_| {
        k += 1;
        !plan.copies.contains(&(k - 1))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_kernel::{Body, Inst, ReduceFn, Storage, View};
    use kiln_types::ElementType::F32;

    fn computed(elements: u64) -> Storage {
        Storage {
            kind: StorageKind::Computed,
            element_type: F32,
            elements,
        }
    }

    /// An elementwise kernel from `input` to `output` (views over storage ids) yielding the
    /// last of `insts`.
    fn elementwise(input: View, output: View, insts: Vec<Inst>) -> Dispatch {
        let last = insts.len() as u32 - 1;
        Dispatch::over_storages(Op::Generic {
            shape: input.shape.clone(),
            reduction_dims: 0,
            reduce: ReduceFn::Sum,
            inputs: vec![input],
            outputs: vec![output],
            body: Body {
                insts,
                results: vec![last],
            },
        })
    }

    /// `{ yield in0 }`.
    fn copy(input: View, output: View) -> Dispatch {
        elementwise(input, output, vec![Inst::Input(0)])
    }

    /// `out = in + in`.
    fn double(input: View, output: View) -> Dispatch {
        let add = Inst::Binary(kiln_kernel::BinaryFn::Add, 0, 0);
        elementwise(input, output, vec![Inst::Input(0), add])
    }

    /// A split's halves copied into a concat with a third part: `%s1` (8) is computed from
    /// `%s0`, both its halves go to `%s2` (12) at shift 0, its second half also feeds `%s3`,
    /// which is written to `%s2[8..12]`.
    fn split_and_concat() -> Dispatches {
        let v = |s: u32, offset: u64, n: u64| View::contiguous(s, offset, F32, &[n]);
        Dispatches {
            storages: vec![
                Storage {
                    kind: StorageKind::Param(0),
                    element_type: F32,
                    elements: 8,
                },
                computed(8),
                computed(12),
                computed(4),
            ],
            dispatches: vec![
                double(v(0, 0, 8), v(1, 0, 8)),
                double(v(1, 4, 4), v(3, 0, 4)),
                copy(v(1, 0, 4), v(2, 0, 4)),
                copy(v(1, 4, 4), v(2, 4, 4)),
                copy(v(3, 0, 4), v(2, 8, 4)),
            ],
            results: vec![StorageId(2)],
        }
    }

    #[test]
    fn a_split_concatenated_again_is_computed_in_place() {
        let mut d = split_and_concat();
        elide_copies(&mut d);
        // %s1 now lives in %s2[0..8] and %s3 in %s2[8..12]: no copy is left.
        assert_eq!(d.dispatches.len(), 2);
        assert_eq!(d.dispatches[0].operands, [StorageId(0), StorageId(2)]);
        assert_eq!(d.dispatches[1].operands, [StorageId(2)]);
        let views = d.dispatches[1].kernel.views();
        assert_eq!([views[0].offset, views[1].offset], [4, 8]);
    }

    #[test]
    fn a_destination_written_elsewhere_keeps_its_copy() {
        let mut d = split_and_concat();
        // A fourth dispatch overwrites %s2[2..6] after the copies: %s1 may not live there.
        let v = |s: u32, offset: u64, n: u64| View::contiguous(s, offset, F32, &[n]);
        d.dispatches.push(double(v(0, 0, 4), v(2, 2, 4)));
        elide_copies(&mut d);
        let copies = d.dispatches.iter().filter(|x| copy_of(x).is_some()).count();
        assert_eq!(copies, 2, "the copies of %s1 stay; %s3's moves");
    }

    #[test]
    fn copies_to_two_places_stay() {
        let mut d = split_and_concat();
        let v = |s: u32, offset: u64, n: u64| View::contiguous(s, offset, F32, &[n]);
        d.storages.push(computed(4));
        d.dispatches.push(copy(v(1, 0, 4), v(4, 0, 4)));
        d.results.push(StorageId(4));
        elide_copies(&mut d);
        let copies = d.dispatches.iter().filter(|x| copy_of(x).is_some()).count();
        assert_eq!(copies, 3);
    }
}
