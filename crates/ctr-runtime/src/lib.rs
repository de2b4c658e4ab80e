//! The OCI runtime of ctr.
#![deny(missing_docs)]

pub use ctr_common::{Error, Result};
use serde::Serialize;

/// The OCI runtime-spec version this runtime implements.
pub const OCI_VERSION: &str = "1.2.0";

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
        namespaces: ctr_ns::supported_namespaces().iter().map(|k| k.proc_name().to_string()).collect(),
        cgroup_mode: serde_json_mode(layout.mode),
    })
}

fn serde_json_mode(mode: ctr_cgroup::Mode) -> String {
    serde_json::to_value(mode).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_info_is_real() {
        let h = super::host_info().unwrap();
        assert!(h.namespaces.iter().any(|n| n == "pid"));
        assert!(["legacy", "hybrid", "unified"].contains(&h.cgroup_mode.as_str()));
    }
}
