//! Reading and writing cgroupfs files with coded errors.

use crate::Code;
use ctr_common::Error;
use std::io::Write;
use std::path::Path;

/// Write `value` to `dir/file` in one write(2). A missing file means the
/// kernel lacks that knob (`ECGROUP_UNSUPPORTED`); a refused value is
/// `ECGROUP_WRITE` with the path and errno.
pub fn write(dir: &Path, file: &str, value: &str) -> Result<(), Error> {
    let path = dir.join(file);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| {
            let code = if e.raw_os_error() == Some(libc::ENOENT) {
                Code::Unsupported.as_str()
            } else {
                Code::Write.as_str()
            };
            Error::io(code, "open", &e, format!("open {}", path.display())).with_path(&path)
        })?;
    f.write_all(value.as_bytes()).map_err(|e| {
        Error::io(
            Code::Write,
            "write",
            &e,
            format!("write {:?} to {}", value, path.display()),
        )
        .with_path(&path)
    })
}

/// Read `dir/file` as a string (`ECGROUP_READ` with path and errno).
pub fn read(dir: &Path, file: &str) -> Result<String, Error> {
    let path = dir.join(file);
    ctr_common::fs::read_small(&path).map_err(|e| {
        Error::io(Code::Read, "read", &e, format!("read {}", path.display())).with_path(&path)
    })
}

/// [`read`] of a one-value file (as `cpuset.cpus`): the kernel hands it
/// over in one read(2), so none is made to see the end
/// ([`ctr_common::fs::read_whole`]).
pub fn read_value(dir: &Path, file: &str) -> Result<String, Error> {
    let path = dir.join(file);
    ctr_common::fs::read_whole(&path).map_err(|e| {
        Error::io(Code::Read, "read", &e, format!("read {}", path.display())).with_path(&path)
    })
}

/// Read `dir/file` if it exists.
pub fn read_opt(dir: &Path, file: &str) -> Option<String> {
    ctr_common::fs::read_small(dir.join(file)).ok()
}

/// Read a single number (`max` is None).
pub fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    let s = read_opt(dir, file)?;
    let s = s.trim();
    if s == "max" {
        return None;
    }
    s.parse().ok()
}

/// Parse "key value" lines (memory.stat, cpu.stat, memory.events...).
pub fn flat_keyed(text: &str) -> Vec<(&str, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = it.next()?.parse().ok()?;
            Some((k, v))
        })
        .collect()
}

/// Value of `key` in "key value" text.
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    flat_keyed(text)
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Pids listed in a `cgroup.procs` / `tasks` style file.
pub fn pid_list(text: &str) -> Vec<i32> {
    text.split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Write a fixture file (tests).
#[cfg(test)]
pub fn fixture(dir: &Path, files: &[(&str, &str)]) {
    for (f, v) in files {
        std::fs::write(dir.join(f), v).unwrap();
    }
}
