//! The full plan from Rust (the way ctr-runtime uses the crate): user
//! namespace with maps, busybox rootfs, capabilities, joins, errors.

mod common;
use common::*;

use ctr_ns::{
    spawn, CapNames, IdMap, IdMaps, MountSpec, NamespaceKind, RootfsSpec, SpawnOptions, Stage,
    Stdio,
};

fn sh(script: &str) -> SpawnOptions {
    let mut o = SpawnOptions::new("/bin/sh", vec!["sh".into(), "-c".into(), script.into()]);
    o.io.stdio = [Stdio::Null, Stdio::Pipe, Stdio::Pipe];
    o.process.env = vec!["PATH=/bin:/sbin".into()];
    o
}

fn output(o: &SpawnOptions) -> (String, Option<i32>) {
    let child = spawn(o).unwrap();
    if let Err(e) = child.wait_stage() {
        panic!("spawn failed: {e} ({:?})", e);
    }
    let [_, out, err] = child.take_stdio();
    let out = read_all(out.unwrap());
    let err = read_all(err.unwrap());
    let code = child.wait().unwrap().code;
    assert!(code == Some(0) || !err.is_empty(), "{err}");
    (out, code)
}

#[test]
fn user_namespace_rootfs_and_capabilities() {
    if !root_or_skip() {
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let mut o = sh("id -u; cat /proc/self/uid_map; echo $$; ls /dev/null; grep CapBnd /proc/self/status; ls /work 2>&1 | wc -l");
    o.namespaces.create = vec![
        NamespaceKind::User,
        NamespaceKind::Mnt,
        NamespaceKind::Pid,
        NamespaceKind::Net,
    ];
    o.namespaces.id_maps = Some(IdMaps {
        uid: vec![IdMap {
            inside: 0,
            outside: 100000,
            count: 65536,
        }],
        gid: vec![IdMap {
            inside: 0,
            outside: 100000,
            count: 65536,
        }],
        ..Default::default()
    });
    o.filesystem.mount_proc = true;
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs,
        dev: true,
        mounts: vec![MountSpec {
            destination: "/tmp".into(),
            fstype: Some("tmpfs".into()),
            ..Default::default()
        }],
        masked_paths: vec!["/proc/kcore".into()],
        ..Default::default()
    });
    o.security.capabilities = Some(CapNames {
        bounding: vec!["CAP_KILL".into()],
        ..Default::default()
    });
    let (out, code) = output(&o);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        vec![
            "0",
            "0 100000 65536",
            "1",
            "/dev/null",
            "CapBnd: 0000000000000020",
            "1"
        ]
    );
}

#[test]
fn join_by_path_sees_the_held_childs_hostname() {
    if !root_or_skip() {
        return;
    }
    let mut t = SpawnOptions::new("sleep", vec!["sleep".into(), "30".into()]);
    t.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
    t.namespaces.create = vec![NamespaceKind::Uts];
    t.namespaces.hostname = Some("rust-held".into());
    t.lifecycle.hold = true;
    let target = spawn(&t).unwrap();
    assert_eq!(target.wait_stage().unwrap(), Stage::Held);
    let mut o = sh("hostname");
    o.namespaces.join = vec![(NamespaceKind::Uts, format!("/proc/{}/ns/uts", target.pid))];
    let (out, _) = output(&o);
    assert_eq!(out, "rust-held\n");
    target.abort_gate();
    assert_eq!(target.wait().unwrap().code, Some(1));
}

#[test]
fn a_refused_mount_names_the_mount_and_leaves_nothing() {
    if !root_or_skip() {
        return;
    }
    let Some(rootfs) = busybox() else { return };
    let mut o = sh("true");
    o.filesystem.rootfs = Some(RootfsSpec {
        path: rootfs.clone(),
        mounts: vec![MountSpec {
            destination: "/tmp".into(),
            fstype: Some("ctr-bogus-fs".into()),
            ..Default::default()
        }],
        ..Default::default()
    });
    let child = spawn(&o).unwrap();
    let e = child.wait_stage().unwrap_err();
    assert_eq!(e.code, "ENS_MOUNT");
    assert_eq!(e.errno, Some(libc::ENODEV));
    assert!(e.message.contains("ctr-bogus-fs on /tmp"), "{}", e.message);
    assert!(e.path.unwrap().ends_with("/tmp"));
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let target = format!("{}/tmp ", std::fs::canonicalize(&rootfs).unwrap().display());
    assert!(!mounts.contains(&target), "{target} left mounted");
}
