//! Persistent namespaces: keep a namespace alive after its last process
//! exits by bind-mounting its ns file to a path (as `ip netns add` and
//! `unshare --net=FILE` do), and release it again.

use crate::kinds::NamespaceKind;
use crate::Code;
use ctr_common::Error;
use std::ffi::CString;
use std::path::Path;

fn cpath(p: &str) -> Result<CString, Error> {
    CString::new(p)
        .map_err(|_| Error::new(Code::InvalidOption, "path contains a NUL byte").with_field("path"))
}

/// Bind-mount `/proc/<pid>/ns/<kind>` onto `path` (created as an empty
/// file; its directory must exist). `pid` 0 means this process.
pub fn persist(pid: i32, kind: NamespaceKind, path: &str) -> Result<(), Error> {
    let src = if pid == 0 {
        format!("/proc/self/ns/{}", kind.proc_name())
    } else {
        format!("/proc/{pid}/ns/{}", kind.proc_name())
    };
    if !Path::new(&src).exists() {
        return Err(Error::sys(
            Code::Persist,
            "stat",
            libc::ESRCH,
            format!("no {} namespace at {src}", kind.proc_name()),
        )
        .with_path(&src));
    }
    let cdst = cpath(path)?;
    let fd = unsafe {
        libc::open(
            cdst.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            0o444,
        )
    };
    if fd < 0 {
        return Err(
            Error::last_os(Code::Persist, "open", format!("create {path}")).with_path(path),
        );
    }
    unsafe { libc::close(fd) };
    let csrc = cpath(&src)?;
    let rc = unsafe {
        libc::mount(
            csrc.as_ptr(),
            cdst.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let e =
            Error::last_os(Code::Persist, "mount", format!("bind {src} to {path}")).with_path(path);
        unsafe { libc::unlink(cdst.as_ptr()) };
        return Err(e);
    }
    Ok(())
}

/// Undo [`persist`]: detach the bind mount and remove the file. The
/// namespace goes away once nothing else holds it.
pub fn release(path: &str) -> Result<(), Error> {
    let c = cpath(path)?;
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) } < 0 {
        return Err(
            Error::last_os(Code::Persist, "umount2", format!("unmount {path}")).with_path(path),
        );
    }
    if unsafe { libc::unlink(c.as_ptr()) } < 0 {
        return Err(
            Error::last_os(Code::Persist, "unlink", format!("remove {path}")).with_path(path),
        );
    }
    Ok(())
}
