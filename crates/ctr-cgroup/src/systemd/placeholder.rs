//! A process that holds a new scope open until the container's init is in
//! it: systemd refuses a scope without a process ("Scope has no PIDs"),
//! and the init must be cloned straight into its cgroup (CLONE_INTO_CGROUP,
//! so that a new cgroup namespace is rooted there), so it cannot be the
//! first process. runc and crun start the scope with the init's pid after
//! the clone; this is the equivalent for a create-then-spawn flow.

use crate::Code;
use ctr_common::Error;

/// A forked child that only waits (raw system calls: it never returns to
/// Rust code, so forking a multi-threaded process such as Node is safe).
/// Dropping it kills and reaps it.
#[derive(Debug)]
pub struct Placeholder {
    pid: i32,
}

impl Placeholder {
    /// Fork the placeholder. It closes every fd (it must not hold a pipe
    /// of its parent open) and sleeps until killed.
    pub fn spawn() -> Result<Placeholder, Error> {
        // SAFETY: the child makes raw system calls only and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Error::last_os(
                Code::Systemd,
                "fork",
                "fork the scope's placeholder process",
            ));
        }
        if pid == 0 {
            unsafe {
                libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
                loop {
                    libc::pause();
                }
            }
        }
        Ok(Placeholder { pid })
    }

    /// Its pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

impl Drop for Placeholder {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            let mut st = 0;
            while libc::waitpid(self.pid, &mut st, 0) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lives_until_dropped() {
        let p = Placeholder::spawn().unwrap();
        let pid = p.pid();
        assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
        drop(p);
        // reaped: the pid is gone (not a zombie)
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| !s.contains(") Z "))
                    .unwrap_or(true)
        );
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0);
    }
}
