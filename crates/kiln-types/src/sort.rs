//! Sorting the lists the runtime keeps in little code: the short ones (an expression's
//! symbols, a monomial's atoms, a view's dims, a module's ranked variants) with an insertion
//! sort, a few dozen bytes of code per element type, and those whose length a file decides
//! (a module's function names) with a heap sort; each of the standard library's sorts is
//! kilobytes, which a firmware pays for every type it sorts.

/// Sorts `v` in place, stably. Quadratic: for lists of a few dozen elements at most.
///
/// ```
/// let mut v = [3, 1, 2, 1];
/// kiln_types::sort::sort_short(&mut v);
/// assert_eq!(v, [1, 1, 2, 3]);
/// ```
pub fn sort_short<T: Ord>(v: &mut [T]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Sorts `v` in place with a heap sort: O(n log n) whatever the input (for lists whose length
/// a file decides), in a few hundred bytes of code. Not stable.
///
/// ```
/// let mut v = [5, 3, 9, 3, 0];
/// kiln_types::sort::sort_heap(&mut v);
/// assert_eq!(v, [0, 3, 3, 5, 9]);
/// ```
pub fn sort_heap<T: Ord>(v: &mut [T]) {
    /// Moves `v[root]` down the max-heap of `v[..end]` to where it belongs.
    fn sift_down<T: Ord>(v: &mut [T], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v[child] < v[child + 1] {
                child += 1;
            }
            if v[root] >= v[child] {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn sorts_like_the_standard_library_and_keeps_equal_elements_in_order() {
        let keys = [5u8, 3, 9, 3, 0, 7, 5, 1, 9, 2, 8, 3];
        let mut got: Vec<(u8, usize)> = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let mut want = got.clone();
        want.sort_by_key(|p| p.0);
        // Compared by key only, so that stability shows.
        let mut by_key: Vec<Key> = got.drain(..).map(Key).collect();
        sort_short(&mut by_key);
        assert_eq!(by_key.into_iter().map(|k| k.0).collect::<Vec<_>>(), want);
        let mut empty: [u8; 0] = [];
        sort_short(&mut empty);
    }

    #[test]
    fn heap_sort_sorts_like_the_standard_library() {
        let mut seed = 12345u32;
        for len in [0, 1, 2, 3, 7, 64, 1000] {
            let mut v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    seed % 97
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_heap(&mut v);
            assert_eq!(v, want, "length {len}");
        }
    }

    /// A pair compared by its first element only.
    struct Key((u8, usize));
    impl PartialEq for Key {
        fn eq(&self, other: &Key) -> bool {
            self.0 .0 == other.0 .0
        }
    }
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, other: &Key) -> Option<core::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Key {
        fn cmp(&self, other: &Key) -> core::cmp::Ordering {
            self.0 .0.cmp(&other.0 .0)
        }
    }
}
