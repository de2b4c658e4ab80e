//! The child side of spawn: runs between `clone3` and `execve`.
//!
//! Only raw system calls here (see the crate docs on fork safety). A failed
//! step is written to the status pipe as `[ERROR, step, errno]` and the
//! child exits; a successful `execve` closes the pipe (close-on-exec), which
//! the parent reads as end of file.

use crate::plan::Prepared;
use crate::sys::{errno, CLOSE_RANGE_CLOEXEC};
use std::os::fd::RawFd;

/// Message kinds on the status pipe (child to parent).
pub const MSG_HELD: u32 = 1;
/// A step failed; step and errno follow.
pub const MSG_ERROR: u32 = 2;
/// The seccomp filter is installed; the third word is the listener fd
/// number in the child, which waits for one byte on the gate after it.
pub const MSG_LISTENER: u32 = 3;

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
    /// Every fd above 2 the child needs until exec, sorted ascending; all
    /// others are closed first thing (see [`close_inherited`]).
    pub keep: [RawFd; 5],
    /// How many entries of `keep` are used.
    pub keep_len: usize,
}

impl ChildFds {
    /// Build the fd set, computing the sorted keep list (in the parent).
    pub fn new(status: RawFd, gate: RawFd, stdio: [RawFd; 3]) -> ChildFds {
        let mut keep: Vec<RawFd> = [status, gate, stdio[0], stdio[1], stdio[2]].into_iter().filter(|fd| *fd > 2).collect();
        keep.sort_unstable();
        keep.dedup();
        let mut arr = [-1; 5];
        arr[..keep.len()].copy_from_slice(&keep);
        ChildFds { status, gate, stdio, keep: arr, keep_len: keep.len() }
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
    for &fd in &fds.keep[..fds.keep_len] {
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
    let mut msg = [0u8; 12];
    msg[0..4].copy_from_slice(&kind.to_ne_bytes());
    msg[4..8].copy_from_slice(&(step as u32).to_ne_bytes());
    msg[8..12].copy_from_slice(&(err as u32).to_ne_bytes());
    libc::write(fd, msg.as_ptr().cast(), msg.len());
}

unsafe fn fail(fds: &ChildFds, step: Step, err: i32) -> ! {
    report(fds.status, MSG_ERROR, step, err);
    libc::_exit(127)
}

macro_rules! check {
    ($fds:expr, $step:expr, $call:expr) => {
        if $call < 0 {
            fail($fds, $step, errno());
        }
    };
}

/// Reset every signal to its default action (Node ignores SIGPIPE, and its
/// handlers must never run in the child).
unsafe fn reset_signals() {
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let dfl = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
    for sig in 1..65 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // Errors (invalid signal numbers) are expected and harmless.
        libc::syscall(libc::SYS_rt_sigaction, sig, &dfl as *const KernelSigaction, 0usize, 8usize);
    }
}

unsafe fn unblock_signals() -> libc::c_long {
    let empty: u64 = 0;
    libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &empty as *const u64, 0usize, 8usize)
}

/// Run the prepared plan in the child and exec. Never returns.
///
/// # Safety
/// Call only in the child of [`crate::sys::clone3`]; `p` and `fds` must have
/// been fully built before the clone.
pub unsafe fn child_main(p: &Prepared, fds: &ChildFds) -> ! {
    close_inherited(fds);
    reset_signals();

    if p.pdeathsig != 0 {
        check!(fds, Step::ParentDeathSignal, libc::prctl(libc::PR_SET_PDEATHSIG, p.pdeathsig as libc::c_ulong));
    }
    if p.new_session {
        check!(fds, Step::Setsid, libc::setsid());
    }
    if let Some(name) = &p.hostname {
        check!(fds, Step::Hostname, libc::sethostname(name.as_ptr().cast(), name.len()));
    }
    if p.mount_proc {
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

    // Move every stdio source above 2 first so that a source numbered 0-2
    // is not overwritten by an earlier dup2; the copies are close-on-exec.
    let mut high = [-1 as RawFd; 3];
    for i in 0..3 {
        high[i] = libc::fcntl(fds.stdio[i], libc::F_DUPFD_CLOEXEC, 3);
        check!(fds, Step::Stdio, high[i]);
    }
    for i in 0..3 {
        check!(fds, Step::Stdio, libc::dup2(high[i], i as RawFd));
    }

    // Everything but stdio is closed at exec, including the status pipe,
    // whose closing tells the parent the exec succeeded.
    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) < 0 {
        for fd in 3..4096 {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }

    if let Some(cwd) = &p.cwd {
        check!(fds, Step::Chdir, libc::chdir(cwd.as_ptr()));
    }

    // Signals back to their defaults and unblocked: from here on a held
    // child can be killed by any signal, like the program it becomes.
    check!(fds, Step::Signals, unblock_signals());

    if p.no_new_privs {
        check!(fds, Step::NoNewPrivs, libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    }
    // The seccomp filter is the last setup step: after it only the status
    // pipe write, the gate read (with a listener or hold) and execve run,
    // so the filter must allow those (as with runc).
    if let Some(prog) = &p.seccomp {
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
            report(fds.status, MSG_LISTENER, Step::SeccompListener, rc as i32);
            if !wait_gate(fds.gate) {
                libc::_exit(1);
            }
            // The child's copy is close-on-exec (the kernel makes it so).
        }
    }

    if p.hold {
        report(fds.status, MSG_HELD, Step::Gate, 0);
        if !wait_gate(fds.gate) {
            // The parent closed the gate without releasing: give up quietly.
            libc::_exit(1);
        }
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
