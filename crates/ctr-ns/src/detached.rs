//! Detached mounts made by the parent before the clone (see
//! [`crate::rootfs::Detached`]): a tmpfs filled with a copy of what it will
//! cover (`tmpcopyup`), and id-mapped clones of bind sources (`idmap`,
//! `ridmap`). The child only attaches them with `move_mount(2)`.
//!
//! Why here and not in the child: the copy walks a directory tree of any
//! size and the id map needs a helper process in a new user namespace;
//! neither fits a child that may not allocate (DESIGN.md, fork safety).
//! A detached mount belongs to no mount namespace: nothing of it is ever
//! visible on the host, and closing its last fd (the parent's and the
//! child's copies; the child's at exec or exit) dissolves it unless the
//! child attached it.

// `MS_*` constants are `c_ulong` on some targets: the casts are kept.
#![allow(clippy::unnecessary_cast)]

use crate::idmap::{map_text, IdMap};
use crate::rootfs::{Detached, RootfsPlan};
use crate::syscalls::{sys_mount_setattr, MountAttr, AT_RECURSIVE, MOUNT_ATTR_IDMAP};
use crate::syscalls::{
    MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MOUNT_ATTR_STRICTATIME,
};
use crate::Code;
use ctr_common::Error;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FSOPEN_CLOEXEC: u32 = 1;
const FSMOUNT_CLOEXEC: u32 = 1;
const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const OPEN_TREE_CLONE: u32 = 1;

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

fn cp(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn last(code: &str, syscall: &str, what: String) -> Error {
    Error::last_os(code, syscall, what)
}

impl RootfsPlan {
    /// Make the detached mounts of [`RootfsPlan::detached`] (in order, into
    /// [`RootfsPlan::detached_fds`]). Runs in the parent, before the clone.
    pub fn prepare_detached(&mut self) -> Result<(), Error> {
        let mut fds = Vec::with_capacity(self.detached.len());
        for d in &self.detached {
            fds.push(match d {
                Detached::Tmpfs {
                    source,
                    data,
                    flags,
                    root,
                    copy_from,
                    field,
                } => tmpfs_copyup(source, data, *flags, root, copy_from, field)?,
                Detached::IdmapBind {
                    source,
                    recursive,
                    recursive_idmap,
                    uid,
                    gid,
                    field,
                } => idmapped_clone(source, *recursive, *recursive_idmap, uid, gid, field)?,
            });
        }
        self.detached_fds = fds;
        Ok(())
    }
}

/// `MS_*` flags of a mount as `MOUNT_ATTR_*` for `fsmount(2)` (without
/// `MOUNT_ATTR_RDONLY`: set after the copy).
fn ms_to_attr(flags: u64) -> u64 {
    let mut a = 0;
    for (ms, attr) in [
        (libc::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
        (libc::MS_NOATIME, MOUNT_ATTR_NOATIME),
        (libc::MS_STRICTATIME, MOUNT_ATTR_STRICTATIME),
        (libc::MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
    ] {
        if flags & ms as u64 != 0 {
            a |= attr;
        }
    }
    if flags & crate::rootfs::MS_NOSYMFOLLOW != 0 {
        a |= crate::syscalls::MOUNT_ATTR_NOSYMFOLLOW;
    }
    a
}

/// A new detached tmpfs with `data`, filled with a copy of `from` (a path
/// in the rootfs `root`, when it is a directory there), then made
/// read-only if `flags` ask for it.
pub fn tmpfs_copyup(
    source: &str,
    data: &str,
    flags: u64,
    root: &Path,
    from: &Path,
    field: &str,
) -> Result<OwnedFd, Error> {
    let code = Code::Mount.as_str();
    let fs = unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) };
    if fs < 0 {
        return Err(last(
            code,
            "fsopen",
            format!("{field}: create a tmpfs for tmpcopyup (fsopen, Linux 5.2 or later)"),
        ));
    }
    let fs = unsafe { OwnedFd::from_raw_fd(fs as i32) };
    let mut has_mode = false;
    let src = format!("source={source}");
    let mut opts: Vec<&str> = vec![src.as_str()];
    opts.extend(data.split(',').filter(|o| !o.is_empty()));
    if flags & libc::MS_SYNCHRONOUS as u64 != 0 {
        opts.push("sync");
    }
    if flags & libc::MS_DIRSYNC as u64 != 0 {
        opts.push("dirsync");
    }
    for o in opts {
        let r = match o.split_once('=') {
            Some((k, v)) => {
                has_mode |= k == "mode";
                let (k, v) = (c(k), c(v));
                unsafe {
                    libc::syscall(
                        libc::SYS_fsconfig,
                        fs.as_raw_fd(),
                        FSCONFIG_SET_STRING,
                        k.as_ptr(),
                        v.as_ptr(),
                        0,
                    )
                }
            }
            None => {
                let k = c(o);
                unsafe {
                    libc::syscall(
                        libc::SYS_fsconfig,
                        fs.as_raw_fd(),
                        FSCONFIG_SET_FLAG,
                        k.as_ptr(),
                        std::ptr::null::<u8>(),
                        0,
                    )
                }
            }
        };
        if r < 0 {
            return Err(last(
                Code::InvalidOption.as_str(),
                "fsconfig",
                format!("{field}: tmpfs option {o:?}"),
            )
            .with_field(format!("{field}.options")));
        }
    }
    if unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<u8>(),
            std::ptr::null::<u8>(),
            0,
        )
    } < 0
    {
        return Err(last(code, "fsconfig", format!("{field}: create the tmpfs")));
    }
    let m = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            ms_to_attr(flags),
        )
    };
    if m < 0 {
        return Err(last(code, "fsmount", format!("{field}: mount the tmpfs")));
    }
    let m = unsafe { OwnedFd::from_raw_fd(m as i32) };
    // What the tmpfs covers, opened beneath the rootfs without following
    // any symlink (one swapped in since planning cannot lead to the host);
    // the walk then goes by fds and single names, never by host paths.
    let rel = from.strip_prefix(root).unwrap_or(Path::new(""));
    let src = match open_beneath_root(root, rel) {
        Ok(fd) => Some(fd),
        Err(e) if e == libc::ENOENT || e == libc::ENOTDIR => None, // nothing to copy
        Err(e) => {
            return Err(Error::sys(
                code,
                "openat2",
                e,
                format!("{field}: tmpcopyup: open {} in the rootfs", from.display()),
            )
            .with_path(from))
        }
    };
    if let Some(src) = src {
        let meta = std::fs::metadata(fdp(src.as_raw_fd())).map_err(|e| {
            Error::io(
                code,
                "fstat",
                &e,
                format!("{field}: tmpcopyup: stat {}", from.display()),
            )
            .with_path(from)
        })?;
        // The tmpfs root through its fd; /proc/self/fd/N resolves to it.
        let troot = fdp(m.as_raw_fd());
        copy_tree(&src, from, &troot)?;
        let croot = cp(&troot);
        if unsafe { libc::chown(croot.as_ptr(), meta.uid(), meta.gid()) } < 0 {
            return Err(last(
                code,
                "chown",
                format!(
                    "{field}: tmpcopyup: own the tmpfs root like {}",
                    from.display()
                ),
            )
            .with_path(from));
        }
        if !has_mode {
            set_mode(&troot, meta.mode() & 0o7777)?;
        }
        set_times(&troot, &meta)?;
    }
    if flags & libc::MS_RDONLY as u64 != 0 {
        let e = sys_mount_setattr(
            m.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as u32,
            &MountAttr {
                attr_set: MOUNT_ATTR_RDONLY,
                ..Default::default()
            },
        );
        if e != 0 {
            return Err(Error::sys(
                code,
                "mount_setattr",
                e,
                format!("{field}: make the tmpfs read-only"),
            ));
        }
    }
    Ok(m)
}

fn set_mode(p: &Path, mode: u32) -> Result<(), Error> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        Error::io(
            Code::Mount,
            "chmod",
            &e,
            format!("tmpcopyup: chmod {}", p.display()),
        )
        .with_path(p)
    })
}

fn set_times(p: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    let ts = [
        libc::timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        libc::timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    ];
    let c = cp(p);
    if unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } < 0
    {
        return Err(last(
            Code::Mount.as_str(),
            "utimensat",
            format!("tmpcopyup: set the times of {}", p.display()),
        )
        .with_path(p));
    }
    Ok(())
}

/// `/proc/self/fd/N`: through this magic link a path names exactly the
/// opened file, whatever has been renamed or swapped since.
fn fdp(fd: i32) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{fd}"))
}

/// `rel` opened as a directory beneath `root`, no symlink followed.
fn open_beneath_root(root: &Path, rel: &Path) -> Result<OwnedFd, i32> {
    use crate::syscalls::Syscalls;
    let raw = crate::syscalls::Raw;
    let dir = raw.open_dir(cp(root).as_ptr())?;
    let dir = unsafe { OwnedFd::from_raw_fd(dir) };
    if rel.as_os_str().is_empty() {
        return Ok(dir);
    }
    let fd = raw.open_beneath(
        dir.as_raw_fd(),
        cp(rel).as_ptr(),
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
    )?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `name` in the directory `dir`, opened without following a symlink.
fn open_in(dir: &OwnedFd, name: &std::ffi::OsStr, flags: i32) -> std::io::Result<OwnedFd> {
    let c = CString::new(name.as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Copy the contents of the directory open at `from` (`what` names it in
/// errors) into the directory `to`: files, directories, symlinks (copied,
/// never followed), device nodes and FIFOs, with their modes, owners and
/// times. Sockets are skipped; hard links become copies; extended
/// attributes are not copied. Every source is reached as `<dir fd>/<name>`.
pub fn copy_tree(from: &OwnedFd, what: &Path, to: &Path) -> Result<(), Error> {
    let io = |e: std::io::Error, sys: &str, verb: &str, p: &Path| {
        Error::io(
            Code::Mount,
            sys,
            &e,
            format!("tmpcopyup: {verb} {}", p.display()),
        )
        .with_path(p)
    };
    let base = fdp(from.as_raw_fd());
    let entries = std::fs::read_dir(&base).map_err(|e| io(e, "open", "read", what))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(e, "getdents64", "read", what))?;
        let name = entry.file_name();
        let src = base.join(&name);
        let shown = what.join(&name);
        let dst = to.join(&name);
        let meta = std::fs::symlink_metadata(&src).map_err(|e| io(e, "lstat", "stat", &shown))?;
        let ft = meta.file_type();
        let cdst = cp(&dst);
        if ft.is_dir() {
            let sub = open_in(from, &name, libc::O_RDONLY | libc::O_DIRECTORY)
                .map_err(|e| io(e, "openat", "open", &shown))?;
            std::fs::create_dir(&dst).map_err(|e| io(e, "mkdir", "create", &dst))?;
            copy_tree(&sub, &shown, &dst)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| io(e, "readlink", "read", &shown))?;
            std::os::unix::fs::symlink(&target, &dst)
                .map_err(|e| io(e, "symlink", "create", &dst))?;
        } else if ft.is_file() {
            // O_NONBLOCK: a FIFO swapped in after the lstat cannot hang us.
            let fd = open_in(from, &name, libc::O_RDONLY | libc::O_NONBLOCK)
                .map_err(|e| io(e, "openat", "read", &shown))?;
            let mut r = std::fs::File::from(fd);
            if !r.metadata().map(|m| m.is_file()).unwrap_or(false) {
                continue; // changed under us: not what was listed
            }
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dst)
                .map_err(|e| io(e, "open", "create", &dst))?;
            std::io::copy(&mut r, &mut w).map_err(|e| io(e, "copy_file_range", "copy", &shown))?;
        } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
            if unsafe { libc::mknod(cdst.as_ptr(), meta.mode(), meta.rdev()) } < 0 {
                return Err(last(
                    Code::Mount.as_str(),
                    "mknod",
                    format!("tmpcopyup: create {}", dst.display()),
                )
                .with_path(&dst));
            }
        } else {
            continue; // a socket: meaningless without its listener
        }
        if unsafe { libc::lchown(cdst.as_ptr(), meta.uid(), meta.gid()) } < 0 {
            return Err(last(
                Code::Mount.as_str(),
                "lchown",
                format!("tmpcopyup: own {}", dst.display()),
            )
            .with_path(&dst));
        }
        if !ft.is_symlink() {
            // After the chown, which clears set-id bits.
            set_mode(&dst, meta.mode() & 0o7777)?;
        }
        set_times(&dst, &meta)?;
    }
    Ok(())
}

/// A user namespace with `uid`/`gid` maps, as an fd (`/proc/PID/ns/user`
/// of a short-lived helper made with `clone3(CLONE_NEWUSER)`; the helper
/// makes only raw system calls and is reaped before this returns).
pub fn userns_with_maps(uid: &[IdMap], gid: &[IdMap]) -> Result<OwnedFd, Error> {
    let code = Code::IdMap.as_str();
    let mut p = [-1i32; 2];
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(last(code, "pipe2", "pipe for the id-map helper".into()));
    }
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) };
    let mut args = crate::sys::CloneArgs {
        flags: libc::CLONE_NEWUSER as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    let (rfd, wfd) = (r.as_raw_fd(), w.as_raw_fd());
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = crate::sys::clone3(&mut args);
        if pid == 0 {
            // The helper: raw system calls only, signals stay blocked.
            libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::syscall(libc::SYS_close, wfd);
            let mut b = 0u8;
            libc::syscall(libc::SYS_read, rfd, &mut b as *mut u8, 1usize);
            libc::syscall(libc::SYS_exit_group, 0);
        }
        let e = crate::sys::errno();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(Error::sys(
                code,
                "clone3",
                e,
                "create a user namespace for an id-mapped mount",
            ));
        }
        pid as i32
    };
    let result = (|| {
        for (file, maps) in [("uid_map", uid), ("gid_map", gid)] {
            let path = format!("/proc/{pid}/{file}");
            std::fs::write(&path, map_text(maps)).map_err(|e| {
                Error::io(
                    code,
                    "write",
                    &e,
                    format!("write {file} of the id-mapped mount's user namespace"),
                )
                .with_path(&path)
            })?;
        }
        let path = c(&format!("/proc/{pid}/ns/user"));
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(last(code, "open", format!("open /proc/{pid}/ns/user")));
        }
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    })();
    drop(w);
    let mut st = 0;
    while unsafe { libc::waitpid(pid, &mut st, libc::__WALL) } < 0
        && crate::sys::errno() == libc::EINTR
    {}
    drop(r);
    result
}

/// A detached clone of `source` (`open_tree(OPEN_TREE_CLONE)`, its
/// submounts too when `recursive`) mapped with `uid`/`gid`
/// (`mount_setattr(MOUNT_ATTR_IDMAP)`, every submount when
/// `recursive_idmap`).
pub fn idmapped_clone(
    source: &str,
    recursive: bool,
    recursive_idmap: bool,
    uid: &[IdMap],
    gid: &[IdMap],
    field: &str,
) -> Result<OwnedFd, Error> {
    let code = Code::Mount.as_str();
    let userns =
        userns_with_maps(uid, gid).map_err(|e| e.with_field(format!("{field}.uidMappings")))?;
    let src = c(source);
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as u32;
    if recursive {
        flags |= AT_RECURSIVE;
    }
    let t = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, src.as_ptr(), flags) };
    if t < 0 {
        return Err(last(
            code,
            "open_tree",
            format!("{field}: clone the bind source {source} (open_tree, Linux 5.2 or later)"),
        )
        .with_path(source));
    }
    let t = unsafe { OwnedFd::from_raw_fd(t as i32) };
    let mut at = libc::AT_EMPTY_PATH as u32;
    if recursive_idmap {
        at |= AT_RECURSIVE;
    }
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        userns_fd: userns.as_raw_fd() as u64,
        ..Default::default()
    };
    let e = sys_mount_setattr(t.as_raw_fd(), c"".as_ptr(), at, &attr);
    if e != 0 {
        let hint = match e {
            libc::ENOSYS => " (mount_setattr needs Linux 5.12 or later)",
            libc::EINVAL => " (the file system of the source does not support id-mapped mounts on this kernel, e.g. tmpfs before Linux 6.3)",
            _ => "",
        };
        return Err(Error::sys(
            code,
            "mount_setattr",
            e,
            format!("{field}: id-map the bind of {source}{hint}"),
        )
        .with_path(source));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_or_skip() -> bool {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: fsopen/fsmount need root");
            return false;
        }
        true
    }

    #[test]
    fn copyup_copies_links_as_links_and_refuses_a_swapped_in_symlink() {
        if !root_or_skip() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let (root, outside) = (d.path().join("root"), d.path().join("outside"));
        std::fs::create_dir_all(root.join("etc/sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("host-secret"), "no").unwrap();
        std::fs::write(root.join("etc/sub/f"), "f").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("etc/out")).unwrap();
        let m = tmpfs_copyup("tmpfs", "size=1m", 0, &root, &root.join("etc"), "mounts[0]").unwrap();
        let t = fdp(m.as_raw_fd());
        assert_eq!(std::fs::read_to_string(t.join("sub/f")).unwrap(), "f");
        assert_eq!(
            std::fs::read_link(t.join("out")).unwrap(),
            outside,
            "the link is copied, not followed"
        );
        assert!(std::fs::symlink_metadata(t.join("out"))
            .unwrap()
            .file_type()
            .is_symlink());
        // A detached mount: in no mount namespace, so not in our mountinfo.
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!info.contains(d.path().to_str().unwrap()));
        drop(m);
        // What the tmpfs covers became a symlink after planning: refused.
        std::fs::remove_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("etc")).unwrap();
        let e = tmpfs_copyup("tmpfs", "", 0, &root, &root.join("etc"), "mounts[0]").unwrap_err();
        assert_eq!(
            (e.errno, e.syscall.as_deref()),
            (Some(libc::ELOOP), Some("openat2")),
            "{e:?}"
        );
        // Nothing there at all: an empty tmpfs.
        std::fs::remove_file(root.join("etc")).unwrap();
        let m = tmpfs_copyup("tmpfs", "", 0, &root, &root.join("etc"), "mounts[0]").unwrap();
        assert_eq!(std::fs::read_dir(fdp(m.as_raw_fd())).unwrap().count(), 0);
    }

    #[test]
    fn a_bad_tmpfs_option_is_named() {
        if !root_or_skip() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let e = tmpfs_copyup(
            "tmpfs",
            "size=1m,bogus=2",
            0,
            d.path(),
            &d.path().join("x"),
            "mounts[3]",
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::InvalidOption.as_str(), Some("mounts[3].options"))
        );
        assert!(e.message.contains("bogus=2"), "{e:?}");
    }

    #[test]
    fn userns_helper_gives_a_new_user_namespace_and_is_gone() {
        if !root_or_skip() {
            return;
        }
        let fd = userns_with_maps(
            &[IdMap {
                inside: 0,
                outside: 1000,
                count: 10,
            }],
            &[IdMap {
                inside: 0,
                outside: 2000,
                count: 5,
            }],
        )
        .unwrap();
        // A user namespace (NS_GET_NSTYPE), not ours.
        let t = unsafe { libc::ioctl(fd.as_raw_fd(), 0xb703) };
        assert_eq!(t, libc::CLONE_NEWUSER);
        let ours = std::fs::metadata("/proc/self/ns/user").unwrap().ino();
        assert_ne!(std::fs::metadata(fdp(fd.as_raw_fd())).unwrap().ino(), ours);
        // The helper is gone (it was the namespace's only process): no
        // process is in that namespace any more.
        let ns = std::fs::metadata(fdp(fd.as_raw_fd())).unwrap().ino();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(m) = std::fs::metadata(e.path().join("ns/user")) {
                assert_ne!(
                    m.ino(),
                    ns,
                    "a process is still in the helper's namespace: {:?}",
                    e.file_name()
                );
            }
        }
    }
}
