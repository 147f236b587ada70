//! Workgroups of gathers: `out[o, n, i] = data[o, indices[n], i]`, a workgroup taking whole
//! rows `o`; each index is read and checked once per workgroup.

use super::{read, rows, Mem};
use crate::format::*;
use alloc::string::String;
use alloc::vec::Vec;
use kiln_types::ElementType;

/// Runs workgroup `wg` of gather `k`.
pub(super) fn run(m: &Mem, k: &Kernel, wg: u64) -> Result<(), String> {
    let KernelOp::Gather { data, indices, out } = &k.op else {
        return Err("not a gather".into());
    };
    let (o0, o1) = rows(k, wg);
    let size = data.element_type.byte_size();
    let (len, inner) = (data.shape[1] as i64, data.shape[2] as usize);
    let picks = picks(m, indices, len, data.strides[1])?;
    // A picked slice is one run of bytes where its elements are contiguous.
    let (runs, run_len) = match inner == 1 || data.strides[2] == 1 {
        true => (1, inner),
        false => (inner, 1),
    };
    let slice_len = out.shape[2] as i64;
    for o in o0..o1 {
        let src_row = data.offset as i64 + o as i64 * data.strides[0];
        let dst_row = out.offset as i64 + (o * out.shape[1]) as i64 * slice_len;
        if inner == 1 && matches!(size, 1 | 2 | 4 | 8) {
            let (src, dst) = (m.ptr(data, src_row), m.ptr(out, dst_row));
            // SAFETY: every picked element and the output row lie in their views.
            unsafe {
                match size {
                    4 => gather_elements::<u32>(src, &picks, dst),
                    8 => gather_elements::<u64>(src, &picks, dst),
                    2 => gather_elements::<u16>(src, &picks, dst),
                    _ => gather_elements::<u8>(src, &picks, dst),
                }
            }
            continue;
        }
        for (n, &pick) in picks.iter().enumerate() {
            for i in 0..runs as i64 {
                let src = src_row + pick + i * data.strides[2];
                let dst = dst_row + n as i64 * slice_len + i;
                // SAFETY: both element runs lie in their views, checked per
                // dispatch; the output does not overlap the data.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        m.ptr(data, src),
                        m.ptr(out, dst),
                        run_len * size,
                    )
                };
            }
        }
    }
    Ok(())
}

/// A gather's indices, each read and checked once: the element offset (`step` per index)
/// that each picks in a row of `len`. 64-bit indices, the usual kind, are read in one loop
/// without a per-index type dispatch.
fn picks(m: &Mem, indices: &View, len: i64, step: i64) -> Result<Vec<i64>, String> {
    let count = indices.shape[0] as usize;
    let stride = indices.strides[0] as isize;
    let pick = |raw: i64| {
        let idx = if raw < 0 { raw + len } else { raw };
        match (0..len).contains(&idx) {
            true => Ok(idx * step),
            false => Err(kiln_types::message!(
                "gather index {raw} is out of range for a dim of size {len}"
            )),
        }
    };
    let mut picks = Vec::with_capacity(count);
    match indices.element_type {
        ElementType::I64 => {
            let first = m.ptr(indices, indices.offset as i64) as *const i64;
            for n in 0..count {
                // SAFETY: the view's `count` elements lie in its binding (checked per
                // dispatch); 64-bit integers are read exactly.
                let raw = unsafe { first.offset(n as isize * stride).read_unaligned() };
                picks.push(pick(raw)?);
            }
        }
        _ => {
            for n in 0..count as i64 {
                let at = indices.offset as i64 + n * indices.strides[0];
                picks.push(pick(read_i64(m, indices, at))?);
            }
        }
    }
    Ok(picks)
}

/// `out[n] = row[picks[n]]` for every pick, elements of type `T` (offsets in elements).
///
/// # Safety
/// Every picked element of `row` must be readable and `picks.len()` elements at `out`
/// writable, not overlapping them.
unsafe fn gather_elements<T: Copy>(row: *const u8, picks: &[i64], out: *mut u8) {
    let (row, out) = (row as *const T, out as *mut T);
    for (n, &pick) in picks.iter().enumerate() {
        // SAFETY: by the caller's contract.
        unsafe {
            out.add(n)
                .write_unaligned(row.offset(pick as isize).read_unaligned())
        };
    }
}

/// Reads one integer element as i64.
fn read_i64(m: &Mem, v: &View, elem: i64) -> i64 {
    // SAFETY: an in-span element (checked per dispatch); 64-bit integers read exactly.
    unsafe {
        let p = m.ptr(v, elem);
        match v.element_type {
            ElementType::I64 | ElementType::U64 => (p as *const i64).read_unaligned(),
            t => read(t, p) as i64,
        }
    }
}
