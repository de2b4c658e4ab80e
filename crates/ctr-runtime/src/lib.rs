//! The OCI runtime of ctr: bundle -> plan ([`plan`]), the container init
//! ([`init`]), the state store ([`state`]) and the lifecycle of runtime.md
//! ([`lifecycle`]). The `ctrun` binary (src/bin/ctrun.rs) is a thin
//! command line over this crate.
#![deny(missing_docs)]

pub mod code;
pub mod events;
pub mod exec;
pub mod hooks;
pub mod lifecycle;
pub mod mempolicy;
pub mod netdev;
pub mod notify;
pub mod plan;
pub mod process;
pub mod rootless;
pub mod state;
pub mod update;
pub mod util;

pub use code::Code;

pub use ctr_common::{Error, Result};
use serde::Serialize;

/// The OCI runtime-spec version this runtime implements.
pub const OCI_VERSION: &str = ctr_oci::OCI_VERSION;

/// What the runtime can use on this host.
#[derive(Debug, Clone, Serialize)]
pub struct HostInfo {
    /// OCI runtime-spec version implemented.
    pub oci_version: String,
    /// Namespace kinds the kernel supports (`/proc/self/ns` names).
    pub namespaces: Vec<String>,
    /// The cgroup layout mode (`legacy`, `hybrid`, `unified`).
    pub cgroup_mode: String,
}

/// Gather the host facts the runtime depends on.
pub fn host_info() -> Result<HostInfo> {
    let layout = ctr_cgroup::detect()?;
    Ok(HostInfo {
        oci_version: OCI_VERSION.to_string(),
        namespaces: ctr_ns::supported_namespaces()
            .iter()
            .map(|k| k.proc_name().to_string())
            .collect(),
        cgroup_mode: serde_json_mode(layout.mode),
    })
}

fn serde_json_mode(mode: ctr_cgroup::Mode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Prefix of the annotations of `features` (features.md: arbitrary
/// metadata of the runtime).
pub const FEATURE_ANNOTATION_PREFIX: &str = "org.ctr.ctrun.";

/// What this host lets the runtime apply beyond the features.md fields,
/// as `features` annotations (all values are strings):
/// - `cgroup.netCls` / `cgroup.netPrio`: `linux.resources.network.classID`
///   / `.priorities` can be applied now (a v1 hierarchy has the
///   controller; cgroup v2 has neither). Where `false`, a config using
///   them fails with `ECGROUP_UNSUPPORTED` naming the field.
/// - `mountNamespace`: `optional` (without one the init only chroots into
///   the rootfs and no mount of the config is made).
/// - `selinux.mountLabel`: `ignored` (SELinux is not enabled) or
///   `unsupported`; `selinux.processLabel`: `unsupported`.
/// - `delete`: `stopped-or-force` (runtime.md: a container that is not
///   stopped is deleted only with `--force`).
pub fn host_annotations() -> Vec<(String, String)> {
    let hierarchies = ctr_cgroup::detect()
        .map(|l| l.hierarchies)
        .unwrap_or_default();
    let v1_has = |c: &str| {
        hierarchies
            .iter()
            .any(|h| h.version == 1 && h.controllers.iter().any(|x| x == c))
    };
    let selinux = plan::selinux_enabled();
    [
        ("cgroup.netCls", v1_has("net_cls").to_string()),
        ("cgroup.netPrio", v1_has("net_prio").to_string()),
        ("mountNamespace", "optional".to_string()),
        (
            "selinux.mountLabel",
            if selinux { "unsupported" } else { "ignored" }.to_string(),
        ),
        ("selinux.processLabel", "unsupported".to_string()),
        ("delete", "stopped-or-force".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{FEATURE_ANNOTATION_PREFIX}{k}"), v))
    .collect()
}

/// The features.md document of this runtime: only what it applies today.
pub fn features() -> serde_json::Value {
    let oci_name = |k: ctr_ns::NamespaceKind| match k {
        ctr_ns::NamespaceKind::Mnt => "mount",
        ctr_ns::NamespaceKind::Net => "network",
        other => other.proc_name(),
    };
    let support = ctr_oci::features::Support {
        hooks: [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ]
        .map(String::from)
        .to_vec(),
        mount_options: plan::mount_options(),
        namespaces: ctr_ns::supported_namespaces()
            .into_iter()
            .map(|k| oci_name(k).to_string())
            .collect(),
        capabilities: ctr_oci::validate::CAPABILITIES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cgroup_v1: true,
        cgroup_v2: true,
        cgroup_systemd: true,
        // Notify: the listener fd goes to `linux.seccomp.listenerPath`.
        seccomp: Some((
            [
                "SCMP_ACT_ALLOW",
                "SCMP_ACT_ERRNO",
                "SCMP_ACT_KILL",
                "SCMP_ACT_KILL_THREAD",
                "SCMP_ACT_KILL_PROCESS",
                "SCMP_ACT_TRAP",
                "SCMP_ACT_TRACE",
                "SCMP_ACT_LOG",
                "SCMP_ACT_NOTIFY",
            ]
            .map(String::from)
            .to_vec(),
            [
                "SCMP_CMP_NE",
                "SCMP_CMP_LT",
                "SCMP_CMP_LE",
                "SCMP_CMP_EQ",
                "SCMP_CMP_GE",
                "SCMP_CMP_GT",
                "SCMP_CMP_MASKED_EQ",
            ]
            .map(String::from)
            .to_vec(),
            ctr_seccomp::profile::ARCHES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )),
        seccomp_flags: ctr_seccomp::profile::FLAGS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
        rdma: true,
        annotations: host_annotations(),
        memory_policy: Some((
            mempolicy::MODES.map(|(n, _)| n.to_string()).to_vec(),
            mempolicy::FLAGS.map(|(n, _)| n.to_string()).to_vec(),
        )),
        net_devices: true,
        // open_tree + mount_setattr(MOUNT_ATTR_IDMAP): whether the host's
        // kernel and file systems allow it shows only when used.
        idmap_mounts: true,
    };
    ctr_oci::features::features(&support)
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_info_is_real() {
        let h = super::host_info().unwrap();
        assert!(h.namespaces.iter().any(|n| n == "pid"));
        assert!(["legacy", "hybrid", "unified"].contains(&h.cgroup_mode.as_str()));
    }

    #[test]
    fn features_name_oci_namespaces() {
        let f = super::features();
        let ns: Vec<String> = serde_json::from_value(f["linux"]["namespaces"].clone()).unwrap();
        assert!(ns.contains(&"mount".to_string()) && ns.contains(&"network".to_string()));
        assert!(
            ns.contains(&"user".to_string()),
            "user namespaces with id maps are applied"
        );
        assert_eq!(f["linux"]["seccomp"]["enabled"], true);
        let actions: Vec<String> =
            serde_json::from_value(f["linux"]["seccomp"]["actions"].clone()).unwrap();
        assert!(
            actions.contains(&"SCMP_ACT_ERRNO".to_string())
                && actions.contains(&"SCMP_ACT_NOTIFY".to_string())
        );
        assert_eq!(f["linux"]["netDevices"]["enabled"], true);
        let modes: Vec<String> =
            serde_json::from_value(f["linux"]["memoryPolicy"]["modes"].clone()).unwrap();
        assert_eq!(modes.len(), 7);
        assert!(modes.contains(&"MPOL_WEIGHTED_INTERLEAVE".to_string()));
        let flags: Vec<String> =
            serde_json::from_value(f["linux"]["memoryPolicy"]["flags"].clone()).unwrap();
        assert_eq!(
            flags,
            [
                "MPOL_F_NUMA_BALANCING",
                "MPOL_F_RELATIVE_NODES",
                "MPOL_F_STATIC_NODES"
            ]
        );
        let known: Vec<String> =
            serde_json::from_value(f["linux"]["seccomp"]["knownFlags"].clone()).unwrap();
        assert!(known.contains(&"SECCOMP_FILTER_FLAG_LOG".to_string()));
        assert_eq!(f["linux"]["cgroup"]["rdma"], true);
    }

    #[test]
    fn features_annotations_tell_what_this_host_applies() {
        let f = super::features();
        let a = &f["annotations"];
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
        assert_eq!(
            a["org.ctr.ctrun.cgroup.netCls"],
            mounted("net_cls").to_string()
        );
        assert_eq!(
            a["org.ctr.ctrun.cgroup.netPrio"],
            mounted("net_prio").to_string()
        );
        assert_eq!(a["org.ctr.ctrun.mountNamespace"], "optional");
        assert_eq!(a["org.ctr.ctrun.delete"], "stopped-or-force");
        let want = if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
            "unsupported"
        } else {
            "ignored"
        };
        assert_eq!(a["org.ctr.ctrun.selinux.mountLabel"], want);
        assert!(
            a.as_object().unwrap().values().all(|v| v.is_string()),
            "features.md: string values"
        );
    }
}
