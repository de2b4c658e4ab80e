//! Node-API binding of `ctr-runtime`. No logic here.
#![deny(clippy::all)]

use napi_derive::napi;

/// Host facts the runtime depends on.
#[napi(object)]
pub struct NativeHostInfo {
    /// OCI runtime-spec version implemented.
    pub oci_version: String,
    /// Supported namespace kinds.
    pub namespaces: Vec<String>,
    /// Cgroup layout mode.
    pub cgroup_mode: String,
}

/// Gather host facts.
#[napi]
pub fn host_info() -> napi::Result<NativeHostInfo> {
    let h = ctr_common::catch_panic(ctr_runtime::host_info)?;
    Ok(NativeHostInfo { oci_version: h.oci_version, namespaces: h.namespaces, cgroup_mode: h.cgroup_mode })
}
