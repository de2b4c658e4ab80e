//! Seccomp notify (`SCMP_ACT_NOTIFY`, `linux.seccomp.listenerPath`) on the
//! busybox bundle: a seccomp agent (a thread of this test with a unix
//! listener) gets the container process state and the listener fd from
//! `create` and from `exec`, and answers the container's `mkdir` calls: an
//! errno for `/tmp/deny*`, `SECCOMP_USER_NOTIF_FLAG_CONTINUE` for the rest.
//! The container sees both. Bad configs and an unreachable agent fail with
//! codes and leave nothing. Ids are `ctrtest-rtnotify-<pid>-<n>`.
mod common;
use common::*;
use ctr_seccomp::notify;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

/// The tests count seccomp listener fds of this process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const EDQUOT: i32 = libc::EDQUOT;

/// What the agent got on one connection: the state JSON and the calls it
/// answered (`mkdir /tmp/x`, by name as the filter saw them).
struct Seen {
    state: serde_json::Value,
    calls: Vec<String>,
}

/// Answer notifications on `fd` until no process uses the filter any more
/// (POLLHUP) or nothing came for 20 s.
fn answer(fd: OwnedFd) -> Vec<String> {
    let mut calls = vec![];
    loop {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let n = unsafe { libc::poll(&mut p, 1, 20_000) };
        if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if n <= 0 {
            calls.push("timeout".into());
            return calls;
        }
        if p.revents & libc::POLLIN == 0 {
            return calls; // POLLHUP: the filter has no users left
        }
        let Some(req) = notify::recv(fd.as_fd()).unwrap() else {
            continue;
        };
        let (_, name) = notify::describe(&req.data);
        let name = name.unwrap_or_default();
        let addr = match name.as_str() {
            "mkdir" => req.data.args[0],
            "mkdirat" => req.data.args[1],
            _ => 0,
        };
        let path = if addr != 0 {
            notify::read_string(fd.as_fd(), &req, addr, 4096).unwrap_or_default()
        } else {
            String::new()
        };
        let r = if path.starts_with("/tmp/deny") {
            notify::Response::Errno(EDQUOT)
        } else {
            notify::Response::Continue
        };
        calls.push(format!("{name} {path}"));
        notify::respond(fd.as_fd(), req.id, r).unwrap();
    }
}

/// An agent on `<dir>/agent.sock` serving `conns` connections, each
/// answered on its own thread; results come back on the channel.
fn agent(dir: &Path, conns: usize) -> (PathBuf, mpsc::Receiver<Seen>) {
    let path = dir.join("agent.sock");
    let l = UnixListener::bind(&path).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..conns {
            let Ok((state, fd)) = notify::accept_listener(&l) else {
                return;
            };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let state = serde_json::from_slice(&state).unwrap_or(serde_json::Value::Null);
                let calls = answer(fd);
                let _ = tx.send(Seen { state, calls });
            });
        }
    });
    (path, rx)
}

fn profile(listener: &Path) -> serde_json::Value {
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": listener,
        "listenerMetadata": "ctrtest-metadata",
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY" }]
    })
}

fn bundle(
    env: &Env,
    args: &[&str],
    seccomp: serde_json::Value,
    process: serde_json::Value,
) -> PathBuf {
    env.bundle(
        args,
        serde_json::json!({
            "process": process,
            "annotations": { "org.ctr.test": "notify" },
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
                { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"] }
            ],
            "linux": { "seccomp": seccomp }
        }),
    )
}

const SCRIPT: &str = "mkdir /tmp/deny 2>&1; echo deny=$?; mkdir /tmp/allow; echo allow=$?; \
                      test -d /tmp/allow && echo allow-exists; test -e /tmp/deny || echo deny-absent";

fn check_output(out: &str, what: &str) {
    for want in [
        "Disk quota exceeded",
        "deny=1",
        "allow=0",
        "allow-exists",
        "deny-absent",
    ] {
        assert!(out.contains(want), "{what}: missing {want:?} in:\n{out}");
    }
}

fn check_state(s: &serde_json::Value, id: &str, b: &Path, status: &str) {
    assert_eq!(s["ociVersion"], ctr_oci::OCI_VERSION, "{s}");
    assert_eq!(s["fds"], serde_json::json!(["seccompFd"]), "{s}");
    assert_eq!(s["metadata"], "ctrtest-metadata", "{s}");
    assert!(s["pid"].as_i64().unwrap_or(0) > 0, "{s}");
    let st = &s["state"];
    assert_eq!(st["id"], id, "{s}");
    assert_eq!(st["status"], status, "{s}");
    assert_eq!(st["bundle"], b.to_str().unwrap(), "{s}");
    assert_eq!(st["annotations"]["org.ctr.test"], "notify", "{s}");
    assert!(st["pid"].as_i64().unwrap_or(0) > 0, "{s}");
}

/// `ctrun run` with a notify filter, with and without noNewPrivileges
/// (the filter goes before the credential change without it): the agent
/// gets the "creating" state and decides the container's mkdir calls.
#[test]
fn agent_answers_the_container_mkdir() {
    if !ready() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = Env::new("ctrtest-rtnotify");
    for nnp in [false, true] {
        let sub = env.dir.path().join(format!("agent-{nnp}"));
        std::fs::create_dir_all(&sub).unwrap();
        let (sock, rx) = agent(&sub, 1);
        let process = serde_json::json!({
            "user": { "uid": 1000, "gid": 1000 },
            "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
            "noNewPrivileges": nnp
        });
        let b = bundle(&env, &["sh", "-c", SCRIPT], profile(&sock), process);
        let id = env.id();
        let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "nnp={nnp}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        check_output(&out, &format!("nnp={nnp}"));
        let seen = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the agent got the listener");
        check_state(&seen.state, &id, &b, "creating");
        assert_eq!(
            seen.state["pid"], seen.state["state"]["pid"],
            "create: the fd is the init's"
        );
        assert!(
            seen.calls.iter().any(|c| c.ends_with(" /tmp/deny")),
            "{:?}",
            seen.calls
        );
        assert!(
            seen.calls.iter().any(|c| c.ends_with(" /tmp/allow")),
            "{:?}",
            seen.calls
        );
        assert!(
            !seen.calls.iter().any(|c| c == "timeout"),
            "the filter lost its users when the container ended: {:?}",
            seen.calls
        );
    }
    env.assert_clean();
}

/// `exec` installs the container's filter with its own listener: a second
/// connection with the "running" state and the exec'd pid. With the agent
/// gone, exec fails with a code and its process is not left.
#[test]
fn exec_sends_its_own_listener() {
    if !ready() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = Env::new("ctrtest-rtnotify");
    let (sock, rx) = agent(env.dir.path(), 2);
    let b = bundle(
        &env,
        &["sleep", "1000"],
        profile(&sock),
        serde_json::json!({}),
    );
    let (id, init) = env.run_detached(&b);
    let o = env.ctrun(&["exec", &id, "sh", "-c", SCRIPT]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_output(&out, "exec");
    // The exec's filter has no users once it exited: its answers come first.
    let exec = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the agent got the exec's listener");
    check_state(&exec.state, &id, &b, "running");
    assert_eq!(
        exec.state["state"]["pid"], init,
        "the state is the container's"
    );
    assert_ne!(exec.state["pid"], init, "the fd is the exec'd process's");
    assert!(
        exec.calls.iter().any(|c| c.ends_with(" /tmp/deny")),
        "{:?}",
        exec.calls
    );

    // The agent stops listening: exec fails, naming the socket and errno.
    std::fs::remove_file(&sock).unwrap();
    let o = env.ctrun(&["exec", &id, "sh", "-c", "mkdir /tmp/x; echo ran > /tmp/ran"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(255),
        "a failed exec, runc's 255: {err}"
    );
    for want in [
        "ERUNTIME_SECCOMP_LISTENER",
        sock.to_str().unwrap(),
        "no such file or directory",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    let o = env.ctrun(&[
        "exec",
        &id,
        "sh",
        "-c",
        "test -e /tmp/ran && echo ran; true",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        !out.contains("ran\n"),
        "the failed exec's program must not have run: {out}"
    );
    assert_eq!(
        env.state(&id)["status"],
        "running",
        "the container is unaffected"
    );

    env.ok(&["delete", "--force", &id]);
    let init_seen = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the init's listener");
    check_state(&init_seen.state, &id, &b, "creating");
    assert_eq!(init_seen.state["pid"], init);
    env.assert_clean();
}

/// Seccomp listener fds (`anon_inode:seccomp notify`) this process holds.
fn listener_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|l| l.to_string_lossy().contains("seccomp notify"))
        })
        .count()
}

/// In process (the path of @ctr/runtime): after create the runtime holds
/// no copy of the listener; the agent's is the only one.
#[test]
fn create_keeps_no_copy_of_the_listener() {
    if !ready() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = Env::new("ctrtest-rtnotify");
    // In-process create reads the cache dir from this process's environment
    // (every test here holds SERIAL, so nothing reads it concurrently).
    std::env::set_var("CTRUN_SECCOMP_CACHE", env.dir.path().join("seccomp-cache"));
    let path = env.dir.path().join("agent.sock");
    let l = UnixListener::bind(&path).unwrap();
    let b = bundle(
        &env,
        &["sleep", "1000"],
        profile(&path),
        serde_json::json!({}),
    );
    let id = env.id();
    let store = ctr_runtime::state::Store::new(env.root());
    let before = listener_fds();
    let o = ctr_runtime::lifecycle::CreateOptions {
        id: id.clone(),
        bundle: b.clone(),
        pid_file: None,
        no_pivot: false,
        stdio: [ctr_ns::Stdio::Null; 3],
        extra_fds: vec![],
        console_socket: None,
        detach: true,
        systemd_cgroup: false,
    };
    let created = ctr_runtime::lifecycle::create(&store, &o).unwrap();
    assert_eq!(listener_fds(), before, "the runtime closed its copy");
    let (state, fd) = notify::accept_listener(&l).unwrap();
    let state: serde_json::Value = serde_json::from_slice(&state).unwrap();
    check_state(&state, &id, &b, "creating");
    assert_eq!(state["pid"], created.pid);
    assert_eq!(listener_fds(), before + 1, "the agent's copy");
    // A working listener: the init uses the filter, nothing is pending.
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    assert_eq!(
        unsafe { libc::poll(&mut p, 1, 0) },
        0,
        "no users lost, nothing pending"
    );
    ctr_runtime::lifecycle::delete(&store, &id, true).unwrap();
    let _ = created.child.wait();
    assert_eq!(unsafe { libc::poll(&mut p, 1, 5000) }, 1);
    assert_ne!(p.revents & libc::POLLHUP, 0, "the filter's users are gone");
    drop(fd);
    env.assert_clean();
}

/// Bad notify configs and an unreachable agent: coded errors naming the
/// field or socket, and nothing left (state dir, cgroup, process).
#[test]
fn bad_notify_configs_give_codes_and_leave_nothing() {
    if !ready() {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = Env::new("ctrtest-rtnotify");
    let notify_mkdir = serde_json::json!([{ "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" }]);
    let missing = env.dir.path().join("no-agent.sock");
    let not_socket = env.dir.path().join("plain-file");
    std::fs::write(&not_socket, "").unwrap();
    // A socket nobody listens on any more: connection refused.
    let dead = env.dir.path().join("dead.sock");
    drop(UnixListener::bind(&dead).unwrap());
    let sc = |extra: serde_json::Value, syscalls: serde_json::Value| {
        let mut v = serde_json::json!({ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": syscalls });
        merge(&mut v, extra);
        v
    };
    let cases: Vec<(serde_json::Value, &str, String, &str)> = vec![
        (
            sc(serde_json::json!({}), notify_mkdir.clone()),
            "EOCI_INVALID",
            "linux.seccomp.listenerPath".into(),
            "is required",
        ),
        (
            sc(
                serde_json::json!({ "listenerPath": "agent.sock" }),
                notify_mkdir.clone(),
            ),
            "EOCI_INVALID",
            "linux.seccomp.listenerPath".into(),
            "absolute",
        ),
        (
            sc(
                serde_json::json!({ "listenerMetadata": "x" }),
                serde_json::json!([]),
            ),
            "EOCI_INVALID",
            "linux.seccomp.listenerMetadata".into(),
            "without listenerPath",
        ),
        (
            sc(
                serde_json::json!({ "listenerPath": missing }),
                serde_json::json!([{ "names": ["write"], "action": "SCMP_ACT_NOTIFY" }]),
            ),
            "ERUNTIME_UNSUPPORTED",
            "linux.seccomp.syscalls[0].names".into(),
            "write",
        ),
        (
            sc(
                serde_json::json!({ "listenerPath": missing }),
                notify_mkdir.clone(),
            ),
            "ERUNTIME_SECCOMP_LISTENER",
            missing.display().to_string(),
            "no such file or directory",
        ),
        (
            sc(
                serde_json::json!({ "listenerPath": not_socket }),
                notify_mkdir.clone(),
            ),
            "ERUNTIME_SECCOMP_LISTENER",
            not_socket.display().to_string(),
            "connection refused",
        ),
        (
            sc(
                serde_json::json!({ "listenerPath": dead }),
                notify_mkdir.clone(),
            ),
            "ERUNTIME_SECCOMP_LISTENER",
            dead.display().to_string(),
            "connection refused",
        ),
    ];
    for (k, (seccomp, code, name, why)) in cases.into_iter().enumerate() {
        // A sleep this test alone runs, to find a leftover init by.
        let secs = format!("9{}{k}", std::process::id());
        let b = bundle(
            &env,
            &["sleep", &secs],
            seccomp.clone(),
            serde_json::json!({}),
        );
        let id = env.id();
        let o = env.ctrun(&["create", "--bundle", b.to_str().unwrap(), &id]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{seccomp}: {err}");
        for want in [code, name.as_str(), why] {
            assert!(err.contains(want), "{seccomp}: missing {want:?} in {err}");
        }
        assert!(!env.root().join(&id).exists(), "{seccomp}: state dir left");
        for d in cgroup_dirs(&id) {
            assert!(!d.exists(), "{seccomp}: cgroup left: {}", d.display());
        }
        let left = procs_mentioning(&format!("sleep {secs}"));
        assert!(left.is_empty(), "{seccomp}: processes left: {left:?}");
    }
    env.assert_clean();
}
