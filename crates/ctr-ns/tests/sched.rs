//! `SpawnOptions.resources.scheduler` (`sched_setattr(2)`) and the cpu affinity
//! options (`sched_setaffinity(2)`) of the child, read back from the
//! program's `/proc/self/stat` and `/proc/self/status`.

mod common;
use ctr_ns::{SchedAttr, SpawnOptions};

use common::run_captured as run;

/// (priority, nice, policy) of the program: `/proc/self/stat` fields 18, 19, 41.
fn stat_of(attr: Option<SchedAttr>) -> ctr_ns::Result<(i64, i64, i64)> {
    let mut o = SpawnOptions::new("cat", vec!["cat".into(), "/proc/self/stat".into()]);
    o.resources.scheduler = attr;
    let stat = run(&mut o)?;
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let n = |i: usize| f[i - 3].parse::<i64>().unwrap();
    Ok((n(18), n(19), n(41)))
}

#[test]
fn the_program_runs_under_the_policy() {
    let mut batch = SchedAttr::new(3);
    batch.sched_nice = 9;
    assert_eq!(stat_of(Some(batch)).unwrap(), (29, 9, 3));
    assert_eq!(stat_of(Some(SchedAttr::new(5))).unwrap().2, 5, "SCHED_IDLE");
}

#[test]
fn a_refused_policy_is_a_coded_error_naming_the_step() {
    // SCHED_DEADLINE with a runtime under 1024 ns passes the rules checked
    // before the clone but is EINVAL from the kernel for any caller.
    let mut dl = SchedAttr::new(6);
    (dl.sched_runtime, dl.sched_deadline, dl.sched_period) = (1, 2, 3);
    let e = stat_of(Some(dl)).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.errno, e.syscall.as_deref()),
        ("ENS_SCHEDULER", Some(libc::EINVAL), Some("sched_setattr")),
        "{e:?}"
    );
    assert_eq!(e.path.as_deref(), Some("scheduler"));
}

#[test]
fn a_policy_against_the_rules_fails_before_the_clone() {
    // SCHED_FIFO with priority 0: ctr_common::sched's rules (the ones the
    // OCI path checks too) refuse it naming the field; it used to reach
    // the kernel as EINVAL from the child.
    let e = stat_of(Some(SchedAttr::new(1))).unwrap_err();
    assert_eq!(e.code, "ENS_INVALID_OPTION", "{e:?}");
    assert_eq!(e.path.as_deref(), Some("scheduler.priority"));
    assert_eq!(e.errno, None);
}

fn cpus_of(initial: Option<Vec<u32>>, fin: Option<Vec<u32>>) -> ctr_ns::Result<String> {
    let mut o = SpawnOptions::new(
        "grep",
        vec![
            "grep".into(),
            "Cpus_allowed_list".into(),
            "/proc/self/status".into(),
        ],
    );
    o.resources.initial_cpu_affinity = initial;
    o.resources.cpu_affinity = fin;
    Ok(run(&mut o)?
        .trim()
        .trim_start_matches("Cpus_allowed_list:")
        .trim()
        .to_string())
}

#[test]
fn the_affinity_masks_are_applied() {
    assert_eq!(cpus_of(None, Some(vec![0])).unwrap(), "0");
    assert_eq!(
        cpus_of(Some(vec![0]), None).unwrap(),
        "0",
        "initial holds when nothing resets it"
    );
    let e = cpus_of(Some(vec![1000]), None).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.errno, e.path.as_deref()),
        (
            "ENS_CPU_AFFINITY",
            Some(libc::EINVAL),
            Some("initialCpuAffinity")
        ),
        "{e:?}"
    );
    let e = cpus_of(None, Some(vec![1000])).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.errno, e.path.as_deref()),
        ("ENS_CPU_AFFINITY", Some(libc::EINVAL), Some("cpuAffinity")),
        "{e:?}"
    );
    // Out of cpu_set_t: refused in the parent, nothing spawned.
    assert_eq!(
        cpus_of(None, Some(vec![5000])).unwrap_err().code,
        "ENS_INVALID_OPTION"
    );
    assert_eq!(
        cpus_of(None, Some(vec![])).unwrap_err().code,
        "ENS_INVALID_OPTION"
    );
    assert_eq!(
        cpus_of(Some(vec![]), None).unwrap_err().path.as_deref(),
        Some("initialCpuAffinity")
    );
}
