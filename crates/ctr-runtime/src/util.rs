//! Small helpers: RFC 3339 time, /proc stat, syscalls.

use crate::Code;
use ctr_common::{Error, Result};

/// Now as RFC 3339 with nanoseconds in UTC (`2026-01-02T03:04:05.123456789Z`).
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Format seconds since the epoch (UTC) as RFC 3339.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub use ctr_common::proc::{alive, pidfd_open, pidfd_send_signal, stat as proc_stat};

/// This process's pid. Read once: `getpid` is a system call each time and
/// the create/delete path names several files after the pid. A pid changes
/// only across `fork`, whose child (a `pthread_atfork` handler) reads its
/// own again; the clone'd container init never calls this.
pub fn own_pid() -> i32 {
    use std::sync::atomic::Ordering::Relaxed;
    static ATFORK: std::sync::Once = std::sync::Once::new();
    let pid = OWN_PID.load(Relaxed);
    if pid != 0 {
        return pid;
    }
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic
        // (async-signal-safe, as a fork child's handler must be).
        unsafe { libc::pthread_atfork(None, None, Some(forget_own_pid)) };
    });
    let pid = std::process::id() as i32;
    OWN_PID.store(pid, Relaxed);
    pid
}

static OWN_PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forget_own_pid() {
    OWN_PID.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// The last errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Poll fds for readability; returns which were ready, or none on timeout
/// (`timeout_ms` < 0: no timeout).
pub fn poll_in(fds: &[i32], timeout_ms: i32) -> std::io::Result<Vec<bool>> {
    let timeout = u64::try_from(timeout_ms)
        .ok()
        .map(std::time::Duration::from_millis);
    ctr_common::poll::readable(fds, timeout)
}

/// A signal number from `9`, `KILL` or `SIGKILL` (ctr-common's table).
pub fn parse_signal(s: &str) -> Result<i32> {
    ctr_common::signal::number(s).ok_or_else(|| {
        Error::new(Code::Signal, format!("unknown signal {s:?}")).with_field("signal")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(1_700_000_000, 5), "2023-11-14T22:13:20.000000005Z");
    }

    #[test]
    fn own_pid_is_read_once_and_again_in_a_forked_child() {
        let me = std::process::id() as i32;
        assert_eq!(own_pid(), me);
        assert_eq!(own_pid(), me);
        // SAFETY: the child only calls own_pid (an atomic, getpid) and _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork: {}", std::io::Error::last_os_error());
        if child == 0 {
            let ok = own_pid() == unsafe { libc::getpid() } && own_pid() != me;
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child saw a stale pid"
        );
        assert_eq!(own_pid(), me);
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("2").unwrap(), 2);
        assert_eq!(
            parse_signal("NOPE").unwrap_err().code,
            Code::Signal.as_str()
        );
    }
}
