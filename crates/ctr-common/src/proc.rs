//! Processes as the kernel shows them: `/proc/PID/stat` (state and start
//! time, so a reused pid is never mistaken for the process recorded) and
//! the pidfd calls (`pidfd_open`, `pidfd_send_signal`, `pidfd_getfd`).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// What `/proc/PID/stat` says about a process: its state letter and its
/// start time (field 22, clock ticks since boot).
pub fn stat(pid: i32) -> Option<(char, u64)> {
    let s = crate::fs::read_whole(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

/// Parse the text of `/proc/PID/stat` into (state, start time).
pub fn parse_stat(s: &str) -> Option<(char, u64)> {
    // The command name (field 2) may hold spaces and parentheses: count
    // from its last closing parenthesis.
    let rest = s.get(s.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?; // field 22 overall
    Some((state, start))
}

/// The start time (clock ticks since boot) of a process, if it exists.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|(_, start)| start)
}

/// Whether `pid` is the process started at `start_time` and has not exited
/// (a zombie or dead entry counts as gone).
pub fn alive(pid: i32, start_time: u64) -> bool {
    if pid <= 0 {
        return false;
    }
    match stat(pid) {
        Some((state, start)) => start == start_time && state != 'Z' && state != 'X',
        None => false,
    }
}

/// `pidfd_open(2)`: a close-on-exec pidfd of `pid`.
pub fn pidfd_open(pid: i32) -> std::io::Result<OwnedFd> {
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(2)`: send `signal` through a pidfd (never hits a
/// reused pid).
pub fn pidfd_send_signal(pidfd: RawFd, signal: i32) -> std::io::Result<()> {
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            signal,
            std::ptr::null::<u8>(),
            0,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// `pidfd_getfd(2)`: a close-on-exec copy of fd `target` of the process.
pub fn pidfd_getfd(pidfd: RawFd, target: RawFd) -> std::io::Result<OwnedFd> {
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, target, 0u32) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(rc as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn stat_counts_fields_after_the_last_parenthesis() {
        // A command name with spaces and a ')' must not shift the fields.
        let line = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(line), Some(('S', 98765)));
        assert_eq!(parse_stat("42 (x"), None);
        let me = std::process::id() as i32;
        let start = start_time(me).unwrap();
        assert!(alive(me, start));
        assert!(!alive(me, start + 1), "another start time is a reused pid");
        assert!(!alive(0, start));
    }

    #[test]
    fn pidfd_of_self_signals_and_copies_fds() {
        let me = std::process::id() as i32;
        let fd = pidfd_open(me).unwrap();
        pidfd_send_signal(fd.as_raw_fd(), 0).unwrap();
        let copy = pidfd_getfd(fd.as_raw_fd(), fd.as_raw_fd());
        // pidfd_getfd on oneself needs ptrace access, which root has.
        if let Ok(c) = copy {
            assert_ne!(c.as_raw_fd(), fd.as_raw_fd());
        }
    }
}
