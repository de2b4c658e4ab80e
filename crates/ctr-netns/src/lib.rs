//! Network namespaces for ctr.
//!
//! * [`ns`]: named network namespaces compatible with iproute2
//!   (`/run/netns/NAME`), anonymous ones held by an fd, and running code on
//!   a thread that joined a namespace.
//! * [`netlink`]: an rtnetlink client (links, addresses, routes) behind
//!   the [`netlink::Netlink`] trait, with a fake.
//! * [`nft`]: nftables through libnftables behind the [`nft::Nft`] trait.
//! * [`ipam`]: subnets and the persistent, cross-process address allocator.
//! * [`bridge`]: bridge networks with NAT, attachments and published ports.
#![deny(missing_docs)]

pub mod bridge;
pub mod code;
pub mod ipam;
pub mod lock;
pub mod netlink;
pub mod nft;
pub mod ns;

pub use code::Code;

pub use bridge::state_root;
pub use ctr_common::{Error, Result};
use serde::Serialize;

/// The network namespace the caller is in and the links it sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentNetns {
    /// Inode of `/proc/self/ns/net`, which identifies the namespace.
    pub inode: u64,
    /// Names of the network interfaces in it (from `/sys/class/net`).
    pub links: Vec<String>,
}

/// Describe the caller's network namespace.
pub fn current() -> Result<CurrentNetns> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/proc/self/ns/net").map_err(|e| {
        Error::io(Code::Detect, "stat", &e, "stat /proc/self/ns/net").with_path("/proc/self/ns/net")
    })?;
    let mut links: Vec<String> = std::fs::read_dir("/sys/class/net")
        .map_err(|e| {
            Error::io(Code::Detect, "opendir", &e, "list /sys/class/net")
                .with_path("/sys/class/net")
        })?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    links.sort();
    Ok(CurrentNetns {
        inode: meta.ino(),
        links,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sees_loopback() {
        let n = super::current().unwrap();
        assert!(n.links.iter().any(|l| l == "lo"));
        assert!(n.inode > 0);
    }
}
