//! The portable 4×8 register tile, for any target.

use super::{store, LhsStrip, RowStarts, Tile, TileDst};

/// The portable 4×8 tile; small enough for LLVM to keep in registers on any target.
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Tile for Portable {
    #[inline(always)]
    fn mr(self) -> usize {
        4
    }
    #[inline(always)]
    fn nr(self) -> usize {
        8
    }
    unsafe fn tile<A: LhsStrip, R: RowStarts>(
        self,
        kc: usize,
        a: A,
        b: &[f32],
        rows: R,
        dst: TileDst,
    ) {
        let mut acc = [[0.0f32; 8]; 4];
        for p in 0..kc {
            let bp = &b[rows.start(p)..][..8];
            for (i, row) in acc.iter_mut().enumerate() {
                // SAFETY: p < kc, i < MR.
                let av = unsafe { a.at(p, i) };
                for (r, &bv) in row.iter_mut().zip(bp) {
                    *r += av * bv;
                }
            }
        }
        // SAFETY: forwarded contract.
        unsafe { store(acc.as_flattened(), 8, dst) };
    }
}
