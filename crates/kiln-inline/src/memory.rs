//! Aligned host memory the inline runtime owns: the transient arena and, when the caller's
//! bytes are not aligned for the module's constants, a copy of the module file.

use alloc::vec::Vec;

/// The alignment of module data (the file's constants are 64-byte aligned within it) and of
/// every buffer the inline runtime allocates.
pub const ALIGNMENT: usize = 64;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; ALIGNMENT]);

/// An [`ALIGNMENT`]-aligned address that points at nothing: where load-time checks place the
/// caller's buffers.
pub fn aligned_stand_in() -> *mut u8 {
    core::ptr::NonNull::<Block>::dangling().as_ptr().cast()
}

/// A zeroed byte buffer whose start is [`ALIGNMENT`]-aligned, allocated once: what a caller
/// of `InlineModule::call` may hold its inputs and outputs in.
pub struct AlignedBytes {
    blocks: Vec<Block>,
    len: usize,
}

impl AlignedBytes {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> AlignedBytes {
        AlignedBytes {
            blocks: alloc::vec![Block([0; ALIGNMENT]); len.div_ceil(ALIGNMENT)],
            len,
        }
    }

    /// A copy of `bytes`.
    pub fn copy_of(bytes: &[u8]) -> AlignedBytes {
        let mut out = AlignedBytes::zeroed(bytes.len());
        out.as_mut_slice().copy_from_slice(bytes);
        out
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `blocks` holds at least `len` initialised bytes (plain `u8` arrays, no
        // padding), borrowed for as long as `self` is.
        unsafe { core::slice::from_raw_parts(self.blocks.as_ptr().cast::<u8>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, borrowed mutably for as long as `self` is.
        unsafe { core::slice::from_raw_parts_mut(self.blocks.as_mut_ptr().cast::<u8>(), self.len) }
    }

    /// The first byte, for bindings (valid for writes of `len` bytes while `self` lives and is
    /// not otherwise borrowed).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.blocks.as_mut_ptr().cast::<u8>()
    }
}

/// The module file: borrowed when its first byte is [`ALIGNMENT`]-aligned (a file in flash,
/// a memory map), else copied once into memory that is.
pub enum FileBytes<'a> {
    Borrowed(&'a [u8]),
    Owned(AlignedBytes),
}

impl<'a> FileBytes<'a> {
    pub fn new(bytes: &'a [u8]) -> FileBytes<'a> {
        if (bytes.as_ptr() as usize).is_multiple_of(ALIGNMENT) {
            FileBytes::Borrowed(bytes)
        } else {
            FileBytes::Owned(AlignedBytes::copy_of(bytes))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            FileBytes::Borrowed(b) => b,
            FileBytes::Owned(b) => b.as_slice(),
        }
    }
}
