//! Staying with a container process in the foreground (`run` and `exec`
//! without `--detach`): signals forwarded to it, and its terminal relayed
//! to ours in raw mode with the window size kept in step.

use ctr_common::Result;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// Our stdin in raw mode while `run` relays a terminal (restored on drop).
struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    fn enter(fd: i32) -> Option<RawMode> {
        unsafe {
            if libc::isatty(fd) != 1 {
                return None;
            }
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut saved) < 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(fd, libc::TCSANOW, &raw);
            Some(RawMode { fd, saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// Give the pty `master` the window size of our own terminal, if any.
fn copy_win_size(master: i32) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    for fd in [0, 1, 2] {
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
            && ws.ws_row > 0
        {
            unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
            return;
        }
    }
}

/// Whether the bundle's config gives `process.consoleSize` (then the pty
/// keeps that size instead of taking ours).
pub fn has_console_size(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.pointer("/process/consoleSize").is_some())
}

fn write_all(fd: i32, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return false;
        }
        data = &data[n as usize..];
    }
    true
}

/// `ctrun run` with a terminal and no console socket: copy our stdin to
/// the pty and the pty to our stdout until the container side is gone
/// (EIO once every holder of the slave exited). Out of line: its 16 KiB
/// buffer would make `foreground`'s stack frame, which a run without a
/// terminal touches too, 16 KiB larger.
#[inline(never)]
fn relay_terminal(master: &OwnedFd) {
    if let Ok(input) = master.try_clone() {
        // Blocking reads of our stdin; the thread ends with the process.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                if n <= 0 || !write_all(input.as_raw_fd(), &buf[..n as usize]) {
                    return;
                }
            }
        });
    }
    let mut buf = [0u8; 16384];
    loop {
        match ctr_ns::console::read_master(master.as_raw_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if !write_all(1, &buf[..n]) {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Forward these signals to the container process.
const FORWARD: [i32; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// Block the signals `run`/`exec` forward, before the container process
/// exists (so none is lost to the default action meanwhile); the set is
/// what [`foreground`] then waits for.
pub fn block_forwarded() -> libc::sigset_t {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARD {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Stay with a started process until it exits (`run` and `exec` without
/// `--detach`): forward the signals blocked in `set` to it, and with a
/// terminal relay it to ours in raw mode, keeping the window size in step
/// (taking ours first when `size_from_ours`: the config gave none).
pub fn foreground(
    child: &ctr_ns::Child,
    set: libc::sigset_t,
    master: Option<OwnedFd>,
    size_from_ours: bool,
) -> Result<ctr_ns::ExitStatus> {
    let pid = child.pid;
    let master_fd = master.as_ref().map(|m| m.as_raw_fd());
    if let Some(m) = master_fd {
        if size_from_ours {
            copy_win_size(m);
        }
    }
    // Without a terminal the main thread has nothing else to do: it waits
    // for the signals and the exit together (no thread, no thread stack).
    if master.is_none() {
        if let Some(st) = forward_until_exit(child, &set) {
            return st;
        }
    }
    // With a terminal the main thread relays it and a thread forwards. A
    // rootless exec runs with its pid namespace joined for good, where no
    // thread can be made (EINVAL): then the signals are not forwarded but
    // unblocked, so they act on ctrun as usual (docs/cli.md, "Rootless").
    let forwarder = std::thread::Builder::new().spawn(move || loop {
        let mut sig = 0;
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            match master_fd {
                // The kernel sends SIGWINCH to the pty's foreground group.
                Some(m) if sig == libc::SIGWINCH => copy_win_size(m),
                // Not reaped yet (we wait below): the pid is still our child's.
                _ => unsafe {
                    libc::kill(pid, sig);
                },
            }
        }
    });
    if forwarder.is_err() {
        // SAFETY: unblocking signals of this thread.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
    let raw = master.as_ref().and_then(|_| RawMode::enter(0));
    if let Some(m) = &master {
        relay_terminal(m);
    }
    let st = child.wait();
    drop(raw);
    st
}

/// Forward the signals of `set` (blocked in this single-threaded process)
/// to the child until it exits, on one thread: a signalfd for the signals
/// and the child's pidfd for its exit, polled together; then reap it.
/// `None` when no signalfd can be made (the caller forwards from a thread).
fn forward_until_exit(
    child: &ctr_ns::Child,
    set: &libc::sigset_t,
) -> Option<Result<ctr_ns::ExitStatus>> {
    // SAFETY: a valid sigset; the new fd is owned below.
    let sfd = unsafe { libc::signalfd(-1, set, libc::SFD_CLOEXEC) };
    if sfd < 0 {
        return None;
    }
    // SAFETY: a fresh fd nothing else owns.
    let sfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sfd) };
    loop {
        let mut fds = [
            libc::pollfd {
                fd: child.pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of two pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if fds[1].revents != 0 {
            // SAFETY: signalfd_siginfo is plain data; read fills whole records.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let r = unsafe {
                libc::read(
                    sfd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if r == size as isize {
                // Not reaped yet (we wait below): the pid is still our child's.
                unsafe { libc::kill(child.pid, info.ssi_signo as i32) };
            }
        }
        if fds[0].revents != 0 {
            break;
        }
    }
    Some(child.wait())
}
