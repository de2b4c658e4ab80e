//! User notification: the listener fd's ioctls (receive a request, check
//! its id is still valid, send a response), reading the target's memory
//! safely, and the OCI `listenerPath` protocol (the fd and the container
//! state sent to an agent's unix socket with SCM_RIGHTS).

use crate::bpf::SeccompData;
use crate::Code;
use crate::{Error, Result};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};

#[repr(C)]
#[derive(Default)]
struct RawData {
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

#[repr(C)]
#[derive(Default)]
struct RawNotif {
    id: u64,
    pid: u32,
    flags: u32,
    data: RawData,
}

#[repr(C)]
#[derive(Default)]
struct RawResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

const fn iowr(nr: u64, size: usize) -> u64 {
    (3 << 30) | ((size as u64) << 16) | ((b'!' as u64) << 8) | nr
}
const NOTIF_RECV: u64 = iowr(0, std::mem::size_of::<RawNotif>());
const NOTIF_SEND: u64 = iowr(1, std::mem::size_of::<RawResp>());
// SECCOMP_IOCTL_NOTIF_ID_VALID is _IOW('!', 2, __u64).
const NOTIF_ID_VALID: u64 = (1 << 30) | (8 << 16) | ((b'!' as u64) << 8) | 2;
const USER_NOTIF_FLAG_CONTINUE: u32 = 1;

/// A system call a filtered process is blocked in, waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Cookie identifying it; pass it back in the answer.
    pub id: u64,
    /// Pid of the caller, in the listener's pid namespace.
    pub pid: u32,
    /// What the filter saw.
    pub data: SeccompData,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// Fail the call with this errno.
    Errno(i32),
    /// Make the call return this value without running it.
    Value(i64),
    /// Let the kernel run the call as if unfiltered (not a security
    /// boundary: the target may change its memory meanwhile).
    Continue,
}

fn ioctl(fd: RawFd, req: u64, arg: *mut libc::c_void) -> std::io::Result<()> {
    // SAFETY: callers pass a pointer to the struct the request expects.
    if unsafe { libc::ioctl(fd, req as _, arg) } < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Receive one request (blocks when none is pending: poll the fd first).
/// `Ok(None)` when the target went away before it was read (ENOENT).
pub fn recv(fd: BorrowedFd<'_>) -> Result<Option<Request>> {
    let mut n = RawNotif::default();
    loop {
        match ioctl(
            fd.as_raw_fd(),
            NOTIF_RECV,
            &mut n as *mut RawNotif as *mut _,
        ) {
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => {
                return Err(Error::io(
                    Code::Notify,
                    "ioctl",
                    &e,
                    "receive a seccomp notification",
                ))
            }
        }
    }
    Ok(Some(Request {
        id: n.id,
        pid: n.pid,
        data: SeccompData {
            nr: n.data.nr,
            arch: n.data.arch,
            instruction_pointer: n.data.ip,
            args: n.data.args,
        },
    }))
}

/// Whether the request `id` is still pending (its caller alive and
/// waiting). Check after reading the target's memory and before acting on it.
pub fn id_valid(fd: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    ioctl(
        fd.as_raw_fd(),
        NOTIF_ID_VALID,
        &mut id as *mut u64 as *mut _,
    )
    .is_ok()
}

/// Answer a request. `Ok(false)` when it is no longer pending (ENOENT: the
/// caller died or was interrupted).
pub fn respond(fd: BorrowedFd<'_>, id: u64, r: Response) -> Result<bool> {
    let mut resp = RawResp {
        id,
        ..Default::default()
    };
    match r {
        Response::Errno(e) => {
            if e <= 0 || e > 4095 {
                return Err(
                    Error::new(Code::Notify, format!("errno must be 1 to 4095, not {e}"))
                        .with_field("errno"),
                );
            }
            resp.error = -e
        }
        Response::Value(v) => resp.val = v,
        Response::Continue => resp.flags = USER_NOTIF_FLAG_CONTINUE,
    }
    match ioctl(
        fd.as_raw_fd(),
        NOTIF_SEND,
        &mut resp as *mut RawResp as *mut _,
    ) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(Error::io(
            Code::Notify,
            "ioctl",
            &e,
            "send a seccomp notification response",
        )),
    }
}

/// Read a NUL-terminated string (at most `max` bytes) at `addr` in the
/// memory of the request's caller, then check the request is still valid
/// so the pid was not reused meanwhile.
pub fn read_string(fd: BorrowedFd<'_>, req: &Request, addr: u64, max: usize) -> Result<String> {
    let path = format!("/proc/{}/mem", req.pid);
    let f = std::fs::File::open(&path).map_err(|e| {
        Error::io(Code::Notify, "open", &e, format!("open {path}")).with_path(&path)
    })?;
    let mut buf = vec![0u8; max];
    let n = std::os::unix::fs::FileExt::read_at(&f, &mut buf, addr).map_err(|e| {
        Error::io(
            Code::Notify,
            "pread",
            &e,
            format!("read {path} at {addr:#x}"),
        )
        .with_path(&path)
    })?;
    buf.truncate(n);
    if !id_valid(fd, req.id) {
        return Err(
            Error::new(Code::NotifyGone, "the notification is no longer valid")
                .with_errno(libc::ENOENT),
        );
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// The OCI `listenerPath` protocol: connect to the agent's unix socket and
/// send `state` (the container process state JSON, with `fds:
/// ["seccompFd"]`) in one message carrying the listener fd as SCM_RIGHTS.
pub fn send_listener(path: &str, fd: BorrowedFd<'_>, state: &[u8]) -> Result<()> {
    let sock = UnixStream::connect(path).map_err(|e| {
        Error::io(Code::Listener, "connect", &e, format!("connect to {path}")).with_path(path)
    })?;
    let raw = fd.as_raw_fd();
    // SAFETY: msghdr/cmsg set up by the libc macros over buffers that live
    // for the call; the fd is borrowed for the duration.
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut cbuf = vec![0u8; space];
        let mut iov = libc::iovec {
            iov_base: state.as_ptr() as *mut _,
            iov_len: state.len(),
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut _;
        msg.msg_controllen = space;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::copy_nonoverlapping(
            &raw as *const RawFd as *const u8,
            libc::CMSG_DATA(c),
            std::mem::size_of::<RawFd>(),
        );
        let n = libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL);
        if n < 0 {
            return Err(Error::last_os(
                Code::Listener,
                "sendmsg",
                format!("send the listener fd to {path}"),
            )
            .with_path(path));
        }
        if (n as usize) != state.len() {
            return Err(Error::new(
                Code::Listener,
                format!("short write of the state to {path}"),
            )
            .with_path(path));
        }
    }
    Ok(())
}

/// The agent's side of `listenerPath`: accept one connection and read the
/// state JSON and the listener fd sent with it.
pub fn accept_listener(listener: &UnixListener) -> Result<(Vec<u8>, OwnedFd)> {
    let (sock, _) = listener
        .accept()
        .map_err(|e| Error::io(Code::Listener, "accept", &e, "accept an agent connection"))?;
    recv_listener(&sock)
}

/// Read the state JSON and the listener fd from a connected runtime.
pub fn recv_listener(sock: &UnixStream) -> Result<(Vec<u8>, OwnedFd)> {
    let mut data = vec![0u8; 1 << 16];
    // SAFETY: as in send_listener; the received fd is taken into an OwnedFd.
    unsafe {
        let space = libc::CMSG_SPACE((4 * std::mem::size_of::<RawFd>()) as u32) as usize;
        let mut cbuf = vec![0u8; space];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr() as *mut _,
            iov_len: data.len(),
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut _;
        msg.msg_controllen = space;
        let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(Error::last_os(
                Code::Listener,
                "recvmsg",
                "receive the listener fd",
            ));
        }
        data.truncate(n as usize);
        let mut fd = None;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count =
                    ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                for k in 0..count {
                    let mut raw: RawFd = -1;
                    std::ptr::copy_nonoverlapping(
                        libc::CMSG_DATA(c).add(k * std::mem::size_of::<RawFd>()),
                        &mut raw as *mut RawFd as *mut u8,
                        std::mem::size_of::<RawFd>(),
                    );
                    let owned = OwnedFd::from_raw_fd(raw);
                    if fd.is_none() {
                        fd = Some(owned);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        let fd =
            fd.ok_or_else(|| Error::new(Code::Listener, "the message carried no file descriptor"))?;
        Ok((data, fd))
    }
}

/// The architecture name (`x86_64`, `x32`, `x86`) and system call name of
/// what a filter saw, where libseccomp knows them.
pub fn describe(d: &SeccompData) -> (Option<&'static str>, Option<String>) {
    use libseccomp::{ScmpArch, ScmpSyscall};
    let (name, arch) = match (d.arch, d.nr & 0x4000_0000 != 0) {
        (0xc000_003e, false) => ("x86_64", ScmpArch::X8664),
        (0xc000_003e, true) => ("x32", ScmpArch::X32),
        (0x4000_0003, _) => ("x86", ScmpArch::X86),
        _ => return (None, None),
    };
    (
        Some(name),
        ScmpSyscall::from(d.nr).get_name_by_arch(arch).ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn ioctl_numbers_match_the_kernel_headers() {
        assert_eq!(std::mem::size_of::<RawNotif>(), 80);
        assert_eq!(std::mem::size_of::<RawResp>(), 24);
        assert_eq!(NOTIF_RECV, 0xc050_2100);
        assert_eq!(NOTIF_SEND, 0xc018_2101);
        assert_eq!(NOTIF_ID_VALID, 0x4008_2102);
    }

    #[test]
    fn listener_path_sends_fd_and_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let l = UnixListener::bind(&path).unwrap();
        let (r, _w) = std::os::unix::net::UnixStream::pair().unwrap();
        let p = path.to_str().unwrap().to_string();
        let h = std::thread::spawn(move || accept_listener(&l).unwrap());
        send_listener(
            &p,
            r.as_fd(),
            br#"{"ociVersion":"1.2.0","fds":["seccompFd"]}"#,
        )
        .unwrap();
        let (state, fd) = h.join().unwrap();
        assert_eq!(state, br#"{"ociVersion":"1.2.0","fds":["seccompFd"]}"#);
        // the received fd is the same open file
        let a = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        let b = std::fs::read_link(format!("/proc/self/fd/{}", r.as_raw_fd())).unwrap();
        assert_eq!(a, b);
        let e = send_listener(
            dir.path().join("none.sock").to_str().unwrap(),
            r.as_fd(),
            b"{}",
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.errno),
            (Code::Listener.as_str(), Some(libc::ENOENT))
        );
    }
}
