//! Shared pieces of the ctr crates.
//!
//! * [`Error`]: one error type for every crate, carrying a stable string
//!   `code` (e.g. `ENS_EXEC`), a lower-case message, and where the kernel
//!   refused, the `errno`, the `syscall` and the `path` at fault.
//! * [`code`]: error codes as enums ([`error_codes!`]), one per crate;
//!   [`Code`] holds the codes every crate shares.
//! * [`caps`]: the capability names.
//! * [`cpulist`]: cpu and NUMA node lists (`0-3,7`).
//! * [`fs`]: small helpers for reading and writing kernel files with errors
//!   that name the file.
//! * [`paths`]: the default masked and read-only paths.
//! * [`poll`]: waiting for fds to become readable, with a deadline.
//! * [`proc`]: `/proc/PID/stat` start times and the pidfd calls.
//! * [`rlimit`]: `RLIMIT_*` names and numbers.
//! * [`sched`]: scheduler, memory-policy and I/O-priority names and rules.
//! * [`signal`]: signal names and numbers.
//! * [`sysctl`]: which namespace a sysctl key belongs to.
#![deny(missing_docs)]

pub mod caps;
pub mod code;
pub mod cpulist;
pub mod error;
pub mod fs;
pub mod paths;
pub mod poll;
pub mod proc;
pub mod rlimit;
pub mod sched;
pub mod signal;
pub mod sysctl;

pub use code::{Code, ErrorCode};
pub use error::{Error, Result};

/// Prefix of a native error's message that carries the JSON form of an
/// [`Error`]; the TypeScript layer turns it back into a typed error.
pub const JS_ERROR_PREFIX: &str = "\u{1}ctr-error:";

#[cfg(feature = "napi")]
impl From<Error> for napi::Error {
    fn from(e: Error) -> napi::Error {
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("{JS_ERROR_PREFIX}{}", e.to_json()),
        )
    }
}

/// Run `f`, turning a panic into a coded error instead of unwinding into
/// Node (napi catches panics too; this keeps the message and code ours).
pub fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::new(
                Code::Internal,
                format!("internal error: {what}"),
            ))
        }
    }
}
