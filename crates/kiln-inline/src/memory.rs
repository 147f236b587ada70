//! Aligned host memory the inline runtime owns: the transient arena and, when the caller's
//! bytes are not aligned for the module's constants, a copy of the module file. The buffer
//! type is [`kiln_module::AlignedBytes`], shared with the HAL runtime.

pub use kiln_module::AlignedBytes;

/// The alignment of module data (the file's constants are 64-byte aligned within it) and of
/// every buffer the inline runtime allocates.
pub const ALIGNMENT: usize = kiln_module::DATA_ALIGNMENT;

/// An [`ALIGNMENT`]-aligned address that points at nothing: where load-time checks place the
/// caller's buffers.
pub fn aligned_stand_in() -> *mut u8 {
    AlignedBytes::dangling()
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
