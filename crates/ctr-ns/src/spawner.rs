//! The spawner: a small process, started once per process on first use,
//! that makes the `clone3` of every child on this process's behalf.
//!
//! Why: a child cloned from Node is a copy of a ~100 MB address space.
//! `clone3` copies its page tables (`dup_mmap`/`copy_page_range`) while
//! holding Node's `mmap_lock` for writing, so creates from several threads
//! run one after the other and Node's own page faults wait meanwhile, and
//! the first `execve` of the child tears that copy down again
//! (`begin_new_exec`/`unmap_page_range`). Cloned from the spawner, a child
//! is a copy of a few MB: both costs shrink with it, and they are paid
//! outside Node's `mmap_lock`.
//!
//! How:
//! - [`enable`] names the program to run as the spawner (a binary that
//!   calls [`serve_main`]: `ctrun`, or the crate's `ctr-ns-spawner`). On
//!   first use it is copied into a sealed memfd (as the exec helper is:
//!   nothing of the host file is executed, and `/proc/<pid>/exe` of the
//!   spawner and of every child until its exec is a sealed memfd) and
//!   started from a thread made for that and kept for the life of the
//!   process, with `PR_SET_PDEATHSIG` = `SIGKILL`: the parent-death signal
//!   follows the parent *thread*, so that thread must never exit. Its only
//!   fds are `/dev/null` as 0-2 and its end of a unix socketpair as 3.
//! - Each [`spawn`] sends the options (JSON; the seccomp program as raw
//!   bytes; every fd they name — stdio, extra fds, the console socket — by
//!   `SCM_RIGHTS`, its number replaced by its index) with this process's pid
//!   and cwd. The spawner chdirs there, builds the same [`Prepared`] plan,
//!   and clones with `CLONE_PARENT | CLONE_PIDFD`: the child's parent is
//!   this process (it waits for it, writes its id maps, moves it into v1
//!   cgroups, opens its gate, exactly as after a fork), and the child runs
//!   the same fork-safe [`crate::child::child_main`]. The spawner sends back
//!   the pidfd and the parent ends of the pipes, then closes every fd it
//!   received or made for that child.
//! - A spawner serves one request at a time, and there is a small pool of
//!   them (up to [`pool_size`], started as concurrent spawns need them):
//!   the spawner's share is a plan and the clone, and the clone creates the
//!   child's namespaces *in the caller*: a network namespace alone costs
//!   about half a millisecond of the spawner's CPU (loopback, sysctls,
//!   netfilter). Through one spawner, every launch of the process waited
//!   for that of the others, and for the spawner to be scheduled; several
//!   spawners make those clones on several CPUs at once. The child's own
//!   setup runs in the child, in parallel with the next request.
//! - Each spawner dies with this process: `SIGKILL` through the death
//!   signal, and end of file on its socket. If one dies first, the spawn in
//!   flight fails (`ENS_SPAWN`) and the next one starts a new spawner.
//!
//! What a child inherits from the spawner instead of this process: the
//! rlimits, umask, nice value, cpu affinity, cgroup and capabilities the
//! process had when the spawner started (the options set each of them
//! explicitly where it matters), and the spawner's signal actions, which
//! the child sets back to the default: the spawner lists its non-default
//! ones once at start (Rust's ignored SIGPIPE, its SIGSEGV and SIGBUS
//! handlers, any ignored one inherited through its exec), so the child
//! resets those few, not all 62 (a child forked from Node resets every
//! one). A child's `parent_death_signal` fires when this process exits (its parent thread is the spawner's keeper, which lives
//! as long as the process), not when the thread that asked exits.
//!
//! [`Prepared`]: crate::plan::Prepared
use crate::plan::{SpawnOptions, Stdio};
use crate::spawn::{Child, ChildMeta, OnBehalf};
use crate::Code;
use ctr_common::Error;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, OnceLock};

/// Set once this process, a spawner, made itself non-dumpable (see
/// [`serve_main`]): its vfork-style children may change credentials.
pub(crate) static NON_DUMPABLE: AtomicBool = AtomicBool::new(false);

/// `argv[1]` of a program started as the spawner.
pub const ARG: &str = "__ctr_spawner";
/// The spawner's `comm` (what `ps` shows).
const SPAWNER_NAME: &std::ffi::CStr = c"ctr-spawner";
/// The `comm` a child gets from the spawner (until its exec names it).
const CHILD_NAME: &std::ffi::CStr = c"ctr-init";
/// The fd the spawner's socket is on.
const SOCKET_FD: RawFd = 3;
/// Most fds one message carries (`SCM_MAX_FD` is 253).
const MAX_FDS: usize = 128;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// In a spawner, the signals whose action is not the default (asked once at
/// start; it never changes them): all a child cloned from it must reset.
/// Elsewhere every signal (Node's handlers change as scripts ask).
pub(crate) static CHILD_RESET_SIGNALS: AtomicU64 = AtomicU64::new(u64::MAX);
static PROGRAM: Mutex<Option<String>> = Mutex::new(None);
static POOL: Mutex<Pool> = Mutex::new(Pool {
    idle: Vec::new(),
    pids: Vec::new(),
    starting: 0,
    generation: 0,
});
/// Signalled when a spawner goes back to the pool (or leaves it).
static FREED: Condvar = Condvar::new();
static KEEPER: Mutex<Option<mpsc::Sender<Keep>>> = Mutex::new(None);

/// Most spawners a process runs at once: the CPUs it may use (at least 2,
/// at most 8), or `CTR_NS_SPAWNERS` when set to a number >= 1.
pub fn pool_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("CTR_NS_SPAWNERS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
                    .clamp(2, 8)
            })
    })
}

/// The running spawners: the idle ones, and every one's pid.
struct Pool {
    /// Spawners waiting for a request.
    idle: Vec<Conn>,
    /// Pids of every running spawner, idle or busy, oldest first.
    pids: Vec<i32>,
    /// Spawners being started (they count against [`pool_size`]).
    starting: usize,
    /// Bumped when the program changes: a busy spawner of an older
    /// generation is let go when its request is done.
    generation: u64,
}

impl Pool {
    fn running(&self) -> usize {
        self.pids.len() + self.starting
    }

    /// Drop `pid` from the running ones.
    fn forget(&mut self, pid: i32) {
        self.pids.retain(|p| *p != pid);
    }
}

/// Make [`crate::spawn`] go through a spawner running `program` (a binary
/// whose `main` calls [`serve_main`] when `argv[1]` is [`ARG`]), or, with
/// `None`, fork this process again. The spawner starts on the next spawn.
pub fn enable(program: Option<String>) {
    let on = program.is_some();
    let mut p = PROGRAM.lock().unwrap();
    if on && *p != program {
        // Running spawners of another program are let go (end of file):
        // the idle ones now, the busy ones when their request is done.
        let idle = {
            let mut pool = POOL.lock().unwrap();
            pool.generation += 1;
            let idle = std::mem::take(&mut pool.idle);
            for c in &idle {
                pool.forget(c.pid);
            }
            idle
        };
        for c in idle {
            retire(c);
        }
        FREED.notify_all();
    }
    if on {
        *p = program;
    }
    // Turned off, a running spawner stays for when it is turned on again.
    ENABLED.store(on, Ordering::SeqCst);
}

/// Whether spawns go through the spawner. The environment variable
/// `CTR_NS_SPAWNER`, when set to a program's path, turns it on for a
/// process that did not call [`enable`] before its first spawn.
pub fn enabled() -> bool {
    static FROM_ENV: std::sync::Once = std::sync::Once::new();
    FROM_ENV.call_once(|| {
        if let Some(p) = std::env::var_os("CTR_NS_SPAWNER").filter(|p| !p.is_empty()) {
            if PROGRAM.lock().unwrap().is_none() {
                enable(Some(p.to_string_lossy().into_owned()));
            }
        }
    });
    ENABLED.load(Ordering::SeqCst)
}

/// The pid of the oldest running spawner, if one is running.
pub fn pid() -> Option<i32> {
    POOL.lock().unwrap().pids.first().copied()
}

/// The pids of every running spawner, oldest first.
pub fn pids() -> Vec<i32> {
    POOL.lock().unwrap().pids.clone()
}

fn spawn_error(what: impl Into<String>) -> Error {
    Error::new(Code::Spawn, what)
}

fn io_error(e: std::io::Error, what: &str) -> Error {
    Error::io(Code::Spawn, "spawner", &e, format!("spawner: {what}"))
}

/// A running spawner: its socket.
struct Conn {
    sock: OwnedFd,
    pid: i32,
    /// The pool's generation when it started.
    generation: u64,
}

/// A request to the keeper thread.
enum Keep {
    /// Start a spawner of this program, reply on the channel.
    Launch(String, mpsc::Sender<Result<Conn, Error>>),
    /// This spawner's socket was closed (it died, or was let go): reap it.
    Reap(i32),
}

/// Close a spawner's socket (it exits at end of file) and have it reaped.
fn retire(c: Conn) {
    let pid = c.pid;
    drop(c);
    if let Some(k) = KEEPER.lock().unwrap().as_ref() {
        let _ = k.send(Keep::Reap(pid));
    }
}

/// A spawner for one request: an idle one, else a new one while the pool
/// has room, else the first one freed.
fn checkout(program: &str) -> Result<Conn, Error> {
    let mut pool = POOL.lock().unwrap();
    loop {
        if let Some(c) = pool.idle.pop() {
            return Ok(c);
        }
        if pool.running() < pool_size() {
            pool.starting += 1;
            let generation = pool.generation;
            drop(pool);
            let r = launch(program);
            let mut pool = POOL.lock().unwrap();
            pool.starting -= 1;
            return match r {
                Ok(mut c) => {
                    c.generation = generation;
                    pool.pids.push(c.pid);
                    Ok(c)
                }
                Err(e) => {
                    drop(pool);
                    // Another waiter may start one (or take a freed one).
                    FREED.notify_one();
                    Err(e)
                }
            };
        }
        pool = FREED.wait(pool).unwrap();
    }
}

/// Give a spawner back after a request it answered.
fn checkin(c: Conn) {
    let mut pool = POOL.lock().unwrap();
    if c.generation != pool.generation {
        pool.forget(c.pid);
        drop(pool);
        retire(c);
    } else {
        pool.idle.push(c);
        drop(pool);
    }
    FREED.notify_one();
}

/// Let a spawner go that failed a request (it died, or the talk broke).
fn discard(c: Conn) {
    POOL.lock().unwrap().forget(c.pid);
    retire(c);
    FREED.notify_one();
}

/// Start a spawner running `program` from the keeper thread (made on first
/// use; it never exits, so the spawner's death signal never fires early).
fn launch(program: &str) -> Result<Conn, Error> {
    let tx = {
        let mut k = KEEPER.lock().unwrap();
        if k.is_none() {
            let (tx, rx) = mpsc::channel::<Keep>();
            std::thread::Builder::new()
                .name("ctr-spawner".into())
                .spawn(move || keeper(rx))
                .map_err(|e| io_error(e, "start the keeper thread"))?;
            *k = Some(tx);
        }
        k.as_ref().unwrap().clone()
    };
    let (rtx, rrx) = mpsc::channel();
    tx.send(Keep::Launch(program.to_string(), rtx))
        .map_err(|_| spawn_error("spawner: the keeper thread is gone"))?;
    rrx.recv()
        .map_err(|_| spawn_error("spawner: the keeper thread is gone"))?
}

/// The keeper: starts spawners and reaps the ones let go (a spawner exits
/// at end of file on its socket, so the wait is short).
fn keeper(rx: mpsc::Receiver<Keep>) {
    let mut running: Vec<std::process::Child> = Vec::new();
    while let Ok(m) = rx.recv() {
        match m {
            Keep::Launch(program, reply) => {
                let r = start(&program).map(|(child, conn)| {
                    running.push(child);
                    conn
                });
                let _ = reply.send(r);
            }
            Keep::Reap(pid) => {
                if let Some(i) = running.iter().position(|c| c.id() as i32 == pid) {
                    let _ = running.swap_remove(i).wait();
                }
            }
        }
    }
}

/// The sealed copy of the spawner's program, made once per program.
fn sealed_program(program: &str) -> Result<OwnedFd, Error> {
    let bytes = std::fs::read(program).map_err(|e| {
        Error::io(
            Code::Spawn,
            "open",
            &e,
            format!("spawner: read the spawner program {program}"),
        )
        .with_path(program)
    })?;
    crate::exec_helper::sealed_copy(c"ctr-spawner", &bytes)
}

fn start(program: &str) -> Result<(std::process::Child, Conn), Error> {
    use std::os::unix::process::CommandExt;
    let memfd = sealed_program(program)?;
    let (ours, theirs) =
        crate::sys::socket_pair().map_err(|e| io_error(e, "create the socket pair"))?;
    let node = std::process::id();
    let (theirs_fd, mem_fd) = (theirs.as_raw_fd(), memfd.as_raw_fd());
    // One /dev/null open for reading and writing as 0-2: the spawner hands
    // it as is to a child whose stdio is ignored (as `Stdio::Null` opens
    // it), not opening one a spawn.
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| io_error(e, "open /dev/null"))?;
    let dup = |f: &std::fs::File| f.try_clone().map_err(|e| io_error(e, "dup /dev/null"));
    let (null1, null2) = (dup(&null)?, dup(&null)?);
    let mut cmd = std::process::Command::new(format!("/proc/self/fd/{}", SOCKET_FD + 1));
    cmd.arg0("ctr-spawner")
        .arg(ARG)
        .arg(node.to_string())
        .env_clear()
        .stdin(null)
        .stdout(null1)
        .stderr(null2);
    // In the forked child, before exec: only raw system calls. The socket
    // becomes fd 3 (kept over exec), the memfd fd 4 (close-on-exec: execve
    // opens it first), everything else above is closed.
    unsafe {
        cmd.pre_exec(move || {
            let s = libc::fcntl(theirs_fd, libc::F_DUPFD_CLOEXEC, 64);
            let m = libc::fcntl(mem_fd, libc::F_DUPFD_CLOEXEC, 64);
            if s < 0
                || m < 0
                || libc::dup2(s, SOCKET_FD) < 0
                || libc::dup3(m, SOCKET_FD + 1, libc::O_CLOEXEC) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            libc::syscall(libc::SYS_close_range, SOCKET_FD + 2, u32::MAX, 0u32);
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| io_error(e, &format!("start {program}")))?;
    drop(theirs);
    let pid = child.id() as i32;
    Ok((
        child,
        Conn {
            sock: ours,
            pid,
            generation: 0,
        },
    ))
}

// ---- the wire -------------------------------------------------------------

/// Send `head` (a JSON document) and `blob` with `fds` attached: a 12-byte
/// header (magic, JSON length, blob length), the JSON, the blob.
fn send_msg(sock: RawFd, head: &[u8], blob: &[u8], fds: &[RawFd]) -> std::io::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(std::io::Error::from_raw_os_error(libc::E2BIG));
    }
    let mut hdr = [0u8; 12];
    hdr[0..4].copy_from_slice(&0x6374_7273u32.to_ne_bytes());
    hdr[4..8].copy_from_slice(&(head.len() as u32).to_ne_bytes());
    hdr[8..12].copy_from_slice(&(blob.len() as u32).to_ne_bytes());
    let parts: [&[u8]; 3] = [&hdr, head, blob];
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut sent = 0usize;
    let mut first = true;
    while sent < total {
        // iovecs of what is left.
        let mut iov: Vec<libc::iovec> = Vec::with_capacity(3);
        let mut skip = sent;
        for p in parts {
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            iov.push(libc::iovec {
                iov_base: p[skip..].as_ptr() as *mut libc::c_void,
                iov_len: p.len() - skip,
            });
            skip = 0;
        }
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len() as _;
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of_val(fds) as u32) } as usize;
        let mut cbuf = vec![0u64; space.div_ceil(8)];
        if first && !fds.is_empty() {
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = space as _;
            unsafe {
                let c = libc::CMSG_FIRSTHDR(&msg);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as _;
                std::ptr::copy_nonoverlapping(
                    fds.as_ptr(),
                    libc::CMSG_DATA(c) as *mut RawFd,
                    fds.len(),
                );
            }
        }
        let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        first = false;
        sent += n as usize;
    }
    Ok(())
}

fn read_exact(sock: RawFd, buf: &mut [u8]) -> std::io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let n = unsafe { libc::read(sock, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got += n as usize;
    }
    Ok(())
}

/// One message: JSON, blob and the fds that came with it (close-on-exec).
/// `Ok(None)` at end of file before a message.
type Msg = (Vec<u8>, Vec<u8>, Vec<OwnedFd>);

fn recv_msg(sock: RawFd) -> std::io::Result<Option<Msg>> {
    let mut hdr = [0u8; 12];
    let mut iov = libc::iovec {
        iov_base: hdr.as_mut_ptr().cast(),
        iov_len: hdr.len(),
    };
    let space =
        unsafe { libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<RawFd>()) as u32) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    let n = loop {
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        break n as usize;
    };
    let mut fds = Vec::new();
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let p = libc::CMSG_DATA(c) as *const RawFd;
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(*p.add(i)));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if n == 0 {
        return Ok(None);
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return Err(std::io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    read_exact(sock, &mut hdr[n..])?;
    let word = |i: usize| u32::from_ne_bytes(hdr[i * 4..i * 4 + 4].try_into().unwrap());
    if word(0) != 0x6374_7273 {
        return Err(std::io::Error::from_raw_os_error(libc::EPROTO));
    }
    let mut head = vec![0u8; word(1) as usize];
    read_exact(sock, &mut head)?;
    let mut blob = vec![0u8; word(2) as usize];
    read_exact(sock, &mut blob)?;
    Ok(Some((head, blob, fds)))
}

/// What a client asks.
#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    /// The options, every fd replaced by its index among the fds sent, the
    /// seccomp program apart (the blob).
    opts: SpawnOptions,
    /// The client's cwd: relative paths of the options resolve there, and
    /// it is the child's cwd where the options give none.
    cwd: String,
    /// The client's pid.
    pid: i32,
    /// (dev, ino) of the client's `/proc/self/exe` when `refuse_own_exe`.
    own_exe: Option<(u64, u64)>,
}

/// What the spawner answers.
#[derive(serde::Serialize, serde::Deserialize)]
enum Reply {
    Ok(ChildMeta),
    Err(Error),
}

/// Replace every fd of `opts` by an index into the returned list.
fn take_fds(opts: &mut SpawnOptions) -> Vec<RawFd> {
    let mut fds = Vec::new();
    let mut index = |fd: &mut RawFd| {
        fds.push(*fd);
        *fd = (fds.len() - 1) as RawFd;
    };
    if opts.io.console.is_none() {
        for s in opts.io.stdio.iter_mut() {
            if let Stdio::Fd(fd) = s {
                index(fd);
            }
        }
    }
    for fd in opts.io.extra_fds.iter_mut() {
        index(fd);
    }
    if let Some(c) = opts.io.console.as_mut() {
        if let crate::ConsoleSocket::Fd(fd) = &mut c.socket {
            index(fd);
        }
    }
    fds
}

/// The inverse of [`take_fds`] in the spawner: indices to received fds.
fn put_fds(opts: &mut SpawnOptions, fds: &[OwnedFd]) -> Result<(), Error> {
    let bad = || spawn_error("spawner: an fd index out of range");
    let get = |fd: &mut RawFd| -> Result<(), Error> {
        *fd = fds.get(*fd as usize).ok_or_else(bad)?.as_raw_fd();
        Ok(())
    };
    if opts.io.console.is_none() {
        for s in opts.io.stdio.iter_mut() {
            if let Stdio::Fd(fd) = s {
                get(fd)?;
            }
        }
    }
    for fd in opts.io.extra_fds.iter_mut() {
        get(fd)?;
    }
    if let Some(c) = opts.io.console.as_mut() {
        if let crate::ConsoleSocket::Fd(fd) = &mut c.socket {
            get(fd)?;
        }
    }
    Ok(())
}

/// (dev, ino) of `/proc/self/exe` (read once per process).
fn own_exe() -> Option<(u64, u64)> {
    crate::plan::own_exe_id().ok()
}

/// [`crate::spawn`] through the spawner (started here on first use).
pub fn spawn(opts: &SpawnOptions) -> Result<Child, Error> {
    let program = PROGRAM
        .lock()
        .unwrap()
        .clone()
        .ok_or_else(|| spawn_error("spawner: not enabled"))?;
    let mut wire = opts.clone();
    let seccomp = wire.security.seccomp.take().unwrap_or_default();
    let fds = take_fds(&mut wire);
    // Checked here, as the fork path does, so a closed fd is named as the
    // caller's option and not as a failed sendmsg.
    for (i, s) in opts.io.stdio.iter().enumerate() {
        if let (Stdio::Fd(fd), None) = (s, &opts.io.console) {
            if unsafe { libc::fcntl(*fd, libc::F_GETFD) } < 0 {
                return Err(Error::sys(
                    Code::InvalidOption,
                    "fcntl",
                    crate::sys::errno(),
                    format!("stdio[{i}]: fd {fd} is not open"),
                )
                .with_field(format!("stdio[{i}]")));
            }
        }
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
    if let Some(crate::Console {
        socket: crate::ConsoleSocket::Fd(fd),
        ..
    }) = opts.io.console
    {
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Error::sys(
                Code::InvalidOption,
                "fcntl",
                crate::sys::errno(),
                format!("console socket fd {fd} is not open"),
            )
            .with_field("console.socket"));
        }
    }
    let cwd = std::env::current_dir()
        .map_err(|e| io_error(e, "read the current directory"))?
        .to_string_lossy()
        .into_owned();
    let req = Request {
        opts: wire,
        cwd,
        pid: std::process::id() as i32,
        own_exe: if opts.process.refuse_own_exe {
            own_exe()
        } else {
            None
        },
    };
    let head = serde_json::to_vec(&req).map_err(|e| spawn_error(format!("spawner: {e}")))?;

    let c = checkout(&program)?;
    let res = send_msg(c.sock.as_raw_fd(), &head, &seccomp, &fds)
        .and_then(|()| recv_msg(c.sock.as_raw_fd()));
    let (reply, _, got) = match res {
        Ok(Some(m)) => m,
        Ok(None) => {
            discard(c);
            return Err(spawn_error(
                "spawner: it exited before answering (a new one starts on the next spawn)",
            ));
        }
        Err(e) => {
            discard(c);
            return Err(io_error(e, "talk to the spawner"));
        }
    };
    checkin(c);
    match serde_json::from_slice::<Reply>(&reply) {
        Ok(Reply::Ok(meta)) => Child::from_wire(meta, got),
        Ok(Reply::Err(e)) => Err(e),
        Err(e) => Err(spawn_error(format!(
            "spawner: a reply that does not parse: {e}"
        ))),
    }
}

// ---- the spawner's side ---------------------------------------------------

/// The spawner's `main`: call it when `argv[1]` is [`ARG`] (`args` is
/// `argv` without `argv[0]`), and exit with what it returns. It serves the
/// socket on fd 3 until end of file, and dies with the process that
/// started it.
pub fn serve_main(args: &[String]) -> i32 {
    let parent: i32 = match args {
        [a, pid] if a == ARG => match pid.parse() {
            Ok(p) => p,
            Err(_) => return 126,
        },
        _ => return 126,
    };
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        libc::prctl(libc::PR_SET_NAME, SPAWNER_NAME.as_ptr());
        // Non-dumpable as root: no process of the caller's uid may ptrace
        // it or read its memory, and a vfork-style child, which shares that
        // memory until it execs the helper, changes nothing by changing
        // its credentials (see `Prepared::vfork_blockers_for`). Not for an
        // unprivileged caller: its children inherit the flag, and the
        // caller writes their id maps, which needs them dumpable.
        if libc::geteuid() == 0 && libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 {
            NON_DUMPABLE.store(true, Ordering::Relaxed);
        }
        if libc::getppid() != parent {
            return 0; // the parent is gone already
        }
        let mut ty: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        if libc::getsockopt(
            SOCKET_FD,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        ) < 0
        {
            return 126; // not started by `launch`
        }
        libc::fcntl(SOCKET_FD, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    // Its actions are those an exec leaves (ignored ones) and Rust's own
    // (SIGPIPE ignored, SIGSEGV/SIGBUS caught): a child resets just those,
    // not all 62 (one system call each).
    CHILD_RESET_SIGNALS.store(crate::child::non_default_signals(), Ordering::Relaxed);
    let mut cwd = String::new();
    loop {
        let (head, blob, fds) = match recv_msg(SOCKET_FD) {
            Ok(Some(m)) => m,
            Ok(None) => return 0,
            Err(_) => return 1,
        };
        let (reply, out) = match serve_one(&head, blob, &fds, &mut cwd) {
            Ok(child) => {
                let (meta, out) = child.into_wire();
                (Reply::Ok(meta), out)
            }
            Err(e) => (Reply::Err(e), Vec::new()),
        };
        let Ok(bytes) = serde_json::to_vec(&reply) else {
            return 1;
        };
        let raw: Vec<RawFd> = out.iter().map(|f| f.as_raw_fd()).collect();
        if send_msg(SOCKET_FD, &bytes, &[], &raw).is_err() {
            return 1;
        }
        // The spawner keeps nothing of a child (consecutive fds in one call).
        crate::sys::close_all(out.into_iter().chain(fds));
    }
}

fn serve_one(
    head: &[u8],
    blob: Vec<u8>,
    fds: &[OwnedFd],
    cwd: &mut String,
) -> Result<Child, Error> {
    let req: Request =
        serde_json::from_slice(head).map_err(|e| spawn_error(format!("spawner: {e}")))?;
    let mut opts = req.opts;
    put_fds(&mut opts, fds)?;
    if !blob.is_empty() {
        opts.security.seccomp = Some(blob);
    }
    if *cwd != req.cwd {
        std::env::set_current_dir(&req.cwd).map_err(|e| {
            Error::io(
                Code::Spawn,
                "chdir",
                &e,
                format!("spawner: chdir to the caller's directory {}", req.cwd),
            )
            .with_path(&req.cwd)
        })?;
        *cwd = req.cwd;
    }
    // A child copies the `comm` of its parent at the clone: named apart
    // from the spawner, `ps` (and a test's count of its children) tells
    // them apart.
    unsafe { libc::prctl(libc::PR_SET_NAME, CHILD_NAME.as_ptr()) };
    crate::spawn::mark_spawner();
    let child = crate::spawn::spawn_from(
        &opts,
        Some(OnBehalf {
            pid: req.pid,
            own_exe: req.own_exe,
        }),
    );
    unsafe { libc::prctl(libc::PR_SET_NAME, SPAWNER_NAME.as_ptr()) };
    child
}
