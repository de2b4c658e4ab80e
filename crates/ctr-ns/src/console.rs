//! A pseudo-terminal for the child, the runc way (`process.terminal`).
//!
//! The child, after its mounts (so with a rootfs `/dev/ptmx` is the
//! container's own devpts instance, `/dev/ptmx -> pts/ptmx`), opens
//! `/dev/ptmx`, unlocks it, opens the slave (`TIOCGPTPEER`, by name on old
//! kernels), sets the window size, binds the slave onto `/dev/console` when
//! there is a rootfs, sends the MASTER fd over a unix socket with
//! `SCM_RIGHTS` (the slave's name, `/dev/pts/N`, is the message payload)
//! and closes its copy, then makes the slave its controlling terminal
//! (`setsid` + `TIOCSCTTY`) and, later, fds 0/1/2.
//!
//! The socket is either a connected `--console-socket` of the caller (the
//! receiver gets the master) or one end of a socketpair whose other end the
//! parent reads, so [`crate::Child::take_console`] hands the master back.
//!
//! [`setup`] runs in the fork-safe child against the [`Tty`] seam: [`Raw`]
//! makes the system calls without allocating; unit tests use
//! [`fake::TtyRecorder`].
#![allow(clippy::not_unsafe_ptr_arg_deref, clippy::unnecessary_cast)]

use crate::Code;
use libc::c_char;
use std::os::fd::RawFd;

/// Window size of a terminal, in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WinSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

/// Where the master end of the child's pty goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConsoleSocket {
    /// A connected unix socket of the caller (`--console-socket`): the
    /// master is sent over it and the caller keeps ownership of the fd.
    Fd(RawFd),
    /// A socketpair made by spawn: the parent receives the master and
    /// [`crate::Child::take_console`] returns it.
    Return,
}

/// The child gets a pseudo-terminal as its stdio and controlling terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Console {
    /// Where the master goes.
    pub socket: ConsoleSocket,
    /// Initial window size (`TIOCSWINSZ`), if any.
    pub size: Option<WinSize>,
}

impl Console {
    /// A console whose master comes back to the caller.
    pub fn returned(size: Option<WinSize>) -> Console {
        Console {
            socket: ConsoleSocket::Return,
            size,
        }
    }
}

/// The console part of the fork-safe plan.
#[derive(Debug, Clone, Copy)]
pub struct PreparedConsole {
    /// The socket the master is sent over (the child's end).
    pub socket: RawFd,
    /// Window size.
    pub size: Option<WinSize>,
    /// Bind the slave onto `/dev/console` (there is a rootfs).
    pub bind_console: bool,
    /// `fchown` the slave to this uid/gid (the process's user).
    pub owner: Option<(u32, u32)>,
    /// Call `setsid` first (the child is not a session leader yet).
    pub setsid: bool,
}

/// The sub-step of console setup that failed (the `detail` of
/// [`crate::child::Step::Console`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Sub {
    /// `open("/dev/ptmx")`.
    OpenPtmx = 1,
    /// `ioctl(TIOCSPTLCK)` (unlockpt).
    Unlock,
    /// `ioctl(TIOCGPTN)` (the pty number).
    PtyNumber,
    /// `ioctl(TIOCGPTPEER)` / `open("/dev/pts/N")`.
    OpenSlave,
    /// `ioctl(TIOCSWINSZ)`.
    WinSize,
    /// `fchown` of the slave.
    Chown,
    /// Creating `/dev/console` to bind over.
    CreateConsole,
    /// Binding the slave onto `/dev/console`.
    BindConsole,
    /// `sendmsg` of the master fd.
    Send,
    /// `setsid`.
    Setsid,
    /// `ioctl(TIOCSCTTY)`.
    Ctty,
}

impl Sub {
    /// The sub-step for a number read from the status pipe.
    pub fn from_u32(n: u32) -> Option<Sub> {
        use Sub::*;
        [
            OpenPtmx,
            Unlock,
            PtyNumber,
            OpenSlave,
            WinSize,
            Chown,
            CreateConsole,
            BindConsole,
            Send,
            Setsid,
            Ctty,
        ]
        .into_iter()
        .find(|s| *s as u32 == n)
    }

    /// The system call and a description, for error messages.
    pub fn describe(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Sub::OpenPtmx => ("open", "open the pty master", Some("/dev/ptmx")),
            Sub::Unlock => ("ioctl", "unlock the pty (TIOCSPTLCK)", Some("/dev/ptmx")),
            Sub::PtyNumber => ("ioctl", "get the pty number (TIOCGPTN)", Some("/dev/ptmx")),
            Sub::OpenSlave => ("open", "open the pty slave", Some("/dev/pts")),
            Sub::WinSize => ("ioctl", "set the window size (TIOCSWINSZ)", None),
            Sub::Chown => ("fchown", "give the pty slave to the process user", None),
            Sub::CreateConsole => ("open", "create /dev/console", Some("/dev/console")),
            Sub::BindConsole => (
                "mount",
                "bind the pty slave onto /dev/console",
                Some("/dev/console"),
            ),
            Sub::Send => (
                "sendmsg",
                "send the pty master over the console socket",
                None,
            ),
            Sub::Setsid => (
                "setsid",
                "start a session for the controlling terminal",
                None,
            ),
            Sub::Ctty => (
                "ioctl",
                "make the pty the controlling terminal (TIOCSCTTY)",
                None,
            ),
        }
    }
}

/// The kernel surface of console setup. Methods return the value or an
/// errno, never touch a global errno, and never allocate in [`Raw`].
pub trait Tty {
    /// `open(path, flags | O_CLOEXEC)`.
    fn open(&self, path: *const c_char, flags: i32) -> Result<RawFd, i32>;
    /// `ioctl(TIOCSPTLCK, 0)`.
    fn unlock(&self, master: RawFd) -> Result<(), i32>;
    /// `ioctl(TIOCGPTN)`.
    fn pty_number(&self, master: RawFd) -> Result<u32, i32>;
    /// `ioctl(TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC)`.
    fn open_peer(&self, master: RawFd) -> Result<RawFd, i32>;
    /// `ioctl(TIOCSWINSZ)`.
    fn set_size(&self, fd: RawFd, size: WinSize) -> Result<(), i32>;
    /// `fchown(2)`.
    fn fchown(&self, fd: RawFd, uid: u32, gid: u32) -> Result<(), i32>;
    /// Create an empty file if missing (`open(O_CREAT|O_NOFOLLOW)`), for a
    /// bind mount target.
    fn create_file(&self, path: *const c_char) -> Result<(), i32>;
    /// `mount(src, dst, NULL, MS_BIND, NULL)`.
    fn bind(&self, src: *const c_char, dst: *const c_char) -> Result<(), i32>;
    /// `sendmsg` of `fd` with `SCM_RIGHTS` and `payload` as the data.
    fn send_fd(&self, socket: RawFd, fd: RawFd, payload: &[u8]) -> Result<(), i32>;
    /// `setsid(2)`.
    fn setsid(&self) -> Result<(), i32>;
    /// `ioctl(TIOCSCTTY, 0)`.
    fn set_ctty(&self, fd: RawFd) -> Result<(), i32>;
    /// `close(2)`.
    fn close(&self, fd: RawFd);
}

/// `/dev/pts/<n>` written into `buf` (NUL-terminated); returns its length
/// without the NUL. No allocation.
pub fn pts_name(n: u32, buf: &mut [u8; 32]) -> usize {
    let prefix = b"/dev/pts/";
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 10];
    let mut v = n;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[prefix.len() + i] = digits[len - 1 - i];
    }
    buf[prefix.len() + len] = 0;
    prefix.len() + len
}

/// Set up the console in the child; returns the slave fd (close-on-exec),
/// which becomes fds 0, 1 and 2. On failure: the sub-step and errno.
pub fn setup<T: Tty>(c: &PreparedConsole, t: &T) -> Result<RawFd, (Sub, i32)> {
    let master = t
        .open(c"/dev/ptmx".as_ptr(), libc::O_RDWR | libc::O_NOCTTY)
        .map_err(|e| (Sub::OpenPtmx, e))?;
    let r = with_master(c, t, master);
    // The child never keeps the master: the receiver owns it.
    t.close(master);
    let slave = r?;
    if c.setsid {
        t.setsid().map_err(|e| (Sub::Setsid, e))?;
    }
    t.set_ctty(slave).map_err(|e| (Sub::Ctty, e))?;
    Ok(slave)
}

fn with_master<T: Tty>(c: &PreparedConsole, t: &T, master: RawFd) -> Result<RawFd, (Sub, i32)> {
    t.unlock(master).map_err(|e| (Sub::Unlock, e))?;
    let n = t.pty_number(master).map_err(|e| (Sub::PtyNumber, e))?;
    let mut name = [0u8; 32];
    let len = pts_name(n, &mut name);
    let slave = match t.open_peer(master) {
        Ok(fd) => fd,
        // Kernels before 4.13 have no TIOCGPTPEER: open the slave by name.
        Err(libc::EINVAL) | Err(libc::ENOTTY) => t
            .open(name.as_ptr().cast(), libc::O_RDWR | libc::O_NOCTTY)
            .map_err(|e| (Sub::OpenSlave, e))?,
        Err(e) => return Err((Sub::OpenSlave, e)),
    };
    let r = (|| {
        if let Some(size) = c.size {
            t.set_size(master, size).map_err(|e| (Sub::WinSize, e))?;
        }
        if let Some((uid, gid)) = c.owner {
            t.fchown(slave, uid, gid).map_err(|e| (Sub::Chown, e))?;
        }
        if c.bind_console {
            t.create_file(c"/dev/console".as_ptr())
                .map_err(|e| (Sub::CreateConsole, e))?;
            t.bind(name.as_ptr().cast(), c"/dev/console".as_ptr())
                .map_err(|e| (Sub::BindConsole, e))?;
        }
        t.send_fd(c.socket, master, &name[..len])
            .map_err(|e| (Sub::Send, e))
    })();
    match r {
        Ok(()) => Ok(slave),
        Err(e) => {
            t.close(slave);
            Err(e)
        }
    }
}

/// The real system calls (async-signal-safe, no allocation).
pub struct Raw;

fn errno() -> i32 {
    crate::sys::errno()
}

fn ret(r: libc::c_int) -> Result<(), i32> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

impl Tty for Raw {
    fn open(&self, path: *const c_char, flags: i32) -> Result<RawFd, i32> {
        let fd = unsafe { libc::open(path, flags | libc::O_CLOEXEC) };
        if fd < 0 {
            Err(errno())
        } else {
            Ok(fd)
        }
    }
    fn unlock(&self, master: RawFd) -> Result<(), i32> {
        let zero: libc::c_int = 0;
        ret(unsafe { libc::ioctl(master, libc::TIOCSPTLCK, &zero as *const libc::c_int) })
    }
    fn pty_number(&self, master: RawFd) -> Result<u32, i32> {
        let mut n: libc::c_uint = 0;
        ret(unsafe { libc::ioctl(master, libc::TIOCGPTN, &mut n as *mut libc::c_uint) })?;
        Ok(n)
    }
    fn open_peer(&self, master: RawFd) -> Result<RawFd, i32> {
        let fd = unsafe {
            libc::ioctl(
                master,
                libc::TIOCGPTPEER,
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            Err(errno())
        } else {
            Ok(fd)
        }
    }
    fn set_size(&self, fd: RawFd, size: WinSize) -> Result<(), i32> {
        let ws = libc::winsize {
            ws_row: size.rows,
            ws_col: size.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        ret(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws as *const libc::winsize) })
    }
    fn fchown(&self, fd: RawFd, uid: u32, gid: u32) -> Result<(), i32> {
        ret(unsafe { libc::fchown(fd, uid, gid) })
    }
    fn create_file(&self, path: *const c_char) -> Result<(), i32> {
        let fd = unsafe {
            libc::open(
                path,
                libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_WRONLY,
                0o644,
            )
        };
        if fd < 0 {
            let e = errno();
            // An existing device node or a read-only fs with the file in
            // place are fine: the bind goes over it.
            if e == libc::EEXIST
                || ((e == libc::EROFS || e == libc::EACCES || e == libc::ENXIO) && exists(path))
            {
                return Ok(());
            }
            return Err(e);
        }
        unsafe { libc::close(fd) };
        Ok(())
    }
    fn bind(&self, src: *const c_char, dst: *const c_char) -> Result<(), i32> {
        ret(unsafe { libc::mount(src, dst, std::ptr::null(), libc::MS_BIND, std::ptr::null()) })
    }
    fn send_fd(&self, socket: RawFd, fd: RawFd, payload: &[u8]) -> Result<(), i32> {
        send_fd(socket, fd, payload)
    }
    fn setsid(&self) -> Result<(), i32> {
        ret(unsafe { libc::setsid() })
    }
    fn set_ctty(&self, fd: RawFd) -> Result<(), i32> {
        ret(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) })
    }
    fn close(&self, fd: RawFd) {
        unsafe { libc::close(fd) };
    }
}

fn exists(path: *const c_char) -> bool {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    unsafe { libc::fstatat(libc::AT_FDCWD, path, &mut st, libc::AT_SYMLINK_NOFOLLOW) == 0 }
}

/// Room for one fd in a control message (`CMSG_SPACE(sizeof(int))`),
/// 8-byte aligned.
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// Send `fd` over the unix socket `socket` with `SCM_RIGHTS`, `payload` as
/// the data (one byte if empty). Fork-safe: stack buffers only.
pub fn send_fd(socket: RawFd, fd: RawFd, payload: &[u8]) -> Result<(), i32> {
    let zero = [0u8; 1];
    let data = if payload.is_empty() {
        &zero[..]
    } else {
        payload
    };
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = CmsgBuf([0u8; 64]);
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::copy_nonoverlapping(
            &fd as *const RawFd as *const u8,
            libc::CMSG_DATA(cmsg),
            std::mem::size_of::<RawFd>(),
        );
    }
    loop {
        let n = unsafe { libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// Receive one fd sent with `SCM_RIGHTS` (close-on-exec) and the payload.
/// `flags` are `recvmsg` flags (`MSG_DONTWAIT` to not block). `Ok(None)`:
/// the peer closed the socket without sending a descriptor.
pub fn recv_fd(
    socket: RawFd,
    flags: i32,
) -> std::io::Result<Option<(std::os::fd::OwnedFd, Vec<u8>)>> {
    use std::os::fd::FromRawFd;
    let mut data = [0u8; 4096];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cbuf = CmsgBuf([0u8; 64]);
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len() as _;
    let n = loop {
        let n = unsafe { libc::recvmsg(socket, &mut msg, flags | libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut got: Option<std::os::fd::OwnedFd> = None;
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize)
                    / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    let mut fd: RawFd = -1;
                    std::ptr::copy_nonoverlapping(
                        libc::CMSG_DATA(cmsg).add(i * std::mem::size_of::<RawFd>()),
                        &mut fd as *mut RawFd as *mut u8,
                        std::mem::size_of::<RawFd>(),
                    );
                    let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
                    // Keep the first; any extra one is closed on drop.
                    if got.is_none() {
                        got = Some(owned);
                    }
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 && got.is_none() {
        return Err(std::io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    Ok(got.map(|fd| (fd, data[..n].to_vec())))
}

/// Set the window size of a terminal fd (the master) from the parent.
pub fn resize(fd: RawFd, size: WinSize) -> Result<(), ctr_common::Error> {
    Raw.set_size(fd, size).map_err(|e| {
        ctr_common::Error::sys(
            Code::Console,
            "ioctl",
            e,
            "set the window size (TIOCSWINSZ)",
        )
    })
}

/// Read from a pty master: the slave side gone (`EIO`) reads as end of
/// file (0).
pub fn read_master(fd: RawFd, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n >= 0 {
        return Ok(n as usize);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EIO) {
        Ok(0)
    } else {
        Err(e)
    }
}

/// Set `O_NONBLOCK` on an fd (its open file description).
pub fn set_nonblocking(fd: RawFd) -> Result<(), ctr_common::Error> {
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(ctr_common::Error::last_os(
            Code::Console,
            "fcntl",
            "make the pty master non-blocking",
        ));
    }
    Ok(())
}

/// The window size of a terminal fd.
pub fn size(fd: RawFd) -> Result<WinSize, ctr_common::Error> {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) } < 0 {
        return Err(ctr_common::Error::last_os(
            Code::Console,
            "ioctl",
            "get the window size (TIOCGWINSZ)",
        ));
    }
    Ok(WinSize {
        cols: ws.ws_col,
        rows: ws.ws_row,
    })
}

/// A recording fake for unit tests.
pub mod fake {
    use super::{Tty, WinSize};
    use libc::c_char;
    use std::cell::RefCell;
    use std::ffi::CStr;
    use std::os::fd::RawFd;

    /// Records calls as text; fails the first call whose line starts with
    /// `fail`'s prefix.
    #[derive(Default)]
    pub struct TtyRecorder {
        /// The calls, in order.
        pub calls: RefCell<Vec<String>>,
        /// Fail calls starting with this, with this errno.
        pub fail: Option<(String, i32)>,
        /// The pty number `TIOCGPTN` answers.
        pub pty: u32,
    }

    fn s(p: *const c_char) -> String {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    impl TtyRecorder {
        fn record(&self, line: String) -> Result<(), i32> {
            let failed = match &self.fail {
                Some((prefix, errno)) if line.starts_with(prefix.as_str()) => Err(*errno),
                _ => Ok(()),
            };
            self.calls.borrow_mut().push(line);
            failed
        }
    }

    impl Tty for TtyRecorder {
        fn open(&self, path: *const c_char, _flags: i32) -> Result<RawFd, i32> {
            let p = s(path);
            self.record(format!("open {p}"))?;
            Ok(if p == "/dev/ptmx" { 10 } else { 11 })
        }
        fn unlock(&self, m: RawFd) -> Result<(), i32> {
            self.record(format!("unlock {m}"))
        }
        fn pty_number(&self, m: RawFd) -> Result<u32, i32> {
            self.record(format!("ptn {m}"))?;
            Ok(self.pty)
        }
        fn open_peer(&self, m: RawFd) -> Result<RawFd, i32> {
            self.record(format!("peer {m}"))?;
            Ok(11)
        }
        fn set_size(&self, fd: RawFd, size: WinSize) -> Result<(), i32> {
            self.record(format!("winsize {fd} {}x{}", size.cols, size.rows))
        }
        fn fchown(&self, fd: RawFd, uid: u32, gid: u32) -> Result<(), i32> {
            self.record(format!("fchown {fd} {uid}:{gid}"))
        }
        fn create_file(&self, path: *const c_char) -> Result<(), i32> {
            self.record(format!("create {}", s(path)))
        }
        fn bind(&self, src: *const c_char, dst: *const c_char) -> Result<(), i32> {
            self.record(format!("bind {} {}", s(src), s(dst)))
        }
        fn send_fd(&self, socket: RawFd, fd: RawFd, payload: &[u8]) -> Result<(), i32> {
            self.record(format!(
                "send {socket} {fd} {}",
                String::from_utf8_lossy(payload)
            ))
        }
        fn setsid(&self) -> Result<(), i32> {
            self.record("setsid".into())
        }
        fn set_ctty(&self, fd: RawFd) -> Result<(), i32> {
            self.record(format!("ctty {fd}"))
        }
        fn close(&self, fd: RawFd) {
            let _ = self.record(format!("close {fd}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::TtyRecorder;
    use super::*;

    fn plan() -> PreparedConsole {
        PreparedConsole {
            socket: 7,
            size: Some(WinSize {
                cols: 100,
                rows: 30,
            }),
            bind_console: true,
            owner: Some((1000, 1000)),
            setsid: true,
        }
    }

    #[test]
    fn pts_names_are_formatted_without_allocation() {
        let mut buf = [0u8; 32];
        let n = pts_name(0, &mut buf);
        assert_eq!(&buf[..n + 1], b"/dev/pts/0\0");
        let n = pts_name(4_294_967_295, &mut buf);
        assert_eq!(&buf[..n], b"/dev/pts/4294967295");
    }

    #[test]
    fn setup_runs_the_runc_sequence() {
        let t = TtyRecorder {
            pty: 3,
            ..Default::default()
        };
        assert_eq!(setup(&plan(), &t), Ok(11));
        assert_eq!(
            t.calls.borrow().as_slice(),
            [
                "open /dev/ptmx",
                "unlock 10",
                "ptn 10",
                "peer 10",
                "winsize 10 100x30",
                "fchown 11 1000:1000",
                "create /dev/console",
                "bind /dev/pts/3 /dev/console",
                "send 7 10 /dev/pts/3",
                "close 10",
                "setsid",
                "ctty 11",
            ]
        );
    }

    #[test]
    fn without_rootfs_or_size_nothing_is_bound() {
        let t = TtyRecorder::default();
        let c = PreparedConsole {
            socket: 7,
            size: None,
            bind_console: false,
            owner: None,
            setsid: false,
        };
        assert_eq!(setup(&c, &t), Ok(11));
        assert_eq!(
            t.calls.borrow().as_slice(),
            [
                "open /dev/ptmx",
                "unlock 10",
                "ptn 10",
                "peer 10",
                "send 7 10 /dev/pts/0",
                "close 10",
                "ctty 11"
            ]
        );
    }

    #[test]
    fn old_kernels_open_the_slave_by_name() {
        let t = TtyRecorder {
            pty: 12,
            fail: Some(("peer".into(), libc::EINVAL)),
            ..Default::default()
        };
        let c = PreparedConsole {
            socket: 7,
            size: None,
            bind_console: false,
            owner: None,
            setsid: false,
        };
        assert_eq!(setup(&c, &t), Ok(11));
        assert!(t.calls.borrow().contains(&"open /dev/pts/12".to_string()));
    }

    #[test]
    fn failures_name_the_sub_step_and_close_both_ends() {
        let t = TtyRecorder {
            fail: Some(("bind".into(), libc::EPERM)),
            ..Default::default()
        };
        assert_eq!(setup(&plan(), &t), Err((Sub::BindConsole, libc::EPERM)));
        let calls = t.calls.borrow();
        assert!(
            calls.contains(&"close 11".to_string()),
            "slave closed: {calls:?}"
        );
        assert_eq!(calls.last().unwrap(), "close 10");
        assert!(!calls.iter().any(|c| c.starts_with("send")));

        let t = TtyRecorder {
            fail: Some(("open /dev/ptmx".into(), libc::ENOENT)),
            ..Default::default()
        };
        assert_eq!(setup(&plan(), &t), Err((Sub::OpenPtmx, libc::ENOENT)));
        let t = TtyRecorder {
            fail: Some(("ctty".into(), libc::EPERM)),
            ..Default::default()
        };
        assert_eq!(setup(&plan(), &t), Err((Sub::Ctty, libc::EPERM)));
        for n in 1..=11 {
            let s = Sub::from_u32(n).unwrap();
            assert_eq!(s as u32, n);
            assert!(!s.describe().1.is_empty());
        }
        assert_eq!(Sub::from_u32(0), None);
    }

    #[test]
    fn fds_cross_a_socketpair() {
        let mut sv = [0; 2];
        assert_eq!(
            unsafe {
                libc::socketpair(
                    libc::AF_UNIX,
                    libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                    0,
                    sv.as_mut_ptr(),
                )
            },
            0
        );
        let f = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        send_fd(sv[0], f.as_raw_fd(), b"/dev/pts/9").unwrap();
        let (fd, name) = recv_fd(sv[1], libc::MSG_DONTWAIT).unwrap().unwrap();
        assert_eq!(name, b"/dev/pts/9");
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        assert_eq!(link.to_str(), Some("/dev/null"));
        assert_eq!(
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) } & libc::FD_CLOEXEC,
            libc::FD_CLOEXEC
        );
        unsafe { libc::close(sv[0]) };
        assert!(recv_fd(sv[1], 0).unwrap().is_none());
        unsafe { libc::close(sv[1]) };
    }
}
