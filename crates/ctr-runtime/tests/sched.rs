//! `process.scheduler` and `process.execCPUAffinity` on the busybox bundle
//! (.cache/rootfs/busybox from scripts/make-rootfs.sh). Ids are
//! `ctrtest-rtsched-<pid>-<n>`; every test reads the kernel's view back
//! from inside the container and checks that nothing is left.
mod common;
use common::*;
use std::path::PathBuf;

/// (priority, nice, policy): fields 18, 19 and 41 of a `/proc/<pid>/stat`.
fn stat_sched(stat: &str) -> (i64, i64, i64) {
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    // `rest` starts at field 3 (state).
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |field: usize| f[field - 3].parse::<i64>().unwrap();
    (n(18), n(19), n(41))
}

/// `run` a container whose process (`sh`) prints its own stat line and
/// then a forked child's (the trailing `true` keeps busybox sh from
/// exec'ing the last command in place); stdout or the failed call's stderr.
fn run_with(env: &Env, patch: serde_json::Value) -> (bool, String) {
    let id = env.id();
    let b = env.bundle(
        &["sh", "-c", "cat /proc/$$/stat; cat /proc/self/stat; true"],
        patch,
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    let out = if o.status.success() {
        String::from_utf8_lossy(&o.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    (o.status.success(), out)
}

fn sched(s: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "process": { "scheduler": s } })
}

#[test]
fn batch_with_nice_and_idle_reach_the_process() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let (ok, out) = run_with(
        &env,
        sched(serde_json::json!({ "policy": "SCHED_BATCH", "nice": 5 })),
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // SCHED_BATCH = 3; a fair task's priority field is 20 + nice.
    assert_eq!(stat_sched(lines[0]), (25, 5, 3), "{out}");
    assert_eq!(
        stat_sched(lines[1]),
        (25, 5, 3),
        "inherited without RESET_ON_FORK: {out}"
    );
    let (ok, out) = run_with(&env, sched(serde_json::json!({ "policy": "SCHED_IDLE" })));
    assert!(ok, "{out}");
    assert_eq!(
        stat_sched(out.lines().next().unwrap()).2,
        5,
        "SCHED_IDLE = 5: {out}"
    );
    env.assert_clean();
}

#[test]
fn reset_on_fork_shows_on_a_child() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    // A negative nice is reset to 0 in a forked child (a real-time policy
    // would be reset to SCHED_OTHER, SCHED_BATCH stays).
    let (ok, out) = run_with(
        &env,
        sched(
            serde_json::json!({ "policy": "SCHED_BATCH", "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"] }),
        ),
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        stat_sched(lines[0]),
        (15, -5, 3),
        "the process itself: {out}"
    );
    assert_eq!(stat_sched(lines[1]), (20, 0, 3), "its child, reset: {out}");
    // Without the flag the child keeps the nice value.
    let (ok, out) = run_with(
        &env,
        sched(serde_json::json!({ "policy": "SCHED_BATCH", "nice": -5 })),
    );
    assert!(ok, "{out}");
    assert_eq!(
        stat_sched(out.lines().nth(1).unwrap()),
        (15, -5, 3),
        "{out}"
    );
    env.assert_clean();
}

/// `rt_runtime_us` of the cpu cgroups a new container gets under the v1
/// cpu hierarchy root: 0 when the kernel has RT group scheduling, which
/// refuses a real-time policy to the tasks of such a group.
fn rt_group_sched() -> bool {
    std::path::Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists()
}

#[test]
fn fifo_priority_is_set_or_refused_with_a_coded_error() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let (ok, out) = run_with(
        &env,
        sched(serde_json::json!({ "policy": "SCHED_FIFO", "priority": 10 })),
    );
    if rt_group_sched() {
        // The container's cpu cgroup has no real-time runtime: EPERM.
        assert!(!ok, "{out}");
        assert!(
            out.contains("[ERUNTIME_SCHEDULER]")
                && out.contains(
                    "process.scheduler: set the scheduling policy: operation not permitted"
                ),
            "{out}"
        );
    } else {
        assert!(ok, "{out}");
    }
    if ok {
        // SCHED_FIFO = 1; a real-time task's priority field is -1 - rtprio.
        assert_eq!(
            stat_sched(out.lines().next().unwrap()),
            (-11, 0, 1),
            "{out}"
        );
    }
    if rt_group_sched() {
        // With a real-time runtime for the container's group it is allowed.
        let mut patch = sched(serde_json::json!({ "policy": "SCHED_FIFO", "priority": 10 }));
        merge(
            &mut patch,
            serde_json::json!({ "linux": { "resources": { "cpu": { "realtimeRuntime": 10000, "realtimePeriod": 1000000 } } } }),
        );
        let (ok, out) = run_with(&env, patch);
        assert!(ok, "{out}");
        assert_eq!(
            stat_sched(out.lines().next().unwrap()),
            (-11, 0, 1),
            "{out}"
        );
    }
    env.assert_clean();
}

#[test]
fn bad_schedulers_fail_with_the_field_and_leave_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let cases = [
        (
            serde_json::json!({ "policy": "SCHED_NOPE" }),
            "process.scheduler.policy",
        ),
        (
            serde_json::json!({ "policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_NOPE"] }),
            "process.scheduler.flags[0]",
        ),
        (
            serde_json::json!({ "policy": "SCHED_OTHER", "nice": -21 }),
            "process.scheduler.nice",
        ),
        (
            serde_json::json!({ "policy": "SCHED_BATCH", "priority": 3 }),
            "process.scheduler.priority",
        ),
        (
            serde_json::json!({ "policy": "SCHED_FIFO", "priority": 0 }),
            "process.scheduler.priority",
        ),
        (
            serde_json::json!({ "policy": "SCHED_DEADLINE", "runtime": 10 }),
            "process.scheduler.deadline",
        ),
        (
            serde_json::json!({ "policy": "SCHED_DEADLINE", "runtime": 9, "deadline": 8, "period": 10 }),
            "process.scheduler.runtime",
        ),
    ];
    for (s, field) in cases {
        let id = env.id();
        let b = env.bundle(&["true"], sched(s.clone()));
        let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{s}: {err}");
        assert!(
            err.contains("EOCI_INVALID") && err.contains(field),
            "{s}: want {field}, got {err}"
        );
        assert!(!env.root().join(&id).exists(), "{s}: state dir left");
    }
    env.assert_clean();
}

/// Cpus_allowed_list of what `ctrun exec` (with `process` patched in)
/// prints, the exec'd process's own.
fn exec_cpus(
    env: &Env,
    id: &str,
    patch: serde_json::Value,
    taskset: Option<&str>,
) -> (bool, String) {
    let mut process = serde_json::json!({
        "args": ["grep", "Cpus_allowed_list", "/proc/self/status"], "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 }
    });
    merge(&mut process, patch);
    let pf: PathBuf = env
        .dir
        .path()
        .join(format!("process-{}.json", std::process::id()));
    std::fs::write(&pf, process.to_string()).unwrap();
    let mut c = env.cmd(&["exec", "-p", pf.to_str().unwrap(), id]);
    if let Some(cpus) = taskset {
        // Start ctrun itself on fewer cpus (sched_setaffinity before exec,
        // as `taskset -c` does).
        let mask: Vec<u32> = cpus.split(',').map(|c| c.parse().unwrap()).collect();
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(move || {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                for &m in &mask {
                    libc::CPU_SET(m as usize, &mut set);
                }
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let o = c.stdin(std::process::Stdio::null()).output().unwrap();
    let out = if o.status.success() {
        String::from_utf8_lossy(&o.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    (o.status.success(), out)
}

fn online_cpus() -> String {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn exec_cpu_affinity_final_and_the_reset() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let (id, _) = env.run_detached(&env.bundle(&["sleep", "1000"], serde_json::json!({})));
    let (ok, out) = exec_cpus(
        &env,
        &id,
        serde_json::json!({ "execCPUAffinity": { "final": "0" } }),
        None,
    );
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "Cpus_allowed_list:\t0");
    // initial is for the setup only: the program gets final.
    let (ok, out) = exec_cpus(
        &env,
        &id,
        serde_json::json!({ "execCPUAffinity": { "initial": "0", "final": "0-1" } }),
        None,
    );
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "Cpus_allowed_list:\t0-1");
    let online = online_cpus();
    if online == "0" {
        skip_note("the taskset reset needs two cpus");
    } else {
        // ctrun on cpu 1 only: the exec'd process still gets the
        // container's cpuset (all cpus here), not ctrun's affinity.
        let (ok, out) = exec_cpus(&env, &id, serde_json::json!({}), Some("1"));
        assert!(ok, "{out}");
        assert_eq!(out.trim(), format!("Cpus_allowed_list:\t{online}"));
        // initial alone: the program still gets the cgroup's cpuset.
        let (ok, out) = exec_cpus(
            &env,
            &id,
            serde_json::json!({ "execCPUAffinity": { "initial": "1" } }),
            Some("1"),
        );
        assert!(ok, "{out}");
        assert_eq!(out.trim(), format!("Cpus_allowed_list:\t{online}"));
    }
    // The init is not touched by execCPUAffinity.
    for (bad, field) in [
        ("0-x", "process.execCPUAffinity.final"),
        ("2-1", "process.execCPUAffinity.final"),
        ("", "process.execCPUAffinity.final"),
    ] {
        let (ok, out) = exec_cpus(
            &env,
            &id,
            serde_json::json!({ "execCPUAffinity": { "final": bad } }),
            None,
        );
        assert!(
            !ok && out.contains("EOCI_INVALID") && out.contains(field),
            "{bad:?}: {out}"
        );
    }
    let (ok, out) = exec_cpus(
        &env,
        &id,
        serde_json::json!({ "execCPUAffinity": { "initial": "1-0" } }),
        None,
    );
    assert!(
        !ok && out.contains("process.execCPUAffinity.initial"),
        "{out}"
    );
    // A cpu the machine lacks: the kernel refuses it in the child (EINVAL),
    // which shows both masks are really applied, each at its own step.
    let (ok, out) = exec_cpus(
        &env,
        &id,
        serde_json::json!({ "execCPUAffinity": { "initial": "1000" } }),
        None,
    );
    assert!(
        !ok && out.contains(
            "process.execCPUAffinity.initial: set the initial cpu affinity: invalid argument"
        ) && out.contains("[ERUNTIME_CPU_AFFINITY]"),
        "{out}"
    );
    let (ok, out) = exec_cpus(
        &env,
        &id,
        serde_json::json!({ "execCPUAffinity": { "final": "1000" } }),
        None,
    );
    assert!(
        !ok && out
            .contains("process.execCPUAffinity.final: set the cpu affinity: invalid argument")
            && out.contains("[ERUNTIME_CPU_AFFINITY]"),
        "{out}"
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn exec_cpu_affinity_does_not_touch_the_init() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let id = env.id();
    let b = env.bundle(
        &["grep", "Cpus_allowed_list", "/proc/self/status"],
        serde_json::json!({ "process": { "execCPUAffinity": { "final": "0" } } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(out.trim(), format!("Cpus_allowed_list:\t{}", online_cpus()));
    env.assert_clean();
}

#[test]
fn exec_applies_the_scheduler() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-rtsched");
    let (id, _) = env.run_detached(&env.bundle(&["sleep", "1000"], serde_json::json!({})));
    let process = serde_json::json!({
        "args": ["cat", "/proc/self/stat"], "env": ["PATH=/bin"], "cwd": "/", "user": { "uid": 0, "gid": 0 },
        "scheduler": { "policy": "SCHED_BATCH", "nice": 3 }
    });
    let pf = env.dir.path().join("process.json");
    std::fs::write(&pf, process.to_string()).unwrap();
    let out = env.ok(&["exec", "-p", pf.to_str().unwrap(), &id]);
    assert_eq!(stat_sched(out.lines().next().unwrap()), (23, 3, 3), "{out}");
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

fn skip_note(why: &str) {
    eprintln!("skipped: {why}");
}
