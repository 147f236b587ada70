//! Host-memory buffers for drivers whose devices compute on host memory (the local drivers,
//! driver plugins): owned zeroed allocations, or read-only windows onto shared bytes.

use crate::hal::{check_transfer, host_range, Buffer, HostBytes};
use crate::HalError;
use kiln_module::AlignedBytes;
use std::any::Any;
use std::sync::Arc;

enum Owner {
    /// Cache-line aligned (see [`AlignedBytes`]): kernels' vector accesses do not straddle
    /// lines, and threads writing neighbouring rows do not share one.
    Heap(#[allow(dead_code)] AlignedBytes),
    Shared(#[allow(dead_code)] Arc<dyn HostBytes>),
}

/// A buffer in host memory. Its address never changes while it lives.
pub struct HostBuffer {
    ptr: *mut u8,
    len: usize,
    writable: bool,
    _owner: Owner,
}

// SAFETY: the buffer is plain memory; concurrent access is ordered by the HAL's command
// semantics (dispatch workgroups write disjoint bytes; host transfers happen between submits).
unsafe impl Send for HostBuffer {}
// SAFETY: as above.
unsafe impl Sync for HostBuffer {}

impl HostBuffer {
    /// Allocates `len` zeroed bytes; fails cleanly when memory is short.
    pub fn zeroed(len: usize) -> Result<HostBuffer, HalError> {
        let mut bytes =
            AlignedBytes::try_zeroed(len).ok_or(HalError::OutOfMemory { bytes: len })?;
        let ptr = bytes.as_mut_ptr();
        Ok(HostBuffer {
            ptr,
            len,
            writable: true,
            _owner: Owner::Heap(bytes),
        })
    }

    pub fn shared(
        bytes: Arc<dyn HostBytes>,
        offset: usize,
        len: usize,
    ) -> Result<HostBuffer, HalError> {
        // The pointer is only read through (writable is false); see Binding::writable.
        let ptr = host_range(bytes.bytes(), offset, len)?.as_ptr() as *mut u8;
        Ok(HostBuffer {
            ptr,
            len,
            writable: false,
            _owner: Owner::Shared(bytes),
        })
    }

    /// `b` as a host buffer, or an error when another device's buffer was bound.
    pub fn of(b: &Arc<dyn Buffer>) -> Result<&HostBuffer, HalError> {
        b.as_any()
            .downcast_ref::<HostBuffer>()
            .ok_or_else(|| HalError::Invalid("buffer belongs to another device".into()))
    }

    /// The address of byte `offset` (in bounds, checked by the caller: the command buffer
    /// checks binding ranges when recording).
    pub fn address(&self, offset: usize) -> *mut u8 {
        self.ptr.wrapping_add(offset)
    }

    /// False for windows onto shared bytes (module constants): kernels may not write them.
    pub fn writable(&self) -> bool {
        self.writable
    }
}

impl Buffer for HostBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, out.len(), false)?;
        // SAFETY: in bounds; no dispatch runs during host transfers.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), out.as_mut_ptr(), out.len()) };
        Ok(())
    }
    fn write(&self, offset: usize, data: &[u8]) -> Result<(), HalError> {
        check_transfer(self.len, self.writable, offset, data.len(), true)?;
        // SAFETY: in bounds, writable, and no dispatch runs during host transfers.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn host_address(&self) -> Option<usize> {
        Some(self.ptr as usize)
    }
}
