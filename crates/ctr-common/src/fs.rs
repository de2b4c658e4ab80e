//! Reading and writing kernel files (procfs, cgroupfs) with errors that
//! name the file and keep the errno.

use crate::Error;
use std::path::Path;

/// Read a whole file as a string; errors carry `code`, the path and errno.
pub fn read_string(code: &str, path: impl AsRef<Path>) -> Result<String, Error> {
    let path = path.as_ref();
    read_small(path).map_err(|e| {
        Error::io(code, "read", &e, format!("read {}", path.display())).with_path(path)
    })
}

/// Read a whole file as a string without sizing it first: open and read
/// only. `std::fs::read_to_string` asks the size with a `statx` (and an
/// `lseek`) before reading, which for procfs and cgroupfs files is always 0
/// and only costs a syscall: the runtime reads a dozen such files per
/// container. The buffer starts at 4 KiB and grows for larger files.
pub fn read_small(path: impl AsRef<Path>) -> std::io::Result<String> {
    read_to_end(path, false)
}

/// [`read_small`] of a file the kernel hands over whole in one read: a
/// regular file nobody writes in place (a record replaced by rename), or a
/// single-record seq file (one cgroupfs value, `/proc/PID/stat`,
/// `/proc/self/cgroup`). A read short of the buffer is then the end, and
/// the read(2) that would return 0 is skipped (a system call per file).
/// Not for multi-record files (mountinfo, `cgroup.procs`): their read may
/// stop short at a record that does not fit.
pub fn read_whole(path: impl AsRef<Path>) -> std::io::Result<String> {
    read_to_end(path, true)
}

/// Open and read `path` into a string (4 KiB, doubled as needed), until a
/// read returns 0 or, with `short_is_end`, one stops short of the buffer.
fn read_to_end(path: impl AsRef<Path>, short_is_end: bool) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if short_is_end && len < buf.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
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
    #[test]
    fn read_whole_reads_files_of_any_size_and_proc_values() {
        let d = tempfile::tempdir().unwrap();
        for n in [0usize, 1, 4095, 4096, 4097, 9000] {
            let p = d.path().join(format!("f{n}"));
            let text: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            std::fs::write(&p, &text).unwrap();
            assert_eq!(read_whole(&p).unwrap(), text, "{n} bytes");
        }
        let stat = read_whole("/proc/self/stat").unwrap();
        // Whole: from the pid to the closing newline (its times move, so
        // not compared with a second read).
        assert!(
            stat.starts_with(&format!("{} (", std::process::id())),
            "{stat}"
        );
        assert!(
            stat.ends_with('\n') && stat.split(' ').count() >= 52,
            "{stat}"
        );
        assert!(read_whole(d.path().join("missing")).is_err());
    }

    use super::*;

    #[test]
    fn read_missing_file_names_path_and_errno() {
        let err = read_string("ETEST", "/nonexistent/ctr-file").unwrap_err();
        assert_eq!(err.code, "ETEST");
        assert_eq!(err.errno, Some(libc::ENOENT));
        assert_eq!(err.path.as_deref(), Some("/nonexistent/ctr-file"));
    }

    #[test]
    fn read_small_reads_whole_files_of_any_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        // Larger than the first buffer and not a multiple of it.
        let big: String = (0..3000).map(|i| format!("{i},")).collect();
        std::fs::write(&p, &big).unwrap();
        assert_eq!(read_small(&p).unwrap(), big);
        std::fs::write(&p, "").unwrap();
        assert_eq!(read_small(&p).unwrap(), "");
        // procfs reports size 0: the read loop still gets the whole text.
        assert_eq!(
            read_small("/proc/self/stat").unwrap().split(' ').next(),
            Some(std::process::id().to_string().as_str())
        );
        std::fs::write(&p, [0xffu8, 0xfe]).unwrap();
        assert_eq!(
            read_small(&p).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
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
