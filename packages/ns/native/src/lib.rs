//! Node-API binding of `ctr-ns`. No logic here: argument conversion and
//! async plumbing only.
#![deny(clippy::all)]

use ctr_common::{catch_panic, Error};
use ctr_napi::ExitInfo;
use ctr_ns::{
    CapNames, Console, ConsoleSocket, IdMap, IdMaps, MountSpec, NamespaceKind, Rlimit, RootfsSpec,
    SpawnOptions, Stage, TimeOffsets, WinSize,
};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::Notify;

/// What to spawn, as the TypeScript layer hands it over.
#[napi(object)]
pub struct SpawnRequest {
    /// Program path or name looked up in the child's PATH.
    pub program: String,
    /// argv including argv[0].
    pub args: Vec<String>,
    /// Environment as KEY=value.
    pub env: Vec<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Namespace kinds to create.
    pub namespaces: Vec<String>,
    /// Mount a fresh /proc.
    pub mount_proc: bool,
    /// Hostname to set.
    pub hostname: Option<String>,
    /// For fds 0-2: -1 a pipe, -2 /dev/null, n >= 0 the parent's fd n.
    pub stdio: Vec<i32>,
    /// Wait before exec until release().
    pub hold: bool,
    /// Signal to the child when the spawning thread dies.
    pub parent_death_signal: Option<i32>,
    /// setsid in the child.
    pub new_session: bool,
    /// Set no_new_privs before exec.
    pub no_new_privileges: Option<bool>,
    /// Raw seccomp BPF program (array of struct sock_filter).
    pub seccomp: Option<Buffer>,
    /// SECCOMP_FILTER_FLAG_* flags.
    pub seccomp_flags: Option<u32>,
    /// Install with NEW_LISTENER and hand the listener fd to the parent.
    pub seccomp_listener: Option<bool>,
    /// Namespaces to join (kind, ns file path).
    pub joins: Option<Vec<JoinRequest>>,
    /// uid map of a new user namespace.
    pub uid_map: Option<Vec<IdMapRequest>>,
    /// gid map of a new user namespace.
    pub gid_map: Option<Vec<IdMapRequest>>,
    /// Write "deny" to setgroups (undefined: only when needed).
    pub setgroups_deny: Option<bool>,
    /// Use newuidmap/newgidmap even as root.
    pub id_map_helpers: Option<bool>,
    /// Time namespace offsets.
    pub time_offsets: Option<TimeOffsetsRequest>,
    /// NIS domain name.
    pub domainname: Option<String>,
    /// uid to run as.
    pub uid: Option<u32>,
    /// gid to run as.
    pub gid: Option<u32>,
    /// Supplementary groups.
    pub groups: Option<Vec<u32>>,
    /// umask.
    pub umask: Option<u32>,
    /// Resource limits.
    pub rlimits: Option<Vec<RlimitRequest>>,
    /// Capability sets by name.
    pub capabilities: Option<CapsRequest>,
    /// oom_score_adj.
    pub oom_score_adj: Option<i32>,
    /// Cgroup directories to start in.
    pub cgroups: Option<Vec<String>>,
    /// Root filesystem plan.
    pub rootfs: Option<RootfsRequest>,
    /// Parent fds that become 3, 4, ... in the child.
    pub extra_fds: Option<Vec<i32>>,
    /// A pty as the child's stdio and controlling terminal.
    pub console: Option<ConsoleRequest>,
    /// sysctl keys and values written before exec.
    pub sysctl: Option<Vec<SysctlRequest>>,
    /// `personality(2)` value.
    pub personality: Option<u32>,
    /// `ioprio_set` value (class << 13 | level).
    pub io_priority: Option<i32>,
    /// `set_mempolicy(2)` before exec.
    pub memory_policy: Option<MemoryPolicyRequest>,
    /// `sched_setattr(2)` before the credential change.
    pub scheduler: Option<SchedulerRequest>,
    /// `sched_setaffinity(2)` before exec: cpu numbers.
    pub cpu_affinity: Option<Vec<u32>>,
}

/// A `struct sched_attr`'s fields.
#[napi(object)]
pub struct SchedulerRequest {
    /// `SCHED_*` policy number.
    pub policy: u32,
    /// `SCHED_FLAG_*` bits.
    pub flags: u32,
    /// Nice value.
    pub nice: i32,
    /// Static priority.
    pub priority: u32,
    /// `SCHED_DEADLINE` runtime, ns.
    pub runtime: i64,
    /// `SCHED_DEADLINE` deadline, ns.
    pub deadline: i64,
    /// `SCHED_DEADLINE` period, ns.
    pub period: i64,
}

/// A NUMA memory policy.
#[napi(object)]
pub struct MemoryPolicyRequest {
    /// `MPOL_*` mode number.
    pub mode: i32,
    /// `MPOL_F_*` flags.
    pub flags: i32,
    /// Node numbers.
    pub nodes: Vec<u32>,
}

/// One sysctl.
#[napi(object)]
pub struct SysctlRequest {
    /// Dotted key (`net.ipv4.ip_forward`).
    pub key: String,
    /// Value written.
    pub value: String,
}

/// The child's pty.
#[napi(object)]
pub struct ConsoleRequest {
    /// A connected unix socket fd to send the master over; none: the
    /// master comes back through takeConsole().
    pub socket_fd: Option<i32>,
    /// Initial columns (with rows).
    pub cols: Option<u32>,
    /// Initial rows (with cols).
    pub rows: Option<u32>,
}

/// A namespace to join.
#[napi(object)]
pub struct JoinRequest {
    /// Namespace kind.
    pub kind: String,
    /// Path of an ns file.
    pub path: String,
}

/// One id map line.
#[napi(object)]
pub struct IdMapRequest {
    /// First id inside.
    pub inside: u32,
    /// First id outside.
    pub outside: u32,
    /// Count.
    pub count: u32,
}

/// Time offsets (seconds and nanoseconds).
#[napi(object)]
pub struct TimeOffsetsRequest {
    /// Monotonic seconds.
    pub monotonic_sec: i64,
    /// Monotonic nanoseconds.
    pub monotonic_nsec: u32,
    /// Boottime seconds.
    pub boottime_sec: i64,
    /// Boottime nanoseconds.
    pub boottime_nsec: u32,
}

/// One rlimit; -1 is unlimited.
#[napi(object)]
pub struct RlimitRequest {
    /// RLIMIT_* name.
    pub resource: String,
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// Capability sets by name.
#[napi(object)]
pub struct CapsRequest {
    /// Bounding.
    pub bounding: Vec<String>,
    /// Effective.
    pub effective: Vec<String>,
    /// Permitted.
    pub permitted: Vec<String>,
    /// Inheritable.
    pub inheritable: Vec<String>,
    /// Ambient.
    pub ambient: Vec<String>,
}

/// One mount.
#[napi(object)]
pub struct MountRequest {
    /// Destination inside the rootfs.
    pub destination: String,
    /// Source.
    pub source: Option<String>,
    /// File system type.
    pub fstype: Option<String>,
    /// Options.
    pub options: Vec<String>,
    /// uid map of an `idmap`/`ridmap` bind.
    pub uid_mappings: Option<Vec<IdMapRequest>>,
    /// gid map of an `idmap`/`ridmap` bind.
    pub gid_mappings: Option<Vec<IdMapRequest>>,
}

/// The root filesystem plan.
#[napi(object)]
pub struct RootfsRequest {
    /// Host path of the rootfs.
    pub path: String,
    /// Propagation of every mount first.
    pub propagation: Option<String>,
    /// Mounts.
    pub mounts: Vec<MountRequest>,
    /// Read-only root.
    pub readonly: bool,
    /// Masked paths.
    pub masked_paths: Vec<String>,
    /// Read-only paths.
    pub readonly_paths: Vec<String>,
    /// Set up /dev.
    pub dev: bool,
    /// MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
}

fn id_maps(v: Option<Vec<IdMapRequest>>) -> Vec<IdMap> {
    v.unwrap_or_default()
        .into_iter()
        .map(|m| IdMap {
            inside: m.inside,
            outside: m.outside,
            count: m.count,
        })
        .collect()
}

fn limit(v: i64) -> u64 {
    if v < 0 {
        u64::MAX
    } else {
        v as u64
    }
}

/// A spawned child process.
#[napi]
pub struct NativeChild {
    pid: i32,
    // None once closed: the pidfd and pipes are released as soon as the
    // last pending wait finishes, not when the GC gets to this object.
    inner: Mutex<Option<Arc<ctr_ns::Child>>>,
}

fn to_options(req: SpawnRequest) -> Result<SpawnOptions, Error> {
    let mut opts = SpawnOptions::new(req.program, req.args);
    opts.process.env = req.env;
    opts.process.cwd = req.cwd;
    opts.namespaces.create = req
        .namespaces
        .iter()
        .map(|n| NamespaceKind::parse(n))
        .collect::<Result<_, _>>()?;
    opts.filesystem.mount_proc = req.mount_proc;
    opts.namespaces.hostname = req.hostname;
    opts.io.stdio =
        ctr_napi::stdio_from_js(&req.stdio, ctr_ns::Code::InvalidOption.as_str(), "stdio")?;
    opts.lifecycle.hold = req.hold;
    opts.lifecycle.parent_death_signal = req.parent_death_signal;
    opts.process.new_session = req.new_session;
    opts.security.no_new_privileges = req.no_new_privileges.unwrap_or(false);
    opts.security.seccomp = req.seccomp.map(|b| b.to_vec());
    opts.security.seccomp_flags = req.seccomp_flags.unwrap_or(0);
    opts.security.seccomp_listener = req.seccomp_listener.unwrap_or(false);
    for j in req.joins.unwrap_or_default() {
        opts.namespaces
            .join
            .push((NamespaceKind::parse(&j.kind)?, j.path));
    }
    if req.uid_map.is_some() || req.gid_map.is_some() {
        opts.namespaces.id_maps = Some(IdMaps {
            uid: id_maps(req.uid_map),
            gid: id_maps(req.gid_map),
            setgroups_deny: req.setgroups_deny,
            use_helpers: req.id_map_helpers.unwrap_or(false),
        });
    }
    opts.namespaces.time_offsets = req.time_offsets.map(|t| TimeOffsets {
        monotonic: (t.monotonic_sec, t.monotonic_nsec),
        boottime: (t.boottime_sec, t.boottime_nsec),
    });
    opts.namespaces.domainname = req.domainname;
    opts.security.uid = req.uid;
    opts.security.gid = req.gid;
    opts.security.groups = req.groups;
    opts.security.umask = req.umask;
    for (i, r) in req.rlimits.unwrap_or_default().into_iter().enumerate() {
        let resource = ctr_ns::plan::rlimit_from_name(&r.resource).ok_or_else(|| {
            Error::new(
                ctr_ns::Code::InvalidOption,
                format!("unknown rlimit {:?}", r.resource),
            )
            .with_field(format!("rlimits[{i}].type"))
        })?;
        opts.resources.rlimits.push(Rlimit {
            resource,
            soft: limit(r.soft),
            hard: limit(r.hard),
        });
    }
    opts.security.capabilities = req.capabilities.map(|c| CapNames {
        bounding: c.bounding,
        effective: c.effective,
        permitted: c.permitted,
        inheritable: c.inheritable,
        ambient: c.ambient,
    });
    opts.resources.oom_score_adj = req.oom_score_adj;
    opts.namespaces.sysctl = req
        .sysctl
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.key, s.value))
        .collect();
    opts.process.personality = req.personality.map(u64::from);
    opts.resources.io_priority = req.io_priority;
    opts.resources.memory_policy = req.memory_policy.map(|m| ctr_ns::MemoryPolicy {
        mode: m.mode,
        flags: m.flags,
        nodes: m.nodes,
    });
    opts.resources.scheduler = req.scheduler.map(|s| {
        let mut a = ctr_ns::SchedAttr::new(s.policy);
        a.sched_flags = u64::from(s.flags);
        a.sched_nice = s.nice;
        a.sched_priority = s.priority;
        (a.sched_runtime, a.sched_deadline, a.sched_period) = (
            s.runtime.max(0) as u64,
            s.deadline.max(0) as u64,
            s.period.max(0) as u64,
        );
        a
    });
    opts.resources.cpu_affinity = req.cpu_affinity;
    opts.io.extra_fds = req.extra_fds.unwrap_or_default();
    opts.resources.cgroups = req.cgroups.unwrap_or_default();
    if let Some(c) = req.console {
        let size = match (c.cols, c.rows) {
            (Some(cols), Some(rows)) => Some(win_size(cols, rows)?),
            (None, None) => None,
            _ => {
                return Err(Error::new(
                    ctr_ns::Code::InvalidOption,
                    "terminal size needs both cols and rows",
                )
                .with_field("terminal"))
            }
        };
        let socket = match c.socket_fd {
            Some(fd) => ConsoleSocket::Fd(fd),
            None => ConsoleSocket::Return,
        };
        opts.io.console = Some(Console { socket, size });
    }
    opts.filesystem.rootfs = req.rootfs.map(|r| RootfsSpec {
        path: r.path,
        propagation: r.propagation,
        mounts: r
            .mounts
            .into_iter()
            .map(|m| MountSpec {
                destination: m.destination,
                source: m.source,
                fstype: m.fstype,
                options: ctr_ns::parse_options(&m.options),
                uid_mappings: id_maps(m.uid_mappings),
                gid_mappings: id_maps(m.gid_mappings),
            })
            .collect(),
        readonly: r.readonly,
        masked_paths: r.masked_paths,
        readonly_paths: r.readonly_paths,
        dev: r.dev,
        bind_devices: false,
        no_pivot: r.no_pivot,
        ..Default::default()
    });
    Ok(opts)
}

fn win_size(cols: u32, rows: u32) -> Result<WinSize, Error> {
    if cols == 0 || rows == 0 || cols > u16::MAX as u32 || rows > u16::MAX as u32 {
        return Err(Error::new(
            ctr_ns::Code::InvalidOption,
            "terminal size must be 1..65535 columns and rows",
        )
        .with_field("terminal"));
    }
    Ok(WinSize {
        cols: cols as u16,
        rows: rows as u16,
    })
}

/// Clone a child into new namespaces. Synchronous like
/// `child_process.spawn`: the clone itself is quick, and happening on the
/// main thread keeps the parent-death signal tied to a thread that lives.
#[napi]
pub fn spawn(req: SpawnRequest) -> napi::Result<NativeChild> {
    let child = catch_panic(|| ctr_ns::spawn(&to_options(req)?))?;
    Ok(NativeChild {
        pid: child.pid,
        inner: Mutex::new(Some(Arc::new(child))),
    })
}

impl NativeChild {
    fn child(&self) -> Result<Arc<ctr_ns::Child>, Error> {
        self.inner
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Error::new(ctr_ns::Code::Closed, "the child handle was closed"))
    }
}

#[napi]
impl NativeChild {
    /// Host pid of the child.
    #[napi(getter)]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Release the pidfd and pipes (after the exit was reaped).
    #[napi]
    pub fn close(&self) {
        self.inner.lock().unwrap().take();
    }

    /// Take the parent ends of piped stdio as raw fds (-1 where none); the
    /// caller owns them from now on.
    #[napi]
    pub fn take_stdio(&self) -> Vec<i32> {
        let Ok(child) = self.child() else {
            return vec![-1, -1, -1];
        };
        ctr_napi::stdio_to_js(&child)
    }

    /// Take the pty master of a child spawned with a console (and no
    /// socket fd) as a terminal handle, once, after waitStage/stageNow
    /// resolved; null if none.
    #[napi]
    pub fn take_console(&self) -> Option<NativeTerminal> {
        let child = self.child().ok()?;
        child.take_console().map(|fd| NativeTerminal {
            state: Arc::new(TermState::new(fd)),
        })
    }

    /// Take the seccomp listener fd (-1 if none or already taken) after
    /// waitStage resolved "seccomp-listener"; the caller owns it.
    #[napi]
    pub fn take_seccomp_listener(&self) -> i32 {
        let Ok(child) = self.child() else { return -1 };
        child
            .take_seccomp_listener()
            .map(|f| f.into_raw_fd())
            .unwrap_or(-1)
    }

    /// Resolves with "seccomp-listener" (call again), "held" or "running"
    /// once the child reports, or rejects with the coded error of the step
    /// that failed (the child is reaped).
    #[napi(ts_return_type = "Promise<'seccomp-listener' | 'held' | 'running'>")]
    pub fn wait_stage<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, String>> {
        let child = self.child()?;
        env.spawn_future(async move {
            let stage = ctr_napi::blocking(move || child.wait_stage()).await?;
            Ok(match stage {
                Stage::Held => "held".to_string(),
                Stage::Running => "running".to_string(),
                Stage::SeccompListener => "seccomp-listener".to_string(),
                Stage::PrePivot => "pre-pivot".to_string(),
                Stage::ExecFifo => "exec-fifo".to_string(),
            })
        })
    }

    /// The stage if already known without waiting (vfork-style spawns):
    /// "running" or "held", null when unknown (use waitStage); throws the
    /// step's error if the child failed (it is reaped).
    #[napi(ts_return_type = "'held' | 'running' | null")]
    pub fn stage_now(&self) -> napi::Result<Option<String>> {
        let child = self.child()?;
        match child.stage_now() {
            None => Ok(None),
            Some(r) => Ok(Some(
                match r? {
                    Stage::Held => "held",
                    Stage::Running => "running",
                    Stage::SeccompListener => "seccomp-listener",
                    Stage::PrePivot => "pre-pivot",
                    Stage::ExecFifo => "exec-fifo",
                }
                .to_string(),
            )),
        }
    }

    /// Let a held child go on to exec.
    #[napi]
    pub fn release(&self) -> napi::Result<()> {
        Ok(self.child()?.release()?)
    }

    /// Close the gate of a held child without releasing it: it exits.
    #[napi]
    pub fn abort(&self) {
        if let Ok(c) = self.child() {
            c.abort_gate()
        }
    }

    /// Send a signal (number) through the pidfd.
    #[napi]
    pub fn kill(&self, signal: i32) -> napi::Result<()> {
        Ok(self.child()?.kill(signal)?)
    }

    /// Resolves when the child exits (watched through its pidfd on the
    /// runtime's epoll, no thread blocked), and reaps it.
    #[napi]
    pub fn wait_exit<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, ExitInfo>> {
        let child = self.child()?;
        env.spawn_future(async move {
            Ok(ctr_napi::wait_child(&child, ctr_ns::Code::Wait.as_str()).await?)
        })
    }
}

/// The master end of a child's pty: non-blocking reads and writes watched
/// on the runtime's epoll (the event loop never blocks).
#[napi]
pub struct NativeTerminal {
    state: Arc<TermState>,
}

struct TermState {
    /// The master, until closed or taken.
    fd: Mutex<Option<OwnedFd>>,
    /// The epoll registration (made once, inside the runtime) on a dup of
    /// the master; dropped on close.
    watch: Mutex<Option<Arc<AsyncFd<OwnedFd>>>>,
    closed: AtomicBool,
    /// Wakes pending reads and writes on close.
    on_close: Notify,
}

impl TermState {
    fn new(fd: OwnedFd) -> TermState {
        TermState {
            fd: Mutex::new(Some(fd)),
            watch: Mutex::new(None),
            closed: AtomicBool::new(false),
            on_close: Notify::new(),
        }
    }

    fn raw(&self) -> Result<i32, Error> {
        self.fd
            .lock()
            .unwrap()
            .as_ref()
            .map(|f| f.as_raw_fd())
            .ok_or_else(|| Error::new(ctr_ns::Code::Closed, "the terminal was closed"))
    }

    /// Must run inside the runtime (AsyncFd registers with its reactor).
    fn watch(&self) -> Result<Arc<AsyncFd<OwnedFd>>, Error> {
        let mut w = self.watch.lock().unwrap();
        if let Some(a) = w.as_ref() {
            return Ok(a.clone());
        }
        let dup = self
            .fd
            .lock()
            .unwrap()
            .as_ref()
            .ok_or_else(|| Error::new(ctr_ns::Code::Closed, "the terminal was closed"))?
            .try_clone()
            .map_err(|e| Error::io(ctr_ns::Code::Console, "dup", &e, "duplicate the pty master"))?;
        ctr_ns::console::set_nonblocking(dup.as_raw_fd())?;
        // SAFETY: `dup` is an OwnedFd moved into the AsyncFd, so it stays
        // open and the same for the AsyncFd's whole life.
        let a = Arc::new(
            unsafe {
                AsyncFd::register_with_interest(dup, Interest::READABLE | Interest::WRITABLE)
            }
            .map_err(|e| {
                Error::io(
                    ctr_ns::Code::Console,
                    "epoll_ctl",
                    &e.into_parts().1,
                    "watch the pty master",
                )
            })?,
        );
        *w = Some(a.clone());
        Ok(a)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.fd.lock().unwrap().take();
        self.watch.lock().unwrap().take();
        self.on_close.notify_waiters();
    }
}

#[napi]
impl NativeTerminal {
    /// Resolves with the next chunk of output, or null once the child side
    /// is gone (EIO on the master) or the terminal was closed.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn read<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Option<Buffer>>> {
        let st = self.state.clone();
        env.spawn_future(async move { Self::read_async(st).await.map_err(napi::Error::from) })
    }

    /// Write all of `data`; resolves when the kernel took it.
    #[napi]
    pub fn write<'e>(&self, env: &'e Env, data: Buffer) -> napi::Result<PromiseRaw<'e, ()>> {
        let st = self.state.clone();
        let data = data.to_vec();
        env.spawn_future(
            async move { Self::write_async(st, data).await.map_err(napi::Error::from) },
        )
    }
}

impl NativeTerminal {
    async fn read_async(st: Arc<TermState>) -> Result<Option<Buffer>, Error> {
        {
            let closed = st.on_close.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if st.closed.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let w = st.watch()?;
            let mut buf = vec![0u8; 16384];
            loop {
                let mut guard = tokio::select! {
                    g = w.readable() => g.map_err(|e| Error::io(ctr_ns::Code::Console, "epoll_wait", &e, "wait for the pty"))?,
                    _ = &mut closed => return Ok(None),
                };
                match guard
                    .try_io(|inner| ctr_ns::console::read_master(inner.as_raw_fd(), &mut buf))
                {
                    Ok(Ok(0)) => return Ok(None),
                    Ok(Ok(n)) => {
                        buf.truncate(n);
                        return Ok(Some(buf.into()));
                    }
                    Ok(Err(e)) => {
                        return Err(Error::io(
                            ctr_ns::Code::Console,
                            "read",
                            &e,
                            "read the pty master",
                        ))
                    }
                    Err(_would_block) => continue,
                }
            }
        }
    }

    async fn write_async(st: Arc<TermState>, data: Vec<u8>) -> Result<(), Error> {
        {
            let closed = st.on_close.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            let gone = || Error::new(ctr_ns::Code::Closed, "the terminal was closed");
            if st.closed.load(Ordering::SeqCst) {
                return Err(gone());
            }
            let w = st.watch()?;
            let mut off = 0;
            while off < data.len() {
                let mut guard = tokio::select! {
                    g = w.writable() => g.map_err(|e| Error::io(ctr_ns::Code::Console, "epoll_wait", &e, "wait for the pty"))?,
                    _ = &mut closed => return Err(gone()),
                };
                match guard.try_io(|inner| {
                    let n = unsafe {
                        libc::write(
                            inner.as_raw_fd(),
                            data[off..].as_ptr().cast(),
                            data.len() - off,
                        )
                    };
                    if n < 0 {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(n as usize)
                    }
                }) {
                    Ok(Ok(n)) => off += n,
                    Ok(Err(e)) => {
                        return Err(Error::io(
                            ctr_ns::Code::Console,
                            "write",
                            &e,
                            "write the pty master",
                        ))
                    }
                    Err(_would_block) => continue,
                }
            }
            Ok(())
        }
    }
}

#[napi]
impl NativeTerminal {
    /// Set the window size (TIOCSWINSZ): the child gets SIGWINCH.
    #[napi]
    pub fn resize(&self, cols: u32, rows: u32) -> napi::Result<()> {
        Ok(ctr_ns::console::resize(
            self.state.raw()?,
            win_size(cols, rows)?,
        )?)
    }

    /// The window size as [cols, rows].
    #[napi]
    pub fn size(&self) -> napi::Result<Vec<u32>> {
        let s = ctr_ns::console::size(self.state.raw()?)?;
        Ok(vec![s.cols as u32, s.rows as u32])
    }

    /// Take the master as a raw fd (the caller owns it; this handle is
    /// closed); -1 if already closed.
    #[napi]
    pub fn take_fd(&self) -> i32 {
        let fd = self.state.fd.lock().unwrap().take();
        self.state.close();
        fd.map(|f| f.into_raw_fd()).unwrap_or(-1)
    }

    /// Close the master (the child gets SIGHUP once nothing else holds
    /// it). Pending reads resolve null, pending writes reject.
    #[napi]
    pub fn close(&self) {
        self.state.close();
    }
}

/// Wrap a pty master fd (received over a console socket, or from another
/// package) as a terminal handle; the handle owns it from now on.
#[napi]
pub fn terminal_from_fd(fd: i32) -> napi::Result<NativeTerminal> {
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::sys(
            ctr_ns::Code::InvalidOption,
            "fcntl",
            libc::EBADF,
            format!("fd {fd} is not open"),
        )
        .with_field("fd")
        .into());
    }
    if unsafe { libc::isatty(fd) } != 1 {
        return Err(Error::sys(
            ctr_ns::Code::InvalidOption,
            "isatty",
            libc::ENOTTY,
            format!("fd {fd} is not a terminal"),
        )
        .with_field("fd")
        .into());
    }
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok(NativeTerminal {
        state: Arc::new(TermState::new(unsafe { OwnedFd::from_raw_fd(fd) })),
    })
}

/// Keep the `kind` namespace of `pid` (0: this process) alive by
/// bind-mounting its ns file onto `path`.
#[napi]
pub fn persist_namespace<'e>(
    env: &'e Env,
    pid: i32,
    kind: String,
    path: String,
) -> napi::Result<PromiseRaw<'e, ()>> {
    let kind = NamespaceKind::parse(&kind)?;
    ctr_napi::promise(env, move || ctr_ns::persist::persist(pid, kind, &path))
}

/// Undo persistNamespace: unmount and remove `path`.
#[napi]
pub fn release_namespace<'e>(env: &'e Env, path: String) -> napi::Result<PromiseRaw<'e, ()>> {
    ctr_napi::promise(env, move || ctr_ns::persist::release(&path))
}

/// Namespace kinds the running kernel supports (`/proc/self/ns` names).
#[napi]
pub fn supported_namespaces() -> Vec<String> {
    ctr_ns::supported_namespaces()
        .iter()
        .map(|k| k.proc_name().to_string())
        .collect()
}

/// The numbers of a cpu or NUMA node list (`0-3,7`), sorted without
/// repeats: ctr-common's one parser. `unit` is `cpu` or `node` (the bound
/// and the noun of the message); a malformed list is `ENS_INVALID_OPTION`
/// naming `field`.
#[napi]
pub fn parse_cpu_list(list: String, unit: String, field: String) -> napi::Result<Vec<u32>> {
    use ctr_common::cpulist;
    let unit = match unit.as_str() {
        "cpu" => cpulist::CPU,
        "node" => cpulist::NODE,
        _ => {
            let msg = format!("unit {unit:?} is not cpu or node");
            return Err(Error::new(ctr_common::Code::Internal, msg).into());
        }
    };
    Ok(cpulist::parse_field(
        &list,
        unit,
        ctr_ns::Code::InvalidOption,
        &field,
    )?)
}

/// The default masked paths of a container (ctr-common's one list).
#[napi]
pub fn default_masked_paths() -> Vec<String> {
    ctr_common::paths::DEFAULT_MASKED_PATHS
        .map(String::from)
        .to_vec()
}

/// The default read-only paths of a container (ctr-common's one list).
#[napi]
pub fn default_readonly_paths() -> Vec<String> {
    ctr_common::paths::DEFAULT_READONLY_PATHS
        .map(String::from)
        .to_vec()
}
