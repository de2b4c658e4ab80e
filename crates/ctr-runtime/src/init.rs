//! The container's init, `ctrun init <state-dir>`: exec'd by the
//! `ctr_ns::spawn` child inside the new namespaces, it applies the
//! [`InitPlan`] (rootfs, mounts, devices, pivot_root, masked and read-only
//! paths, sysctl, rlimits, user, capabilities), reports readiness over
//! `init.fifo`, then waits on `exec.fifo` until `start` opens it, and
//! execs the user program. This is runc's `runc init` + `exec.fifo` model:
//! the gate is a named FIFO, so it outlives the `ctrun create` process.
//!
//! It is a freshly exec'd single-threaded process, so allocation is fine.

use crate::plan::{InitPlan, PlannedDevice, PlannedMount};
use crate::util::{errno, secure_join};
use ctr_common::{error::strerror, Error, Result};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

fn fail(code: &str, syscall: &str, what: String) -> Error {
    let e = errno();
    Error { code: code.into(), message: format!("{what}: {}", strerror(e)), errno: Some(e), syscall: Some(syscall.into()), path: None }
}

fn mount(src: &str, dst: &str, typ: &str, flags: u64, data: &str) -> Result<()> {
    let (cs, cd, ct, cdata) = (c(src), c(dst), c(typ), c(data));
    let r = unsafe {
        libc::mount(
            cs.as_ptr(),
            cd.as_ptr(),
            if typ.is_empty() { std::ptr::null() } else { ct.as_ptr() },
            flags as libc::c_ulong,
            if data.is_empty() { std::ptr::null() } else { cdata.as_ptr().cast() },
        )
    };
    if r < 0 {
        return Err(fail("ERUNTIME_MOUNT", "mount", format!("mount {src} on {dst} (type {typ:?}, data {data:?})")).with_path(dst));
    }
    Ok(())
}

fn mkdir_all(p: &Path) -> Result<()> {
    std::fs::create_dir_all(p).map_err(|e| Error::io("ERUNTIME_MOUNT", "mkdir", &e, format!("mkdir {}", p.display())).with_path(p))
}

fn touch(p: &Path) -> Result<()> {
    if let Some(parent) = p.parent() {
        mkdir_all(parent)?;
    }
    if p.exists() {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(p)
        .map(|_| ())
        .map_err(|e| Error::io("ERUNTIME_MOUNT", "open", &e, format!("create {}", p.display())).with_path(p))
}

/// A `cgroup`/`cgroup2` mount: the container's own cgroup directories bound
/// on a tmpfs by hierarchy name (v1 and hybrid), or its cgroup2 directory
/// bound on the mount point (unified); read-only when asked.
fn cgroup_mount(dest: &Path, m: &PlannedMount, binds: &[(String, String)]) -> Result<()> {
    let dest_s = dest.to_string_lossy().into_owned();
    mkdir_all(dest)?;
    let ro = m.flags & libc::MS_RDONLY as u64 != 0;
    let keep = m.flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RELATIME | libc::MS_NOATIME) as u64;
    let bind = |src: &str, dst: &str| -> Result<()> {
        mount(src, dst, "", (libc::MS_BIND | libc::MS_REC) as u64, "")?;
        mount("", dst, "", keep | (libc::MS_BIND | libc::MS_REMOUNT) as u64 | if ro { libc::MS_RDONLY as u64 } else { 0 }, "")
    };
    if let Some((dir, _)) = binds.iter().find(|(_, n)| n.is_empty()) {
        return bind(dir, &dest_s);
    }
    mount("tmpfs", &dest_s, "tmpfs", keep, "mode=755")?;
    for (dir, name) in binds {
        let sub = dest.join(name);
        mkdir_all(&sub)?;
        bind(dir, &sub.to_string_lossy())?;
        // Co-mounted controllers get their links, as on the host (cpu -> cpu,cpuacct).
        if name.contains(',') {
            for part in name.split(',') {
                let l = dest.join(part);
                if std::fs::symlink_metadata(&l).is_err() {
                    std::os::unix::fs::symlink(name, &l)
                        .map_err(|e| Error::io("ERUNTIME_MOUNT", "symlink", &e, format!("link {}", l.display())).with_path(&l))?;
                }
            }
        }
    }
    if ro {
        mount("", &dest_s, "", keep | (libc::MS_REMOUNT | libc::MS_RDONLY) as u64, "mode=755")?;
    }
    Ok(())
}

fn do_mount(rootfs: &Path, m: &PlannedMount, cgroup_binds: &[(String, String)]) -> Result<()> {
    let dest = secure_join(rootfs, &m.destination)?;
    if m.typ == "cgroup" || m.typ == "cgroup2" {
        return cgroup_mount(&dest, m, cgroup_binds);
    }
    let dest_s = dest.to_string_lossy().into_owned();
    let bind = m.flags & libc::MS_BIND as u64 != 0;
    if bind {
        let src_meta = std::fs::metadata(&m.source)
            .map_err(|e| Error::io("ERUNTIME_MOUNT", "stat", &e, format!("bind source {}", m.source)).with_path(&m.source))?;
        if src_meta.is_dir() {
            mkdir_all(&dest)?;
        } else {
            touch(&dest)?;
        }
        mount(&m.source, &dest_s, "", m.flags & (libc::MS_BIND | libc::MS_REC) as u64, "")?;
        let rest = m.flags & !((libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT) as u64);
        if rest != 0 {
            mount("", &dest_s, "", rest | (libc::MS_BIND | libc::MS_REMOUNT) as u64, "")?;
        }
    } else {
        mkdir_all(&dest)?;
        mount(&m.source, &dest_s, &m.typ, m.flags, &m.data)?;
    }
    for p in &m.propagation {
        mount("", &dest_s, "", *p, "")?;
    }
    Ok(())
}

fn default_devices(rootfs: &Path, configured: &[PlannedDevice]) -> Result<()> {
    for name in ["null", "zero", "full", "random", "urandom", "tty"] {
        let host = format!("/dev/{name}");
        // As runc: a device the config lists (privileged containers list
        // every host device) is made from the config, not bound here too.
        if configured.iter().any(|d| d.path == host) {
            continue;
        }
        let dest = secure_join(rootfs, &host)?;
        touch(&dest)?;
        mount(&host, &dest.to_string_lossy(), "", libc::MS_BIND as u64, "")?;
    }
    for (link, target) in
        [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")]
    {
        let p = secure_join(rootfs, &format!("/dev/{link}"))?;
        if std::fs::symlink_metadata(&p).is_err() {
            std::os::unix::fs::symlink(target, &p)
                .map_err(|e| Error::io("ERUNTIME_DEVICE", "symlink", &e, format!("link {}", p.display())).with_path(&p))?;
        }
    }
    Ok(())
}

fn pivot(rootfs: &str) -> Result<()> {
    let r = || -> Result<()> {
        let old = open_dir("/")?;
        let new = open_dir(rootfs)?;
        if unsafe { libc::fchdir(new.as_raw_fd()) } < 0 {
            return Err(fail("ERUNTIME_PIVOT", "fchdir", format!("chdir {rootfs}")));
        }
        if unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) } < 0 {
            return Err(fail("ERUNTIME_PIVOT", "pivot_root", format!("pivot_root {rootfs}")).with_path(rootfs));
        }
        if unsafe { libc::fchdir(old.as_raw_fd()) } < 0 {
            return Err(fail("ERUNTIME_PIVOT", "fchdir", "chdir old root".into()));
        }
        mount("", ".", "", (libc::MS_SLAVE | libc::MS_REC) as u64, "")?;
        if unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) } < 0 {
            return Err(fail("ERUNTIME_PIVOT", "umount2", "detach old root".into()));
        }
        if unsafe { libc::chdir(c"/".as_ptr()) } < 0 {
            return Err(fail("ERUNTIME_PIVOT", "chdir", "chdir /".into()));
        }
        Ok(())
    };
    r()
}

fn open_dir(p: &str) -> Result<OwnedFd> {
    let fd = unsafe { libc::open(c(p).as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(fail("ERUNTIME_PIVOT", "open", format!("open {p}")).with_path(p));
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn mask(path: &str) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()), // nothing to mask
    };
    if meta.is_dir() {
        mount("tmpfs", path, "tmpfs", libc::MS_RDONLY as u64, "")
    } else {
        mount("/dev/null", path, "", libc::MS_BIND as u64, "")
    }
}

fn readonly(path: &str) -> Result<()> {
    if std::fs::metadata(path).is_err() {
        return Ok(());
    }
    mount(path, path, "", (libc::MS_BIND | libc::MS_REC) as u64, "")?;
    remount_ro(path)
}

fn remount_ro(path: &str) -> Result<()> {
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statvfs(c(path).as_ptr(), &mut st) };
    let keep = st.f_flag & (libc::ST_NOSUID | libc::ST_NODEV | libc::ST_NOEXEC | libc::ST_NOATIME | libc::ST_NODIRATIME | libc::ST_RELATIME);
    // ST_* and MS_* share their values for these bits.
    mount("", path, "", keep as u64 | (libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY) as u64, "")
}

const CAP_LAST: u32 = 40;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(CAP_LAST)
}

fn drop_bounding(c: &crate::plan::CapSets) -> Result<()> {
    for cap in 0..=last_cap() {
        if c.bounding & (1u64 << cap) == 0
            && unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong) } == 1
            && unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong) } < 0
        {
            return Err(fail("ERUNTIME_CAPS", "prctl", format!("drop capability {cap} from the bounding set")));
        }
    }
    Ok(())
}

fn apply_caps(c: &crate::plan::CapSets) -> Result<()> {
    let last = last_cap();
    let hdr = CapHeader { version: 0x20080522, pid: 0 };
    let mut data = [CapData::default(); 2];
    for (i, d) in data.iter_mut().enumerate() {
        d.effective = (c.effective >> (32 * i)) as u32;
        d.permitted = (c.permitted >> (32 * i)) as u32;
        d.inheritable = (c.inheritable >> (32 * i)) as u32;
    }
    if unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) } < 0 {
        return Err(fail("ERUNTIME_CAPS", "capset", "set capabilities".into()));
    }
    unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) };
    for cap in 0..=last {
        if c.ambient & (1u64 << cap) != 0
            && unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap as libc::c_ulong, 0, 0) } < 0
        {
            return Err(fail("ERUNTIME_CAPS", "prctl", format!("raise ambient capability {cap}")));
        }
    }
    Ok(())
}

/// execvp-style lookup of `prog` under the container's `PATH` (after pivot).
pub fn find_program(prog: &str, env: &[String]) -> Result<String> {
    let candidates = ctr_ns::plan::exec_candidates(prog, env);
    let mut saved = libc::ENOENT;
    for cand in &candidates {
        let cc = c(cand);
        if unsafe { libc::access(cc.as_ptr(), libc::X_OK) } == 0 {
            if std::fs::metadata(cand).map(|m| m.is_file()).unwrap_or(false) {
                return Ok(cand.clone());
            }
            saved = libc::EACCES;
        } else if errno() == libc::EACCES {
            saved = libc::EACCES;
        }
    }
    let what = if prog.contains('/') { format!("exec {prog:?}") } else { format!("exec {prog:?}: executable file not found in $PATH") };
    Err(Error {
        code: "ERUNTIME_EXEC".into(),
        message: format!("{what}: {}", strerror(saved)),
        errno: Some(saved),
        syscall: Some("execve".into()),
        path: Some(prog.to_string()),
    })
}

fn host_pid() -> i32 {
    // Before pivot_root, /proc is still the host's: it names our host pid.
    std::fs::read_link("/proc/self").ok().and_then(|p| p.to_str()?.parse().ok()).unwrap_or(0)
}

fn wait_fifo_byte(fd: RawFd) -> bool {
    loop {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let n = unsafe { libc::poll(&mut pfd, 1, -1) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        let mut byte = 0u8;
        let r = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        if r == 1 {
            return true;
        }
        if r == 0 || (r < 0 && errno() != libc::EAGAIN && errno() != libc::EINTR) {
            return false;
        }
    }
}

/// Install the seccomp filter (from `linux.seccomp`, compiled by the runtime).
fn install_seccomp(s: &crate::plan::PlannedSeccomp) -> Result<()> {
    let filter: Vec<libc::sock_filter> = s
        .bpf
        .chunks_exact(8)
        .map(|b| libc::sock_filter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect();
    if filter.is_empty() || filter.len() * 8 != s.bpf.len() || filter.len() > u16::MAX as usize {
        return Err(Error::new("ERUNTIME_SECCOMP", format!("seccomp program of {} bytes is not a valid sock_filter array", s.bpf.len())));
    }
    let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut libc::sock_filter };
    let rc = unsafe {
        libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, s.flags as libc::c_ulong, &prog as *const libc::sock_fprog)
    };
    if rc < 0 {
        return Err(fail("ERUNTIME_SECCOMP", "seccomp", "install the seccomp filter".into()).with_field("linux.seccomp"));
    }
    Ok(())
}

fn setup(p: &InitPlan, status: RawFd, sync: RawFd, own_exe: Option<&(u64, u64)>) -> Result<String> {
    let rootfs = Path::new(&p.rootfs);
    if !rootfs.is_dir() {
        return Err(Error::new("ERUNTIME_ROOTFS", format!("root filesystem {} is not a directory", p.rootfs)).with_path(&p.rootfs).with_errno(libc::ENOENT));
    }
    // Keep our mounts out of the host; then make the rootfs a mount point.
    mount("", "/", "", (libc::MS_SLAVE | libc::MS_REC) as u64, "")?;
    mount(&p.rootfs, &p.rootfs, "", (libc::MS_BIND | libc::MS_REC) as u64, "")?;
    for m in &p.mounts {
        do_mount(rootfs, m, &p.cgroup_binds)?;
    }
    if p.default_devices {
        default_devices(rootfs, &p.devices)?;
    }
    for d in &p.devices {
        // As runc: with a fresh /dev, /dev/ptmx is the link to pts/ptmx
        // (the devpts instance of the container), whatever the config lists.
        if p.default_devices && d.path == "/dev/ptmx" {
            continue;
        }
        let dest = secure_join(rootfs, &d.path)?;
        if let Some(parent) = dest.parent() {
            mkdir_all(parent)?;
        }
        let _ = std::fs::remove_file(&dest);
        let cd = c(&dest.to_string_lossy());
        if unsafe { libc::mknod(cd.as_ptr(), d.mode, d.dev) } < 0 {
            return Err(fail("ERUNTIME_DEVICE", "mknod", format!("mknod {}", d.path)).with_path(&d.path));
        }
        // As runc: the exact fileMode, whatever our umask took off.
        unsafe { libc::chmod(cd.as_ptr(), d.mode & 0o7777) };
        unsafe { libc::chown(cd.as_ptr(), d.uid, d.gid) };
    }
    let pid = host_pid();
    if p.runtime_hooks {
        // prestart/createRuntime run in the runtime namespace: let the runtime
        // run them now (namespaces and mounts exist, root not yet pivoted).
        report(status, "hooks\n");
        if !wait_fifo_byte(sync) {
            unsafe { libc::_exit(125) };
        }
    }
    if !p.create_container_hooks.is_empty() {
        let st = crate::hooks::state_json(&p.id, pid, "creating", &p.bundle, &p.annotations);
        crate::hooks::run_all("createContainer", &p.create_container_hooks, &st)?;
    }
    pivot(&p.rootfs)?;
    for m in &p.masked {
        mask(m)?;
    }
    for r in &p.readonly_paths {
        readonly(r)?;
    }
    if p.rootfs_propagation != 0 {
        mount("", "/", "", p.rootfs_propagation, "")?;
    }
    if p.readonly {
        remount_ro("/")?;
    }
    if let Some(d) = &p.domainname {
        if unsafe { libc::setdomainname(d.as_ptr().cast(), d.len()) } < 0 {
            return Err(fail("ERUNTIME_DOMAINNAME", "setdomainname", "set domainname".into()));
        }
    }
    for (k, v) in &p.sysctl {
        let path = format!("/proc/sys/{}", k.replace('.', "/"));
        ctr_common::fs::write_value("ERUNTIME_SYSCTL", &path, v)?;
    }
    if let Some(adj) = p.oom_score_adj {
        ctr_common::fs::write_value("ERUNTIME_OOM_SCORE_ADJ", "/proc/self/oom_score_adj", &adj.to_string())?;
    }
    for &(res, soft, hard) in &p.rlimits {
        let lim = libc::rlimit { rlim_cur: soft, rlim_max: hard };
        if unsafe { libc::setrlimit(res as _, &lim) } < 0 {
            return Err(fail("ERUNTIME_RLIMIT", "setrlimit", format!("set rlimit {res}")));
        }
    }
    if let Some(per) = p.personality {
        if unsafe { libc::personality(per as libc::c_ulong) } < 0 {
            return Err(fail("ERUNTIME_PERSONALITY", "personality", "set personality".into()));
        }
    }
    if let Some(io) = p.io_priority {
        if unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, io) } < 0 {
            return Err(fail("ERUNTIME_IOPRIO", "ioprio_set", "set io priority".into()));
        }
    }
    // Without no_new_privs the filter needs CAP_SYS_ADMIN, which the
    // credential change below may drop: install it first (as runc, ctr-ns).
    if let Some(sc) = p.seccomp.as_ref().filter(|s| s.early) {
        install_seccomp(sc)?;
    }
    // User: drop the bounding set while still privileged, keep the
    // permitted set across the uid change, then set the capability sets.
    if let Some(caps) = &p.caps {
        drop_bounding(caps)?;
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1) };
    }
    let gids: Vec<libc::gid_t> = p.additional_gids.clone();
    if unsafe { libc::setgroups(gids.len(), gids.as_ptr()) } < 0 {
        return Err(fail("ERUNTIME_USER", "setgroups", "set supplementary groups".into()));
    }
    if unsafe { libc::setresgid(p.gid, p.gid, p.gid) } < 0 {
        return Err(fail("ERUNTIME_USER", "setresgid", format!("set gid {}", p.gid)));
    }
    if unsafe { libc::setresuid(p.uid, p.uid, p.uid) } < 0 {
        return Err(fail("ERUNTIME_USER", "setresuid", format!("set uid {}", p.uid)));
    }
    if let Some(caps) = &p.caps {
        apply_caps(caps)?;
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0) };
    }
    if let Some(u) = p.umask {
        unsafe { libc::umask(u as libc::mode_t) };
    }
    if unsafe { libc::chdir(c(&p.cwd).as_ptr()) } < 0 {
        return Err(fail("ERUNTIME_CWD", "chdir", format!("chdir to cwd {:?} in the container", p.cwd)).with_field("process.cwd"));
    }
    let prog = find_program(&p.args[0], &p.env)?;
    not_self(&prog, own_exe)?;
    if p.no_new_privileges && unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
        return Err(fail("ERUNTIME_NNP", "prctl", "set no_new_privs".into()));
    }
    // The filter is the last setup step: after it only the status write,
    // the gate read, startContainer hooks and execve run.
    if let Some(sc) = p.seccomp.as_ref().filter(|s| !s.early) {
        install_seccomp(sc)?;
    }
    Ok(prog)
}

/// Refuse to exec the runtime binary itself: a container whose program
/// resolves to it (e.g. `/proc/self/exe`) could otherwise run and then
/// overwrite the host's `ctrun` (the runc CVE-2019-5736 class).
fn not_self(prog: &str, own: Option<&(u64, u64)>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(prog)
        .map_err(|e| Error::io("ERUNTIME_EXEC", "stat", &e, format!("stat {prog}")).with_path(prog))?;
    if own == Some(&(m.dev(), m.ino())) {
        return Err(Error::new("ERUNTIME_EXEC", format!("exec {prog:?}: refusing to run the runtime binary inside the container"))
            .with_path(prog)
            .with_errno(libc::EPERM));
    }
    Ok(())
}

fn report(fd: RawFd, msg: &str) {
    let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let _ = f.write_all(msg.as_bytes());
}

/// Entry point of `ctrun init <state-dir>`. Never returns.
pub fn init_main(state_dir: &str) -> ! {
    // Nothing in here may be read through /proc/PID/exe from the container.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let plan_path = Path::new(state_dir).join("init.json");
    let plan: InitPlan = match std::fs::read_to_string(&plan_path).ok().and_then(|t| serde_json::from_str(&t).ok()) {
        Some(p) => p,
        None => unsafe { libc::_exit(120) },
    };
    let status = unsafe { libc::open(c(&plan.status_fifo).as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if status < 0 {
        unsafe { libc::_exit(121) };
    }
    // The gate, opened now: the FIFO is not reachable after pivot_root.
    // We are its reader; `start` opens it for writing and writes one byte.
    // poll() on a FIFO no writer has opened yet blocks (no POLLHUP).
    let gate = unsafe { libc::open(c(&plan.exec_fifo).as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if gate < 0 {
        report(status, &format!("{}\n", fail("ERUNTIME_INIT", "open", "open exec.fifo".into()).to_json()));
        unsafe { libc::_exit(122) };
    }
    // Who we are, to refuse exec'ing ourselves from inside (CVE-2019-5736).
    let own_exe = std::fs::metadata("/proc/self/exe").map(|m| {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    });
    let sync = if plan.runtime_hooks {
        unsafe { libc::open(c(&plan.sync_fifo).as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) }
    } else {
        -1
    };
    let pid_for_hooks = host_pid();
    let prog = match setup(&plan, status, sync, own_exe.as_ref().ok()) {
        Ok(p) => p,
        Err(e) => {
            report(status, &format!("{}\n", e.to_json()));
            unsafe { libc::_exit(123) };
        }
    };
    report(status, "ok\n");
    unsafe { libc::close(status) };
    // Block until `start` writes to the gate.
    loop {
        let mut pfd = libc::pollfd { fd: gate, events: libc::POLLIN, revents: 0 };
        let n = unsafe { libc::poll(&mut pfd, 1, -1) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        let mut byte = 0u8;
        let r = unsafe { libc::read(gate, (&mut byte as *mut u8).cast(), 1) };
        if r == 1 {
            break;
        }
        if r == 0 || (r < 0 && errno() != libc::EAGAIN && errno() != libc::EINTR) {
            // The writer went away without releasing us: give up.
            unsafe { libc::_exit(124) };
        }
    }
    unsafe { libc::close(gate) };
    if !plan.start_container_hooks.is_empty() {
        let st = crate::hooks::state_json(&plan.id, pid_for_hooks, "running", &plan.bundle, &plan.annotations);
        if let Err(e) = crate::hooks::run_all("startContainer", &plan.start_container_hooks, &st) {
            // start has returned already: say it where it can be seen, then stop.
            eprintln!("ctrun: {e} [{}]", e.code);
            unsafe { libc::_exit(126) };
        }
    }
    let argv: Vec<CString> = plan.args.iter().map(|a| c(a)).collect();
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let envs: Vec<CString> = plan.env.iter().map(|a| c(a)).collect();
    let mut env_p: Vec<*const libc::c_char> = envs.iter().map(|a| a.as_ptr()).collect();
    env_p.push(std::ptr::null());
    unsafe {
        libc::execve(c(&prog).as_ptr(), argv_p.as_ptr(), env_p.as_ptr());
        libc::_exit(127)
    }
}
