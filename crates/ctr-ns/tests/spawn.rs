//! Spawning for real. Tests that need root skip (with a message) without it.

use ctr_ns::{spawn, NamespaceKind, SpawnOptions, Stage, Stdio};
use std::io::Read;
use std::os::fd::OwnedFd;

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn read_all(fd: OwnedFd) -> String {
    let mut f = std::fs::File::from(fd);
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

fn sh(script: &str) -> SpawnOptions {
    let mut o = SpawnOptions::new("sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Fd(2)];
    o
}

#[test]
fn plain_spawn_pipes_output_and_exit_code() {
    let child = spawn(&sh("echo hello; exit 3")).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let out = read_all(child.take_stdio()[1].take().unwrap());
    assert_eq!(out, "hello\n");
    assert_eq!(child.wait().unwrap().code, Some(3));
}

#[test]
fn missing_binary_is_a_coded_error_and_reaped() {
    let mut o = SpawnOptions::new("/nonexistent/ctr-binary", vec![]);
    o.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
    let child = spawn(&o).unwrap();
    let err = child.wait_stage().unwrap_err();
    assert_eq!(err.code, "ENS_EXEC");
    assert_eq!(err.errno, Some(libc::ENOENT));
    assert_eq!(err.path.as_deref(), Some("/nonexistent/ctr-binary"));
    // Reaped: waiting again finds no child.
    assert!(child.try_wait().is_err());
}

#[test]
fn new_pid_namespace_makes_pid_one() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut o = sh("echo $$; readlink /proc/self/ns/pid");
    o.namespaces.create = vec![NamespaceKind::Pid];
    o.filesystem.mount_proc = true;
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let out = read_all(child.take_stdio()[1].take().unwrap());
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    let host = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert_ne!(lines.next().unwrap(), host.to_string_lossy());
    assert_eq!(child.wait().unwrap().code, Some(0));
}

#[test]
fn held_child_runs_only_after_release() {
    let mut o = sh("echo released");
    o.lifecycle.hold = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Held);
    assert!(child.try_wait().unwrap().is_none());
    child.release().unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    assert_eq!(
        read_all(child.take_stdio()[1].take().unwrap()),
        "released\n"
    );
    assert_eq!(child.wait().unwrap().code, Some(0));
}

#[test]
fn aborted_gate_never_execs() {
    let mut o = sh("echo should-not-run");
    o.lifecycle.hold = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Held);
    child.abort_gate();
    assert_eq!(read_all(child.take_stdio()[1].take().unwrap()), "");
    assert_eq!(child.wait().unwrap().code, Some(1));
}

#[test]
fn loopback_up_brings_lo_up_in_the_new_network_namespace() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // /proc/net reflects the reader's network namespace: lo is up exactly
    // when 127.0.0.1 has a local route.
    let script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; grep -q 127.0.0.1 /proc/net/fib_trie && echo up || echo down";
    for (up, want) in [(true, "lo\nup\n"), (false, "lo\ndown\n")] {
        let mut o = sh(script);
        o.namespaces.create = vec![NamespaceKind::Net];
        o.namespaces.loopback_up = up;
        let child = spawn(&o).unwrap();
        child.wait_stage().unwrap();
        assert_eq!(read_all(child.take_stdio()[1].take().unwrap()), want);
        assert_eq!(child.wait().unwrap().code, Some(0));
    }
    // Without a new network namespace it is refused before anything runs.
    let mut o = sh("true");
    o.namespaces.loopback_up = true;
    let e = spawn(&o).unwrap_err();
    assert_eq!(e.code, "ENS_INVALID_OPTION");
}

#[test]
fn a_source_in_the_target_range_is_read_before_it_is_replaced() {
    // The child's fd 3 is our fd 1, which its own stdout (a pipe) replaces
    // first: the moves must read fd 1 before they overwrite it.
    let mut o = sh("readlink /proc/self/fd/3; readlink /proc/self/fd/0");
    o.io.extra_fds = vec![1];
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let out = read_all(child.take_stdio()[1].take().unwrap());
    assert_eq!(child.wait().unwrap().code, Some(0));
    let ours = std::fs::read_link("/proc/self/fd/1").unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(ours.to_string_lossy().as_ref()), "{out}");
    assert_eq!(lines.next(), Some("/dev/null"), "{out}");
}
