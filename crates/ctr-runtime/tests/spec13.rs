//! The runtime-spec 1.3 Linux features: `linux.netDevices` (veth ends made
//! by the test, named `ctrtd<pid><n>`, moved in and back), `linux.memoryPolicy`
//! (read back from `/proc/self/numa_maps` in the container and in an exec'd
//! process), and `memory.checkBeforeUpdate` in `ctrun update`. Each test
//! checks the kernel effect and that nothing of its own is left.
mod common;
use common::*;
use ctr_netns::netlink::{Address, LinkKind, LinkSpec, Netlink, RtNetlink};
use std::sync::atomic::Ordering;

/// A veth pair on the host, `<name>` with an address and its peer
/// `<name>p`; deleted on drop (whichever end is still on the host).
struct Veth {
    name: String,
    peer: String,
    addr: Address,
}

impl Veth {
    fn new(octet: u8) -> Veth {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let name = format!("ctrtd{}{n}", std::process::id());
        let peer = format!("{name}p");
        assert!(peer.len() <= 15, "{peer}");
        let mut nl = RtNetlink::new().unwrap();
        nl.create_link(&LinkSpec {
            name: name.clone(),
            kind: LinkKind::Veth {
                peer: peer.clone(),
                peer_netns_fd: None,
            },
            mtu: None,
            mac: None,
        })
        .unwrap();
        let l = nl.require_link(&name).unwrap();
        let addr = Address {
            index: l.index,
            address: format!("10.213.{}.{octet}", std::process::id() % 250)
                .parse()
                .unwrap(),
            prefix: 24,
        };
        nl.add_address(&addr).unwrap();
        nl.set_link(
            l.index,
            &ctr_netns::netlink::LinkChange {
                up: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        Veth { name, peer, addr }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let mut nl = RtNetlink::new().unwrap();
        for n in [&self.name, &self.peer] {
            if let Ok(Some(l)) = nl.link_by_name(n) {
                let _ = nl.delete_link(l.index);
            }
        }
    }
}

fn host_link(name: &str) -> Option<ctr_netns::netlink::Link> {
    RtNetlink::new().unwrap().link_by_name(name).unwrap()
}

fn host_addrs(name: &str) -> Vec<String> {
    let mut nl = RtNetlink::new().unwrap();
    let Some(l) = nl.link_by_name(name).unwrap() else {
        return vec![];
    };
    nl.addresses(Some(l.index))
        .unwrap()
        .into_iter()
        .map(|a| format!("{}/{}", a.address, a.prefix))
        .collect()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn net_device_moves_in_renamed_with_its_address_and_back_on_delete() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let v = Veth::new(1);
    let want = format!("{}/24", v.addr.address);
    assert_eq!(host_addrs(&v.name), vec![want.clone()]);
    let id = env.id();
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "netDevices": { v.name.clone(): { "name": "ctrin0" } } } }),
    );
    let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Gone from the host while the container lives.
    assert!(
        host_link(&v.name).is_none(),
        "the device is still on the host"
    );
    assert!(host_link("ctrin0").is_none());
    assert!(env.ctrun(&["start", &id]).status.success());
    // Seen from inside: renamed, up, with its address.
    let out = env.ok(&["exec", &id, "ip", "-4", "addr", "show", "dev", "ctrin0"]);
    assert!(out.contains(&want), "address inside: {out}");
    assert!(out.contains("UP"), "up inside: {out}");
    let links = env.ok(&["exec", &id, "ip", "link"]);
    assert!(
        links.contains("ctrin0") && !links.contains(&v.name),
        "the host name is not used inside: {links}"
    );
    // Delete moves it back: original name, down, its address restored.
    let o = env.ctrun(&["delete", "--force", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = host_link(&v.name).expect("the device is back on the host");
    assert!(!back.up, "moved back down, as the spec asks");
    assert_eq!(host_addrs(&v.name), vec![want]);
    assert!(host_link(&v.peer).is_some());
    env.assert_clean();
    // And once more: create and delete are repeatable.
    let id = env.id();
    let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(host_link(&v.name).is_none());
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    assert!(
        host_link(&v.name).is_some(),
        "back after deleting a created container"
    );
    env.assert_clean();
}

#[test]
fn a_virtual_device_goes_with_a_container_that_stopped() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let v = Veth::new(2);
    let id = env.id();
    let b = env.bundle(
        &["ip", "-4", "addr", "show", "dev", "eth9"],
        serde_json::json!({ "linux": { "netDevices": { v.name.clone(): { "name": "eth9" } } } }),
    );
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&v.addr.address.to_string()), "{out}");
    // The namespace died with the container: the kernel destroyed the veth
    // end in it, and with it the peer (config-linux.md: virtual devices are
    // destroyed with their namespace).
    assert!(host_link(&v.name).is_none() && host_link("eth9").is_none());
    // The kernel tears the namespace down asynchronously.
    let gone = (0..500).any(|_| {
        host_link(&v.peer).is_none() || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            false
        }
    });
    assert!(gone, "the peer went with it");
    env.assert_clean();
}

#[test]
fn a_joined_network_namespace_gives_the_device_back_after_the_container_stopped() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let v = Veth::new(5);
    let ns_name = format!("ctrtest-spec13-{}", std::process::id());
    let _ = ctr_netns::ns::delete_named(&ns_name);
    ctr_netns::ns::create_named(&ns_name).unwrap();
    struct Named(String);
    impl Drop for Named {
        fn drop(&mut self) {
            let _ = ctr_netns::ns::delete_named(&self.0);
        }
    }
    let _named = Named(ns_name.clone());
    let path = format!("{}/{ns_name}", ctr_netns::ns::NETNS_RUN_DIR);
    let id = env.id();
    let b = env.bundle(
        &["ip", "-4", "addr", "show", "dev", "joined0"],
        serde_json::json!({ "linux": {
            "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "network", "path": path }],
            "netDevices": { v.name.clone(): { "name": "joined0" } }
        } }),
    );
    // run: create, start, wait for the exit, delete. The namespace outlives
    // the container (it is pinned at /run/netns), so delete finds the
    // device there and moves it back.
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&v.addr.address.to_string()),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let back = host_link(&v.name).expect("back on the host");
    assert!(!back.up);
    assert_eq!(host_addrs(&v.name), vec![format!("{}/24", v.addr.address)]);
    let ns = ctr_netns::ns::open_named(&ns_name).unwrap();
    let left = ctr_netns::ns::in_netns(&ns, || RtNetlink::new()?.links()).unwrap();
    assert!(
        left.iter().all(|l| l.name == "lo"),
        "the joined namespace keeps nothing of ours: {left:?}"
    );
    env.assert_clean();
}

#[test]
fn bad_net_devices_give_codes_and_leave_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let a = Veth::new(3);
    let b = Veth::new(4);
    let missing = format!("ctrtdno{}", std::process::id());
    let cases = [
        (
            serde_json::json!({ missing.clone(): {} }),
            "ERUNTIME_NET_DEVICE",
            format!("linux.netDevices.{missing}"),
        ),
        (
            serde_json::json!({ a.name.clone(): { "name": "has space" } }),
            "EOCI_INVALID",
            format!("linux.netDevices.{}.name", a.name),
        ),
        (
            serde_json::json!({ a.name.clone(): { "name": "a/b" } }),
            "EOCI_INVALID",
            format!("linux.netDevices.{}.name", a.name),
        ),
        (
            serde_json::json!({ a.name.clone(): { "name": "sixteen-chars-xx" } }),
            "EOCI_INVALID",
            format!("linux.netDevices.{}.name", a.name),
        ),
        // Moves half way: the first device is in when the second clashes
        // with the container's `lo` (EEXIST); the first must come back.
        (
            serde_json::json!({ a.name.clone(): { "name": "in0" }, b.name.clone(): { "name": "lo" } }),
            "ERUNTIME_NET_DEVICE",
            format!("linux.netDevices.{}", b.name),
        ),
    ];
    for (devices, code, field) in cases {
        let id = env.id();
        let bundle = env.bundle(
            &["sleep", "100"],
            serde_json::json!({ "linux": { "netDevices": devices } }),
        );
        let o = env.ctrun(&["create", "-b", bundle.to_str().unwrap(), &id]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(code) && err.contains(&field),
            "want {code} on {field}: {err}"
        );
        assert!(!env.root().join(&id).exists(), "state dir left");
        for v in [&a, &b] {
            let l = host_link(&v.name)
                .unwrap_or_else(|| panic!("{} not back on the host: {err}", v.name));
            assert!(l.up, "{} is up again, as it was: {err}", v.name);
            assert_eq!(
                host_addrs(&v.name),
                vec![format!("{}/24", v.addr.address)],
                "{} keeps its address",
                v.name
            );
        }
    }
    // The missing device: its errno (ENODEV) in the message.
    let id = env.id();
    let bundle = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "netDevices": { missing.clone(): {} } } }),
    );
    let o = env.ctrun(&["create", "-b", bundle.to_str().unwrap(), &id]);
    assert!(stderr(&o).contains("no such device"), "{}", stderr(&o));
    // No network namespace of its own: refused.
    let id = env.id();
    let bundle = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "namespaces": [{ "type": "pid" }, { "type": "mount" }], "netDevices": { a.name.clone(): {} } } }),
    );
    let o = env.ctrun(&["create", "-b", bundle.to_str().unwrap(), &id]);
    assert!(
        stderr(&o).contains("EOCI_INVALID") && stderr(&o).contains("linux.netDevices"),
        "{}",
        stderr(&o)
    );
    assert!(host_link(&a.name).is_some());
    env.assert_clean();
}

#[test]
fn memory_policy_is_the_container_processes_policy() {
    if !ready() {
        return;
    }
    if !std::path::Path::new("/proc/self/numa_maps").exists() {
        eprintln!("skipped: no NUMA support in this kernel (/proc/self/numa_maps)");
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let cases = [
        (
            serde_json::json!({ "mode": "MPOL_BIND", "nodes": "0" }),
            " bind:0 ",
        ),
        (
            serde_json::json!({ "mode": "MPOL_INTERLEAVE", "nodes": "0" }),
            " interleave:0 ",
        ),
        (
            serde_json::json!({ "mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"] }),
            " bind=static:0 ",
        ),
        (
            serde_json::json!({ "mode": "MPOL_PREFERRED", "nodes": "0" }),
            " prefer:0 ",
        ),
        (serde_json::json!({ "mode": "MPOL_LOCAL" }), " local "),
    ];
    for (policy, want) in cases {
        let b = env.bundle(
            &["cat", "/proc/self/numa_maps"],
            serde_json::json!({ "linux": { "memoryPolicy": policy } }),
        );
        let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
        assert!(o.status.success(), "{policy}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.lines().next().is_some_and(|l| l.contains(want)),
            "{policy}: want {want:?} in {out}"
        );
    }
    // Without one the policy is the default.
    let b = env.bundle(&["cat", "/proc/self/numa_maps"], serde_json::json!({}));
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    assert!(String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .is_some_and(|l| l.contains(" default ")));
    // exec'd processes get the container's policy too.
    let id = env.id();
    let b = env.bundle(&["sleep", "100"], serde_json::json!({ "linux": { "memoryPolicy": { "mode": "MPOL_INTERLEAVE", "nodes": "0" } } }));
    assert!(env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success());
    assert!(env.ctrun(&["start", &id]).status.success());
    let out = env.ok(&["exec", &id, "cat", "/proc/self/numa_maps"]);
    assert!(
        out.lines()
            .next()
            .is_some_and(|l| l.contains(" interleave:0 ")),
        "{out}"
    );
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    env.assert_clean();
}

#[test]
fn bad_memory_policies_give_codes_and_leave_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let cases = [
        (
            serde_json::json!({ "mode": "MPOL_NOPE" }),
            "EOCI_INVALID",
            "linux.memoryPolicy.mode",
        ),
        (
            serde_json::json!({ "mode": "MPOL_BIND" }),
            "EOCI_INVALID",
            "linux.memoryPolicy.nodes",
        ),
        (
            serde_json::json!({ "mode": "MPOL_DEFAULT", "nodes": "0" }),
            "EOCI_INVALID",
            "linux.memoryPolicy.nodes",
        ),
        (
            serde_json::json!({ "mode": "MPOL_BIND", "nodes": "0-x" }),
            "EOCI_INVALID",
            "linux.memoryPolicy.nodes",
        ),
        (
            serde_json::json!({ "mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_NOPE"] }),
            "EOCI_INVALID",
            "linux.memoryPolicy.flags[0]",
        ),
        // Valid in form, refused by the kernel in the init: this host has no node 7.
        (
            serde_json::json!({ "mode": "MPOL_BIND", "nodes": "7" }),
            "ERUNTIME_MEMORY_POLICY",
            "linux.memoryPolicy: set the memory policy: invalid argument",
        ),
    ];
    for (policy, code, what) in cases {
        let id = env.id();
        let b = env.bundle(
            &["sleep", "100"],
            serde_json::json!({ "linux": { "memoryPolicy": policy } }),
        );
        let o = env.ctrun(&["create", "-b", b.to_str().unwrap(), &id]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{policy}: {err}");
        assert!(
            err.contains(code) && err.contains(what),
            "{policy}: want {code} {what}: {err}"
        );
        assert!(!env.root().join(&id).exists());
    }
    env.assert_clean();
}

fn memory_limit_file(id: &str) -> std::path::PathBuf {
    cgroup_dirs(id)
        .into_iter()
        .flat_map(|d| [d.join("memory.limit_in_bytes"), d.join("memory.max")])
        .find(|f| f.exists())
        .expect("the container's memory limit file")
}

#[test]
fn check_before_update_refuses_a_limit_below_usage() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-spec13");
    let id = env.id();
    let b = env.bundle(
        &["sleep", "100"],
        serde_json::json!({ "linux": { "resources": { "memory": { "limit": 67108864 } } } }),
    );
    assert!(env
        .ctrun(&["create", "-b", b.to_str().unwrap(), &id])
        .status
        .success());
    assert!(env.ctrun(&["start", &id]).status.success());
    let file = memory_limit_file(&id);
    let usage_file = file.with_file_name(if file.ends_with("memory.max") {
        "memory.current"
    } else {
        "memory.usage_in_bytes"
    });
    let usage: u64 = std::fs::read_to_string(&usage_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(usage > 4096, "the container uses some memory: {usage}");
    // Below the usage: refused, the limit unchanged.
    let o = env.ctrun_in(
        &["update", "--resources", "-", &id],
        Some(r#"{"memory":{"limit":4096,"checkBeforeUpdate":true}}"#),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ERUNTIME_MEMORY_BELOW_USAGE") && err.contains("lower than current usage"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), "67108864");
    assert!(
        env.state(&id)["status"] == "running",
        "the container lives on"
    );
    // Above the usage: written.
    let o = env.ctrun_in(
        &["update", "--resources", "-", &id],
        Some(r#"{"memory":{"limit":33554432,"checkBeforeUpdate":true}}"#),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), "33554432");
    assert!(env.ctrun(&["delete", "--force", &id]).status.success());
    env.assert_clean();
}
