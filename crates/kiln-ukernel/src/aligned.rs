//! A growable `f32` buffer whose first element starts a cache line, for packed GEMM operands
//! and laid-out convolution bands that kernels read with 64-byte vector loads.
//!
//! A `Vec<f32>` is only 4-byte aligned, and the global allocator puts a large block 16 bytes
//! past a page start: every full-width load of a strip then straddles two cache lines.

use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

/// Values per cache line.
const LANES: usize = 16;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; LANES]);

/// A `Vec<f32>`-like buffer, 64-byte aligned, with the few operations packing needs.
///
/// ```
/// use kiln_ukernel::AlignedVec;
/// let mut v = AlignedVec::default();
/// v.resize(3, 1.0);
/// v[2] = 2.0;
/// assert_eq!(&v[..], &[1.0, 1.0, 2.0]);
/// v.clear();
/// v.resize(20, 5.0);
/// assert!(v.iter().all(|&x| x == 5.0));
/// assert_eq!(v.as_ptr() as usize % 64, 0);
/// ```
#[derive(Clone, Default)]
pub struct AlignedVec {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedVec {
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Values it holds without reallocating.
    pub fn capacity(&self) -> usize {
        self.lines.capacity() * LANES
    }

    /// Grows (filling with `value`) or shrinks to `len` values. Each new value is written once:
    /// lines added are made filled, and only the grown part of lines kept (which may hold
    /// values from before a `clear`) is filled here.
    pub fn resize(&mut self, len: usize, value: f32) {
        let old = self.len;
        let kept = (self.lines.len() * LANES).min(len);
        self.lines.resize(len.div_ceil(LANES), Line([value; LANES]));
        self.len = len;
        if kept > old {
            self[old..kept].fill(value);
        }
    }
}

impl Deref for AlignedVec {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: `lines` holds at least `len` initialised `f32`s (arrays of them, no padding),
        // borrowed for as long as `self` is.
        unsafe { core::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }
}

impl DerefMut for AlignedVec {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, borrowed mutably for as long as `self` is.
        unsafe { core::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}
