//! What the integration tests of ctr-ns share: the root check, the busybox
//! rootfs, reading a child's output.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Read;
use std::os::fd::OwnedFd;

/// Whether we are root; prints the stated skip if not.
pub fn root_or_skip() -> bool {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return false;
    }
    true
}

/// The busybox rootfs made by scripts/make-rootfs.sh, if there (else a stated skip).
pub fn busybox() -> Option<String> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.cache/rootfs/busybox");
    if std::path::Path::new(p).join("bin/busybox").exists() {
        Some(p.to_string())
    } else {
        eprintln!("skipped: busybox rootfs missing (bash scripts/make-rootfs.sh)");
        None
    }
}

/// Everything readable from `fd` until end of file.
pub fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

/// Spawn `o` with stdout piped (stdin null, stderr ours), wait for it to
/// run and exit, and give its stdout; a setup step the child refused is the
/// error (after the child was reaped).
pub fn run_captured(o: &mut ctr_ns::SpawnOptions) -> ctr_ns::Result<String> {
    o.io.stdio = [
        ctr_ns::Stdio::Null,
        ctr_ns::Stdio::Pipe,
        ctr_ns::Stdio::Fd(2),
    ];
    let child = ctr_ns::spawn(o)?;
    let stage = child.wait_stage();
    let out = child.take_stdio()[1].take().map(read_all);
    let _ = child.wait();
    assert_eq!(stage?, ctr_ns::Stage::Running);
    Ok(out.unwrap_or_default())
}
