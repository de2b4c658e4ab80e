//! The `features` document of features.md: what a runtime supports.
//! The caller states what it supports; this module gives it the spec's shape.

use serde_json::{json, Value};

/// What a runtime implementation supports, to report in `features`.
#[derive(Debug, Clone, Default)]
pub struct Support {
    /// Hook kinds run (`prestart`, `createRuntime`, ...).
    pub hooks: Vec<String>,
    /// Mount options understood.
    pub mount_options: Vec<String>,
    /// Namespace types (OCI names).
    pub namespaces: Vec<String>,
    /// Capability names.
    pub capabilities: Vec<String>,
    /// cgroup v1 / v2 / systemd support.
    pub cgroup_v1: bool,
    /// cgroup v2.
    pub cgroup_v2: bool,
    /// The systemd cgroup driver (`--systemd-cgroup`, system instance).
    pub cgroup_systemd: bool,
    /// seccomp enabled, with its actions, operators and architectures.
    pub seccomp: Option<(Vec<String>, Vec<String>, Vec<String>)>,
    /// `linux.seccomp.flags` understood (`knownFlags`) and applied
    /// (`supportedFlags`, the same list: every known flag is passed on).
    pub seccomp_flags: Vec<String>,
    /// `linux.resources.rdma` applied.
    pub rdma: bool,
    /// Annotations the runtime sets or understands.
    pub annotations: Vec<(String, String)>,
    /// `linux.memoryPolicy`: the modes and mode flags applied (None: not supported).
    pub memory_policy: Option<(Vec<String>, Vec<String>)>,
    /// `linux.netDevices` applied.
    pub net_devices: bool,
    /// Id-mapped mounts (`mounts[].uidMappings`, `idmap`/`ridmap`):
    /// `linux.mountExtensions.idmap.enabled`.
    pub idmap_mounts: bool,
}

/// The features.md document for `s`.
pub fn features(s: &Support) -> Value {
    let seccomp = match &s.seccomp {
        Some((actions, operators, archs)) => {
            json!({ "enabled": true, "actions": actions, "operators": operators, "archs": archs,
                "knownFlags": s.seccomp_flags, "supportedFlags": s.seccomp_flags })
        }
        None => json!({ "enabled": false }),
    };
    let annotations: serde_json::Map<String, Value> = s
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let memory_policy = match &s.memory_policy {
        Some((modes, flags)) => json!({ "modes": modes, "flags": flags }),
        None => json!({ "modes": [], "flags": [] }),
    };
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::OCI_VERSION,
        "hooks": s.hooks,
        "mountOptions": s.mount_options,
        "linux": {
            "namespaces": s.namespaces,
            "capabilities": s.capabilities,
            "cgroup": { "v1": s.cgroup_v1, "v2": s.cgroup_v2, "systemd": s.cgroup_systemd, "systemdUser": false, "rdma": s.rdma },
            "seccomp": seccomp,
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": s.idmap_mounts } },
            "netDevices": { "enabled": s.net_devices },
            "memoryPolicy": memory_policy
        },
        "annotations": annotations
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_required_fields() {
        let f = super::features(&Default::default());
        assert_eq!(f["ociVersionMin"], "1.0.0");
        assert_eq!(f["ociVersionMax"], crate::OCI_VERSION);
        assert_eq!(f["linux"]["seccomp"]["enabled"], false);
        assert_eq!(f["linux"]["mountExtensions"]["idmap"]["enabled"], false);
        let f = super::features(&super::Support {
            idmap_mounts: true,
            ..Default::default()
        });
        assert_eq!(f["linux"]["mountExtensions"]["idmap"]["enabled"], true);
        let seccomp = Some((vec!["SCMP_ACT_ALLOW".to_string()], vec![], vec![]));
        let f = super::features(&super::Support {
            seccomp,
            seccomp_flags: vec!["SECCOMP_FILTER_FLAG_LOG".into()],
            rdma: true,
            ..Default::default()
        });
        assert_eq!(
            f["linux"]["seccomp"]["knownFlags"][0],
            "SECCOMP_FILTER_FLAG_LOG"
        );
        assert_eq!(
            f["linux"]["seccomp"]["supportedFlags"][0],
            "SECCOMP_FILTER_FLAG_LOG"
        );
        assert_eq!(f["linux"]["cgroup"]["rdma"], true);
    }
}
