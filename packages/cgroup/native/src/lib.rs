//! Node-API binding of `ctr-cgroup`. No logic here.
#![deny(clippy::all)]

use napi_derive::napi;

/// One mounted cgroup hierarchy.
#[napi(object)]
pub struct NativeHierarchy {
    /// 1 or 2.
    pub version: u32,
    /// Mount point.
    pub mount_point: String,
    /// Controllers in it.
    pub controllers: Vec<String>,
    /// The caller's own cgroup path in it.
    pub own_path: String,
}

/// The host's cgroup layout.
#[napi(object)]
pub struct NativeLayout {
    /// "legacy", "hybrid" or "unified".
    pub mode: String,
    /// Mounted hierarchies.
    pub hierarchies: Vec<NativeHierarchy>,
}

/// Detect the host's cgroup layout.
#[napi]
pub fn detect() -> napi::Result<NativeLayout> {
    let l = ctr_common::catch_panic(ctr_cgroup::detect)?;
    Ok(NativeLayout {
        mode: match l.mode {
            ctr_cgroup::Mode::Legacy => "legacy",
            ctr_cgroup::Mode::Hybrid => "hybrid",
            ctr_cgroup::Mode::Unified => "unified",
        }
        .to_string(),
        hierarchies: l
            .hierarchies
            .into_iter()
            .map(|h| NativeHierarchy {
                version: h.version as u32,
                mount_point: h.mount_point,
                controllers: h.controllers,
                own_path: h.own_path,
            })
            .collect(),
    })
}
