//! Error detail text that a build can leave out.
//!
//! Runtime errors name what went wrong in words ("dispatch 3 reads 64 bytes past binding 1").
//! Formatting those words is code, and a bare-metal firmware pays for every byte of it. The
//! [`message!`](crate::message!) macro formats a detail as `format!` does when this crate's
//! `messages` feature is on (`std` turns it on); without it the detail is [`NO_DETAILS`] and
//! no formatting code is linked — the error's kind and its fixed wording stay, as with IREE's
//! `IREE_STATUS_MODE=0`, which keeps status codes and drops their messages.

use alloc::string::String;

/// What an error's detail reads in a build without the `messages` feature.
pub const NO_DETAILS: &str = "(details left out: built without the `messages` feature)";

/// [`NO_DETAILS`] as a `String`: one out-of-line call for every site that would have
/// formatted a detail.
#[doc(hidden)]
#[inline(never)]
pub fn no_details() -> String {
    String::from(NO_DETAILS)
}

/// Formats an error's detail text: `format!` with the `messages` feature, else
/// [`NO_DETAILS`] (the arguments are still type-checked, and then left out of the build).
///
/// ```
/// let dispatch = 3;
/// let detail: String = kiln_types::message!("dispatch {dispatch} has no workgroup count");
/// # #[cfg(feature = "messages")]
/// assert_eq!(detail, "dispatch 3 has no workgroup count");
/// ```
#[cfg(feature = "messages")]
#[macro_export]
macro_rules! message {
    ($($arg:tt)+) => {
        $crate::message::format!($($arg)+)
    };
}

/// Formats an error's detail text: `format!` with the `messages` feature, else
/// [`NO_DETAILS`] (the arguments are still type-checked, and then left out of the build).
///
/// ```
/// let dispatch = 3;
/// let detail: String = kiln_types::message!("dispatch {dispatch} has no workgroup count");
/// # #[cfg(not(feature = "messages"))]
/// assert_eq!(detail, kiln_types::message::NO_DETAILS);
/// ```
#[cfg(not(feature = "messages"))]
#[macro_export]
macro_rules! message {
    ($($arg:tt)+) => {{
        if false {
            let _ = $crate::message::format!($($arg)+);
        }
        $crate::message::no_details()
    }};
}

#[doc(hidden)]
pub use alloc::format;

#[cfg(test)]
mod tests {
    /// With the feature a detail is formatted; without it (`cargo test -p kiln-types
    /// --no-default-features --lib`, as CI runs) it is the fixed placeholder.
    #[test]
    fn details_follow_the_messages_feature() {
        let dispatch = 3;
        let detail = crate::message!("dispatch {dispatch} has no workgroup count");
        if cfg!(feature = "messages") {
            assert_eq!(detail, "dispatch 3 has no workgroup count");
        } else {
            assert_eq!(detail, super::NO_DETAILS);
        }
    }
}
