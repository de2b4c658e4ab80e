//! The child side of spawn: runs between `clone3` and `execve`.
//!
//! Only raw system calls here (see the crate docs on fork safety). A failed
//! step is written to the status pipe as `[ERROR, step, errno]` and the
//! child exits; a successful `execve` closes the pipe (close-on-exec), which
//! the parent reads as end of file.
// `MS_*` and `CLONE_*` constants are `c_ulong`/`c_int` depending on the
// target: the casts to u64 are kept for portability.
#![allow(clippy::unnecessary_cast)]

use crate::kinds::NamespaceKind;
use crate::plan::Prepared;
use crate::sys::{errno, CLOSE_RANGE_CLOEXEC};
use std::os::fd::{AsRawFd, RawFd};

/// Message kinds on the status pipe (child to parent).
pub const MSG_HELD: u32 = 1;
/// A step failed; step and errno follow.
pub const MSG_ERROR: u32 = 2;
/// The seccomp filter is installed; the third word is the listener fd
/// number in the child, which waits for one byte on the gate after it.
pub const MSG_LISTENER: u32 = 3;
/// The user namespace exists: the parent writes the id maps, then writes
/// one byte on the gate.
pub const MSG_SETUP: u32 = 4;
/// The child opened the exec FIFO and is about to block on it (the last
/// step before exec; see `LifecycleOptions::exec_fifo`).
pub const MSG_EXEC_FIFO: u32 = 5;
/// The child is stopped right before `pivot_root`; the parent writes one
/// byte on the gate to let it go on.
pub const MSG_PRE_PIVOT: u32 = 6;
/// The most fds passed beyond stdio.
pub const MAX_EXTRA_FDS: usize = 64;

/// Size of one status message: kind, step, errno, detail (u32 each).
pub const MSG_LEN: usize = 16;

/// The step of child setup that failed, as reported to the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    /// Resetting signal dispositions and mask.
    Signals = 1,
    /// `prctl(PR_SET_PDEATHSIG)`.
    ParentDeathSignal,
    /// `setsid`.
    Setsid,
    /// `sethostname`.
    Hostname,
    /// Making `/` private in the new mount namespace.
    MountPrivate,
    /// Mounting `/proc`.
    MountProc,
    /// Wiring stdin/stdout/stderr.
    Stdio,
    /// Closing inherited file descriptors.
    CloseFds,
    /// `chdir` to the working directory.
    Chdir,
    /// Waiting at the create/start gate.
    Gate,
    /// `execve`.
    Exec,
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    NoNewPrivs,
    /// `seccomp(SECCOMP_SET_MODE_FILTER)`.
    Seccomp,
    /// Waiting for the parent to take the seccomp listener fd.
    SeccompListener,
    /// `setns` into a joined namespace (detail: index in the joins).
    Join,
    /// `unshare(CLONE_NEWUSER)`.
    UnshareUser,
    /// Waiting for the parent to write id maps.
    ParentSetup,
    /// `setresgid`/`setresuid` to 0 in the new user namespace.
    BecomeRoot,
    /// `unshare` of the new namespaces after the joins.
    Unshare,
    /// `setdomainname`.
    Domainname,
    /// Writing `/proc/self/timens_offsets`.
    TimeOffsets,
    /// Writing `/proc/self/oom_score_adj`.
    OomScoreAdj,
    /// A rootfs op (detail: op index << 8 | syscall).
    Rootfs,
    /// `prlimit64` (detail: index in the rlimits).
    Rlimit,
    /// `setgroups`.
    Setgroups,
    /// `setresgid`.
    Setgid,
    /// `setresuid`.
    Setuid,
    /// Dropping from the bounding set (detail: capability).
    CapBounding,
    /// `capset`.
    Capset,
    /// Raising an ambient capability (detail: capability).
    CapAmbient,
    /// `prctl(PR_SET_KEEPCAPS)`.
    KeepCaps,
    /// `prctl(PR_SET_DUMPABLE)`.
    Dumpable,
    /// `setns` into the new time namespace (`/proc/self/ns/time_for_children`).
    EnterTime,
    /// The exec FIFO (detail: 0 open `O_PATH`, 1 reopen for writing, 2 write).
    ExecFifo,
    /// Waiting for the parent at the pre-pivot sync point.
    PrePivot,
    /// Writing a sysctl (detail: index).
    Sysctl,
    /// `personality(2)`.
    Personality,
    /// `ioprio_set(2)`.
    IoPriority,
    /// Setting up the pty (detail: [`crate::console::Sub`]).
    Console,
    /// `set_mempolicy(2)`.
    MemoryPolicy,
    /// `sched_setattr(2)`.
    Scheduler,
    /// `sched_setaffinity(2)`.
    Affinity,
    /// `ioctl(SIOCSIFFLAGS)` bringing `lo` up.
    LoopbackUp,
    /// Moving itself into a cgroup (detail: index in
    /// [`ChildFds::cgroup_joins`]).
    CgroupJoin,
}

impl Step {
    /// The step for a number read from the pipe.
    pub fn from_u32(n: u32) -> Option<Step> {
        use Step::*;
        [
            Signals,
            ParentDeathSignal,
            Setsid,
            Hostname,
            MountPrivate,
            MountProc,
            Stdio,
            CloseFds,
            Chdir,
            Gate,
            Exec,
            NoNewPrivs,
            Seccomp,
            SeccompListener,
            Join,
            UnshareUser,
            ParentSetup,
            BecomeRoot,
            Unshare,
            Domainname,
            TimeOffsets,
            OomScoreAdj,
            Rootfs,
            Rlimit,
            Setgroups,
            Setgid,
            Setuid,
            CapBounding,
            Capset,
            CapAmbient,
            KeepCaps,
            Dumpable,
            EnterTime,
            ExecFifo,
            PrePivot,
            Sysctl,
            Personality,
            IoPriority,
            Console,
            MemoryPolicy,
            Scheduler,
            Affinity,
            LoopbackUp,
            CgroupJoin,
        ]
        .into_iter()
        .find(|s| *s as u32 == n)
    }

    /// Short name used in error messages and the `syscall` field.
    pub fn name(self) -> &'static str {
        match self {
            Step::Signals => "sigaction",
            Step::ParentDeathSignal => "prctl",
            Step::Setsid => "setsid",
            Step::Hostname => "sethostname",
            Step::MountPrivate => "mount",
            Step::MountProc => "mount",
            Step::Stdio => "dup2",
            Step::CloseFds => "close_range",
            Step::Chdir => "chdir",
            Step::Gate => "read",
            Step::Exec => "execve",
            Step::NoNewPrivs => "prctl",
            Step::Seccomp => "seccomp",
            Step::SeccompListener => "read",
            Step::Join => "setns",
            Step::UnshareUser => "unshare",
            Step::ParentSetup => "read",
            Step::BecomeRoot => "setresuid",
            Step::Unshare => "unshare",
            Step::Domainname => "setdomainname",
            Step::TimeOffsets => "write",
            Step::OomScoreAdj => "write",
            Step::Rootfs => "mount",
            Step::Rlimit => "prlimit64",
            Step::Setgroups => "setgroups",
            Step::Setgid => "setresgid",
            Step::Setuid => "setresuid",
            Step::CapBounding => "prctl",
            Step::Capset => "capset",
            Step::CapAmbient => "prctl",
            Step::KeepCaps => "prctl",
            Step::Dumpable => "prctl",
            Step::EnterTime => "setns",
            Step::ExecFifo => "open",
            Step::PrePivot => "read",
            Step::Sysctl => "write",
            Step::Personality => "personality",
            Step::IoPriority => "ioprio_set",
            Step::Console => "ioctl",
            Step::MemoryPolicy => "set_mempolicy",
            Step::Scheduler => "sched_setattr",
            Step::Affinity => "sched_setaffinity",
            Step::LoopbackUp => "ioctl",
            Step::CgroupJoin => "write",
        }
    }
}

/// File descriptors the child works with, all numbers fixed before clone.
pub struct ChildFds {
    /// Write end of the status pipe.
    pub status: RawFd,
    /// Read end of the gate pipe, or -1.
    pub gate: RawFd,
    /// Sources for fds 0, 1, 2.
    pub stdio: [RawFd; 3],
    /// Parent fds that become 3, 4, ... in the child (at most [`MAX_EXTRA_FDS`]).
    pub extra: Vec<RawFd>,
    /// The child shares the parent's memory (vfork-style): leave mm-wide
    /// state such as the dumpable flag alone.
    pub vfork: bool,
    /// Every fd above 2 the child needs until exec, sorted ascending; all
    /// others are closed first thing (see [`close_inherited`]).
    pub keep: Vec<RawFd>,
    /// Cgroup files the child moves itself into first thing, by writing
    /// "0" (itself): a v1 hierarchy's `tasks` file, or `cgroup.procs` of a
    /// cgroup2 directory not joined by `CLONE_INTO_CGROUP`. Opened by the
    /// parent (the kernel checks the opener's credentials); closed by
    /// [`close_inherited`] right after the moves.
    pub cgroup_joins: Vec<RawFd>,
    /// With an early exec of the helper and a v1 memory hierarchy (see
    /// [`crate::CallerMemoryCgroup`]): the container's memory `tasks` file
    /// (one of `cgroup_joins`, kept open for the helper) ...
    pub memcg_join: RawFd,
    /// ... its index in `cgroup_joins`, for the helper's error report ...
    pub memcg_join_index: u32,
    /// ... and the caller's memory `tasks` file, which the child moves back
    /// to for the helper's exec. -1 when not used.
    pub memcg_home: RawFd,
    /// The signals whose action the child sets back to the default (bit
    /// `n - 1` for signal `n`): every one unless the parent knows which of
    /// its own actions are not the default (see [`non_default_signals`]).
    pub reset_signals: u64,
}

impl ChildFds {
    /// Build the fd set, computing the sorted keep list (in the parent).
    pub fn new(status: RawFd, gate: RawFd, stdio: [RawFd; 3], extra: &[RawFd]) -> ChildFds {
        let mut keep: Vec<RawFd> = [status, gate, stdio[0], stdio[1], stdio[2]]
            .into_iter()
            .chain(extra.iter().copied())
            .filter(|fd| *fd > 2)
            .collect();
        keep.sort_unstable();
        keep.dedup();
        ChildFds {
            status,
            gate,
            stdio,
            keep,
            extra: Vec::new(),
            vfork: false,
            cgroup_joins: Vec::new(),
            memcg_join: -1,
            memcg_join_index: 0,
            memcg_home: -1,
            reset_signals: u64::MAX,
        }
    }

    /// Keep `fd` open through [`close_inherited`] too.
    pub fn keep_also(&mut self, fd: RawFd) {
        if fd > 2 {
            if let Err(at) = self.keep.binary_search(&fd) {
                self.keep.insert(at, fd);
            }
        }
    }
}

unsafe fn close_range(first: u32, last: u32) {
    if libc::syscall(libc::SYS_close_range, first, last, 0u32) < 0 {
        let last = last.min(65535);
        for fd in first..=last {
            libc::close(fd as RawFd);
        }
    }
}

/// Close every fd the child inherited but does not need. The child holds
/// copies of all the parent's fds, among them the pipe ends of *other*
/// children being spawned; a held child keeping those open would stop the
/// parent from ever seeing end-of-file on them.
unsafe fn close_inherited(fds: &ChildFds) {
    let mut next: u32 = 3;
    for &fd in fds.keep.iter() {
        let fd = fd as u32;
        if fd > next {
            close_range(next, fd - 1);
        }
        next = fd + 1;
    }
    close_range(next, u32::MAX);
}

/// Read one byte from the gate; false on end of file (the parent gave up).
unsafe fn wait_gate(gate: RawFd) -> bool {
    let mut byte = 0u8;
    loop {
        let n = libc::read(gate, (&mut byte as *mut u8).cast(), 1);
        if n == 1 {
            return true;
        }
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        return false;
    }
}

unsafe fn report(fd: RawFd, kind: u32, step: Step, err: i32) {
    report_detail(fd, kind, step, err, 0)
}

unsafe fn report_detail(fd: RawFd, kind: u32, step: Step, err: i32, detail: u32) {
    let mut msg = [0u8; MSG_LEN];
    msg[0..4].copy_from_slice(&kind.to_ne_bytes());
    msg[4..8].copy_from_slice(&(step as u32).to_ne_bytes());
    msg[8..12].copy_from_slice(&(err as u32).to_ne_bytes());
    msg[12..16].copy_from_slice(&detail.to_ne_bytes());
    libc::write(fd, msg.as_ptr().cast(), msg.len());
}

unsafe fn fail(fds: &ChildFds, step: Step, err: i32) -> ! {
    fail_detail(fds, step, err, 0)
}

unsafe fn fail_detail(fds: &ChildFds, step: Step, err: i32, detail: u32) -> ! {
    report_detail(fds.status, MSG_ERROR, step, err, detail);
    libc::_exit(127)
}

/// Write `data` to a file (one write), for /proc knobs.
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> i32 {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return errno();
    }
    let n = libc::write(fd, data.as_ptr().cast(), data.len());
    let e = if n < 0 { errno() } else { 0 };
    libc::close(fd);
    e
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

macro_rules! check {
    ($fds:expr, $step:expr, $call:expr) => {
        if $call < 0 {
            fail($fds, $step, errno());
        }
    };
}

/// The kernel's `struct sigaction` (what `SYS_rt_sigaction` takes).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The signals whose action in this process is not the default (caught or
/// ignored), as a [`ChildFds::reset_signals`] mask. Only exact for a
/// process that never changes its actions afterwards (the spawner, which
/// asks once at start): Node installs handlers whenever a script asks.
pub fn non_default_signals() -> u64 {
    let mut mask = 0u64;
    for sig in 1..65 {
        let mut old = KernelSigaction {
            handler: libc::SIG_DFL,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        // SAFETY: a query (no new action) into a struct of the kernel's layout.
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                0usize,
                &mut old as *mut KernelSigaction,
                8usize,
            )
        };
        if r == 0 && old.handler != libc::SIG_DFL {
            mask |= 1 << (sig - 1);
        }
    }
    mask
}

/// Set the signals of `mask` back to their default action (Node ignores
/// SIGPIPE, and its handlers must never run in the child). Caught handlers
/// would be reset by `execve` anyway, but signals are unblocked before it;
/// ignored ones survive `execve`, and a container starts with none.
unsafe fn reset_signals(mask: u64) {
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..65 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP || mask & (1 << (sig - 1)) == 0 {
            continue;
        }
        // Errors (invalid signal numbers) are expected and harmless.
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &dfl as *const KernelSigaction,
            0usize,
            8usize,
        );
    }
}

unsafe fn unblock_signals() -> libc::c_long {
    let empty: u64 = 0;
    libc::syscall(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &empty as *const u64,
        0usize,
        8usize,
    )
}

/// Install the seccomp filter and, with a listener, hand it to the parent.
unsafe fn install_seccomp(p: &Prepared, fds: &ChildFds) {
    let Some(prog) = &p.seccomp else { return };
    if p.seccomp_listener && p.dumpable_for_listener {
        // pidfd_getfd needs ptrace access, which a non-root parent only
        // has to a dumpable child.
        check!(
            fds,
            Step::Dumpable,
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0)
        );
    }
    let rc = libc::syscall(
        libc::SYS_seccomp,
        libc::SECCOMP_SET_MODE_FILTER,
        p.seccomp_flags as libc::c_ulong,
        prog as *const libc::sock_fprog,
    );
    if rc < 0 {
        fail(fds, Step::Seccomp, errno());
    }
    if p.seccomp_listener {
        // The parent copies the fd with pidfd_getfd and acks on the gate.
        // The child's copy is close-on-exec (the kernel makes it so).
        report(fds.status, MSG_LISTENER, Step::SeccompListener, rc as i32);
        if !wait_gate(fds.gate) {
            libc::_exit(1);
        }
    }
}

/// Join the namespaces the runc way: everything but the user namespace
/// first (while we still have the caller's privileges), then the user
/// namespace, then again whatever was refused for lack of privilege (a
/// namespace owned by the joined user namespace).
unsafe fn join_namespaces(p: &Prepared, fds: &ChildFds) {
    let mut pending = [false; 16];
    for (i, j) in p.joins.iter().enumerate() {
        if j.kind == NamespaceKind::User {
            continue;
        }
        if libc::setns(j.fd.as_raw_fd(), j.kind.clone_flag() as i32) < 0 {
            let e = errno();
            if e == libc::EPERM && i < pending.len() {
                pending[i] = true;
            } else {
                fail_detail(fds, Step::Join, e, i as u32);
            }
        }
    }
    for (i, j) in p.joins.iter().enumerate() {
        if j.kind == NamespaceKind::User && libc::setns(j.fd.as_raw_fd(), libc::CLONE_NEWUSER) < 0 {
            fail_detail(fds, Step::Join, errno(), i as u32);
        }
    }
    for (i, j) in p.joins.iter().enumerate() {
        if i < pending.len()
            && pending[i]
            && libc::setns(j.fd.as_raw_fd(), j.kind.clone_flag() as i32) < 0
        {
            fail_detail(fds, Step::Join, errno(), i as u32);
        }
    }
    for j in p.joins.iter() {
        libc::close(j.fd.as_raw_fd());
    }
}

/// Capabilities and credentials, in runc's order: bounding set (needs
/// CAP_SETPCAP), keep caps across the uid change, groups, gid, uid, then
/// the exact sets and the ambient ones.
unsafe fn apply_creds(p: &Prepared, fds: &ChildFds) {
    if let Some(caps) = &p.caps {
        for cap in 0..=p.last_cap.min(63) {
            if caps.bounding & (1u64 << cap) == 0
                && libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) == 1
                && libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) < 0
            {
                fail_detail(fds, Step::CapBounding, errno(), cap);
            }
        }
        check!(
            fds,
            Step::KeepCaps,
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0)
        );
    }
    if let Some(groups) = &p.groups {
        check!(
            fds,
            Step::Setgroups,
            libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr())
        );
    }
    if let Some((uid, gid)) = p.creds {
        check!(
            fds,
            Step::Setgid,
            libc::syscall(libc::SYS_setresgid, gid, gid, gid)
        );
        check!(
            fds,
            Step::Setuid,
            libc::syscall(libc::SYS_setresuid, uid, uid, uid)
        );
    }
    if let Some(caps) = &p.caps {
        check!(
            fds,
            Step::KeepCaps,
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0)
        );
        let hdr = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [
            CapData {
                effective: caps.effective as u32,
                permitted: caps.permitted as u32,
                inheritable: caps.inheritable as u32,
            },
            CapData {
                effective: (caps.effective >> 32) as u32,
                permitted: (caps.permitted >> 32) as u32,
                inheritable: (caps.inheritable >> 32) as u32,
            },
        ];
        check!(
            fds,
            Step::Capset,
            libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr())
        );
        for cap in 0..=p.last_cap.min(63) {
            if caps.ambient & (1u64 << cap) != 0
                && libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                    cap as libc::c_ulong,
                    0,
                    0,
                ) < 0
            {
                fail_detail(fds, Step::CapAmbient, errno(), cap);
            }
        }
    }
}

/// execvp's lookup without the exec: the first candidate that exists must
/// be an executable regular file, and not the spawning binary itself.
unsafe fn check_program(p: &Prepared, fds: &ChildFds) {
    let mut saved = libc::ENOENT;
    for path in &p.exec_path_ptrs {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::stat(*path, &mut st) < 0 {
            let e = errno();
            if e == libc::EACCES {
                saved = e;
            }
            continue;
        }
        if st.st_mode & libc::S_IFMT != libc::S_IFREG || libc::access(*path, libc::X_OK) < 0 {
            saved = libc::EACCES;
            continue;
        }
        for (dev, ino) in p.own_exe.into_iter().chain(p.spawner_exe) {
            if st.st_dev == dev && st.st_ino == ino {
                fail(fds, Step::Exec, libc::EPERM);
            }
        }
        return;
    }
    fail(fds, Step::Exec, saved)
}

/// Close every fd from `first` up except those in `keep` (-1 entries are
/// ignored): `close_range` over the gaps, one `close` at a time without it.
unsafe fn close_all_but(first: RawFd, keep: &[RawFd; 7]) {
    let mut k = *keep;
    k.sort_unstable();
    let mut next = first as u32;
    for &fd in k.iter() {
        if fd < first {
            continue;
        }
        let fd = fd as u32;
        if fd > next {
            close_range(next, fd - 1);
        }
        next = fd + 1;
    }
    close_range(next, u32::MAX);
}

use crate::syscalls::{OpenHow, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS};

/// Detail of a [`Step::Chdir`] failure: the cwd resolved outside the root.
pub const CHDIR_OUTSIDE_ROOT: u32 = 1;

/// Enter the working directory of a contained process: resolved by
/// `openat2` with `/` as the root (`RESOLVE_IN_ROOT`: `..` and absolute
/// symlinks stay inside) and no magic links (`/proc/self/fd/N`,
/// `/proc/1/cwd`: the CVE-2024-21626 class), then checked with `getcwd`,
/// which the kernel prefixes with "(unreachable)" for a directory outside
/// the root.
unsafe fn enter_cwd_in_root(fds: &ChildFds, cwd: &std::ffi::CStr) {
    let root = libc::open(
        c"/".as_ptr(),
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
    );
    if root < 0 {
        fail(fds, Step::Chdir, errno());
    }
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    let dir = libc::syscall(
        libc::SYS_openat2,
        root,
        cwd.as_ptr(),
        &how as *const OpenHow,
        std::mem::size_of::<OpenHow>(),
    );
    let e = errno();
    libc::close(root);
    if dir < 0 {
        fail(fds, Step::Chdir, e);
    }
    let r = libc::fchdir(dir as RawFd);
    let e = errno();
    libc::close(dir as RawFd);
    if r < 0 {
        fail(fds, Step::Chdir, e);
    }
    let mut buf = [0u8; 4096];
    let n = libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len());
    if n < 0 && errno() != libc::ENAMETOOLONG {
        fail(fds, Step::Chdir, errno());
    }
    if n > 0 && buf[0] != b'/' {
        fail_detail(fds, Step::Chdir, libc::EXDEV, CHDIR_OUTSIDE_ROOT);
    }
}

/// The last step of a contained process: exec the sealed exec helper,
/// which execs the program (see [`crate::exec_helper`]). The status pipe
/// goes along (the helper reports a failed exec on it and makes it
/// close-on-exec); nothing else does.
unsafe fn exec_through_helper(p: &Prepared, fds: &ChildFds) -> ! {
    if p.helper_argv.is_empty() {
        // Prepared::set_status_fd was not called: never exec unprotected.
        fail(fds, Step::Exec, libc::EINVAL);
    }
    if libc::fcntl(fds.status, libc::F_SETFD, 0) < 0 {
        fail(fds, Step::Exec, errno());
    }
    libc::syscall(
        libc::SYS_execveat,
        p.exec_helper,
        c"".as_ptr(),
        p.helper_argv.as_ptr(),
        p.envp.as_ptr(),
        libc::AT_EMPTY_PATH,
    );
    let e = errno();
    libc::fcntl(fds.status, libc::F_SETFD, libc::FD_CLOEXEC);
    fail(fds, Step::Exec, e)
}

/// Exec the helper with the waits for `start` still to make
/// ([`Prepared::exec_early`]): the FIFO, the /proc to reach it and the gate
/// stay open across this exec for the helper, which makes the waits as
/// [`exec_fifo_gate`] and the hold below would, then closes them.
unsafe fn exec_helper_early(
    p: &Prepared,
    fds: &ChildFds,
    fifo_fd: RawFd,
    proc_fd: RawFd,
    memcg: &MemcgHandoff,
) -> ! {
    let gate = if p.hold { fds.gate } else { -1 };
    for fd in [fifo_fd, proc_fd, gate, memcg.join] {
        if fd >= 0 && libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
            fail(fds, Step::Exec, errno());
        }
    }
    p.helper_gates
        .set(fifo_fd, proc_fd, gate, memcg.join, memcg.index);
    // The helper's address space is the runtime's, not the container's:
    // made while in the caller's memory cgroup, it is charged there (the
    // helper moves back before it reports). Should the kernel refuse the
    // move, it is charged to the container as before; nothing else changes.
    if memcg.join >= 0 && memcg.home >= 0 {
        libc::write(memcg.home, c"0".as_ptr().cast(), 1);
    }
    exec_through_helper(p, fds)
}

/// The memory cgroup files of an early exec (see
/// [`crate::CallerMemoryCgroup`]), moved above the stdio range; -1: none.
struct MemcgHandoff {
    join: RawFd,
    index: u32,
    home: RawFd,
}

/// A copy of `fd` above the range stdio and the passed fds are moved into
/// (close-on-exec), the original closed; -1 for -1 or when out of fds
/// (then the handoff is skipped, not the spawn).
unsafe fn above_stdio(fd: RawFd) -> RawFd {
    if fd < 0 {
        return -1;
    }
    let high = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, (3 + MAX_EXTRA_FDS) as RawFd);
    libc::close(fd);
    if high < 0 {
        -1
    } else {
        high
    }
}

/// Stop at the pre-pivot sync point until the parent writes a byte.
unsafe fn pre_pivot_sync(fds: &ChildFds) {
    report(fds.status, MSG_PRE_PIVOT, Step::PrePivot, 0);
    if !wait_gate(fds.gate) {
        // The parent gave up (or failed a hook): stop without exec'ing.
        libc::_exit(1);
    }
}

/// Tell the parent we are at the exec FIFO, then block until a reader
/// opens it and hand it one byte.
unsafe fn exec_fifo_gate(fds: &ChildFds, fifo_fd: RawFd, proc_fd: RawFd) {
    report(fds.status, MSG_EXEC_FIFO, Step::ExecFifo, 0);
    let mut buf = [0u8; 32];
    // "/proc/self/fd/N", or "self/fd/N" beneath the spawner's /proc.
    let path = crate::syscalls::fd_path(fifo_fd, &mut buf);
    let (dir, path) = if proc_fd >= 0 {
        (proc_fd, path.add(6))
    } else {
        (libc::AT_FDCWD, path)
    };
    let fd = loop {
        let fd = libc::openat(dir, path, libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 && errno() == libc::EINTR {
            continue;
        }
        break fd;
    };
    if fd < 0 {
        fail_detail(fds, Step::ExecFifo, errno(), 1);
    }
    if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
        fail_detail(fds, Step::ExecFifo, errno(), 2);
    }
    // The write end stays open (O_CLOEXEC) until execve: the reader sees
    // end-of-file exactly when the program runs (or the child died), so a
    // `start` that waits for it returns with the program really started.
    libc::close(fifo_fd);
    if proc_fd >= 0 {
        libc::close(proc_fd);
    }
}

/// Set `IFF_UP` on `lo` of the (new) network namespace: raw syscalls on a
/// stack `ifreq`.
unsafe fn loopback_up(fds: &ChildFds) {
    let mut ifr: libc::ifreq = std::mem::zeroed();
    ifr.ifr_name[0] = b'l' as libc::c_char;
    ifr.ifr_name[1] = b'o' as libc::c_char;
    let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if s < 0 {
        fail(fds, Step::LoopbackUp, errno());
    }
    if libc::ioctl(s, libc::SIOCGIFFLAGS, &mut ifr) < 0 {
        fail(fds, Step::LoopbackUp, errno());
    }
    ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
    if libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr) < 0 {
        fail(fds, Step::LoopbackUp, errno());
    }
    libc::close(s);
}

/// Move this child into its cgroups, before anything else (its cgroup
/// namespace, if any, is unshared later and so rooted at these cgroups).
///
/// The child writes "0" to a v1 `tasks` file: a single thread moving
/// itself, for which the kernel skips `cgroup_threadgroup_rwsem`
/// (`cgroup_procs_write_start`, Linux 6.1 and later). A parent writing the
/// child's pid to `cgroup.procs` takes that per-cpu rwsem for writing, whose
/// first writer of a burst waits for an RCU grace period (~7-12 ms on a
/// 2-cpu host). The child has one thread (clone3 without `CLONE_THREAD`), so
/// moving that thread moves the process.
unsafe fn join_cgroups(fds: &ChildFds) {
    for (i, &fd) in fds.cgroup_joins.iter().enumerate() {
        if libc::write(fd, c"0".as_ptr().cast(), 1) != 1 {
            fail_detail(fds, Step::CgroupJoin, errno(), i as u32);
        }
    }
}

/// Run the prepared plan in the child and exec. Never returns.
///
/// # Safety
/// Call only in the child of [`crate::sys::clone3`]; `p` and `fds` must have
/// been fully built before the clone.
pub unsafe fn child_main(p: &Prepared, fds: &ChildFds) -> ! {
    join_cgroups(fds);
    close_inherited(fds);
    reset_signals(fds.reset_signals);
    if let Some(set) = &p.initial_affinity {
        // The setup (namespace joins, mounts) runs on these cpus; set after
        // the cgroup moves (a cpuset attach resets the affinity to the
        // cpuset's cpus); the final mask comes before exec.
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) < 0 {
            fail_detail(fds, Step::Affinity, errno(), 0);
        }
    }
    // Non-dumpable until exec: no ptrace, no /proc/PID/mem or fd access by
    // other processes of the same uid (the runc /proc/self/exe escapes);
    // exec restores it for an ordinary binary.
    // A non-root parent's newuidmap checks the owner of /proc/PID, which
    // is root for a non-dumpable process: stay dumpable until the maps.
    let late_nondumpable = p.parent_setup && p.dumpable_for_listener;
    if !late_nondumpable && !fds.vfork {
        check!(
            fds,
            Step::Dumpable,
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
        );
    }

    if p.pdeathsig != 0 {
        check!(
            fds,
            Step::ParentDeathSignal,
            libc::prctl(libc::PR_SET_PDEATHSIG, p.pdeathsig as libc::c_ulong)
        );
        // The parent may have died before the prctl (Go checks the same):
        // then the signal never comes. In a new pid namespace getppid is 0.
        let ppid = libc::getppid();
        if ppid != 0 && ppid != p.parent_pid {
            libc::_exit(1);
        }
    }
    if p.new_session {
        check!(fds, Step::Setsid, libc::setsid());
    }

    if let Some(net) = &p.spare_net {
        // The spawner's spare (see spare_net), entered as clone3 would have
        // made it; should the kernel refuse, the child makes its own.
        let fd = net.as_raw_fd();
        if libc::setns(fd, libc::CLONE_NEWNET) < 0 {
            check!(fds, Step::Unshare, libc::unshare(libc::CLONE_NEWNET));
        }
        libc::close(fd);
    }
    join_namespaces(p, fds);
    if p.unshare_user {
        check!(fds, Step::UnshareUser, libc::unshare(libc::CLONE_NEWUSER));
    }
    if p.parent_setup {
        report(fds.status, MSG_SETUP, Step::ParentSetup, 0);
        if !wait_gate(fds.gate) {
            libc::_exit(1);
        }
        if late_nondumpable {
            check!(
                fds,
                Step::Dumpable,
                libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
            );
        }
    }
    if p.become_root {
        check!(
            fds,
            Step::BecomeRoot,
            libc::syscall(libc::SYS_setresgid, 0, 0, 0)
        );
        check!(
            fds,
            Step::BecomeRoot,
            libc::syscall(libc::SYS_setresuid, 0, 0, 0)
        );
    }
    if p.unshare_flags != 0 {
        check!(fds, Step::Unshare, libc::unshare(p.unshare_flags as i32));
    }
    if let Some(text) = &p.time_offsets {
        let e = write_file(c"/proc/self/timens_offsets", text);
        if e != 0 {
            fail(fds, Step::TimeOffsets, e);
        }
    }
    if p.unshare_flags & crate::kinds::CLONE_NEWTIME != 0 {
        // unshare(CLONE_NEWTIME) only sets the namespace for children: the
        // caller stays in the old one.
        // Kernels that switch at execve (the 6.18 development host) hide
        // this; 6.1 does not switch, and then the exec'd program cannot vfork
        // (EINVAL: a CLONE_VM child may not change time namespace; dash
        // prints "Cannot fork"). Enter it now: the
        // offsets are written, so committing them here is fine, and this
        // clone is single-threaded (never the vfork-style path), which
        // setns into a time namespace requires.
        let fd = libc::open(
            c"/proc/self/ns/time_for_children".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            fail(fds, Step::EnterTime, errno());
        }
        let r = libc::setns(fd, crate::kinds::CLONE_NEWTIME as i32);
        let e = errno();
        libc::close(fd);
        if r != 0 {
            fail(fds, Step::EnterTime, e);
        }
    }
    if let Some(name) = &p.hostname {
        check!(
            fds,
            Step::Hostname,
            libc::sethostname(name.as_ptr().cast(), name.len())
        );
    }
    if p.loopback_up {
        loopback_up(fds);
    }
    if let Some(name) = &p.domainname {
        check!(
            fds,
            Step::Domainname,
            libc::setdomainname(name.as_ptr().cast(), name.len())
        );
    }
    if let Some(text) = &p.oom_score_adj {
        let e = write_file(c"/proc/self/oom_score_adj", text);
        if e != 0 {
            fail(fds, Step::OomScoreAdj, e);
        }
    }
    // The exec FIFO (opened by the parent) goes above the range stdio and
    // the passed fds are moved into, as do the memory cgroup files the
    // helper and its exec use.
    let mut fifo_fd: RawFd = -1;
    let mut proc_fd: RawFd = -1;
    let memcg = MemcgHandoff {
        join: above_stdio(fds.memcg_join),
        index: fds.memcg_join_index,
        home: above_stdio(fds.memcg_home),
    };
    if let Some(f) = &p.exec_fifo {
        fifo_fd = libc::fcntl(
            f.as_raw_fd(),
            libc::F_DUPFD_CLOEXEC,
            (3 + MAX_EXTRA_FDS) as RawFd,
        );
        if fifo_fd < 0 {
            fail_detail(fds, Step::ExecFifo, errno(), 0);
        }
        libc::close(f.as_raw_fd());
        // The /proc we see now (the spawner's), to reopen the FIFO through
        // after the pivot: the container may mount no /proc of its own.
        // Used only by the gate and closed right after it.
        let pfd = libc::open(
            c"/proc".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if pfd >= 0 {
            proc_fd = libc::fcntl(pfd, libc::F_DUPFD_CLOEXEC, (3 + MAX_EXTRA_FDS) as RawFd);
            libc::close(pfd);
        }
    }
    if let Some(plan) = &p.rootfs {
        let pivot = plan.pivot_index();
        if let Err(f) = crate::rootfs::execute_range(plan, &crate::syscalls::Raw, 0, pivot) {
            fail_detail(
                fds,
                Step::Rootfs,
                f.errno,
                ((f.op as u32) << 8) | f.syscall as u32,
            );
        }
        if p.pre_pivot_sync {
            pre_pivot_sync(fds);
        }
        // The first range set the umask to 0 (the program's comes later).
        if let Err(f) =
            crate::rootfs::execute_range_umask_0(plan, &crate::syscalls::Raw, pivot, plan.ops.len())
        {
            fail_detail(
                fds,
                Step::Rootfs,
                f.errno,
                ((f.op as u32) << 8) | f.syscall as u32,
            );
        }
    } else if p.mount_proc {
        // Keep our /proc mount from propagating back to the host.
        check!(
            fds,
            Step::MountPrivate,
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null()
            )
        );
        check!(
            fds,
            Step::MountProc,
            libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null()
            )
        );
    }
    if p.rootfs.is_none() && p.pre_pivot_sync {
        pre_pivot_sync(fds);
    }
    for (i, (path, value)) in p.sysctl.iter().enumerate() {
        let e = write_file(path, value);
        if e != 0 {
            fail_detail(fds, Step::Sysctl, e, i as u32);
        }
    }
    if let Some(per) = p.personality {
        check!(
            fds,
            Step::Personality,
            libc::personality(per as libc::c_ulong)
        );
    }
    if let Some((mode, mask)) = &p.mempolicy {
        // maxnode counts one past the last bit the kernel reads.
        let (ptr, maxnode) = if mask.is_empty() {
            (std::ptr::null(), 0usize)
        } else {
            (mask.as_ptr(), mask.len() * libc::c_ulong::BITS as usize + 1)
        };
        check!(
            fds,
            Step::MemoryPolicy,
            libc::syscall(libc::SYS_set_mempolicy, *mode, ptr, maxnode)
        );
    }
    if let Some(io) = p.io_priority {
        // IOPRIO_WHO_PROCESS, this process.
        check!(
            fds,
            Step::IoPriority,
            libc::syscall(libc::SYS_ioprio_set, 1, 0, io)
        );
    }
    for (i, (res, lim)) in p.rlimits.iter().enumerate() {
        if libc::syscall(
            libc::SYS_prlimit64,
            0,
            *res,
            lim as *const libc::rlimit64,
            0usize,
        ) < 0
        {
            fail_detail(fds, Step::Rlimit, errno(), i as u32);
        }
    }

    // The pty, after the mounts: with a rootfs /dev/ptmx is the
    // container's own devpts instance.
    let mut slave: RawFd = -1;
    if let Some(c) = &p.console {
        match crate::console::setup(c, &crate::console::Raw) {
            Ok(fd) => slave = fd,
            Err((sub, e)) => fail_detail(fds, Step::Console, e, sub as u32),
        }
    }

    let n = 3 + fds.extra.len().min(MAX_EXTRA_FDS);
    let mut high = [-1 as RawFd; 3 + MAX_EXTRA_FDS];
    for (i, slot) in high.iter_mut().enumerate().take(n) {
        *slot = if i < 3 && slave >= 0 {
            slave
        } else if i < 3 {
            fds.stdio[i]
        } else {
            fds.extra[i - 3]
        };
    }
    // Targets are set in order, so a source numbered in the target range
    // that a later target reads would be overwritten by an earlier dup2:
    // then every source moves above the last target first (the copies
    // close-on-exec). Otherwise each goes straight to its target; one
    // that is already its target only loses close-on-exec (dup2 onto
    // itself would keep it).
    let clobbered = (0..n).any(|i| {
        let src = high[i];
        src >= 0 && (src as usize) < i && high[src as usize] != src
    });
    if clobbered {
        for slot in high.iter_mut().take(n) {
            *slot = libc::fcntl(*slot, libc::F_DUPFD_CLOEXEC, n as RawFd);
            check!(fds, Step::Stdio, *slot);
        }
    }
    for (i, &fd) in high.iter().enumerate().take(n) {
        if fd == i as RawFd {
            check!(fds, Step::Stdio, libc::fcntl(fd, libc::F_SETFD, 0));
        } else {
            check!(fds, Step::Stdio, libc::dup2(fd, i as RawFd));
        }
    }

    // Everything but stdio and the passed fds is closed at exec, including
    // the status pipe, whose closing tells the parent the exec succeeded.
    if libc::syscall(
        libc::SYS_close_range,
        n as u32,
        u32::MAX,
        CLOSE_RANGE_CLOEXEC,
    ) < 0
    {
        for fd in n as RawFd..4096 {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }

    // The rootfs plan set umask 0 for its nodes; the program gets its own
    // (or the usual 022).
    if let Some(mask) = p.umask {
        libc::umask(mask);
    } else if p.rootfs.is_some() {
        libc::umask(0o022);
    }

    // Signals back to their defaults and unblocked: from here on a held
    // child can be killed by any signal, like the program it becomes.
    check!(fds, Step::Signals, unblock_signals());

    if p.seccomp_early {
        // Without no_new_privs the filter needs CAP_SYS_ADMIN, which the
        // credential change below may drop: install it first (as runc).
        install_seccomp(p, fds);
    }
    if let Some(attr) = &p.sched {
        // Before the credential change: a real-time policy needs
        // CAP_SYS_NICE, which the container's capabilities may drop.
        check!(
            fds,
            Step::Scheduler,
            libc::syscall(
                libc::SYS_sched_setattr,
                0,
                attr as *const crate::plan::SchedAttr,
                0
            )
        );
    }
    if let Some(set) = &p.affinity {
        // After the moves into our cgroups (a cpuset attach resets the
        // affinity to the cpuset's cpus).
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) < 0 {
            fail_detail(fds, Step::Affinity, errno(), 1);
        }
    }
    apply_creds(p, fds);

    // Nothing but stdio, the passed fds and what the last steps need (the
    // status pipe, the gate, the exec FIFO and the /proc to reach it, the
    // exec helper, all close-on-exec) stays open from here: no runtime fd
    // can be reached through /proc/self/fd by the cwd or the program (the
    // runc CVE-2024-21626 class).
    close_all_but(
        n as RawFd,
        &[
            fds.status,
            fds.gate,
            fifo_fd,
            proc_fd,
            p.exec_helper,
            memcg.join,
            memcg.home,
        ],
    );
    if let Some(cwd) = &p.cwd {
        if p.contained && p.rootfs.is_some() && cwd.to_bytes() == b"/" {
            // The rootfs plan ended in the new root's "/" (its pivot or
            // chroot, then chdir "/"): already there, and inside the root.
            // chdir "." checks what entering it checks (search permission
            // for the new credentials) in one call.
            check!(fds, Step::Chdir, libc::chdir(c".".as_ptr()));
        } else if p.contained {
            enter_cwd_in_root(fds, cwd);
        } else {
            check!(fds, Step::Chdir, libc::chdir(cwd.as_ptr()));
        }
    }

    if p.no_new_privs {
        check!(
            fds,
            Step::NoNewPrivs,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        );
    }
    // The exec FIFO gate comes before the seccomp filter (as in runc), so
    // the filter need not allow its open and write; with a listener the
    // parent that takes it is still there only before the gate.
    let fifo_first = fifo_fd >= 0 && !p.seccomp_listener;
    if fifo_fd >= 0 || p.own_exe.is_some() {
        // Errors that would only show at exec are reported now, while the
        // creating parent still listens (runc's LookPath before the fifo).
        check_program(p, fds);
    }
    if p.exec_early() {
        exec_helper_early(p, fds, fifo_fd, proc_fd, &memcg);
    }
    if fifo_first {
        exec_fifo_gate(fds, fifo_fd, proc_fd);
    }
    // The seccomp filter is the last setup step: after it only the status
    // pipe write, the gate read (with a listener or hold) and execve run,
    // so the filter must allow those (as with runc).
    if !p.seccomp_early {
        install_seccomp(p, fds);
    }
    if fifo_fd >= 0 && !fifo_first {
        exec_fifo_gate(fds, fifo_fd, proc_fd);
    }

    if p.hold {
        report(fds.status, MSG_HELD, Step::Gate, 0);
        if !wait_gate(fds.gate) {
            // The parent closed the gate without releasing: give up quietly.
            libc::_exit(1);
        }
    }

    if p.exec_helper >= 0 {
        exec_through_helper(p, fds);
    }
    // execvp semantics over the prepared candidates: ENOENT/ENOTDIR move on,
    // EACCES is remembered, anything else stops the search.
    let mut saved = libc::ENOENT;
    for path in &p.exec_path_ptrs {
        libc::execve(*path, p.argv.as_ptr(), p.envp.as_ptr());
        let e = errno();
        match e {
            libc::ENOENT | libc::ENOTDIR => {}
            libc::EACCES => saved = libc::EACCES,
            _ => {
                saved = e;
                break;
            }
        }
    }
    fail(fds, Step::Exec, saved)
}
