//! The lifecycle of runtime.md: create, start, state, kill, delete, and
//! run (create + start + wait + delete).

use crate::plan::{plan, InitPlan};
use crate::state::{self, live_status, Locked, Saved, State, Status, Store};
use crate::util;
use ctr_common::{Error, Result};
use ctr_ns::{Child, SpawnOptions, Stdio};
use ctr_oci::Purpose;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Options of [`create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: PathBuf,
    /// Write the init pid here.
    pub pid_file: Option<PathBuf>,
    /// The `ctrun` binary exec'd as the container's init (`ctrun init`).
    pub init_exe: PathBuf,
    /// stdio of the container process.
    pub stdio: [Stdio; 3],
    /// Fds of the caller that become fds 3, 4, ... of the container
    /// process (`--preserve-fds`).
    pub extra_fds: Vec<std::os::fd::RawFd>,
}

/// A created container: its pid and, in the creating process, the child
/// handle (to wait for it in `run`).
#[derive(Debug)]
pub struct Created {
    /// Host pid of the init process.
    pub pid: i32,
    /// The spawned child (we are its parent).
    pub child: Child,
}

fn mkfifo(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    if unsafe { libc::mkfifo(c.as_ptr(), mode) } < 0 {
        return Err(Error::last_os("ERUNTIME_STATE", "mkfifo", format!("mkfifo {}", p.display())).with_path(p));
    }
    Ok(())
}

fn open_fifo_read(p: &Path) -> Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os("ERUNTIME_STATE", "open", format!("open {}", p.display())).with_path(p));
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn read_all_nonblock(fd: i32) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            out.extend_from_slice(&buf[..n as usize]);
            continue;
        }
        return (out, n == 0);
    }
}

/// Create a container: validate and plan the bundle, claim the id, spawn
/// the init into its namespaces and wait until it is set up and waiting at
/// the `exec.fifo` gate. On any error nothing is left: no process, no
/// state directory.
pub fn create(store: &Store, o: &CreateOptions) -> Result<Created> {
    state::validate_id(&o.id)?;
    let bundle = ctr_oci::load_bundle(&o.bundle, Purpose::Create)?;
    let dir = store.root.join(&o.id);
    let (nsplan, init) = plan(&bundle, &dir)?;
    if !bundle.rootfs.is_dir() {
        return Err(Error::new("ERUNTIME_ROOTFS", format!("root.path: {} is not a directory", bundle.rootfs.display()))
            .with_path(&bundle.rootfs)
            .with_errno(libc::ENOENT));
    }
    let locked = store.claim(&o.id)?;
    let cg = match ctr_cgroup::Cgroup::create(&nsplan.cgroup_path, &nsplan.resources, &ctr_cgroup::Options::default()) {
        Ok(cg) => cg,
        Err(e) => {
            let _ = locked.remove();
            return Err(e);
        }
    };
    let mut child: Option<Child> = None;
    match create_locked(&locked, o, &bundle, &nsplan, &init, &cg, &mut child) {
        Ok(pid) => Ok(Created { pid, child: child.expect("spawned") }),
        Err(e) => {
            if let Some(c) = &child {
                let _ = c.kill(libc::SIGKILL);
                let _ = c.wait();
            }
            let _ = cg.delete(true);
            let _ = locked.remove();
            Err(e)
        }
    }
}

fn create_locked(
    locked: &Locked,
    o: &CreateOptions,
    bundle: &ctr_oci::Bundle,
    nsplan: &crate::plan::NsPlan,
    init: &InitPlan,
    cg: &ctr_cgroup::Cgroup,
    child_out: &mut Option<Child>,
) -> Result<i32> {
    let dir = &locked.dir;
    let status_fifo = dir.join("init.fifo");
    mkfifo(&locked.fifo(), 0o600)?;
    mkfifo(&status_fifo, 0o600)?;
    if init.runtime_hooks {
        mkfifo(Path::new(&init.sync_fifo), 0o600)?;
    }
    let has_cgroup_mount = init.mounts.iter().any(|m| m.typ == "cgroup" || m.typ == "cgroup2");
    let plan_json = if has_cgroup_mount {
        let mut with = init.clone();
        with.cgroup_binds = crate::plan::cgroup_binds(&cg.dirs());
        serde_json::to_vec(&with).expect("plan serialises")
    } else {
        serde_json::to_vec(init).expect("plan serialises")
    };
    // Read once by the init right away: no need for write_atomic's fsync.
    // (mode 0600: it holds the process environment)
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let p = dir.join("init.json");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
            .and_then(|mut f| f.write_all(&plan_json))
            .map_err(|e| Error::io("ERUNTIME_STATE", "write", &e, format!("write {}", p.display())).with_path(&p))?;
    }
    let status = open_fifo_read(&status_fifo)?;

    let mut so = SpawnOptions::new(o.init_exe.to_string_lossy().into_owned(), vec![
        "ctrun".into(),
        "init".into(),
        dir.to_string_lossy().into_owned(),
    ]);
    so.env = vec![];
    so.namespaces = nsplan.namespaces.clone();
    so.joins = nsplan.joins.clone();
    so.time_offsets = nsplan.time_offsets;
    so.extra_fds = o.extra_fds.clone();
    so.hostname = nsplan.hostname.clone();
    so.stdio = o.stdio;
    // The init starts in the container's cgroup (CLONE_INTO_CGROUP on v2,
    // joined by the parent on v1 before it goes on).
    so.cgroups = cg.dirs().iter().map(|d| d.to_string_lossy().into_owned()).collect();
    let child = ctr_ns::spawn(&so)?;
    let pid = child.pid;
    *child_out = Some(child);
    let child = child_out.as_ref().unwrap();
    child.wait_stage()?;

    // Wait for the init to report: "hooks" (run prestart/createRuntime now),
    // then "ok" or a coded error as JSON, one per line.
    let hooks = bundle.spec.hooks.clone().unwrap_or_default();
    let annotations = bundle.spec.annotations.clone().unwrap_or_default();
    let bundle_dir = bundle.dir.to_string_lossy().into_owned();
    let mut msg = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let text = 'outer: loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now()).as_millis() as i32;
        if left == 0 {
            return Err(Error::new("ERUNTIME_INIT", "container init did not report within 60 s"));
        }
        let ready = util::poll_in(&[status.as_raw_fd(), child.pidfd.as_raw_fd()], left)
            .map_err(|e| Error::io("ERUNTIME_INIT", "poll", &e, "wait for container init"))?;
        let (data, eof) = read_all_nonblock(status.as_raw_fd());
        msg.extend_from_slice(&data);
        while let Some(nl) = msg.iter().position(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(&msg[..nl]).trim().to_string();
            msg.drain(..=nl);
            if line == "hooks" {
                let st = crate::hooks::state_json(&o.id, pid, "creating", &bundle_dir, &annotations);
                crate::hooks::run_all("prestart", hooks.prestart.as_deref().unwrap_or_default(), &st)?;
                crate::hooks::run_all("createRuntime", hooks.create_runtime.as_deref().unwrap_or_default(), &st)?;
                release_fifo(Path::new(&init.sync_fifo))?;
                continue;
            }
            break 'outer line;
        }
        if (ready[0] && eof && data.is_empty()) || (ready[1] && data.is_empty()) {
            break String::from_utf8_lossy(&msg).trim().to_string();
        }
    };
    if text != "ok" {
        if let Ok(e) = serde_json::from_str::<ErrorJson>(&text) {
            return Err(e.into());
        }
        let st = child.wait().ok();
        return Err(Error::new("ERUNTIME_INIT", format!("container init exited before it was ready ({st:?})")));
    }
    let _ = std::fs::remove_file(&init.sync_fifo);
    let _ = std::fs::remove_file(&status_fifo);
    let _ = std::fs::remove_file(dir.join("init.json"));
    let (_, start) = util::proc_stat(pid).ok_or_else(|| Error::new("ERUNTIME_INIT", "container init exited right after it was set up"))?;
    let saved = Saved {
        oci_version: ctr_oci::OCI_VERSION.into(),
        id: o.id.clone(),
        pid,
        init_start_time: start,
        status: Status::Created,
        bundle: bundle.dir.to_string_lossy().into_owned(),
        rootfs: bundle.rootfs.to_string_lossy().into_owned(),
        created: util::now_rfc3339(),
        annotations: bundle.spec.annotations.clone().unwrap_or_default(),
        hooks: bundle.spec.hooks.clone(),
        cgroup_path: Some(nsplan.cgroup_path.clone()),
    };
    locked.save(&saved)?;
    if let Some(pf) = &o.pid_file {
        ctr_common::fs::write_atomic("ERUNTIME_PID_FILE", pf, pid.to_string().as_bytes())?;
    }
    Ok(pid)
}

/// Write one byte to a FIFO whose reader is the container init.
fn release_fifo(fifo: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        let e = util::errno();
        if e == libc::ENXIO {
            return Err(Error::new("ERUNTIME_START", "container init exited before it was released"));
        }
        return Err(Error::sys("ERUNTIME_START", "open", e, format!("open {}", fifo.display())).with_path(fifo));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if unsafe { libc::write(fd.as_raw_fd(), b"0".as_ptr().cast(), 1) } != 1 {
        return Err(Error::last_os("ERUNTIME_START", "write", "release the container init"));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct ErrorJson {
    code: String,
    message: String,
    errno: Option<i32>,
    syscall: Option<String>,
    path: Option<String>,
}

impl From<ErrorJson> for Error {
    fn from(e: ErrorJson) -> Error {
        Error { code: e.code, message: e.message, errno: e.errno, syscall: e.syscall, path: e.path }
    }
}

/// A pidfd for the saved init, or `None` if it is gone (or the pid was reused).
fn init_pidfd(s: &Saved) -> Option<OwnedFd> {
    let fd = util::pidfd_open(s.pid).ok()?;
    // Checked after opening: the pidfd pins this exact process.
    util::alive(s.pid, s.init_start_time).then_some(fd)
}

/// Start a created container: open `exec.fifo`, which lets its init exec.
pub fn start(store: &Store, id: &str) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    let st = live_status(&locked.dir, &saved);
    if st != Status::Created {
        let what = match st {
            Status::Running => "cannot start an already running container".to_string(),
            Status::Stopped => "cannot start a container that has stopped".to_string(),
            s => format!("cannot start a container in the {} state", s.as_str()),
        };
        return Err(Error::new("ERUNTIME_STATE_INVALID", what));
    }
    let pidfd = init_pidfd(&saved).ok_or_else(|| Error::new("ERUNTIME_STATE_INVALID", "cannot start a container that has stopped"))?;
    // The init is the FIFO's reader: opening for writing cannot block
    // (ENXIO means the reader is gone), and one byte releases it.
    release_fifo(&locked.fifo())?;
    drop(pidfd);
    // Removing exec.fifo is what makes the container `running` (the status is
    // computed from the fifo and the init's liveness, see state::live_status),
    // so state.json need not be rewritten (and fsync'd) here.
    std::fs::remove_file(locked.fifo())
        .map_err(|e| Error::io("ERUNTIME_START", "unlink", &e, "remove exec.fifo").with_path(locked.fifo()))?;
    if let Some(h) = saved.hooks.as_ref().and_then(|h| h.poststart.as_ref()) {
        let st = crate::hooks::state_json(&saved.id, saved.pid, "running", &saved.bundle, &saved.annotations);
        crate::hooks::run_all_warn("poststart", h, &st);
    }
    Ok(())
}

/// The state of a container, shaped as runc's `state` output.
pub fn state(store: &Store, id: &str) -> Result<State> {
    let s = store.read(id)?;
    Ok(state::view(store, &s))
}

/// Every container of the store.
pub fn list(store: &Store) -> Result<Vec<State>> {
    let mut out = Vec::new();
    for id in store.ids()? {
        if let Ok(s) = store.read(&id) {
            out.push(state::view(store, &s));
        }
    }
    Ok(out)
}

fn ns_inode(pid: i32) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/ns/pid")).ok().map(|m| m.ino())
}

/// Host pids of every process in the container's pid namespace.
fn pids_in_ns(init_pid: i32) -> Result<Vec<i32>> {
    let own = ns_inode(init_pid).ok_or_else(|| Error::new("ERUNTIME_NOT_RUNNING", "container not running"))?;
    if Some(own) == ns_inode(std::process::id() as i32) {
        return Err(Error::new(
            "ERUNTIME_UNSUPPORTED",
            "kill --all needs the container to have its own pid namespace until cgroups are wired in",
        ));
    }
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").map_err(|e| Error::io("ERUNTIME_KILL", "opendir", &e, "list /proc"))?.flatten() {
        if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) {
            if ns_inode(pid) == Some(own) {
                pids.push(pid);
            }
        }
    }
    Ok(pids)
}

/// Send `signal` to the init (or, with `all`, every process of the container).
pub fn kill(store: &Store, id: &str, signal: i32, all: bool) -> Result<()> {
    let saved = store.read(id)?;
    let dir = store.root.join(id);
    let st = live_status(&dir, &saved);
    if st == Status::Stopped {
        return Err(Error::new("ERUNTIME_NOT_RUNNING", "container not running"));
    }
    let pidfd = init_pidfd(&saved).ok_or_else(|| Error::new("ERUNTIME_NOT_RUNNING", "container not running"))?;
    if all {
        for pid in pids_in_ns(saved.pid)? {
            if pid != saved.pid {
                unsafe { libc::kill(pid, signal) };
            }
        }
    }
    util::pidfd_signal(pidfd.as_raw_fd(), signal)
        .map_err(|e| Error::io("ERUNTIME_KILL", "pidfd_send_signal", &e, format!("signal {signal} to pid {}", saved.pid)))
}

fn kill_and_wait(saved: &Saved) -> Result<()> {
    if let Some(fd) = init_pidfd(saved) {
        if let Ok(pids) = pids_in_ns(saved.pid) {
            for p in pids {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
        let _ = util::pidfd_signal(fd.as_raw_fd(), libc::SIGKILL);
        let ready = util::poll_in(&[fd.as_raw_fd()], 10_000).map_err(|e| Error::io("ERUNTIME_DELETE", "poll", &e, "wait for init"))?;
        if !ready[0] {
            return Err(Error::new("ERUNTIME_DELETE", format!("pid {} did not die within 10 s of SIGKILL", saved.pid)));
        }
    }
    Ok(())
}

/// Delete a container: remove every trace. A running one needs `force`
/// (it is killed first); a created one is killed as runc does.
pub fn delete(store: &Store, id: &str, force: bool) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    match live_status(&locked.dir, &saved) {
        Status::Stopped => {}
        Status::Created => kill_and_wait(&saved)?,
        Status::Paused if force => {
            // Thaw so the processes can die of SIGKILL at once.
            let _ = cgroup_of(&saved).and_then(|c| c.thaw());
            kill_and_wait(&saved)?
        }
        s if force => {
            let _ = s;
            kill_and_wait(&saved)?
        }
        s => {
            return Err(Error::new("ERUNTIME_STATE_INVALID", format!("cannot delete container {id:?} that is not stopped: {}", s.as_str())))
        }
    }
    if let Some(p) = &saved.cgroup_path {
        match ctr_cgroup::Cgroup::open(p, &ctr_cgroup::Options::default()) {
            Ok(cg) => cg.delete(true)?,
            Err(e) if e.code == "ECGROUP_NOT_FOUND" => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(h) = saved.hooks.as_ref().and_then(|h| h.poststop.as_ref()) {
        let st = crate::hooks::state_json(&saved.id, 0, "stopped", &saved.bundle, &saved.annotations);
        crate::hooks::run_all_warn("poststop", h, &st);
    }
    locked.remove()
}

fn cgroup_of(saved: &Saved) -> Result<ctr_cgroup::Cgroup> {
    let p = saved
        .cgroup_path
        .as_deref()
        .ok_or_else(|| Error::new("ERUNTIME_NO_CGROUP", format!("container {:?} has no cgroup", saved.id)))?;
    ctr_cgroup::Cgroup::open(p, &ctr_cgroup::Options::default())
}

/// Freeze every process of a running container (cgroup freezer).
pub fn pause(store: &Store, id: &str) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    match live_status(&locked.dir, &saved) {
        Status::Running => {}
        s => return Err(Error::new("ERUNTIME_STATE_INVALID", format!("cannot pause a container that is {}", s.as_str()))),
    }
    cgroup_of(&saved)?.freeze()?;
    std::fs::write(locked.dir.join("paused"), b"")
        .map_err(|e| Error::io("ERUNTIME_STATE", "write", &e, "mark the container paused"))
}

/// Thaw a paused container.
pub fn resume(store: &Store, id: &str) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    match live_status(&locked.dir, &saved) {
        Status::Paused => {}
        s => return Err(Error::new("ERUNTIME_STATE_INVALID", format!("cannot resume a container that is {}", s.as_str()))),
    }
    cgroup_of(&saved)?.thaw()?;
    std::fs::remove_file(locked.dir.join("paused")).map_err(|e| Error::io("ERUNTIME_STATE", "unlink", &e, "clear the paused mark"))
}

/// Host pids of every process in the container's cgroup.
pub fn ps(store: &Store, id: &str) -> Result<Vec<i32>> {
    let saved = store.read(id)?;
    if live_status(&store.root.join(id), &saved) == Status::Stopped {
        return Ok(vec![]);
    }
    let mut pids = cgroup_of(&saved)?.pids()?;
    pids.sort_unstable();
    Ok(pids)
}

/// How a container's process ended.
pub fn exit_code(st: ctr_ns::ExitStatus) -> i32 {
    match (st.code, st.signal) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 255,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes_follow_the_shell() {
        use ctr_ns::ExitStatus;
        assert_eq!(super::exit_code(ExitStatus { code: Some(42), signal: None }), 42);
        assert_eq!(super::exit_code(ExitStatus { code: None, signal: Some(9) }), 137);
    }
}
