//! The seccomp options of spawn, against the real kernel: a filter that
//! fails a syscall, flags reaching seccomp(2), no_new_privs, and a listener
//! fd that really supervises the child.

use ctr_ns::{spawn, SpawnOptions, Stage, Stdio};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_USER_NOTIF: u32 = 0x7fc0_0000;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Vec<u8> {
    [code.to_ne_bytes().as_slice(), &[jt, jf], &k.to_ne_bytes()].concat()
}

/// A filter giving `action` for mkdir and mkdirat, allowing the rest.
fn mkdir_filter(action: u32) -> Vec<u8> {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    [
        insn(LD_W_ABS, 0, 0, 4),              // arch
        insn(JEQ_K, 0, 3, AUDIT_ARCH_X86_64), // other arch: allow
        insn(LD_W_ABS, 0, 0, 0),              // nr
        insn(JEQ_K, 2, 0, libc::SYS_mkdir as u32),
        insn(JEQ_K, 1, 0, libc::SYS_mkdirat as u32),
        insn(RET_K, 0, 0, RET_ALLOW),
        insn(RET_K, 0, 0, action),
    ]
    .concat()
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

fn sh(script: &str) -> SpawnOptions {
    let mut o = SpawnOptions::new("sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Pipe];
    o
}

fn tmp_dir_name(tag: &str) -> String {
    format!("/tmp/ctrtest-ns-{}-{tag}", std::process::id())
}

#[test]
fn filter_fails_the_syscall_in_the_child_only() {
    let dir = tmp_dir_name("errno");
    let mut o = sh(&format!(
        "mkdir {dir} 2>&1; echo rc=$?; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"
    ));
    o.security.seccomp = Some(mkdir_filter(RET_ERRNO | libc::EXDEV as u32));
    o.security.no_new_privileges = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let [_, out, _] = child.take_stdio();
    let out = read_all(out.unwrap());
    assert_eq!(child.wait().unwrap().code, Some(0));
    assert!(out.contains("Invalid cross-device link"), "{out}");
    assert!(out.contains("rc=1"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(!std::path::Path::new(&dir).exists());
    // The parent is not filtered.
    std::fs::create_dir(&dir).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn no_new_privileges_alone() {
    let mut o = sh("grep NoNewPrivs: /proc/self/status");
    o.security.no_new_privileges = true;
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    assert_eq!(
        read_all(child.take_stdio()[1].take().unwrap()).trim(),
        "NoNewPrivs:\t1"
    );
    assert_eq!(child.wait().unwrap().code, Some(0));
}

#[test]
fn flags_reach_the_kernel() {
    // WAIT_KILLABLE_RECV is only valid with a listener: the kernel says EINVAL.
    let mut o = sh("true");
    o.security.seccomp = Some(mkdir_filter(RET_ALLOW));
    o.security.no_new_privileges = true;
    o.security.seccomp_flags = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;
    let child = spawn(&o).unwrap();
    let err = child.wait_stage().unwrap_err();
    assert_eq!(err.code, "ENS_SECCOMP");
    assert_eq!(err.errno, Some(libc::EINVAL));
    assert_eq!(err.syscall.as_deref(), Some("seccomp"));
    // LOG and TSYNC are accepted.
    o.security.seccomp_flags =
        (libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_TSYNC) as u32;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    assert_eq!(child.wait().unwrap().code, Some(0));
}

#[test]
fn without_no_new_privs_or_cap_sys_admin_the_kernel_refuses() {
    if unsafe { libc::geteuid() } == 0 {
        // Root keeps CAP_SYS_ADMIN: the filter installs without no_new_privs.
        let mut o = sh("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status");
        o.security.seccomp = Some(mkdir_filter(RET_ALLOW));
        let child = spawn(&o).unwrap();
        child.wait_stage().unwrap();
        let out = read_all(child.take_stdio()[1].take().unwrap());
        assert!(
            out.contains("Seccomp:\t2") && out.contains("NoNewPrivs:\t0"),
            "{out}"
        );
        child.wait().unwrap();
        return;
    }
    let mut o = sh("true");
    o.security.seccomp = Some(mkdir_filter(RET_ALLOW));
    let err = spawn(&o).unwrap().wait_stage().unwrap_err();
    assert_eq!(err.errno, Some(libc::EACCES));
}

#[repr(C)]
#[derive(Default)]
struct NotifSizes {
    notif: u16,
    resp: u16,
    data: u16,
}

#[test]
fn listener_fd_supervises_the_child() {
    let dir = tmp_dir_name("notify");
    let mut o = sh(&format!("mkdir {dir} 2>&1; echo rc=$?"));
    o.security.seccomp = Some(mkdir_filter(RET_USER_NOTIF));
    o.security.no_new_privileges = true;
    o.security.seccomp_listener = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::SeccompListener);
    let listener = child.take_seccomp_listener().expect("listener fd");
    assert!(child.take_seccomp_listener().is_none(), "taken once");
    let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
    assert_eq!(link.to_string_lossy(), "anon_inode:seccomp notify");
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);

    // Sizes match what the libc structs assume.
    let mut sizes = NotifSizes::default();
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_NOTIF_SIZES,
            0,
            &mut sizes as *mut NotifSizes,
        )
    };
    assert_eq!(rc, 0);
    assert_eq!(
        sizes.notif as usize,
        std::mem::size_of::<libc::seccomp_notif>()
    );

    // Receive the child's mkdir and answer it with EROFS.
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut req,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    assert!(req.data.nr == libc::SYS_mkdir as i32 || req.data.nr == libc::SYS_mkdirat as i32);
    let mut id = req.id;
    assert_eq!(
        unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
                &mut id,
            )
        },
        0
    );
    let mut resp = libc::seccomp_notif_resp {
        id: req.id,
        val: 0,
        error: -libc::EROFS,
        flags: 0,
    };
    let rc = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());

    let out = read_all(child.take_stdio()[1].take().unwrap());
    assert!(
        out.contains("Read-only file system") && out.contains("rc=1"),
        "{out}"
    );
    assert_eq!(child.wait().unwrap().code, Some(0));
    assert!(!std::path::Path::new(&dir).exists());
}

#[test]
fn listener_then_hold_then_release() {
    let mut o = sh("echo ran");
    o.security.seccomp = Some(mkdir_filter(RET_USER_NOTIF));
    o.security.no_new_privileges = true;
    o.security.seccomp_listener = true;
    o.lifecycle.hold = true;
    let child = spawn(&o).unwrap();
    assert!(
        child.release().is_err(),
        "release before the listener handshake is refused"
    );
    assert_eq!(child.wait_stage().unwrap(), Stage::SeccompListener);
    let listener = child.take_seccomp_listener().unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Held);
    child.release().unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    assert_eq!(read_all(child.take_stdio()[1].take().unwrap()), "ran\n");
    assert_eq!(child.wait().unwrap().code, Some(0));
    drop(listener);
}

#[test]
fn closing_the_listener_fails_notified_syscalls_with_enosys() {
    let mut o = sh("mkdir /tmp/ctrtest-ns-never 2>&1; echo rc=$?");
    o.security.seccomp = Some(mkdir_filter(RET_USER_NOTIF));
    o.security.no_new_privileges = true;
    o.security.seccomp_listener = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::SeccompListener);
    drop(child.take_seccomp_listener());
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let out = read_all(child.take_stdio()[1].take().unwrap());
    assert!(
        out.contains("Function not implemented") && out.contains("rc=1"),
        "{out}"
    );
    child.wait().unwrap();
}
