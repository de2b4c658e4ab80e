//! Runtime-spec behaviours the runtime-tools validation suite checks (and
//! runc or crun get right), on the real kernel: root propagation, configs
//! without a mount namespace, SELinux labels on a host without SELinux,
//! impossible ambient capabilities, `linux.resources.network`.

mod common;
use common::*;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `/` line of the container's own mountinfo.
fn root_mountinfo(env: &Env, propagation: &str, caps: bool) -> String {
    let mut patch = serde_json::json!({ "linux": { "rootfsPropagation": propagation } });
    if caps {
        let all = serde_json::json!(["CAP_SYS_ADMIN"]);
        patch["process"] = serde_json::json!({ "capabilities": { "bounding": all, "effective": all, "permitted": all } });
    }
    let tag = format!("ctrtest-prop-{}-{propagation}", std::process::id());
    // With CAP_SYS_ADMIN: a mount the container makes must stay in it.
    let script = format!(
        "awk '$5 == \"/\"' /proc/self/mountinfo; {}",
        if caps {
            format!("mount -t tmpfs {tag} /tmp")
        } else {
            String::new()
        }
    );
    let b = env.bundle(&["sh", "-c", &script], patch);
    let id = env.id();
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{propagation}: {}", stderr(&o));
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !host.contains(&tag),
        "{propagation}: a mount of the container reached the host"
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn root_propagation_is_what_the_config_asks() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-conf");
    let shared = root_mountinfo(&env, "shared", true);
    assert!(shared.contains(" shared:"), "shared root: {shared}");
    let rshared = root_mountinfo(&env, "rshared", true);
    assert!(rshared.contains(" shared:"), "rshared root: {rshared}");
    // Unbindable used to fail create at "bind the rootfs onto itself".
    let unbindable = root_mountinfo(&env, "unbindable", false);
    assert!(
        unbindable.contains(" unbindable"),
        "unbindable root: {unbindable}"
    );
    let private = root_mountinfo(&env, "private", true);
    assert!(
        !private.contains(" shared:")
            && !private.contains(" master:")
            && !private.contains("unbindable"),
        "private root: {private}"
    );
    // slave shows a master only when the host's / is shared (systemd's default).
    let host_root_shared = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some("/") && l.contains(" shared:"));
    let slave = root_mountinfo(&env, "slave", false);
    assert!(!slave.contains(" shared:"), "slave root: {slave}");
    if host_root_shared {
        assert!(slave.contains(" master:"), "slave root: {slave}");
    }
    env.assert_clean();
}

#[test]
fn without_a_mount_namespace_the_container_is_chrooted_and_mounts_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-conf");
    // The base config's /proc and /dev mounts, masks and propagation are
    // not made (they would be the host's); the rootfs is the root.
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }], "maskedPaths": ["/proc/kcore"] } }),
    );
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let rs = rootfs().to_string_lossy().into_owned();
    let under_rootfs = |mi: &str| {
        mi.lines()
            .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(&rs)))
            .count()
    };
    let (id, pid) = env.run_detached(&b);
    let ns = |p: &str| std::fs::read_link(format!("{p}/ns/mnt")).unwrap();
    assert_eq!(
        ns(&format!("/proc/{pid}")),
        ns("/proc/self"),
        "the host's mount namespace is shared"
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/root")).unwrap(),
        rootfs(),
        "the init is chrooted into the rootfs"
    );
    let during = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(
        under_rootfs(&during),
        under_rootfs(&before),
        "no mount was made under the rootfs"
    );
    // exec lands in the same root, not the host's.
    let o = env.ctrun(&[
        "exec",
        &id,
        "sh",
        "-c",
        "test -x /bin/busybox && test ! -e /work",
    ]);
    assert!(
        o.status.success(),
        "exec: {}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    env.ok(&["delete", "--force", &id]);
    env.assert_clean();
}

#[test]
fn a_mount_label_is_ignored_and_a_process_label_refused_without_selinux() {
    if !ready() {
        return;
    }
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        eprintln!("skipped: SELinux is enabled on this host");
        return;
    }
    let env = Env::new("ctrtest-conf");
    let b = env.bundle(&["true"], serde_json::json!({ "linux": { "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811" } }));
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = env.bundle(&["true"], serde_json::json!({ "process": { "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c715,c811" } }));
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("[ERUNTIME_UNSUPPORTED]")
            && stderr(&o).contains("process.selinuxLabel"),
        "{}",
        stderr(&o)
    );
    env.assert_clean();
}

#[test]
fn ambient_capabilities_outside_inheritable_are_dropped_not_fatal() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-conf");
    // The capability block of Debian's `runc spec`.
    let caps = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let b = env.bundle(
        &["sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status"],
        serde_json::json!({ "process": { "capabilities": { "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps, "inheritable": ["CAP_NET_BIND_SERVICE"] } } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // CAP_NET_BIND_SERVICE is bit 10: the one ambient capability kept.
    assert!(out.contains("CapAmb:\t0000000000000400"), "{out}");
    assert!(out.contains("CapPrm:\t0000000020000420"), "{out}");
    env.assert_clean();
}

/// The hierarchy id of a v1 controller in /proc/cgroups (0: not mounted),
/// None when the kernel lacks it or has it disabled.
fn v1_hierarchy(ctrl: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/proc/cgroups").ok()?;
    let f: Vec<&str> = text
        .lines()
        .find(|l| l.split('\t').next() == Some(ctrl))?
        .split('\t')
        .collect();
    (f.get(3) == Some(&"1"))
        .then(|| f[1].parse().ok())
        .flatten()
}

#[test]
fn network_resources_are_applied_or_refused_by_field() {
    if !ready() {
        return;
    }
    let (Some(cls), Some(prio)) = (v1_hierarchy("net_cls"), v1_hierarchy("net_prio")) else {
        eprintln!("skipped: the kernel has no net_cls/net_prio controllers");
        return;
    };
    let env = Env::new("ctrtest-conf");
    let net = serde_json::json!({ "linux": { "resources": { "network": { "classID": 1048577, "priorities": [{ "name": "lo", "priority": 2 }] } } } });
    let script = "cat /proc/self/cgroup >/dev/null";
    let b = env.bundle(&["sh", "-c", script], net.clone());
    let mounted = |c: &str| {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| {
                l.contains(" - cgroup ")
                    && l.rsplit(' ')
                        .next()
                        .is_some_and(|o| o.split(',').any(|x| x == c))
            })
    };
    if !mounted("net_cls") || !mounted("net_prio") {
        // As this host boots: a clear error naming the field, nothing left.
        let id = env.id();
        let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(
            err.contains("[ECGROUP_UNSUPPORTED]") && err.contains("linux.resources.network."),
            "{err}"
        );
        assert!(!env.root().join(&id).exists());
    } else {
        // The host has both: applied there, read from the host's hierarchies.
        let mount_of = |c: &str| {
            std::fs::read_to_string("/proc/self/mountinfo")
                .unwrap()
                .lines()
                .find_map(|l| {
                    let on = l.contains(" - cgroup ")
                        && l.rsplit(' ')
                            .next()
                            .is_some_and(|o| o.split(',').any(|x| x == c));
                    on.then(|| std::path::PathBuf::from(l.split(' ').nth(4).unwrap()))
                })
        };
        let id = env.id();
        let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
        assert!(o.status.success(), "{}", stderr(&o));
        let read = |c: &str, f: &str| {
            std::fs::read_to_string(mount_of(c).unwrap().join(&id).join(f)).unwrap_or_default()
        };
        assert_eq!(read("net_cls", "net_cls.classid").trim(), "1048577");
        assert!(read("net_prio", "net_prio.ifpriomap")
            .lines()
            .any(|l| l == "lo 2"));
        env.ok(&["delete", "--force", &id]);
    }
    // And applied where the hierarchy exists: mounted here in a private mount
    // namespace only (never a host-wide change), the container run, its
    // files read and deleted in that namespace, the hierarchy unmounted.
    let dir = env.dir.path().join("net_cls,net_prio");
    std::fs::create_dir_all(&dir).unwrap();
    let id = env.id();
    let ctrun = env!("CARGO_BIN_EXE_ctrun");
    let root = env.root();
    let cg = dir.join(&id);
    let sh = format!(
        "mount -t cgroup -o net_cls,net_prio ctrtest-net {d} || exit 77; set -e
         cleanup() {{ {ctrun} --root {r} delete --force {id} >/dev/null 2>&1; {wait}; umount {d}; }}
         trap cleanup EXIT
         {ctrun} --root {r} create -b {b} {id} </dev/null >/dev/null
         cat {cg}/net_cls.classid; grep '^lo ' {cg}/net_prio.ifpriomap
         {ctrun} --root {r} delete --force {id}; test ! -e {cg}",
        d = dir.display(),
        r = root.display(),
        b = b.display(),
        cg = cg.display(),
        // The kernel frees a hierarchy at unmount only if it has no child
        // cgroup then, dying ones included (else it stays, unmounted, for
        // good): wait until the container's is really gone.
        wait = "for i in $(seq 100); do [ \"$(awk '$1 == \"net_cls\" { print $3 }' /proc/cgroups)\" = 1 ] && break; sleep 0.05; done",
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &sh])
        .env("CTRUN_SECCOMP_CACHE", env.seccomp_cache())
        .output()
        .unwrap();
    if o.status.code() == Some(77) {
        // (a kernel booted with cgroup_no_v1, say)
        eprintln!(
            "skipped: no net_cls,net_prio v1 hierarchy can be mounted here: {}",
            stderr(&o).trim()
        );
        env.assert_clean();
        return;
    }
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1048577\nlo 2\n");
    // The mount went with its namespace, and the hierarchy with it (unless
    // the host mounted one meanwhile).
    if cls == 0 && prio == 0 {
        let gone = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            v1_hierarchy("net_cls") == Some(0) || mounted("net_cls")
        });
        assert!(gone, "the net_cls hierarchy outlived the test");
    }
    env.assert_clean();
}
