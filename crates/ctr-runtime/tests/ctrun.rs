//! `ctrun` driven on the busybox bundle (.cache/rootfs/busybox from
//! scripts/make-rootfs.sh). Every test uses its own state root and ids
//! `ctrtest-runtime-<pid>-<n>`, asserts the kernel effect, and checks that
//! no state dir or process is left.
mod common;
use common::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

#[test]
fn create_start_kill_delete() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let id = env.id();
    let b = env.bundle(&["sleep", "100"], serde_json::json!({}));
    let pidfile = env.dir.path().join("pid");
    let o = env.ctrun(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--pid-file",
        pidfile.to_str().unwrap(),
        &id,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = env.state(&id);
    assert_eq!(s["status"], "created");
    let pid = s["pid"].as_i64().unwrap();
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), pid.to_string());
    // Waiting at the gate: the sealed exec helper (named ctr-init), not yet
    // sleep, and no copy of ctrun.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "ctr-init", "init waits before exec");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(
        exe.to_string_lossy().starts_with("/memfd:ctr-exec"),
        "init waits in the exec helper: {exe:?}"
    );
    assert_eq!(stat_state(pid), Some('S'));
    // It is in its own pid namespace.
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).unwrap();
    assert_ne!(ns(&pid.to_string()), ns("self"));

    assert!(env.ctrun(&["start", &id]).status.success());
    let s = env.state(&id);
    assert_eq!(s["status"], "running");
    assert_eq!(s["pid"].as_i64().unwrap(), pid);
    // start returns once the program runs (its exec closed the init's
    // close-on-exec end of exec.fifo), not merely once it was released.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep", "the program runs when start returns");
    // A second start fails clearly.
    let o = env.ctrun(&["start", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERUNTIME_STATE_INVALID"));
    // delete without force refuses a running container.
    let o = env.ctrun(&["delete", &id]);
    assert_eq!(o.status.code(), Some(1));

    assert!(env.ctrun(&["kill", &id, "KILL"]).status.success());
    assert!(wait_gone(pid));
    let s = env.state(&id);
    assert_eq!(
        (s["status"].as_str(), s["pid"].as_i64()),
        (Some("stopped"), Some(0))
    );
    let o = env.ctrun(&["kill", &id, "TERM"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "kill of a stopped container fails"
    );
    assert!(env.ctrun(&["delete", &id]).status.success());
    let o = env.ctrun(&["state", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERUNTIME_NOT_FOUND"));
    // delete of a gone container: an error, except with --force (as runc;
    // containerd's shim and podman's cleanup rely on it).
    let o = env.ctrun(&["delete", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERUNTIME_NOT_FOUND"));
    let o = env.ctrun(&["delete", "--force", &id]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.assert_clean();
}

/// On a v1 memory hierarchy the init waiting for `start` (the exec helper)
/// is charged to the caller's memory cgroup, as a forking runtime's init
/// is, though it is in the container's: its page tables were made there,
/// and go from there when the program's exec frees them.
#[test]
fn the_waiting_init_is_charged_to_the_caller_until_start() {
    if !ready() {
        return;
    }
    let Some(memory) = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mut r = right.split(' ');
            let fstype = r.next()?;
            let opts = r.nth(1)?;
            (fstype == "cgroup" && opts.split(',').any(|o| o == "memory"))
                .then(|| PathBuf::from(left.split(' ').nth(4).unwrap()))
        })
    else {
        eprintln!("skipped: no v1 memory hierarchy");
        return;
    };
    let env = Env::new("ctrtest-runtime");
    let id = env.id();
    // The caller: a memory cgroup of its own, removed even on failure.
    struct Caller(PathBuf);
    impl Drop for Caller {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let caller = Caller(memory.join(format!("{id}-caller")));
    std::fs::create_dir(&caller.0).unwrap();
    let kmem = || -> u64 {
        std::fs::read_to_string(caller.0.join("memory.kmem.usage_in_bytes"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "cgroupsPath": format!("/{id}") } }),
    );
    // stderr on a file: the created container holds `ctrun create`'s stdio.
    let err = env.dir.path().join("create.err");
    let o = Command::new("/bin/sh")
        .args(["-c", "echo 0 > \"$0\" && exec \"$@\""])
        .arg(caller.0.join("tasks"))
        .arg(env!("CARGO_BIN_EXE_ctrun"))
        .arg("--root")
        .arg(env.root())
        .args(["create", "--bundle", b.to_str().unwrap(), &id])
        .env("CTRUN_SECCOMP_CACHE", env.seccomp_cache())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(o.success(), "{}", std::fs::read_to_string(&err).unwrap());
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    // The init is in the container's memory cgroup, not the caller's ...
    let tasks = |d: &std::path::Path| std::fs::read_to_string(d.join("tasks")).unwrap();
    assert!(
        tasks(&memory.join(&id))
            .lines()
            .any(|l| l == pid.to_string()),
        "the waiting init is in the container's memory cgroup"
    );
    assert!(
        tasks(&caller.0).trim().is_empty(),
        "nothing runs in the caller's"
    );
    // ... and its page tables are charged to the caller: they leave the
    // caller's kernel memory when the program's exec frees them.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let page_tables: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmPTE:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(page_tables > 0, "{status}");
    // What `ctrun create` freed on its way out (its own page tables, some
    // after an RCU grace period) leaves first: the caller's kernel memory
    // settles before `start`.
    let mut before = kmem();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = kmem();
        if now == before {
            break;
        }
        before = now;
    }
    if before == 0 {
        // Nothing of the caller's charged: kernel memory is not accounted
        // to cgroups here (`cgroup.memory=nokmem`).
        eprintln!("skipped: no kernel memory accounting");
        env.ok(&["delete", "--force", &id]);
        return;
    }
    assert!(env.ctrun(&["start", &id]).status.success());
    // Page tables may be freed after an RCU grace period.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut freed = before.saturating_sub(kmem());
    while freed < page_tables * 1024 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        freed = before.saturating_sub(kmem());
    }
    assert!(
        freed >= page_tables * 1024,
        "the caller's kernel memory went from {before} by {freed} bytes at start; the init's page tables are {page_tables} KiB"
    );
    env.ok(&["delete", "--force", &id]);
    assert!(wait_gone(pid));
    drop(caller);
    assert!(!memory.join(format!("{id}-caller")).exists());
    env.assert_clean();
}

#[test]
fn delete_force_and_delete_created() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(&["sleep", "100"], serde_json::json!({}));
    let (a, c) = (env.id(), env.id());
    for id in [&a, &c] {
        assert!(env
            .ctrun(&["create", "-b", b.to_str().unwrap(), id])
            .status
            .success());
    }
    assert!(env.ctrun(&["start", &a]).status.success());
    let pa = env.state(&a)["pid"].as_i64().unwrap();
    let pc = env.state(&c)["pid"].as_i64().unwrap();
    assert!(env.ctrun(&["delete", "--force", &a]).status.success());
    // runtime.md: deleting a container that is not stopped MUST fail and
    // have no effect; --force kills it.
    let o = env.ctrun(&["delete", &c]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "deleting a created container without --force must fail"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[ERUNTIME_STATE_INVALID]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        env.state(&c)["status"],
        "created",
        "the failed delete had no effect"
    );
    assert!(env.ctrun(&["delete", "--force", &c]).status.success());
    assert!(wait_gone(pa) && wait_gone(pc));
    env.assert_clean();
}

#[test]
fn run_propagates_exit_codes() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    // (Without a pid namespace, so that sh is not a pid-1 immune to SIGKILL from inside.)
    let no_pidns = serde_json::json!({ "linux": { "namespaces": [{ "type": "mount" }, { "type": "ipc" }, { "type": "uts" }] } });
    for (script, code) in [
        ("true", 0),
        ("exit 1", 1),
        ("exit 42", 42),
        ("kill -9 $$", 137),
    ] {
        let patch = if code == 137 {
            no_pidns.clone()
        } else {
            serde_json::json!({})
        };
        let b = env.bundle(&["sh", "-c", script], patch);
        let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{script}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    env.assert_clean();
}

/// A privileged engine config (containerd's `ctr run --privileged`) lists
/// every host device, the defaults and /dev/ptmx included: those come from
/// the config, with their exact fileMode, and /dev/ptmx stays the link to
/// pts/ptmx, as with runc.
#[test]
fn configured_default_devices_and_modes() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let patch = serde_json::json!({ "linux": { "devices": [
        { "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0 },
        { "path": "/dev/full", "type": "c", "major": 1, "minor": 7, "fileMode": 438, "uid": 0, "gid": 0 },
        { "path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 416, "uid": 0, "gid": 0 },
        { "path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 438, "uid": 0, "gid": 0 }
    ] } });
    let b = env.bundle(
        &[
            "sh",
            "-c",
            "stat -c '%n %a %t,%T' /dev/null /dev/full /dev/kmsg /dev/zero; readlink /dev/ptmx",
        ],
        patch,
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out,
        "/dev/null 666 1,3\n/dev/full 666 1,7\n/dev/kmsg 640 1,b\n/dev/zero 666 1,5\npts/ptmx\n"
    );
    env.assert_clean();
}

#[test]
fn config_is_seen_from_inside() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let script = "echo host=$(hostname); echo uid=$(id -u) gid=$(id -g) groups=$(id -G); echo cwd=$(pwd); echo env=$FOO; \
        echo nofile=$(ulimit -n); grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status; \
        touch /rootfile 2>/dev/null && echo root=rw || echo root=ro; \
        echo keys=$(grep -c ' /proc/keys ' /proc/self/mountinfo) acpi=$(grep ' /proc/acpi ' /proc/self/mountinfo | grep -c tmpfs) keysdev=$(stat -c %t,%T /proc/keys); (echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo sys=rw || echo sys=ro; \
        echo pid1=$(cat /proc/1/comm); ls /dev/null >/dev/null && echo devnull=ok";
    let b = env.bundle(
        &["sh", "-c", script],
        serde_json::json!({
            "hostname": "ctrbox",
            "root": { "readonly": true },
            "process": {
                "cwd": "/tmp", "env": ["PATH=/bin:/sbin", "FOO=bar"],
                "user": { "uid": 1000, "gid": 1001, "additionalGids": [1002] },
                "rlimits": [{ "type": "RLIMIT_NOFILE", "soft": 123, "hard": 456 }],
                "capabilities": { "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
                "noNewPrivileges": true
            },
            "linux": { "maskedPaths": ["/proc/keys", "/proc/acpi", "/proc/no-such-path"], "readonlyPaths": ["/proc/sys"] }
        }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for want in [
        "host=ctrbox",
        "uid=1000 gid=1001 groups=1001 1002",
        "cwd=/tmp",
        "env=bar",
        "nofile=123",
        "CapBnd:\t0000000000000021",
        "NoNewPrivs:\t1",
        "root=ro",
        "keys=1 acpi=1 keysdev=1,3",
        "sys=ro",
        "pid1=sh",
        "devnull=ok",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    env.assert_clean();
}

#[test]
fn bad_input_corpus_gives_codes_and_leaves_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let mk = |name: &str, cfg: Option<&str>| -> PathBuf {
        let d = env.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        if let Some(c) = cfg {
            std::fs::write(d.join("config.json"), c).unwrap();
        }
        d
    };
    let good = env.bundle(&["sleep", "100"], serde_json::json!({}));
    let good_cfg = std::fs::read_to_string(good.join("config.json")).unwrap();
    let with = |from: &str, to: &str| {
        assert!(good_cfg.contains(from), "{from}");
        good_cfg.replacen(from, to, 1)
    };
    let root_path = format!("\"path\": \"{}\"", rootfs().display());
    let cases: Vec<(PathBuf, &str)> = vec![
        (mk("missing", None), "EOCI_BUNDLE"),
        (env.dir.path().join("no-such-bundle"), "EOCI_BUNDLE"),
        (mk("invalid-json", Some("{\"ociVersion\": ")), "EOCI_JSON"),
        (mk("wrong-type", Some(&with("\"uid\": 0", "\"uid\": \"root\""))), "EOCI_TYPE"),
        (mk("unknown-ns", Some(&with("\"type\": \"ipc\"", "\"type\": \"bogus\""))), "EOCI_INVALID"),
        (mk("dup-ns", Some(&with("\"type\": \"ipc\"", "\"type\": \"pid\""))), "EOCI_INVALID"),
        (mk("relative-root", Some(&with(&root_path, "\"path\": \"../../etc\""))), "EOCI_INVALID"),
        (mk("no-rootfs", Some(&with(&root_path, "\"path\": \"/nonexistent-ctrtest\""))), "ERUNTIME_ROOTFS"),
        (mk("no-binary", Some(&with("\"sleep\"", "\"/bin/no-such-binary\""))), "ENS_EXEC"),
        (mk("no-binary-path", Some(&with("\"sleep\"", "\"no-such-binary\""))), "ENS_EXEC"),
        (mk("self-exe", Some(&with("\"sleep\"", "\"/proc/self/exe\""))), "ENS_EXEC"),
        (mk("bad-cwd", Some(&with("\"cwd\": \"/\"", "\"cwd\": \"/no/such/dir\""))), "ERUNTIME_CWD"),
        (mk("bad-seccomp", Some(&with("\"namespaces\"", "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"},\"namespaces\""))), "ESECCOMP_"),
        (
            mk(
                "seccomp-notify",
                Some(&with(
                    "\"namespaces\"",
                    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/nonexistent-ctrtest/agent.sock\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]},\"namespaces\"",
                )),
            ),
            "ERUNTIME_SECCOMP_LISTENER",
        ),
        (mk("bad-resources", Some(&with("\"namespaces\"", "\"resources\":{\"cpu\":{\"cpus\":\"zz\"}},\"namespaces\""))), "ECGROUP_"),
    ];
    for (bundle, code) in &cases {
        let id = env.id();
        let o = env.ctrun(&["create", "--bundle", bundle.to_str().unwrap(), &id]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{}: {err}", bundle.display());
        assert!(
            err.contains(code),
            "{}: want {code}, got {err}",
            bundle.display()
        );
        assert!(
            !env.root().join(&id).exists(),
            "{}: state dir left",
            bundle.display()
        );
    }
    // Duplicate id: the second create fails and the first container stays intact.
    let id = env.id();
    assert!(env
        .ctrun(&["create", "-b", good.to_str().unwrap(), &id])
        .status
        .success());
    let o = env.ctrun(&["create", "-b", good.to_str().unwrap(), &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERUNTIME_EXISTS"));
    assert_eq!(env.state(&id)["status"], "created");
    let o = env.ctrun(&["create", "-b", good.to_str().unwrap(), "bad/id"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERUNTIME_INVALID_ID"));
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    env.assert_clean();
}

#[test]
fn concurrent_calls_on_one_id_serialise() {
    if !ready() {
        return;
    }
    let env = std::sync::Arc::new(Env::new("ctrtest-runtime"));
    let b = env.bundle(&["sleep", "100"], serde_json::json!({}));
    // Two creates of one id at once: exactly one wins.
    let id = env.id();
    let ts: Vec<_> = (0..2)
        .map(|_| {
            let (env, b, id) = (env.clone(), b.clone(), id.clone());
            std::thread::spawn(move || {
                env.ctrun(&["create", "-b", b.to_str().unwrap(), &id])
                    .status
                    .success()
            })
        })
        .collect();
    let wins = ts
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    // start and delete --force at once: either order leaves a readable state, then nothing.
    let ts: Vec<_> = [
        vec!["start".to_string(), id.clone()],
        vec!["delete".into(), "--force".into(), id.clone()],
    ]
    .into_iter()
    .map(|args| {
        let env = env.clone();
        std::thread::spawn(move || env.ctrun(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    })
    .collect();
    for t in ts {
        t.join().unwrap();
    }
    if env.root().join(&id).exists() {
        let s = env.state(&id);
        assert!(s["status"] == "running", "{s}");
        assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    }
    // 20 containers created, started and deleted concurrently.
    let ts: Vec<_> = (0..20)
        .map(|_| {
            let (env, b) = (env.clone(), b.clone());
            std::thread::spawn(move || {
                let id = env.id();
                let c = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
                assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
                assert!(env.ctrun(&["start", &id]).status.success());
                assert!(env.ctrun(&["delete", "-f", &id]).status.success());
            })
        })
        .collect();
    for t in ts {
        t.join().unwrap();
    }
    env.assert_clean();
}

#[test]
fn kill_all_signals_every_process() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(
        &["sh", "-c", "sleep 100 & sleep 100 & wait"],
        serde_json::json!({}),
    );
    let id = env.id();
    assert!(env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success());
    assert!(env.ctrun(&["start", &id]).status.success());
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let children = || -> Vec<i64> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect()
    };
    for _ in 0..200 {
        if children().len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let kids = children();
    assert_eq!(kids.len(), 2);
    // SIGTERM to every process: sh (pid 1 of its namespace) ignores it without
    // a handler, the sleeps die; then the init exits from `wait`.
    assert!(env
        .ctrun(&["kill", "--all", &id, "SIGTERM"])
        .status
        .success());
    for c in &kids {
        assert!(wait_gone(*c), "child {c} survived kill --all");
    }
    assert!(wait_gone(pid));
    assert!(env.ctrun(&["delete", &id]).status.success());
    env.assert_clean();
}

#[test]
fn global_flags_log_and_version() {
    let env = Env::new("ctrtest-runtime");
    let o = env.ctrun(&["--version"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("spec: 1.2.0"), "{out}");
    let log = env.dir.path().join("log.json");
    let o = env.ctrun(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["level"], "error");
    assert_eq!(line["code"], "ERUNTIME_NOT_FOUND");
    assert!(line["msg"].as_str().unwrap().contains("does not exist"));
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
    let text = env.dir.path().join("log.txt");
    env.ctrun(&["--log", text.to_str().unwrap(), "state", "nope"]);
    assert!(std::fs::read_to_string(&text)
        .unwrap()
        .contains("level=error msg="));
    // The systemd driver is accepted (tested against systemd in the
    // `systemd` guest, tests/systemd/); here only the flag itself.
    let o = env.ctrun(&["--systemd-cgroup", "list"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = env.ctrun(&["list", "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "null");
    let o = env.ctrun(&["bogus"]);
    assert_eq!(o.status.code(), Some(1));
    // spec writes a config that parses and validates, and refuses to overwrite it.
    let d = env.dir.path().join("spec");
    std::fs::create_dir_all(&d).unwrap();
    assert!(env
        .ctrun(&["spec", "--bundle", d.to_str().unwrap()])
        .status
        .success());
    let b = ctr_oci::load_bundle(&d, ctr_oci::Purpose::Create).unwrap();
    assert_eq!(b.spec, ctr_oci::spec::default_spec());
    assert_eq!(
        env.ctrun(&["spec", "-b", d.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn hooks_run_in_order_with_state_on_stdin() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let logdir = env.dir.path().join("hooklog");
    std::fs::create_dir_all(&logdir).unwrap();
    let log = logdir.join("log");
    let host = |kind: &str| serde_json::json!({ "path": "/bin/sh", "args": ["sh", "-c", format!("echo {kind} $(cat) >> {}", log.display())] });
    let inside = |kind: &str| serde_json::json!({ "path": "/bin/sh", "args": ["sh", "-c", format!("echo {kind} $(cat) >> /tmp/log")] });
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/tmp", "type": "bind", "source": logdir, "options": ["rbind"] }
            ],
            "annotations": { "org.example.hook": "yes" },
            "hooks": {
                "prestart": [host("prestart")],
                "createRuntime": [host("createRuntime")],
                "createContainer": [host("createContainer")],
                "startContainer": [inside("startContainer")],
                "poststart": [host("poststart")],
                "poststop": [host("poststop")]
            }
        }),
    );
    let id = env.id();
    let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    assert!(env.ctrun(&["start", &id]).status.success());
    for _ in 0..200 {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("startContainer")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<(String, serde_json::Value)> = text
        .lines()
        .map(|l| {
            let (k, j) = l.split_once(' ').unwrap();
            (k.to_string(), serde_json::from_str(j).unwrap())
        })
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|(k, _)| k.as_str()).collect();
    // startContainer runs in the container while poststart runs in the runtime: either order.
    let mut middle = kinds[3..5].to_vec();
    middle.sort();
    assert_eq!(
        kinds[..3],
        ["prestart", "createRuntime", "createContainer"],
        "{text}"
    );
    assert_eq!(middle, ["poststart", "startContainer"], "{text}");
    assert_eq!(kinds[5], "poststop", "{text}");
    for (k, s) in &lines {
        assert_eq!(s["id"], id.as_str(), "{k}");
        assert_eq!(s["bundle"], b.to_str().unwrap(), "{k}");
        assert_eq!(s["annotations"]["org.example.hook"], "yes", "{k}");
        let want = match k.as_str() {
            // runtime.md: `created` after step 2 until the program runs.
            "prestart" | "createRuntime" | "createContainer" | "startContainer" => "created",
            "poststop" => "stopped",
            _ => "running",
        };
        assert_eq!(s["status"], want, "{k}");
        match k.as_str() {
            "poststop" => {}
            // Run in the container namespace: the pid as the container sees it.
            "createContainer" | "startContainer" => assert_eq!(s["pid"].as_i64(), Some(1), "{k}"),
            _ => assert_eq!(s["pid"].as_i64(), Some(pid), "{k}"),
        }
    }
    env.assert_clean();
}

#[test]
fn failing_and_slow_hooks_fail_create_and_leave_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    for (kind, hook, want) in [
        (
            "createRuntime",
            serde_json::json!({ "path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 3"] }),
            "nope",
        ),
        (
            "createContainer",
            serde_json::json!({ "path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1 }),
            "timed out",
        ),
        (
            "prestart",
            serde_json::json!({ "path": "/no/such/hook" }),
            "no such file",
        ),
    ] {
        let b = env.bundle(
            &["sleep", "100"],
            serde_json::json!({ "hooks": { kind: [hook] } }),
        );
        let id = env.id();
        let t = std::time::Instant::now();
        let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{kind}: {err}");
        assert!(
            err.contains("ERUNTIME_HOOK")
                && err.contains(want)
                && err.contains(&format!("hooks.{kind}[0]")),
            "{kind}: {err}"
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(4),
            "{kind}: the timeout was not applied"
        );
        assert!(!env.root().join(&id).exists());
    }
    env.assert_clean();
}

#[test]
fn run_forwards_signals_and_detach_returns() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let marker = env.dir.path().join("ready");
    let b = env.bundle(
        &["sh", "-c", "trap 'exit 7' TERM; touch /tmp/ready; while true; do sleep 0.05; done"],
        serde_json::json!({ "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/tmp", "type": "bind", "source": env.dir.path(), "options": ["rbind"] }
        ] }),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctrun"))
        .arg("--root")
        .arg(env.root())
        .args(["run", "-b", b.to_str().unwrap(), &env.id()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if marker.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(marker.exists(), "container did not start");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(7), "SIGTERM reached the container's trap");

    // run --detach: returns 0 at once, the container keeps running.
    let b = env.bundle(&["sleep", "100"], serde_json::json!({}));
    let id = env.id();
    let o = env.ctrun(&["run", "--detach", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(env.state(&id)["status"], "running");
    assert!(env.ctrun(&["delete", "-f", &id]).status.success());
    env.assert_clean();
}

#[test]
fn resources_go_through_the_cgroup_which_delete_removes() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let id = env.id();
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "resources": { "pids": { "limit": 7 }, "memory": { "limit": 33554432 } } } }),
    );
    let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.lines().any(|l| l.ends_with(&format!("/{id}"))),
        "init is in its cgroup: {cg}"
    );
    let dirs: Vec<PathBuf> = cgroup_dirs(&id)
        .into_iter()
        .filter(|d| d.exists())
        .collect();
    assert!(!dirs.is_empty());
    // In the container's cgroup of every hierarchy (each v1 one, where the
    // init moved itself, and the unified one), as a process (cgroup.procs)
    // and with its one thread (v1 `tasks`).
    for d in &dirs {
        let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap();
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "init {pid} in {}/cgroup.procs: {procs:?}\n{cg}",
            d.display()
        );
        if let Ok(tasks) = std::fs::read_to_string(d.join("tasks")) {
            assert!(
                tasks.lines().any(|l| l == pid.to_string()),
                "init {pid} in {}/tasks: {tasks:?}",
                d.display()
            );
        }
    }
    // Every controller hierarchy (named ones such as name=systemd are not
    // the runtime's) and the unified one: the container's cgroup.
    for l in cg
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(":name="))
    {
        assert!(
            l.ends_with(&format!("/{id}")),
            "init's cgroup {l} (all:\n{cg})"
        );
    }
    let pids_max = dirs
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join("pids.max")).ok())
        .unwrap();
    assert_eq!(pids_max.trim(), "7");
    let mem = dirs
        .iter()
        .find_map(|d| {
            std::fs::read_to_string(d.join("memory.limit_in_bytes"))
                .or_else(|_| std::fs::read_to_string(d.join("memory.max")))
                .ok()
        })
        .unwrap();
    assert_eq!(mem.trim(), "33554432");
    assert!(env.ctrun(&["start", &id]).status.success());
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    for d in cgroup_dirs(&id) {
        assert!(!d.exists(), "cgroup left: {}", d.display());
    }
    env.assert_clean();
}

#[test]
fn a_memory_limit_ends_in_an_oom_kill() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let id = env.id();
    let b = env.bundle(
        // tail buffers /dev/zero's endless line: pid 1 itself grows until killed.
        &["sh", "-c", "exec tail /dev/zero"],
        serde_json::json!({ "linux": { "resources": { "memory": { "limit": 5242880 } } } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    assert_eq!(
        o.status.code(),
        Some(137),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for d in cgroup_dirs(&id) {
        assert!(!d.exists(), "cgroup left: {}", d.display());
    }
    env.assert_clean();
}

#[test]
fn pause_resume_and_ps_use_the_cgroup() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let id = env.id();
    let b = env.bundle(
        &["sh", "-c", "sleep 100 & sleep 100 & wait"],
        serde_json::json!({}),
    );
    assert!(env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success());
    assert!(env.ctrun(&["start", &id]).status.success());
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let mut pids: Vec<i64> = vec![];
    for _ in 0..200 {
        pids = serde_json::from_slice(&env.ctrun(&["ps", "--format", "json", &id]).stdout).unwrap();
        if pids.len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.contains(&pid));
    assert!(env.ctrun(&["pause", &id]).status.success());
    assert_eq!(env.state(&id)["status"], "paused");
    let frozen = cgroup_dirs(&id).into_iter().find_map(|d| {
        std::fs::read_to_string(d.join("freezer.state"))
            .or_else(|_| std::fs::read_to_string(d.join("cgroup.freeze")))
            .ok()
    });
    assert!(
        matches!(frozen.as_deref().map(str::trim), Some("FROZEN") | Some("1")),
        "{frozen:?}"
    );
    let o = env.ctrun(&["pause", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(env.ctrun(&["resume", &id]).status.success());
    assert_eq!(env.state(&id)["status"], "running");
    assert!(env.ctrun(&["pause", &id]).status.success());
    assert!(
        env.ctrun(&["delete", "--force", &id]).status.success(),
        "a paused container is force-deleted"
    );
    for p in pids {
        assert!(wait_gone(p));
    }
    for d in cgroup_dirs(&id) {
        assert!(!d.exists(), "cgroup left: {}", d.display());
    }
    env.assert_clean();
}

/// `linux.seccomp` through @ctr/seccomp: a profile that makes mkdir fail
/// with ENOSPC is seen from inside, with and without noNewPrivileges (the
/// filter goes before the uid/caps change without it, last with it).
#[test]
fn seccomp_profile_denies_mkdir_with_errno() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let cache = env.seccomp_cache();
    let profile = serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{ "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28 }]
    });
    let script = "grep '^Seccomp:' /proc/self/status; mkdir /tmp/ctr-sc 2>&1; echo rc=$?; touch /tmp/f && echo touch=ok";
    for nnp in [false, true] {
        let b = env.bundle(
            &["sh", "-c", script],
            serde_json::json!({
                "process": {
                    "user": { "uid": 1000, "gid": 1000 },
                    "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
                    "noNewPrivileges": nnp
                },
                "mounts": [
                    { "destination": "/proc", "type": "proc", "source": "proc" },
                    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
                    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"] }
                ],
                "linux": { "seccomp": profile.clone() }
            }),
        );
        let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "nnp={nnp}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for want in ["Seccomp:\t2", "No space left on device", "rc=1", "touch=ok"] {
            assert!(out.contains(want), "nnp={nnp}: missing {want:?} in:\n{out}");
        }
    }
    assert!(
        std::fs::read_dir(&cache).unwrap().count() >= 1,
        "the compiled filter is in the disk cache"
    );
    env.assert_clean();
}

/// The `ctrun spec` default (no linux.seccomp) runs, with no filter.
/// Under a deny-all device rule the default devices stay usable and the
/// devices of linux.devices are allowed (as runc and crun do); other nodes
/// can be made but not opened.
#[test]
fn default_and_config_devices_are_allowed_under_deny_all() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let script = "echo x > /dev/null && head -c 3 /dev/zero | wc -c; head -c 1 /dev/kk > /dev/null && echo kk-ok; \
                  mknod /dev/port2 c 1 4 && head -c 1 /dev/port2 2>&1 > /dev/null";
    let b = env.bundle(
        &["sh", "-c", script],
        serde_json::json!({ "linux": {
            "devices": [{ "path": "/dev/kk", "type": "c", "major": 1, "minor": 11 }],
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] }
        } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines.first().copied(),
        Some("3"),
        "/dev/null and /dev/zero usable:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        lines.contains(&"kk-ok"),
        "a linux.devices node is allowed:\n{out}"
    );
    assert!(
        out.contains("Operation not permitted"),
        "other nodes are denied by the device cgroup:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    env.assert_clean();
}

#[test]
fn spec_default_config_runs_without_a_filter() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let d = env.dir.path().join("specrun");
    std::fs::create_dir_all(&d).unwrap();
    assert!(env
        .ctrun(&["spec", "--bundle", d.to_str().unwrap()])
        .status
        .success());
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("config.json")).unwrap()).unwrap();
    assert!(
        cfg["linux"].get("seccomp").is_none(),
        "the default config has no seccomp"
    );
    // No terminal here (stdio is files), the shared rootfs, a command.
    merge(
        &mut cfg,
        serde_json::json!({ "root": { "path": rootfs() }, "process": { "terminal": false, "args": ["sh", "-c", "grep '^Seccomp:' /proc/self/status"] } }),
    );
    std::fs::write(d.join("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
    let o = env.ctrun(&["run", "-b", d.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("Seccomp:\t0"),
        "no linux.seccomp means no filter:\n{out}"
    );
    env.assert_clean();
}

/// A `cgroup` mount shows the container's own cgroup (runc style), read-only.
#[test]
fn cgroup_mount_shows_the_container_cgroup() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
    let (limit_file, dir) = if v1 {
        ("memory/memory.limit_in_bytes", "memory")
    } else {
        ("memory.max", ".")
    };
    let script = format!(
        "echo limit=$(cat /sys/fs/cgroup/{limit_file}); echo procs=$(cat /sys/fs/cgroup/{dir}/cgroup.procs); \
         mkdir /sys/fs/cgroup/{dir}/x 2>/dev/null && echo cg=rw || echo cg=ro; ls /sys/fs/cgroup"
    );
    let b = env.bundle(
        &["sh", "-c", &script],
        serde_json::json!({
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
                { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
                { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
            ],
            "linux": { "resources": { "memory": { "limit": 67108864 } } }
        }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for want in ["limit=67108864", "procs=1", "cg=ro"] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    if v1 {
        assert!(
            out.contains("cpuacct") && out.contains("memory"),
            "every hierarchy is there:\n{out}"
        );
    }
    env.assert_clean();
}

/// `linux.namespaces[].path`: a second container joins the uts and net
/// namespaces of a first one.
#[test]
fn namespaces_are_joined_by_path() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let a = env.id();
    let ba = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "hostname": "ctr-joined" }),
    );
    let o = env.ctrun(&["create", "-b", ba.to_str().unwrap(), &a]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pid = env.state(&a)["pid"].as_i64().unwrap();
    let host_view = |k: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{k}"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let b = env.bundle(
        &["sh", "-c", "echo host=$(hostname); echo net=$(readlink /proc/self/ns/net); echo uts=$(readlink /proc/self/ns/uts)"],
        serde_json::json!({ "linux": { "namespaces": [
            { "type": "pid" }, { "type": "mount" }, { "type": "ipc" },
            { "type": "uts", "path": format!("/proc/{pid}/ns/uts") },
            { "type": "network", "path": format!("/proc/{pid}/ns/net") }
        ] } }),
    );
    let (net, uts) = (host_view("net"), host_view("uts"));
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let ok = o.status.success();
    assert!(env.ctrun(&["delete", "--force", &a]).status.success());
    assert!(ok, "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    for want in [
        "host=ctr-joined".to_string(),
        format!("net={net}"),
        format!("uts={uts}"),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    assert_ne!(
        net,
        std::fs::read_link("/proc/self/ns/net")
            .unwrap()
            .to_string_lossy(),
        "not the host's"
    );
    assert!(wait_gone(pid));
    env.assert_clean();
}

/// `linux.timeOffsets` in a new time namespace: the boot-time clock is
/// ten days ahead inside.
/// A mount namespace joined by path gets the rootfs set up inside it (as
/// runc does): the container sees that namespace, the host's mount table
/// never sees the container's mounts.
#[test]
fn a_mount_namespace_is_joined_by_path() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    // A holder of a private mount namespace (a copy of ours).
    let mut holder = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sleep", "60"])
        .spawn()
        .unwrap();
    let hpid = holder.id();
    let want = (0..200)
        .find_map(|_| {
            let l = std::fs::read_link(format!("/proc/{hpid}/ns/mnt")).ok()?;
            if l != std::fs::read_link("/proc/self/ns/mnt").ok()? {
                return Some(l.to_string_lossy().into_owned());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            None
        })
        .expect("the holder has its own mount namespace");
    let b = env.bundle(
        &[
            "sh",
            "-c",
            "echo mnt=$(readlink /proc/self/ns/mnt); ls /bin/busybox",
        ],
        serde_json::json!({ "linux": { "namespaces": [
            { "type": "pid" }, { "type": "ipc" }, { "type": "uts" },
            { "type": "mount", "path": format!("/proc/{hpid}/ns/mnt") }
        ] } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("mnt={want}")),
        "the joined namespace, {want}:\n{out}"
    );
    assert!(
        out.contains("/bin/busybox"),
        "the rootfs is set up in it:\n{out}"
    );
    let rootfs = rootfs().to_string_lossy().into_owned();
    assert!(
        !host_mounts.contains(&rootfs),
        "the host's mount table saw the container's mounts"
    );
    env.assert_clean();
}

/// rootfsPropagation "shared" still pivots: the mount holding the rootfs is
/// made private first, as runc does (pivot_root refuses a shared parent).
#[test]
fn shared_rootfs_propagation_pivots() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(
        &["sh", "-c", "ls /bin/busybox"],
        serde_json::json!({ "linux": { "rootfsPropagation": "shared" } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    env.assert_clean();
}

/// A cgroupsPath under parents that do not exist yet: delete removes the
/// parents create made, and keeps a parent that was there before.
#[test]
fn delete_removes_the_cgroup_parents_create_made() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let parent = format!(
        "/ctrtest-runtime-parent-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let b = env.bundle(&["true"], serde_json::json!({ "linux": { "cgroupsPath": format!("{parent}/a/leaf"), "resources": { "pids": { "limit": 50 } } } }));
    let id = env.id();
    assert!(env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success());
    assert!(
        cgroup_dirs(&format!("{parent}/a/leaf"))
            .iter()
            .any(|d| d.is_dir()),
        "the cgroup is made"
    );
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    let left: Vec<_> = cgroup_dirs(&parent)
        .into_iter()
        .filter(|d| d.exists())
        .collect();
    assert!(left.is_empty(), "parents left: {left:?}");

    // A parent that existed before the container is not the runtime's to remove.
    // (Not on v1 cpuset: a bare mkdir there has no cpus to hand down.)
    let mine: Vec<_> = cgroup_dirs(&parent)
        .into_iter()
        .filter(|d| !d.to_string_lossy().contains("/cpuset/") && std::fs::create_dir(d).is_ok())
        .collect();
    let b = env.bundle(
        &["true"],
        serde_json::json!({ "linux": { "cgroupsPath": format!("{parent}/leaf") } }),
    );
    let id = env.id();
    let created = env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success();
    let deleted = env.ctrun(&["delete", "--force", &id]).status.success();
    let kept = mine.iter().all(|d| d.is_dir());
    for d in &mine {
        let _ = std::fs::remove_dir(d.join("leaf"));
        let _ = std::fs::remove_dir(d);
    }
    assert!(
        created && deleted && kept,
        "created {created}, deleted {deleted}, kept the existing parent {kept}"
    );
    env.assert_clean();
}

#[test]
fn time_offsets_are_seen_from_inside() {
    if !ready() {
        return;
    }
    if !std::path::Path::new("/proc/self/ns/time").exists() {
        eprintln!("skipped: no time namespaces");
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(
        &["cat", "/proc/uptime"],
        serde_json::json!({ "linux": {
            "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "time" }],
            "timeOffsets": { "boottime": { "secs": 864000, "nanosecs": 0 } }
        } }),
    );
    let up = || -> f64 {
        std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = up();
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let after = up();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let inside: f64 = out.split(' ').next().unwrap().parse().unwrap();
    assert!(
        inside >= before + 864000.0 && inside <= after + 864000.0 + 1.0,
        "uptime {inside} vs host {before}..{after}"
    );
    env.assert_clean();
}

/// `--preserve-fds 1`: our fd 3 is the container's fd 3.
#[test]
fn preserve_fds_passes_extra_fds() {
    if !ready() {
        return;
    }
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(
        &["sh", "-c", "echo through-fd-3 >&3"],
        serde_json::json!({}),
    );
    let target = env.dir.path().join("fd3-out");
    let f = std::fs::File::create(&target).unwrap();
    let raw = f.as_raw_fd();
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctrun"));
    c.arg("--root").arg(env.root()).args([
        "run",
        "--preserve-fds",
        "1",
        "-b",
        b.to_str().unwrap(),
        &env.id(),
    ]);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    unsafe {
        // (dup2 onto itself keeps close-on-exec: clear it then.)
        c.pre_exec(move || {
            let r = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if r < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        });
    }
    let o = c.output().unwrap();
    drop(f);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "through-fd-3\n");
    // Without the flag fd 3 is not there.
    let b = env.bundle(&["sh", "-c", "echo x >&3"], serde_json::json!({}));
    assert_ne!(
        env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()])
            .status
            .code(),
        Some(0)
    );
    env.assert_clean();
}

#[test]
fn user_namespace_maps_root_to_an_unprivileged_range() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let userns = serde_json::json!({
        "linux": {
            "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "network" }, { "type": "user" }],
            "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
            "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }]
        }
    });
    // Inside: uid 0, and the map.
    let b = env.bundle(
        &[
            "sh",
            "-c",
            "echo uid=$(id -u) gid=$(id -g); cat /proc/self/uid_map; ls /dev/null",
        ],
        userns.clone(),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("uid=0 gid=0"), "{out}");
    assert_eq!(
        out.lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "100000", "65536"],
        "{out}"
    );
    assert!(out.contains("/dev/null"), "{out}");
    // From the host: the map, and the process runs as host uid 100000.
    let b = env.bundle(&["sleep", "100"], userns);
    let id = env.id();
    let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pid = env.state(&id)["pid"].as_i64().unwrap();
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    assert!(env.ctrun(&["start", &id]).status.success());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert_eq!(
        uid_line.split_whitespace().nth(1),
        Some("100000"),
        "{uid_line}"
    );
    // start returns once the init took the gate; its execve follows.
    let exe = || {
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    };
    for _ in 0..500 {
        if exe().as_deref() == Some("busybox") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        exe().as_deref(),
        Some("busybox"),
        "the init is the program itself"
    );
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    env.assert_clean();
}

#[test]
fn devices_sysctl_personality_and_no_pivot() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime");
    let b = env.bundle(
        &["sh", "-c", "ls -ln /dev/ctrtest-null | tr -s ' ' | cut -d' ' -f1,3,4; cat /proc/sys/kernel/msgmax; uname -m; echo x > /dev/ctrtest-null && echo wrote"],
        serde_json::json!({
            "linux": {
                "devices": [{ "path": "/dev/ctrtest-null", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 1, "gid": 2 }],
                "sysctl": { "kernel.msgmax": "4242" },
                "personality": { "domain": "LINUX32" }
            }
        }),
    );
    let host_msgmax = std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap();
    for extra in [&[][..], &["--no-pivot"][..]] {
        let mut args = vec!["run", "-b", b.to_str().unwrap()];
        args.extend_from_slice(extra);
        let id = env.id();
        args.push(&id);
        let o = env.ctrun(&args);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{extra:?}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(out, "crw------- 1 2\n4242\ni686\nwrote\n", "{extra:?}");
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap(),
        host_msgmax,
        "the host's ipc namespace is untouched"
    );
    env.assert_clean();
}
