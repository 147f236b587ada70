//! Zeroed host memory whose first byte is [`DATA_ALIGNMENT`]-aligned: where a runtime copies a
//! module file it cannot map (its constants are aligned within the file, so the copy's start
//! must be too) and where it places the buffers kernels read and write.
//!
//! A cache-line start matters for speed, not only for correctness: the global allocator puts a
//! large block 16 bytes past a page start, and then every 64-byte vector load or store of a
//! kernel straddles two cache lines, and two threads writing neighbouring rows share the line
//! at each boundary.

use crate::DATA_ALIGNMENT;
use alloc::vec::Vec;

/// One aligned block; the buffer is a vector of them.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; DATA_ALIGNMENT]);

/// A zeroed byte buffer whose start is [`DATA_ALIGNMENT`]-aligned, allocated once.
///
/// ```
/// use kiln_module::{AlignedBytes, DATA_ALIGNMENT};
/// let mut b = AlignedBytes::copy_of(&[1, 2, 3]);
/// assert_eq!(b.as_slice(), &[1, 2, 3]);
/// assert_eq!(b.as_mut_ptr() as usize % DATA_ALIGNMENT, 0);
/// ```
pub struct AlignedBytes {
    blocks: Vec<Block>,
    len: usize,
}

impl AlignedBytes {
    /// The allocation of `len` bytes: whole blocks, at least one (`None` past `isize::MAX`).
    fn layout(len: usize) -> Option<core::alloc::Layout> {
        core::alloc::Layout::array::<Block>(len.div_ceil(DATA_ALIGNMENT).max(1)).ok()
    }

    /// `len` zero bytes, or `None` when the allocator has no room. Large buffers come straight
    /// from the allocator's zeroed pages, so they are not written here.
    pub fn try_zeroed(len: usize) -> Option<AlignedBytes> {
        let layout = AlignedBytes::layout(len)?;
        let count = layout.size() / DATA_ALIGNMENT;
        // SAFETY: a non-zero-sized layout.
        let raw = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<Block>();
        if raw.is_null() {
            return None;
        }
        // SAFETY: `raw` came from the global allocator with the layout of `count` blocks, all
        // initialised (zero bytes are a valid `Block`).
        let blocks = unsafe { Vec::from_raw_parts(raw, count, count) };
        Some(AlignedBytes { blocks, len })
    }

    /// `len` zero bytes; like `vec!`, it aborts when the allocator has no room.
    pub fn zeroed(len: usize) -> AlignedBytes {
        AlignedBytes::try_zeroed(len).unwrap_or_else(|| {
            let layout = AlignedBytes::layout(len);
            alloc::alloc::handle_alloc_error(layout.unwrap_or(core::alloc::Layout::new::<Block>()))
        })
    }

    /// A copy of `bytes`.
    pub fn copy_of(bytes: &[u8]) -> AlignedBytes {
        let mut out = AlignedBytes::zeroed(bytes.len());
        out.as_mut_slice().copy_from_slice(bytes);
        out
    }

    /// An aligned address that points at nothing: a stand-in for buffers that are checked
    /// before they exist.
    pub fn dangling() -> *mut u8 {
        core::ptr::NonNull::<Block>::dangling().as_ptr().cast()
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `blocks` holds at least `len` initialised bytes (plain byte arrays, no
        // padding), borrowed for as long as `self` is.
        unsafe { core::slice::from_raw_parts(self.blocks.as_ptr().cast::<u8>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, borrowed mutably for as long as `self` is.
        unsafe { core::slice::from_raw_parts_mut(self.blocks.as_mut_ptr().cast::<u8>(), self.len) }
    }

    /// The first byte, valid for reads and writes of `len` bytes while `self` lives and is not
    /// otherwise borrowed.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.blocks.as_mut_ptr().cast::<u8>()
    }
}
