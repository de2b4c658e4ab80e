//! Root-only, v1 cpuset: a new cpuset is created with `sched_load_balance`
//! off while the hierarchy's root balances (so writing its `cpus` does not
//! rebuild the scheduler domains, a walk of every cpuset on the host), and
//! is otherwise the same: the parent's cpus and mems, a task can join it
//! and runs on those cpus, and nothing is left after delete.
use ctr_cgroup::resources::parse;
use ctr_cgroup::{Cgroup, Options};
use std::path::Path;
use std::process::Command;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap().trim().to_string()
}

/// The cpus `pid` may run on.
fn affinity(pid: i32) -> Vec<usize> {
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::sched_getaffinity(pid, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(r, 0, "sched_getaffinity");
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

fn cpulist(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()),
            None => out.push(part.parse().unwrap()),
        }
    }
    out
}

#[test]
fn new_cpuset_skips_the_domain_rebuild_and_works_the_same() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return;
    }
    let layout = ctr_cgroup::detect().unwrap();
    let Some(h) = layout
        .hierarchies
        .iter()
        .find(|h| h.version == 1 && h.controllers.iter().any(|c| c == "cpuset"))
    else {
        eprintln!("skipped: no v1 cpuset hierarchy");
        return;
    };
    let mount = Path::new(&h.mount_point).to_path_buf();
    if read(&mount.join("cpuset.sched_load_balance")) != "1" {
        eprintln!("skipped: the cpuset root does not balance (the flag is left alone then)");
        return;
    }
    // A made parent and the leaf: both new, both get the flag off.
    let base = format!("ctrtest-cgroup-rs-cpuset-{}", std::process::id());
    let path = format!("/{base}/leaf");
    let cg = Cgroup::create_on(
        &layout,
        &path,
        &parse(&serde_json::json!({})).unwrap(),
        &Options::default(),
    )
    .unwrap();
    let dir = cg
        .dirs()
        .into_iter()
        .find(|d| d.starts_with(&mount))
        .expect("a cpuset dir");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for d in [dir.parent().unwrap(), dir.as_path()] {
            assert_eq!(
                read(&d.join("cpuset.sched_load_balance")),
                "0",
                "{}",
                d.display()
            );
            assert_eq!(
                read(&d.join("cpuset.cpus")),
                read(&mount.join("cpuset.cpus"))
            );
            assert_eq!(
                read(&d.join("cpuset.mems")),
                read(&mount.join("cpuset.mems"))
            );
        }
        let mut child = Command::new("sleep").arg("100").spawn().unwrap();
        let pid = child.id() as i32;
        let joined = cg.add_process(pid);
        let tasks = read(&dir.join("tasks"));
        let aff = affinity(pid);
        let _ = child.kill();
        let _ = child.wait();
        joined.unwrap();
        assert!(tasks.lines().any(|l| l == pid.to_string()), "{tasks}");
        assert_eq!(aff, cpulist(&read(&dir.join("cpuset.cpus"))));
    }));
    cg.delete(true).unwrap();
    assert!(!dir.exists(), "{} left", dir.display());
    assert!(
        !dir.parent().unwrap().exists(),
        "{} left",
        dir.parent().unwrap().display()
    );
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
