//! IPv4 subnets and a persistent address allocator.
//!
//! Leases live in a JSON file under the network's state directory
//! (`/run/ctr/netns/<network>/leases.json`), read and rewritten atomically
//! under an exclusive `flock` on `<network>/lock`, so concurrent callers in
//! any number of processes never get the same address.

use crate::lock::FileLock;
use crate::Code;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// An IPv4 network such as `10.231.1.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// Network address (host bits zero).
    pub network: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
}

impl Subnet {
    /// Parse CIDR notation; the host bits must be zero and the prefix
    /// between 8 and 30 (room for a gateway and at least one address).
    pub fn parse(s: &str) -> Result<Subnet> {
        let bad = |why: &str| {
            Error::new(Code::InvalidSubnet, format!("invalid subnet {s:?}: {why}"))
                .with_field("subnet")
        };
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| bad("expected address/prefix"))?;
        let network: Ipv4Addr = a.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = p.parse().map_err(|_| bad("prefix is not a number"))?;
        if !(8..=30).contains(&prefix) {
            return Err(bad("prefix must be between 8 and 30"));
        }
        let sub = Subnet { network, prefix };
        if u32::from(network) & !sub.mask() != 0 {
            return Err(bad("host bits are set"));
        }
        Ok(sub)
    }

    /// The netmask as a number.
    pub fn mask(&self) -> u32 {
        u32::MAX << (32 - self.prefix)
    }

    /// Whether `ip` is in the subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network)
    }

    /// Whether two subnets share any address.
    pub fn overlaps(&self, o: &Subnet) -> bool {
        let m = self.mask() & o.mask();
        u32::from(self.network) & m == u32::from(o.network) & m
    }

    /// First usable host (the default gateway).
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    /// Broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !self.mask())
    }

    /// Whether `ip` can be given to a host (not the network or broadcast).
    pub fn is_host(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && ip != self.network && ip != self.broadcast()
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// One address handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Lease id (unique in the network).
    pub id: String,
    /// The address.
    pub ip: Ipv4Addr,
    /// Extra data the owner keeps with the lease (interfaces, ports).
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LeaseFile {
    leases: Vec<Lease>,
}

/// The allocator of one network.
#[derive(Debug, Clone)]
pub struct Allocator {
    dir: PathBuf,
    subnet: Subnet,
    reserved: Vec<Ipv4Addr>,
}

impl Allocator {
    /// An allocator keeping its files in `dir`, handing out hosts of
    /// `subnet` other than `reserved` (the gateway).
    pub fn new(dir: impl Into<PathBuf>, subnet: Subnet, reserved: Vec<Ipv4Addr>) -> Allocator {
        Allocator {
            dir: dir.into(),
            subnet,
            reserved,
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("leases.json")
    }

    /// Take the lock (blocking).
    pub fn lock(&self) -> Result<FileLock> {
        FileLock::exclusive(&self.dir.join("lock"))
    }

    fn load(&self) -> Result<LeaseFile> {
        match std::fs::read(self.file()) {
            Ok(b) if b.is_empty() => Ok(LeaseFile::default()),
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                Error::new(
                    Code::State,
                    format!("corrupt lease file {}: {e}", self.file().display()),
                )
                .with_path(self.file())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LeaseFile::default()),
            Err(e) => Err(Error::io(
                Code::State,
                "read",
                &e,
                format!("read {}", self.file().display()),
            )
            .with_path(self.file())),
        }
    }

    fn store(&self, f: &LeaseFile) -> Result<()> {
        let data = serde_json::to_vec_pretty(f)
            .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))?;
        ctr_common::fs::write_atomic(Code::State.as_str(), self.file(), &data)
    }

    /// Hand out the lowest free address under lease `id`, or a specific
    /// one. ENETNS_SUBNET_EXHAUSTED when none is left.
    pub fn allocate(
        &self,
        id: &str,
        want: Option<Ipv4Addr>,
        data: serde_json::Value,
    ) -> Result<Lease> {
        let _l = self.lock()?;
        let mut f = self.load()?;
        if f.leases.iter().any(|l| l.id == id) {
            return Err(Error::new(Code::Exists, format!("lease {id:?} exists")).with_field("id"));
        }
        let taken = |ip: Ipv4Addr, f: &LeaseFile| {
            self.reserved.contains(&ip) || f.leases.iter().any(|l| l.ip == ip)
        };
        let ip = match want {
            Some(ip) => {
                if !self.subnet.is_host(ip) || self.reserved.contains(&ip) {
                    return Err(Error::new(
                        Code::InvalidAddress,
                        format!("{ip} is not a free host address of {}", self.subnet),
                    )
                    .with_field("address"));
                }
                if taken(ip, &f) {
                    return Err(
                        Error::new(Code::AddressInUse, format!("{ip} is already leased"))
                            .with_field("address"),
                    );
                }
                ip
            }
            None => {
                let first = u32::from(self.subnet.network) + 1;
                let last = u32::from(self.subnet.broadcast()) - 1;
                (first..=last)
                    .map(Ipv4Addr::from)
                    .find(|ip| !taken(*ip, &f))
                    .ok_or_else(|| {
                        Error::new(
                            Code::SubnetExhausted,
                            format!("no free address left in {}", self.subnet),
                        )
                        .with_field("subnet")
                    })?
            }
        };
        let lease = Lease {
            id: id.to_string(),
            ip,
            data,
        };
        f.leases.push(lease.clone());
        self.store(&f)?;
        Ok(lease)
    }

    /// Replace the data kept with a lease.
    pub fn update(&self, id: &str, data: serde_json::Value) -> Result<()> {
        let _l = self.lock()?;
        let mut f = self.load()?;
        let l = f
            .leases
            .iter_mut()
            .find(|l| l.id == id)
            .ok_or_else(|| not_found(id))?;
        l.data = data;
        self.store(&f)
    }

    /// Release a lease; returns it.
    pub fn release(&self, id: &str) -> Result<Lease> {
        let _l = self.lock()?;
        let mut f = self.load()?;
        let i = f
            .leases
            .iter()
            .position(|l| l.id == id)
            .ok_or_else(|| not_found(id))?;
        let l = f.leases.remove(i);
        self.store(&f)?;
        Ok(l)
    }

    /// Every lease.
    pub fn leases(&self) -> Result<Vec<Lease>> {
        let _l = self.lock()?;
        Ok(self.load()?.leases)
    }

    /// The lease `id`.
    pub fn get(&self, id: &str) -> Result<Lease> {
        self.leases()?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn not_found(id: &str) -> Error {
    Error::new(Code::LeaseNotFound, format!("no lease {id:?}")).with_field("id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let s = Subnet::parse("10.231.1.0/24").unwrap();
        assert_eq!(s.first_host(), Ipv4Addr::new(10, 231, 1, 1));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 231, 1, 255));
        assert!(s.contains("10.231.1.77".parse().unwrap()));
        assert!(!s.contains("10.231.2.1".parse().unwrap()));
        assert!(s.overlaps(&Subnet::parse("10.231.0.0/16").unwrap()));
        assert!(!s.overlaps(&Subnet::parse("10.231.2.0/24").unwrap()));
        for bad in [
            "10.231.1.0",
            "10.231.1.1/24",
            "10.231.1.0/33",
            "10.0.0.0/31",
            "x/24",
            "10.231.1.0/x",
            "::1/64",
        ] {
            assert_eq!(
                Subnet::parse(bad).unwrap_err().code,
                Code::InvalidSubnet.as_str(),
                "{bad}"
            );
        }
    }

    #[test]
    fn allocates_lowest_free_and_exhausts() {
        let dir = tempfile::tempdir().unwrap();
        let s = Subnet::parse("10.231.9.0/29").unwrap(); // hosts .1-.6, .1 is the gateway
        let a = Allocator::new(dir.path(), s, vec![s.first_host()]);
        let ips: Vec<_> = (0..5)
            .map(|i| {
                a.allocate(&format!("l{i}"), None, serde_json::Value::Null)
                    .unwrap()
                    .ip
            })
            .collect();
        assert_eq!(
            ips,
            (2..=6)
                .map(|h| Ipv4Addr::new(10, 231, 9, h))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            a.allocate("l9", None, serde_json::Value::Null)
                .unwrap_err()
                .code,
            Code::SubnetExhausted.as_str()
        );
        assert_eq!(a.release("l2").unwrap().ip, Ipv4Addr::new(10, 231, 9, 4));
        assert_eq!(
            a.allocate("l9", None, serde_json::Value::Null).unwrap().ip,
            Ipv4Addr::new(10, 231, 9, 4)
        );
        assert_eq!(
            a.allocate("l9", None, serde_json::Value::Null)
                .unwrap_err()
                .code,
            Code::Exists.as_str()
        );
        assert_eq!(
            a.release("nope").unwrap_err().code,
            Code::LeaseNotFound.as_str()
        );
        // A second allocator on the same files sees the same leases.
        let b = Allocator::new(dir.path(), s, vec![s.first_host()]);
        assert_eq!(b.leases().unwrap().len(), 5);
    }

    #[test]
    fn concurrent_threads_get_distinct_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let s = Subnet::parse("10.231.8.0/24").unwrap();
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let a = Allocator::new(dir.path(), s, vec![s.first_host()]);
                std::thread::spawn(move || {
                    (0..10)
                        .map(|i| {
                            a.allocate(&format!("t{t}-{i}"), None, serde_json::Value::Null)
                                .unwrap()
                                .ip
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 80);
    }
}
