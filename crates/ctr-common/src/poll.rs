//! Waiting for fds to become readable, with a deadline that survives
//! signals.
//!
//! `poll(2)` returns `EINTR` when a signal handler runs; restarting it with
//! the caller's whole timeout would stretch the wait by one timeout per
//! signal, so a restart waits only for what is left.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Wait until one of `fds` is readable (or hung up, or in error) or
/// `timeout` has passed (`None`: wait without end). Returns, per fd,
/// whether it is ready; all `false` on timeout.
pub fn readable(fds: &[RawFd], timeout: Option<Duration>) -> std::io::Result<Vec<bool>> {
    let end = timeout.map(|t| Instant::now() + t);
    let mut set: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let ms = match end {
            None => -1,
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                // Round up: a 0.4 ms remainder must not become a busy poll of 0.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: `set` is a valid array of pollfd of this length.
        let n = unsafe { libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        return Ok(set.iter().map(|p| p.revents != 0).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two fds pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both fds were just made and are owned by nothing else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn a_readable_pipe_is_ready_and_an_empty_one_times_out() {
        let (r, w) = pipe();
        let (quiet, _keep) = pipe();
        let started = Instant::now();
        let ready = readable(
            &[r.as_raw_fd(), quiet.as_raw_fd()],
            Some(Duration::from_millis(20)),
        )
        .unwrap();
        assert_eq!(ready, [false, false]);
        assert!(started.elapsed() >= Duration::from_millis(20));
        // SAFETY: writes one byte from a valid buffer to an open pipe.
        assert_eq!(
            unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) },
            1
        );
        let ready = readable(&[r.as_raw_fd(), quiet.as_raw_fd()], None).unwrap();
        assert_eq!(ready, [true, false]);
    }

    #[test]
    fn a_closed_writer_counts_as_ready() {
        let (r, w) = pipe();
        drop(w);
        assert_eq!(
            readable(&[r.as_raw_fd()], Some(Duration::ZERO)).unwrap(),
            [true]
        );
    }

    #[test]
    fn a_negative_fd_is_skipped() {
        // poll(2) ignores negative fds: a slot can be switched off that way.
        let ready = readable(&[-1], Some(Duration::from_millis(10))).unwrap();
        assert_eq!(ready, [false]);
    }
}
