//! Detecting the cgroup layout of the host.

use crate::Code;
use ctr_common::{fs::read_string, Error};
use serde::Serialize;

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only v1 hierarchies.
    Legacy,
    /// v1 controllers plus a cgroup2 mount (systemd's hybrid layout).
    Hybrid,
    /// Only cgroup2 at the root (pure v2).
    Unified,
}

/// One mounted hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hierarchy {
    /// 1 or 2.
    pub version: u8,
    /// Where it is mounted.
    pub mount_point: String,
    /// Controllers attached (v1: from mount options; v2: `cgroup.controllers`).
    pub controllers: Vec<String>,
    /// The caller's cgroup in this hierarchy (from `/proc/self/cgroup`),
    /// relative to the hierarchy's root.
    pub own_path: String,
    /// v2 only: the caller's own cgroup was delegated to it (a non-root
    /// user whose uid owns its `cgroup.procs`, as systemd delegates a
    /// user's slice), so it may create child cgroups there.
    pub delegated: bool,
}

/// The host's cgroup layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// Legacy, hybrid or unified.
    pub mode: Mode,
    /// Every mounted hierarchy (v1 named hierarchies such as name=systemd
    /// included, controller list `["name=systemd"]`).
    pub hierarchies: Vec<Hierarchy>,
    /// Whether the caller is in a cgroup namespace other than the one of
    /// pid 1 (then own paths are relative to the namespace's root); None
    /// when `/proc/1/ns/cgroup` cannot be read.
    pub cgroup_namespace: Option<bool>,
}

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// Parse `/proc/self/mountinfo` text into (fstype, mount point, super options).
fn cgroup_mounts(mountinfo: &str) -> Vec<(String, String, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?.to_string();
            let mut r = right.split(' ');
            let fstype = r.next()?.to_string();
            let _source = r.next();
            let super_opts = r.next().unwrap_or("").to_string();
            (fstype == "cgroup" || fstype == "cgroup2").then_some((fstype, mount_point, super_opts))
        })
        .collect()
}

/// Parse `/proc/self/cgroup` into (hierarchy id, controllers, path).
fn own_cgroups(text: &str) -> Vec<(u32, Vec<String>, String)> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let id = parts.next()?.parse().ok()?;
            let ctrls = parts
                .next()?
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            Some((id, ctrls, parts.next()?.to_string()))
        })
        .collect()
}

/// Build a [`Layout`] from the texts of mountinfo, /proc/self/cgroup and a
/// reader for `cgroup.controllers` (so tests can use fixtures).
pub fn layout_from(
    mountinfo: &str,
    self_cgroup: &str,
    read_controllers: impl Fn(&str) -> Option<String>,
) -> Layout {
    let own = own_cgroups(self_cgroup);
    let mut hierarchies = Vec::new();
    for (fstype, mount_point, opts) in cgroup_mounts(mountinfo) {
        if fstype == "cgroup2" {
            let controllers = read_controllers(&mount_point)
                .map(|s| s.split_whitespace().map(String::from).collect())
                .unwrap_or_default();
            let own_path = own
                .iter()
                .find(|(id, ..)| *id == 0)
                .map(|o| o.2.clone())
                .unwrap_or("/".into());
            hierarchies.push(Hierarchy {
                version: 2,
                mount_point,
                controllers,
                own_path,
                delegated: false,
            });
        } else {
            let controllers: Vec<String> = opts
                .split(',')
                .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                .map(String::from)
                .collect();
            let own_path = own
                .iter()
                .find(|(id, c, _)| {
                    *id != 0 && !c.is_empty() && c.iter().all(|x| controllers.contains(x))
                })
                .map(|o| o.2.clone())
                .unwrap_or("/".into());
            hierarchies.push(Hierarchy {
                version: 1,
                mount_point,
                controllers,
                own_path,
                delegated: false,
            });
        }
    }
    let has_v1 = hierarchies.iter().any(|h| h.version == 1);
    let has_v2 = hierarchies.iter().any(|h| h.version == 2);
    let mode = match (has_v1, has_v2) {
        (true, true) => Mode::Hybrid,
        (false, true) => Mode::Unified,
        _ => Mode::Legacy,
    };
    Layout {
        mode,
        hierarchies,
        cgroup_namespace: None,
    }
}

/// The running host's cgroup layout, detected once per process and kept
/// while it still holds (see [`detect_uncached`] for the detection itself).
///
/// Each call re-reads `/proc/self/cgroup` (one small file) and the link of
/// `/proc/self/ns/cgroup`, and asks the kernel whether the mount table
/// changed since the cached detection (a `poll` on the `/proc/self/mountinfo`
/// fd it was read from: the kernel flags every mount and unmount in the
/// namespace). Any difference, or a change of the effective uid, detects
/// again. A create that parsed mountinfo twice and a delete once now parse it
/// once per process. Callers that find a cgroup missing where the layout
/// says it should be call [`forget_layout`] and detect again.
pub fn detect() -> Result<Layout, Error> {
    let key = CacheKey::now()?;
    let mut cache = LAYOUT_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = cache.as_ref() {
        if c.key == key && !mounts_changed(&c.mountinfo) {
            return Ok(c.layout.clone());
        }
    }
    *cache = None;
    let (layout, mountinfo) = detect_with(&key.self_cgroup)?;
    *cache = Some(CachedLayout {
        key,
        mountinfo,
        layout: layout.clone(),
    });
    Ok(layout)
}

/// Drop the cached layout: the next [`detect`] reads the host again.
pub fn forget_layout() {
    *LAYOUT_CACHE.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Detect the running host's cgroup layout now, without the cache.
pub fn detect_uncached() -> Result<Layout, Error> {
    let self_cgroup = read_string(Code::Detect.as_str(), "/proc/self/cgroup")?;
    detect_with(&self_cgroup).map(|(l, _)| l)
}

/// What a cached layout depends on besides the mount table.
#[derive(PartialEq, Eq)]
struct CacheKey {
    self_cgroup: String,
    cgroup_ns: Option<std::path::PathBuf>,
    euid: u32,
}

impl CacheKey {
    fn now() -> Result<CacheKey, Error> {
        Ok(CacheKey {
            // One record: read whole in one read(2).
            self_cgroup: ctr_common::fs::read_whole("/proc/self/cgroup").map_err(|e| {
                Error::io(Code::Detect.as_str(), "read", &e, "read /proc/self/cgroup")
                    .with_path("/proc/self/cgroup")
            })?,
            cgroup_ns: std::fs::read_link("/proc/self/ns/cgroup").ok(),
            // SAFETY: geteuid has no preconditions.
            euid: unsafe { libc::geteuid() },
        })
    }
}

struct CachedLayout {
    key: CacheKey,
    /// The fd mountinfo was read from, polled for mount changes.
    mountinfo: std::fs::File,
    layout: Layout,
}

static LAYOUT_CACHE: std::sync::Mutex<Option<CachedLayout>> = std::sync::Mutex::new(None);

/// Whether the mount namespace of `mountinfo` (an open `/proc/<pid>/mountinfo`)
/// changed since it was opened or last polled: the kernel reports
/// `POLLERR | POLLPRI` once per change. A failed poll counts as a change.
pub(crate) fn mounts_changed(mountinfo: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: mountinfo.as_raw_fd(),
        events: libc::POLLPRI,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no timeout.
    // Only POLLPRI was asked: any event (or an error, n < 0) is a change.
    unsafe { libc::poll(&mut pfd, 1, 0) != 0 }
}

/// Detect from `self_cgroup` (the text of `/proc/self/cgroup`); returns the
/// mountinfo file it read (opened first, so a change during the read shows
/// in its next poll).
fn detect_with(self_cgroup: &str) -> Result<(Layout, std::fs::File), Error> {
    use std::io::Read;
    let path = "/proc/self/mountinfo";
    let io_err = |e: std::io::Error| {
        Error::io(Code::Detect.as_str(), "read", &e, format!("read {path}")).with_path(path)
    };
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let mut mountinfo = String::new();
    file.read_to_string(&mut mountinfo).map_err(io_err)?;
    let mut layout = layout_from(&mountinfo, self_cgroup, |mp| {
        std::fs::read_to_string(format!("{mp}/cgroup.controllers")).ok()
    });
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    for h in layout.hierarchies.iter_mut().filter(|h| h.version == 2) {
        use std::os::unix::fs::MetadataExt;
        let own = format!(
            "{}{}/cgroup.procs",
            h.mount_point.trim_end_matches('/'),
            if h.own_path == "/" { "" } else { &h.own_path }
        );
        h.delegated = euid != 0
            && std::fs::metadata(&own)
                .map(|m| m.uid() == euid)
                .unwrap_or(false);
    }
    let ns = |p: &str| std::fs::read_link(p).ok();
    layout.cgroup_namespace = match (ns("/proc/self/ns/cgroup"), ns("/proc/1/ns/cgroup")) {
        (Some(a), Some(b)) => Some(a != b),
        _ => None,
    };
    if layout.hierarchies.is_empty() {
        return Err(
            Error::new(Code::NotMounted, "no cgroup filesystem is mounted")
                .with_path("/proc/self/mountinfo"),
        );
    }
    Ok((layout, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 23 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:16 - cgroup cgroup rw,cpu,cpuacct
";
    const SELF: &str =
        "4:memory:/user.slice\n3:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/init.scope\n";

    #[test]
    fn hybrid_layout() {
        let l = layout_from(HYBRID, SELF, |_| Some("hugetlb\n".into()));
        assert_eq!(l.mode, Mode::Hybrid);
        assert_eq!(l.hierarchies.len(), 4);
        let v2 = l.hierarchies.iter().find(|h| h.version == 2).unwrap();
        assert_eq!(v2.mount_point, "/sys/fs/cgroup/unified");
        assert_eq!(v2.controllers, vec!["hugetlb"]);
        assert_eq!(v2.own_path, "/init.scope");
        let mem = l
            .hierarchies
            .iter()
            .find(|h| h.controllers == ["memory"])
            .unwrap();
        assert_eq!(mem.own_path, "/user.slice");
        let cpu = l
            .hierarchies
            .iter()
            .find(|h| h.mount_point.ends_with("cpu,cpuacct"))
            .unwrap();
        assert_eq!(cpu.controllers, vec!["cpu", "cpuacct"]);
    }

    #[test]
    fn unified_layout() {
        let mi = "31 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let l = layout_from(mi, "0::/\n", |_| Some("cpuset cpu io memory pids\n".into()));
        assert_eq!(l.mode, Mode::Unified);
        assert_eq!(l.hierarchies[0].controllers.len(), 5);
    }

    #[test]
    fn the_cached_layout_is_the_detected_one() {
        let a = detect().unwrap();
        assert_eq!(a, detect().unwrap());
        assert_eq!(a, detect_uncached().unwrap());
        forget_layout();
        assert_eq!(a, detect().unwrap());
    }

    /// The cache's mount check on a real kernel: in a forked child with its
    /// own mount namespace (nothing changes on the host), a mount is seen
    /// by a mountinfo fd opened before it, once.
    #[test]
    fn a_mount_change_shows_in_the_mountinfo_poll() {
        use std::os::fd::FromRawFd;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting needs root");
            return;
        }
        let target = tempfile::tempdir().unwrap();
        let t = std::ffi::CString::new(target.path().to_str().unwrap()).unwrap();
        // SAFETY: the child makes raw syscalls only (no allocation) and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                let null = std::ptr::null::<libc::c_char>();
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    libc::_exit(2);
                }
                if libc::mount(
                    null,
                    c"/".as_ptr(),
                    null,
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                {
                    libc::_exit(3);
                }
                let fd = libc::open(
                    c"/proc/self/mountinfo".as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC,
                );
                if fd < 0 {
                    libc::_exit(4);
                }
                let f = std::fs::File::from_raw_fd(fd);
                if mounts_changed(&f) {
                    libc::_exit(5);
                }
                if libc::mount(
                    c"tmpfs".as_ptr(),
                    t.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    std::ptr::null(),
                ) != 0
                {
                    libc::_exit(6);
                }
                if !mounts_changed(&f) {
                    libc::_exit(7);
                }
                if mounts_changed(&f) {
                    libc::_exit(8);
                }
                libc::_exit(0);
            }
        }
        assert!(pid > 0);
        let mut status = 0;
        // SAFETY: our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "status {status}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the step that failed (see the child)"
        );
    }

    #[test]
    fn detects_this_host() {
        let l = detect().unwrap();
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        for h in &l.hierarchies {
            assert!(mountinfo.contains(&format!(" {} ", h.mount_point)));
        }
    }
}
