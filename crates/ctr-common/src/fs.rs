//! Reading and writing kernel files (procfs, cgroupfs) with errors that
//! name the file and keep the errno.

use crate::Error;
use std::path::Path;

/// Read a whole file as a string; errors carry `code`, the path and errno.
pub fn read_string(code: &str, path: impl AsRef<Path>) -> Result<String, Error> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| {
        Error::io(code, "read", &e, format!("read {}", path.display())).with_path(path)
    })
}

/// Write `value` to an existing file in one `write(2)`, as kernel
/// interfaces expect; errors carry `code`, the path and errno.
pub fn write_value(code: &str, path: impl AsRef<Path>, value: &str) -> Result<(), Error> {
    use std::io::Write;
    let path = path.as_ref();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| {
            Error::io(code, "open", &e, format!("open {}", path.display())).with_path(path)
        })?;
    file.write_all(value.as_bytes()).map_err(|e| {
        Error::io(
            code,
            "write",
            &e,
            format!("write {:?} to {}", value, path.display()),
        )
        .with_path(path)
    })
}

/// Write a file atomically: write a sibling temp file, fsync, rename.
pub fn write_atomic(code: &str, path: impl AsRef<Path>, data: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let path = path.as_ref();
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(code, "write", &e, format!("write {}", path.display())).with_path(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_missing_file_names_path_and_errno() {
        let err = read_string("ETEST", "/nonexistent/ctr-file").unwrap_err();
        assert_eq!(err.code, "ETEST");
        assert_eq!(err.errno, Some(libc::ENOENT));
        assert_eq!(err.path.as_deref(), Some("/nonexistent/ctr-file"));
    }

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic("ETEST", &p, b"one").unwrap();
        write_atomic("ETEST", &p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
