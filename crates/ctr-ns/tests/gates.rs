//! The runtime-facing spawn options for real: the exec FIFO gate, the
//! pre-pivot sync point, OCI device nodes, sysctl and personality.

mod common;
use common::*;

use ctr_ns::{spawn, DeviceSpec, MountSpec, NamespaceKind, RootfsSpec, SpawnOptions, Stage, Stdio};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

fn fifo(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("exec.fifo");
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    p
}

/// What `ctrun start` does: open the FIFO for reading and take the byte.
fn open_gate(p: &std::path::Path) -> Vec<u8> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    assert!(fd >= 0);
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut buf = [0u8; 8];
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    buf[..n.max(0) as usize].to_vec()
}

/// Kills the child if a test fails while it waits at a gate (through a
/// pidfd: never a reused pid), so no blocked child outlives the test.
struct KillOnDrop(OwnedFd);

impl KillOnDrop {
    fn new(pid: i32) -> KillOnDrop {
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        assert!(fd >= 0);
        KillOnDrop(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                libc::SIGKILL,
                0usize,
                0u32,
            )
        };
    }
}

fn alive(pid: i32) -> bool {
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as u32,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    r == 0 && unsafe { info.si_pid() } == 0
}

#[test]
fn exec_fifo_gate_outlives_the_child_handle() {
    let dir = tempfile::tempdir().unwrap();
    let gate = fifo(dir.path());
    let mut o = SpawnOptions::new("sh", vec!["sh".into(), "-c".into(), "echo released".into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Fd(2)];
    o.lifecycle.exec_fifo = Some(gate.to_string_lossy().into_owned());
    let child = spawn(&o).unwrap();
    let _guard = KillOnDrop::new(child.pid);
    assert_eq!(child.wait_stage().unwrap(), Stage::ExecFifo);
    let out = child.take_stdio()[1].take().unwrap();
    let pid = child.pid;
    // The spawning side lets go of everything (as `ctrun create` exits).
    drop(child);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(alive(pid), "the child waits at the fifo");
    assert_eq!(open_gate(&gate), b"0");
    assert_eq!(read_all(out), "released\n");
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(libc::WEXITSTATUS(status), 0);
}

#[test]
fn a_missing_exec_fifo_is_a_coded_error() {
    let mut o = SpawnOptions::new("true", vec![]);
    o.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
    o.lifecycle.exec_fifo = Some("/nonexistent/ctr-exec.fifo".into());
    let e = spawn(&o).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.errno, e.path.as_deref()),
        (
            "ENS_EXEC_FIFO",
            Some(libc::ENOENT),
            Some("/nonexistent/ctr-exec.fifo")
        )
    );
}

#[test]
fn program_errors_and_the_own_binary_are_caught_before_the_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let gate = fifo(dir.path());
    for (prog, errno) in [
        ("/nonexistent/ctr-prog", libc::ENOENT),
        ("/etc/passwd", libc::EACCES),
        ("/proc/self/exe", libc::EPERM),
    ] {
        let mut o = SpawnOptions::new(prog, vec![]);
        o.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
        o.lifecycle.exec_fifo = Some(gate.to_string_lossy().into_owned());
        o.process.refuse_own_exe = true;
        let child = spawn(&o).unwrap();
        let e = child.wait_stage().unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.errno),
            ("ENS_EXEC", Some(errno)),
            "{prog}"
        );
    }
}

#[test]
fn container_init_in_one_spawn_sync_devices_sysctl_personality_fifo() {
    if !root_or_skip() {
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gate = fifo(dir.path());
    let script = "hostname; cat /proc/sys/kernel/msgmax; ls -ln /dev/ctrtest-null | tr -s ' ' | cut -d' ' -f1,3,4,5,6; uname -m; echo $$";
    let mut o = SpawnOptions::new("/bin/sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.process.env = vec!["PATH=/bin:/sbin".into()];
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Pipe];
    o.namespaces.create = vec![
        NamespaceKind::Mnt,
        NamespaceKind::Pid,
        NamespaceKind::Uts,
        NamespaceKind::Ipc,
    ];
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs.clone(),
        mounts: vec![MountSpec {
            destination: "/proc".into(),
            fstype: Some("proc".into()),
            source: Some("proc".into()),
            options: Default::default(),
            ..Default::default()
        }],
        dev: true,
        devices: vec![DeviceSpec {
            path: "/dev/ctrtest-null".into(),
            kind: 'c',
            major: 1,
            minor: 3,
            mode: Some(0o640),
            uid: Some(5),
            gid: Some(6),
        }],
        ..Default::default()
    });
    o.namespaces.sysctl = vec![
        ("kernel.hostname".into(), "ctrtest-sysctl".into()),
        ("kernel.msgmax".into(), "4242".into()),
    ];
    o.process.personality = Some(0x0008); // PER_LINUX32
    o.lifecycle.pre_pivot_sync = true;
    o.lifecycle.exec_fifo = Some(gate.to_string_lossy().into_owned());
    let child = spawn(&o).unwrap();
    let _guard = KillOnDrop::new(child.pid);
    assert_eq!(child.wait_stage().unwrap(), Stage::PrePivot);
    // Before the pivot: the rootfs is mounted in the child's namespace, its
    // root is still the host's.
    let root = std::fs::canonicalize(&rootfs).unwrap();
    let mountinfo = std::fs::read_to_string(format!("/proc/{}/mountinfo", child.pid)).unwrap();
    assert!(
        mountinfo.contains(&format!(" {}/dev ", root.display())),
        "{mountinfo}"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/root", child.pid)).unwrap(),
        std::path::Path::new("/")
    );
    child.resume().unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::ExecFifo);
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/root", child.pid)).unwrap(),
        std::path::Path::new("/"),
        "pivoted: / of its own"
    );
    // sysctl went to the child's ipc namespace, not the host's (its value
    // is printed from inside below).
    assert_ne!(
        std::fs::read_to_string("/proc/sys/kernel/msgmax")
            .unwrap()
            .trim(),
        "4242"
    );
    assert_eq!(open_gate(&gate), b"0");
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let [_, out, err] = child.take_stdio();
    let (out, err) = (read_all(out.unwrap()), read_all(err.unwrap()));
    assert_eq!(child.wait().unwrap().code, Some(0), "{err}");
    assert_eq!(
        out, "ctrtest-sysctl\n4242\ncrw-r----- 5 6 1, 3\ni686\n1\n",
        "{err}"
    );
    // Nothing was made on the host.
    assert!(!root.join("dev/ctrtest-null").exists());
}

#[test]
fn closing_the_gate_at_the_pre_pivot_point_stops_the_child() {
    if !root_or_skip() {
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let mut o = SpawnOptions::new("/bin/echo", vec!["echo".into(), "should-not-run".into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Fd(2)];
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs,
        ..Default::default()
    });
    o.lifecycle.pre_pivot_sync = true;
    let child = spawn(&o).unwrap();
    let _guard = KillOnDrop::new(child.pid);
    assert_eq!(child.wait_stage().unwrap(), Stage::PrePivot);
    child.abort_gate();
    assert_eq!(read_all(child.take_stdio()[1].take().unwrap()), "");
    assert_eq!(child.wait().unwrap().code, Some(1));
}

#[test]
fn the_fifo_gate_needs_no_proc_in_the_container() {
    if !root_or_skip() {
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gate = fifo(dir.path());
    let mut o = SpawnOptions::new(
        "/bin/sh",
        vec!["sh".into(), "-c".into(), "ls /proc | wc -l".into()],
    );
    o.process.env = vec!["PATH=/bin:/usr/bin".into()];
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Fd(2)];
    o.namespaces.create = vec![NamespaceKind::Mnt];
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs,
        ..Default::default()
    });
    o.lifecycle.exec_fifo = Some(gate.to_string_lossy().into_owned());
    let child = spawn(&o).unwrap();
    let _guard = KillOnDrop::new(child.pid);
    assert_eq!(child.wait_stage().unwrap(), Stage::ExecFifo);
    assert_eq!(open_gate(&gate), b"0");
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    assert_eq!(
        read_all(child.take_stdio()[1].take().unwrap()).trim(),
        "0",
        "no /proc mounted inside"
    );
    assert_eq!(child.wait().unwrap().code, Some(0));
}
