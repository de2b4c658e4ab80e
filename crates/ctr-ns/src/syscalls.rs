//! The kernel surface the mount/rootfs plan uses, as a trait: the child
//! runs the plan against [`Raw`] (direct system calls, no allocation), unit
//! tests run it against [`fake::Recorder`] without root.
//!
//! Every method returns 0 or an errno (never `-1` plus a global errno), so
//! the executor can report failures without touching anything but its
//! arguments. Pointer arguments are NUL-terminated strings prepared before
//! the clone (hence safe functions taking raw pointers).
#![allow(clippy::not_unsafe_ptr_arg_deref, clippy::unnecessary_cast)]

use libc::c_char;

/// What `fstatat(AT_SYMLINK_NOFOLLOW)` found at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Nothing there.
    Missing,
    /// A directory.
    Dir,
    /// Anything else (file, device, symlink).
    Other,
}

/// The system calls of the rootfs plan.
pub trait Syscalls {
    /// `mount(2)`.
    fn mount(
        &self,
        src: *const c_char,
        dst: *const c_char,
        fstype: *const c_char,
        flags: u64,
        data: *const c_char,
    ) -> i32;
    /// `umount2(2)`.
    fn umount2(&self, path: *const c_char, flags: i32) -> i32;
    /// `mkdir(2)`; `EEXIST` is returned as is.
    fn mkdir(&self, path: *const c_char, mode: u32) -> i32;
    /// `mknod(2)`.
    fn mknod(&self, path: *const c_char, mode: u32, dev: u64) -> i32;
    /// `unlinkat(2)` of `name` in the directory `dirfd` (a file, not a
    /// directory); `ENOENT` is returned as is.
    fn unlinkat(&self, dirfd: i32, name: *const c_char) -> i32;
    /// `fchownat(fd, "", uid, gid, AT_EMPTY_PATH)`: the owner of what an
    /// (`O_PATH`) fd refers to.
    fn fchown_fd(&self, fd: i32, uid: u32, gid: u32) -> i32;
    /// `mknodat(2)` of `name` in the directory `dirfd`.
    fn mknodat(&self, dirfd: i32, name: *const c_char, mode: u32, dev: u64) -> i32;
    /// `symlinkat(2)`: `name` in the directory `dirfd` pointing to `target`.
    fn symlinkat(&self, target: *const c_char, dirfd: i32, name: *const c_char) -> i32;
    /// `symlink(2)`.
    fn symlink(&self, target: *const c_char, link: *const c_char) -> i32;
    /// Create an empty file (`open(O_CREAT|O_NOFOLLOW)` then `close`).
    fn create_file(&self, path: *const c_char) -> i32;
    /// `pivot_root(2)`.
    fn pivot_root(&self, new_root: *const c_char, put_old: *const c_char) -> i32;
    /// `chdir(2)`.
    fn chdir(&self, path: *const c_char) -> i32;
    /// `chroot(2)`.
    fn chroot(&self, path: *const c_char) -> i32;
    /// `umask(2)`.
    fn umask(&self, mask: u32);
    /// The `MS_*` flags a bind remount must keep (from `statfs(2)`).
    fn mount_flags(&self, path: *const c_char) -> Result<u64, i32>;
    /// What is at `path`, symlinks not followed.
    fn kind(&self, path: *const c_char) -> Result<Kind, i32>;
    /// `open(path, O_PATH|O_DIRECTORY|O_CLOEXEC)`.
    fn open_dir(&self, path: *const c_char) -> Result<i32, i32>;
    /// `openat2(dirfd, rel, flags|O_CLOEXEC, mode)` resolving beneath
    /// `dirfd` without following any symlink (`RESOLVE_BENEATH |
    /// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`).
    fn open_beneath(
        &self,
        dirfd: i32,
        rel: *const c_char,
        flags: i32,
        mode: u32,
    ) -> Result<i32, i32>;
    /// `mkdirat(2)`; `EEXIST` is returned as is.
    fn mkdirat(&self, dirfd: i32, name: *const c_char, mode: u32) -> i32;
    /// `close(2)`.
    fn close(&self, fd: i32);
    /// `unlink(2)`; `ENOENT` is returned as is.
    fn unlink(&self, path: *const c_char) -> i32;
    /// `lchown(2)`.
    fn lchown(&self, path: *const c_char, uid: u32, gid: u32) -> i32;
    /// `chmod(2)`.
    fn chmod(&self, path: *const c_char, mode: u32) -> i32;
    /// `mount_setattr(2)` on `dirfd`/`path` (`flags`: `AT_*`, e.g.
    /// `AT_EMPTY_PATH | AT_RECURSIVE`): set and clear `MOUNT_ATTR_*`.
    fn mount_setattr(&self, dirfd: i32, path: *const c_char, flags: u32, set: u64, clr: u64)
        -> i32;
    /// `move_mount(2)` of the detached mount `from` (`MOVE_MOUNT_F_EMPTY_PATH`)
    /// onto `to_dirfd`/`to_path` (an empty path: `MOVE_MOUNT_T_EMPTY_PATH`).
    fn move_mount(&self, from: i32, to_dirfd: i32, to_path: *const c_char) -> i32;
    /// `fstat(2)` of an fd (an `O_PATH` one too): `st_mode` and `st_rdev`.
    fn fd_stat(&self, fd: i32) -> Result<(u32, u64), i32>;
}

/// `MOUNT_ATTR_RDONLY`.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// `MOUNT_ATTR_NOSUID`.
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
/// `MOUNT_ATTR_NODEV`.
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
/// `MOUNT_ATTR_NOEXEC`.
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
/// `MOUNT_ATTR__ATIME`: the atime mode bits (cleared as a whole).
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
/// `MOUNT_ATTR_RELATIME` (the value 0 of the atime mode).
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
/// `MOUNT_ATTR_NOATIME`.
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
/// `MOUNT_ATTR_STRICTATIME`.
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
/// `MOUNT_ATTR_NODIRATIME`.
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
/// `MOUNT_ATTR_IDMAP`.
pub const MOUNT_ATTR_IDMAP: u64 = 0x10_0000;
/// `MOUNT_ATTR_NOSYMFOLLOW`.
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x20_0000;
/// `AT_RECURSIVE`.
pub const AT_RECURSIVE: u32 = 0x8000;
/// `MOVE_MOUNT_F_EMPTY_PATH`.
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
/// `MOVE_MOUNT_T_EMPTY_PATH`.
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct MountAttr {
    /// `MOUNT_ATTR_*` to set.
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` to clear.
    pub attr_clr: u64,
    /// Propagation (`MS_*`), 0 to leave.
    pub propagation: u64,
    /// User namespace fd for `MOUNT_ATTR_IDMAP`.
    pub userns_fd: u64,
}

/// Raw `mount_setattr(2)`: 0 or an errno.
pub fn sys_mount_setattr(dirfd: i32, path: *const c_char, flags: u32, attr: &MountAttr) -> i32 {
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path,
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        crate::sys::errno()
    } else {
        0
    }
}

/// `struct open_how` of `openat2(2)` (the libc crate has no binding for it).
#[repr(C)]
pub(crate) struct OpenHow {
    pub(crate) flags: u64,
    pub(crate) mode: u64,
    pub(crate) resolve: u64,
}
pub(crate) const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub(crate) const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
pub(crate) const RESOLVE_IN_ROOT: u64 = 0x10;

/// `/proc/self/fd/<fd>` written into `buf` (NUL-terminated), no allocation.
pub fn fd_path(fd: i32, buf: &mut [u8; 32]) -> *const c_char {
    let prefix = b"/proc/self/fd/";
    buf[..prefix.len()].copy_from_slice(prefix);
    let len = write_decimal(&mut buf[prefix.len()..], fd.max(0) as i64);
    buf[prefix.len() + len] = 0;
    buf.as_ptr().cast()
}

/// `v` in decimal at the start of `buf` (which must have room: 20 bytes
/// do for any value); returns the length. No allocation (the child uses it).
pub fn write_decimal(buf: &mut [u8], v: i64) -> usize {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut at = 0;
    if v < 0 {
        buf[0] = b'-';
        at = 1;
    }
    for i in 0..len {
        buf[at + i] = digits[len - 1 - i];
    }
    at + len
}

/// The real system calls (async-signal-safe: fine in the cloned child).
pub struct Raw;

#[inline(always)]
fn rc(r: libc::c_int) -> i32 {
    if r < 0 {
        crate::sys::errno()
    } else {
        0
    }
}

impl Syscalls for Raw {
    fn mount(
        &self,
        src: *const c_char,
        dst: *const c_char,
        fstype: *const c_char,
        flags: u64,
        data: *const c_char,
    ) -> i32 {
        rc(unsafe { libc::mount(src, dst, fstype, flags as libc::c_ulong, data.cast()) })
    }
    fn umount2(&self, path: *const c_char, flags: i32) -> i32 {
        rc(unsafe { libc::umount2(path, flags) })
    }
    fn mkdir(&self, path: *const c_char, mode: u32) -> i32 {
        rc(unsafe { libc::mkdir(path, mode) })
    }
    fn mknodat(&self, dirfd: i32, name: *const c_char, mode: u32, dev: u64) -> i32 {
        rc(unsafe { libc::mknodat(dirfd, name, mode, dev) })
    }
    fn symlinkat(&self, target: *const c_char, dirfd: i32, name: *const c_char) -> i32 {
        rc(unsafe { libc::symlinkat(target, dirfd, name) })
    }
    fn unlinkat(&self, dirfd: i32, name: *const c_char) -> i32 {
        rc(unsafe { libc::unlinkat(dirfd, name, 0) })
    }
    fn fchown_fd(&self, fd: i32, uid: u32, gid: u32) -> i32 {
        rc(unsafe {
            libc::fchownat(
                fd,
                c"".as_ptr(),
                uid,
                gid,
                libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            )
        })
    }
    fn mknod(&self, path: *const c_char, mode: u32, dev: u64) -> i32 {
        rc(unsafe { libc::mknod(path, mode, dev) })
    }
    fn symlink(&self, target: *const c_char, link: *const c_char) -> i32 {
        rc(unsafe { libc::symlink(target, link) })
    }
    fn create_file(&self, path: *const c_char) -> i32 {
        let fd = unsafe {
            libc::open(
                path,
                libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_WRONLY,
                0o644,
            )
        };
        if fd < 0 {
            return crate::sys::errno();
        }
        unsafe { libc::close(fd) };
        0
    }
    fn pivot_root(&self, new_root: *const c_char, put_old: *const c_char) -> i32 {
        rc(unsafe { libc::syscall(libc::SYS_pivot_root, new_root, put_old) } as libc::c_int)
    }
    fn chdir(&self, path: *const c_char) -> i32 {
        rc(unsafe { libc::chdir(path) })
    }
    fn chroot(&self, path: *const c_char) -> i32 {
        rc(unsafe { libc::chroot(path) })
    }
    fn umask(&self, mask: u32) {
        unsafe { libc::umask(mask) };
    }
    fn mount_flags(&self, path: *const c_char) -> Result<u64, i32> {
        // The kernel's struct statfs on 64-bit: ten longs (f_fsid is two
        // ints), then f_flags, then f_spare[4]. A raw syscall: glibc's
        // statvfs may read /proc/mounts.
        let mut st = [0u64; 15];
        if unsafe { libc::syscall(libc::SYS_statfs, path, st.as_mut_ptr()) } < 0 {
            return Err(crate::sys::errno());
        }
        Ok(statfs_to_mount_flags(st[10]))
    }
    fn kind(&self, path: *const c_char) -> Result<Kind, i32> {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstatat(libc::AT_FDCWD, path, &mut st, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
            let e = crate::sys::errno();
            return if e == libc::ENOENT || e == libc::ENOTDIR {
                Ok(Kind::Missing)
            } else {
                Err(e)
            };
        }
        Ok(if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            Kind::Dir
        } else {
            Kind::Other
        })
    }
    fn open_dir(&self, path: *const c_char) -> Result<i32, i32> {
        let fd = unsafe { libc::open(path, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            Err(crate::sys::errno())
        } else {
            Ok(fd)
        }
    }
    fn open_beneath(
        &self,
        dirfd: i32,
        rel: *const c_char,
        flags: i32,
        mode: u32,
    ) -> Result<i32, i32> {
        let how = OpenHow {
            flags: (flags | libc::O_CLOEXEC) as u64,
            mode: mode as u64,
            resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd,
                rel,
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            Err(crate::sys::errno())
        } else {
            Ok(fd as i32)
        }
    }
    fn mkdirat(&self, dirfd: i32, name: *const c_char, mode: u32) -> i32 {
        rc(unsafe { libc::mkdirat(dirfd, name, mode) })
    }
    fn close(&self, fd: i32) {
        unsafe { libc::close(fd) };
    }
    fn unlink(&self, path: *const c_char) -> i32 {
        rc(unsafe { libc::unlink(path) })
    }
    fn lchown(&self, path: *const c_char, uid: u32, gid: u32) -> i32 {
        rc(unsafe { libc::lchown(path, uid, gid) })
    }
    fn chmod(&self, path: *const c_char, mode: u32) -> i32 {
        rc(unsafe { libc::chmod(path, mode) })
    }
    fn mount_setattr(
        &self,
        dirfd: i32,
        path: *const c_char,
        flags: u32,
        set: u64,
        clr: u64,
    ) -> i32 {
        sys_mount_setattr(
            dirfd,
            path,
            flags,
            &MountAttr {
                attr_set: set,
                attr_clr: clr,
                ..Default::default()
            },
        )
    }
    fn move_mount(&self, from: i32, to_dirfd: i32, to_path: *const c_char) -> i32 {
        let t = if unsafe { *to_path } == 0 {
            MOVE_MOUNT_T_EMPTY_PATH
        } else {
            0
        };
        rc(unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                from,
                c"".as_ptr(),
                to_dirfd,
                to_path,
                MOVE_MOUNT_F_EMPTY_PATH | t,
            )
        } as libc::c_int)
    }
    fn fd_stat(&self, fd: i32) -> Result<(u32, u64), i32> {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } < 0 {
            return Err(crate::sys::errno());
        }
        Ok((st.st_mode, st.st_rdev))
    }
}

/// `statfs` `ST_*` flags to the `MS_*` flags a remount has to repeat (the
/// kernel refuses to clear locked ones in a user namespace).
pub fn statfs_to_mount_flags(st: u64) -> u64 {
    let mut ms = 0u64;
    for (stf, msf) in [
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st & stf as u64 != 0 {
            ms |= msf as u64;
        }
    }
    ms
}

/// A recording fake for unit tests.
pub mod fake {
    use super::{Kind, Syscalls};
    use libc::c_char;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::ffi::CStr;

    /// Records every call as a line of text; answers `kind` from a table
    /// and fails the first call whose line starts with a given prefix.
    #[derive(Default)]
    pub struct Recorder {
        /// The calls made, in order.
        pub calls: RefCell<Vec<String>>,
        /// `kind` answers by path (default: missing).
        pub kinds: HashMap<String, Kind>,
        /// Fail calls whose line starts with this, with this errno.
        pub fail: Option<(String, i32)>,
        /// The path of the last `open_beneath` (what `fd_stat` describes).
        pub last_open: RefCell<String>,
        /// Modes of the nodes made with `mknodat`, by name.
        pub made: RefCell<HashMap<String, u32>>,
    }

    fn s(p: *const c_char) -> String {
        if p.is_null() {
            "-".into()
        } else {
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    }

    impl Recorder {
        fn record(&self, line: String) -> i32 {
            let failed = match &self.fail {
                Some((prefix, errno)) if line.starts_with(prefix.as_str()) => *errno,
                _ => 0,
            };
            self.calls.borrow_mut().push(line);
            failed
        }
    }

    impl Syscalls for Recorder {
        fn mount(
            &self,
            src: *const c_char,
            dst: *const c_char,
            fstype: *const c_char,
            flags: u64,
            data: *const c_char,
        ) -> i32 {
            self.record(format!(
                "mount {} {} {} {:#x} {}",
                s(src),
                s(dst),
                s(fstype),
                flags,
                s(data)
            ))
        }
        fn umount2(&self, path: *const c_char, flags: i32) -> i32 {
            self.record(format!("umount2 {} {flags}", s(path)))
        }
        fn mkdir(&self, path: *const c_char, mode: u32) -> i32 {
            self.record(format!("mkdir {} {mode:o}", s(path)))
        }
        fn mknodat(&self, dirfd: i32, name: *const c_char, mode: u32, dev: u64) -> i32 {
            self.made.borrow_mut().insert(s(name), mode);
            self.record(format!("mknodat {dirfd} {} {mode:o} {dev:#x}", s(name)))
        }
        fn symlinkat(&self, target: *const c_char, dirfd: i32, name: *const c_char) -> i32 {
            self.record(format!("symlinkat {} {dirfd} {}", s(target), s(name)))
        }
        fn unlinkat(&self, dirfd: i32, name: *const c_char) -> i32 {
            self.record(format!("unlinkat {dirfd} {}", s(name)))
        }
        fn fchown_fd(&self, fd: i32, uid: u32, gid: u32) -> i32 {
            self.record(format!("fchown {fd} {uid} {gid}"))
        }
        fn mknod(&self, path: *const c_char, mode: u32, dev: u64) -> i32 {
            self.record(format!("mknod {} {mode:o} {dev:#x}", s(path)))
        }
        fn symlink(&self, target: *const c_char, link: *const c_char) -> i32 {
            self.record(format!("symlink {} {}", s(target), s(link)))
        }
        fn create_file(&self, path: *const c_char) -> i32 {
            self.record(format!("create {}", s(path)))
        }
        fn pivot_root(&self, new_root: *const c_char, put_old: *const c_char) -> i32 {
            self.record(format!("pivot_root {} {}", s(new_root), s(put_old)))
        }
        fn chdir(&self, path: *const c_char) -> i32 {
            self.record(format!("chdir {}", s(path)))
        }
        fn chroot(&self, path: *const c_char) -> i32 {
            self.record(format!("chroot {}", s(path)))
        }
        fn umask(&self, mask: u32) {
            self.record(format!("umask {mask:o}"));
        }
        fn mount_flags(&self, path: *const c_char) -> Result<u64, i32> {
            match self.record(format!("statfs {}", s(path))) {
                0 => Ok(libc::MS_NOSUID as u64),
                e => Err(e),
            }
        }
        fn kind(&self, path: *const c_char) -> Result<Kind, i32> {
            let p = s(path);
            match self.record(format!("stat {p}")) {
                0 => Ok(*self.kinds.get(&p).unwrap_or(&Kind::Missing)),
                e => Err(e),
            }
        }
        fn open_dir(&self, path: *const c_char) -> Result<i32, i32> {
            match self.record(format!("open_dir {}", s(path))) {
                0 => Ok(50),
                e => Err(e),
            }
        }
        fn open_beneath(
            &self,
            dirfd: i32,
            rel: *const c_char,
            flags: i32,
            _mode: u32,
        ) -> Result<i32, i32> {
            let creat = if flags & libc::O_CREAT != 0 {
                " creat"
            } else {
                ""
            };
            *self.last_open.borrow_mut() = format!("/{}", s(rel));
            match self.record(format!("openat2 {dirfd} {}{creat}", s(rel))) {
                0 => Ok(100),
                e => Err(e),
            }
        }
        fn mkdirat(&self, dirfd: i32, name: *const c_char, mode: u32) -> i32 {
            self.record(format!("mkdirat {dirfd} {} {mode:o}", s(name)))
        }
        fn close(&self, fd: i32) {
            self.record(format!("close {fd}"));
        }
        fn unlink(&self, path: *const c_char) -> i32 {
            self.record(format!("unlink {}", s(path)))
        }
        fn lchown(&self, path: *const c_char, uid: u32, gid: u32) -> i32 {
            self.record(format!("lchown {} {uid} {gid}", s(path)))
        }
        fn chmod(&self, path: *const c_char, mode: u32) -> i32 {
            self.record(format!("chmod {} {mode:o}", s(path)))
        }
        fn mount_setattr(
            &self,
            dirfd: i32,
            path: *const c_char,
            flags: u32,
            set: u64,
            clr: u64,
        ) -> i32 {
            self.record(format!(
                "mount_setattr {dirfd} {} {flags:#x} {set:#x} {clr:#x}",
                s(path)
            ))
        }
        fn move_mount(&self, from: i32, to_dirfd: i32, to_path: *const c_char) -> i32 {
            self.record(format!("move_mount {from} {to_dirfd} {}", s(to_path)))
        }
        fn fd_stat(&self, fd: i32) -> Result<(u32, u64), i32> {
            // The last path opened: a directory when `kinds` says so, else
            // the character device 1:3 (/dev/null).
            let path = self.last_open.borrow().clone();
            let made = self
                .made
                .borrow()
                .get(path.rsplit('/').next().unwrap_or(""))
                .copied();
            match self.record(format!("fstat {fd}")) {
                0 if self.kinds.get(&path) == Some(&Kind::Dir) => Ok((libc::S_IFDIR | 0o755, 0)),
                0 if made.is_some() => Ok((made.unwrap_or(0), 0)),
                0 => Ok((libc::S_IFCHR | 0o666, libc::makedev(1, 3))),
                e => Err(e),
            }
        }
    }
}
