//! `ctrun exec`, `update` and `events` on the busybox bundle
//! (.cache/rootfs/busybox from scripts/make-rootfs.sh). Every test uses its
//! own state root and ids `ctrtest-rtexec-<pid>-<n>`, asserts the kernel
//! effect, and checks that no state dir, cgroup or process is left.
mod common;
use common::*;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::Stdio;

/// The exec tests' base: a hostname to check from inside and a /tmp.
fn bundle(env: &Env, args: &[&str], patch: serde_json::Value) -> PathBuf {
    let mut p = serde_json::json!({
        "hostname": "rtexec-box",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
            { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"] }
        ]
    });
    merge(&mut p, patch);
    env.bundle(args, p)
}

/// A bundle with a devpts on /dev/pts (for terminals).
fn tty_bundle(env: &Env) -> PathBuf {
    bundle(
        env,
        &["sleep", "1000"],
        serde_json::json!({ "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] }
        ] }),
    )
}

/// `run -d` a container; its init pid.
fn running(env: &Env, id: &str, b: &std::path::Path) -> i64 {
    env.ok(&["run", "-d", "-b", b.to_str().unwrap(), id]);
    env.state(id)["pid"].as_i64().unwrap()
}

fn cgroup_file(id: &str, names: &[&str]) -> String {
    cgroup_dirs(id)
        .iter()
        .find_map(|d| {
            names
                .iter()
                .find_map(|n| std::fs::read_to_string(d.join(n)).ok())
        })
        .unwrap_or_else(|| panic!("none of {names:?} for {id}"))
        .trim()
        .to_string()
}

fn ns_link(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn exec_joins_every_namespace_and_the_cgroup() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let time = std::path::Path::new("/proc/self/ns/time").exists();
    let mut ns = vec![
        serde_json::json!({"type":"pid"}),
        serde_json::json!({"type":"mount"}),
        serde_json::json!({"type":"ipc"}),
        serde_json::json!({"type":"uts"}),
        serde_json::json!({"type":"network"}),
    ];
    if time {
        ns.push(serde_json::json!({"type":"time"}));
    }
    let b = bundle(
        &env,
        &["sleep", "1000"],
        serde_json::json!({ "linux": { "namespaces": ns } }),
    );
    let init = running(&env, &id, &b).to_string();
    let script = "hostname; for k in pid mnt uts ipc net time; do echo $k=$(readlink /proc/self/ns/$k); done; \
                  cat /proc/self/cgroup; test -e /linuxrc && echo rootfs=busybox; pwd; exit 7";
    let o = env.ctrun(&["exec", "--cwd", "/tmp", &id, "sh", "-c", script]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(7),
        "exit code of the exec'd process: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.starts_with("rtexec-box\n"),
        "the container's hostname: {out}"
    );
    let mut kinds = vec!["pid", "mnt", "uts", "ipc", "net"];
    if time {
        kinds.push("time");
    }
    for k in kinds {
        let want = format!("{k}={}", ns_link(&init, k));
        assert!(out.contains(&want), "{want} (the init's) in:\n{out}");
        assert_ne!(
            ns_link(&init, k),
            ns_link("self", k),
            "{k}: the container has its own"
        );
    }
    assert!(
        out.contains("rootfs=busybox"),
        "sees the container's root: {out}"
    );
    assert!(out.contains("\n/tmp\n"), "cwd inside the container: {out}");
    assert!(
        out.lines()
            .any(|l| l.contains(":pids:") && l.ends_with(&format!("/{id}"))
                || l.starts_with("0::") && l.ends_with(&format!("/{id}"))),
        "in the cgroup: {out}"
    );
    // In the init's cgroup of every hierarchy (each v1 one, where the
    // exec'd process moved itself, and the unified one).
    let init_cg = std::fs::read_to_string(format!("/proc/{init}/cgroup")).unwrap();
    for l in init_cg
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(":name="))
    {
        assert!(
            out.lines().any(|o| o == l),
            "the exec'd process shares {l} with the init:\n{out}"
        );
    }
    // Killed by a signal: 128 + signal, as run.
    let o = env.ctrun(&["exec", &id, "sh", "-c", "kill -9 $$"]);
    assert_eq!(o.status.code(), Some(137));
    // A program that is not there: a coded error, nothing left; runc's
    // status for a failed exec, 255 (apart from any status the process has).
    let o = env.ctrun(&["exec", &id, "/no/such/program"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ENS_"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn exec_detach_writes_the_pid_file_and_delete_reaps_it() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(&env, &["sleep", "1000"], serde_json::json!({}));
    let init = running(&env, &id, &b).to_string();
    let pf = env.dir.path().join("exec.pid");
    env.ok(&[
        "exec",
        "--detach",
        "--pid-file",
        pf.to_str().unwrap(),
        &id,
        "sleep",
        "999",
    ]);
    let pid: i64 = std::fs::read_to_string(&pf)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .unwrap()
            .replace('\0', " ")
            .trim(),
        "sleep 999"
    );
    assert_eq!(ns_link(&pid.to_string(), "pid"), ns_link(&init, "pid"));
    assert_eq!(ns_link(&pid.to_string(), "mnt"), ns_link(&init, "mnt"));
    let ps: Vec<i64> = serde_json::from_str(&env.ok(&["ps", "--format", "json", &id])).unwrap();
    assert!(ps.contains(&pid), "ps lists the exec'd process: {ps:?}");
    env.ok(&["delete", "--force", &id]);
    assert!(wait_gone(pid), "the exec'd process dies with the container");
    env.assert_clean();
}

#[test]
fn exec_refuses_stopped_and_paused_containers_with_codes() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(&env, &["sleep", "1000"], serde_json::json!({}));
    // A created container can be exec'd into (as runc).
    env.ok(&["create", "-b", b.to_str().unwrap(), &id]);
    let o = env.ctrun(&["exec", &id, "hostname"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "rtexec-box");
    env.ok(&["start", &id]);
    env.ok(&["pause", &id]);
    let o = env.ctrun(&["exec", &id, "true"]);
    assert_eq!(o.status.code(), Some(255), "a failed exec: runc's 255");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_STATE_INVALID]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.ok(&["resume", &id]);
    let init = env.state(&id)["pid"].as_i64().unwrap();
    env.ok(&["kill", &id, "KILL"]);
    assert!(wait_gone(init));
    for args in [
        vec!["exec", &id, "true"],
        vec!["update", "--pids-limit", "5", &id],
        vec!["events", "--stats", &id],
    ] {
        let o = env.ctrun(&args);
        // A failed exec exits 255 as runc's; other commands 1.
        let want = if args[0] == "exec" { 255 } else { 1 };
        assert_eq!(o.status.code(), Some(want), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_NOT_RUNNING]"),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = env.ctrun(&["exec", "--apparmor", "x", &id, "sh"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_UNSUPPORTED]"));
    env.ok(&["delete", &id]);
    env.assert_clean();
}

#[test]
fn exec_process_file_sets_user_env_and_keeps_the_seccomp_filter() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let profile = serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28 }]
    });
    let b = bundle(
        &env,
        &["sleep", "1000"],
        serde_json::json!({ "linux": { "seccomp": profile } }),
    );
    running(&env, &id, &b);
    let process = serde_json::json!({
        "args": ["sh", "-c", "echo uid=$(id -u) gid=$(id -g) groups=$(id -G); echo FOO=$FOO; pwd; grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status; mkdir /tmp/x 2>&1; echo rc=$?"],
        "env": ["PATH=/bin", "FOO=bar"],
        "cwd": "/tmp",
        "user": { "uid": 1000, "gid": 1001, "additionalGids": [1002] },
        // A non-root uid keeps capabilities across execve only as ambient ones.
        "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"] },
        "noNewPrivileges": true
    });
    let pf = env.dir.path().join("process.json");
    std::fs::write(&pf, process.to_string()).unwrap();
    let o = env.ctrun(&["exec", "--process", pf.to_str().unwrap(), &id]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for want in [
        "uid=1000 gid=1001 groups=1001 1002",
        "FOO=bar",
        "\n/tmp\n",
        "Seccomp:\t2",
        "NoNewPrivs:\t1",
        "CapEff:\t0000000000000020",
        "No space left on device",
        "rc=1",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // Flags instead of a file: --user, --env, --cap and --no-new-privs on the config's process.
    let o = env.ctrun(&[
        "exec",
        "--user",
        "7:8",
        "--env",
        "X=1",
        "--no-new-privs",
        &id,
        "sh",
        "-c",
        "echo $(id -u):$(id -g) X=$X; grep NoNewPrivs /proc/self/status",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("7:8 X=1") && out.contains("NoNewPrivs:\t1"),
        "{out}"
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn exec_applies_the_io_priority() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(&env, &["sleep", "1000"], serde_json::json!({}));
    running(&env, &id, &b);
    let process = serde_json::json!({
        "args": ["sleep", "500"], "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 },
        "ioPriority": { "class": "IOPRIO_CLASS_BE", "priority": 3 }
    });
    let pf = env.dir.path().join("process.json");
    std::fs::write(&pf, process.to_string()).unwrap();
    let pidf = env.dir.path().join("io.pid");
    env.ok(&[
        "exec",
        "-d",
        "--pid-file",
        pidf.to_str().unwrap(),
        "-p",
        pf.to_str().unwrap(),
        &id,
    ]);
    let pid: i32 = std::fs::read_to_string(&pidf)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // IOPRIO_WHO_PROCESS = 1; class BE (2) << 13 | level 3.
    let prio = unsafe { libc::syscall(libc::SYS_ioprio_get, 1, pid) };
    assert_eq!(prio, (2 << 13) | 3);
    env.ok(&["delete", "--force", &id]);
    assert!(wait_gone(pid as i64));
    env.assert_clean();
}

#[test]
fn update_changes_the_limits_in_the_kernel() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(
        &env,
        &["sleep", "1000"],
        serde_json::json!({ "linux": { "resources": { "pids": { "limit": 7 }, "memory": { "limit": 33554432 } } } }),
    );
    running(&env, &id, &b);
    assert_eq!(cgroup_file(&id, &["pids.max"]), "7");
    env.ok(&[
        "update",
        "--memory",
        "64m",
        "--pids-limit",
        "20",
        "--cpu-shares",
        "512",
        &id,
    ]);
    assert_eq!(cgroup_file(&id, &["pids.max"]), "20");
    assert_eq!(
        cgroup_file(&id, &["memory.limit_in_bytes", "memory.max"]),
        (64u64 << 20).to_string()
    );
    let shares = cgroup_file(&id, &["cpu.shares", "cpu.weight"]);
    assert!(
        shares == "512" || shares == "20",
        "cpu shares 512 (v2 weight 20): {shares}"
    );
    // --resources - reads OCI linux.resources from stdin (other flags ignored).
    let o = env.ctrun_in(
        &["update", "--resources", "-", "--pids-limit", "3", &id],
        Some(r#"{"pids":{"limit":9},"memory":{"limit":41943040}}"#),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(cgroup_file(&id, &["pids.max"]), "9");
    assert_eq!(
        cgroup_file(&id, &["memory.limit_in_bytes", "memory.max"]),
        "41943040"
    );
    // The new pids limit is enforced: 9 tasks at most (init + sh + 7 sleeps).
    let o = env.ctrun(&["exec", &id, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; cat /sys/fs/cgroup/pids/pids.current 2>/dev/null; true"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("fork"), "forks past the new limit fail: {err}");
    let current: u64 = cgroup_file(&id, &["pids.current"]).parse().unwrap();
    assert!(current <= 9, "pids.current {current} within the limit");
    // Bad values are coded errors naming the field.
    let o = env.ctrun(&["update", "--memory", "lots", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ECGROUP_"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn events_print_stats_and_oom_lines() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(
        &env,
        &["sleep", "1000"],
        serde_json::json!({ "linux": { "resources": { "memory": { "limit": 8388608 }, "pids": { "limit": 50 } } } }),
    );
    running(&env, &id, &b);
    let line = env.ok(&["events", "--stats", &id]);
    assert_eq!(line.lines().count(), 1, "{line}");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["id"].as_str()),
        (Some("stats"), Some(id.as_str()))
    );
    let d = &v["data"];
    assert!(d["pids"]["current"].as_u64().unwrap() >= 1, "{d}");
    assert_eq!(d["pids"]["limit"], 50);
    assert_eq!(d["memory"]["usage"]["limit"], 8388608);
    assert!(d["memory"]["usage"]["usage"].as_u64().unwrap() > 0, "{d}");
    assert!(d["cpu"]["usage"]["total"].as_u64().unwrap() > 0, "{d}");
    assert!(d["hugetlb"].is_object() && d["blkio"].is_object(), "{d}");
    assert_eq!(d["intel_rdt"], serde_json::json!({}));
    // cpuset: the kernel's effective cpus of the container's cgroup, as numbers.
    let cpus = cgroup_file(&id, &["cpuset.cpus.effective", "cpuset.effective_cpus"]);
    let first_last: Vec<u64> = cpus.split(['-', ',']).map(|x| x.parse().unwrap()).collect();
    let got: Vec<u64> = d["cpuset"]["cpus"]
        .as_array()
        .unwrap_or_else(|| panic!("no cpuset.cpus: {d}"))
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(
        (got.first(), got.last()),
        (first_last.first(), first_last.last()),
        "{cpus} vs {d}"
    );
    // PSI wherever the kernel keeps it for the cgroup (v2 with psi on).
    let has_psi = cgroup_dirs(&id)
        .iter()
        .any(|dir| std::fs::read_to_string(dir.join("cpu.pressure")).is_ok());
    assert_eq!(d["cpu"].get("psi").is_some(), has_psi, "{d}");
    // network_interfaces: a veth end moved into the container's network
    // namespace shows up with its counters (loopback is left out).
    let host_end = format!("ctrtv{}", std::process::id() % 100000);
    let init = env.state(&id)["pid"].as_i64().unwrap();
    let ip = std::process::Command::new("ip")
        .args([
            "link",
            "add",
            &host_end,
            "type",
            "veth",
            "peer",
            "name",
            "ctr0",
            "netns",
            &format!("/proc/{init}/ns/net"),
        ])
        .status()
        .unwrap();
    assert!(ip.success(), "ip link add");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["events", "--stats", &id])).unwrap();
    let nics = v["data"]["network_interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", v["data"]))
        .clone();
    assert_eq!(nics.len(), 1, "{nics:?}");
    assert_eq!(nics[0]["Name"], "ctr0");
    assert!(
        nics[0]["RxBytes"].is_u64() && nics[0]["TxDropped"].is_u64(),
        "{nics:?}"
    );

    // Streaming: stats every interval, oom when the kernel reports one, and
    // the stream ends by itself when the container's init exits.
    let mut child = env
        .cmd(&["events", "--interval", "200ms", &id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    let next = |what: &str| -> serde_json::Value {
        loop {
            let l = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no {what} event"));
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            if v["type"] == what {
                return v;
            }
        }
    };
    next("stats");
    let o = env.ctrun(&["exec", &id, "sh", "-c", "exec tail /dev/zero"]);
    assert_eq!(o.status.code(), Some(137), "the memory hog is OOM-killed");
    let oom = next("oom");
    assert_eq!(oom["id"], id.as_str());
    env.ok(&["kill", &id, "KILL"]);
    let st = child.wait().unwrap();
    assert!(st.success(), "events ends with the container: {st:?}");
    reader.join().unwrap();
    let _ = std::io::stdout().flush();
    env.ok(&["delete", &id]);
    env.assert_clean();
    // The veth went with the container's network namespace (freed asynchronously).
    let gone = (0..200).any(|_| {
        let there = std::path::Path::new(&format!("/sys/class/net/{host_end}")).exists();
        if there {
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        !there
    });
    assert!(gone, "veth {host_end} left behind");
}

#[test]
fn exec_tty_relays_a_pty_of_the_container_or_sends_it_to_the_console_socket() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = tty_bundle(&env);
    let init = running(&env, &id, &b).to_string();
    // Without a console socket ctrun holds the master and relays it.
    let o = env.ctrun(&[
        "exec",
        "--tty",
        &id,
        "sh",
        "-c",
        "tty; [ -t 0 ] && [ -t 1 ] && echo on-tty; exit 5",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{out:?} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("/dev/pts/0\r\n") && out.contains("on-tty\r\n"),
        "through the pty's line discipline: {out:?}"
    );
    // --console-socket: the master (and the pty name) go to the receiver.
    let sock = env.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let (conn, _) = listener.accept().unwrap();
        ctr_ns::console::recv_fd(conn.as_raw_fd(), 0)
            .unwrap()
            .expect("a master fd")
    });
    let pf = env.dir.path().join("tty.pid");
    let process = serde_json::json!({
        "terminal": true, "consoleSize": { "height": 20, "width": 70 },
        "args": ["sh", "-c", "read -r line; echo got:$line; stty size; readlink /proc/self/ns/pid"],
        "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 }
    });
    let p = env.dir.path().join("tty-process.json");
    std::fs::write(&p, process.to_string()).unwrap();
    env.ok(&[
        "exec",
        "-d",
        "--console-socket",
        sock.to_str().unwrap(),
        "--pid-file",
        pf.to_str().unwrap(),
        "-p",
        p.to_str().unwrap(),
        &id,
    ]);
    let (master, name) = receiver.join().unwrap();
    assert!(
        String::from_utf8_lossy(&name).starts_with("/dev/pts/"),
        "{name:?}"
    );
    {
        use std::os::fd::AsRawFd;
        std::fs::File::from(master.try_clone().unwrap())
            .write_all(b"typed\n")
            .unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match ctr_ns::console::read_master(master.as_raw_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let out = String::from_utf8_lossy(&out).replace("\r\n", "\n");
        assert!(out.contains("got:typed\n"), "{out}");
        assert!(out.contains("20 70\n"), "process.consoleSize: {out}");
        assert!(
            out.contains(&ns_link(&init, "pid")),
            "in the container's pid namespace: {out}"
        );
    }
    drop(master);
    // Misuse is coded: no place for the master, or a socket without a tty.
    let o = env.ctrun(&["exec", "-d", "-t", &id, "sh"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_CONSOLE]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = env.ctrun(&[
        "exec",
        "--console-socket",
        "/nonexistent/ctrtest.sock",
        "-t",
        &id,
        "sh",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_CONSOLE]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn exec_joins_a_user_namespace_with_its_mappings() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtexec");
    let id = env.id();
    let b = bundle(
        &env,
        &["sleep", "1000"],
        serde_json::json!({ "linux": {
            "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
            "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
            "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "network" }, { "type": "user" }]
        } }),
    );
    let init = running(&env, &id, &b).to_string();
    let o = env.ctrun(&[
        "exec",
        &id,
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "root inside: {out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"],
        "{out}"
    );
    assert_eq!(
        lines[2],
        ns_link(&init, "user"),
        "the init's user namespace: {out}"
    );
    assert_ne!(ns_link(&init, "user"), ns_link("self", "user"));
    // Seen from the host, the exec'd process runs as the mapped uid.
    let pf = env.dir.path().join("u.pid");
    env.ok(&[
        "exec",
        "-d",
        "--pid-file",
        pf.to_str().unwrap(),
        &id,
        "sleep",
        "500",
    ]);
    let pid = std::fs::read_to_string(&pf).unwrap().trim().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(uid.split_whitespace().nth(1), Some("100000"), "{uid}");
    env.ok(&["delete", "--force", &id]);
    assert!(wait_gone(pid.parse().unwrap()));
    env.assert_clean();
}
