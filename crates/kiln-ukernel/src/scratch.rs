//! Scratch memory kernels keep between calls, so a warm runtime allocates nothing.
//!
//! [`scratch!`](crate::scratch!) declares one: a value per thread with `std` (a
//! `thread_local!`), one value for the program without it (a bare-metal runtime runs on one
//! thread). Either way [`Scratch::with_mut`] lends it out; a nested or concurrent use, which
//! would otherwise wait or alias, gets a fresh value instead. Without `std` the slot's flag
//! needs an atomic compare-and-swap, which every target kiln builds for has (Armv7-M,
//! RISC-V with the A extension).
//!
//! ```
//! use kiln_ukernel::scratch::Scratch;
//! kiln_ukernel::scratch! {
//!     static ROWS: Vec<f32>;
//! }
//! let len = ROWS.with_mut(|rows| {
//!     rows.resize(16, 0.0);
//!     rows.len()
//! });
//! assert_eq!(len, 16);
//! // The same buffer comes back to the next user on this thread.
//! assert_eq!(ROWS.with_mut(|rows| rows.capacity() >= 16), true);
//! ```

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A value lent out to one user at a time.
pub struct Slot<T> {
    busy: AtomicBool,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: the value is reached only by the one user that set `busy` (see `with_value`).
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Slot<T> {
    pub const fn new() -> Slot<T> {
        Slot {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(None),
        }
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}

impl<T: Default> Slot<T> {
    /// Runs `f` with the slot's value (made on first use), or with a fresh value while
    /// another user holds it.
    fn with_value<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut f = Some(f);
        match self.with_held(|v| (f.take().expect("called once"))(v)) {
            Some(result) => result,
            None => (f.take().expect("not yet called"))(&mut T::default()),
        }
    }

    /// Runs `f` with the slot's own value, or returns `None` while another user holds it.
    fn with_held<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        /// Frees the slot when the user is done, even by unwinding.
        struct Free<'a>(&'a AtomicBool);
        impl Drop for Free<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _free = Free(&self.busy);
        // SAFETY: setting `busy` above made this the only user until `_free` drops.
        let value = unsafe { &mut *self.value.get() }.get_or_insert_with(T::default);
        Some(f(value))
    }
}

/// Lends out a scratch value declared with [`scratch!`](crate::scratch!).
pub trait Scratch<T> {
    /// Runs `f` with the value, or with a fresh one while it is in use.
    fn with_mut<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> R;
    /// Runs `f` with the value itself, which outlives the call (until the next user of this
    /// thread's, or without `std` the program's, value), or returns `None` while it is in use
    /// or gone: for results that point into it.
    fn with_kept<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> Option<R>;
}

impl<T: Default> Scratch<T> for Slot<T> {
    fn with_mut<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> R {
        self.with_value(f)
    }
    fn with_kept<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.with_held(f)
    }
}

#[cfg(feature = "std")]
impl<T: Default + 'static> Scratch<T> for std::thread::LocalKey<Slot<T>> {
    fn with_mut<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut f = Some(f);
        // While the thread exits its slots may be gone: then a fresh value serves.
        match self.try_with(|slot| slot.with_value(|v| f.take().map(|f| f(v)))) {
            Ok(Some(result)) => result,
            _ => (f.take().expect("not yet called"))(&mut T::default()),
        }
    }
    fn with_kept<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.try_with(|slot| slot.with_held(f)).ok().flatten()
    }
}

/// Declares scratch values: `static NAME: Type;` items, each lent out by
/// [`Scratch::with_mut`].
#[cfg(feature = "std")]
#[macro_export]
macro_rules! scratch {
    ($($(#[$attr:meta])* static $name:ident: $t:ty;)*) => {
        $crate::__std::thread_local! {
            $($(#[$attr])* static $name: $crate::scratch::Slot<$t> =
                const { $crate::scratch::Slot::new() };)*
        }
    };
}

/// Declares scratch values: `static NAME: Type;` items, each lent out by
/// [`Scratch::with_mut`].
#[cfg(not(feature = "std"))]
#[macro_export]
macro_rules! scratch {
    ($($(#[$attr:meta])* static $name:ident: $t:ty;)*) => {
        $($(#[$attr])* static $name: $crate::scratch::Slot<$t> = $crate::scratch::Slot::new();)*
    };
}
