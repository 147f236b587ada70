//! Strided views as the compiler reasons about them: which layout changes are free.
//!
//! A value that is a transpose, slice, broadcast or reshape of stored data needs no kernel when
//! its elements can be addressed as `offset + Σ idx[d]·strides[d]` of that data. These helpers
//! compute such strides, or say that the layout change needs a copy.

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as i64;
    }
    s
}

/// Strides of a tensor of `from_shape` (with `strides`) broadcast NumPy-style to `to_shape`.
pub fn broadcast_strides(from_shape: &[usize], strides: &[i64], to_shape: &[usize]) -> Vec<i64> {
    let off = to_shape.len() - from_shape.len();
    (0..to_shape.len())
        .map(|d| {
            if d < off || (from_shape[d - off] == 1 && to_shape[d] != 1) {
                0
            } else {
                strides[d - off]
            }
        })
        .collect()
}

/// Strides that view the same elements with a new shape, if no copy is needed
/// (NumPy's "no-copy reshape": dims are matched in groups of equal element count).
pub fn reshape_strides(shape: &[usize], strides: &[i64], new_shape: &[usize]) -> Option<Vec<i64>> {
    let old: Vec<(usize, i64)> = shape
        .iter()
        .zip(strides)
        .filter(|(&n, _)| n != 1)
        .map(|(&n, &s)| (n, s))
        .collect();
    let mut out = vec![0i64; new_shape.len()];
    let (mut oi, mut ni) = (0, 0);
    let new_idx: Vec<usize> = (0..new_shape.len())
        .filter(|&d| new_shape[d] != 1)
        .collect();
    while oi < old.len() && ni < new_idx.len() {
        let (oj0, nj0) = (oi, ni);
        let (mut op, mut np) = (old[oi].0, new_shape[new_idx[ni]]);
        while op != np {
            if op < np {
                oi += 1;
                op *= old.get(oi)?.0;
            } else {
                ni += 1;
                np *= new_shape[*new_idx.get(ni)?];
            }
        }
        // The old dims of this group must be laid out contiguously relative to each other.
        for k in oj0..oi {
            if old[k].1 != old[k + 1].1 * old[k + 1].0 as i64 {
                return None;
            }
        }
        out[new_idx[ni]] = old[oi].1;
        for k in (nj0..ni).rev() {
            out[new_idx[k]] = out[new_idx[k + 1]] * new_shape[new_idx[k + 1]] as i64;
        }
        oi += 1;
        ni += 1;
    }
    if oi != old.len() || ni != new_idx.len() {
        return None;
    }
    // Size-1 dims take the row-major stride, so contiguous data stays recognisably contiguous.
    for d in (0..new_shape.len()).rev() {
        if new_shape[d] == 1 {
            out[d] = out.get(d + 1).map_or(1, |s| s * new_shape[d + 1] as i64);
        }
    }
    Some(out)
}

/// Merges consecutive dims into groups (given as group sizes in dims), if the strides allow.
pub fn collapse(
    shape: &[usize],
    strides: &[i64],
    groups: &[usize],
) -> Option<(Vec<usize>, Vec<i64>)> {
    let mut new_shape = vec![];
    let mut d = 0;
    for &g in groups {
        new_shape.push(shape[d..d + g].iter().product());
        d += g;
    }
    debug_assert_eq!(d, shape.len(), "groups must cover every dim");
    let s = reshape_strides(shape, strides, &new_shape)?;
    Some((new_shape, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_of_contiguous_is_free() {
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[6, 4]),
            Some(vec![4, 1])
        );
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[2, 1, 12]),
            Some(vec![12, 12, 1])
        );
    }

    #[test]
    fn reshape_of_transpose_needs_a_copy_unless_dims_stay_apart() {
        // [3,2] transposed from [2,3]: strides [1,3]; flattening needs a copy.
        assert_eq!(reshape_strides(&[3, 2], &[1, 3], &[6]), None);
        // Splitting a dim of a transposed view is fine.
        assert_eq!(
            reshape_strides(&[4, 2], &[1, 4], &[2, 2, 2]),
            Some(vec![2, 1, 4])
        );
    }

    #[test]
    fn broadcast_uses_zero_strides() {
        assert_eq!(
            broadcast_strides(&[3, 1], &[1, 1], &[2, 3, 4]),
            vec![0, 1, 0]
        );
        assert_eq!(
            collapse(&[2, 3, 4], &[0, 0, 1], &[2, 1]),
            Some((vec![6, 4], vec![0, 1]))
        );
    }
}
