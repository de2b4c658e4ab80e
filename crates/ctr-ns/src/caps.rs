//! Capability names and sets.

use ctr_common::Error;

use crate::Code;
/// Capability names in bit order (`CAP_CHOWN` is 0).
pub use ctr_common::caps::CAPABILITIES as CAP_NAMES;

/// The bit of a capability name (`CAP_SYS_ADMIN`, `sys_admin`, `SYS_ADMIN`).
pub fn cap_from_name(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    CAP_NAMES.iter().position(|n| *n == full).map(|i| i as u32)
}

/// A set of capability names as a bit mask; `field` names the option.
pub fn mask_of(names: &[String], field: &str) -> Result<u64, Error> {
    let mut mask = 0u64;
    for n in names {
        let bit = cap_from_name(n).ok_or_else(|| {
            Error::new(
                Code::UnknownCapability,
                format!("unknown capability {n:?} in {field}"),
            )
            .with_field(field.to_string())
        })?;
        mask |= 1 << bit;
    }
    Ok(mask)
}

/// The highest capability the running kernel knows: a constant of the
/// kernel, read once per process (four system calls a spawn otherwise).
pub fn last_cap() -> u32 {
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        ctr_common::fs::read_small("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

/// The five capability sets, as masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Bounding set.
    pub bounding: u64,
    /// Effective set.
    pub effective: u64,
    /// Permitted set.
    pub permitted: u64,
    /// Inheritable set.
    pub inheritable: u64,
    /// Ambient set.
    pub ambient: u64,
}

/// Capability sets given by name.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CapNames {
    /// Bounding set.
    pub bounding: Vec<String>,
    /// Effective set.
    pub effective: Vec<String>,
    /// Permitted set.
    pub permitted: Vec<String>,
    /// Inheritable set.
    pub inheritable: Vec<String>,
    /// Ambient set.
    pub ambient: Vec<String>,
}

impl CapNames {
    /// Resolve every name to a mask.
    pub fn to_sets(&self) -> Result<CapSets, Error> {
        Ok(CapSets {
            bounding: mask_of(&self.bounding, "capabilities.bounding")?,
            effective: mask_of(&self.effective, "capabilities.effective")?,
            permitted: mask_of(&self.permitted, "capabilities.permitted")?,
            inheritable: mask_of(&self.inheritable, "capabilities.inheritable")?,
            ambient: mask_of(&self.ambient, "capabilities.ambient")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_every_spelling() {
        assert_eq!(cap_from_name("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(cap_from_name("sys_admin"), Some(21));
        assert_eq!(cap_from_name("NET_RAW"), Some(13));
        assert_eq!(cap_from_name("CAP_NOPE"), None);
        let e = mask_of(&["CAP_NOPE".into()], "capabilities.bounding").unwrap_err();
        assert_eq!(e.code, Code::UnknownCapability.as_str());
        assert_eq!(e.path.as_deref(), Some("capabilities.bounding"));
        assert_eq!(
            mask_of(&["chown".into(), "kill".into()], "x").unwrap(),
            0b100001
        );
    }
}
