//! Network namespaces: named ones compatible with iproute2
//! (`/run/netns/NAME`), anonymous ones held by an fd, and running code on a
//! thread that has joined one.
//!
//! `setns(CLONE_NEWNET)` and `unshare(CLONE_NEWNET)` change only the
//! calling thread, so every namespace switch happens on a short-lived
//! dedicated thread that is thrown away afterwards: no thread of the caller
//! (in Node: no libuv or main thread) ever changes namespace.

use crate::Code;
use crate::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
#[cfg(test)]
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where iproute2 keeps named network namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

const NS_GET_NSTYPE: libc::c_ulong = 0xb703; // _IO(0xb7, 0x3)

/// An open network namespace: the fd keeps it alive.
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
    /// Inode of the namespace (what `ls -L /proc/PID/ns/net` shows).
    pub inode: u64,
    /// The name under /run/netns, for named namespaces.
    pub name: Option<String>,
    /// The file it was opened from, if any.
    pub path: Option<PathBuf>,
}

impl AsRawFd for Netns {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Netns {
    /// Duplicate the handle (a new fd on the same namespace).
    pub fn try_clone(&self) -> Result<Netns> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io(Code::Open, "dup", &e, "duplicate netns fd"))?;
        Ok(Netns {
            fd,
            inode: self.inode,
            name: self.name.clone(),
            path: self.path.clone(),
        })
    }

    /// Give up the fd (the caller owns it).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Take ownership of an fd that refers to a network namespace.
    pub fn from_fd(fd: OwnedFd) -> Result<Netns> {
        check_netns_fd(&fd, None)?;
        let inode = fstat_ino(&fd)?;
        Ok(Netns {
            fd,
            inode,
            name: None,
            path: None,
        })
    }
}

/// Check that a name is usable under /run/netns (iproute2 refuses the same).
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidName,
            format!("invalid network namespace name {name:?}"),
        )
        .with_field("name"))
    }
}

fn fstat_ino(fd: &OwnedFd) -> Result<u64> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, st is a valid out pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(Error::last_os(Code::Open, "fstat", "stat netns fd"));
    }
    Ok(st.st_ino)
}

fn check_netns_fd(fd: &OwnedFd, path: Option<&Path>) -> Result<()> {
    // SAFETY: ioctl on an open fd with no argument.
    let t = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    if t != libc::CLONE_NEWNET {
        let what = path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| format!("fd {}", fd.as_raw_fd()));
        let mut e = Error::new(Code::NotNetns, format!("{what} is not a network namespace"));
        if let Some(p) = path {
            e = e.with_path(p);
        }
        return Err(e);
    }
    Ok(())
}

fn open_path(path: &Path) -> Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        Error::new(Code::InvalidPath, "path contains a nul byte").with_field("path")
    })?;
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        let code = if errno == libc::ENOENT || errno == libc::ESRCH {
            Code::NotFound.as_str()
        } else {
            Code::Open.as_str()
        };
        return Err(
            Error::sys(code, "open", errno, format!("open {}", path.display())).with_path(path),
        );
    }
    // SAFETY: fd was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open a network namespace file (`/run/netns/x`, `/proc/PID/ns/net`, a
/// bind mount of one anywhere).
pub fn open_path_ns(path: impl AsRef<Path>) -> Result<Netns> {
    let path = path.as_ref();
    let fd = open_path(path)?;
    check_netns_fd(&fd, Some(path))?;
    let inode = fstat_ino(&fd)?;
    Ok(Netns {
        fd,
        inode,
        name: None,
        path: Some(path.to_path_buf()),
    })
}

/// Open the named namespace `/run/netns/NAME`.
pub fn open_named(name: &str) -> Result<Netns> {
    validate_name(name)?;
    let path = Path::new(NETNS_RUN_DIR).join(name);
    let mut ns = open_path_ns(&path).map_err(|e| {
        if e.code == Code::NotNetns.as_str() {
            Error::new(
                Code::NotFound,
                format!("network namespace {name:?} does not exist (not mounted)"),
            )
            .with_path(&path)
        } else if e.code == Code::NotFound.as_str() {
            Error::new(
                Code::NotFound,
                format!("network namespace {name:?} does not exist"),
            )
            .with_path(&path)
        } else {
            e
        }
    })?;
    ns.name = Some(name.to_string());
    Ok(ns)
}

/// Open the network namespace of process `pid`.
pub fn open_pid(pid: i32) -> Result<Netns> {
    if pid <= 0 {
        return Err(Error::new(Code::InvalidPid, format!("invalid pid {pid}")).with_field("pid"));
    }
    open_path_ns(format!("/proc/{pid}/ns/net"))
}

/// Open the caller's (the process's) network namespace.
pub fn open_current() -> Result<Netns> {
    open_path_ns("/proc/self/ns/net")
}

/// Run `f` on a new thread that has first joined the namespace `ns`. The
/// thread ends afterwards, so the caller's threads never change namespace.
pub fn in_netns<T: Send + 'static>(
    ns: &Netns,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let fd = ns
        .fd
        .try_clone()
        .map_err(|e| Error::io(Code::Setns, "dup", &e, "duplicate netns fd"))?;
    run_thread(move || {
        // SAFETY: setns on an owned, open fd; affects only this thread.
        if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
            return Err(Error::last_os(
                Code::Setns,
                "setns",
                "join network namespace",
            ));
        }
        drop(fd);
        f()
    })
}

fn run_thread<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let handle = std::thread::Builder::new()
        .name("ctr-netns".into())
        .stack_size(256 * 1024)
        .spawn(move || ctr_common::catch_panic(f))
        .map_err(|e| Error::io(Code::Thread, "clone", &e, "start netns thread"))?;
    handle
        .join()
        .map_err(|_| Error::new(ctr_common::Code::Internal, "netns thread panicked"))?
}

/// Create a new, anonymous network namespace and return it, held by an fd
/// (it lives as long as some fd, process or mount refers to it).
pub fn create_anonymous() -> Result<Netns> {
    run_thread(|| {
        // SAFETY: unshare affects only this dedicated thread.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } < 0 {
            return Err(Error::last_os(
                Code::Create,
                "unshare",
                "create network namespace",
            ));
        }
        let fd = open_path(Path::new("/proc/thread-self/ns/net"))?;
        let inode = fstat_ino(&fd)?;
        Ok(Netns {
            fd,
            inode,
            name: None,
            path: None,
        })
    })
}

/// Where anonymous namespaces made by [`create_anonymous_at`] get their
/// path: `<state root>/.anon` (`/run/ctr/netns/.anon`; no network name
/// starts with a dot).
pub fn anonymous_dir() -> PathBuf {
    crate::state_root().join(".anon")
}

/// Give the calling thread a new network namespace and bind mount it on
/// `target` (an existing file). Only on a dedicated thread ([`run_thread`]):
/// the thread stays in the new namespace.
fn unshare_onto(target: &Path) -> Result<()> {
    // SAFETY: unshare affects only this dedicated thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } < 0 {
        return Err(Error::last_os(
            Code::Create,
            "unshare",
            "create network namespace",
        ));
    }
    mount("/proc/thread-self/ns/net", target, "none", libc::MS_BIND).map_err(|errno| {
        Error::sys(
            Code::Create,
            "mount",
            errno,
            format!("bind mount the new namespace onto {}", target.display()),
        )
        .with_path(target)
    })
}

/// Create `dir` and its parents; a failure is `ENETNS_CREATE` naming it.
fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            Code::Create,
            "mkdir",
            &e,
            format!("create {}", dir.display()),
        )
        .with_path(dir)
    })
}

/// Create an empty file of `mode` to bind a namespace onto; `EEXIST` is
/// `ENETNS_EXISTS`.
fn create_mount_target(path: &Path, mode: libc::mode_t) -> Result<()> {
    let c = cstr(path);
    // SAFETY: valid C string; the file is an empty mount target.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
            mode,
        )
    };
    if fd < 0 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        let code = if errno == libc::EEXIST {
            Code::Exists.as_str()
        } else {
            Code::Create.as_str()
        };
        return Err(
            Error::sys(code, "open", errno, format!("create {}", path.display())).with_path(path),
        );
    }
    // SAFETY: closing the fd we just created.
    unsafe { libc::close(fd) };
    Ok(())
}

/// Create an anonymous namespace that also has a path other tools can use
/// (`nsenter --net=PATH`, CNI plugins, `@ctr/runtime` bundles): a bind
/// mount on `dir/<pid>-<start time>-<random>`. Record before create: the
/// file, named after its owner, exists before the mount, so a process
/// killed at any instant leaves a path [`sweep_anonymous`] recognises as
/// its own and removes (every call here sweeps first). The owner removes it
/// with [`release_anonymous`] when the handle is closed.
pub fn create_anonymous_at(dir: &Path) -> Result<Netns> {
    sweep_anonymous(dir);
    create_dir(dir)?;
    let pid = std::process::id() as i32;
    let start = ctr_common::proc::start_time(pid).unwrap_or(0);
    let path = dir.join(format!("{pid}-{start}-{}", crate::bridge::random_id()));
    create_mount_target(&path, 0o444)?;
    let target = path.clone();
    let made = run_thread(move || {
        unshare_onto(&target)?;
        open_path(Path::new("/proc/thread-self/ns/net"))
    });
    let fd = match made {
        Ok(fd) => fd,
        Err(e) => {
            let _ = release_anonymous(&path);
            return Err(e);
        }
    };
    let inode = fstat_ino(&fd)?;
    Ok(Netns {
        fd,
        inode,
        name: None,
        path: Some(path),
    })
}

/// [`create_anonymous_at`], or where `dir` cannot be written or mounted on
/// (an unprivileged caller in a user namespace: `EACCES`, `EPERM`, `EROFS`),
/// [`create_anonymous`] without a path.
pub fn create_anonymous_maybe_at(dir: &Path) -> Result<Netns> {
    match create_anonymous_at(dir) {
        Err(e) if matches!(e.errno, Some(libc::EACCES | libc::EPERM | libc::EROFS)) => {
            create_anonymous()
        }
        r => r,
    }
}

/// Remove the path of an anonymous namespace (lazy unmount, unlink). The
/// namespace lives on while an fd or process uses it. Idempotent.
pub fn release_anonymous(path: &Path) -> Result<()> {
    let c = cstr(path);
    // SAFETY: valid C string.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } < 0 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        // EINVAL: not mounted (a record whose mount never happened).
        if errno != libc::EINVAL && errno != libc::ENOENT {
            return Err(Error::sys(
                Code::Delete,
                "umount2",
                errno,
                format!("unmount {}", path.display()),
            )
            .with_path(path));
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(
            Code::Delete,
            "unlink",
            &e,
            format!("remove {}", path.display()),
        )
        .with_path(path)),
    }
}

/// Remove the paths in `dir` whose owner process is dead (killed before it
/// closed its namespace). Returns how many went.
pub fn sweep_anonymous(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    // Most paths in a busy directory are this process's own: alive, no /proc read.
    let me = std::process::id() as i32;
    let my_start = ctr_common::proc::start_time(me);
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let mut parts = name.splitn(3, '-');
        let (Some(Ok(pid)), Some(Ok(start))) = (
            parts.next().map(str::parse::<i32>),
            parts.next().map(str::parse::<u64>),
        ) else {
            continue;
        };
        let alive = if pid == me {
            my_start == Some(start)
        } else {
            ctr_common::proc::start_time(pid) == Some(start)
        };
        if !alive && release_anonymous(&e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).expect("path without nul")
}

fn mount(
    src: &str,
    target: &Path,
    fstype: &str,
    flags: libc::c_ulong,
) -> std::result::Result<(), i32> {
    let (s, t, f) = (
        CString::new(src).unwrap(),
        cstr(target),
        CString::new(fstype).unwrap(),
    );
    // SAFETY: valid C strings, null data.
    if unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), flags, std::ptr::null()) } < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(())
    }
}

/// Make /run/netns exist and be a shared mount point, as `ip netns add`
/// does (so namespaces mounted there propagate to other mount namespaces
/// that were created later from this one). Guarded by a lock so concurrent
/// callers of this library do not stack bind mounts.
fn prepare_run_dir(dir: &Path) -> Result<()> {
    create_dir(dir)?;
    let _lock = crate::lock::FileLock::exclusive(&crate::state_root().join(".netns-dir.lock"))?;
    let mut made_mount = false;
    loop {
        match mount("none", dir, "none", libc::MS_SHARED | libc::MS_REC) {
            Ok(()) => return Ok(()),
            Err(libc::EINVAL) if !made_mount => {
                // Not a mount point yet: bind it onto itself, then retry.
                mount(
                    &dir.to_string_lossy(),
                    dir,
                    "none",
                    libc::MS_BIND | libc::MS_REC,
                )
                .map_err(|errno| {
                    Error::sys(
                        Code::Create,
                        "mount",
                        errno,
                        format!("bind mount {} onto itself", dir.display()),
                    )
                    .with_path(dir)
                })?;
                made_mount = true;
            }
            Err(errno) => {
                return Err(Error::sys(
                    Code::Create,
                    "mount",
                    errno,
                    format!("make {} shared", dir.display()),
                )
                .with_path(dir))
            }
        }
    }
}

/// Create the named namespace `/run/netns/NAME` (what `ip netns add NAME`
/// does): a new namespace made by a dedicated thread, bind mounted onto the
/// file so that it outlives every process.
pub fn create_named(name: &str) -> Result<Netns> {
    create_named_in(Path::new(NETNS_RUN_DIR), name)
}

/// [`create_named`] under another directory than /run/netns.
pub fn create_named_in(dir: &Path, name: &str) -> Result<Netns> {
    validate_name(name)?;
    prepare_run_dir(dir)?;
    let path = dir.join(name);
    create_mount_target(&path, 0)?;
    let target = path.clone();
    let made = run_thread(move || unshare_onto(&target));
    if let Err(e) = made {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    let mut ns = open_path_ns(&path)?;
    ns.name = Some(name.to_string());
    Ok(ns)
}

/// Delete the named namespace (what `ip netns delete` does): lazy unmount
/// and unlink. The namespace itself lives on while a process or fd uses it.
pub fn delete_named(name: &str) -> Result<()> {
    delete_named_in(Path::new(NETNS_RUN_DIR), name)
}

/// [`delete_named`] under another directory than /run/netns.
pub fn delete_named_in(dir: &Path, name: &str) -> Result<()> {
    validate_name(name)?;
    let path = dir.join(name);
    if !path.exists() {
        return Err(Error::new(
            Code::NotFound,
            format!("network namespace {name:?} does not exist"),
        )
        .with_path(&path));
    }
    let c = cstr(&path);
    // SAFETY: valid C string.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } < 0 {
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        if errno != libc::EINVAL {
            return Err(Error::sys(
                Code::Delete,
                "umount2",
                errno,
                format!("unmount {}", path.display()),
            )
            .with_path(&path));
        }
    }
    std::fs::remove_file(&path).map_err(|e| {
        Error::io(
            Code::Delete,
            "unlink",
            &e,
            format!("remove {}", path.display()),
        )
        .with_path(&path)
    })
}

/// Names of the namespaces under /run/netns (what `ip netns list` shows).
pub fn list_named() -> Result<Vec<String>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(NETNS_RUN_DIR) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(
                Error::io(Code::List, "opendir", &e, "list /run/netns").with_path(NETNS_RUN_DIR)
            )
        }
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // An unmounted placeholder is a plain empty file: skip it.
        if open_path_ns(e.path()).is_ok() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Read a sysctl under /proc/sys/net inside `ns` (or here when None).
pub fn sysctl_path(key: &str) -> PathBuf {
    Path::new("/proc/sys").join(key.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        validate_name("blue").unwrap();
        validate_name("ctt-1_2.x").unwrap();
        for bad in ["", ".", "..", "a/b", "a b", &"x".repeat(300)] {
            assert_eq!(
                validate_name(bad).unwrap_err().code,
                Code::InvalidName.as_str()
            );
        }
    }

    #[test]
    fn open_current_and_reject_non_ns() {
        let ns = open_current().unwrap();
        assert_eq!(
            ns.inode,
            std::fs::metadata("/proc/self/ns/net").unwrap().ino()
        );
        assert_eq!(
            open_path_ns("/proc/self/status").unwrap_err().code,
            Code::NotNetns.as_str()
        );
        assert_eq!(
            open_path_ns("/nonexistent/ns").unwrap_err().code,
            Code::NotFound.as_str()
        );
        assert_eq!(open_pid(-3).unwrap_err().code, Code::InvalidPid.as_str());
    }

    #[test]
    fn named_in_a_shared_directory() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ns = create_named_in(dir.path(), "blue").unwrap();
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        // The directory became a shared mount point, the file a bind mount of an nsfs inode.
        assert!(
            info.lines()
                .any(|l| l.split(' ').nth(4) == Some(d.as_str()) && l.contains("shared:")),
            "{info}"
        );
        assert!(info
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(&format!("{d}/blue")) && l.contains(" - nsfs ")));
        assert_eq!(
            open_path_ns(dir.path().join("blue")).unwrap().inode,
            ns.inode
        );
        assert_ne!(ns.inode, open_current().unwrap().inode);
        assert_eq!(
            create_named_in(dir.path(), "blue").unwrap_err().code,
            Code::Exists.as_str()
        );
        delete_named_in(dir.path(), "blue").unwrap();
        assert!(!dir.path().join("blue").exists());
        assert_eq!(
            delete_named_in(dir.path(), "blue").unwrap_err().code,
            Code::NotFound.as_str()
        );
        // The namespace lives on while our fd holds it.
        in_netns(&ns, || Ok(())).unwrap();
        let c = cstr(dir.path());
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }

    #[test]
    fn anonymous_and_in_netns() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        let ns = create_anonymous().unwrap();
        let here = open_current().unwrap();
        assert_ne!(ns.inode, here.inode);
        let seen = in_netns(&ns, || {
            Ok(std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino())
        })
        .unwrap();
        assert_eq!(seen, ns.inode);
        // The calling thread did not move.
        assert_eq!(
            std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino(),
            here.inode
        );
    }

    #[test]
    fn anonymous_path_lives_while_open_and_is_swept_after_its_owner_dies() {
        if unsafe { libc::geteuid() } != 0 {
            println!("skipped: needs root (mount)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ns = create_anonymous_at(dir.path()).unwrap();
        let path = ns.path.clone().unwrap();
        assert!(path.starts_with(dir.path()));
        // The path is the namespace: opening it gives the same inode.
        assert_eq!(open_path_ns(&path).unwrap().inode, ns.inode);
        release_anonymous(&path).unwrap();
        assert!(!path.exists());
        release_anonymous(&path).unwrap();
        // A record of a dead owner (made before its mount, or mounted) goes
        // with the next create; the live one stays.
        let dead = dir.path().join(format!("{}-1-ab", i32::MAX));
        create_mount_target(&dead, 0o444).unwrap();
        let live = create_anonymous_at(dir.path()).unwrap();
        assert!(!dead.exists());
        let live_path = live.path.clone().unwrap();
        assert!(live_path.exists());
        assert_eq!(sweep_anonymous(dir.path()), 0);
        release_anonymous(&live_path).unwrap();
    }
}
