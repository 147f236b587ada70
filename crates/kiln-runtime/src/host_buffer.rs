//! Host-memory buffers for drivers whose devices compute on host memory (the local drivers,
//! driver plugins): owned zeroed allocations, or read-only windows onto shared bytes.
//!
//! Small owned buffers are recycled: one freed goes to a bounded pool, and the next
//! allocation of the same length takes it back (zeroed again). A run-time loop allocates its
//! iteration's small tensors (loop-carried state, scan parts, condition scalars) every
//! iteration; through the pool they skip the system allocator, whose requests of a KiB or
//! more each sweep its cache of small freed blocks first.

use crate::hal::{check_transfer, host_range, Buffer, HostBytes};
use crate::HalError;
use kiln_module::AlignedBytes;
use std::any::Any;
use std::mem::ManuallyDrop;
use std::sync::{Arc, Mutex};

enum Owner {
    /// Cache-line aligned (see [`AlignedBytes`]): kernels' vector accesses do not straddle
    /// lines, and threads writing neighbouring rows do not share one.
    Heap(#[allow(dead_code)] Recycled),
    Shared(#[allow(dead_code)] Arc<dyn HostBytes>),
}

/// The longest buffer the pool keeps.
const RECYCLE_MAX_LEN: usize = 256 << 10;
/// The most buffers and bytes the pool holds at once.
const RECYCLE_MAX_COUNT: usize = 64;
const RECYCLE_MAX_BYTES: usize = 4 << 20;

/// Freed small buffers, waiting for an allocation of their length.
struct Pool {
    free: Vec<AlignedBytes>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: Vec::new(),
    bytes: 0,
});

/// Owned bytes that go back to the pool when dropped, if it has room for them.
struct Recycled(ManuallyDrop<AlignedBytes>);

impl Recycled {
    /// `len` zero bytes: a pooled buffer of that length zeroed, else a new allocation.
    fn zeroed(len: usize) -> Option<Recycled> {
        if len <= RECYCLE_MAX_LEN {
            let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = pool.free.iter().position(|b| b.as_slice().len() == len) {
                let mut bytes = pool.free.swap_remove(i);
                pool.bytes -= len;
                drop(pool);
                bytes.as_mut_slice().fill(0);
                return Some(Recycled(ManuallyDrop::new(bytes)));
            }
        }
        AlignedBytes::try_zeroed(len).map(|b| Recycled(ManuallyDrop::new(b)))
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        // SAFETY: `self.0` is not used again (this is its drop).
        let bytes = unsafe { ManuallyDrop::take(&mut self.0) };
        let len = bytes.as_slice().len();
        if len <= RECYCLE_MAX_LEN {
            let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
            if pool.free.len() < RECYCLE_MAX_COUNT && pool.bytes + len <= RECYCLE_MAX_BYTES {
                pool.bytes += len;
                pool.free.push(bytes);
                return;
            }
        }
        drop(bytes);
    }
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
        let mut bytes = Recycled::zeroed(len).ok_or(HalError::OutOfMemory { bytes: len })?;
        let ptr = bytes.0.as_mut_ptr();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A recycled buffer comes back zeroed, whatever its last owner wrote; a buffer too long
    /// for the pool is freed, not kept.
    #[test]
    fn recycled_buffers_come_back_zeroed() {
        // A length no other test allocates, so the pooled buffer is this test's own.
        let len = 4096 + 3 * 64 + 8;
        let first = HostBuffer::zeroed(len).unwrap();
        first.write(0, &vec![0xAB; len]).unwrap();
        let address = first.host_address();
        drop(first);
        let again = HostBuffer::zeroed(len).unwrap();
        assert_eq!(again.host_address(), address, "the freed buffer is reused");
        let mut bytes = vec![1u8; len];
        again.read(0, &mut bytes).unwrap();
        assert!(bytes.iter().all(|&b| b == 0), "a reused buffer is zeroed");

        let long = HostBuffer::zeroed(RECYCLE_MAX_LEN + 64).unwrap();
        drop(long);
        let pool = POOL.lock().unwrap();
        assert!(pool
            .free
            .iter()
            .all(|b| b.as_slice().len() <= RECYCLE_MAX_LEN));
        assert!(pool.bytes <= RECYCLE_MAX_BYTES && pool.free.len() <= RECYCLE_MAX_COUNT);
    }
}
