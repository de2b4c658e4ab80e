//! What the integration tests of ctr-runtime share: the busybox rootfs,
//! the root check, process and cgroup leftover probes, JSON merging.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

/// The busybox rootfs made by scripts/make-rootfs.sh.
pub fn rootfs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/rootfs/busybox").canonicalize().unwrap_or_default()
}

/// Whether the tests can run here (root, the rootfs); prints the stated skip if not.
pub fn ready() -> bool {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return false;
    }
    if !rootfs().join("bin/busybox").exists() {
        eprintln!("skipped: no busybox rootfs (run scripts/make-rootfs.sh)");
        return false;
    }
    true
}

/// Live processes whose command line contains `s`.
pub fn procs_mentioning(s: &str) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.parse::<i32>().is_err() || stat_state(name.parse().unwrap()) == Some('Z') {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(s) {
                out.push(format!("{name}: {cmd}"));
            }
        }
    }
    out
}

/// Merge JSON `b` into `a` (objects key by key, anything else replaced).
pub fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

/// The state letter of `/proc/PID/stat`.
pub fn stat_state(pid: i64) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].chars().next()
}

/// Wait (up to 5 s) until `pid` is gone or a zombie.
pub fn wait_gone(pid: i64) -> bool {
    for _ in 0..500 {
        match stat_state(pid) {
            None | Some('Z') => return true,
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    false
}

/// Every hierarchy's directory for the cgroup `path` (v1 controllers and the v2 mount).
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    for line in std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-").unwrap();
        if f[sep + 1] == "cgroup" || f[sep + 1] == "cgroup2" {
            out.push(PathBuf::from(f[4]).join(path.trim_start_matches('/')));
        }
    }
    out
}
