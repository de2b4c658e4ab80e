//! The eight namespace kinds and what the running kernel supports.

use crate::Code;
use ctr_common::Error;
use serde::Serialize;

/// A kind of Linux namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceKind {
    /// Mount points (`CLONE_NEWNS`).
    Mnt,
    /// Process ids (`CLONE_NEWPID`).
    Pid,
    /// Network stack (`CLONE_NEWNET`).
    Net,
    /// Host and domain name (`CLONE_NEWUTS`).
    Uts,
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    Ipc,
    /// User and group ids, capabilities (`CLONE_NEWUSER`).
    User,
    /// Cgroup root (`CLONE_NEWCGROUP`).
    Cgroup,
    /// Monotonic and boot-time clocks (`CLONE_NEWTIME`).
    Time,
}

/// `CLONE_NEWTIME`, missing from older libc crates.
pub const CLONE_NEWTIME: u64 = 0x80;

impl NamespaceKind {
    /// Every kind, in the order runc creates them (user first).
    pub const ALL: [NamespaceKind; 8] = [
        NamespaceKind::User,
        NamespaceKind::Mnt,
        NamespaceKind::Pid,
        NamespaceKind::Net,
        NamespaceKind::Uts,
        NamespaceKind::Ipc,
        NamespaceKind::Cgroup,
        NamespaceKind::Time,
    ];

    /// The `clone(2)` flag that creates this kind.
    pub fn clone_flag(self) -> u64 {
        (match self {
            NamespaceKind::Mnt => libc::CLONE_NEWNS,
            NamespaceKind::Pid => libc::CLONE_NEWPID,
            NamespaceKind::Net => libc::CLONE_NEWNET,
            NamespaceKind::Uts => libc::CLONE_NEWUTS,
            NamespaceKind::Ipc => libc::CLONE_NEWIPC,
            NamespaceKind::User => libc::CLONE_NEWUSER,
            NamespaceKind::Cgroup => libc::CLONE_NEWCGROUP,
            NamespaceKind::Time => CLONE_NEWTIME as i32,
        }) as u32 as u64
    }

    /// The file name under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            NamespaceKind::Mnt => "mnt",
            NamespaceKind::Pid => "pid",
            NamespaceKind::Net => "net",
            NamespaceKind::Uts => "uts",
            NamespaceKind::Ipc => "ipc",
            NamespaceKind::User => "user",
            NamespaceKind::Cgroup => "cgroup",
            NamespaceKind::Time => "time",
        }
    }

    /// The kind named `name`: the `/proc/PID/ns` name, or the OCI name
    /// (`mount`, `network`).
    pub fn parse(name: &str) -> Result<NamespaceKind, Error> {
        Ok(match name {
            "mnt" | "mount" => NamespaceKind::Mnt,
            "pid" => NamespaceKind::Pid,
            "net" | "network" => NamespaceKind::Net,
            "uts" => NamespaceKind::Uts,
            "ipc" => NamespaceKind::Ipc,
            "user" => NamespaceKind::User,
            "cgroup" => NamespaceKind::Cgroup,
            "time" => NamespaceKind::Time,
            other => {
                return Err(Error::new(
                    Code::UnknownNamespace,
                    format!(
                        "unknown namespace type {other:?} (expected one of mnt, pid, net, uts, ipc, user, cgroup, time)"
                    ),
                )
                .with_field("namespaces"))
            }
        })
    }
}

/// The namespace kinds this kernel supports, read from `/proc/self/ns`
/// once per process (a kernel's set does not change while it runs; read
/// per container it was 5 lookups of 8 `/proc` links for each create).
pub fn supported_namespaces() -> Vec<NamespaceKind> {
    static KINDS: std::sync::OnceLock<Vec<NamespaceKind>> = std::sync::OnceLock::new();
    KINDS
        .get_or_init(|| {
            NamespaceKind::ALL
                .into_iter()
                .filter(|k| {
                    std::path::Path::new("/proc/self/ns")
                        .join(k.proc_name())
                        .exists()
                })
                .collect()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_and_oci_names() {
        assert_eq!(NamespaceKind::parse("network").unwrap(), NamespaceKind::Net);
        assert_eq!(NamespaceKind::parse("mnt").unwrap(), NamespaceKind::Mnt);
        let err = NamespaceKind::parse("bogus").unwrap_err();
        assert_eq!(err.code, Code::UnknownNamespace.as_str());
    }

    #[test]
    fn supported_matches_proc() {
        let found = supported_namespaces();
        for k in NamespaceKind::ALL {
            let exists = std::path::Path::new("/proc/self/ns")
                .join(k.proc_name())
                .exists();
            assert_eq!(found.contains(&k), exists, "{k:?}");
        }
        assert!(found.contains(&NamespaceKind::Pid));
    }

    #[test]
    fn clone_flags_are_distinct() {
        let mut all = 0u64;
        for k in NamespaceKind::ALL {
            assert_eq!(all & k.clone_flag(), 0);
            all |= k.clone_flag();
        }
    }
}
