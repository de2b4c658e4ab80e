//! `spec` generation: the default config `runc spec` writes, and its
//! rootless variant (`runc spec --rootless`).

use crate::types::*;
use serde_json::json;

/// The default config: `sh` in a busybox-like rootfs at `rootfs`, with the
/// namespaces, mounts, capabilities, masked and read-only paths of `runc spec`.
pub fn default_spec() -> Spec {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let v = json!({
        "ociVersion": crate::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": { "bounding": caps, "effective": caps, "permitted": caps },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "runc",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ],
        "linux": {
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
            "namespaces": [
                { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
            ],
            "maskedPaths": ctr_common::paths::DEFAULT_MASKED_PATHS,
            "readonlyPaths": ctr_common::paths::DEFAULT_READONLY_PATHS
        }
    });
    serde_json::from_value(v).expect("the default spec is well-formed")
}

/// The rootless variant: a user namespace mapping the caller's euid/egid
/// to root, `/sys` bind-mounted, no uid=/gid= mount options, and no cgroup
/// resources (as `runc spec --rootless`). Unlike runc it keeps the new
/// network namespace: owned by the new user namespace it needs no
/// privilege, and the runtime brings its `lo` up (loopback-only
/// networking; runc's spec shares the host's network instead).
pub fn rootless_spec(uid: u32, gid: u32) -> Spec {
    let mut s = default_spec();
    let linux = s.linux.get_or_insert_with(Default::default);
    let mut ns: Vec<Namespace> = linux
        .namespaces
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.typ != "user")
        .collect();
    ns.push(Namespace {
        typ: "user".into(),
        path: None,
    });
    linux.namespaces = Some(ns);
    linux.uid_mappings = Some(vec![IdMapping {
        container_id: 0,
        host_id: uid,
        size: 1,
    }]);
    linux.gid_mappings = Some(vec![IdMapping {
        container_id: 0,
        host_id: gid,
        size: 1,
    }]);
    linux.resources = None;
    let mounts = s.mounts.take().unwrap_or_default();
    s.mounts = Some(
        mounts
            .into_iter()
            .map(|mut m| {
                if m.destination.trim_end_matches('/') == "/sys" {
                    return Mount {
                        destination: "/sys".into(),
                        source: Some("/sys".into()),
                        typ: Some("none".into()),
                        options: Some(
                            ["rbind", "nosuid", "noexec", "nodev", "ro"]
                                .map(String::from)
                                .to_vec(),
                        ),
                        ..Default::default()
                    };
                }
                if let Some(o) = &mut m.options {
                    o.retain(|x| !x.starts_with("uid=") && !x.starts_with("gid="));
                }
                m
            })
            .collect(),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{validate, Purpose};

    #[test]
    fn default_masks_the_one_list() {
        // ctrun spec masked 10 paths, @ctr/runtime's generated config 8 and
        // @ctr/ns's DEFAULT_MASKED_PATHS 11: the longest list won (masking
        // more is the safe default; powercap is masked by runc 1.2 and moby).
        let l = default_spec().linux.unwrap();
        let masked = l.masked_paths.unwrap();
        assert_eq!(
            masked,
            ctr_common::paths::DEFAULT_MASKED_PATHS.map(String::from)
        );
        assert!(masked.iter().any(|p| p == "/sys/devices/virtual/powercap"));
        assert_eq!(
            l.readonly_paths.unwrap(),
            ctr_common::paths::DEFAULT_READONLY_PATHS.map(String::from)
        );
    }

    #[test]
    fn default_and_rootless_validate() {
        validate(&default_spec(), Purpose::Create).unwrap();
        let r = rootless_spec(1000, 1000);
        validate(&r, Purpose::Create).unwrap();
        let l = r.linux.unwrap();
        assert!(l
            .namespaces
            .as_ref()
            .unwrap()
            .iter()
            .any(|n| n.typ == "user"));
        // Kept (unlike runc): loopback-only networking needs no privilege.
        assert!(l
            .namespaces
            .as_ref()
            .unwrap()
            .iter()
            .any(|n| n.typ == "network"));
        assert_eq!(l.uid_mappings.unwrap()[0].host_id, 1000);
        assert!(l.resources.is_none());
        let devpts = r
            .mounts
            .unwrap()
            .into_iter()
            .find(|m| m.destination == "/dev/pts")
            .unwrap();
        assert!(!devpts
            .options
            .unwrap()
            .iter()
            .any(|o| o.starts_with("gid=")));
    }
}
