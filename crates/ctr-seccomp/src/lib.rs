//! Seccomp for ctr: what the kernel supports, profiles and their BPF.
#![deny(missing_docs)]

pub use ctr_common::{Error, Result};
use ctr_common::fs::read_string;
use serde::Serialize;

/// What this kernel offers for seccomp filtering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelSupport {
    /// `Seccomp:` mode support from `/proc/self/status` (the field exists
    /// when the kernel has CONFIG_SECCOMP).
    pub available: bool,
    /// Filter return actions the kernel accepts, from
    /// `/proc/sys/kernel/seccomp/actions_avail` (e.g. `kill_process`,
    /// `user_notif`).
    pub actions: Vec<String>,
}

/// Read what seccomp support the running kernel has.
pub fn kernel_support() -> Result<KernelSupport> {
    let status = read_string("ESECCOMP_DETECT", "/proc/self/status")?;
    let available = status.lines().any(|l| l.starts_with("Seccomp:"));
    let actions = match std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail") {
        Ok(s) => s.split_whitespace().map(String::from).collect(),
        Err(_) => Vec::new(),
    };
    Ok(KernelSupport { available, actions })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_actions() {
        let s = super::kernel_support().unwrap();
        assert!(s.available);
        assert!(s.actions.iter().any(|a| a == "allow"));
    }
}
