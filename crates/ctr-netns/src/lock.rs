//! An exclusive `flock(2)` on a file, released on drop. Guards state
//! shared between processes (the lease file of a network).

use crate::Code;
use crate::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A held exclusive lock.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Open (creating it and its directory) and lock `path`, waiting for
    /// other holders. Call off the event loop: it may block.
    pub fn exclusive(path: &Path) -> Result<FileLock> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::io(
                    Code::State,
                    "mkdir",
                    &e,
                    format!("create {}", dir.display()),
                )
                .with_path(dir)
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| {
                Error::io(Code::State, "open", &e, format!("open {}", path.display()))
                    .with_path(path)
            })?;
        loop {
            // SAFETY: flock on an open fd.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                break;
            }
            let errno = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if errno != libc::EINTR {
                return Err(Error::sys(
                    Code::State,
                    "flock",
                    errno,
                    format!("lock {}", path.display()),
                )
                .with_path(path));
            }
        }
        Ok(FileLock { _file: file })
    }
}
