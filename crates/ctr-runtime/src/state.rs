//! The state store: `<root>/<id>/state.json`, one directory per container,
//! written atomically and guarded by a per-container `flock`.
//!
//! The record protocol (docs/runtime.md, "State protocol"): a record
//! exists before anything of its container does, and every step that
//! creates something is recorded before it runs, so a `kill -9` of the
//! runtime (or of Node) at any instant leaves only what `list` shows and
//! `delete` removes.
//!
//! * claim: the record (`creating`, owner pid + start time, cgroup path
//!   and the parents it will make) is written in a hidden directory and
//!   renamed to `<id>` with `RENAME_NOREPLACE`, so `<id>/` never exists
//!   without its `state.json`;
//! * each step rewrites `state.json` (write + rename: atomic against a
//!   crash of the process; no fsync, as nothing it names outlives a reboot);
//! * remove: `<id>/` is renamed away (hidden) first, then removed, so the
//!   id is free at once and a crash mid-removal leaves only a hidden
//!   directory that [`Store::sweep`] removes.

use crate::util;
use crate::Code;
use ctr_common::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Default state root, as runc's `/run/runc`.
pub const DEFAULT_ROOT: &str = "/run/ctrun";

/// Status of a container (runtime.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created.
    Creating,
    /// Created: the init process waits at the gate.
    Created,
    /// The user program runs.
    Running,
    /// The init process has exited.
    Stopped,
    /// Frozen by `pause` (cgroup freezer).
    Paused,
}

impl Status {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Paused => "paused",
        }
    }
}

/// What `state.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// Spec version.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Host pid of the init process.
    pub pid: i32,
    /// Start time of the init process (ticks since boot, /proc/PID/stat field 22).
    pub init_start_time: u64,
    /// Last status written (the live one is computed).
    pub status: Status,
    /// Absolute bundle path.
    pub bundle: String,
    /// Absolute rootfs path.
    pub rootfs: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Annotations of the config.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The config's hooks (poststart and poststop run after create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<ctr_oci::types::Hooks>,
    /// The container's cgroup path (removed at delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_path: Option<String>,
    /// Parent directories of the cgroup that create made (`testdir` of a
    /// `testdir/cgrouptest` cgroupsPath), removed at delete when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgroup_made_parents: Vec<std::path::PathBuf>,
    /// The systemd scope of the cgroup (`--systemd-cgroup`), named before
    /// systemd is asked to start it; `delete` stops and resets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemd_unit: Option<String>,
    /// `linux.netDevices` moved into the container (moved back on delete).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub net_devices: Vec<crate::netdev::MovedDevice>,
    /// The network namespace joined by path, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns_path: Option<String>,
    /// Bridge-network leases (`@ctr/netns` networks) the container is
    /// attached through, each recorded *before* its attach starts, so the
    /// veth, published ports and address are found and released at delete
    /// whatever instant the attaching process died at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridge_leases: Vec<BridgeLease>,
    /// The process answerable for the record: the creating process while
    /// `creating`, and afterwards the one that stays attached to the
    /// container (the Node API, a foreground `ctrun run`); none for a
    /// detached container (`ctrun create`, `run -d`). Once it is dead, the
    /// record is for [`crate::lifecycle::gc`] to remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
}

/// A lease of a bridge network: enough to release it (`ctr_netns::bridge::release_recorded`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BridgeLease {
    /// State root of the networks (`CTR_NETNS_STATE_DIR` or `/run/ctr/netns` of the attacher).
    pub state_root: String,
    /// Network name.
    pub network: String,
    /// Lease id (the host veth is `vctr<lease>`).
    pub lease: String,
}

/// A process, as pid and start time (so a reused pid is not mistaken for it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// Host pid.
    pub pid: i32,
    /// Start time (ticks since boot, /proc/PID/stat field 22).
    pub start_time: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        // Read once per process (each create records it, and a read of
        // /proc/<pid>/stat is tens of microseconds); keyed by pid, so a
        // forked child never takes its parent's.
        static ME: std::sync::Mutex<Option<Owner>> = std::sync::Mutex::new(None);
        let pid = util::own_pid();
        let mut me = ME.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = me.filter(|o| o.pid == pid) {
            return o;
        }
        let o = Owner {
            pid,
            start_time: util::proc_stat(pid).map(|(_, t)| t).unwrap_or(0),
        };
        if o.start_time != 0 {
            *me = Some(o);
        }
        o
    }

    /// Whether it still runs.
    pub fn alive(&self) -> bool {
        util::alive(self.pid, self.start_time)
    }
}

/// The `state` output, shaped as runc's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Spec version.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Init pid (0 once stopped).
    pub pid: i32,
    /// Live status.
    pub status: String,
    /// Bundle path.
    pub bundle: String,
    /// Rootfs path.
    pub rootfs: String,
    /// Creation time.
    pub created: String,
    /// Owner user name.
    pub owner: String,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Check a container id: 1-1024 chars of `[A-Za-z0-9_+.-]`, not starting with `.`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidId,
            format!(
                "invalid container id {id:?}: use 1-1024 of [A-Za-z0-9_+.-], not starting with '.'"
            ),
        )
        .with_field("id"))
    }
}

/// The state root directory.
#[derive(Debug, Clone)]
pub struct Store {
    /// Absolute root.
    pub root: PathBuf,
}

/// A locked container directory; the lock is released on drop.
#[derive(Debug)]
pub struct Locked {
    /// Container id.
    pub id: String,
    /// Its directory.
    pub dir: PathBuf,
    root: PathBuf,
    /// None when taken over from a dead owner whose lock an orphan holds.
    _lock: Option<OwnedFd>,
}

fn flock_dir(dir: &Path, code: &str) -> Result<OwnedFd> {
    flock_fd(open_dir(dir, code)?, dir)
}

/// Take the exclusive lock on `fd`, waiting for it.
fn flock_fd(fd: OwnedFd, dir: &Path) -> Result<OwnedFd> {
    loop {
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(fd);
        }
        if util::errno() != libc::EINTR {
            return Err(
                Error::last_os(Code::Lock, "flock", format!("lock {}", dir.display()))
                    .with_path(dir),
            );
        }
    }
}

impl Store {
    /// A store at `root` (created on first use with mode 0700).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    fn ensure_root(&self) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(|e| {
                Error::io(
                    Code::State,
                    "mkdir",
                    &e,
                    format!("create state root {}", self.root.display()),
                )
                .with_path(&self.root)
            })
    }

    /// Claim a new id with its first record: written in a hidden
    /// directory, locked, then renamed to `<id>` (`RENAME_NOREPLACE`: fails
    /// with `ERUNTIME_EXISTS` if the id is taken). `<id>/` thus never
    /// exists without a `state.json`.
    pub fn claim(&self, id: &str, first: &Saved) -> Result<Locked> {
        validate_id(id)?;
        let me = Owner::me();
        let tmp = self.root.join(format!(
            ".new-{}-{}-{}",
            me.pid,
            me.start_time,
            unique_suffix()
        ));
        use std::os::unix::fs::DirBuilderExt;
        let mkdir_tmp = || std::fs::DirBuilder::new().mode(0o711).create(&tmp);
        // The root is made only when missing (the claim's own mkdir says
        // so): two system calls less per create than making sure first.
        let made = match mkdir_tmp() {
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                self.ensure_root()?;
                mkdir_tmp()
            }
            made => made,
        };
        made.map_err(|e| {
            Error::io(
                Code::State,
                "mkdir",
                &e,
                format!("create {}", tmp.display()),
            )
            .with_path(&tmp)
        })?;
        let lock =
            match write_state(&tmp, first).and_then(|_| flock_dir(&tmp, Code::State.as_str())) {
                Ok(l) => l,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            };
        let dir = self.root.join(id);
        if let Err(e) = rename_noreplace(&tmp, &dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            if e.raw_os_error() == Some(libc::EEXIST) || e.raw_os_error() == Some(libc::ENOTEMPTY) {
                return Err(Error::new(
                    Code::Exists,
                    format!("container with id {id:?} already exists"),
                )
                .with_path(&dir)
                .with_errno(libc::EEXIST));
            }
            return Err(Error::io(
                Code::State,
                "renameat2",
                &e,
                format!("rename {} to {}", tmp.display(), dir.display()),
            )
            .with_path(&dir));
        }
        Ok(Locked {
            id: id.to_string(),
            dir,
            root: self.root.clone(),
            _lock: Some(lock),
        })
    }

    /// Lock an existing container (waits for other callers on the same id).
    /// A `creating` record whose owner is dead is taken over even if its
    /// lock is still held: only an orphan that inherited the owner's fd
    /// (a half-made container init) can hold it then.
    pub fn lock(&self, id: &str) -> Result<Locked> {
        let locked = self.lock_dir(id)?;
        if !locked.dir.join("state.json").exists() {
            return Err(not_found(id));
        }
        Ok(locked)
    }

    /// [`Store::lock`] and [`Locked::load`] in one: the record read stands
    /// for lock's check that it still exists (one `statx` less).
    pub fn lock_load(&self, id: &str) -> Result<(Locked, Saved)> {
        let locked = self.lock_dir(id)?;
        let saved = read_state(&locked.dir, id)?;
        Ok((locked, saved))
    }

    /// Lock `<root>/<id>/` (see [`Store::lock`]), not checking its record.
    fn lock_dir(&self, id: &str) -> Result<Locked> {
        validate_id(id)?;
        let dir = self.root.join(id);
        let not_found = || not_found(id);
        let fd = open_dir(&dir, Code::State.as_str()).map_err(|e| {
            if e.errno == Some(libc::ENOENT) {
                not_found()
            } else {
                e
            }
        })?;
        let since = std::time::Instant::now();
        let mut held = Some(fd);
        loop {
            let raw = held.as_ref().unwrap().as_raw_fd();
            if unsafe { libc::flock(raw, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                break;
            }
            match util::errno() {
                libc::EINTR => continue,
                libc::EWOULDBLOCK => {}
                _ => {
                    return Err(Error::last_os(
                        Code::Lock,
                        "flock",
                        format!("lock {}", dir.display()),
                    )
                    .with_path(&dir))
                }
            }
            let orphaned = read_state(&dir, id).ok().is_some_and(|s| {
                s.status == Status::Creating && s.owner.is_some_and(|o| !o.alive())
            });
            if !orphaned {
                held = Some(flock_fd(held.take().unwrap(), &dir)?);
                break;
            }
            if since.elapsed() > std::time::Duration::from_millis(200) {
                // Taken over: go on without the lock.
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Removed (renamed away) while we waited for the lock?
        if !same_dir(held.as_ref().unwrap(), &dir) {
            return Err(not_found());
        }
        Ok(Locked {
            id: id.to_string(),
            dir,
            root: self.root.clone(),
            _lock: held,
        })
    }

    /// Remove `<root>/<id>/` if it has no `state.json` and nobody holds its
    /// lock: what a crashed runtime of an older record layout could leave
    /// (a directory made before its record). True if it went.
    pub fn remove_stray(&self, id: &str) -> bool {
        if validate_id(id).is_err() {
            return false;
        }
        let dir = self.root.join(id);
        let Ok(fd) = open_dir(&dir, Code::State.as_str()) else {
            return false;
        };
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0
            || dir.join("state.json").exists()
        {
            return false;
        }
        std::fs::remove_dir_all(&dir).is_ok()
    }

    /// Remove what crashed processes left of records: `.new-*` claims whose
    /// creator is dead (nothing was made for them yet) and `.dead-*`
    /// removals that did not finish. Returns how many went.
    pub fn sweep(&self) -> usize {
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        let mut n = 0;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stale = if let Some(rest) = name.strip_prefix(".new-") {
                let mut f = rest.split('-');
                match (
                    f.next().and_then(|p| p.parse().ok()),
                    f.next().and_then(|t| t.parse().ok()),
                ) {
                    (Some(pid), Some(start_time)) => !(Owner { pid, start_time }).alive(),
                    _ => false,
                }
            } else {
                name.starts_with(".dead-")
            };
            if stale && std::fs::remove_dir_all(e.path()).is_ok() {
                n += 1;
            }
        }
        n
    }

    /// Ids of every container directory with a state file.
    pub fn ids(&self) -> Result<Vec<String>> {
        let rd = match std::fs::read_dir(&self.root) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => {
                return Err(Error::io(
                    Code::State,
                    "opendir",
                    &e,
                    format!("list {}", self.root.display()),
                )
                .with_path(&self.root))
            }
        };
        let mut ids: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Read the saved state of `id` without locking (for list/state).
    pub fn read(&self, id: &str) -> Result<Saved> {
        validate_id(id)?;
        read_state(&self.root.join(id), id)
    }
}

fn not_found(id: &str) -> Error {
    Error::new(Code::NotFound, format!("container {id:?} does not exist")).with_errno(libc::ENOENT)
}

fn read_state(dir: &Path, id: &str) -> Result<Saved> {
    {
        let p = dir.join("state.json");
        // Replaced by rename, never written in place: one read(2) has it whole.
        let text = ctr_common::fs::read_whole(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                not_found(id)
            } else {
                Error::io(Code::State, "read", &e, format!("read {}", p.display())).with_path(&p)
            }
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::new(
                Code::State,
                format!("corrupt state file {}: {e}", p.display()),
            )
            .with_path(&p)
        })
    }
}

/// Write `dir/state.json` by write + rename: a reader (or a crash) sees the
/// old record or the new one, never a part. No fsync: the record only has
/// to survive the death of processes; what it names (processes, cgroups,
/// namespaces) does not outlive a reboot, and the default root is a tmpfs.
fn write_state(dir: &Path, s: &Saved) -> Result<()> {
    let data = serde_json::to_vec(s).expect("state serialises");
    let path = dir.join("state.json");
    let tmp = dir.join(format!(".state.json.{}", util::own_pid()));
    std::fs::write(&tmp, &data)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(
                Code::State,
                "write",
                &e,
                format!("write {}", path.display()),
            )
            .with_path(&path)
        })
}

fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let (f, t) = (
        std::ffi::CString::new(from.as_os_str().as_bytes())?,
        std::ffi::CString::new(to.as_os_str().as_bytes())?,
    );
    // A raw syscall: glibc's renameat2 wrapper is 2.28+, above the 2.17 floor the binaries are built for.
    if unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    } < 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn open_dir(dir: &Path, code: &str) -> Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_os(code, "open", format!("open {}", dir.display())).with_path(dir));
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `fd` is (still) the directory at `dir`.
fn same_dir(fd: &OwnedFd, dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return false;
    }
    std::fs::metadata(dir).is_ok_and(|m| m.ino() == st.st_ino && m.dev() == st.st_dev)
}

impl Locked {
    /// Write `state.json` atomically (see [`write_state`]).
    pub fn save(&self, s: &Saved) -> Result<()> {
        write_state(&self.dir, s)
    }

    /// The state file's content.
    pub fn load(&self) -> Result<Saved> {
        Store::new(self.dir.parent().unwrap()).read(&self.id)
    }

    /// `exec.fifo`: present between create and start.
    pub fn fifo(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }

    /// Remove the directory and everything in it: renamed away first (the
    /// id is free at once, and a crash halfway leaves a hidden `.dead-*`
    /// directory for [`Store::sweep`], not a half-removed record).
    pub fn remove(self) -> Result<()> {
        let dead = self
            .root
            .join(format!(".dead-{}-{}", util::own_pid(), unique_suffix()));
        std::fs::rename(&self.dir, &dead).map_err(|e| {
            Error::io(
                Code::State,
                "rename",
                &e,
                format!("remove {}", self.dir.display()),
            )
            .with_path(&self.dir)
        })?;
        // What a record directory holds at delete: state.json alone (start
        // removed exec.fifo). Anything else (exec.fifo of a container never
        // started, `paused`, a writer's temporary) falls back to the walk.
        let only_record = match std::fs::remove_file(dead.join("state.json")) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        };
        if only_record && std::fs::remove_dir(&dead).is_ok() {
            return Ok(());
        }
        std::fs::remove_dir_all(&dead).map_err(|e| {
            Error::io(
                Code::State,
                "rmdir",
                &e,
                format!("remove {}", dead.display()),
            )
            .with_path(&dead)
        })
    }
}

/// A name part no other call of this process returns: the time in
/// nanoseconds and a counter. The clock alone repeats when two threads of
/// one process (concurrent creates from Node) ask within its resolution.
fn unique_suffix() -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{nanos}-{}",
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// The live status of a saved container: its pid and start time decide
/// whether it still runs, `exec.fifo` whether it was started.
pub fn live_status(dir: &Path, s: &Saved) -> Status {
    // Never finished creating: `creating` until deleted, whether its owner
    // still works on it or died (then `delete` or `gc` removes it).
    if s.status == Status::Creating {
        return Status::Creating;
    }
    if !util::alive(s.pid, s.init_start_time) {
        return Status::Stopped;
    }
    if dir.join("paused").exists() {
        Status::Paused
    } else if dir.join("exec.fifo").exists() {
        Status::Created
    } else {
        Status::Running
    }
}

/// The user name owning `path` (runc's `owner`).
pub fn owner_of(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = match std::fs::metadata(path) {
        Ok(m) => m.uid(),
        Err(_) => return String::new(),
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| format!("#{uid}"))
}

/// The `state` view of a saved container.
pub fn view(store: &Store, s: &Saved) -> State {
    let dir = store.root.join(&s.id);
    let status = live_status(&dir, s);
    State {
        oci_version: s.oci_version.clone(),
        id: s.id.clone(),
        pid: if status == Status::Stopped || !util::alive(s.pid, s.init_start_time) {
            0
        } else {
            s.pid
        },
        status: status.as_str().to_string(),
        bundle: s.bundle.clone(),
        rootfs: s.rootfs.clone(),
        created: s.created.clone(),
        owner: owner_of(&dir),
        annotations: s.annotations.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(id: &str, pid: i32, start: u64) -> Saved {
        Saved {
            oci_version: "1.2.0".into(),
            id: id.into(),
            pid,
            init_start_time: start,
            status: Status::Created,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: util::now_rfc3339(),
            annotations: Default::default(),
            hooks: None,
            cgroup_path: None,
            cgroup_made_parents: Vec::new(),
            systemd_unit: None,
            net_devices: vec![],
            netns_path: None,
            bridge_leases: vec![],
            owner: None,
        }
    }

    #[test]
    fn a_claim_makes_a_missing_root_and_refuses_a_root_that_is_a_file() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("a/b");
        let store = Store::new(&root);
        store.claim("c", &saved("c", 1, 2)).unwrap();
        let mode = std::fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // A second claim finds the root there (no mkdir of it at all).
        store.claim("d", &saved("d", 1, 2)).unwrap();
        let file = d.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = Store::new(&file).claim("c", &saved("c", 1, 2)).unwrap_err();
        assert_eq!(e.code, Code::State.as_str());
        assert!(e.message.contains("state root"), "{}", e.message);
    }

    #[test]
    fn remove_takes_a_record_alone_or_with_anything_beside_it() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        for extra in [None, Some("exec.fifo"), Some("paused")] {
            let l = store.claim("c", &saved("c", 1, 2)).unwrap();
            if let Some(f) = extra {
                std::fs::write(l.dir.join(f), "").unwrap();
            }
            l.remove().unwrap();
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0, "{extra:?}");
            assert_eq!(store.lock("c").unwrap_err().code, Code::NotFound.as_str());
        }
    }

    #[test]
    fn lock_load_gives_the_record_or_not_found() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        assert_eq!(
            store.lock_load("c").unwrap_err().code,
            Code::NotFound.as_str()
        );
        store.claim("c", &saved("c", 7, 8)).unwrap();
        let (l, s) = store.lock_load("c").unwrap();
        assert_eq!((s.pid, s.init_start_time), (7, 8));
        drop(l);
        // A directory whose record went: not found, as lock says.
        std::fs::remove_file(d.path().join("c/state.json")).unwrap();
        assert_eq!(
            store.lock_load("c").unwrap_err().code,
            Code::NotFound.as_str()
        );
        assert_eq!(store.lock("c").unwrap_err().code, Code::NotFound.as_str());
    }

    #[test]
    fn ids_are_validated() {
        for bad in ["", ".", "..", ".x", "a/b", "a b", "ä"] {
            assert_eq!(
                validate_id(bad).unwrap_err().code,
                Code::InvalidId.as_str(),
                "{bad:?}"
            );
        }
        validate_id("web-1_a.b+c").unwrap();
    }

    #[test]
    fn concurrent_claims_and_removals_of_one_process_do_not_collide() {
        // Node's in-process API claims and removes records from several
        // threads at once: the hidden names must differ even when the clock does not.
        let d = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::new(d.path().join("root")));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let id = format!("c{t}-{i}");
                        store
                            .claim(&id, &saved(&id, 0, 0))
                            .unwrap()
                            .remove()
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            std::fs::read_dir(d.path().join("root")).unwrap().count(),
            0,
            "nothing left"
        );
    }

    #[test]
    fn claim_is_exclusive_and_state_round_trips() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path().join("root"));
        let l = store.claim("c1", &saved("c1", 0, 0)).unwrap();
        assert_eq!(
            store.claim("c1", &saved("c1", 0, 0)).unwrap_err().code,
            Code::Exists.as_str()
        );
        let me = std::process::id() as i32;
        let (_, start) = util::proc_stat(me).unwrap();
        l.save(&saved("c1", me, start)).unwrap();
        drop(l);
        assert_eq!(store.ids().unwrap(), vec!["c1"]);
        let s = store.read("c1").unwrap();
        std::fs::File::create(store.root.join("c1/exec.fifo")).unwrap();
        assert_eq!(view(&store, &s).status, "created");
        std::fs::remove_file(store.root.join("c1/exec.fifo")).unwrap();
        assert_eq!(view(&store, &s).status, "running");
        let mut reused = s.clone();
        reused.init_start_time += 1;
        let v = view(&store, &reused);
        assert_eq!((v.status.as_str(), v.pid), ("stopped", 0));
        store.lock("c1").unwrap().remove().unwrap();
        assert_eq!(store.lock("c1").unwrap_err().code, Code::NotFound.as_str());
        assert_eq!(store.read("c1").unwrap_err().code, Code::NotFound.as_str());
    }

    #[test]
    fn lock_serialises_callers() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let l = store.claim("c", &saved("c", 1, 0)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let s2 = store.clone();
        let t = std::thread::spawn(move || {
            let _l = s2.lock("c").unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "second lock must wait"
        );
        drop(l);
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        t.join().unwrap();
    }

    #[test]
    fn claim_never_shows_a_directory_without_its_record_and_remove_frees_the_id() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let mut first = saved("c", 0, 0);
        first.status = Status::Creating;
        let l = store.claim("c", &first).unwrap();
        assert_eq!(store.read("c").unwrap().status, Status::Creating);
        assert_eq!(view(&store, &store.read("c").unwrap()).status, "creating");
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["c"], "no claim directory is left behind");
        l.remove().unwrap();
        assert_eq!(store.ids().unwrap(), Vec::<String>::new());
        // Reusable at once.
        store.claim("c", &first).unwrap().remove().unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_creating_record_of_a_dead_owner_is_taken_over_even_if_its_lock_is_held() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let mut first = saved("c", 0, 0);
        first.status = Status::Creating;
        // An owner that is surely dead: pid 1 with a start time it never had.
        first.owner = Some(Owner {
            pid: 1,
            start_time: u64::MAX,
        });
        let held = store.claim("c", &first).unwrap();
        let t = std::time::Instant::now();
        let l = store.lock("c").unwrap();
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        drop(held);
        l.remove().unwrap();
    }

    #[test]
    fn sweep_removes_claims_of_dead_processes_and_unfinished_removals() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let me = Owner::me();
        for n in [
            ".new-1-18446744073709551615-5".to_string(),
            ".dead-1-7".into(),
            format!(".new-{}-{}-9", me.pid, me.start_time),
        ] {
            std::fs::create_dir(d.path().join(&n)).unwrap();
            std::fs::write(d.path().join(n).join("state.json"), "{}").unwrap();
        }
        assert_eq!(store.sweep(), 2);
        assert!(
            d.path()
                .join(format!(".new-{}-{}-9", me.pid, me.start_time))
                .exists(),
            "a live claim stays"
        );
    }
}
