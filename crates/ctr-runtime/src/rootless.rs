//! Running as an unprivileged user (docs/runtime.md, "Rootless"): where
//! the state lives and which cgroup, if any, a container gets.
//!
//! The rules follow runc's rootless mode:
//! * the caller is rootless when its effective uid is not 0, or when it
//!   runs in a user namespace that does not map the whole id range (an
//!   engine such as rootless podman calls the runtime as "root" inside
//!   its own user namespace);
//! * the default state root is `$XDG_RUNTIME_DIR/ctrun` for a non-root
//!   caller that has `XDG_RUNTIME_DIR` (runc: `$XDG_RUNTIME_DIR/runc`);
//! * cgroups are made only inside a subtree delegated to the caller (the
//!   cgroup2 directory, its `cgroup.procs` and `cgroup.subtree_control`
//!   owned by the caller's uid, as systemd's `Delegate=yes` and runc's
//!   check); without one the container runs in the caller's cgroup, which
//!   is fine while the config asks for no limits and refused with
//!   `ERUNTIME_ROOTLESS_CGROUP` when it does (runc: "rootless needs no
//!   limits + no cgrouppath when no permission is granted for cgroups").

use crate::state::DEFAULT_ROOT;
use crate::Code;
use ctr_common::{Error, Result};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Whether the caller lacks real root: a non-zero effective uid, or a
/// user namespace that maps only part of the id range.
pub fn is_rootless() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return true;
    }
    in_partial_user_namespace()
}

/// In a user namespace whose uid map is not the initial identity map.
/// A written map never changes, and the runtime never moves itself to
/// another user namespace (a threaded process, as Node, cannot), so a map
/// read once holds for the process (a create asked several times); an
/// unwritten one is read again.
fn in_partial_user_namespace() -> bool {
    static PARTIAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if let Some(p) = PARTIAL.get() {
        return *p;
    }
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(m) => {
            let f: Vec<&str> = m.split_whitespace().collect();
            let partial = f != ["0", "0", "4294967295"];
            if !f.is_empty() {
                let _ = PARTIAL.set(partial);
            }
            partial
        }
        Err(_) => false,
    }
}

/// The state root when `--root` is not given: `$XDG_RUNTIME_DIR/ctrun`
/// for a non-root caller that has `XDG_RUNTIME_DIR`, else `/run/ctrun`.
/// "Root" of a partial user namespace (rootless podman calls the runtime
/// so) counts as non-root unless `USER` is `root`, as runc's
/// `shouldHonorXDGRuntimeDir`.
pub fn default_root() -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let as_root = euid == 0
        && (!in_partial_user_namespace() || std::env::var("USER").as_deref() == Ok("root"));
    default_root_for(!as_root, std::env::var_os("XDG_RUNTIME_DIR").as_deref())
}

/// [`default_root`] for a caller that is rootless or not and its
/// `XDG_RUNTIME_DIR` (tests).
pub fn default_root_for(rootless: bool, xdg: Option<&std::ffi::OsStr>) -> PathBuf {
    match xdg {
        Some(x) if rootless && !x.is_empty() => Path::new(x).join("ctrun"),
        _ => PathBuf::from(DEFAULT_ROOT),
    }
}

/// The cgroup a rootless container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootlessCgroup {
    /// Its own cgroup at this path (absolute from the cgroup2 root),
    /// inside the delegated subtree.
    Delegated(String),
    /// None: it stays in the caller's cgroup (no limits, no delegation).
    None(String),
}

/// Is `dir` (a cgroup2 directory) delegated to `euid`: the directory,
/// its `cgroup.procs` and its `cgroup.subtree_control` owned by it.
pub fn is_delegated(dir: &Path, euid: u32) -> bool {
    ["", "cgroup.procs", "cgroup.subtree_control"]
        .iter()
        .all(|f| {
            std::fs::metadata(dir.join(f))
                .map(|m| m.uid() == euid)
                .unwrap_or(false)
        })
}

/// The delegated cgroup2 directory (path from the hierarchy root) where a
/// rootless caller makes container cgroups: the parent of its own cgroup
/// when that is delegated (the own cgroup holds the caller, so it cannot
/// pass controllers down: cgroup v2's no-internal-processes rule; runc
/// picks the parent too), else its own cgroup when that is. None on a
/// host without a pure cgroup2 layout or without delegation.
pub fn delegated_base(layout: &ctr_cgroup::Layout) -> Option<String> {
    if layout.mode != ctr_cgroup::Mode::Unified {
        return None;
    }
    let h = layout.hierarchies.iter().find(|h| h.version == 2)?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let mp = Path::new(&h.mount_point);
    let own = h.own_path.trim_end_matches('/');
    let parent = own.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    [parent, own]
        .into_iter()
        .filter(|p| !p.is_empty())
        .find(|p| is_delegated(&mp.join(p.trim_start_matches('/')), euid))
        .map(String::from)
}

/// Pass every controller the delegated `base` has down to its children
/// (its `cgroup.subtree_control`), one at a time so that one the kernel
/// refuses leaves the others. The subtree is the caller's to manage
/// (that is what delegation means); runc does the same on its way down.
fn enable_in_base(mount_point: &Path, base: &str) {
    let dir = mount_point.join(base.trim_start_matches('/'));
    let avail = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let on = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    for c in avail.split_whitespace() {
        if !on.split_whitespace().any(|x| x == c) {
            let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("+{c}"));
        }
    }
}

/// The resource fields a config sets that need a cgroup (device rules
/// are left out: a rootless runtime cannot apply them, and the user
/// namespace already bars device nodes it does not own).
pub fn limits_asked(r: &ctr_cgroup::Resources) -> Vec<&'static str> {
    let mut out = Vec::new();
    if r.memory.is_some() {
        out.push("memory");
    }
    if r.cpu.is_some() {
        out.push("cpu");
    }
    if r.pids.is_some() {
        out.push("pids");
    }
    if r.block_io.is_some() {
        out.push("blockIO");
    }
    if !r.hugepages.is_empty() {
        out.push("hugepageLimits");
    }
    if !r.rdma.is_empty() {
        out.push("rdma");
    }
    if !r.misc.is_empty() {
        out.push("misc");
    }
    if !r.unified.is_empty() {
        out.push("unified");
    }
    if r.network.is_some() {
        out.push("network");
    }
    out
}

/// Decide the cgroup of a rootless container `id`: `given` is the
/// config's `linux.cgroupsPath`. With a delegated subtree the container
/// gets `<base>/<id>` (a relative `cgroupsPath` goes under the base, an
/// absolute one is used as is); without one it gets none, unless the
/// config asks for limits (`ERUNTIME_ROOTLESS_CGROUP`).
pub fn choose_cgroup(
    layout: &ctr_cgroup::Layout,
    id: &str,
    given: Option<&str>,
    resources: &ctr_cgroup::Resources,
) -> Result<RootlessCgroup> {
    if let Some(base) = delegated_base(layout) {
        if let Some(h) = layout.hierarchies.iter().find(|h| h.version == 2) {
            enable_in_base(Path::new(&h.mount_point), &base);
        }
        let path = match given {
            Some(p) if p.starts_with('/') => p.to_string(),
            Some(p) => format!("{}/{}", base.trim_end_matches('/'), p),
            None => format!("{}/{id}", base.trim_end_matches('/')),
        };
        return Ok(RootlessCgroup::Delegated(path));
    }
    no_cgroup(
        id,
        resources,
        "no cgroup2 subtree is delegated to the caller",
    )
}

/// The degraded case: no cgroup, or an error when limits are asked for.
pub fn no_cgroup(id: &str, resources: &ctr_cgroup::Resources, why: &str) -> Result<RootlessCgroup> {
    let asked = limits_asked(resources);
    if let Some(first) = asked.first() {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        return Err(Error::new(
            Code::RootlessCgroup,
            format!(
                "linux.resources.{first}: rootless (uid {euid}) and {why}, so the limits ({}) cannot be applied; delegate a cgroup2 subtree (docs/runtime.md, \"Rootless\") or drop the limits",
                asked.join(", ")
            ),
        )
        .with_field(format!("linux.resources.{first}")));
    }
    Ok(RootlessCgroup::None(format!(
        "container {id:?} runs without its own cgroup: rootless and {why}"
    )))
}

/// Whether a cgroup create failed for lack of permission (the degraded
/// case rather than an error, when no limits are asked for).
pub fn is_permission_error(e: &Error) -> bool {
    matches!(
        e.errno,
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
    )
}

/// Before `exec` into a rootless container: the runtime joins the pid
/// namespace itself (it only affects children), which needs a capability
/// in the namespace's owner, the container's user namespace. A
/// single-threaded runtime (`ctrun`) enters that user namespace and the
/// pid namespace first and drops them from `joins`, so the child joins the
/// rest from inside it (as runc's nsexec does in its first stage). A multi-threaded process (Node)
/// cannot enter a user namespace: `ERUNTIME_UNSUPPORTED`, use `ctrun exec`.
pub fn enter_user_namespace_for_exec(
    joins: &mut Vec<(ctr_ns::NamespaceKind, String)>,
) -> Result<()> {
    use ctr_ns::NamespaceKind;
    use std::os::fd::AsRawFd;
    let Some(i) = joins.iter().position(|(k, _)| *k == NamespaceKind::User) else {
        return Ok(());
    };
    if !joins.iter().any(|(k, _)| *k == NamespaceKind::Pid) {
        return Ok(());
    }
    let threads = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_default();
    if threads != "1" {
        return Err(Error::new(
            Code::Unsupported,
            "exec into a rootless container's pid namespace needs a single-threaded runtime to enter its user namespace first: use ctrun exec",
        )
        .with_field("exec"));
    }
    let path = joins[i].1.clone();
    let f = std::fs::File::open(&path).map_err(|e| {
        Error::io(ctr_ns::Code::Join, "open", &e, format!("open {path}")).with_path(&path)
    })?;
    // SAFETY: setns on an open fd; this process has a single thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWUSER) } < 0 {
        return Err(Error::last_os(
            ctr_ns::Code::Join,
            "setns",
            format!("join the user namespace {path}"),
        )
        .with_path(&path));
    }
    joins.remove(i);
    // The pid namespace too, for good: only children see it, and this
    // runtime could not return to its own (owned by the initial user
    // namespace, where it has no capability); the child made next is the
    // one that needs it.
    if let Some(j) = joins.iter().position(|(k, _)| *k == NamespaceKind::Pid) {
        let path = joins[j].1.clone();
        let f = std::fs::File::open(&path).map_err(|e| {
            Error::io(ctr_ns::Code::Join, "open", &e, format!("open {path}")).with_path(&path)
        })?;
        // SAFETY: setns on an open fd.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWPID) } < 0 {
            return Err(Error::last_os(
                ctr_ns::Code::Join,
                "setns",
                format!("join the pid namespace {path}"),
            )
            .with_path(&path));
        }
        joins.remove(j);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_root_follows_xdg_for_non_root() {
        let x = std::ffi::OsStr::new("/run/user/1000");
        assert_eq!(
            default_root_for(true, Some(x)),
            Path::new("/run/user/1000/ctrun")
        );
        assert_eq!(default_root_for(false, Some(x)), Path::new(DEFAULT_ROOT));
        assert_eq!(default_root_for(true, None), Path::new(DEFAULT_ROOT));
        assert_eq!(
            default_root_for(true, Some(std::ffi::OsStr::new(""))),
            Path::new(DEFAULT_ROOT)
        );
    }

    #[test]
    fn limits_need_a_cgroup_devices_do_not() {
        let mut r = ctr_cgroup::Resources {
            devices: Some(Vec::new()),
            ..Default::default()
        };
        assert!(matches!(
            no_cgroup("c", &r, "none delegated"),
            Ok(RootlessCgroup::None(_))
        ));
        r.pids = Some(10);
        let e = no_cgroup("c", &r, "none delegated").unwrap_err();
        assert_eq!(e.code, Code::RootlessCgroup.as_str());
        assert_eq!(e.path.as_deref(), Some("linux.resources.pids"));
    }
}
