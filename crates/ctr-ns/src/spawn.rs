//! The parent side of spawn: pipes, `clone3`, and reading what the child
//! reports until it execs.

use crate::child::{
    child_main, ChildFds, Step, MSG_ERROR, MSG_EXEC_FIFO, MSG_HELD, MSG_LEN, MSG_LISTENER,
    MSG_PRE_PIVOT, MSG_SETUP,
};
use crate::idmap::IdMaps;
use crate::plan::{Prepared, SpawnOptions, Stdio};
use crate::rootfs::{OpInfo, SYSCALL_NAMES};
use crate::sys::CLONE_INTO_CGROUP;
use crate::sys::{self, clone3, CloneArgs, WaitResult, CLONE_PIDFD};
use crate::Code;
use ctr_common::{error::strerror, Error};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;

/// How a spawned process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// Terminating signal number, if it was killed.
    pub signal: Option<i32>,
}

impl From<WaitResult> for ExitStatus {
    fn from(w: WaitResult) -> Self {
        match w {
            WaitResult::Exited(c) => ExitStatus {
                code: Some(c),
                signal: None,
            },
            WaitResult::Signaled(s) => ExitStatus {
                code: None,
                signal: Some(s),
            },
        }
    }
}

/// Where the child is after a [`Child::wait_stage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Set up and waiting at the gate for [`Child::release`].
    Held,
    /// The program is running (exec succeeded).
    Running,
    /// The seccomp filter is installed and its listener fd was taken (see
    /// [`Child::take_seccomp_listener`]); call [`Child::wait_stage`] again.
    SeccompListener,
    /// Stopped right before `pivot_root` (`pre_pivot_sync`): namespaces,
    /// id maps and mounts exist. Call [`Child::resume`], then
    /// [`Child::wait_stage`] again.
    PrePivot,
    /// Set up and blocked on the exec FIFO (`exec_fifo`): it execs once
    /// some process opens the FIFO for reading. [`Child::wait_stage`]
    /// again reports the exec (or its failure).
    ExecFifo,
}

/// A spawned child. Dropping it closes the parent's fds; it does not kill
/// or reap the process (wait for it through [`Child::pidfd`]).
#[derive(Debug)]
pub struct Child {
    /// Host pid.
    pub pid: i32,
    /// A pidfd for the child: signals and waits never hit a reused pid.
    pub pidfd: OwnedFd,
    /// Parent ends of piped stdio, until taken.
    stdio: Mutex<[Option<OwnedFd>; 3]>,
    /// Read end of the status pipe.
    status: OwnedFd,
    /// Write end of the gate pipe (with `hold` or a seccomp listener).
    gate: Mutex<Option<OwnedFd>>,
    /// Held at the gate after the listener handshake.
    hold: bool,
    /// The child will report a seccomp listener that was not taken yet.
    listener_pending: AtomicBool,
    /// The seccomp listener fd, once copied from the child.
    listener: Mutex<Option<OwnedFd>>,
    /// What was asked to run, for error messages.
    program: String,
    /// Id maps to write when the child asks.
    id_maps: Option<IdMaps>,
    /// The cgroup files the child moved itself into, by index (v1 `tasks`,
    /// or `cgroup.procs` of a cgroup2 dir not cloned into), for errors.
    cgroup_join_paths: Vec<String>,
    /// Descriptions of the rootfs ops, to name a failed one.
    rootfs_info: Vec<OpInfo>,
    /// Paths of the joined namespaces, by join index.
    join_paths: Vec<String>,
    /// rlimit resources by index.
    rlimit_names: Vec<i32>,
    /// Spawned vfork-style: the child exec'd or failed before spawn returned.
    vforked: bool,
    /// The exec FIFO path, for error messages.
    exec_fifo: Option<String>,
    /// sysctl keys by index, for error messages.
    sysctl_keys: Vec<String>,
    /// `stage_now` already consumed the report.
    stage_taken: AtomicBool,
    /// Parent end of the console socketpair, until the master came.
    console_rx: Mutex<Option<OwnedFd>>,
    /// The pty master received from the child, until taken.
    console: Mutex<Option<OwnedFd>>,
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Whether the directory open as `dir_fd` is on a cgroup2 file system.
fn is_cgroup2(dir_fd: &OwnedFd) -> bool {
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    unsafe {
        libc::fstatfs(dir_fd.as_raw_fd(), &mut st) == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC
    }
}

/// Open a cgroup directory (`O_PATH`) for `CLONE_INTO_CGROUP` or to open
/// its files beneath it.
fn open_cgroup_dir(dir: &str) -> Result<OwnedFd, Error> {
    let c = std::ffi::CString::new(dir).map_err(|_| {
        Error::new(Code::InvalidOption, "cgroup path contains NUL").with_field("cgroup")
    })?;
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(
            Error::last_os(Code::Cgroup, "open", format!("open cgroup {dir}")).with_path(dir),
        );
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open, beneath `dir`, the file the child writes "0" to to move itself
/// there: `tasks` on a v1 hierarchy (one thread: no threadgroup lock in the
/// kernel), `cgroup.procs` on cgroup2 (no `tasks` there). Returns the fd and
/// the file's path.
fn open_cgroup_join(dir: &str, dir_fd: &OwnedFd, v2: bool) -> Result<(OwnedFd, String), Error> {
    let name: &std::ffi::CStr = if v2 { c"cgroup.procs" } else { c"tasks" };
    let path = format!("{dir}/{}", name.to_str().unwrap_or_default());
    let fd = unsafe {
        libc::openat(
            dir_fd.as_raw_fd(),
            name.as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return Err(Error::last_os(Code::Cgroup, "open", format!("open {path}")).with_path(&path));
    }
    Ok((unsafe { OwnedFd::from_raw_fd(fd) }, path))
}

/// Open `dir/tasks` for writing if it is there (a v1 hierarchy), with its
/// path; `None` on any failure, for [`open_cgroup_dir`] and
/// [`open_cgroup_join`] to tell the version or report the error.
fn open_v1_tasks(dir: &str) -> Option<(OwnedFd, String)> {
    let path = format!("{dir}/tasks");
    let c = std::ffi::CString::new(path.as_str()).ok()?;
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    (fd >= 0).then(|| (unsafe { OwnedFd::from_raw_fd(fd) }, path))
}

fn spawn_err(e: std::io::Error, what: &str) -> Error {
    Error::io(Code::Spawn, what, &e, format!("spawn: {what}"))
}

/// What the vfork-style child gets: pointers to the prepared plan.
struct ChildArgs {
    p: *const Prepared,
    fds: *const ChildFds,
}

unsafe extern "C" fn child_entry(arg: *mut libc::c_void) -> ! {
    let a = &*(arg as *const ChildArgs);
    child_main(&*a.p, &*a.fds)
}

#[cfg(target_arch = "x86_64")]
unsafe fn clone3_vfork(args: &mut CloneArgs, a: &ChildArgs) -> libc::c_long {
    sys::clone3_on_stack(
        args,
        child_entry,
        a as *const ChildArgs as *mut libc::c_void,
    )
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone3_vfork(args: &mut CloneArgs, _a: &ChildArgs) -> libc::c_long {
    clone3(args)
}

/// The vfork-style child's stack: an mmap'd region with a guard page.
struct ChildStack {
    map: *mut libc::c_void,
    len: usize,
    base: *mut u8,
    size: usize,
}

impl ChildStack {
    const SIZE: usize = 256 * 1024;

    fn new() -> Option<ChildStack> {
        let page = 4096;
        let len = Self::SIZE + page;
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None; // fall back to the copy-on-write clone
        }
        // Guard page at the low end: an overflow faults instead of
        // scribbling over other memory of the parent.
        unsafe { libc::mprotect(map, page, libc::PROT_NONE) };
        Some(ChildStack {
            map,
            len,
            base: unsafe { (map as *mut u8).add(page) },
            size: Self::SIZE,
        })
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.map, self.len) };
    }
}

/// Clone a child into the namespaces of `opts` and start it running the
/// prepared plan. Returns as soon as the child exists; call
/// [`Child::wait_stage`] to learn whether it is held or has exec'd.
///
/// The clone happens on the calling thread, which matters for
/// `parent_death_signal` (the signal fires when that thread exits).
///
/// When this process turned the spawner on ([`crate::spawner::enable`]),
/// the clone is made by the spawner process instead (see
/// [`crate::spawner`]); otherwise it is a fork of this process.
pub fn spawn(opts: &SpawnOptions) -> Result<Child, Error> {
    if crate::spawner::enabled() {
        return crate::spawner::spawn(opts);
    }
    spawn_forked(opts)
}

/// [`spawn`] as a fork of this process, whatever the spawner setting.
pub fn spawn_forked(opts: &SpawnOptions) -> Result<Child, Error> {
    spawn_from(opts, None)
}

/// The process a spawner clones on behalf of: the child is made with
/// `CLONE_PARENT`, so its parent is that process, which checks for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnBehalf {
    /// The client's pid (the child's parent).
    pub pid: i32,
    /// (dev, ino) of the client's `/proc/self/exe`, for `refuse_own_exe`.
    pub own_exe: Option<(u64, u64)>,
}

thread_local! {
    /// The parent of the last cgroup directory found to be cgroup2 (the
    /// containers' parent cgroup there): a hint only, to open the next
    /// directory there first rather than a `tasks` file that a cgroup2
    /// directory does not have (a failed `openat`). A wrong hint costs
    /// that open after the directory's, and is dropped.
    static V2_PARENT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The directory holding the cgroup directory `dir`.
fn parent_of(dir: &str) -> Option<&str> {
    dir.trim_end_matches('/').rsplit_once('/').map(|(p, _)| p)
}

/// Set in the spawner (a process of its own that lives as long as its
/// client and never changes its credentials): `Stdio::Null` takes the
/// process-wide [`shared_dev_null`] rather than a `/dev/null` opened and
/// closed per spawn, and [`spawner_ids`] are read once.
static IN_SPAWNER: AtomicBool = AtomicBool::new(false);

/// The spawner's `/dev/null` for a child's ignored stdio: its own fd 0
/// when that is `/dev/null` open for reading and writing (as the spawner
/// is started), else one opened once (close-on-exec; a child dups it onto
/// its stdio and closes it with its other inherited fds).
static DEV_NULL_FD: AtomicI32 = AtomicI32::new(-1);

/// Mark this process as the spawner (see [`IN_SPAWNER`]).
pub(crate) fn mark_spawner() {
    IN_SPAWNER.store(true, Ordering::Relaxed);
}

/// In the spawner: its (euid, pid), read once. `None` elsewhere (a Node
/// process may change its euid; a process that forks gets a new pid).
pub(crate) fn spawner_ids() -> Option<(u32, i32)> {
    static IDS: std::sync::OnceLock<(u32, i32)> = std::sync::OnceLock::new();
    IN_SPAWNER
        .load(Ordering::Relaxed)
        .then(|| *IDS.get_or_init(|| (unsafe { libc::geteuid() }, std::process::id() as i32)))
}

fn shared_dev_null() -> Result<RawFd, Error> {
    let fd = DEV_NULL_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        return Ok(fd);
    }
    let fd = if is_dev_null_rw(0) {
        0
    } else {
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(
                Error::last_os(Code::Spawn, "open", "open /dev/null").with_path("/dev/null")
            );
        }
        fd
    };
    // One thread serves the spawner's requests: no race to open it twice.
    DEV_NULL_FD.store(fd, Ordering::Relaxed);
    Ok(fd)
}

/// Whether `fd` is the null device (1:3) open for reading and writing.
fn is_dev_null_rw(fd: RawFd) -> bool {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::fstat(fd, &mut st) } == 0;
    ok && st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && st.st_rdev == libc::makedev(1, 3)
        && unsafe { libc::fcntl(fd, libc::F_GETFL) } & libc::O_ACCMODE == libc::O_RDWR
}

pub(crate) fn spawn_from(opts: &SpawnOptions, behalf: Option<OnBehalf>) -> Result<Child, Error> {
    let mut prepared = Prepared::new(opts)?;
    if behalf.is_some() && crate::spare_net::eligible(prepared.clone_flags) {
        if let Some(net) = crate::spare_net::take() {
            prepared.use_spare_net(net);
        }
    }
    if let Some(b) = behalf {
        prepared.parent_pid = b.pid;
        if prepared.own_exe.is_some() {
            // The caller's binary, and this spawner's (what the child's
            // `/proc/self/exe` is until it execs).
            prepared.spawner_exe = prepared.own_exe;
            prepared.own_exe = b.own_exe;
        }
    }

    // The console socket: the caller's (checked open) or a socketpair whose
    // parent end receives the master.
    let mut console_rx: Option<OwnedFd> = None;
    let mut console_tx: Option<OwnedFd> = None;
    if let Some(c) = prepared.console.as_mut() {
        if c.socket >= 0 {
            if unsafe { libc::fcntl(c.socket, libc::F_GETFD) } < 0 {
                return Err(Error::sys(
                    Code::InvalidOption,
                    "fcntl",
                    sys::errno(),
                    format!("console socket fd {} is not open", c.socket),
                )
                .with_field("console.socket"));
            }
        } else {
            let (rx, tx) = sys::socket_pair().map_err(|e| {
                Error::io(
                    Code::Console,
                    "socketpair",
                    &e,
                    "create the console socket pair",
                )
            })?;
            c.socket = tx.as_raw_fd();
            console_rx = Some(rx);
            console_tx = Some(tx);
        }
    }

    let mut devnull: Option<OwnedFd> = None;
    let mut child_ends: Vec<OwnedFd> = Vec::new();
    let mut parent_ends: [Option<OwnedFd>; 3] = [None, None, None];
    let mut stdio_src = [-1 as RawFd; 3];
    // With a console the pty slave is the child's stdio.
    let stdio_given: &[Stdio] = if prepared.console.is_some() {
        &[]
    } else {
        &opts.io.stdio
    };
    for (i, s) in stdio_given.iter().enumerate() {
        stdio_src[i] = match *s {
            Stdio::Fd(fd) => {
                if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                    return Err(Error::sys(
                        Code::InvalidOption,
                        "fcntl",
                        sys::errno(),
                        format!("stdio[{i}]: fd {fd} is not open"),
                    )
                    .with_field(format!("stdio[{i}]")));
                }
                fd
            }
            Stdio::Null if IN_SPAWNER.load(Ordering::Relaxed) => shared_dev_null()?,
            Stdio::Null => {
                if devnull.is_none() {
                    let fd = unsafe {
                        libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC)
                    };
                    if fd < 0 {
                        return Err(Error::last_os(Code::Spawn, "open", "open /dev/null")
                            .with_path("/dev/null"));
                    }
                    devnull = Some(unsafe { OwnedFd::from_raw_fd(fd) });
                }
                devnull.as_ref().unwrap().as_raw_fd()
            }
            Stdio::Pipe => {
                let (r, w) = sys::pipe().map_err(|e| spawn_err(e, "pipe2"))?;
                let (child, parent) = if i == 0 { (r, w) } else { (w, r) };
                let raw = child.as_raw_fd();
                child_ends.push(child);
                parent_ends[i] = Some(parent);
                raw
            }
        };
    }

    let (status_r, status_w) = sys::pipe().map_err(|e| spawn_err(e, "pipe2"))?;
    prepared.set_status_fd(status_w.as_raw_fd());
    let (gate_r, gate_w) = if prepared.hold
        || prepared.seccomp_listener
        || prepared.parent_setup
        || prepared.pre_pivot_sync
    {
        let (r, w) = sys::pipe().map_err(|e| spawn_err(e, "pipe2"))?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    if opts.io.extra_fds.len() > crate::child::MAX_EXTRA_FDS {
        return Err(Error::new(
            Code::InvalidOption,
            format!("at most {} extra fds", crate::child::MAX_EXTRA_FDS),
        )
        .with_field("extraFds"));
    }
    for (i, fd) in opts.io.extra_fds.iter().enumerate() {
        if *fd < 0 || unsafe { libc::fcntl(*fd, libc::F_GETFD) } < 0 {
            return Err(Error::sys(
                Code::InvalidOption,
                "fcntl",
                libc::EBADF,
                format!("extraFds[{i}]: fd {fd} is not open"),
            )
            .with_field(format!("extraFds[{i}]")));
        }
    }
    let keep: Vec<RawFd> = prepared
        .keep_fds
        .iter()
        .chain(opts.io.extra_fds.iter())
        .copied()
        .chain(prepared.console.as_ref().map(|c| c.socket))
        .collect();
    let mut fds = ChildFds::new(
        status_w.as_raw_fd(),
        gate_r.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1),
        stdio_src,
        &keep,
    );
    fds.extra = opts.io.extra_fds.clone();
    fds.reset_signals =
        crate::spawner::CHILD_RESET_SIGNALS.load(std::sync::atomic::Ordering::Relaxed);

    // At most one cgroup2 directory is joined by CLONE_INTO_CGROUP; the
    // child moves itself into the others (v1 hierarchies) first thing, by
    // files opened here (see `child::join_cgroups`).
    let mut cgroup_fd: Option<OwnedFd> = None;
    let mut cgroup_join_fds: Vec<OwnedFd> = Vec::new();
    let mut cgroup_join_paths = Vec::new();
    let handoff = opts
        .resources
        .caller_memory_cgroup
        .as_ref()
        .filter(|_| prepared.exec_early());
    let mut memcg_join: Option<usize> = None;
    for (i, dir) in opts.resources.cgroups.iter().enumerate() {
        // A v1 hierarchy's `tasks` file opens in one call (cgroup2 has
        // none): no directory fd, fstatfs and close per hierarchy. Not
        // tried where the last directory beside this one was cgroup2.
        let seen_v2 = V2_PARENT.with(|p| p.borrow().as_deref() == parent_of(dir));
        if !seen_v2 {
            if let Some((fd, path)) = open_v1_tasks(dir) {
                if handoff.is_some_and(|h| h.index == i) {
                    memcg_join = Some(cgroup_join_fds.len());
                }
                cgroup_join_fds.push(fd);
                cgroup_join_paths.push(path);
                continue;
            }
        }
        // A missing directory fails the O_DIRECTORY open (ENOENT, with its
        // path): no stat first. One fstatfs per directory tells its version.
        let dir_fd = open_cgroup_dir(dir)?;
        let v2 = is_cgroup2(&dir_fd);
        V2_PARENT.with(|p| {
            let mut p = p.borrow_mut();
            match (v2, parent_of(dir)) {
                (true, Some(parent)) => *p = Some(parent.to_string()),
                _ if seen_v2 => *p = None,
                _ => {}
            }
        });
        if cgroup_fd.is_none() && v2 {
            cgroup_fd = Some(dir_fd);
        } else {
            let (fd, path) = open_cgroup_join(dir, &dir_fd, v2)?;
            if !v2 && handoff.is_some_and(|h| h.index == i) {
                memcg_join = Some(cgroup_join_fds.len());
            }
            cgroup_join_fds.push(fd);
            cgroup_join_paths.push(path);
        }
    }
    fds.cgroup_joins = cgroup_join_fds.iter().map(|f| f.as_raw_fd()).collect();
    // The caller's memory cgroup for the helper's exec (see
    // `CallerMemoryCgroup`): a `tasks` file that does not open only
    // leaves the helper charged to the container.
    let memcg_home = match (handoff, memcg_join) {
        (Some(h), Some(j)) => open_v1_tasks(&h.dir).map(|(fd, _)| (fd, j)),
        _ => None,
    };
    if let Some((home, j)) = &memcg_home {
        fds.memcg_join = fds.cgroup_joins[*j];
        fds.memcg_join_index = *j as u32;
        fds.memcg_home = home.as_raw_fd();
        fds.keep_also(fds.memcg_join);
        fds.keep_also(fds.memcg_home);
    }

    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags: prepared.clone_flags | CLONE_PIDFD,
        pidfd: &mut pidfd as *mut RawFd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if let Some(fd) = &cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }

    // Joining a pid namespace only affects children, so this thread enters
    // it for the clone and returns to its own right after.
    let own_pid_ns = match &prepared.join_pid {
        Some(j) => {
            let own = unsafe {
                libc::open(
                    c"/proc/thread-self/ns/pid_for_children".as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC,
                )
            };
            if own < 0 {
                return Err(Error::last_os(
                    Code::Join,
                    "open",
                    "open /proc/thread-self/ns/pid_for_children",
                ));
            }
            let own = unsafe { OwnedFd::from_raw_fd(own) };
            if unsafe { libc::setns(j.fd.as_raw_fd(), libc::CLONE_NEWPID) } < 0 {
                return Err(Error::last_os(
                    Code::Join,
                    "setns",
                    format!("join the pid namespace {}", j.path),
                )
                .with_path(&j.path));
            }
            Some(own)
        }
        None => None,
    };

    // Block every signal so no handler of Node's runs in the child before
    // it resets them; the parent restores its mask right after.
    let mut old_mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // A plan with no hand-shake and no mounts beyond /proc runs vfork-style:
    // the child shares the parent's memory (no page-table copy of the whole
    // Node process, no copy-on-write faults on either side, no teardown of
    // the copy at exec) on a stack of its own, and this thread waits until
    // it exec'd. Plans that wait for the parent (id maps, listener) keep
    // the copy-on-write clone; so do, from Node, those with long mount work
    // or a credential change; a container's waits for `start` are the exec
    // helper's when the child execs it early. Every field of the plan is
    // decided in `Prepared::vfork_blockers` and `vfork_blockers_for`.
    //
    // The child shares the parent's mm, so nothing it does may change state
    // that lives in the mm: no PR_SET_DUMPABLE (skipped; the child never
    // waits, so there is no window to exploit; a spawner is non-dumpable
    // throughout), no credential or capability change from Node
    // (commit_creds resets the mm's dumpable flag), no oom_score_adj
    // (applied to every process sharing the mm), no time namespace (its
    // vvar page is installed in the mm).
    if behalf.is_some() {
        // The kernel takes the exit signal from the spawner then (the one
        // its own parent gets: SIGCHLD) and refuses any other.
        args.flags |= sys::CLONE_PARENT;
        args.exit_signal = 0;
    }
    let vfork = cfg!(target_arch = "x86_64")
        && prepared
            .vfork_blockers_for(
                behalf.is_some()
                    && crate::spawner::NON_DUMPABLE.load(std::sync::atomic::Ordering::Relaxed),
            )
            .is_empty()
        && std::env::var_os("CTR_NS_NO_VFORK").is_none();
    let stack = if vfork { ChildStack::new() } else { None };
    fds.vfork = stack.is_some();
    if let Some(st) = &stack {
        args.flags |= sys::CLONE_VM | sys::CLONE_VFORK;
        args.stack = st.base as u64;
        args.stack_size = st.size as u64;
    }
    let child_args = ChildArgs {
        p: &prepared,
        fds: &fds,
    };
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old_mask);
        let pid = if stack.is_some() {
            clone3_vfork(&mut args, &child_args)
        } else {
            clone3(&mut args)
        };
        if pid == 0 {
            child_main(&prepared, &fds);
        }
        let clone_errno = sys::errno();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
        if let Some(own) = &own_pid_ns {
            // Cannot fail for our own pid namespace; if it did, later
            // children of this thread would land in the joined one.
            if libc::setns(own.as_raw_fd(), libc::CLONE_NEWPID) < 0 {
                panic!(
                    "cannot return to the own pid namespace: errno {}",
                    sys::errno()
                );
            }
        }
        if pid < 0 {
            let hint = if cgroup_fd.is_some()
                && (clone_errno == libc::EBUSY || clone_errno == libc::EOPNOTSUPP)
            {
                " (the cgroup cannot take processes: it has children with controllers enabled, or is threaded)"
            } else if clone_errno == libc::EPERM || clone_errno == libc::ENOSPC {
                " (creating namespaces needs CAP_SYS_ADMIN or a user namespace)"
            } else {
                ""
            };
            return Err(Error::sys(
                Code::Clone,
                "clone3",
                clone_errno,
                format!("clone3{hint}"),
            ));
        }
        pid as i32
    };
    // The child has its copies: ours go, runs of consecutive fds (the v1
    // `tasks` files, the pipe ends made one after the other) in one call.
    sys::close_all(
        [status_w]
            .into_iter()
            .chain(gate_r)
            .chain(child_ends)
            .chain(cgroup_join_fds)
            .chain(cgroup_fd.take())
            .chain(devnull)
            .chain(console_tx),
    );

    Ok(Child {
        pid,
        pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        stdio: Mutex::new(parent_ends),
        status: status_r,
        gate: Mutex::new(gate_w),
        hold: prepared.hold,
        listener_pending: AtomicBool::new(prepared.seccomp_listener),
        listener: Mutex::new(None),
        program: opts.process.program.clone(),
        id_maps: opts.namespaces.id_maps.clone(),
        cgroup_join_paths,
        rootfs_info: prepared
            .rootfs
            .as_ref()
            .map(|r| r.info.clone())
            .unwrap_or_default(),
        join_paths: prepared.joins.iter().map(|j| j.path.clone()).collect(),
        rlimit_names: prepared.rlimits.iter().map(|r| r.0).collect(),
        vforked: stack.is_some(),
        exec_fifo: opts.lifecycle.exec_fifo.clone(),
        sysctl_keys: opts
            .namespaces
            .sysctl
            .iter()
            .map(|(k, _)| k.clone())
            .collect(),
        stage_taken: AtomicBool::new(false),
        console_rx: Mutex::new(console_rx),
        console: Mutex::new(None),
    })
}

/// What a spawner sends back about a child besides its fds: the parent
/// side's knowledge, to rebuild a [`Child`] in the client.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ChildMeta {
    pid: i32,
    hold: bool,
    listener_pending: bool,
    program: String,
    id_maps: Option<IdMaps>,
    cgroup_join_paths: Vec<String>,
    rootfs_info: Vec<OpInfo>,
    join_paths: Vec<String>,
    rlimit_names: Vec<i32>,
    exec_fifo: Option<String>,
    sysctl_keys: Vec<String>,
    /// Which of gate, stdin, stdout, stderr and the console receiver
    /// follow the pidfd and the status pipe, in that order.
    present: [bool; 5],
}

impl Child {
    /// Split into what crosses the spawner's socket: the metadata and the
    /// parent-side fds (pidfd, status, then those `present` says).
    pub(crate) fn into_wire(self) -> (ChildMeta, Vec<OwnedFd>) {
        let [s0, s1, s2] = self.stdio.into_inner().unwrap();
        let gate = self.gate.into_inner().unwrap();
        let console_rx = self.console_rx.into_inner().unwrap();
        let present = [
            gate.is_some(),
            s0.is_some(),
            s1.is_some(),
            s2.is_some(),
            console_rx.is_some(),
        ];
        let mut fds = vec![self.pidfd, self.status];
        fds.extend([gate, s0, s1, s2, console_rx].into_iter().flatten());
        let meta = ChildMeta {
            pid: self.pid,
            hold: self.hold,
            listener_pending: self.listener_pending.load(Ordering::SeqCst),
            program: self.program,
            id_maps: self.id_maps,
            cgroup_join_paths: self.cgroup_join_paths,
            rootfs_info: self.rootfs_info,
            join_paths: self.join_paths,
            rlimit_names: self.rlimit_names,
            exec_fifo: self.exec_fifo,
            sysctl_keys: self.sysctl_keys,
            present,
        };
        (meta, fds)
    }

    /// Rebuild a child from [`Child::into_wire`]'s parts.
    pub(crate) fn from_wire(meta: ChildMeta, fds: Vec<OwnedFd>) -> Result<Child, Error> {
        let want = 2 + meta.present.iter().filter(|p| **p).count();
        if fds.len() != want {
            return Err(Error::new(
                Code::Spawn,
                format!(
                    "spawner: {} fds came with the child, {want} expected",
                    fds.len()
                ),
            ));
        }
        let mut it = fds.into_iter();
        let pidfd = it.next().unwrap();
        let status = it.next().unwrap();
        let mut next = |p: bool| if p { it.next() } else { None };
        let gate = next(meta.present[0]);
        let stdio = [
            next(meta.present[1]),
            next(meta.present[2]),
            next(meta.present[3]),
        ];
        let console_rx = next(meta.present[4]);
        Ok(Child {
            pid: meta.pid,
            pidfd,
            stdio: Mutex::new(stdio),
            status,
            gate: Mutex::new(gate),
            hold: meta.hold,
            listener_pending: AtomicBool::new(meta.listener_pending),
            listener: Mutex::new(None),
            program: meta.program,
            id_maps: meta.id_maps,
            cgroup_join_paths: meta.cgroup_join_paths,
            rootfs_info: meta.rootfs_info,
            join_paths: meta.join_paths,
            rlimit_names: meta.rlimit_names,
            vforked: false,
            exec_fifo: meta.exec_fifo,
            sysctl_keys: meta.sysctl_keys,
            stage_taken: AtomicBool::new(false),
            console_rx: Mutex::new(console_rx),
            console: Mutex::new(None),
        })
    }

    /// The raw status pipe (for callers that poll it themselves).
    pub fn status_fd(&self) -> RawFd {
        self.status.as_raw_fd()
    }

    /// Block until the child reports: held at the gate, exec'd, or failed.
    /// On failure the child has exited and is reaped here (no zombie).
    pub fn wait_stage(&self) -> Result<Stage, Error> {
        loop {
            let msg = self.read_status()?;
            if msg.len() == MSG_LEN
                && u32::from_ne_bytes(msg[0..4].try_into().unwrap()) == MSG_SETUP
            {
                self.parent_setup()?;
                continue;
            }
            let stage = self.decode_status(&msg)?;
            if matches!(stage, Stage::Held | Stage::Running | Stage::ExecFifo) {
                if let Err(e) = self.receive_console() {
                    self.abort_gate();
                    let _ = self.kill(libc::SIGKILL);
                    self.reap();
                    return Err(e);
                }
            }
            return Ok(stage);
        }
    }

    /// Take the pty master the child sent (it did so before it reported
    /// held or exec'd, so it is queued: never blocks).
    fn receive_console(&self) -> Result<(), Error> {
        let Some(rx) = self.console_rx.lock().unwrap().take() else {
            return Ok(());
        };
        match crate::console::recv_fd(rx.as_raw_fd(), libc::MSG_DONTWAIT) {
            Ok(Some((fd, _name))) => {
                *self.console.lock().unwrap() = Some(fd);
                Ok(())
            }
            Ok(None) => Err(Error::new(
                Code::Console,
                "the child did not send its pty master",
            )),
            Err(e) => Err(Error::io(
                Code::Console,
                "recvmsg",
                &e,
                "receive the pty master from the child",
            )),
        }
    }

    /// Take the pty master (once) of a child spawned with a console whose
    /// socket is [`crate::console::ConsoleSocket::Return`], after
    /// [`Child::wait_stage`] returned held or running.
    pub fn take_console(&self) -> Option<OwnedFd> {
        self.console.lock().unwrap().take()
    }

    /// Write the id maps, then let the child go on.
    fn parent_setup(&self) -> Result<(), Error> {
        let res = (|| {
            if let Some(m) = &self.id_maps {
                crate::idmap::write_maps(self.pid, m)?;
            }
            let gate = self.gate.lock().unwrap();
            let n = match gate.as_ref() {
                Some(g) => unsafe { libc::write(g.as_raw_fd(), [1u8].as_ptr().cast(), 1) },
                None => -1,
            };
            if n != 1 {
                return Err(Error::last_os(
                    Code::Spawn,
                    "write",
                    "let the child go on after the id maps",
                ));
            }
            Ok(())
        })();
        if res.is_err() {
            self.gate.lock().unwrap().take();
            let _ = self.kill(libc::SIGKILL);
            self.reap();
        }
        res
    }

    /// Without blocking: the stage if the child already reported it, which
    /// is the case right after a vfork-style spawn (the child has exec'd or
    /// failed by the time `spawn` returns). `None`: use [`Child::wait_stage`].
    pub fn stage_now(&self) -> Option<Result<Stage, Error>> {
        if !self.vforked || self.stage_taken.swap(true, Ordering::SeqCst) {
            return None;
        }
        let mut pfd = libc::pollfd {
            fd: self.status.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n != 1 {
            // Another process briefly holds the write end (a fork of some
            // thread, before its exec): let the blocking path wait.
            self.stage_taken.store(false, Ordering::SeqCst);
            return None;
        }
        Some(self.wait_stage())
    }

    fn read_status(&self) -> Result<Vec<u8>, Error> {
        let mut buf = [0u8; MSG_LEN];
        let mut got = 0;
        while got < buf.len() {
            let n = unsafe {
                libc::read(
                    self.status.as_raw_fd(),
                    buf[got..].as_mut_ptr().cast(),
                    buf.len() - got,
                )
            };
            if n < 0 {
                if sys::errno() == libc::EINTR {
                    continue;
                }
                return Err(Error::last_os(Code::Spawn, "read", "read child status"));
            }
            if n == 0 {
                break;
            }
            got += n as usize;
        }
        Ok(buf[..got].to_vec())
    }

    /// Turn what was read from the status pipe into a stage or an error.
    pub fn decode_status(&self, msg: &[u8]) -> Result<Stage, Error> {
        if msg.is_empty() {
            return Ok(Stage::Running);
        }
        let word = |i: usize| u32::from_ne_bytes(msg[i * 4..i * 4 + 4].try_into().unwrap());
        if msg.len() < MSG_LEN {
            self.reap();
            return Err(Error::new(
                Code::Spawn,
                "child exited before reporting its status",
            ));
        }
        match word(0) {
            MSG_HELD => Ok(Stage::Held),
            MSG_PRE_PIVOT => Ok(Stage::PrePivot),
            MSG_EXEC_FIFO => Ok(Stage::ExecFifo),
            MSG_LISTENER => self.take_listener_from_child(word(2) as RawFd),
            MSG_ERROR => {
                self.reap();
                let errno = word(2) as i32;
                let step = Step::from_u32(word(1)).unwrap_or(Step::Exec);
                Err(self.step_error(step, errno, word(3)))
            }
            other => {
                self.reap();
                Err(Error::new(
                    Code::Spawn,
                    format!("unexpected child message {other}"),
                ))
            }
        }
    }

    /// Copy the child's seccomp listener fd with `pidfd_getfd` and let the
    /// child go on. On failure the child is stopped and reaped.
    fn take_listener_from_child(&self, fd: RawFd) -> Result<Stage, Error> {
        let got = sys::pidfd_getfd(self.pidfd.as_raw_fd(), fd);
        let mut gate = self.gate.lock().unwrap();
        match got {
            Ok(listener) => {
                *self.listener.lock().unwrap() = Some(listener);
                self.listener_pending.store(false, Ordering::SeqCst);
                let ack = match gate.as_ref() {
                    Some(g) => unsafe { libc::write(g.as_raw_fd(), [1u8].as_ptr().cast(), 1) },
                    None => -1,
                };
                if ack != 1 {
                    let e = Error::last_os(
                        Code::Seccomp,
                        "write",
                        "let the child go on after taking its seccomp listener",
                    );
                    gate.take();
                    drop(gate);
                    let _ = self.kill(libc::SIGKILL);
                    self.reap();
                    return Err(e);
                }
                if !self.hold {
                    gate.take();
                }
                Ok(Stage::SeccompListener)
            }
            Err(e) => {
                gate.take();
                drop(gate);
                let _ = self.kill(libc::SIGKILL);
                self.reap();
                Err(Error::io(
                    Code::Seccomp,
                    "pidfd_getfd",
                    &e,
                    format!("take the seccomp listener fd {fd} from pid {}", self.pid),
                ))
            }
        }
    }

    /// Take the seccomp listener fd (once), after [`Child::wait_stage`]
    /// returned [`Stage::SeccompListener`]. The caller owns it.
    pub fn take_seccomp_listener(&self) -> Option<OwnedFd> {
        self.listener.lock().unwrap().take()
    }

    fn step_error(&self, step: Step, errno: i32, detail: u32) -> Error {
        let mut syscall = step.name().to_string();
        let (code, what, path) = match step {
            Step::Rootfs => {
                let op = (detail >> 8) as usize;
                syscall = SYSCALL_NAMES
                    .get((detail & 0xff) as usize)
                    .unwrap_or(&"mount")
                    .to_string();
                match self.rootfs_info.get(op) {
                    Some(info) => (
                        Code::Mount.as_str(),
                        format!("rootfs: {}", info.what),
                        Some(info.path.clone()),
                    ),
                    None => (Code::Mount.as_str(), "rootfs setup".to_string(), None),
                }
            }
            Step::Join => {
                let path = self.join_paths.get(detail as usize).cloned();
                (
                    Code::Join.as_str(),
                    format!("join the namespace {}", path.clone().unwrap_or_default()),
                    path,
                )
            }
            Step::UnshareUser | Step::Unshare => (
                Code::Unshare.as_str(),
                "create namespaces".to_string(),
                None,
            ),
            Step::BecomeRoot => (
                Code::IdMap.as_str(),
                "become root in the new user namespace (is 0 mapped?)".to_string(),
                None,
            ),
            Step::Domainname => (Code::Hostname.as_str(), "set domainname".to_string(), None),
            Step::TimeOffsets => (
                Code::Time.as_str(),
                "write time namespace offsets".to_string(),
                Some("/proc/self/timens_offsets".to_string()),
            ),
            Step::EnterTime => (
                Code::Time.as_str(),
                "enter the new time namespace".to_string(),
                Some("/proc/self/ns/time_for_children".to_string()),
            ),
            Step::OomScoreAdj => (
                Code::OomScoreAdj.as_str(),
                "write oom_score_adj".to_string(),
                Some("/proc/self/oom_score_adj".to_string()),
            ),
            Step::Rlimit => {
                let res = self
                    .rlimit_names
                    .get(detail as usize)
                    .copied()
                    .unwrap_or(-1);
                (
                    Code::Rlimit.as_str(),
                    format!("set rlimit {res}"),
                    Some(format!("rlimits[{detail}]")),
                )
            }
            Step::Setgroups | Step::Setgid | Step::Setuid => (
                Code::Creds.as_str(),
                "switch user and groups".to_string(),
                None,
            ),
            Step::CapBounding | Step::CapAmbient => {
                let name = crate::caps::CAP_NAMES
                    .get(detail as usize)
                    .copied()
                    .unwrap_or("?");
                (
                    Code::Caps.as_str(),
                    format!("apply capability {name}"),
                    Some("capabilities".to_string()),
                )
            }
            Step::Capset | Step::KeepCaps => (
                Code::Caps.as_str(),
                "apply capabilities".to_string(),
                Some("capabilities".to_string()),
            ),
            Step::ExecFifo => {
                let what = match detail {
                    0 => "open the exec fifo",
                    1 => "reopen the exec fifo for writing",
                    _ => "write to the exec fifo",
                };
                (
                    Code::ExecFifo.as_str(),
                    what.to_string(),
                    self.exec_fifo.clone(),
                )
            }
            Step::PrePivot => (
                Code::Spawn.as_str(),
                "wait at the pre-pivot sync point".to_string(),
                None,
            ),
            Step::Sysctl => {
                let key = self
                    .sysctl_keys
                    .get(detail as usize)
                    .cloned()
                    .unwrap_or_default();
                (
                    Code::Sysctl.as_str(),
                    format!("write sysctl {key}"),
                    Some(format!("sysctl.{key}")),
                )
            }
            Step::Personality => (
                Code::Personality.as_str(),
                "set the personality".to_string(),
                Some("personality".to_string()),
            ),
            Step::IoPriority => (
                Code::Ioprio.as_str(),
                "set the io priority".to_string(),
                Some("ioPriority".to_string()),
            ),
            Step::MemoryPolicy => (
                Code::MemoryPolicy.as_str(),
                "set the memory policy".to_string(),
                Some("memoryPolicy".to_string()),
            ),
            Step::Scheduler => (
                Code::Scheduler.as_str(),
                "set the scheduling policy".to_string(),
                Some("scheduler".to_string()),
            ),
            Step::Affinity if detail == 0 => (
                Code::CpuAffinity.as_str(),
                "set the initial cpu affinity".to_string(),
                Some("initialCpuAffinity".to_string()),
            ),
            Step::Affinity => (
                Code::CpuAffinity.as_str(),
                "set the cpu affinity".to_string(),
                Some("cpuAffinity".to_string()),
            ),
            Step::CgroupJoin => {
                let path = self.cgroup_join_paths.get(detail as usize).cloned();
                (
                    Code::Cgroup.as_str(),
                    format!(
                        "move pid {} to {}",
                        self.pid,
                        path.clone().unwrap_or_default()
                    ),
                    path,
                )
            }
            Step::LoopbackUp => (
                Code::Network.as_str(),
                "bring lo up in the new network namespace".to_string(),
                Some("loopbackUp".to_string()),
            ),
            Step::Exec => (
                Code::Exec.as_str(),
                format!("exec {:?}", self.program),
                Some(self.program.clone()),
            ),
            Step::Chdir if detail == crate::child::CHDIR_OUTSIDE_ROOT => (
                Code::Chdir.as_str(),
                "the working directory resolves outside the container's root".to_string(),
                Some("cwd".to_string()),
            ),
            Step::Chdir => (
                Code::Chdir.as_str(),
                "chdir to the working directory (resolved inside the root, no /proc magic links)"
                    .to_string(),
                Some("cwd".to_string()),
            ),
            Step::Hostname => (Code::Hostname.as_str(), "set hostname".to_string(), None),
            Step::MountPrivate => (
                Code::Mount.as_str(),
                "make / private".to_string(),
                Some("/".to_string()),
            ),
            Step::MountProc => (
                Code::Mount.as_str(),
                "mount proc".to_string(),
                Some("/proc".to_string()),
            ),
            Step::NoNewPrivs => (
                Code::NoNewPrivs.as_str(),
                "set no_new_privs".to_string(),
                None,
            ),
            Step::Seccomp => {
                let hint = if errno == libc::EACCES {
                    " (set noNewPrivileges or keep CAP_SYS_ADMIN)"
                } else {
                    ""
                };
                (
                    Code::Seccomp.as_str(),
                    format!("install the seccomp filter{hint}"),
                    Some("seccomp".to_string()),
                )
            }
            Step::Console => {
                let (call, what, path) = crate::console::Sub::from_u32(detail)
                    .map(|s| s.describe())
                    .unwrap_or(("ioctl", "set up the console", None));
                syscall = call.to_string();
                (
                    Code::Console.as_str(),
                    format!("console: {what}"),
                    path.map(str::to_string),
                )
            }
            s => (
                Code::Spawn.as_str(),
                format!("child setup step {}", s.name()),
                None,
            ),
        };
        let mut e = Error {
            code: code.to_string(),
            message: format!("{what}: {}", strerror(errno)),
            errno: Some(errno),
            syscall: Some(syscall),
            path: None,
        };
        if let Some(p) = path {
            e = e.with_path(p);
        }
        e
    }

    /// Let a held child go on to exec. Call [`Child::wait_stage`] after it
    /// to learn whether the exec succeeded.
    pub fn release(&self) -> Result<(), Error> {
        if self.listener_pending.load(Ordering::SeqCst) || !self.hold {
            return Err(Error::new(
                Code::NotHeld,
                "the child is not waiting at the gate (call wait_stage first)",
            ));
        }
        let gate = self
            .gate
            .lock()
            .unwrap()
            .take()
            .ok_or_else(|| Error::new(Code::NotHeld, "the child is not waiting at the gate"))?;
        let n = unsafe { libc::write(gate.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        if n != 1 {
            return Err(Error::last_os(Code::Spawn, "write", "release the child"));
        }
        Ok(())
    }

    /// Let a child stopped at [`Stage::PrePivot`] go on (to `pivot_root`
    /// and the rest of its setup). Call [`Child::wait_stage`] after it.
    pub fn resume(&self) -> Result<(), Error> {
        let mut gate = self.gate.lock().unwrap();
        let n = match gate.as_ref() {
            Some(g) => unsafe { libc::write(g.as_raw_fd(), [1u8].as_ptr().cast(), 1) },
            None => {
                return Err(Error::new(
                    Code::NotHeld,
                    "the child is not waiting at the pre-pivot sync point",
                ))
            }
        };
        if n != 1 {
            return Err(Error::last_os(
                Code::Spawn,
                "write",
                "let the child go on after the pre-pivot sync point",
            ));
        }
        // Nothing else waits on the gate: closing it lets a child that
        // never gets there see end of file instead of a silent hang.
        if !self.hold && !self.listener_pending.load(Ordering::SeqCst) {
            gate.take();
        }
        Ok(())
    }

    /// Abort a held child: close the gate; it exits without exec'ing.
    pub fn abort_gate(&self) {
        self.gate.lock().unwrap().take();
    }

    /// Take the parent ends of the piped stdio streams (once).
    pub fn take_stdio(&self) -> [Option<OwnedFd>; 3] {
        std::mem::take(&mut *self.stdio.lock().unwrap())
    }

    /// Send a signal through the pidfd.
    pub fn kill(&self, signal: i32) -> Result<(), Error> {
        sys::pidfd_send_signal(self.pidfd.as_raw_fd(), signal).map_err(|e| {
            Error::io(
                Code::Kill,
                "pidfd_send_signal",
                &e,
                format!("signal pid {}", self.pid),
            )
        })
    }

    /// Block until the child exits and reap it.
    pub fn wait(&self) -> Result<ExitStatus, Error> {
        match sys::waitid_pidfd(self.pidfd.as_raw_fd(), 0) {
            Ok(Some(w)) => Ok(w.into()),
            Ok(None) => Err(Error::new(Code::Wait, "waitid returned no child")),
            Err(e) => Err(Error::io(
                Code::Wait,
                "waitid",
                &e,
                format!("wait for pid {}", self.pid),
            )),
        }
    }

    /// Reap without blocking; `None` while it runs.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>, Error> {
        sys::waitid_pidfd(self.pidfd.as_raw_fd(), libc::WNOHANG)
            .map(|o| o.map(Into::into))
            .map_err(|e| {
                Error::io(
                    Code::Wait,
                    "waitid",
                    &e,
                    format!("wait for pid {}", self.pid),
                )
            })
    }

    fn reap(&self) {
        let _ = sys::waitid_pidfd(self.pidfd.as_raw_fd(), 0);
    }
}
