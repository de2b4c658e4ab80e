//! `SpawnOptions.resources.memory_policy`: the child's `set_mempolicy(2)` before
//! exec, read back from the program's `/proc/self/numa_maps` (no root
//! needed; this host has node 0).

mod common;
use ctr_ns::{MemoryPolicy, SpawnOptions};

fn numa_maps_first_line(policy: Option<MemoryPolicy>) -> ctr_ns::Result<String> {
    let mut o = SpawnOptions::new("cat", vec!["cat".into(), "/proc/self/numa_maps".into()]);
    o.resources.memory_policy = policy;
    Ok(common::run_captured(&mut o)?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string())
}

#[test]
fn the_program_runs_under_the_policy() {
    if !std::path::Path::new("/proc/self/numa_maps").exists() {
        eprintln!("skipped: no NUMA support in this kernel");
        return;
    }
    let line = numa_maps_first_line(Some(MemoryPolicy {
        mode: 2,
        flags: 0,
        nodes: vec![0],
    }))
    .unwrap();
    assert!(line.contains(" bind:0 "), "{line}");
    let line = numa_maps_first_line(Some(MemoryPolicy {
        mode: 3,
        flags: 1 << 14,
        nodes: vec![0],
    }))
    .unwrap();
    assert!(line.contains(" interleave=relative:0 "), "{line}");
    let line = numa_maps_first_line(None).unwrap();
    assert!(line.contains(" default "), "{line}");
}

#[test]
fn a_refused_policy_is_a_coded_error_naming_the_step() {
    if !std::path::Path::new("/proc/self/numa_maps").exists() {
        eprintln!("skipped: no NUMA support in this kernel");
        return;
    }
    // Node 1000 is not online here: the kernel says EINVAL in the child.
    let e = numa_maps_first_line(Some(MemoryPolicy {
        mode: 2,
        flags: 0,
        nodes: vec![1000],
    }))
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.errno, e.syscall.as_deref()),
        (
            "ENS_MEMORY_POLICY",
            Some(libc::EINVAL),
            Some("set_mempolicy")
        ),
        "{e:?}"
    );
    assert_eq!(e.path.as_deref(), Some("memoryPolicy"));
    // Out of any kernel's range: refused in the parent, nothing spawned.
    let e = numa_maps_first_line(Some(MemoryPolicy {
        mode: 2,
        flags: 0,
        nodes: vec![5000],
    }))
    .unwrap_err();
    assert_eq!(e.code, "ENS_INVALID_OPTION");
}

#[test]
fn the_nodemask_is_made_in_the_parent() {
    let p = MemoryPolicy {
        mode: 2,
        flags: 1 << 15,
        nodes: vec![0, 3, 64, 130],
    };
    let (mode, mask) = p.syscall_args().unwrap();
    assert_eq!(mode, 2 | 1 << 15);
    assert_eq!(mask, vec![0b1001, 1, 1 << 2]);
    assert_eq!(
        MemoryPolicy {
            mode: 4,
            ..Default::default()
        }
        .syscall_args()
        .unwrap(),
        (4, vec![])
    );
}
