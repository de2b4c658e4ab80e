//! Thin wrappers over the system calls the spawn path needs. Everything
//! here that the child calls is async-signal-safe: a raw syscall, no
//! allocation, errno read back from the thread's own slot.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// `struct clone_args` of `clone3(2)` (version 2, with `cgroup`).
#[repr(C)]
#[derive(Default)]
pub struct CloneArgs {
    /// Flags (`CLONE_*`).
    pub flags: u64,
    /// Where the kernel stores the pidfd (`CLONE_PIDFD`).
    pub pidfd: u64,
    /// `CLONE_CHILD_SETTID` target.
    pub child_tid: u64,
    /// `CLONE_PARENT_SETTID` target.
    pub parent_tid: u64,
    /// Signal sent to the parent when the child exits.
    pub exit_signal: u64,
    /// Stack (0: share the copied stack, fork-like).
    pub stack: u64,
    /// Stack size.
    pub stack_size: u64,
    /// TLS.
    pub tls: u64,
    /// `set_tid` array.
    pub set_tid: u64,
    /// Its length.
    pub set_tid_size: u64,
    /// cgroup fd for `CLONE_INTO_CGROUP`.
    pub cgroup: u64,
}

/// `CLONE_PARENT`: the child's parent is the caller's parent.
pub const CLONE_PARENT: u64 = 0x8000;
/// `CLONE_PIDFD`.
pub const CLONE_PIDFD: u64 = 0x1000;
/// `CLONE_INTO_CGROUP`.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// `CLOSE_RANGE_CLOEXEC`.
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
/// `P_PIDFD` for `waitid(2)`.
pub const P_PIDFD: libc::idtype_t = 3;

/// The calling thread's errno.
#[inline(always)]
pub fn errno() -> i32 {
    unsafe { *libc::__errno_location() }
}

/// `clone3(2)` behaving like `fork(2)`: returns 0 in the child.
///
/// # Safety
/// The child is a copy of the calling thread only; it must restrict itself
/// to async-signal-safe calls until it execs or exits.
pub unsafe fn clone3(args: &mut CloneArgs) -> libc::c_long {
    libc::syscall(
        libc::SYS_clone3,
        args as *mut CloneArgs,
        std::mem::size_of::<CloneArgs>(),
    )
}

/// `CLONE_VM`.
pub const CLONE_VM: u64 = 0x100;
/// `CLONE_VFORK`.
pub const CLONE_VFORK: u64 = 0x4000;

/// `clone3(2)` with `CLONE_VM | CLONE_VFORK` semantics done right: the child
/// runs `entry(arg)` on its own stack (`args.stack`/`args.stack_size` must
/// be set, top 16-byte aligned) and never returns to the caller's frames,
/// so the suspended parent's stack is untouched. Returns the child's pid
/// (after it exec'd or exited) or -1 with errno.
///
/// # Safety
/// The child shares the parent's memory: it may only make raw system
/// calls and must end in `execve` or `_exit`.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone3_on_stack(
    args: &mut CloneArgs,
    entry: unsafe extern "C" fn(*mut libc::c_void) -> !,
    arg: *mut libc::c_void,
) -> libc::c_long {
    let ret: libc::c_long;
    std::arch::asm!(
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // Child: the kernel switched to the new stack.
        "xor ebp, ebp",
        "mov rdi, r12",
        "call r13",
        "ud2",
        "2:",
        inlateout("rax") libc::SYS_clone3 => ret,
        in("rdi") args as *mut CloneArgs,
        in("rsi") std::mem::size_of::<CloneArgs>(),
        in("r12") arg,
        in("r13") entry,
        lateout("rcx") _,
        lateout("r11") _,
        options(nostack),
    );
    if ret < 0 {
        *libc::__errno_location() = -ret as i32;
        return -1;
    }
    ret
}

/// Close every fd of `fds` in as few system calls as they allow: each run
/// of consecutive numbers with one `close_range(2)` (Linux 5.9), each fd on
/// its own where that call is missing (`ENOSYS`) or refused (`EINVAL`). For
/// the parent side of a spawn (it allocates): never in a child.
pub fn close_all(fds: impl IntoIterator<Item = OwnedFd>) {
    use std::os::fd::IntoRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    static NO_CLOSE_RANGE: AtomicBool = AtomicBool::new(false);
    let mut raw: Vec<RawFd> = fds.into_iter().map(IntoRawFd::into_raw_fd).collect();
    raw.sort_unstable();
    let mut i = 0;
    while i < raw.len() {
        let mut j = i;
        while j + 1 < raw.len() && raw[j + 1] == raw[j] + 1 {
            j += 1;
        }
        let ranged = j > i
            && !NO_CLOSE_RANGE.load(Ordering::Relaxed)
            && unsafe {
                // The raw syscall: glibc before 2.34 has no close_range().
                libc::syscall(libc::SYS_close_range, raw[i] as u32, raw[j] as u32, 0u32)
            } == 0;
        if !ranged {
            if j > i && matches!(errno(), libc::ENOSYS | libc::EINVAL) {
                NO_CLOSE_RANGE.store(true, Ordering::Relaxed);
            }
            for &fd in &raw[i..=j] {
                unsafe { libc::close(fd) };
            }
        }
        i = j + 1;
    }
}

/// A pipe whose both ends are close-on-exec: (read, write).
pub fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    unsafe { Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))) }
}

/// A unix stream socket pair whose both ends are close-on-exec.
pub fn socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    if unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    unsafe { Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))) }
}

pub use ctr_common::proc::{pidfd_getfd, pidfd_send_signal};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

/// `waitid(P_PIDFD, ..., WEXITED | flags)`. `Ok(None)` with `WNOHANG`
/// while the process still runs.
pub fn waitid_pidfd(pidfd: RawFd, flags: i32) -> std::io::Result<Option<WaitResult>> {
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::waitid(
                P_PIDFD,
                pidfd as libc::id_t,
                &mut info,
                libc::WEXITED | flags,
            )
        };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        let pid = unsafe { info.si_pid() };
        if pid == 0 {
            return Ok(None);
        }
        let status = unsafe { info.si_status() };
        return Ok(Some(match info.si_code {
            libc::CLD_EXITED => WaitResult::Exited(status),
            _ => WaitResult::Signaled(status),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// An fd at `at` or above (high numbers: no other test thread gets them).
    fn fd_at(at: RawFd) -> OwnedFd {
        let fd = unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, at) };
        assert!(fd >= at, "dup: errno {}", errno());
        unsafe { OwnedFd::from_raw_fd(fd) }
    }

    fn is_open(fd: RawFd) -> bool {
        (unsafe { libc::fcntl(fd, libc::F_GETFD) }) >= 0
    }

    #[test]
    fn close_all_closes_runs_and_single_fds_and_nothing_else() {
        // 900..=903 a run, 910 alone, 905 kept (between them, not passed).
        let fds: Vec<OwnedFd> = (900..=903).chain([910]).map(fd_at).collect();
        let kept = fd_at(905);
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        assert_eq!(raw, [900, 901, 902, 903, 910]);
        assert_eq!(kept.as_raw_fd(), 905);
        // Given out of order: sorted into runs.
        close_all(fds.into_iter().rev());
        for fd in raw {
            assert!(!is_open(fd), "fd {fd} still open");
        }
        assert!(is_open(905), "an fd not given was closed");
        drop(kept);
    }
}
