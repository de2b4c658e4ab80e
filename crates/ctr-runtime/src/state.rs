//! The state store: `<root>/<id>/state.json`, one directory per container,
//! written atomically and guarded by a per-container `flock`.

use crate::util;
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
    /// `linux.netDevices` moved into the container (moved back on delete).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub net_devices: Vec<crate::netdev::MovedDevice>,
    /// The network namespace joined by path, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns_path: Option<String>,
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
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::new("ERUNTIME_INVALID_ID", format!("invalid container id {id:?}: use 1-1024 of [A-Za-z0-9_+.-], not starting with '.'"))
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
    _lock: OwnedFd,
}

fn flock_dir(dir: &Path, code: &str) -> Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os(code, "open", format!("open {}", dir.display())).with_path(dir));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    loop {
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(fd);
        }
        if util::errno() != libc::EINTR {
            return Err(Error::last_os("ERUNTIME_LOCK", "flock", format!("lock {}", dir.display())).with_path(dir));
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
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.root).map_err(|e| {
            Error::io("ERUNTIME_STATE", "mkdir", &e, format!("create state root {}", self.root.display())).with_path(&self.root)
        })
    }

    /// Claim a new id: make its directory (fails if it exists) and lock it.
    pub fn claim(&self, id: &str) -> Result<Locked> {
        validate_id(id)?;
        self.ensure_root()?;
        let dir = self.root.join(id);
        use std::os::unix::fs::DirBuilderExt;
        if let Err(e) = std::fs::DirBuilder::new().mode(0o711).create(&dir) {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                return Err(Error::new("ERUNTIME_EXISTS", format!("container with id {id:?} already exists"))
                    .with_path(&dir)
                    .with_errno(libc::EEXIST));
            }
            return Err(Error::io("ERUNTIME_STATE", "mkdir", &e, format!("create {}", dir.display())).with_path(&dir));
        }
        let lock = flock_dir(&dir, "ERUNTIME_STATE")?;
        Ok(Locked { id: id.to_string(), dir, _lock: lock })
    }

    /// Lock an existing container (waits for other callers on the same id).
    pub fn lock(&self, id: &str) -> Result<Locked> {
        validate_id(id)?;
        let dir = self.root.join(id);
        let not_found = || Error::new("ERUNTIME_NOT_FOUND", format!("container {id:?} does not exist")).with_errno(libc::ENOENT);
        if !dir.is_dir() {
            return Err(not_found());
        }
        let lock = flock_dir(&dir, "ERUNTIME_STATE").map_err(|e| if e.errno == Some(libc::ENOENT) { not_found() } else { e })?;
        // Deleted while we waited for the lock?
        if !dir.join("state.json").exists() {
            return Err(not_found());
        }
        Ok(Locked { id: id.to_string(), dir, _lock: lock })
    }

    /// Ids of every container directory with a state file.
    pub fn ids(&self) -> Result<Vec<String>> {
        let rd = match std::fs::read_dir(&self.root) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(Error::io("ERUNTIME_STATE", "opendir", &e, format!("list {}", self.root.display())).with_path(&self.root)),
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
        let p = self.root.join(id).join("state.json");
        let text = std::fs::read_to_string(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::new("ERUNTIME_NOT_FOUND", format!("container {id:?} does not exist")).with_errno(libc::ENOENT)
            } else {
                Error::io("ERUNTIME_STATE", "read", &e, format!("read {}", p.display())).with_path(&p)
            }
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::new("ERUNTIME_STATE", format!("corrupt state file {}: {e}", p.display())).with_path(&p))
    }
}

impl Locked {
    /// Write `state.json` atomically.
    pub fn save(&self, s: &Saved) -> Result<()> {
        let data = serde_json::to_vec(s).expect("state serialises");
        ctr_common::fs::write_atomic("ERUNTIME_STATE", self.dir.join("state.json"), &data)
    }

    /// The state file's content.
    pub fn load(&self) -> Result<Saved> {
        Store::new(self.dir.parent().unwrap()).read(&self.id)
    }

    /// `exec.fifo`: present between create and start.
    pub fn fifo(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }

    /// Remove the directory and everything in it.
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.dir).map_err(|e| {
            Error::io("ERUNTIME_STATE", "rmdir", &e, format!("remove {}", self.dir.display())).with_path(&self.dir)
        })
    }
}

/// The live status of a saved container: its pid and start time decide
/// whether it still runs, `exec.fifo` whether it was started.
pub fn live_status(dir: &Path, s: &Saved) -> Status {
    if s.status == Status::Creating {
        return if util::alive(s.pid, s.init_start_time) { Status::Creating } else { Status::Stopped };
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
        pid: if status == Status::Stopped { 0 } else { s.pid },
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
            net_devices: vec![],
            netns_path: None,
        }
    }

    #[test]
    fn ids_are_validated() {
        for bad in ["", ".", "..", ".x", "a/b", "a b", "ä"] {
            assert_eq!(validate_id(bad).unwrap_err().code, "ERUNTIME_INVALID_ID", "{bad:?}");
        }
        validate_id("web-1_a.b+c").unwrap();
    }

    #[test]
    fn claim_is_exclusive_and_state_round_trips() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path().join("root"));
        let l = store.claim("c1").unwrap();
        assert_eq!(store.claim("c1").unwrap_err().code, "ERUNTIME_EXISTS");
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
        assert_eq!(store.lock("c1").unwrap_err().code, "ERUNTIME_NOT_FOUND");
        assert_eq!(store.read("c1").unwrap_err().code, "ERUNTIME_NOT_FOUND");
    }

    #[test]
    fn lock_serialises_callers() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::new(d.path());
        let l = store.claim("c").unwrap();
        l.save(&saved("c", 1, 0)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let s2 = store.clone();
        let t = std::thread::spawn(move || {
            let _l = s2.lock("c").unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err(), "second lock must wait");
        drop(l);
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        t.join().unwrap();
    }
}
