//! Strided views as the compiler reasons about them: which layout changes are free.
//!
//! A value that is a transpose, slice, broadcast or reshape of stored data needs no kernel when
//! its elements can be addressed as `offset + Σ idx[d]·strides[d]` of that data. These helpers
//! compute such strides, or say that the layout change needs a copy. Sizes and strides are
//! [`SymExpr`]s: a dim may be known only at run time, and a free layout change must be free at
//! every size, so every equality here is one of expressions.

use kiln_ir::SymExpr;
use kiln_kernel::{Sizes, Symbolic};

/// True when `e` is the constant `c`.
pub fn is(e: &SymExpr, c: i64) -> bool {
    e.as_const() == Some(c)
}

/// The product of `dims` (1 for none).
pub fn product(dims: &[SymExpr]) -> SymExpr {
    dims.iter().fold(SymExpr::from(1), |acc, d| acc * d.clone())
}

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[SymExpr]) -> Vec<SymExpr> {
    Symbolic::contiguous_strides(shape)
}

/// Strides of a tensor of `from_shape` (with `strides`) broadcast NumPy-style to `to_shape`.
pub fn broadcast_strides(
    from_shape: &[SymExpr],
    strides: &[SymExpr],
    to_shape: &[SymExpr],
) -> Vec<SymExpr> {
    let off = to_shape.len() - from_shape.len();
    (0..to_shape.len())
        .map(|d| {
            if d < off || (is(&from_shape[d - off], 1) && !is(&to_shape[d], 1)) {
                SymExpr::from(0)
            } else {
                strides[d - off].clone()
            }
        })
        .collect()
}

/// Strides that view the same elements with a new shape, if no copy is needed
/// (NumPy's "no-copy reshape": dims are matched in groups of equal element count).
pub fn reshape_strides(
    shape: &[SymExpr],
    strides: &[SymExpr],
    new_shape: &[SymExpr],
) -> Option<Vec<SymExpr>> {
    let old: Vec<(&SymExpr, &SymExpr)> = shape
        .iter()
        .zip(strides)
        .filter(|(n, _)| !is(n, 1))
        .collect();
    let mut out = vec![SymExpr::from(0); new_shape.len()];
    let (mut oi, mut ni) = (0, 0);
    let new_idx: Vec<usize> = (0..new_shape.len())
        .filter(|&d| !is(&new_shape[d], 1))
        .collect();
    while oi < old.len() && ni < new_idx.len() {
        let (oj0, nj0) = (oi, ni);
        let (mut op, mut np) = (old[oi].0.clone(), new_shape[new_idx[ni]].clone());
        // Grow the group whose element count is smaller (by estimate) until both sides hold
        // the same count as expressions; running out of dims means no free reshape.
        while op != np {
            if op.estimate() <= np.estimate() {
                oi += 1;
                op = op * old.get(oi)?.0.clone();
            } else {
                ni += 1;
                np = np * new_shape[*new_idx.get(ni)?].clone();
            }
        }
        // The old dims of this group must be laid out contiguously relative to each other.
        for k in oj0..oi {
            if *old[k].1 != old[k + 1].1.clone() * old[k + 1].0.clone() {
                return None;
            }
        }
        out[new_idx[ni]] = old[oi].1.clone();
        for k in (nj0..ni).rev() {
            out[new_idx[k]] = out[new_idx[k + 1]].clone() * new_shape[new_idx[k + 1]].clone();
        }
        oi += 1;
        ni += 1;
    }
    if oi != old.len() || ni != new_idx.len() {
        return None;
    }
    // Size-1 dims take the row-major stride, so contiguous data stays recognisably contiguous.
    for d in (0..new_shape.len()).rev() {
        if is(&new_shape[d], 1) {
            out[d] = match out.get(d + 1) {
                Some(s) => s.clone() * new_shape[d + 1].clone(),
                None => SymExpr::from(1),
            };
        }
    }
    Some(out)
}

/// Merges consecutive dims into groups (given as group sizes in dims), if the strides allow.
pub fn collapse(
    shape: &[SymExpr],
    strides: &[SymExpr],
    groups: &[usize],
) -> Option<(Vec<SymExpr>, Vec<SymExpr>)> {
    let mut new_shape = vec![];
    let mut d = 0;
    for &g in groups {
        new_shape.push(product(&shape[d..d + g]));
        d += g;
    }
    debug_assert_eq!(d, shape.len(), "groups must cover every dim");
    let s = reshape_strides(shape, strides, &new_shape)?;
    Some((new_shape, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &[&str]) -> Vec<SymExpr> {
        v.iter().map(|s| SymExpr::parse(s).unwrap()).collect()
    }

    #[test]
    fn reshape_of_contiguous_is_free() {
        let r = |a: &[&str], s: &[&str], b: &[&str]| reshape_strides(&e(a), &e(s), &e(b));
        assert_eq!(
            r(&["2", "3", "4"], &["12", "4", "1"], &["6", "4"]),
            Some(e(&["4", "1"]))
        );
        assert_eq!(
            r(&["2", "3", "4"], &["12", "4", "1"], &["2", "1", "12"]),
            Some(e(&["12", "12", "1"]))
        );
        // Symbolic dims group by equal element counts: [b, s, 64] as [b*s, 64] and back.
        assert_eq!(
            r(&["b", "s", "64"], &["64*s", "64", "1"], &["b*s", "64"]),
            Some(e(&["64", "1"]))
        );
        assert_eq!(
            r(&["b*s", "64"], &["64", "1"], &["b", "s", "4", "16"]),
            Some(e(&["64*s", "64", "16", "1"]))
        );
        // [h, w] as [w, h] is a reshape of contiguous data, still free.
        assert_eq!(
            r(&["h", "w"], &["w", "1"], &["w", "h"]),
            Some(e(&["h", "1"]))
        );
    }

    #[test]
    fn reshape_of_transpose_needs_a_copy_unless_dims_stay_apart() {
        let r = |a: &[&str], s: &[&str], b: &[&str]| reshape_strides(&e(a), &e(s), &e(b));
        // [3,2] transposed from [2,3]: strides [1,3]; flattening needs a copy.
        assert_eq!(r(&["3", "2"], &["1", "3"], &["6"]), None);
        assert_eq!(r(&["w", "h"], &["1", "w"], &["h*w"]), None);
        // Splitting a dim of a transposed view is fine.
        assert_eq!(
            r(&["4", "2"], &["1", "4"], &["2", "2", "2"]),
            Some(e(&["2", "1", "4"]))
        );
    }

    #[test]
    fn broadcast_uses_zero_strides() {
        assert_eq!(
            broadcast_strides(&e(&["3", "1"]), &e(&["1", "1"]), &e(&["2", "3", "4"])),
            e(&["0", "1", "0"])
        );
        assert_eq!(
            collapse(&e(&["2", "3", "4"]), &e(&["0", "0", "1"]), &[2, 1]),
            Some((e(&["6", "4"]), e(&["0", "1"])))
        );
        assert_eq!(
            broadcast_strides(&e(&["n", "1"]), &e(&["1", "1"]), &e(&["n", "c"])),
            e(&["1", "0"])
        );
    }
}
