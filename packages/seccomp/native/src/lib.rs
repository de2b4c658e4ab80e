//! Node-API binding of `ctr-seccomp`. No logic here.
#![deny(clippy::all)]

use napi_derive::napi;

/// Seccomp support of the running kernel.
#[napi(object)]
pub struct NativeKernelSupport {
    /// Whether the kernel has seccomp.
    pub available: bool,
    /// Actions from /proc/sys/kernel/seccomp/actions_avail.
    pub actions: Vec<String>,
}

/// What seccomp support this kernel has.
#[napi]
pub fn kernel_support() -> napi::Result<NativeKernelSupport> {
    let s = ctr_common::catch_panic(ctr_seccomp::kernel_support)?;
    Ok(NativeKernelSupport { available: s.available, actions: s.actions })
}
