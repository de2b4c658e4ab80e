//! The root filesystem plan: what the user asks for ([`RootfsSpec`]), the
//! list of prepared operations the child runs ([`RootfsPlan`], built before
//! the clone, destinations already resolved inside the rootfs), and the
//! executor ([`execute`]) that runs them over a [`Syscalls`] seam.
// `MS_*` and `CLONE_*` constants are `c_ulong`/`c_int` depending on the
// target: the casts to u64 are kept for portability.
#![allow(clippy::unnecessary_cast)]

#[cfg(test)]
use crate::syscalls::Kind;
use crate::syscalls::{fd_path, Syscalls};
use crate::Code;
use ctr_common::Error;
use std::collections::VecDeque;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// One mount of the plan, as given by the user (OCI `mounts[]` shape).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct MountSpec {
    /// Where, inside the rootfs.
    pub destination: String,
    /// What: a host path for binds, else a device or a name.
    pub source: Option<String>,
    /// File system type (`proc`, `tmpfs`, `bind`, `overlay`, ...).
    pub fstype: Option<String>,
    /// The parsed `mount(8)`-style options ([`parse_options`]): `ro`,
    /// `nosuid`, `rbind`, `rprivate`, ...; unknown ones are file system
    /// data. Also the recursive attributes `rro`, `rnosuid`, ...
    /// (`mount_setattr(2)` with `AT_RECURSIVE`), `tmpcopyup` (a tmpfs
    /// filled with what it covers) and `idmap`/`ridmap` (an id-mapped bind,
    /// with the maps below).
    pub options: MountOptions,
    /// uid map of an `idmap`/`ridmap` bind (inside = id on disk, outside =
    /// id shown through the mount).
    pub uid_mappings: Vec<crate::IdMap>,
    /// gid map of an `idmap`/`ridmap` bind.
    pub gid_mappings: Vec<crate::IdMap>,
}

/// The root filesystem of a spawn.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RootfsSpec {
    /// Host path of the root directory.
    pub path: String,
    /// Propagation applied to every mount first (`private`, `slave`,
    /// `shared`, `unbindable`, recursive); default `private`.
    pub propagation: Option<String>,
    /// Mounts, in order.
    pub mounts: Vec<MountSpec>,
    /// Remount the root read-only at the end.
    pub readonly: bool,
    /// Paths hidden (`/dev/null` bound over files, an empty read-only
    /// tmpfs over directories).
    pub masked_paths: Vec<String>,
    /// Paths made read-only.
    pub readonly_paths: Vec<String>,
    /// Set up `/dev`: a tmpfs with the standard nodes, links, `pts` and `shm`.
    pub dev: bool,
    /// Bind the device nodes from the host instead of `mknod` (needed in a
    /// user namespace, where `mknod` is refused).
    pub bind_devices: bool,
    /// Skip `pivot_root` and use `MS_MOVE` + `chroot` (for initramfs roots).
    pub no_pivot: bool,
    /// Device nodes to create after the mounts (OCI `linux.devices`):
    /// `mknod` + `chown`, or a bind of the host node of the same path when
    /// `bind_devices` is set (in a user namespace, where `mknod` is refused).
    pub devices: Vec<DeviceSpec>,
    /// What a `cgroup`/`cgroup2` mount shows: (host directory of the
    /// process's cgroup, name under the mount point). Empty: such mounts
    /// are real cgroup file system mounts. With one entry of
    /// empty name that directory is bound on the mount point itself
    /// (a unified host); otherwise a tmpfs is mounted there and each
    /// directory bound under its name (`memory`, `cpu,cpuacct`, ...; links
    /// `cpu` and `cpuacct` are made for co-mounted names), as runc does.
    pub cgroup_binds: Vec<(String, String)>,
    /// After the mounts, make the standard device nodes (as `dev` does)
    /// and `/dev` links in whatever `/dev` the mounts provide (an OCI
    /// config mounts its own tmpfs there). The nodes are binds of the
    /// host's, which a devices cgroup that denies `mknod` (an OCI default)
    /// and a user namespace both allow.
    pub dev_nodes: bool,
    /// Share the caller's mount namespace: make no mount at all and only
    /// `chroot` into `path` (an OCI config without a mount namespace, as
    /// crun runs it). Every other field but `path` is ignored.
    pub chroot: bool,
}

/// One device node of [`RootfsSpec::devices`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceSpec {
    /// Path inside the container (`/dev/fuse`).
    pub path: String,
    /// `c` (or `u`) character, `b` block, `p` FIFO.
    pub kind: char,
    /// Major number (ignored for a FIFO).
    pub major: u32,
    /// Minor number (ignored for a FIFO).
    pub minor: u32,
    /// Permission bits (default 0o666 when `None`).
    pub mode: Option<u32>,
    /// Owner (default 0).
    pub uid: Option<u32>,
    /// Group (default 0).
    pub gid: Option<u32>,
}

pub use crate::mountopt::{
    parse_options, propagation_flags, recursive_attr, MountOptions, MS_NOSYMFOLLOW,
};

/// `path` as it is when it names a directory reached without a symlink: an
/// absolute path without `.` or `..` opened with `RESOLVE_NO_SYMLINKS`
/// (one `openat2` and a `close`) is already its own real path, which
/// `canonicalize` would find with a `readlink` per component. `None` for
/// anything else (then the caller takes the slow way, which also names
/// the error).
fn symlink_free_dir(path: &Path) -> Option<PathBuf> {
    use crate::syscalls::{OpenHow, RESOLVE_NO_SYMLINKS};
    if !path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, Component::CurDir | Component::ParentDir))
    {
        return None;
    }
    // Components drop repeated and trailing slashes, as realpath does.
    let clean: PathBuf = path.components().collect();
    let c = CString::new(clean.as_os_str().as_bytes()).ok()?;
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS,
    };
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return None;
    }
    unsafe { libc::close(fd as libc::c_int) };
    Some(clean)
}

/// Resolve `unsafe_path` inside `root` the way the kernel would if `root`
/// were `/`: symlinks are followed but absolute targets and `..` stay
/// inside `root`. The result is `root` joined with a symlink-free path (as
/// of now; components that do not exist yet are kept as given).
pub fn secure_join(root: &Path, unsafe_path: &str) -> Result<PathBuf, Error> {
    secure_join_seen(root, unsafe_path, &mut |_| {})
}

/// [`secure_join`], telling `dir` of each path it saw as a directory.
fn secure_join_seen(
    root: &Path,
    unsafe_path: &str,
    dir: &mut dyn FnMut(&Path),
) -> Result<PathBuf, Error> {
    let mut resolved: Vec<std::ffi::OsString> = Vec::new();
    let mut queue: VecDeque<std::ffi::OsString> = Path::new(unsafe_path)
        .components()
        .filter_map(norm)
        .collect();
    let mut links = 0;
    while let Some(c) = queue.pop_front() {
        if c == ".." {
            resolved.pop();
            continue;
        }
        let candidate: PathBuf = root.join(resolved.iter().collect::<PathBuf>()).join(&c);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 255 {
                    return Err(Error::sys(
                        Code::Rootfs,
                        "readlink",
                        libc::ELOOP,
                        format!("resolve {unsafe_path} in the rootfs"),
                    )
                    .with_path(unsafe_path));
                }
                let target = std::fs::read_link(&candidate).map_err(|e| {
                    Error::io(Code::Rootfs, "readlink", &e, "read a symlink in the rootfs")
                        .with_path(&candidate)
                })?;
                if target.is_absolute() {
                    resolved.clear();
                }
                for (i, t) in target.components().filter_map(norm).enumerate() {
                    queue.insert(i, t);
                }
            }
            Ok(m) => {
                if m.is_dir() {
                    dir(&candidate);
                }
                resolved.push(c)
            }
            Err(_) => resolved.push(c),
        }
    }
    Ok(root.join(resolved.iter().collect::<PathBuf>()))
}

fn norm(c: Component<'_>) -> Option<std::ffi::OsString> {
    match c {
        Component::Normal(s) => Some(s.to_os_string()),
        Component::ParentDir => Some("..".into()),
        _ => None,
    }
}

/// One prepared operation of the child.
#[derive(Debug)]
pub enum Op {
    /// `mount(src, dst, fstype, flags, data)`.
    Mount {
        /// Source, or none.
        src: Option<CString>,
        /// Target.
        dst: CString,
        /// File system type, or none.
        fstype: Option<CString>,
        /// `MS_*` flags.
        flags: u64,
        /// File system data, or none.
        data: Option<CString>,
        /// The target relative to the rootfs: when set, the child opens it
        /// with `openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)` and mounts on
        /// `/proc/self/fd/N`, so a symlink swapped in after the parent
        /// resolved the path cannot redirect the mount.
        beneath: Option<CString>,
    },
    /// Bind remount keeping the locked flags of the mount: `flags` are
    /// added to what `statfs` reports.
    Remount {
        /// Target.
        dst: CString,
        /// Flags to add (`MS_RDONLY`, ...).
        flags: u64,
        /// As for [`Op::Mount`].
        beneath: Option<CString>,
    },
    /// Create directories inside the rootfs, outermost first, each with
    /// `mkdirat` in its parent opened beneath the rootfs (parent `None`:
    /// the rootfs itself); existing ones are fine.
    MkdirsBeneath(Vec<(Option<CString>, CString)>),
    /// Create an empty file inside the rootfs (opened beneath it).
    CreateFileBeneath(CString),
    /// Create directories (existing ones are fine), outermost first.
    Mkdirs(Vec<CString>),
    /// Create an empty file to bind a file over (existing is fine).
    CreateFile(CString),
    /// `mknod` a character device (mode includes `S_IFCHR`).
    Mknod {
        /// Node path.
        path: CString,
        /// (parent relative to the rootfs, name): made with `mknodat` in
        /// the parent opened beneath the rootfs, not through `path`.
        at: Option<(Option<CString>, CString)>,
        /// Mode.
        mode: u32,
        /// Device number.
        dev: u64,
    },
    /// `mknod` a device node replacing whatever file is there (mode
    /// includes the `S_IF*` type), then `chown` it (OCI `linux.devices`).
    Device {
        /// Node path.
        path: CString,
        /// As for [`Op::Mknod`]: replaced with `unlinkat`/`mknodat` in the
        /// parent opened beneath the rootfs, then reopened there (no
        /// symlinks) for the mode and owner.
        at: Option<(Option<CString>, CString)>,
        /// Mode.
        mode: u32,
        /// Device number.
        dev: u64,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// `symlink` (existing is fine).
    Symlink {
        /// Link target.
        target: CString,
        /// The link.
        link: CString,
        /// As for [`Op::Mknod`]: made with `symlinkat` beneath the rootfs.
        at: Option<(Option<CString>, CString)>,
    },
    /// Make `root` the new `/`: `pivot_root(".", ".")` and detach the old
    /// root, or `MS_MOVE` + `chroot` when `pivot_root` is refused with
    /// `EINVAL` (an initramfs) or `no_pivot` is set.
    PivotRoot {
        /// The new root (a mount point).
        root: CString,
        /// Skip pivot_root.
        no_pivot: bool,
    },
    /// `chdir` into `root`, `chroot(".")`, `chdir("/")`: the whole rootfs
    /// setup of [`RootfsSpec::chroot`] (no mount is made).
    Chroot {
        /// The new root.
        root: CString,
    },
    /// Hide a path (after the pivot): `/dev/null` over a file, an empty
    /// read-only tmpfs over a directory, nothing if missing.
    Mask(CString),
    /// Make a path read-only (after the pivot) if it exists.
    ReadonlyPath(CString),
    /// `mount_setattr(2)` on the mount at `dst` (every mount under it too
    /// when `recursive`): the `rro`, `rnosuid`, ... options.
    SetAttr {
        /// Target.
        dst: CString,
        /// As for [`Op::Mount`].
        beneath: Option<CString>,
        /// `MOUNT_ATTR_*` to set.
        set: u64,
        /// `MOUNT_ATTR_*` to clear.
        clr: u64,
        /// `AT_RECURSIVE`.
        recursive: bool,
    },
    /// Attach the detached mount of [`RootfsPlan::detached`] number `slot`
    /// (made by the parent before the clone, see
    /// [`RootfsPlan::prepare_detached`]) at `dst` with `move_mount(2)`.
    MoveMount {
        /// Index in [`RootfsPlan::detached_fds`].
        slot: usize,
        /// Target.
        dst: CString,
        /// As for [`Op::Mount`].
        beneath: Option<CString>,
    },
}

/// A mount the parent makes before the clone, detached (not attached
/// anywhere: `fsmount(2)`/`open_tree(2)`), for the child to attach with
/// [`Op::MoveMount`]. Work that needs memory (copying a tree) or a helper
/// process (a user namespace with the mount's id maps) is done here, in
/// the parent, where allocation is fine: the child only moves the mount.
#[derive(Debug, Clone)]
pub enum Detached {
    /// A tmpfs (`tmpcopyup`): made with `fsopen`/`fsmount` and filled with a
    /// copy of `copy_from` (the directory of the rootfs it will cover).
    Tmpfs {
        /// The mount's source (what mountinfo shows, usually `tmpfs`).
        source: String,
        /// File-system data (`size=..,mode=..`).
        data: String,
        /// `MS_*` flags of the mount (`MS_RDONLY` is applied after the copy).
        flags: u64,
        /// The rootfs (canonical host path).
        root: PathBuf,
        /// Host path of what the tmpfs covers (under `root`, resolved).
        copy_from: PathBuf,
        /// The mount's field (`mounts[3]`), for errors.
        field: String,
    },
    /// An id-mapped clone of a bind source (`idmap`/`ridmap`).
    IdmapBind {
        /// Host path of the bind source.
        source: String,
        /// Clone the submounts too (`rbind`).
        recursive: bool,
        /// Map the submounts too (`ridmap`).
        recursive_idmap: bool,
        /// uid map (inside: id on disk; outside: id seen through the mount).
        uid: Vec<crate::IdMap>,
        /// gid map.
        gid: Vec<crate::IdMap>,
        /// The mount's field, for errors.
        field: String,
    },
}

/// What the parent knows about each op, to name it in errors.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OpInfo {
    /// What the op does, for messages.
    pub what: String,
    /// Path at fault.
    pub path: String,
}

/// The prepared plan: ops for the child and their descriptions.
#[derive(Debug, Default)]
pub struct RootfsPlan {
    /// The rootfs (canonical host path).
    pub root: Option<CString>,
    /// Ops, in order.
    pub ops: Vec<Op>,
    /// One per op.
    pub info: Vec<OpInfo>,
    /// Detached mounts to make before the clone.
    pub detached: Vec<Detached>,
    /// Their fds once made ([`RootfsPlan::prepare_detached`]); dropping
    /// the plan closes them, which dissolves any the child did not attach.
    pub detached_fds: Vec<std::os::fd::OwnedFd>,
    /// What building the plan learned of the rootfs.
    known: Known,
}

/// What [`RootfsPlan::build`] learned of the rootfs while resolving paths,
/// to spare the child system calls that would change nothing.
#[derive(Debug, Default)]
struct Known {
    /// [`secure_join`] results by the path asked (`/dev` is asked twice).
    joins: std::collections::HashMap<String, PathBuf>,
    /// Host paths in the rootfs seen as directories (not symlinks).
    dirs: std::collections::HashSet<PathBuf>,
    /// Host paths beneath the rootfs where an earlier op mounts (or may
    /// change what lies below): what was seen beneath them is stale.
    covered: Vec<PathBuf>,
}

/// A failed op: its index, the system call (see [`SYSCALL_NAMES`]), errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Index in [`RootfsPlan::ops`].
    pub op: usize,
    /// Index in [`SYSCALL_NAMES`].
    pub syscall: u8,
    /// The errno.
    pub errno: i32,
}

/// Names of the system calls an op can fail in.
pub const SYSCALL_NAMES: [&str; 14] = [
    "mount",
    "umount2",
    "mkdir",
    "mknod",
    "symlink",
    "open",
    "pivot_root",
    "chdir",
    "chroot",
    "statfs",
    "chown",
    "chmod",
    "mount_setattr",
    "move_mount",
];
const S_MOUNT: u8 = 0;
const S_UMOUNT: u8 = 1;
const S_MKDIR: u8 = 2;
const S_MKNOD: u8 = 3;
const S_SYMLINK: u8 = 4;
const S_OPEN: u8 = 5;
const S_PIVOT: u8 = 6;
const S_CHDIR: u8 = 7;
const S_CHROOT: u8 = 8;
const S_STATFS: u8 = 9;
const S_CHOWN: u8 = 10;
const S_CHMOD: u8 = 11;
const S_SETATTR: u8 = 12;
const S_MOVE: u8 = 13;

fn cs(s: &str, field: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| {
        Error::new(Code::InvalidOption, format!("{field} contains a NUL byte"))
            .with_field(field.to_string())
    })
}

/// The mount point of the mount that holds `path` (from mountinfo; `/`
/// when nothing closer is mounted).
fn mount_point_of(path: &Path) -> PathBuf {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        // mountinfo escapes spaces and the like as octal (\040).
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| path.starts_with(m))
        .max_by_key(|m| m.as_os_str().len())
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn cpath(p: &Path, field: &str) -> Result<CString, Error> {
    cs(&p.to_string_lossy(), field)
}

/// (parent relative to `root`, file name) of `p`, for [`Op::Mknod`] and
/// [`Op::Symlink`] made with `*at` calls beneath the rootfs.
fn at_of(root: &Path, p: &Path, field: &str) -> Result<Option<(Option<CString>, CString)>, Error> {
    let Some(name) = p.file_name() else {
        return Ok(None);
    };
    if !p.starts_with(root) {
        return Ok(None);
    }
    let parent = p
        .parent()
        .map(|d| beneath_of(root, d, field))
        .transpose()?
        .flatten();
    Ok(Some((parent, cs(&name.to_string_lossy(), field)?)))
}

/// `p` relative to `root`, for an op the child resolves beneath the rootfs
/// (`openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)`); `None` for the root.
fn beneath_of(root: &Path, p: &Path, field: &str) -> Result<Option<CString>, Error> {
    let rel = p.strip_prefix(root).unwrap_or(Path::new(""));
    if rel.as_os_str().is_empty() {
        Ok(None)
    } else {
        Ok(Some(cpath(rel, field)?))
    }
}

/// The standard device nodes: name, major, minor.
pub const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];
/// The standard `/dev` links.
pub const DEV_LINKS: [(&str, &str); 6] = [
    ("/proc/self/fd", "fd"),
    ("/proc/self/fd/0", "stdin"),
    ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"),
    ("pts/ptmx", "ptmx"),
    ("/proc/kcore", "core"),
];

impl RootfsPlan {
    fn push(&mut self, op: Op, what: impl Into<String>, path: impl AsRef<Path>) {
        let creates_only = matches!(
            op,
            Op::MkdirsBeneath(_)
                | Op::Mkdirs(_)
                | Op::CreateFileBeneath(_)
                | Op::CreateFile(_)
                | Op::Mknod { .. }
                | Op::Symlink { .. }
        );
        // A mount on the rootfs itself (its bind onto itself) keeps what is
        // in it, one above it (propagation) does not reach into it; any
        // other op may hide what was seen beneath its path.
        let root = self
            .root
            .as_deref()
            .map(|r| Path::new(OsStr::from_bytes(r.to_bytes())));
        let path = path.as_ref();
        let beneath_root = root.is_some_and(|r| path.starts_with(r));
        let on_root = matches!(op, Op::Mount { .. }) && root == Some(path);
        if !creates_only && beneath_root && !on_root {
            self.known.covered.push(path.to_path_buf());
        }
        self.ops.push(op);
        self.info.push(OpInfo {
            what: what.into(),
            path: path.to_string_lossy().into_owned(),
        });
    }

    /// Build the plan for `spec` (reads the rootfs to resolve paths).
    pub fn build(spec: &RootfsSpec) -> Result<RootfsPlan, Error> {
        let root = PathBuf::from(&spec.path);
        let root = match symlink_free_dir(&root) {
            Some(r) => r,
            None => Self::resolve_root(spec, root)?,
        };
        let mut plan = RootfsPlan::default();
        let croot = cpath(&root, "rootfs")?;
        plan.root = Some(croot.clone());
        Self::build_in(plan, spec, root, croot)
    }

    /// The rootfs as a directory and its real path (`realpath`: a
    /// `readlink` for every component): the slow way of
    /// [`symlink_free_dir`], with its errors.
    fn resolve_root(spec: &RootfsSpec, root: PathBuf) -> Result<PathBuf, Error> {
        let meta = std::fs::metadata(&root).map_err(|e| {
            Error::io(Code::Rootfs, "stat", &e, format!("rootfs {}", spec.path))
                .with_path(&spec.path)
        })?;
        if !meta.is_dir() {
            return Err(Error::sys(
                Code::Rootfs,
                "stat",
                libc::ENOTDIR,
                format!("rootfs {}", spec.path),
            )
            .with_path(&spec.path));
        }
        let root = root.canonicalize().map_err(|e| {
            Error::io(
                Code::Rootfs,
                "realpath",
                &e,
                format!("rootfs {}", spec.path),
            )
            .with_path(&spec.path)
        })?;
        Ok(root)
    }

    /// [`RootfsPlan::build`] once the rootfs is resolved.
    fn build_in(
        mut plan: RootfsPlan,
        spec: &RootfsSpec,
        root: PathBuf,
        croot: CString,
    ) -> Result<RootfsPlan, Error> {
        if spec.chroot {
            plan.push(Op::Chroot { root: croot }, "chroot into the rootfs", &root);
            return Ok(plan);
        }
        let asked = match &spec.propagation {
            None => (libc::MS_REC | libc::MS_PRIVATE) as u64,
            Some(p) => propagation_flags(p).ok_or_else(|| {
                Error::new(Code::InvalidOption, format!("unknown propagation {p:?}"))
                    .with_field("rootfs.propagation")
            })?,
        };
        // Every mount first gets the asked type, recursively (none of the
        // container's mounts may propagate to the host) -- but unbindable
        // ones could not be bound below: private until after the pivot.
        let prop = if asked & libc::MS_UNBINDABLE as u64 != 0 {
            (libc::MS_REC | libc::MS_PRIVATE) as u64
        } else {
            asked | libc::MS_REC as u64
        };
        plan.push(
            Op::Mount {
                src: None,
                dst: cs("/", "rootfs")?,
                fstype: None,
                flags: prop,
                data: None,
                beneath: None,
            },
            "set the propagation of /",
            "/",
        );
        if prop & libc::MS_SHARED as u64 != 0 {
            // As runc: pivot_root refuses a new root whose parent mount is
            // shared, so that one mount (the one holding the rootfs) becomes
            // private; the rootfs and what is mounted in it stay shared.
            let parent = mount_point_of(root.parent().unwrap_or(&root));
            plan.push(
                Op::Mount {
                    src: None,
                    dst: cpath(&parent, "rootfs")?,
                    fstype: None,
                    flags: libc::MS_PRIVATE as u64,
                    data: None,
                    beneath: None,
                },
                "make the mount holding the rootfs private",
                &parent,
            );
        }
        plan.push(
            Op::Mount {
                src: Some(croot.clone()),
                dst: croot.clone(),
                fstype: None,
                flags: (libc::MS_BIND | libc::MS_REC) as u64,
                data: None,
                beneath: None,
            },
            "bind the rootfs onto itself",
            &root,
        );

        // As runc: a default node the config lists (privileged containers
        // list every host device) is made from the config only, and with a
        // fresh /dev, /dev/ptmx stays the link to the container's devpts.
        let listed: Vec<&str> = spec.devices.iter().map(|d| d.path.as_str()).collect();
        if spec.dev {
            plan.dev(&root, spec.bind_devices, &listed)?;
        }

        for (i, m) in spec.mounts.iter().enumerate() {
            if !spec.cgroup_binds.is_empty()
                && matches!(m.fstype.as_deref(), Some("cgroup") | Some("cgroup2"))
            {
                plan.cgroup_mount(&root, m, i, &spec.cgroup_binds)?;
            } else {
                plan.mount(&root, m, i)?;
            }
        }
        if spec.dev_nodes {
            let dev = plan.join(&root, "/dev")?;
            plan.mkdirs_beneath(&root, &dev, "/dev", "dev")?;
            plan.dev_nodes(&root, &dev, true, &listed)?;
        }
        for (i, d) in spec.devices.iter().enumerate() {
            if (spec.dev || spec.dev_nodes) && d.path == "/dev/ptmx" {
                continue;
            }
            plan.device(&root, d, i, spec.bind_devices)?;
        }

        plan.push(
            Op::PivotRoot {
                root: croot,
                no_pivot: spec.no_pivot,
            },
            "pivot_root into the rootfs",
            &root,
        );
        // As runc, on the new root once it is "/": the bind of the rootfs
        // was made private (a shared parent would leak it to the host), so a
        // shared root gets a peer group of its own here, and an unbindable
        // one its type (it could not have been bound before).
        if asked & (libc::MS_SHARED | libc::MS_UNBINDABLE) as u64 != 0 {
            plan.push(
                Op::Mount {
                    src: None,
                    dst: cs("/", "rootfs")?,
                    fstype: None,
                    flags: asked,
                    data: None,
                    beneath: None,
                },
                "set the propagation of the container's /",
                "/",
            );
        }
        for p in &spec.masked_paths {
            plan.push(
                Op::Mask(cs(p, "maskedPaths")?),
                "mask (a symlink is refused; the source /dev/null must be the device 1:3)",
                p,
            );
        }
        for p in &spec.readonly_paths {
            plan.push(
                Op::ReadonlyPath(cs(p, "readonlyPaths")?),
                "make read-only",
                p,
            );
        }
        if spec.readonly {
            plan.push(
                Op::Remount {
                    dst: cs("/", "rootfs")?,
                    flags: libc::MS_RDONLY as u64,
                    beneath: None,
                },
                "remount / read-only",
                "/",
            );
        }
        Ok(plan)
    }

    fn dev(&mut self, root: &Path, bind: bool, listed: &[&str]) -> Result<(), Error> {
        let dev = self.join(root, "/dev")?;
        self.mkdirs_beneath(root, &dev, "/dev", "dev")?;
        let cdev = cpath(&dev, "rootfs")?;
        self.push(
            Op::Mount {
                src: Some(cs("tmpfs", "dev")?),
                dst: cdev,
                fstype: Some(cs("tmpfs", "dev")?),
                flags: (libc::MS_NOSUID | libc::MS_STRICTATIME) as u64,
                data: Some(cs("mode=755,size=65536k", "dev")?),
                beneath: beneath_of(root, &dev, "dev")?,
            },
            "mount tmpfs on /dev",
            &dev,
        );
        self.dev_nodes(root, &dev, bind, listed)?;
        let pts = dev.join("pts");
        self.mkdirs_beneath(root, &pts, "/dev/pts", "dev")?;
        self.push(
            Op::Mount {
                src: Some(cs("devpts", "dev")?),
                dst: cpath(&pts, "dev")?,
                fstype: Some(cs("devpts", "dev")?),
                flags: (libc::MS_NOSUID | libc::MS_NOEXEC) as u64,
                data: Some(cs("newinstance,ptmxmode=0666,mode=0620", "dev")?),
                beneath: beneath_of(root, &pts, "dev")?,
            },
            "mount devpts on /dev/pts",
            &pts,
        );
        let shm = dev.join("shm");
        self.mkdirs_beneath(root, &shm, "/dev/shm", "dev")?;
        self.push(
            Op::Mount {
                src: Some(cs("shm", "dev")?),
                dst: cpath(&shm, "dev")?,
                fstype: Some(cs("tmpfs", "dev")?),
                flags: (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC) as u64,
                data: Some(cs("mode=1777,size=65536k", "dev")?),
                beneath: beneath_of(root, &shm, "dev")?,
            },
            "mount tmpfs on /dev/shm",
            &shm,
        );
        Ok(())
    }

    /// The standard nodes and links in `dev` (a host path in the rootfs).
    fn dev_nodes(
        &mut self,
        root: &Path,
        dev: &Path,
        bind: bool,
        listed: &[&str],
    ) -> Result<(), Error> {
        for (name, major, minor) in DEVICES {
            if listed.iter().any(|l| l.strip_prefix("/dev/") == Some(name)) {
                continue;
            }
            let path = dev.join(name);
            let cp = cpath(&path, "dev")?;
            if bind {
                let rel = beneath_of(root, &path, "dev")?;
                match &rel {
                    Some(r) => self.push(
                        Op::CreateFileBeneath(r.clone()),
                        format!("create /dev/{name}"),
                        &path,
                    ),
                    None => self.push(
                        Op::CreateFile(cp.clone()),
                        format!("create /dev/{name}"),
                        &path,
                    ),
                }
                self.push(
                    Op::Mount {
                        src: Some(cs(&format!("/dev/{name}"), "dev")?),
                        dst: cp,
                        fstype: None,
                        flags: libc::MS_BIND as u64,
                        data: None,
                        beneath: rel,
                    },
                    format!("bind /dev/{name} from the host"),
                    &path,
                );
            } else {
                self.push(
                    Op::Mknod {
                        at: at_of(root, &path, "dev")?,
                        path: cp,
                        mode: libc::S_IFCHR | 0o666,
                        dev: libc::makedev(major, minor),
                    },
                    format!("create /dev/{name}"),
                    &path,
                );
            }
        }
        for (target, name) in DEV_LINKS {
            let link = dev.join(name);
            self.push(
                Op::Symlink {
                    target: cs(target, "dev")?,
                    link: cpath(&link, "dev")?,
                    at: at_of(root, &link, "dev")?,
                },
                format!("link /dev/{name}"),
                &link,
            );
        }
        Ok(())
    }

    /// Index of the [`Op::PivotRoot`] op: everything before it runs in the
    /// host's view of the file system (the pre-pivot sync point of
    /// [`crate::LifecycleOptions::pre_pivot_sync`] is right before it).
    pub fn pivot_index(&self) -> usize {
        self.ops
            .iter()
            .position(|o| matches!(o, Op::PivotRoot { .. } | Op::Chroot { .. }))
            .unwrap_or(self.ops.len())
    }

    /// One OCI device node.
    fn device(&mut self, root: &Path, d: &DeviceSpec, i: usize, bind: bool) -> Result<(), Error> {
        let field = format!("devices[{i}]");
        if !d.path.starts_with('/') {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.path must be absolute"),
            )
            .with_field(format!("{field}.path")));
        }
        let typ = match d.kind {
            'c' | 'u' => libc::S_IFCHR,
            'b' => libc::S_IFBLK,
            'p' => libc::S_IFIFO,
            k => {
                return Err(Error::new(
                    Code::InvalidOption,
                    format!("{field}.type {k:?} is not one of c, u, b, p"),
                )
                .with_field(format!("{field}.type")))
            }
        };
        let dst = self.join(root, &d.path)?;
        if let Some(parent) = dst.parent() {
            self.mkdirs_beneath(root, parent, &d.path, &field)?;
        }
        let cp = cpath(&dst, &field)?;
        if bind {
            if std::fs::metadata(&d.path).is_err() {
                return Err(Error::sys(
                    Code::Device,
                    "stat",
                    libc::ENOENT,
                    format!(
                        "{field}: host device {} to bind (mknod is refused in a user namespace)",
                        d.path
                    ),
                )
                .with_path(&d.path));
            }
            let rel = beneath_of(root, &dst, &field)?;
            match &rel {
                Some(r) => self.push(
                    Op::CreateFileBeneath(r.clone()),
                    format!("create {}", d.path),
                    &dst,
                ),
                None => self.push(
                    Op::CreateFile(cp.clone()),
                    format!("create {}", d.path),
                    &dst,
                ),
            }
            self.push(
                Op::Mount {
                    src: Some(cs(&d.path, &field)?),
                    dst: cp,
                    fstype: None,
                    flags: libc::MS_BIND as u64,
                    data: None,
                    beneath: rel,
                },
                format!("bind the device {} from the host", d.path),
                &dst,
            );
        } else {
            let dev = if d.kind == 'p' {
                0
            } else {
                libc::makedev(d.major, d.minor)
            };
            self.push(
                Op::Device {
                    at: at_of(root, &dst, &field)?,
                    path: cp,
                    mode: typ | (d.mode.unwrap_or(0o666) & 0o7777),
                    dev,
                    uid: d.uid.unwrap_or(0),
                    gid: d.gid.unwrap_or(0),
                },
                format!("create the device {}", d.path),
                &dst,
            );
        }
        Ok(())
    }

    /// A `cgroup`/`cgroup2` mount: the binds of [`RootfsSpec::cgroup_binds`].
    fn cgroup_mount(
        &mut self,
        root: &Path,
        m: &MountSpec,
        i: usize,
        binds: &[(String, String)],
    ) -> Result<(), Error> {
        let field = format!("mounts[{i}]");
        if !m.destination.starts_with('/') {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.destination must be absolute"),
            )
            .with_field(format!("{field}.destination")));
        }
        let opts = &m.options;
        if opts.bind {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.options: a cgroup mount cannot be a bind mount"),
            )
            .with_field(format!("{field}.options")));
        }
        let dst = self.join(root, &m.destination)?;
        self.mkdirs_beneath(root, &dst, &m.destination, &field)?;
        let cdst = cpath(&dst, &field)?;
        let ro = opts.flags & libc::MS_RDONLY as u64 != 0;
        let keep = opts.flags
            & (libc::MS_NOSUID
                | libc::MS_NODEV
                | libc::MS_NOEXEC
                | libc::MS_RELATIME
                | libc::MS_NOATIME) as u64;
        let ro_flag = if ro { libc::MS_RDONLY as u64 } else { 0 };
        let bind = |plan: &mut RootfsPlan, src: &str, dst: &Path| -> Result<(), Error> {
            let cd = cpath(dst, &field)?;
            let rel = beneath_of(root, dst, &field)?;
            plan.push(
                Op::Mount {
                    src: Some(cs(src, &field)?),
                    dst: cd.clone(),
                    fstype: None,
                    flags: (libc::MS_BIND | libc::MS_REC) as u64,
                    data: None,
                    beneath: rel.clone(),
                },
                format!("bind the cgroup {src} on {}", m.destination),
                dst,
            );
            plan.push(
                Op::Remount {
                    dst: cd,
                    flags: keep | ro_flag,
                    beneath: rel,
                },
                format!("remount the cgroup bind on {}", m.destination),
                dst,
            );
            Ok(())
        };
        if let Some((dir, _)) = binds.iter().find(|(_, n)| n.is_empty()) {
            return bind(self, dir, &dst);
        }
        self.push(
            Op::Mount {
                src: Some(cs("tmpfs", &field)?),
                dst: cdst.clone(),
                fstype: Some(cs("tmpfs", &field)?),
                flags: keep,
                data: Some(cs("mode=755", &field)?),
                beneath: beneath_of(root, &dst, &field)?,
            },
            format!("mount tmpfs on {}", m.destination),
            &dst,
        );
        for (dir, name) in binds {
            if name.contains('/') || name == ".." || name == "." {
                return Err(Error::new(
                    Code::InvalidOption,
                    format!("cgroup bind name {name:?} is not a plain name"),
                )
                .with_field("rootfs.cgroupBinds"));
            }
            let sub = dst.join(name);
            self.mkdirs_beneath(root, &sub, &format!("{}/{name}", m.destination), &field)?;
            bind(self, dir, &sub)?;
            if name.contains(',') {
                for part in name.split(',') {
                    let l = dst.join(part);
                    self.push(
                        Op::Symlink {
                            target: cs(name, &field)?,
                            link: cpath(&l, &field)?,
                            at: at_of(root, &l, &field)?,
                        },
                        format!("link {}/{part}", m.destination),
                        &l,
                    );
                }
            }
        }
        if ro {
            self.push(
                Op::Mount {
                    src: None,
                    dst: cdst,
                    fstype: None,
                    flags: keep | (libc::MS_REMOUNT | libc::MS_RDONLY) as u64,
                    data: Some(cs("mode=755", &field)?),
                    beneath: beneath_of(root, &dst, &field)?,
                },
                format!("remount {} read-only", m.destination),
                &dst,
            );
        }
        Ok(())
    }

    /// [`secure_join`] once per path a plan: what it sees (symlinks,
    /// directories) is the rootfs before the child's ops, asked again or
    /// not.
    fn join(&mut self, root: &Path, unsafe_path: &str) -> Result<PathBuf, Error> {
        if let Some(p) = self.known.joins.get(unsafe_path) {
            return Ok(p.clone());
        }
        let dirs = &mut self.known.dirs;
        let p = secure_join_seen(root, unsafe_path, &mut |d| {
            dirs.insert(d.to_path_buf());
        })?;
        self.known.joins.insert(unsafe_path.to_string(), p.clone());
        Ok(p)
    }

    /// Whether `dir` is known to exist when the child gets to it: seen as
    /// a directory, and no earlier op mounts above it. Its `mkdirat` would
    /// fail with `EEXIST`; the mount on it still opens it beneath the
    /// rootfs.
    fn known_dir(&self, dir: &Path) -> bool {
        self.known.dirs.contains(dir)
            && !self
                .known
                .covered
                .iter()
                .any(|c| dir != c && dir.starts_with(c))
    }

    /// Directories from the rootfs down to `dir` (relative parts), for
    /// [`Op::MkdirsBeneath`], but those [known](Self::known_dir) to exist.
    fn mkdirs_beneath(
        &mut self,
        root: &Path,
        dir: &Path,
        what: &str,
        field: &str,
    ) -> Result<(), Error> {
        let rel = dir.strip_prefix(root).unwrap_or(Path::new(""));
        let mut list = Vec::new();
        let mut parent = PathBuf::new();
        for c in rel.components() {
            let name = c.as_os_str().to_string_lossy().into_owned();
            let p = if parent.as_os_str().is_empty() {
                None
            } else {
                Some(cpath(&parent, field)?)
            };
            parent.push(&name);
            if self.known_dir(&root.join(&parent)) {
                continue;
            }
            list.push((p, cs(&name, field)?));
        }
        if !list.is_empty() {
            self.push(
                Op::MkdirsBeneath(list),
                format!("create the mount point for {what}"),
                dir,
            );
        }
        Ok(())
    }

    fn mount(&mut self, root: &Path, m: &MountSpec, i: usize) -> Result<(), Error> {
        let field = format!("mounts[{i}]");
        if !m.destination.starts_with('/') {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.destination must be absolute"),
            )
            .with_field(format!("{field}.destination")));
        }
        let opts = &m.options;
        let fstype = m.fstype.clone().unwrap_or_else(|| {
            if opts.bind {
                "bind".into()
            } else {
                "none".into()
            }
        });
        let bind = opts.bind || fstype == "bind";
        let dst = self.join(root, &m.destination)?;
        let rel = dst.strip_prefix(root).unwrap_or(Path::new(""));
        let beneath = if rel.as_os_str().is_empty() {
            None
        } else {
            Some(cpath(rel, &field)?)
        };
        let what = format!("{} on {}", fstype, m.destination);
        // The mount point: a file for a bind of a file, else a directory.
        let source = m.source.clone().unwrap_or_else(|| fstype.clone());
        let file_bind = bind
            && std::fs::metadata(&source)
                .map(|md| !md.is_dir())
                .unwrap_or(false);
        if bind && std::fs::metadata(&source).is_err() {
            return Err(Error::sys(
                Code::Mount,
                "stat",
                libc::ENOENT,
                format!("{field}: bind source {source}"),
            )
            .with_path(&source));
        }
        if file_bind {
            if let Some(parent) = dst.parent() {
                self.mkdirs_beneath(root, parent, &m.destination, &field)?;
            }
            match &beneath {
                Some(r) => self.push(
                    Op::CreateFileBeneath(r.clone()),
                    format!("create the mount point for {}", m.destination),
                    &dst,
                ),
                None => {
                    return Err(Error::new(
                        Code::InvalidOption,
                        format!("{field}: cannot bind a file over the root"),
                    )
                    .with_field(field))
                }
            }
        } else {
            self.mkdirs_beneath(root, &dst, &m.destination, &field)?;
        }
        let cdst = cpath(&dst, &field)?;
        let mut flags = opts.flags;
        if opts.tmpcopyup && (bind || fstype != "tmpfs") {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.options: tmpcopyup is only for tmpfs mounts"),
            )
            .with_field(format!("{field}.options")));
        }
        if opts.idmap && !bind {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}.options: idmap and ridmap are only for bind mounts"),
            )
            .with_field(format!("{field}.options")));
        }
        if opts.idmap && (m.uid_mappings.is_empty() || m.gid_mappings.is_empty()) {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}: an idmap mount needs uidMappings and gidMappings"),
            )
            .with_field(format!("{field}.uidMappings")));
        }
        if !opts.idmap && (!m.uid_mappings.is_empty() || !m.gid_mappings.is_empty()) {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}: uidMappings and gidMappings need the idmap or ridmap option"),
            )
            .with_field(format!("{field}.options")));
        }
        if bind {
            flags |= libc::MS_BIND as u64;
            // A bind ignores other flags: bind, then remount with them.
            let extra = flags & !((libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT) as u64);
            if opts.idmap {
                for (name, list) in [
                    ("uidMappings", &m.uid_mappings),
                    ("gidMappings", &m.gid_mappings),
                ] {
                    if list.iter().any(|l| l.count == 0) || list.len() > 340 {
                        return Err(Error::new(
                            Code::InvalidOption,
                            format!("{field}.{name}: sizes must be positive, at most 340 lines"),
                        )
                        .with_field(format!("{field}.{name}")));
                    }
                }
                let slot = self.detached.len();
                self.detached.push(Detached::IdmapBind {
                    source: source.clone(),
                    recursive: flags & libc::MS_REC as u64 != 0,
                    recursive_idmap: opts.recursive_idmap,
                    uid: m.uid_mappings.clone(),
                    gid: m.gid_mappings.clone(),
                    field: field.clone(),
                });
                self.push(
                    Op::MoveMount {
                        slot,
                        dst: cdst.clone(),
                        beneath: beneath.clone(),
                    },
                    format!("attach the id-mapped {what} (move_mount)"),
                    &dst,
                );
            } else {
                self.push(
                    Op::Mount {
                        src: Some(cs(&source, &field)?),
                        dst: cdst.clone(),
                        fstype: None,
                        flags: flags & (libc::MS_BIND | libc::MS_REC) as u64,
                        data: None,
                        beneath: beneath.clone(),
                    },
                    format!("mount {what}"),
                    &dst,
                );
            }
            if extra != 0 {
                self.push(
                    Op::Remount {
                        dst: cdst.clone(),
                        flags: extra,
                        beneath: beneath.clone(),
                    },
                    format!("remount {what} with its flags"),
                    &dst,
                );
            }
        } else if opts.tmpcopyup {
            let slot = self.detached.len();
            self.detached.push(Detached::Tmpfs {
                source: source.clone(),
                data: opts.data.clone(),
                flags,
                root: root.to_path_buf(),
                copy_from: dst.clone(),
                field: field.clone(),
            });
            self.push(
                Op::MoveMount {
                    slot,
                    dst: cdst.clone(),
                    beneath: beneath.clone(),
                },
                format!(
                    "attach the tmpfs (tmpcopyup) on {} (move_mount)",
                    m.destination
                ),
                &dst,
            );
        } else {
            let data = if opts.data.is_empty() {
                None
            } else {
                Some(cs(&opts.data, &field)?)
            };
            self.push(
                Op::Mount {
                    src: Some(cs(&source, &field)?),
                    dst: cdst.clone(),
                    fstype: Some(cs(&fstype, &field)?),
                    flags,
                    data,
                    beneath: beneath.clone(),
                },
                format!("mount {what}"),
                &dst,
            );
        }
        if opts.attr_set != 0 || opts.attr_clr != 0 {
            let names = &opts.attr_names;
            self.push(
                Op::SetAttr {
                    dst: cdst.clone(),
                    beneath: beneath.clone(),
                    set: opts.attr_set,
                    clr: opts.attr_clr,
                    recursive: true,
                },
                format!(
                    "set {} recursively on {} (mount_setattr, Linux 5.12 or later)",
                    names.join(","),
                    m.destination
                ),
                &dst,
            );
        }
        if opts.propagation != 0 {
            self.push(
                Op::Mount {
                    src: None,
                    dst: cdst,
                    fstype: None,
                    flags: opts.propagation,
                    data: None,
                    beneath,
                },
                format!("set the propagation of {}", m.destination),
                &dst,
            );
        }
        Ok(())
    }
}

macro_rules! try_sys {
    ($op:expr, $sys:expr, $call:expr) => {{
        let e = $call;
        if e != 0 {
            return Err(Failure {
                op: $op,
                syscall: $sys,
                errno: e,
            });
        }
    }};
}

/// The rootfs opened as a directory fd (once), for the ops that resolve
/// beneath it.
fn root_fd<S: Syscalls>(
    plan: &RootfsPlan,
    sys: &S,
    fd: &mut i32,
    op: usize,
) -> Result<i32, Failure> {
    if *fd < 0 {
        let root = plan
            .root
            .as_ref()
            .map(|c| c.as_ptr())
            .unwrap_or(c"/".as_ptr());
        *fd = sys.open_dir(root).map_err(|e| Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        })?;
    }
    Ok(*fd)
}

/// The directory `parent` (relative to the rootfs; `None`: the rootfs
/// itself) opened beneath the rootfs, for the `*at` calls of an op.
fn open_parent<S: Syscalls>(
    plan: &RootfsPlan,
    sys: &S,
    rootfd: &mut i32,
    parent: &Option<CString>,
    op: usize,
) -> Result<i32, Failure> {
    let root = root_fd(plan, sys, rootfd, op)?;
    match parent {
        None => Ok(root),
        Some(p) => sys
            .open_beneath(root, p.as_ptr(), libc::O_PATH | libc::O_DIRECTORY, 0)
            .map_err(|e| Failure {
                op,
                syscall: S_OPEN,
                errno: e,
            }),
    }
}

fn close_parent<S: Syscalls>(_plan: &RootfsPlan, sys: &S, rootfd: &i32, dir: i32) {
    if dir != *rootfd {
        sys.close(dir);
    }
}

/// An OCI device node in the directory `dir` (opened beneath the rootfs):
/// whatever is there replaced, the node made, then reopened without
/// following symlinks, checked to be the node made, and given its exact
/// mode (whatever the umask took off, as runc) and owner through that fd.
#[allow(clippy::too_many_arguments)]
fn device_at<S: Syscalls>(
    sys: &S,
    op: usize,
    dir: i32,
    name: &CString,
    mode: u32,
    dev: u64,
    uid: u32,
    gid: u32,
) -> Result<(), Failure> {
    let e = sys.unlinkat(dir, name.as_ptr());
    if e != 0 && e != libc::ENOENT {
        return Err(Failure {
            op,
            syscall: S_MKNOD,
            errno: e,
        });
    }
    try_sys!(op, S_MKNOD, sys.mknodat(dir, name.as_ptr(), mode, dev));
    let fd = sys
        .open_beneath(dir, name.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW, 0)
        .map_err(|e| Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        })?;
    let mut buf = [0u8; 32];
    let r = match sys.fd_stat(fd) {
        Ok((m, _)) if m & libc::S_IFMT != mode & libc::S_IFMT => Err(Failure {
            op,
            syscall: S_MKNOD,
            errno: libc::EEXIST,
        }),
        Err(e) => Err(Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        }),
        Ok(_) => match sys.chmod(fd_path(fd, &mut buf), mode & 0o7777) {
            0 => match sys.fchown_fd(fd, uid, gid) {
                0 => Ok(()),
                e => Err(Failure {
                    op,
                    syscall: S_CHOWN,
                    errno: e,
                }),
            },
            e => Err(Failure {
                op,
                syscall: S_CHMOD,
                errno: e,
            }),
        },
    };
    sys.close(fd);
    r
}

/// Open `rel` beneath the rootfs (no symlinks) as `O_PATH`.
fn open_target<S: Syscalls>(
    plan: &RootfsPlan,
    sys: &S,
    rootfd: &mut i32,
    rel: &CString,
    op: usize,
) -> Result<i32, Failure> {
    let dir = root_fd(plan, sys, rootfd, op)?;
    sys.open_beneath(dir, rel.as_ptr(), libc::O_PATH, 0)
        .map_err(|e| Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        })
}

/// Open `path` (absolute, in the new root after the pivot) beneath `/`
/// without following any symlink, as `O_PATH`; `Ok(None)` when missing.
/// The masked and read-only paths go through here, so a symlink the image
/// planted there cannot point the mount elsewhere (refused with `ELOOP`).
fn open_in_new_root<S: Syscalls>(
    sys: &S,
    op: usize,
    path: &std::ffi::CStr,
) -> Result<Option<i32>, Failure> {
    let bytes = path.to_bytes();
    let skip = bytes.iter().take_while(|b| **b == b'/').count();
    if skip == bytes.len() {
        return Ok(None);
    }
    // SAFETY: `skip` < len: the pointer stays inside the NUL-terminated string.
    let rel = unsafe { path.as_ptr().add(skip) };
    let slash = sys.open_dir(c"/".as_ptr()).map_err(|e| Failure {
        op,
        syscall: S_OPEN,
        errno: e,
    })?;
    let r = sys.open_beneath(slash, rel, libc::O_PATH | libc::O_NOFOLLOW, 0);
    sys.close(slash);
    match r {
        Ok(fd) => Ok(Some(fd)),
        Err(libc::ENOENT) | Err(libc::ENOTDIR) => Ok(None),
        Err(e) => Err(Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        }),
    }
}

/// Hide a path: an empty read-only tmpfs over a directory, the new root's
/// `/dev/null` over anything else. Both ends are opened beneath the root
/// and that `/dev/null` must be the real character device 1:3: a symlink
/// or file planted there (the runc CVE-2025-31133 class) would otherwise be
/// bound, writable, over a masked `/proc` file.
fn mask<S: Syscalls>(sys: &S, op: usize, path: &std::ffi::CStr) -> Result<(), Failure> {
    let null = std::ptr::null();
    let Some(target) = open_in_new_root(sys, op, path)? else {
        return Ok(());
    };
    let mut tbuf = [0u8; 32];
    let r = match sys.fd_stat(target) {
        Err(e) => Err(Failure {
            op,
            syscall: S_OPEN,
            errno: e,
        }),
        Ok((mode, _)) if mode & libc::S_IFMT == libc::S_IFDIR => match sys.mount(
            c"tmpfs".as_ptr(),
            fd_path(target, &mut tbuf),
            c"tmpfs".as_ptr(),
            libc::MS_RDONLY as u64,
            c"size=0k,mode=0555".as_ptr(),
        ) {
            0 => Ok(()),
            e => Err(Failure {
                op,
                syscall: S_MOUNT,
                errno: e,
            }),
        },
        Ok(_) => match open_in_new_root(sys, op, c"/dev/null") {
            Err(f) => Err(f),
            Ok(None) => Err(Failure {
                op,
                syscall: S_OPEN,
                errno: libc::ENOENT,
            }),
            Ok(Some(src)) => {
                let r = match sys.fd_stat(src) {
                    Ok((mode, rdev))
                        if mode & libc::S_IFMT == libc::S_IFCHR && rdev == libc::makedev(1, 3) =>
                    {
                        let mut sbuf = [0u8; 32];
                        match sys.mount(
                            fd_path(src, &mut sbuf),
                            fd_path(target, &mut tbuf),
                            null,
                            libc::MS_BIND as u64,
                            null,
                        ) {
                            0 => Ok(()),
                            e => Err(Failure {
                                op,
                                syscall: S_MOUNT,
                                errno: e,
                            }),
                        }
                    }
                    Ok(_) => Err(Failure {
                        op,
                        syscall: S_OPEN,
                        errno: libc::ENODEV,
                    }),
                    Err(e) => Err(Failure {
                        op,
                        syscall: S_OPEN,
                        errno: e,
                    }),
                };
                sys.close(src);
                r
            }
        },
    };
    sys.close(target);
    r
}

/// Make a path read-only: bind it onto itself and remount the bind
/// read-only, both through fds opened beneath the new root.
fn readonly_path<S: Syscalls>(sys: &S, op: usize, path: &std::ffi::CStr) -> Result<(), Failure> {
    let null = std::ptr::null();
    let Some(fd) = open_in_new_root(sys, op, path)? else {
        return Ok(());
    };
    let mut buf = [0u8; 32];
    let e = sys.mount(
        fd_path(fd, &mut buf),
        fd_path(fd, &mut buf),
        null,
        (libc::MS_BIND | libc::MS_REC) as u64,
        null,
    );
    sys.close(fd);
    try_sys!(op, S_MOUNT, e);
    // Reopen: the fd above is on the mount below the new bind.
    let Some(fd) = open_in_new_root(sys, op, path)? else {
        return Err(Failure {
            op,
            syscall: S_OPEN,
            errno: libc::ENOENT,
        });
    };
    let target = fd_path(fd, &mut buf);
    let r = match sys.mount_flags(target) {
        Ok(keep) => match sys.mount(
            null,
            target,
            null,
            (libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY) as u64 | keep,
            null,
        ) {
            0 => Ok(()),
            e => Err(Failure {
                op,
                syscall: S_MOUNT,
                errno: e,
            }),
        },
        Err(e) => Err(Failure {
            op,
            syscall: S_STATFS,
            errno: e,
        }),
    };
    sys.close(fd);
    r
}

/// Run the plan. Fork-safe with [`crate::syscalls::Raw`]: no allocation.
pub fn execute<S: Syscalls>(plan: &RootfsPlan, sys: &S) -> Result<(), Failure> {
    execute_range(plan, sys, 0, plan.ops.len())
}

/// Run ops `from..to` of the plan (see [`RootfsPlan::pivot_index`] for the
/// split around the pre-pivot sync point). Fork-safe like [`execute`].
pub fn execute_range<S: Syscalls>(
    plan: &RootfsPlan,
    sys: &S,
    from: usize,
    to: usize,
) -> Result<(), Failure> {
    // Device nodes and mount points get exactly the modes asked for.
    sys.umask(0);
    execute_range_umask_0(plan, sys, from, to)
}

/// [`execute_range`] in a process whose umask is 0 already (the split
/// plan's second range, after its first): one `umask` call less.
pub fn execute_range_umask_0<S: Syscalls>(
    plan: &RootfsPlan,
    sys: &S,
    from: usize,
    to: usize,
) -> Result<(), Failure> {
    let mut rootfd = -1;
    let mut links = LinkDir {
        fd: -1,
        parent: None,
    };
    let r = run_ops(
        plan,
        sys,
        &mut rootfd,
        &mut links,
        from,
        to.min(plan.ops.len()),
    );
    links.close(sys);
    if rootfd >= 0 {
        sys.close(rootfd);
    }
    r
}

/// The directory a run of [`Op::Symlink`]s makes its links in (`/dev`'s
/// six), opened beneath the rootfs once for the run, not once per link.
/// Closed before any other op, so nothing else (a mount over that path, the
/// pivot) runs while it is open.
struct LinkDir<'a> {
    fd: i32,
    parent: Option<&'a CString>,
}

impl LinkDir<'_> {
    fn close<S: Syscalls>(&mut self, sys: &S) {
        if self.fd >= 0 {
            sys.close(self.fd);
        }
        self.fd = -1;
        self.parent = None;
    }
}

fn run_ops<'a, S: Syscalls>(
    plan: &'a RootfsPlan,
    sys: &S,
    rootfd: &mut i32,
    links: &mut LinkDir<'a>,
    from: usize,
    to: usize,
) -> Result<(), Failure> {
    let null = std::ptr::null();
    // Set when an op also did the next one (a file made and mounted on).
    let mut done_next = false;
    for (i, op) in plan.ops.iter().enumerate().take(to).skip(from) {
        if std::mem::take(&mut done_next) {
            continue;
        }
        if !matches!(
            op,
            Op::Symlink {
                at: Some((Some(_), _)),
                ..
            }
        ) {
            links.close(sys);
        }
        match op {
            Op::Mount {
                src,
                dst,
                fstype,
                flags,
                data,
                beneath,
            } => {
                let p = |o: &Option<CString>| o.as_ref().map(|c| c.as_ptr()).unwrap_or(null);
                match beneath {
                    None => try_sys!(
                        i,
                        S_MOUNT,
                        sys.mount(p(src), dst.as_ptr(), p(fstype), *flags, p(data))
                    ),
                    Some(rel) => {
                        let fd = open_target(plan, sys, rootfd, rel, i)?;
                        let mut buf = [0u8; 32];
                        let e =
                            sys.mount(p(src), fd_path(fd, &mut buf), p(fstype), *flags, p(data));
                        sys.close(fd);
                        try_sys!(i, S_MOUNT, e);
                    }
                }
            }
            Op::Remount {
                dst,
                flags,
                beneath,
            } => {
                let mut buf = [0u8; 32];
                let (target, fd) = match beneath {
                    None => (dst.as_ptr(), -1),
                    Some(rel) => {
                        let fd = open_target(plan, sys, rootfd, rel, i)?;
                        (fd_path(fd, &mut buf), fd)
                    }
                };
                let res = match sys.mount_flags(target) {
                    Ok(keep) => {
                        let all = (libc::MS_BIND | libc::MS_REMOUNT) as u64 | keep | flags;
                        match sys.mount(null, target, null, all, null) {
                            0 => Ok(()),
                            e => Err(Failure {
                                op: i,
                                syscall: S_MOUNT,
                                errno: e,
                            }),
                        }
                    }
                    Err(e) => Err(Failure {
                        op: i,
                        syscall: S_STATFS,
                        errno: e,
                    }),
                };
                if fd >= 0 {
                    sys.close(fd);
                }
                res?;
            }
            Op::Mkdirs(list) => {
                for d in list {
                    let e = sys.mkdir(d.as_ptr(), 0o755);
                    if e != 0 && e != libc::EEXIST {
                        return Err(Failure {
                            op: i,
                            syscall: S_MKDIR,
                            errno: e,
                        });
                    }
                }
            }
            Op::MkdirsBeneath(list) => {
                let root = root_fd(plan, sys, rootfd, i)?;
                for (parent, name) in list {
                    let dir = match parent {
                        None => root,
                        Some(p) => sys
                            .open_beneath(root, p.as_ptr(), libc::O_PATH | libc::O_DIRECTORY, 0)
                            .map_err(|e| Failure {
                                op: i,
                                syscall: S_OPEN,
                                errno: e,
                            })?,
                    };
                    let e = sys.mkdirat(dir, name.as_ptr(), 0o755);
                    if dir != root {
                        sys.close(dir);
                    }
                    if e != 0 && e != libc::EEXIST {
                        return Err(Failure {
                            op: i,
                            syscall: S_MKDIR,
                            errno: e,
                        });
                    }
                }
            }
            Op::CreateFile(p) => {
                let e = sys.create_file(p.as_ptr());
                if e != 0 && e != libc::EEXIST {
                    return Err(Failure {
                        op: i,
                        syscall: S_OPEN,
                        errno: e,
                    });
                }
            }
            Op::CreateFileBeneath(rel) => {
                let root = root_fd(plan, sys, rootfd, i)?;
                let fd = sys
                    .open_beneath(root, rel.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644)
                    .map_err(|e| Failure {
                        op: i,
                        syscall: S_OPEN,
                        errno: e,
                    })?;
                // A bind mount onto the file just made (a /dev node) goes
                // on this fd: it was opened beneath the rootfs as the mount
                // op's own O_PATH open would be, one open and close fewer.
                let mut res = Ok(());
                if let Some(Op::Mount {
                    src,
                    fstype,
                    flags,
                    data,
                    beneath: Some(target),
                    ..
                }) = plan.ops.get(i + 1).filter(|_| i + 1 < to)
                {
                    if target == rel {
                        let p =
                            |o: &Option<CString>| o.as_ref().map(|c| c.as_ptr()).unwrap_or(null);
                        let mut buf = [0u8; 32];
                        let e =
                            sys.mount(p(src), fd_path(fd, &mut buf), p(fstype), *flags, p(data));
                        if e != 0 {
                            res = Err(Failure {
                                op: i + 1,
                                syscall: S_MOUNT,
                                errno: e,
                            });
                        }
                        done_next = true;
                    }
                }
                sys.close(fd);
                res?;
            }
            Op::Mknod {
                path,
                mode,
                dev,
                at,
            } => {
                let e = match at {
                    None => sys.mknod(path.as_ptr(), *mode, *dev),
                    Some((parent, name)) => {
                        let dir = open_parent(plan, sys, rootfd, parent, i)?;
                        let e = sys.mknodat(dir, name.as_ptr(), *mode, *dev);
                        close_parent(plan, sys, rootfd, dir);
                        e
                    }
                };
                if e != 0 && e != libc::EEXIST {
                    return Err(Failure {
                        op: i,
                        syscall: S_MKNOD,
                        errno: e,
                    });
                }
            }
            Op::Device {
                at: Some((parent, name)),
                mode,
                dev,
                uid,
                gid,
                ..
            } => {
                let dir = open_parent(plan, sys, rootfd, parent, i)?;
                let r = device_at(sys, i, dir, name, *mode, *dev, *uid, *gid);
                close_parent(plan, sys, rootfd, dir);
                r?;
            }
            Op::Device {
                path,
                mode,
                dev,
                uid,
                gid,
                at: None,
            } => {
                // Replace what is there (a file of the image, a default node).
                let e = sys.unlink(path.as_ptr());
                if e != 0 && e != libc::ENOENT {
                    return Err(Failure {
                        op: i,
                        syscall: S_MKNOD,
                        errno: e,
                    });
                }
                try_sys!(i, S_MKNOD, sys.mknod(path.as_ptr(), *mode, *dev));
                // The exact fileMode, whatever the umask took off (as runc).
                try_sys!(i, S_CHMOD, sys.chmod(path.as_ptr(), *mode & 0o7777));
                try_sys!(i, S_CHOWN, sys.lchown(path.as_ptr(), *uid, *gid));
            }
            Op::Symlink { target, link, at } => {
                let e = match at {
                    None => sys.symlink(target.as_ptr(), link.as_ptr()),
                    Some((Some(parent), name)) => {
                        if links.parent != Some(parent) {
                            links.close(sys);
                            let root = root_fd(plan, sys, rootfd, i)?;
                            links.fd = sys
                                .open_beneath(
                                    root,
                                    parent.as_ptr(),
                                    libc::O_PATH | libc::O_DIRECTORY,
                                    0,
                                )
                                .map_err(|e| Failure {
                                    op: i,
                                    syscall: S_OPEN,
                                    errno: e,
                                })?;
                            links.parent = Some(parent);
                        }
                        sys.symlinkat(target.as_ptr(), links.fd, name.as_ptr())
                    }
                    Some((None, name)) => {
                        let dir = root_fd(plan, sys, rootfd, i)?;
                        sys.symlinkat(target.as_ptr(), dir, name.as_ptr())
                    }
                };
                if e != 0 && e != libc::EEXIST {
                    return Err(Failure {
                        op: i,
                        syscall: S_SYMLINK,
                        errno: e,
                    });
                }
            }
            Op::PivotRoot { root, no_pivot } => {
                if *rootfd >= 0 {
                    sys.close(*rootfd);
                    *rootfd = -1;
                }
                try_sys!(i, S_CHDIR, sys.chdir(root.as_ptr()));
                let dot = c".".as_ptr();
                let e = if *no_pivot {
                    libc::EINVAL
                } else {
                    sys.pivot_root(dot, dot)
                };
                if e == 0 {
                    // The old root is now stacked under "." : keep its
                    // unmount from propagating to the host, then detach it.
                    try_sys!(
                        i,
                        S_MOUNT,
                        sys.mount(
                            null,
                            dot,
                            null,
                            (libc::MS_SLAVE | libc::MS_REC) as u64,
                            null
                        )
                    );
                    try_sys!(i, S_UMOUNT, sys.umount2(dot, libc::MNT_DETACH));
                } else if e == libc::EINVAL {
                    try_sys!(
                        i,
                        S_MOUNT,
                        sys.mount(dot, c"/".as_ptr(), null, libc::MS_MOVE as u64, null)
                    );
                    try_sys!(i, S_CHROOT, sys.chroot(dot));
                } else {
                    return Err(Failure {
                        op: i,
                        syscall: S_PIVOT,
                        errno: e,
                    });
                }
                try_sys!(i, S_CHDIR, sys.chdir(c"/".as_ptr()));
            }
            Op::Chroot { root } => {
                if *rootfd >= 0 {
                    sys.close(*rootfd);
                    *rootfd = -1;
                }
                try_sys!(i, S_CHDIR, sys.chdir(root.as_ptr()));
                try_sys!(i, S_CHROOT, sys.chroot(c".".as_ptr()));
                try_sys!(i, S_CHDIR, sys.chdir(c"/".as_ptr()));
            }
            Op::Mask(path) => mask(sys, i, path)?,
            Op::SetAttr {
                dst,
                beneath,
                set,
                clr,
                recursive,
            } => {
                let rec = if *recursive {
                    crate::syscalls::AT_RECURSIVE
                } else {
                    0
                };
                match beneath {
                    None => try_sys!(
                        i,
                        S_SETATTR,
                        sys.mount_setattr(libc::AT_FDCWD, dst.as_ptr(), rec, *set, *clr)
                    ),
                    Some(rel) => {
                        let fd = open_target(plan, sys, rootfd, rel, i)?;
                        let e = sys.mount_setattr(
                            fd,
                            c"".as_ptr(),
                            rec | libc::AT_EMPTY_PATH as u32,
                            *set,
                            *clr,
                        );
                        sys.close(fd);
                        try_sys!(i, S_SETATTR, e);
                    }
                }
            }
            Op::MoveMount { slot, dst, beneath } => {
                use std::os::fd::AsRawFd;
                let from = plan
                    .detached_fds
                    .get(*slot)
                    .map(|f| f.as_raw_fd())
                    .unwrap_or(-1);
                match beneath {
                    None => try_sys!(
                        i,
                        S_MOVE,
                        sys.move_mount(from, libc::AT_FDCWD, dst.as_ptr())
                    ),
                    Some(rel) => {
                        let fd = open_target(plan, sys, rootfd, rel, i)?;
                        let e = sys.move_mount(from, fd, c"".as_ptr());
                        sys.close(fd);
                        try_sys!(i, S_MOVE, e);
                    }
                }
            }
            Op::ReadonlyPath(path) => readonly_path(sys, i, path)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::fake::Recorder;

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proc")).unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        d
    }

    #[test]
    fn options_parse_into_flags_propagation_and_data() {
        let o = parse_options(&["ro", "nosuid", "rbind", "rslave", "size=1m", "mode=755"]);
        assert_eq!(
            o.flags,
            (libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_BIND | libc::MS_REC) as u64
        );
        assert_eq!(o.propagation, (libc::MS_SLAVE | libc::MS_REC) as u64);
        assert_eq!(o.data, "size=1m,mode=755");
        assert!(o.bind);
        assert_eq!(parse_options(&["ro", "rw"]).flags, 0);
        assert_eq!(propagation_flags("private"), Some(libc::MS_PRIVATE as u64));
        assert_eq!(propagation_flags("rw"), None);
    }

    #[test]
    fn secure_join_keeps_symlinks_inside() {
        let d = rootfs();
        let r = d.path();
        std::os::unix::fs::symlink("/etc", r.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../../tmp", r.join("rel")).unwrap();
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        assert_eq!(secure_join(r, "/abs/passwd").unwrap(), r.join("etc/passwd"));
        assert_eq!(secure_join(r, "/rel/x").unwrap(), r.join("tmp/x"));
        assert_eq!(secure_join(r, "/../../etc").unwrap(), r.join("etc"));
        assert_eq!(secure_join(r, "/a/./b/../c").unwrap(), r.join("a/c"));
        // A symlink whose target climbs out through an absolute prefix, and
        // a relative one from a subdirectory (the runtime's former copy
        // tested these).
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/../../..", r.join("up")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", r.join("etc/rel")).unwrap();
        assert_eq!(secure_join(r, "/up/passwd").unwrap(), r.join("passwd"));
        assert_eq!(secure_join(r, "/etc/rel/x").unwrap(), r.join("etc/x"));
        assert_eq!(secure_join(r, "../../proc").unwrap(), r.join("proc"));
        assert_eq!(
            secure_join(r, "/loop").unwrap_err().errno,
            Some(libc::ELOOP)
        );
    }

    #[test]
    fn root_propagation_shared_and_unbindable_are_set_on_the_new_root() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let rs = r.to_string_lossy().into_owned();
        let parent = mount_point_of(r.parent().unwrap())
            .to_string_lossy()
            .into_owned();
        let run = |prop: &str| {
            let plan = RootfsPlan::build(&RootfsSpec {
                path: rs.clone(),
                propagation: Some(prop.into()),
                ..Default::default()
            })
            .unwrap();
            let fake = Recorder::default();
            execute(&plan, &fake).unwrap();
            let calls = fake.calls.borrow().clone();
            calls
                .into_iter()
                .filter(|c| c.starts_with("mount") || c.starts_with("pivot"))
                .collect::<Vec<_>>()
        };
        let bind = format!("mount {rs} {rs} - {:#x} -", libc::MS_BIND | libc::MS_REC);
        let pivot = |after: &[String]| {
            let mut v = vec![
                "pivot_root . .".to_string(),
                format!("mount - . - {:#x} -", libc::MS_SLAVE | libc::MS_REC),
            ];
            v.extend_from_slice(after);
            v
        };
        // shared: everything shared (nothing leaks: the rootfs's parent is
        // private), then "/" gets a peer group of its own after the pivot.
        let mut want = vec![
            format!("mount - / - {:#x} -", libc::MS_REC | libc::MS_SHARED),
            format!("mount - {parent} - {:#x} -", libc::MS_PRIVATE),
            bind.clone(),
        ];
        want.extend(pivot(&[format!("mount - / - {:#x} -", libc::MS_SHARED)]));
        assert_eq!(run("shared"), want);
        // unbindable: private until the rootfs is bound, unbindable after.
        let mut want = vec![
            format!("mount - / - {:#x} -", libc::MS_REC | libc::MS_PRIVATE),
            bind.clone(),
        ];
        want.extend(pivot(&[format!(
            "mount - / - {:#x} -",
            libc::MS_UNBINDABLE
        )]));
        assert_eq!(run("unbindable"), want);
        let mut want = vec![
            format!("mount - / - {:#x} -", libc::MS_REC | libc::MS_PRIVATE),
            bind.clone(),
        ];
        want.extend(pivot(&[format!(
            "mount - / - {:#x} -",
            libc::MS_UNBINDABLE | libc::MS_REC
        )]));
        assert_eq!(run("runbindable"), want);
        // slave and private are set before the bind, which inherits them.
        let mut want = vec![
            format!("mount - / - {:#x} -", libc::MS_REC | libc::MS_SLAVE),
            bind.clone(),
        ];
        want.extend(pivot(&[]));
        assert_eq!(run("slave"), want);
    }

    #[test]
    fn chroot_only_makes_no_mount() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let rs = r.to_string_lossy().into_owned();
        let spec = RootfsSpec {
            path: rs.clone(),
            chroot: true,
            // Ignored: these would be mounts in the caller's namespace.
            mounts: vec![MountSpec {
                destination: "/proc".into(),
                fstype: Some("proc".into()),
                ..Default::default()
            }],
            masked_paths: vec!["/proc/kcore".into()],
            readonly: true,
            dev: true,
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        assert_eq!(
            plan.pivot_index(),
            0,
            "the chroot is where the pre-pivot sync point is"
        );
        let fake = Recorder::default();
        execute(&plan, &fake).unwrap();
        assert_eq!(
            *fake.calls.borrow(),
            vec![
                "umask 0".to_string(),
                format!("chdir {rs}"),
                "chroot .".into(),
                "chdir /".into()
            ]
        );
    }

    #[test]
    fn plan_order_and_calls() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        std::os::unix::fs::symlink("/", r.join("escape")).unwrap();
        let spec = RootfsSpec {
            path: r.to_string_lossy().into(),
            mounts: vec![
                MountSpec {
                    destination: "/proc".into(),
                    fstype: Some("proc".into()),
                    source: Some("proc".into()),
                    options: MountOptions::parse(&["nosuid"]),
                    ..Default::default()
                },
                MountSpec {
                    destination: "/escape/data".into(),
                    source: Some("/etc".into()),
                    options: MountOptions::parse(&["rbind", "ro", "rprivate"]),
                    fstype: None,
                    ..Default::default()
                },
            ],
            masked_paths: vec!["/proc/kcore".into(), "/proc/acpi".into()],
            readonly_paths: vec!["/proc/sys".into()],
            readonly: true,
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        assert_eq!(plan.ops.len(), plan.info.len());
        let mut fake = Recorder::default();
        fake.kinds.insert("/proc/acpi".into(), Kind::Dir);
        fake.kinds.insert("/proc/kcore".into(), Kind::Other);
        fake.kinds.insert("/proc/sys".into(), Kind::Dir);
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow();
        let rs = r.to_string_lossy();
        let want = vec![
            "umask 0".to_string(),
            format!("mount - / - {:#x} -", libc::MS_REC | libc::MS_PRIVATE),
            format!("mount {rs} {rs} - {:#x} -", libc::MS_BIND | libc::MS_REC),
            // The user's mounts work beneath a dirfd of the rootfs: mount
            // points made with mkdirat, targets opened with openat2 without
            // following symlinks and mounted through /proc/self/fd.
            // /proc exists (seen while planning): no mkdirat, still opened
            // beneath the rootfs.
            format!("open_dir {rs}"),
            "openat2 50 proc".into(),
            format!("mount proc /proc/self/fd/100 proc {:#x} -", libc::MS_NOSUID),
            "close 100".into(),
            // The symlink to / was resolved inside the rootfs.
            "mkdirat 50 data 755".into(),
            "openat2 50 data".into(),
            format!(
                "mount /etc /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REC
            ),
            "close 100".into(),
            "openat2 50 data".into(),
            "statfs /proc/self/fd/100".into(),
            format!(
                "mount - /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID
            ),
            "close 100".into(),
            "openat2 50 data".into(),
            format!(
                "mount - /proc/self/fd/100 - {:#x} -",
                libc::MS_PRIVATE | libc::MS_REC
            ),
            "close 100".into(),
            "close 50".into(),
            format!("chdir {rs}"),
            "pivot_root . .".into(),
            format!("mount - . - {:#x} -", libc::MS_SLAVE | libc::MS_REC),
            format!("umount2 . {}", libc::MNT_DETACH),
            "chdir /".into(),
            // Masked and read-only paths: both ends opened beneath the new
            // root, the mask source checked to be the device 1:3.
            "open_dir /".into(),
            "openat2 50 proc/kcore".into(),
            "close 50".into(),
            "fstat 100".into(),
            "open_dir /".into(),
            "openat2 50 dev/null".into(),
            "close 50".into(),
            "fstat 100".into(),
            format!(
                "mount /proc/self/fd/100 /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND
            ),
            "close 100".into(),
            "close 100".into(),
            "open_dir /".into(),
            "openat2 50 proc/acpi".into(),
            "close 50".into(),
            "fstat 100".into(),
            format!(
                "mount tmpfs /proc/self/fd/100 tmpfs {:#x} size=0k,mode=0555",
                libc::MS_RDONLY
            ),
            "close 100".into(),
            "open_dir /".into(),
            "openat2 50 proc/sys".into(),
            "close 50".into(),
            format!(
                "mount /proc/self/fd/100 /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REC
            ),
            "close 100".into(),
            "open_dir /".into(),
            "openat2 50 proc/sys".into(),
            "close 50".into(),
            "statfs /proc/self/fd/100".into(),
            format!(
                "mount - /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID
            ),
            "close 100".into(),
            "statfs /".into(),
            format!(
                "mount - / - {:#x} -",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID
            ),
        ];
        assert_eq!(*calls, want);
    }

    #[test]
    fn pivot_root_einval_falls_back_to_move_and_chroot() {
        let d = rootfs();
        let plan = RootfsPlan::build(&RootfsSpec {
            path: d.path().to_string_lossy().into(),
            ..Default::default()
        })
        .unwrap();
        let fake = Recorder {
            fail: Some(("pivot_root".into(), libc::EINVAL)),
            ..Default::default()
        };
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow();
        let tail: Vec<&str> = calls
            .iter()
            .rev()
            .take(3)
            .rev()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            tail,
            vec![
                format!("mount . / - {:#x} -", libc::MS_MOVE).as_str(),
                "chroot .",
                "chdir /"
            ]
        );
    }

    #[test]
    fn the_rootfs_is_its_real_path_however_it_is_named() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let link = tempfile::tempdir().unwrap();
        let via = link.path().join("via");
        std::os::unix::fs::symlink(&r, &via).unwrap();
        let rs = r.to_string_lossy().into_owned();
        for (given, why) in [
            (rs.clone(), "plain"),
            (format!("{rs}//"), "trailing slashes"),
            (rs.replacen('/', "//", 2), "repeated slashes"),
            (format!("{rs}/proc/.."), "a dot-dot"),
            (via.to_string_lossy().into_owned(), "through a symlink"),
        ] {
            let spec = RootfsSpec {
                path: given.clone(),
                ..Default::default()
            };
            let plan = RootfsPlan::build(&spec).unwrap();
            assert_eq!(
                plan.root.as_deref().unwrap().to_str().unwrap(),
                rs,
                "{why}: {given}"
            );
        }
        // A file is refused as before (the slow way names the error).
        let file = r.join("etc/f");
        std::fs::write(&file, "").unwrap();
        let spec = RootfsSpec {
            path: file.to_string_lossy().into(),
            ..Default::default()
        };
        let e = RootfsPlan::build(&spec).unwrap_err();
        assert_eq!(e.errno, Some(libc::ENOTDIR));
    }

    #[test]
    fn mount_points_seen_are_not_made_again_unless_a_mount_hides_them() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(r.join("dev/mqueue")).unwrap();
        let spec = RootfsSpec {
            path: r.to_string_lossy().into(),
            mounts: [
                ("/proc", "proc"),
                ("/dev", "tmpfs"),
                ("/dev/mqueue", "mqueue"),
                ("/sys", "sysfs"),
            ]
            .into_iter()
            .map(|(destination, fstype)| MountSpec {
                destination: destination.into(),
                fstype: Some(fstype.into()),
                ..Default::default()
            })
            .collect(),
            dev_nodes: true,
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        let fake = Recorder::default();
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow();
        let mkdirs: Vec<&str> = calls
            .iter()
            .filter(|c| c.starts_with("mkdirat"))
            .map(|c| c.as_str())
            .collect();
        // proc and dev exist; dev/mqueue exists on disk but not on the
        // tmpfs mounted on /dev before it; sys does not exist.
        assert_eq!(mkdirs.len(), 2, "{calls:?}");
        assert!(mkdirs[0].ends_with(" mqueue 755"), "{mkdirs:?}");
        assert!(mkdirs[1].ends_with(" sys 755"), "{mkdirs:?}");
        // Every target is still opened beneath the rootfs.
        for t in ["proc", "dev", "mqueue", "sys"] {
            assert!(
                calls.iter().any(
                    |c| c.starts_with("openat2 ") && c.ends_with(&format!(" {t}"))
                        || c.starts_with("openat2 ") && c.ends_with(&format!("/{t}"))
                ),
                "{t}: {calls:?}"
            );
        }
    }

    #[test]
    fn failures_name_the_op_and_syscall() {
        let d = rootfs();
        // Absent, so that the plan makes its mount point.
        std::fs::remove_dir(d.path().join("proc")).unwrap();
        let spec = RootfsSpec {
            path: d.path().to_string_lossy().into(),
            mounts: vec![MountSpec {
                destination: "/proc".into(),
                fstype: Some("proc".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        // The source defaults to the fstype.
        let fake = Recorder {
            fail: Some(("mount proc".into(), libc::EPERM)),
            ..Default::default()
        };
        let f = execute(&plan, &fake).unwrap_err();
        assert_eq!(SYSCALL_NAMES[f.syscall as usize], "mount");
        assert_eq!(f.errno, libc::EPERM);
        assert_eq!(plan.info[f.op].what, "mount proc on /proc");
        assert!(plan.info[f.op].path.ends_with("/proc"));
        let fake = Recorder {
            fail: Some(("mkdirat".into(), libc::EROFS)),
            ..Default::default()
        };
        let f = execute(&plan, &fake).unwrap_err();
        assert_eq!(
            (SYSCALL_NAMES[f.syscall as usize], f.errno),
            ("mkdir", libc::EROFS)
        );
        assert_eq!(plan.info[f.op].what, "create the mount point for /proc");
    }

    #[test]
    fn a_symlink_swapped_in_after_planning_is_refused() {
        let d = rootfs();
        let spec = RootfsSpec {
            path: d.path().to_string_lossy().into(),
            mounts: vec![MountSpec {
                destination: "/late/x".into(),
                fstype: Some("tmpfs".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut plan = RootfsPlan::build(&spec).unwrap();
        // Planted after the plan was made, pointing outside.
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("late")).unwrap();
        // Run just the mount-point op for real (no root needed).
        let idx = plan
            .ops
            .iter()
            .position(|o| matches!(o, Op::MkdirsBeneath(_)))
            .unwrap();
        let op = plan.ops.remove(idx);
        let info = plan.info.remove(idx);
        let sub = RootfsPlan {
            root: plan.root.clone(),
            ops: vec![op],
            info: vec![info],
            ..Default::default()
        };
        let old = unsafe { libc::umask(0o022) };
        let f = execute(&sub, &crate::syscalls::Raw).unwrap_err();
        unsafe { libc::umask(old) };
        assert_eq!(
            (SYSCALL_NAMES[f.syscall as usize], f.errno),
            ("open", libc::ELOOP)
        );
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            0,
            "nothing made outside"
        );
    }

    #[test]
    fn fd_paths_are_formatted_without_allocation() {
        let mut buf = [0u8; 32];
        let p = fd_path(1234, &mut buf);
        assert_eq!(
            unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap(),
            "/proc/self/fd/1234"
        );
        let p = fd_path(0, &mut buf);
        assert_eq!(
            unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap(),
            "/proc/self/fd/0"
        );
    }

    #[test]
    fn dev_setup_makes_nodes_or_binds_them() {
        let d = rootfs();
        let path: String = d.path().canonicalize().unwrap().to_string_lossy().into();
        for bind in [false, true] {
            let plan = RootfsPlan::build(&RootfsSpec {
                path: path.clone(),
                dev: true,
                bind_devices: bind,
                ..Default::default()
            })
            .unwrap();
            let fake = Recorder::default();
            execute(&plan, &fake).unwrap();
            let calls = fake.calls.borrow();
            let joined = calls.join("\n");
            // /dev, devpts and bound nodes are mounted through fds opened
            // beneath the rootfs; nodes and links are made in the new tmpfs.
            let null = if bind {
                // Made and mounted on through one fd opened beneath the rootfs.
                format!(
                    "openat2 50 dev/null creat\nmount /dev/null /proc/self/fd/100 - {:#x} -\nclose 100",
                    libc::MS_BIND
                )
            } else {
                format!(
                    "openat2 50 dev\nmknodat 100 null 20666 {:#x}",
                    libc::makedev(1, 3)
                )
            };
            assert!(joined.contains(&null), "{calls:#?}");
            assert!(
                joined.contains("openat2 50 dev\nsymlinkat /proc/self/fd 100 fd"),
                "{calls:#?}"
            );
            // The links of /dev share one opening of the directory.
            assert!(
                joined.contains("symlinkat /proc/self/fd 100 fd\nsymlinkat /proc/self/fd/0 100 stdin\nsymlinkat /proc/self/fd/1 100 stdout"),
                "{calls:#?}"
            );
            assert!(
                joined.contains("openat2 50 dev/pts\nmount devpts /proc/self/fd/100 devpts"),
                "{calls:#?}"
            );
            let tmpfs = calls
                .iter()
                .position(|c| c.starts_with("mount tmpfs /proc/self/fd/100 tmpfs"))
                .unwrap();
            assert_eq!(calls[tmpfs - 1], "openat2 50 dev");
            let pivot = calls
                .iter()
                .position(|c| c.starts_with("pivot_root"))
                .unwrap();
            assert!(tmpfs < pivot);
        }
    }

    #[test]
    fn listed_devices_replace_the_defaults_and_keep_their_mode() {
        // A privileged config lists every host device, /dev/full and
        // /dev/ptmx among them: the default /dev/full is not made (or bound)
        // as well, /dev/ptmx stays the devpts link, and the node gets its
        // exact mode whatever the umask.
        let d = rootfs();
        let path: String = d.path().canonicalize().unwrap().to_string_lossy().into();
        for bind in [false, true] {
            let dev = |p: &str, minor: u32| DeviceSpec {
                path: p.into(),
                kind: 'c',
                major: if p == "/dev/ptmx" { 5 } else { 1 },
                minor,
                mode: Some(0o666),
                ..Default::default()
            };
            let spec = RootfsSpec {
                path: path.clone(),
                dev: true,
                bind_devices: bind,
                devices: vec![dev("/dev/full", 7), dev("/dev/ptmx", 2)],
                ..Default::default()
            };
            let fake = Recorder::default();
            execute(&RootfsPlan::build(&spec).unwrap(), &fake).unwrap();
            let calls = fake.calls.borrow();
            let joined = calls.join("\n");
            if bind {
                assert_eq!(
                    calls
                        .iter()
                        .filter(|c| c.starts_with("mount /dev/full "))
                        .count(),
                    1,
                    "{calls:#?}"
                );
            } else {
                // Made once (the listed node, not the default too), in /dev
                // opened beneath the rootfs, then reopened for its mode.
                assert_eq!(
                    calls
                        .iter()
                        .filter(|c| c.starts_with("mknodat 100 full "))
                        .count(),
                    1,
                    "{calls:#?}"
                );
                assert!(
                    joined.contains(
                        "openat2 100 full\nfstat 100\nchmod /proc/self/fd/100 666\nfchown 100 0 0"
                    ),
                    "{calls:#?}"
                );
            }
            assert!(
                calls.contains(&"symlinkat pts/ptmx 100 ptmx".to_string()),
                "{calls:#?}"
            );
            assert!(
                !calls.iter().any(
                    |c| c.starts_with("mknodat 100 ptmx") || c.starts_with("unlinkat 100 ptmx")
                ),
                "{calls:#?}"
            );
        }
    }

    #[test]
    fn missing_rootfs_and_bind_source_are_coded() {
        let e = RootfsPlan::build(&RootfsSpec {
            path: "/nonexistent/ctr-rootfs".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.errno, e.path.as_deref()),
            (
                Code::Rootfs.as_str(),
                Some(libc::ENOENT),
                Some("/nonexistent/ctr-rootfs")
            )
        );
        let d = rootfs();
        let spec = RootfsSpec {
            path: d.path().to_string_lossy().into(),
            mounts: vec![MountSpec {
                destination: "/x".into(),
                source: Some("/nonexistent/src".into()),
                options: MountOptions::parse(&["bind"]),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            RootfsPlan::build(&spec).unwrap_err().path.as_deref(),
            Some("/nonexistent/src")
        );
    }

    #[test]
    fn devices_are_made_after_the_mounts_or_bound_in_a_user_namespace() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let rs = r.to_string_lossy().into_owned();
        let dev = DeviceSpec {
            path: "/dev/fuse".into(),
            kind: 'c',
            major: 10,
            minor: 229,
            mode: Some(0o620),
            uid: Some(7),
            gid: Some(8),
        };
        let spec = RootfsSpec {
            path: rs.clone(),
            mounts: vec![MountSpec {
                destination: "/dev".into(),
                fstype: Some("tmpfs".into()),
                source: Some("tmpfs".into()),
                options: Default::default(),
                ..Default::default()
            }],
            devices: vec![
                dev.clone(),
                DeviceSpec {
                    path: "/dev/fifo0".into(),
                    kind: 'p',
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        let fake = Recorder::default();
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        let mount_at = calls.find("mount tmpfs").unwrap();
        // Replaced in /dev opened beneath the rootfs, reopened without
        // symlinks for the exact mode and the owner.
        let mknod_at = calls
            .find(&format!(
                "mknodat 100 fuse {:o} {:#x}",
                libc::S_IFCHR | 0o620,
                libc::makedev(10, 229)
            ))
            .expect(&calls);
        assert!(
            mount_at < mknod_at && mknod_at < calls.find("pivot_root").unwrap(),
            "{calls}"
        );
        assert!(
            calls.contains("openat2 50 dev\nunlinkat 100 fuse\nmknodat 100 fuse"),
            "{calls}"
        );
        assert!(calls.contains("openat2 100 fuse\nfstat 100\nchmod /proc/self/fd/100 620\nfchown 100 7 8\nclose 100"), "{calls}");
        assert!(
            calls.contains(&format!(
                "mknodat 100 fifo0 {:o} 0x0",
                libc::S_IFIFO | 0o666
            )),
            "{calls}"
        );
        // mknod refused (EPERM) names the device.
        let failing = Recorder {
            fail: Some(("mknod".into(), libc::EPERM)),
            ..Default::default()
        };
        let f = execute(&plan, &failing).unwrap_err();
        assert_eq!(
            (SYSCALL_NAMES[f.syscall as usize], f.errno),
            ("mknod", libc::EPERM)
        );
        assert_eq!(plan.info[f.op].what, "create the device /dev/fuse");
        // Bound from the host instead (the host has /dev/null).
        let spec = RootfsSpec {
            path: rs.clone(),
            bind_devices: true,
            devices: vec![DeviceSpec {
                path: "/dev/null".into(),
                kind: 'c',
                major: 1,
                minor: 3,
                ..Default::default()
            }],
            ..Default::default()
        };
        let fake = Recorder::default();
        execute(&RootfsPlan::build(&spec).unwrap(), &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        assert!(
            calls.contains(&format!(
                "openat2 50 dev/null creat\nmount /dev/null /proc/self/fd/100 - {:#x} -\nclose 100\n",
                libc::MS_BIND
            )),
            "{calls}"
        );
        assert!(!calls.contains("mknod"), "{calls}");
        // Bad type and relative path are refused with the field.
        let bad = RootfsSpec {
            path: rs.clone(),
            devices: vec![DeviceSpec {
                path: "/dev/x".into(),
                kind: 'q',
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            RootfsPlan::build(&bad).unwrap_err().path.as_deref(),
            Some("devices[0].type")
        );
        let bad = RootfsSpec {
            path: rs,
            devices: vec![DeviceSpec {
                path: "dev/x".into(),
                kind: 'c',
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            RootfsPlan::build(&bad).unwrap_err().path.as_deref(),
            Some("devices[0].path")
        );
    }

    #[test]
    fn cgroup_mounts_bind_the_containers_own_directories() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let rs = r.to_string_lossy().into_owned();
        let m = MountSpec {
            destination: "/sys/fs/cgroup".into(),
            fstype: Some("cgroup".into()),
            source: Some("cgroup".into()),
            options: MountOptions::parse(&["ro", "nosuid"]),
            ..Default::default()
        };
        let spec = RootfsSpec {
            path: rs.clone(),
            mounts: vec![m.clone()],
            cgroup_binds: vec![
                ("/sys/fs/cgroup/memory/ctr/x".into(), "memory".into()),
                (
                    "/sys/fs/cgroup/cpu,cpuacct/ctr/x".into(),
                    "cpu,cpuacct".into(),
                ),
            ],
            ..Default::default()
        };
        let fake = Recorder::default();
        execute(&RootfsPlan::build(&spec).unwrap(), &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        for want in [
            format!("openat2 50 sys/fs/cgroup\nmount tmpfs /proc/self/fd/100 tmpfs {:#x} mode=755", libc::MS_NOSUID),
            "openat2 50 sys/fs/cgroup\nmkdirat 100 memory 755".to_string(),
            format!("openat2 50 sys/fs/cgroup/memory\nmount /sys/fs/cgroup/memory/ctr/x /proc/self/fd/100 - {:#x} -", libc::MS_BIND | libc::MS_REC),
            format!(
                "openat2 50 sys/fs/cgroup/memory\nstatfs /proc/self/fd/100\nmount - /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_RDONLY
            ),
            "openat2 50 sys/fs/cgroup\nsymlinkat cpu,cpuacct 100 cpu\nsymlinkat cpu,cpuacct 100 cpuacct\nclose 100".to_string(),
            format!("openat2 50 sys/fs/cgroup\nmount - /proc/self/fd/100 - {:#x} mode=755", libc::MS_NOSUID | libc::MS_REMOUNT | libc::MS_RDONLY),
        ] {
            assert!(calls.contains(&want), "missing {want:?} in\n{calls}");
        }
        // A unified host: the one directory on the mount point itself.
        let spec = RootfsSpec {
            path: rs.clone(),
            mounts: vec![m.clone()],
            cgroup_binds: vec![("/sys/fs/cgroup/ctr/x".into(), String::new())],
            ..Default::default()
        };
        let fake = Recorder::default();
        execute(&RootfsPlan::build(&spec).unwrap(), &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        assert!(
            calls.contains(&format!(
                "openat2 50 sys/fs/cgroup\nmount /sys/fs/cgroup/ctr/x /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REC
            )),
            "{calls}"
        );
        assert!(!calls.contains("tmpfs"), "{calls}");
        let bad = RootfsSpec {
            path: rs,
            mounts: vec![m],
            cgroup_binds: vec![("/x".into(), "../y".into())],
            ..Default::default()
        };
        assert!(RootfsPlan::build(&bad).is_err());
    }

    #[test]
    fn execute_range_splits_the_plan_at_the_pivot() {
        let d = rootfs();
        let spec = RootfsSpec {
            path: d.path().to_string_lossy().into(),
            readonly: true,
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        let k = plan.pivot_index();
        assert!(matches!(plan.ops[k], Op::PivotRoot { .. }));
        let before = Recorder::default();
        execute_range(&plan, &before, 0, k).unwrap();
        assert!(!before
            .calls
            .borrow()
            .iter()
            .any(|c| c.starts_with("pivot_root")));
        let after = Recorder::default();
        execute_range(&plan, &after, k, plan.ops.len()).unwrap();
        let calls = after.calls.borrow();
        assert_eq!(calls[1].split(' ').next(), Some("chdir"));
        assert!(calls.iter().any(|c| c.starts_with("pivot_root")));
        // Together they are the whole plan.
        let all = Recorder::default();
        execute(&plan, &all).unwrap();
        assert_eq!(
            all.calls.borrow().len(),
            before.calls.borrow().len() + calls.len() - 1,
            "one umask per range"
        );
        // The second range in the process that ran the first: no umask.
        let rest = Recorder::default();
        execute_range_umask_0(&plan, &rest, k, plan.ops.len()).unwrap();
        assert_eq!(rest.calls.borrow()[..], calls[1..]);
    }

    #[test]
    fn recursive_attributes_parse_and_run_after_the_mount() {
        use crate::syscalls::*;
        let o = parse_options(&["rro", "rnosuid", "rnoatime", "rexec"]);
        assert_eq!(
            o.attr_set,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME
        );
        assert_eq!(o.attr_clr, MOUNT_ATTR__ATIME | MOUNT_ATTR_NOEXEC);
        assert_eq!(o.data, "", "recursive options are not file-system data");
        // The later option wins.
        let o = parse_options(&["rro", "rrw", "rnoatime", "rstrictatime"]);
        assert_eq!(
            (o.attr_set, o.attr_clr),
            (
                MOUNT_ATTR_STRICTATIME,
                MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME
            )
        );
        let o = parse_options(&["nosymfollow", "tmpcopyup", "ridmap"]);
        assert_eq!(o.flags, MS_NOSYMFOLLOW);
        assert!(o.tmpcopyup && o.idmap && o.recursive_idmap);

        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let spec = RootfsSpec {
            path: r.to_string_lossy().into(),
            mounts: vec![MountSpec {
                destination: "/data".into(),
                source: Some("/etc".into()),
                options: MountOptions::parse(&["rbind", "ro", "rro"]),
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        let fake = Recorder::default();
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        let remount = calls
            .find(&format!(
                "mount - /proc/self/fd/100 - {:#x}",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID
            ))
            .expect(&calls);
        let setattr = calls
            .find(&format!(
                "mount_setattr 100  {:#x} {:#x} 0x0",
                AT_RECURSIVE | libc::AT_EMPTY_PATH as u32,
                MOUNT_ATTR_RDONLY
            ))
            .expect(&calls);
        assert!(remount < setattr, "{calls}");
        // A refusal (an old kernel) names the op and mount_setattr.
        let fake = Recorder {
            fail: Some(("mount_setattr".into(), libc::ENOSYS)),
            ..Default::default()
        };
        let f = execute(&plan, &fake).unwrap_err();
        assert_eq!(
            (SYSCALL_NAMES[f.syscall as usize], f.errno),
            ("mount_setattr", libc::ENOSYS)
        );
        assert_eq!(
            plan.info[f.op].what,
            "set rro recursively on /data (mount_setattr, Linux 5.12 or later)"
        );
    }

    #[test]
    fn tmpcopyup_and_idmap_become_detached_mounts_the_child_moves() {
        let d = rootfs();
        let r = d.path().canonicalize().unwrap();
        let map = vec![crate::IdMap {
            inside: 0,
            outside: 1000,
            count: 10,
        }];
        let spec = RootfsSpec {
            path: r.to_string_lossy().into(),
            mounts: vec![
                MountSpec {
                    destination: "/etc".into(),
                    source: Some("tmpfs".into()),
                    fstype: Some("tmpfs".into()),
                    options: MountOptions::parse(&["tmpcopyup", "ro", "mode=755"]),
                    ..Default::default()
                },
                MountSpec {
                    destination: "/m".into(),
                    source: Some("/etc".into()),
                    fstype: Some("bind".into()),
                    options: MountOptions::parse(&["rbind", "idmap", "nosuid"]),
                    uid_mappings: map.clone(),
                    gid_mappings: map.clone(),
                },
            ],
            ..Default::default()
        };
        let plan = RootfsPlan::build(&spec).unwrap();
        assert_eq!(plan.detached.len(), 2);
        match &plan.detached[0] {
            Detached::Tmpfs {
                data,
                flags,
                copy_from,
                ..
            } => {
                assert_eq!(
                    (data.as_str(), *flags, copy_from.clone()),
                    ("mode=755", libc::MS_RDONLY as u64, r.join("etc"))
                );
            }
            other => panic!("{other:?}"),
        }
        match &plan.detached[1] {
            Detached::IdmapBind {
                source,
                recursive,
                recursive_idmap,
                uid,
                ..
            } => {
                assert_eq!(
                    (source.as_str(), *recursive, *recursive_idmap, uid.clone()),
                    ("/etc", true, false, map.clone())
                );
            }
            other => panic!("{other:?}"),
        }
        let fake = Recorder::default();
        execute(&plan, &fake).unwrap();
        let calls = fake.calls.borrow().join("\n");
        // Not prepared here (no root): the slots are -1.
        assert!(
            calls.contains("openat2 50 etc\nmove_mount -1 100 \nclose 100"),
            "{calls}"
        );
        assert!(
            calls.contains("openat2 50 m\nmove_mount -1 100 \nclose 100"),
            "{calls}"
        );
        assert!(
            !calls.contains("mount tmpfs") && !calls.contains("mount /etc"),
            "{calls}"
        );
        assert!(
            calls.contains(&format!(
                "mount - /proc/self/fd/100 - {:#x} -",
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_NOSUID
            )),
            "the bind's flags still apply: {calls}"
        );
        // Checked at plan time.
        let bad = |o: &[&str], fstype: &str, maps: bool| RootfsSpec {
            path: r.to_string_lossy().into(),
            mounts: vec![MountSpec {
                destination: "/x".into(),
                source: Some("/etc".into()),
                fstype: Some(fstype.into()),
                options: MountOptions::parse(o),
                uid_mappings: if maps { map.clone() } else { vec![] },
                gid_mappings: if maps { map.clone() } else { vec![] },
            }],
            ..Default::default()
        };
        for (o, fstype, maps) in [
            (&["tmpcopyup"][..], "proc", false),
            (&["bind", "tmpcopyup"][..], "bind", false),
            (&["idmap"][..], "tmpfs", true),
            (&["bind", "idmap"][..], "bind", false),
            (&["bind"][..], "bind", true),
        ] {
            let e = RootfsPlan::build(&bad(o, fstype, maps)).unwrap_err();
            assert_eq!(e.code, Code::InvalidOption.as_str(), "{o:?}");
        }
    }
}
