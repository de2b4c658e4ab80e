//! The coded error shared by every ctr crate and surfaced to JavaScript.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A result whose error is a coded [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure with a stable machine-readable `code`.
///
/// Messages are lower case without a trailing period and name the field or
/// file at fault. `errno`, `syscall` and `path` are set where the kernel
/// refused something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// Stable code, e.g. `ECGROUP_NOT_FOUND`; part of the public API.
    pub code: String,
    /// Human readable, lower-case message.
    pub message: String,
    /// The errno the kernel returned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno: Option<i32>,
    /// The system call (or step) that failed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// The file, JSON path or field at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Error {
    /// A new error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            code: code.into(),
            message: message.into(),
            errno: None,
            syscall: None,
            path: None,
        }
    }

    /// An error from an errno returned by `syscall`, with `code` and a
    /// message naming what was being done.
    pub fn sys(
        code: impl Into<String>,
        syscall: &str,
        errno: i32,
        what: impl Into<String>,
    ) -> Self {
        let what = what.into();
        let message = format!("{what}: {}", strerror(errno));
        Error {
            code: code.into(),
            message,
            errno: Some(errno),
            syscall: Some(syscall.to_string()),
            path: None,
        }
    }

    /// An error built from a [`std::io::Error`].
    pub fn io(
        code: impl Into<String>,
        syscall: &str,
        err: &std::io::Error,
        what: impl Into<String>,
    ) -> Self {
        match err.raw_os_error() {
            Some(errno) => Error::sys(code, syscall, errno, what),
            None => Error::new(code, format!("{}: {err}", what.into())).with_syscall(syscall),
        }
    }

    /// The same error naming `path`.
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_string_lossy().into_owned());
        self
    }

    /// The same error naming a field or JSON path (not a file).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.path = Some(field.into());
        self
    }

    /// The same error naming the system call or step.
    pub fn with_syscall(mut self, syscall: impl Into<String>) -> Self {
        self.syscall = Some(syscall.into());
        self
    }

    /// The same error with `errno` set.
    pub fn with_errno(mut self, errno: i32) -> Self {
        self.errno = Some(errno);
        self
    }

    /// The last OS error (`errno`) of `syscall`.
    pub fn last_os(code: impl Into<String>, syscall: &str, what: impl Into<String>) -> Self {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        Error::sys(code, syscall, errno, what)
    }

    /// The error as one JSON object, as the Node bindings pass it across.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", self.code))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(path) = &self.path {
            if !self.message.contains(path.as_str()) {
                write!(f, " ({path})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The text of an errno, lower case like the rest of our messages
/// (`"no such file or directory"`).
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // std formats as "No such file or directory (os error 2)".
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The symbolic name of an errno (`ENOENT`), for error messages and codes.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EADDRINUSE => "EADDRINUSE",
        _ => "EUNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn sys_errors_name_errno_syscall_and_path() {
        let e = Error::sys(Code::Internal, "execve", libc::ENOENT, "exec /nope").with_path("/nope");
        assert_eq!(e.code, Code::Internal.as_str());
        assert_eq!(e.errno, Some(libc::ENOENT));
        assert_eq!(e.message, "exec /nope: no such file or directory");
        let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(json["path"], "/nope");
        assert_eq!(json["syscall"], "execve");
        assert_eq!(json["errno"], 2);
    }

    #[test]
    fn display_appends_path_once() {
        let e = Error::new("X", "bad value").with_field("memory.max");
        assert_eq!(e.to_string(), "bad value (memory.max)");
        let e = Error::new("X", "cannot read /a").with_path("/a");
        assert_eq!(e.to_string(), "cannot read /a");
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(libc::EAGAIN), "EAGAIN");
        assert_eq!(strerror(libc::EPERM), "operation not permitted");
    }
}
