//! `SpawnOptions.io.console`: the child on a pty (stdin is a tty, the pty is
//! its controlling terminal, the window size is set), the master coming
//! back to the parent or over a caller's socket, `/dev/console` in a rootfs.

mod common;
use common::*;

use ctr_ns::console::{recv_fd, resize, size};
use ctr_ns::{
    spawn, Console, ConsoleSocket, NamespaceKind, RootfsSpec, SpawnOptions, Stage, WinSize,
};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn sh(script: &str) -> SpawnOptions {
    let mut o = SpawnOptions::new("/bin/sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.process.env = vec!["PATH=/usr/bin:/bin:/usr/sbin:/sbin".into()];
    o
}

/// Everything the master gives until the slave side is gone (EIO).
fn drain(master: OwnedFd) -> String {
    let mut f = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read master: {e}"),
        }
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

/// Fields 6 (session) and 7 (tty_nr) of a /proc/PID/stat line.
fn session_and_tty(stat: &str) -> (i32, u64) {
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    (f[3].parse().unwrap(), f[4].parse().unwrap())
}

#[test]
fn child_is_on_a_pty_with_session_ctty_and_size() {
    let mut o = sh(
        "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-tty; tty; stty size; \
                    read -r s < /proc/$$/stat; echo \"stat:$s\"; read -r x; echo \"got:$x\"",
    );
    o.io.console = Some(Console::returned(Some(WinSize {
        cols: 123,
        rows: 45,
    })));
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let master = child.take_console().expect("the master comes back");
    assert!(child.take_console().is_none(), "taken once");
    assert_eq!(
        size(master.as_raw_fd()).unwrap(),
        WinSize {
            cols: 123,
            rows: 45
        }
    );
    // Output written to the master is the child's input.
    std::fs::File::from(master.try_clone().unwrap())
        .write_all(b"hello\n")
        .unwrap();
    let out = drain(master);
    let status = child.wait().unwrap();
    assert_eq!(status.code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"stdio-is-tty"), "{out}");
    let tty = lines
        .iter()
        .find(|l| l.starts_with("/dev/pts/"))
        .unwrap_or_else(|| panic!("no tty line: {out}"));
    let n: u64 = tty["/dev/pts/".len()..].parse().unwrap();
    assert!(lines.contains(&"45 123"), "stty size: {out}");
    assert!(lines.contains(&"got:hello"), "{out}");
    let stat = lines.iter().find_map(|l| l.strip_prefix("stat:")).unwrap();
    let (sid, tty_nr) = session_and_tty(stat);
    assert_eq!(sid, child.pid, "the child leads its own session");
    // tty_nr encodes the controlling terminal: pts major 136.. and minor n.
    let (major, minor) = (
        ((tty_nr >> 8) & 0xfff),
        ((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00)),
    );
    assert!(
        (136..144).contains(&major),
        "controlling terminal is a pts: {tty_nr:#x}"
    );
    assert_eq!(
        (major - 136) * 256 + minor,
        n,
        "controlling terminal is the pty"
    );
}

#[test]
fn resize_is_seen_by_the_child() {
    let mut o = sh("read -r x; stty size");
    o.io.console = Some(Console::returned(None));
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let master = child.take_console().unwrap();
    resize(master.as_raw_fd(), WinSize { cols: 77, rows: 11 }).unwrap();
    std::fs::File::from(master.try_clone().unwrap())
        .write_all(b"go\n")
        .unwrap();
    let out = drain(master);
    assert_eq!(child.wait().unwrap().code, Some(0));
    assert!(out.lines().any(|l| l == "11 77"), "{out}");
}

#[test]
fn master_goes_over_the_callers_socket() {
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
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) };
    let mut o = sh("tty");
    o.lifecycle.hold = true;
    o.io.console = Some(Console {
        socket: ConsoleSocket::Fd(theirs.as_raw_fd()),
        size: None,
    });
    let child = spawn(&o).unwrap();
    // Sent at create time, before the start.
    assert_eq!(child.wait_stage().unwrap(), Stage::Held);
    assert!(
        child.take_console().is_none(),
        "not ours: it went over the socket"
    );
    let (master, name) = recv_fd(ours.as_raw_fd(), libc::MSG_DONTWAIT)
        .unwrap()
        .expect("master received");
    let name = String::from_utf8(name).unwrap();
    assert!(name.starts_with("/dev/pts/"), "{name}");
    drop(theirs);
    child.release().unwrap();
    child.wait_stage().unwrap();
    let out = drain(master);
    assert_eq!(child.wait().unwrap().code, Some(0));
    assert_eq!(out.trim(), name);
}

#[test]
fn container_gets_its_own_devpts_and_dev_console() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let mut o = sh(
        "tty; [ -t 0 ] && echo on-tty; stat -c '%t:%T' /dev/console /dev/pts/0; ls -1 /dev/pts; \
                    grep -c ' /dev/console ' /proc/self/mountinfo",
    );
    o.process.env = vec!["PATH=/bin:/sbin".into()];
    o.namespaces.create = vec![
        NamespaceKind::Mnt,
        NamespaceKind::Pid,
        NamespaceKind::Ipc,
        NamespaceKind::Uts,
    ];
    o.filesystem.mount_proc = true;
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs,
        dev: true,
        ..Default::default()
    });
    o.io.console = Some(Console::returned(Some(WinSize { cols: 80, rows: 24 })));
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let master = child.take_console().unwrap();
    let out = drain(master);
    assert_eq!(child.wait().unwrap().code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // A new devpts instance: its first pty is 0 whatever the host has.
    assert_eq!(
        lines,
        vec!["/dev/pts/0", "on-tty", "88:0", "88:0", "0", "ptmx", "1"],
        "{out}"
    ); // 0x88 = 136, the pts major
}

#[test]
fn missing_ptmx_is_a_coded_error_and_the_child_is_reaped() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let Some(rootfs) = busybox() else { return };
    if std::path::Path::new(&rootfs).join("dev/ptmx").exists() {
        eprintln!("skipped: the busybox rootfs has a /dev/ptmx");
        return;
    }
    let mut o = sh("true");
    o.namespaces.create = vec![NamespaceKind::Mnt];
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs,
        dev: false,
        ..Default::default()
    });
    o.io.console = Some(Console::returned(None));
    let child = spawn(&o).unwrap();
    let e = child.wait_stage().unwrap_err();
    assert_eq!(e.code, "ENS_CONSOLE", "{e:?}");
    assert_eq!(e.errno, Some(libc::ENOENT));
    assert_eq!(e.syscall.as_deref(), Some("open"));
    assert_eq!(e.path.as_deref(), Some("/dev/ptmx"));
    assert!(e.message.contains("pty master"), "{}", e.message);
    assert!(child.take_console().is_none());
    // Reaped by wait_stage: no zombie left.
    assert!(!std::path::Path::new(&format!("/proc/{}", child.pid)).exists());
}

#[test]
fn bad_size_and_closed_socket_are_refused_before_the_clone() {
    let mut o = sh("true");
    o.io.console = Some(Console::returned(Some(WinSize { cols: 0, rows: 10 })));
    let e = spawn(&o).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.path.as_deref()),
        ("ENS_INVALID_OPTION", Some("consoleSize"))
    );
    o.io.console = Some(Console {
        socket: ConsoleSocket::Fd(9999),
        size: None,
    });
    let e = spawn(&o).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.path.as_deref(), e.errno),
        (
            "ENS_INVALID_OPTION",
            Some("console.socket"),
            Some(libc::EBADF)
        )
    );
}
