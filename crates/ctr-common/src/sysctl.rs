//! Which namespace makes a sysctl the container's own. A process writes
//! `/proc/sys/...` of the namespaces it is in; a key that no namespace
//! covers is the host's, so writing it from a container changes the whole
//! machine. runc's rule (validate/validator.go), shared by the OCI
//! validation and @ctr/ns's spawn so both refuse the same keys.

/// The System V IPC keys scoped by an ipc namespace (`fs.mqueue.*` too).
const IPC_KEYS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace (OCI name: `ipc`, `network`, `uts`) a sysctl key
/// (dotted, or with slashes as under /proc/sys) belongs to; `None` when
/// the key is not namespaced (a host-wide setting).
pub fn namespace_of(key: &str) -> Option<&'static str> {
    let key = key.replace('/', ".");
    if IPC_KEYS.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key.starts_with("net.") {
        Some("network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_namespace() {
        assert_eq!(namespace_of("kernel.msgmax"), Some("ipc"));
        assert_eq!(namespace_of("fs.mqueue.queues_max"), Some("ipc"));
        assert_eq!(namespace_of("net/ipv4/ip_forward"), Some("network"));
        assert_eq!(namespace_of("kernel.hostname"), Some("uts"));
        assert_eq!(namespace_of("vm.swappiness"), None);
        assert_eq!(namespace_of("kernel.pid_max"), None);
        assert_eq!(namespace_of("kernel.msgmaxx"), None);
    }
}
