//! Spawning through the spawner process (`ctr_ns::spawner`): the child is
//! in its namespaces, its parent is this process, it gets no fd but its
//! stdio, errors keep their code, errno and field, and spawns from several
//! threads at once work. (`CTR_NS_SPAWNER=target/debug/ctr-ns-spawner cargo
//! test -p ctr-ns --test spawn` runs the whole spawn suite through it too.)

mod common;
use ctr_ns::{spawn, NamespaceKind, SpawnOptions, Stage, Stdio};

/// The tests of this file one at a time: they share the process's one
/// spawner, whose fds one of them lists (a request in flight holds more).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn enable() -> std::sync::MutexGuard<'static, ()> {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    ctr_ns::spawner::enable(Some(env!("CARGO_BIN_EXE_ctr-ns-spawner").to_string()));
    guard
}

fn sh(script: &str) -> SpawnOptions {
    let mut o = SpawnOptions::new("sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Fd(2)];
    o
}

fn ppid_of(pid: i32) -> i32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn the_child_is_ours_and_in_its_namespaces() {
    if !common::root_or_skip() {
        return;
    }
    let _one = enable();
    let mut o = sh("readlink /proc/self/ns/net /proc/self/ns/uts; ls /proc/$$/fd");
    o.namespaces.create = vec![NamespaceKind::Net, NamespaceKind::Uts, NamespaceKind::Ipc];
    o.lifecycle.hold = true;
    let child = spawn(&o).unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Held);
    // The spawner made it, but its parent is this process.
    let spawner = ctr_ns::spawner::pid().expect("a spawner runs");
    assert_ne!(child.pid, spawner);
    assert_eq!(ppid_of(child.pid), std::process::id() as i32);
    assert_eq!(ppid_of(spawner), std::process::id() as i32);
    child.release().unwrap();
    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
    let out = common::read_all(child.take_stdio()[1].take().unwrap());
    assert_eq!(child.wait().unwrap().code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    let own = |k: &str| std::fs::read_link(format!("/proc/self/ns/{k}")).unwrap();
    assert_ne!(lines[0], own("net").to_string_lossy());
    assert_ne!(lines[1], own("uts").to_string_lossy());
    // No fd but 0-2 reached the program.
    let mut fds: Vec<&str> = lines[2..]
        .iter()
        .flat_map(|l| l.split_whitespace())
        .collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"], "fds of the container's shell: {out}");
}

#[test]
fn the_spawner_runs_from_a_sealed_memfd_with_only_its_socket() {
    if !common::root_or_skip() {
        return;
    }
    let _one = enable();
    let child = spawn(&sh("true")).unwrap();
    child.wait_stage().unwrap();
    child.wait().unwrap();
    let spawner = ctr_ns::spawner::pid().unwrap();
    let exe = std::fs::read_link(format!("/proc/{spawner}/exe")).unwrap();
    assert!(
        exe.to_string_lossy().starts_with("/memfd:ctr-spawner"),
        "spawner exe {exe:?}"
    );
    // 0-2 are /dev/null, 3 the socket; the exec helper's memfd may be open
    // (close-on-exec) once a child was spawned, and once a child got a new
    // network namespace, the spare-namespace maker's own one and the spare
    // (see `a_child_enters_the_network_namespace_made_ahead`). Nothing of a
    // child stays:
    // the spawner closes what it received and made right after its answer
    // (which may be a moment after the answer arrived here).
    let unexpected = || -> Vec<String> {
        let mut odd = Vec::new();
        for e in std::fs::read_dir(format!("/proc/{spawner}/fd")).unwrap() {
            let fd = e.unwrap().file_name().to_string_lossy().into_owned();
            let target = std::fs::read_link(format!("/proc/{spawner}/fd/{fd}"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ok = match fd.as_str() {
                "0" | "1" | "2" => target == "/dev/null",
                "3" => target.starts_with("socket:"),
                _ => target.starts_with("/memfd:ctr-exec") || target.starts_with("net:["),
            };
            if !ok {
                odd.push(format!("fd {fd}: {target}"));
            }
        }
        let spares = spare_nets(spawner);
        if spares.len() > 1 {
            odd.push(format!("more than one spare network namespace: {spares:?}"));
        }
        odd
    };
    let mut odd = unexpected();
    for _ in 0..200 {
        if odd.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        odd = unexpected();
    }
    assert!(odd.is_empty(), "the spawner holds {odd:?}");
}

/// The network namespaces the spawner holds an fd of, but its own.
fn spare_nets(spawner: i32) -> Vec<String> {
    let own = std::fs::read_link(format!("/proc/{spawner}/ns/net")).unwrap();
    let mut nets = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{spawner}/fd")).unwrap() {
        let Ok(t) = std::fs::read_link(e.unwrap().path()) else {
            continue;
        };
        if t.to_string_lossy().starts_with("net:[") && t != own {
            nets.push(t.to_string_lossy().into_owned());
        }
    }
    nets
}

#[test]
fn a_child_enters_the_network_namespace_made_ahead() {
    if !common::root_or_skip() {
        return;
    }
    let _one = enable();
    let run = || -> Vec<String> {
        // Its namespace, and its interfaces: nothing but lo (2 header lines).
        let mut o = sh("readlink /proc/self/ns/net; wc -l < /proc/net/dev");
        o.namespaces.create = vec![NamespaceKind::Net, NamespaceKind::Uts];
        let child = spawn(&o).unwrap();
        child.wait_stage().unwrap();
        let out = common::read_all(child.take_stdio()[1].take().unwrap());
        assert_eq!(child.wait().unwrap().code, Some(0), "{out}");
        out.lines().map(|l| l.trim().to_string()).collect()
    };
    let wait_spare = |spawner: i32| -> String {
        for _ in 0..300 {
            if let [one] = spare_nets(spawner).as_slice() {
                return one.clone();
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!(
            "the spawner never held one spare: {:?}",
            spare_nets(spawner)
        );
    };
    let host = std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut seen = vec![host.clone()];
    let first = run();
    let spawner = ctr_ns::spawner::pid().expect("a spawner runs");
    for _ in 0..3 {
        let spare = wait_spare(spawner);
        assert!(!seen.contains(&spare), "{spare} is new: {seen:?}");
        let next = run();
        // The child entered the spare, and it was as fresh as clone3's.
        assert_eq!(next, [spare.clone(), "3".to_string()]);
        seen.push(spare);
    }
    assert_ne!(first[0], host);
    assert_eq!(first[1], "3");
    // The spawner holds no finished child's namespace: only the next spare.
    let spare = wait_spare(spawner);
    assert!(!seen.contains(&spare));
}

#[test]
fn errors_keep_code_errno_and_field() {
    let _one = enable();
    // Refused in the spawner while planning.
    let mut o = sh("true");
    o.namespaces.hostname = Some("x".into());
    let e = spawn(&o).unwrap_err();
    assert_eq!(e.code, "ENS_INVALID_OPTION");
    assert_eq!(e.path.as_deref(), Some("hostname"));
    // Refused by the child.
    let mut o = SpawnOptions::new("/nonexistent/ctr-binary", vec![]);
    o.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
    let child = spawn(&o).unwrap();
    let err = child.wait_stage().unwrap_err();
    assert_eq!(err.code, "ENS_EXEC");
    assert_eq!(err.errno, Some(libc::ENOENT));
    assert!(child.try_wait().is_err(), "reaped");
    // A closed fd is named as the caller's option.
    let mut o = sh("true");
    o.io.extra_fds = vec![999];
    let e = spawn(&o).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("extraFds[0]"));
}

#[test]
fn extra_fds_and_relative_paths_cross_as_the_fork_path_does() {
    let _one = enable();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "from-an-extra-fd").unwrap();
    let f = std::fs::File::open(dir.path().join("f")).unwrap();
    use std::os::fd::AsRawFd;
    let mut o = sh("cat <&3; echo; pwd");
    o.io.extra_fds = vec![f.as_raw_fd()];
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let out = common::read_all(child.take_stdio()[1].take().unwrap());
    assert_eq!(child.wait().unwrap().code, Some(0));
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(out, format!("from-an-extra-fd\n{}\n", cwd.display()));
}

#[test]
fn spawns_from_several_threads_at_once() {
    if !common::root_or_skip() {
        return;
    }
    let _one = enable();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..8 {
                    let mut o = sh(&format!("echo {t}-{i}"));
                    o.namespaces.create = vec![NamespaceKind::Pid, NamespaceKind::Uts];
                    o.filesystem.mount_proc = true;
                    let child = spawn(&o).unwrap();
                    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
                    let out = common::read_all(child.take_stdio()[1].take().unwrap());
                    assert_eq!(out, format!("{t}-{i}\n"));
                    assert_eq!(child.wait().unwrap().code, Some(0));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// The fds of `pid`, as (fd, target) pairs.
fn fds_of(pid: u32) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| {
            let fd = e.unwrap().file_name().to_string_lossy().into_owned();
            let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            (fd, target)
        })
        .collect();
    v.sort();
    v
}

/// This process's children (every thread's), the spawners apart.
fn children_but_spawners() -> Vec<i32> {
    let spawners = ctr_ns::spawner::pids();
    let mut kids = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = t.unwrap().path().join("children");
        for k in std::fs::read_to_string(p)
            .unwrap_or_default()
            .split_whitespace()
        {
            let k: i32 = k.parse().unwrap();
            if !spawners.contains(&k) {
                kids.push(k);
            }
        }
    }
    kids
}

#[test]
fn concurrent_spawns_run_in_parallel_and_a_failing_one_errors_alone() {
    if !common::root_or_skip() {
        return;
    }
    if ctr_ns::spawner::pool_size() < 2 {
        eprintln!("skipped: CTR_NS_SPAWNERS allows one spawner only");
        return;
    }
    let _one = enable();
    // One spawner up (and idle) before the baseline: its fds are in it.
    let warm = spawn(&sh("true")).unwrap();
    warm.wait_stage().unwrap();
    warm.wait().unwrap();
    drop(warm);
    let spawners_before = ctr_ns::spawner::pids().len();
    let own_fds = fds_of(std::process::id());
    let kids = children_but_spawners();

    // Request A blocks its spawner: a namespace to join that is a FIFO
    // (open for reading waits for a writer).
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("not-a-namespace");
    let cfifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(cfifo.as_ptr(), 0o600) }, 0);
    let fifo_path = fifo.to_str().unwrap().to_string();
    let a = std::thread::spawn(move || {
        let mut o = sh("true");
        o.namespaces.join = vec![(NamespaceKind::Net, fifo_path)];
        spawn(&o).map(|_| ()).unwrap_err()
    });
    // Wait until a spawner sits in that open.
    let in_open = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/syscall"))
            .map(|s| s.split_whitespace().next() == Some(&libc::SYS_openat.to_string()))
            .unwrap_or(false)
    };
    let mut blocked = None;
    // Up to 30 s: a slow (emulated) machine starts the spawner slowly.
    for _ in 0..6000 {
        blocked = ctr_ns::spawner::pids().into_iter().find(|p| in_open(*p));
        if blocked.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let blocked = blocked.expect("a spawner blocked in the FIFO's open");

    // Meanwhile, launches from several threads go on through the other
    // spawners, each with its own child, pidfd and exit status.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..3 {
                    let code = 10 * t + i + 1;
                    let mut o = sh(&format!("exit {code}"));
                    o.namespaces.create = vec![NamespaceKind::Net, NamespaceKind::Uts];
                    let child = spawn(&o).unwrap();
                    assert_eq!(child.wait_stage().unwrap(), Stage::Running);
                    assert_eq!(ppid_of(child.pid), std::process::id() as i32);
                    assert_eq!(child.wait().unwrap().code, Some(code));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // A held child is killed through its own pidfd.
    let mut o = sh("sleep 100");
    o.lifecycle.hold = true;
    let held = spawn(&o).unwrap();
    assert_eq!(held.wait_stage().unwrap(), Stage::Held);
    held.kill(libc::SIGKILL).unwrap();
    assert_eq!(held.wait().unwrap().signal, Some(libc::SIGKILL));
    drop(held);
    assert!(
        in_open(blocked),
        "request A still waits in spawner {blocked}"
    );
    assert!(ctr_ns::spawner::pids().len() >= 2);
    assert!(ctr_ns::spawner::pids().len() <= ctr_ns::spawner::pool_size());

    // Release A: its spawner refuses the FIFO, with its code and path.
    let w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let e = a.join().unwrap();
    drop(w);
    assert_eq!(e.code, "ENS_JOIN");
    assert_eq!(e.path.as_deref(), Some(fifo.to_str().unwrap()));
    assert!(e.message.contains("not a namespace file"), "{}", e.message);

    // Nothing left behind: no child of ours, no fd here, nothing of a
    // child in any spawner (each closes what it got right after its
    // answer, which may be a moment after the answer arrived).
    // A spawner also keeps its own network namespace and at most one made
    // ahead (spare_nets) once a child got a new one.
    let clean = |pid: i32| {
        let fds_ok = fds_of(pid as u32).iter().all(|(fd, t)| match fd.as_str() {
            "0" | "1" | "2" => t == "/dev/null",
            "3" => t.starts_with("socket:"),
            _ => t.starts_with("/memfd:ctr-exec") || t.starts_with("net:["),
        });
        fds_ok && spare_nets(pid).len() <= 1
    };
    let mut ok = false;
    for _ in 0..200 {
        ok = ctr_ns::spawner::pids().into_iter().all(clean);
        if ok {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(ok, "a spawner holds an fd of a child");
    assert_eq!(children_but_spawners(), kids);
    // Here: what there was, and the socket of each spawner started meanwhile.
    let started = ctr_ns::spawner::pids().len() - spawners_before;
    let now = fds_of(std::process::id());
    let new: Vec<&(String, String)> = now.iter().filter(|f| !own_fds.contains(f)).collect();
    assert_eq!(new.len(), started, "new fds here: {new:?}");
    assert!(
        new.iter().all(|(_, t)| t.starts_with("socket:")),
        "new fds here: {new:?}"
    );
}

/// The hex mask of a `Sig...:` line of a `/proc/PID/status` text.
fn sig_mask(status: &str, key: &str) -> u64 {
    let v = status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {status}"));
    u64::from_str_radix(v.trim(), 16).unwrap()
}

#[test]
fn a_child_starts_with_no_signal_ignored_caught_or_blocked() {
    let _one = enable();
    // The child resets only the spawner's own non-default actions (listed
    // once at its start): Rust's ignored SIGPIPE must not reach the program.
    let o = sh("exec cat /proc/self/status");
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let out = common::read_all(child.take_stdio()[1].take().unwrap());
    assert_eq!(child.wait().unwrap().code, Some(0));
    let spawner = ctr_ns::spawner::pid().expect("a spawner runs");
    let own = std::fs::read_to_string(format!("/proc/{spawner}/status")).unwrap();
    let pipe = 1u64 << (libc::SIGPIPE - 1);
    assert_ne!(
        sig_mask(&own, "SigIgn:") & pipe,
        0,
        "the spawner ignores SIGPIPE: {own}"
    );
    assert_eq!(sig_mask(&out, "SigIgn:"), 0, "{out}");
    assert_eq!(sig_mask(&out, "SigCgt:"), 0, "{out}");
    assert_eq!(sig_mask(&out, "SigBlk:"), 0, "{out}");
}

#[test]
fn ignored_stdio_is_dev_null_open_for_reading_and_writing() {
    let _one = enable();
    // The spawner hands its own /dev/null (fd 0) on: what a /dev/null
    // opened for the child would be, read-write, and not close-on-exec.
    let mut o = sh("readlink /proc/self/fd/0 /proc/self/fd/2; \
                    grep flags /proc/self/fdinfo/0 /proc/self/fdinfo/2; echo x >&2");
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Null];
    let child = spawn(&o).unwrap();
    child.wait_stage().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(
        &mut std::fs::File::from(child.take_stdio()[1].take().unwrap()),
        &mut out,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["/dev/null", "/dev/null"], "{out}");
    for l in &lines[2..4] {
        let flags = l.rsplit('\t').next().unwrap();
        let flags = u32::from_str_radix(flags.trim(), 8).unwrap();
        assert_eq!(flags & libc::O_ACCMODE as u32, libc::O_RDWR as u32, "{out}");
        assert_eq!(flags & libc::O_CLOEXEC as u32, 0, "{out}");
    }
}
