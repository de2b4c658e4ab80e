//! Bridge networks: a Linux bridge with the gateway address, NAT for
//! traffic leaving the subnet and published ports (nftables table
//! `ctr-<name>`), and attachments of namespaces through veth pairs with
//! addresses from a persistent allocator.
//!
//! State of a network lives in `<state root>/<name>/` (`network.json`,
//! `leases.json`, `lock`), so any process can open a network another one
//! made and attach to it.

use crate::ipam::{Allocator, Lease, Subnet};
use crate::netlink::{validate_ifname, Address, LinkChange, LinkKind, LinkSpec, Netlink, Route};
use crate::nft::{connect_commands, port_element, table_name, table_ruleset, Nft, PortMap};
use crate::ns::Netns;
use crate::Code;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// What a network is made of (also its `network.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Network name (also the nft table `ctr-<name>`).
    pub name: String,
    /// Bridge interface name.
    pub bridge: String,
    /// Subnet in CIDR notation.
    pub subnet: String,
    /// Gateway address (on the bridge).
    pub gateway: Ipv4Addr,
}

/// Options of [`create`].
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Network name: 1-15 of `[A-Za-z0-9_.-]`.
    pub name: String,
    /// IPv4 subnet, e.g. `10.231.1.0/24`.
    pub subnet: String,
    /// Gateway (default: the first host of the subnet).
    pub gateway: Option<String>,
    /// Bridge name (default: the network name).
    pub bridge: Option<String>,
}

/// Options of [`attach`].
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// Lease id to use instead of a random one: a caller that records the
    /// id durably *before* attaching (a container's state record) can
    /// always find and [`detach`] what the attach made, whatever instant
    /// it was killed at. 1-11 of `0-9 a-f` (the host veth is `vctr<id>`).
    pub id: Option<String>,
    /// Name of the interface inside the namespace (default `eth0`).
    pub ifname: Option<String>,
    /// A specific address instead of the next free one.
    pub address: Option<String>,
    /// Published ports.
    pub ports: Vec<PortMap>,
}

/// An attachment, as kept with its lease and returned to callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Lease id.
    pub id: String,
    /// Network name.
    pub network: String,
    /// Address of the namespace.
    pub address: Ipv4Addr,
    /// Prefix length of the subnet.
    pub prefix: u8,
    /// Gateway (default route).
    pub gateway: Ipv4Addr,
    /// Interface name inside the namespace.
    pub ifname: String,
    /// Host end of the veth pair (on the bridge).
    pub host_ifname: String,
    /// Inode of the namespace attached.
    pub netns_inode: u64,
    /// Published ports.
    pub ports: Vec<PortMap>,
}

/// Root of the state directories: `$CTR_NETNS_STATE_DIR` or
/// `/run/ctr/netns`.
pub fn state_root() -> PathBuf {
    std::env::var_os("CTR_NETNS_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/ctr/netns"))
}

fn validate_network_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidName,
            format!("invalid network name {name:?} (1-15 of a-z A-Z 0-9 - _ .)"),
        )
        .with_field("name"))
    }
}

fn net_dir(root: &Path, name: &str) -> PathBuf {
    root.join(name)
}

/// Read a network's config.
pub fn load(root: &Path, name: &str) -> Result<NetworkConfig> {
    validate_network_name(name)?;
    let p = net_dir(root, name).join("network.json");
    let data = std::fs::read(&p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::new(
                Code::NetworkNotFound,
                format!("network {name:?} does not exist"),
            )
            .with_path(&p)
        } else {
            Error::io(Code::State, "read", &e, format!("read {}", p.display())).with_path(&p)
        }
    })?;
    serde_json::from_slice(&data)
        .map_err(|e| Error::new(Code::State, format!("corrupt {}: {e}", p.display())).with_path(&p))
}

/// Every network in `root`.
pub fn list(root: &Path) -> Result<Vec<NetworkConfig>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(Error::io(
                Code::State,
                "opendir",
                &e,
                format!("list {}", root.display()),
            )
            .with_path(root))
        }
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().join("network.json").exists() {
            if let Ok(c) = load(root, &name) {
                out.push(c);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn allocator(root: &Path, c: &NetworkConfig) -> Result<Allocator> {
    let subnet = Subnet::parse(&c.subnet)?;
    Ok(Allocator::new(
        net_dir(root, &c.name),
        subnet,
        vec![c.gateway],
    ))
}

fn write_sysctl(key: &str, value: &str) -> Result<()> {
    ctr_common::fs::write_value(Code::Sysctl.as_str(), crate::ns::sysctl_path(key), value)
}

/// Create a network: bridge with the gateway address, up; forwarding and
/// route_localnet on the bridge; the nft table. Undone on failure.
pub fn create(
    root: &Path,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
    opts: &CreateOptions,
) -> Result<NetworkConfig> {
    create_with(root, nl, nft, opts, &mut |k, v| write_sysctl(k, v))
}

/// [`create`] with the sysctl writer given (tests pass a recorder).
pub fn create_with(
    root: &Path,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
    opts: &CreateOptions,
    sysctl: &mut dyn FnMut(&str, &str) -> Result<()>,
) -> Result<NetworkConfig> {
    validate_network_name(&opts.name)?;
    let bridge = opts.bridge.clone().unwrap_or_else(|| opts.name.clone());
    validate_ifname(&bridge).map_err(|e| e.with_field("bridge"))?;
    let subnet = Subnet::parse(&opts.subnet)?;
    let gateway = match &opts.gateway {
        Some(g) => {
            let ip: Ipv4Addr = g.parse().map_err(|_| {
                Error::new(Code::InvalidAddress, format!("invalid gateway {g:?}"))
                    .with_field("gateway")
            })?;
            if !subnet.is_host(ip) {
                return Err(Error::new(
                    Code::InvalidAddress,
                    format!("gateway {ip} is not a host of {subnet}"),
                )
                .with_field("gateway"));
            }
            ip
        }
        None => subnet.first_host(),
    };
    let _global = crate::lock::FileLock::exclusive(&root.join(".networks.lock"))?;
    let dir = net_dir(root, &opts.name);
    if dir.join("network.json").exists() {
        return Err(
            Error::new(Code::Exists, format!("network {:?} exists", opts.name)).with_field("name"),
        );
    }
    for other in list(root)? {
        if Subnet::parse(&other.subnet)
            .map(|s| s.overlaps(&subnet))
            .unwrap_or(false)
        {
            return Err(Error::new(
                Code::SubnetOverlap,
                format!(
                    "subnet {subnet} overlaps {} of network {:?}",
                    other.subnet, other.name
                ),
            )
            .with_field("subnet"));
        }
    }
    for a in nl.addresses(None)? {
        if let IpAddr::V4(v4) = a.address {
            if a.prefix == 0 {
                continue;
            }
            let mask = u32::MAX << (32 - a.prefix as u32);
            let theirs = Subnet {
                network: Ipv4Addr::from(u32::from(v4) & mask),
                prefix: a.prefix,
            };
            if theirs.overlaps(&subnet) {
                return Err(Error::new(
                    Code::SubnetOverlap,
                    format!(
                        "subnet {subnet} overlaps {v4}/{} already on this host",
                        a.prefix
                    ),
                )
                .with_field("subnet"));
            }
        }
    }
    if nl.link_by_name(&bridge)?.is_some() {
        return Err(
            Error::new(Code::Exists, format!("link {bridge:?} exists")).with_field("bridge")
        );
    }
    // A network is its NAT table: without libnftables, make nothing at all.
    nft.ready()?;
    let config = NetworkConfig {
        name: opts.name.clone(),
        bridge: bridge.clone(),
        subnet: subnet.to_string(),
        gateway,
    };
    let mut made_bridge = false;
    let mut made_table = false;
    let r = (|| -> Result<()> {
        nl.create_link(&LinkSpec {
            name: bridge.clone(),
            kind: LinkKind::Bridge,
            mtu: None,
            mac: None,
        })?;
        made_bridge = true;
        let br = nl.require_link(&bridge)?;
        nl.add_address(&Address {
            index: br.index,
            address: IpAddr::V4(gateway),
            prefix: subnet.prefix,
        })?;
        nl.set_link(
            br.index,
            &LinkChange {
                up: Some(true),
                ..Default::default()
            },
        )?;
        sysctl(&format!("net/ipv4/conf/{bridge}/forwarding"), "1")?;
        sysctl(&format!("net/ipv4/conf/{bridge}/route_localnet"), "1")?;
        nft.run(&table_ruleset(&opts.name, &bridge, &subnet.to_string()))?;
        made_table = true;
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::io(
                Code::State,
                "mkdir",
                &e,
                format!("create {}", dir.display()),
            )
            .with_path(&dir)
        })?;
        let data = serde_json::to_vec_pretty(&config)
            .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))?;
        ctr_common::fs::write_atomic(Code::State.as_str(), dir.join("network.json"), &data)
    })();
    if let Err(e) = r {
        if made_table {
            let _ = nft.run(&format!("delete table ip {}", table_name(&opts.name)));
        }
        if made_bridge {
            if let Ok(Some(br)) = nl.link_by_name(&bridge) {
                let _ = nl.delete_link(br.index);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(config)
}

/// Check a caller-supplied lease id (it becomes part of the host veth name).
pub fn validate_lease_id(id: &str) -> Result<()> {
    if !id.is_empty()
        && id.len() <= 11
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidOption,
            format!("invalid lease id {id:?} (1-11 of 0-9 a-f)"),
        )
        .with_field("id"))
    }
}

/// A new random lease id.
pub fn random_id() -> String {
    let mut b = [0u8; 4];
    // SAFETY: getrandom into a local buffer. The raw syscall, not glibc's
    // wrapper (2.25+): the addon's glibc floor is 2.17.
    let n = unsafe { libc::syscall(libc::SYS_getrandom, b.as_mut_ptr(), b.len(), 0) };
    if n != 4 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        b = (t.subsec_nanos() ^ std::process::id()).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What has to happen inside the namespace, given to the caller's
/// in-namespace runner (a thread that joined it).
#[derive(Debug, Clone)]
pub struct NsSetup {
    /// Interface to configure.
    pub ifname: String,
    /// Its address.
    pub address: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// Default gateway.
    pub gateway: Ipv4Addr,
}

/// The in-namespace part of an attach: address, up, loopback up, default
/// route. Runs against the namespace's own netlink client.
pub fn configure_inside(nl: &mut dyn Netlink, s: &NsSetup) -> Result<()> {
    let link = nl.require_link(&s.ifname)?;
    nl.add_address(&Address {
        index: link.index,
        address: IpAddr::V4(s.address),
        prefix: s.prefix,
    })?;
    nl.set_link(
        link.index,
        &LinkChange {
            up: Some(true),
            ..Default::default()
        },
    )?;
    nl.loopback_up()?;
    nl.add_route(&Route {
        gateway: Some(IpAddr::V4(s.gateway)),
        ..Default::default()
    })
}

/// Attach `ns` to the network: veth pair whose peer is created directly
/// inside `ns` under its final name, host end on the bridge, an address
/// from the allocator, default route, published ports. `inside` runs
/// [`configure_inside`] in the namespace (the real one uses
/// [`crate::ns::in_netns`]). Undone on failure.
pub fn attach(
    root: &Path,
    name: &str,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
    ns: &Netns,
    opts: &AttachOptions,
    inside: &mut dyn FnMut(&Netns, NsSetup) -> Result<()>,
) -> Result<Attachment> {
    let config = load(root, name)?;
    let ifname = opts.ifname.clone().unwrap_or_else(|| "eth0".into());
    validate_ifname(&ifname)?;
    let want = match &opts.address {
        Some(a) => Some(a.parse::<Ipv4Addr>().map_err(|_| {
            Error::new(Code::InvalidAddress, format!("invalid address {a:?}")).with_field("address")
        })?),
        None => None,
    };
    let mut seen = Vec::new();
    for p in &opts.ports {
        if p.host_port == 0 || p.container_port == 0 {
            return Err(
                Error::new(Code::InvalidPort, "ports must be between 1 and 65535")
                    .with_field("ports"),
            );
        }
        let k = (p.protocol, p.host_port);
        if seen.contains(&k) {
            return Err(Error::new(
                Code::PortInUse,
                format!(
                    "host port {}/{} given twice",
                    p.host_port,
                    p.protocol.as_str()
                ),
            )
            .with_field("ports"));
        }
        seen.push(k);
    }
    let subnet = Subnet::parse(&config.subnet)?;
    let alloc = allocator(root, &config)?;
    let id = match &opts.id {
        Some(id) => {
            validate_lease_id(id)?;
            id.clone()
        }
        None => random_id(),
    };
    let host_ifname = format!("vctr{id}");
    // The lease names its maker until the attachment is complete, so a
    // lease left by a process that died mid-attach can be told apart from
    // one still being made (see `prune`).
    let pending = pending_marker();
    let lease = match alloc.allocate(&id, want, pending.clone()) {
        Err(e)
            if e.code == Code::SubnetExhausted.as_str()
                || e.code == Code::AddressInUse.as_str() =>
        {
            // Addresses of namespaces that died without a detach come back
            // before we give up.
            if prune(root, name, nl, nft)?.is_empty() {
                return Err(e);
            }
            alloc.allocate(&id, want, pending.clone())?
        }
        other => other?,
    };
    let att = Attachment {
        id: id.clone(),
        network: config.name.clone(),
        address: lease.ip,
        prefix: subnet.prefix,
        gateway: config.gateway,
        ifname: ifname.clone(),
        host_ifname: host_ifname.clone(),
        netns_inode: ns.inode,
        ports: opts.ports.clone(),
    };
    let mut made_veth = false;
    let mut made_ports = false;
    let r = (|| -> Result<()> {
        // Record before create: the lease names the veth and the ports
        // (still marked pending) before either exists, so whoever finds
        // the lease after a crash knows everything there is to remove.
        alloc.update(&id, pending_attachment(&att, &pending)?)?;
        let br = nl.link_by_name(&config.bridge)?.ok_or_else(|| {
            Error::new(
                Code::NetworkNotFound,
                format!("bridge {:?} of network {name:?} is gone", config.bridge),
            )
        })?;
        nl.create_link(&LinkSpec {
            name: host_ifname.clone(),
            kind: LinkKind::Veth {
                peer: ifname.clone(),
                peer_netns_fd: Some(ns.as_raw_fd()),
            },
            mtu: None,
            mac: None,
        })
        .map_err(|e| {
            if e.code == Code::Exists.as_str() {
                Error::new(
                    Code::Exists,
                    format!("interface {ifname:?} already exists in the namespace"),
                )
                .with_field("ifname")
            } else {
                e
            }
        })?;
        made_veth = true;
        let host = nl.require_link(&host_ifname)?;
        nl.set_link(
            host.index,
            &LinkChange {
                master: Some(br.index),
                up: Some(true),
                ..Default::default()
            },
        )?;
        inside(
            ns,
            NsSetup {
                ifname: ifname.clone(),
                address: lease.ip,
                prefix: subnet.prefix,
                gateway: config.gateway,
            },
        )?;
        if !opts.ports.is_empty() {
            let cmds: Vec<String> = opts
                .ports
                .iter()
                .map(|p| format!("create element {}", port_element(&config.name, p, lease.ip)))
                .collect();
            nft.run(&cmds.join("\n")).map_err(|e| {
                if e.code == Code::Exists.as_str() {
                    Error::new(
                        Code::PortInUse,
                        "a host port is already published on this network",
                    )
                    .with_field("ports")
                } else {
                    e
                }
            })?;
            made_ports = true;
        }
        let data = serde_json::to_value(&att)
            .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))?;
        alloc.update(&id, data)
    })();
    if let Err(e) = r {
        if made_ports {
            remove_ports(nft, &config.name, &att, &[]);
        }
        if made_veth {
            if let Ok(Some(h)) = nl.link_by_name(&host_ifname) {
                let _ = nl.delete_link(h.index);
            }
        }
        let _ = alloc.release(&id);
        return Err(e);
    }
    Ok(att)
}

/// The lease data of an attach in progress: the whole attachment and the
/// marker naming the process making it.
fn pending_attachment(att: &Attachment, pending: &serde_json::Value) -> Result<serde_json::Value> {
    let mut data = serde_json::to_value(att)
        .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))?;
    if let (Some(d), Some(p)) = (data.as_object_mut(), pending.as_object()) {
        d.extend(p.clone());
    }
    Ok(data)
}

/// Whether the lease is of an attach not completed (it carries the marker).
fn is_pending(lease: &Lease) -> bool {
    lease.data.get("pendingPid").is_some()
}

/// What a lease says was (or was about to be) made: the recorded
/// attachment, or for a lease of an older version without one, its id's
/// veth and no ports.
fn attachment_of(lease: &Lease, config: &NetworkConfig, prefix: u8) -> Attachment {
    serde_json::from_value(lease.data.clone()).unwrap_or_else(|_| Attachment {
        id: lease.id.clone(),
        network: config.name.clone(),
        address: lease.ip,
        prefix,
        gateway: config.gateway,
        ifname: String::new(),
        host_ifname: format!("vctr{}", lease.id),
        netns_inode: 0,
        ports: vec![],
    })
}

/// Remove the published ports of `att`, except host ports that another
/// lease of the network names (an attach that died before publishing may
/// record a port someone else holds: never remove theirs).
fn remove_ports(nft: &mut dyn Nft, network: &str, att: &Attachment, others: &[Lease]) {
    let claimed = |p: &PortMap| {
        others.iter().filter(|l| l.id != att.id).any(|l| {
            l.data
                .get("ports")
                .and_then(|v| serde_json::from_value::<Vec<PortMap>>(v.clone()).ok())
                .is_some_and(|ps| {
                    ps.iter()
                        .any(|q| q.protocol == p.protocol && q.host_port == p.host_port)
                })
        })
    };
    for p in att.ports.iter().filter(|p| !claimed(p)) {
        let _ = nft.run(&format!(
            "delete element {}",
            port_element(network, p, att.address)
        ));
    }
}

/// `{"pendingPid": pid, "pendingStart": start time}` of this process.
fn pending_marker() -> serde_json::Value {
    let pid = std::process::id() as i32;
    serde_json::json!({ "pendingPid": pid, "pendingStart": ctr_common::proc::start_time(pid) })
}

/// Whether a lease is stale: its attachment is complete but its host veth
/// is gone (the namespace died, and the kernel removed the pair with it),
/// or it was never completed and the process that took it is dead.
fn is_stale(lease: &Lease, host_links: &[String]) -> bool {
    if !is_pending(lease) {
        if let Ok(att) = serde_json::from_value::<Attachment>(lease.data.clone()) {
            return !host_links.contains(&att.host_ifname);
        }
    }
    let pid = lease.data.get("pendingPid").and_then(|v| v.as_i64());
    let start = lease.data.get("pendingStart").and_then(|v| v.as_u64());
    match pid {
        Some(pid) => ctr_common::proc::start_time(pid as i32).is_none_or(|now| Some(now) != start),
        // A lease without a marker (written by an older version mid-attach)
        // is left alone: nothing says whether its maker lives.
        None => false,
    }
}

/// Release the leases of namespaces that died without a detach (and of
/// attaches whose process died half-way): their published ports go, and
/// their addresses become free. Returns what was reaped. `attach` calls it
/// by itself when the subnet runs out.
pub fn prune(
    root: &Path,
    name: &str,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
) -> Result<Vec<Attachment>> {
    let config = load(root, name)?;
    let alloc = allocator(root, &config)?;
    let leases = alloc.leases()?;
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let host_links: Vec<String> = nl.links()?.into_iter().map(|l| l.name).collect();
    let prefix = Subnet::parse(&config.subnet)?.prefix;
    let mut reaped = Vec::new();
    for lease in leases.iter().filter(|l| is_stale(l, &host_links)) {
        let att = attachment_of(lease, &config, prefix);
        remove_ports(nft, &config.name, &att, &leases);
        // A half-made attach may have left its host veth behind.
        if let Some(h) = nl.link_by_name(&att.host_ifname)? {
            let _ = nl.delete_link(h.index);
        }
        match alloc.release(&lease.id) {
            Ok(_) => reaped.push(att),
            // Detached meanwhile by its owner: not ours to report.
            Err(e) if e.code == Code::LeaseNotFound.as_str() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reaped)
}

/// The attachments of a network.
pub fn attachments(root: &Path, name: &str) -> Result<Vec<Attachment>> {
    let config = load(root, name)?;
    let alloc = allocator(root, &config)?;
    Ok(alloc
        .leases()?
        .into_iter()
        .filter(|l| !is_pending(l))
        .filter_map(|l| serde_json::from_value(l.data).ok())
        .collect())
}

/// Undo an attach: published ports, the veth pair (its peer in the
/// namespace goes with it, and with it the address and route), the lease.
pub fn detach(
    root: &Path,
    name: &str,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
    id: &str,
) -> Result<Attachment> {
    let config = load(root, name)?;
    let alloc = allocator(root, &config)?;
    let leases = alloc.leases()?;
    let lease = leases.iter().find(|l| l.id == id).cloned().ok_or_else(|| {
        Error::new(Code::LeaseNotFound, format!("no lease {id:?}")).with_field("id")
    })?;
    let att: Option<Attachment> = serde_json::from_value(lease.data.clone()).ok();
    let host_ifname = format!("vctr{id}");
    if let Some(att) = &att {
        remove_ports(nft, &config.name, att, &leases);
    }
    if let Some(h) = nl.link_by_name(&host_ifname)? {
        match nl.delete_link(h.index) {
            Ok(()) => {}
            Err(e) if e.code == Code::LinkNotFound.as_str() => {}
            Err(e) => return Err(e),
        }
    }
    alloc.release(id)?;
    Ok(att.unwrap_or(Attachment {
        id: id.into(),
        network: config.name.clone(),
        address: lease.ip,
        prefix: Subnet::parse(&config.subnet)?.prefix,
        gateway: config.gateway,
        ifname: String::new(),
        host_ifname,
        netns_inode: 0,
        ports: vec![],
    }))
}

/// Remove what an attach with a recorded lease id made, whatever instant it
/// stopped at (a container's state record names the network and the id
/// before the attach starts): published ports, the host veth, the lease.
/// A network or lease already gone is success: the call is idempotent.
pub fn release_recorded(
    root: &Path,
    name: &str,
    nl: &mut dyn Netlink,
    nft: &mut dyn Nft,
    id: &str,
) -> Result<()> {
    validate_lease_id(id)?;
    match detach(root, name, nl, nft, id) {
        Ok(_) => Ok(()),
        Err(e)
            if e.code == Code::NetworkNotFound.as_str()
                || e.code == Code::LeaseNotFound.as_str() =>
        {
            // Nothing recorded under the id: its veth cannot exist either
            // (the lease is taken before the veth is made and released
            // after it is deleted), but make sure.
            if let Some(h) = nl.link_by_name(&format!("vctr{id}"))? {
                match nl.delete_link(h.index) {
                    Ok(()) => {}
                    Err(e) if e.code == Code::LinkNotFound.as_str() => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Let networks `a` and `b` reach each other (networks are isolated from
/// each other by default: see [`crate::nft::table_ruleset`]); with
/// `connect` false, isolate them again. Idempotent both ways. Only the two
/// networks' own tables change.
pub fn connect(root: &Path, a: &str, b: &str, nft: &mut dyn Nft, connect: bool) -> Result<()> {
    let (ca, cb) = (load(root, a)?, load(root, b)?);
    if ca.name == cb.name {
        return Err(Error::new(
            Code::InvalidOption,
            format!("cannot connect network {a:?} to itself"),
        )
        .with_field("network"));
    }
    let cmds = connect_commands(&ca.name, &ca.bridge, &cb.name, &cb.bridge, connect);
    if connect {
        // `add element` of an element present is no error: idempotent.
        nft.run(&cmds).map(drop)
    } else {
        // One line at a time: an element already gone is fine.
        for line in cmds.lines() {
            match nft.run(line) {
                Ok(_) => {}
                Err(e) if e.code == Code::NftNotFound.as_str() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Delete a network: detach every attachment, then the nft table, the
/// bridge (its address and route go with it) and the state directory.
pub fn delete(root: &Path, name: &str, nl: &mut dyn Netlink, nft: &mut dyn Nft) -> Result<()> {
    let config = load(root, name)?;
    let alloc = allocator(root, &config)?;
    for l in alloc.leases()? {
        detach(root, name, nl, nft, &l.id)?;
    }
    match nft.run(&format!("delete table ip {}", table_name(&config.name))) {
        Ok(_) => {}
        Err(e) if e.code == Code::NftNotFound.as_str() => {}
        Err(e) => return Err(e),
    }
    if let Some(br) = nl.link_by_name(&config.bridge)? {
        nl.delete_link(br.index)?;
    }
    // Networks it was connected to forget its bridge (a later network of
    // the same bridge name is not connected to them).
    for other in list(root)?.iter().filter(|o| o.name != config.name) {
        let _ = nft.run(&format!(
            "delete element ip {} peers {{ \"{}\" }}",
            table_name(&other.name),
            config.bridge
        ));
    }
    let _global = crate::lock::FileLock::exclusive(&root.join(".networks.lock"))?;
    let dir = net_dir(root, name);
    std::fs::remove_dir_all(&dir).map_err(|e| {
        Error::io(
            Code::State,
            "rmdir",
            &e,
            format!("remove {}", dir.display()),
        )
        .with_path(&dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::fake::FakeNetlink;
    use crate::nft::{fake::FakeNft, Proto};

    fn opts(name: &str, subnet: &str) -> CreateOptions {
        CreateOptions {
            name: name.into(),
            subnet: subnet.into(),
            ..Default::default()
        }
    }

    /// Create network `name` on `subnet` through the fakes, every sysctl
    /// accepted.
    fn create_fake(
        root: &Path,
        nl: &mut FakeNetlink,
        nft: &mut FakeNft,
        name: &str,
        subnet: &str,
    ) -> Result<NetworkConfig> {
        create_with(root, nl, nft, &opts(name, subnet), &mut |_, _| Ok(()))
    }

    /// A fresh state root with network `name` on `subnet` made through the
    /// fakes.
    fn fake_network(name: &str, subnet: &str) -> (tempfile::TempDir, FakeNetlink, FakeNft) {
        let root = tempfile::tempdir().unwrap();
        let mut nl = FakeNetlink::new();
        let mut nft = FakeNft::default();
        create_fake(root.path(), &mut nl, &mut nft, name, subnet).unwrap();
        (root, nl, nft)
    }

    /// Host port `host_port` published to the container's port 80/tcp.
    fn tcp(host_port: u16) -> PortMap {
        PortMap {
            host_port,
            container_port: 80,
            protocol: Proto::Tcp,
        }
    }

    #[test]
    fn without_libnftables_create_makes_nothing() {
        struct NoLib;
        impl Nft for NoLib {
            fn ready(&mut self) -> Result<()> {
                Err(Error::new(Code::NftMissing, "no libnftables.so.1"))
            }
            fn run(&mut self, _: &str) -> Result<String> {
                panic!("no command may run without the library")
            }
        }
        let root = tempfile::tempdir().unwrap();
        let mut nl = FakeNetlink::new();
        let links = nl.links.len();
        let e = create_with(
            root.path(),
            &mut nl,
            &mut NoLib,
            &opts("t9", "10.231.9.0/24"),
            &mut |_, _| panic!("no sysctl"),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::NftMissing.as_str());
        assert_eq!(nl.links.len(), links, "no bridge made");
        assert!(list(root.path()).unwrap().is_empty(), "no network recorded");
    }

    #[test]
    fn create_attach_detach_delete_with_fakes() {
        let root = tempfile::tempdir().unwrap();
        let mut nl = FakeNetlink::new();
        let mut nft = FakeNft::default();
        let mut sysctls = Vec::new();
        let c = create_with(
            root.path(),
            &mut nl,
            &mut nft,
            &opts("t0", "10.231.3.0/24"),
            &mut |k, v| {
                sysctls.push(format!("{k}={v}"));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(c.gateway, Ipv4Addr::new(10, 231, 3, 1));
        assert_eq!(
            sysctls,
            [
                "net/ipv4/conf/t0/forwarding=1",
                "net/ipv4/conf/t0/route_localnet=1"
            ]
        );
        let br = nl.require_link("t0").unwrap();
        assert!(br.up);
        assert_eq!(
            nl.addrs,
            [Address {
                index: br.index,
                address: "10.231.3.1".parse().unwrap(),
                prefix: 24
            }]
        );
        assert_eq!(nft.tables, ["ctr-t0"]);

        for (name, subnet, code) in [
            ("t1", "10.231.0.0/16", Code::SubnetOverlap),
            ("t0", "10.231.4.0/24", Code::Exists),
            ("bad/name", "10.231.4.0/24", Code::InvalidName),
        ] {
            let e = create_fake(root.path(), &mut nl, &mut nft, name, subnet).unwrap_err();
            assert_eq!(e.code, code.as_str(), "{name} {subnet}");
        }

        let ns = crate::ns::open_current().unwrap();
        let mut inside = FakeNetlink::new();
        let ports = vec![tcp(18080)];
        let a = attach(
            root.path(),
            "t0",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions {
                ports: ports.clone(),
                ..Default::default()
            },
            &mut |_, s| {
                // The fake "namespace" receives the peer, as the kernel would.
                inside.links.push(crate::netlink::Link {
                    index: 7,
                    name: s.ifname.clone(),
                    kind: Some("veth".into()),
                    up: false,
                    mtu: 1500,
                    mac: String::new(),
                    master: None,
                });
                configure_inside(&mut inside, &s)
            },
        )
        .unwrap();
        assert_eq!(a.address, Ipv4Addr::new(10, 231, 3, 2));
        assert_eq!(a.ifname, "eth0");
        let host = nl.require_link(&a.host_ifname).unwrap();
        assert_eq!((host.master, host.up), (Some(br.index), true));
        assert!(inside.require_link("lo").unwrap().up);
        assert!(inside.require_link("eth0").unwrap().up);
        assert_eq!(
            inside.routes[0].gateway,
            Some("10.231.3.1".parse().unwrap())
        );
        assert_eq!(nft.ports, ["tcp/18080"]);

        // The same host port again is refused and leaves nothing behind.
        let links_before = nl.links.len();
        let e = attach(
            root.path(),
            "t0",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions {
                ports,
                ifname: Some("eth1".into()),
                ..Default::default()
            },
            &mut |_, _| Ok(()),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::PortInUse.as_str());
        assert_eq!(nl.links.len(), links_before);
        assert_eq!(attachments(root.path(), "t0").unwrap().len(), 1);

        detach(root.path(), "t0", &mut nl, &mut nft, &a.id).unwrap();
        assert!(nft.ports.is_empty());
        assert!(nl.link_by_name(&a.host_ifname).unwrap().is_none());
        assert_eq!(
            detach(root.path(), "t0", &mut nl, &mut nft, &a.id)
                .unwrap_err()
                .code,
            Code::LeaseNotFound.as_str()
        );

        delete(root.path(), "t0", &mut nl, &mut nft).unwrap();
        assert!(nl.link_by_name("t0").unwrap().is_none());
        assert!(nft.tables.is_empty());
        assert!(list(root.path()).unwrap().is_empty());
        assert_eq!(
            load(root.path(), "t0").unwrap_err().code,
            Code::NetworkNotFound.as_str()
        );
    }

    #[test]
    fn prune_reaps_leases_of_dead_namespaces_and_dead_attachers() {
        // A /30: the gateway and one host address, so a stale lease blocks
        // every further attach until it is reaped.
        let (root, mut nl, mut nft) = fake_network("t3", "10.231.6.0/30");
        let ns = crate::ns::open_current().unwrap();
        let ports = vec![tcp(18081)];
        let a = attach(
            root.path(),
            "t3",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions {
                ports,
                ..Default::default()
            },
            &mut |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(nft.ports, ["tcp/18081"]);
        // Nothing is stale while the host veth exists.
        assert!(prune(root.path(), "t3", &mut nl, &mut nft)
            .unwrap()
            .is_empty());

        // The namespace dies: the kernel takes the veth pair with it.
        let host = nl.require_link(&a.host_ifname).unwrap();
        nl.delete_link(host.index).unwrap();
        // The next attach finds the subnet full, reaps, and gets the address.
        let b = attach(
            root.path(),
            "t3",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions::default(),
            &mut |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(b.address, a.address);
        assert!(
            nft.ports.is_empty(),
            "the dead attachment's published port went with it"
        );
        assert_eq!(
            attachments(root.path(), "t3")
                .unwrap()
                .iter()
                .map(|x| x.id.clone())
                .collect::<Vec<_>>(),
            std::slice::from_ref(&b.id)
        );
        detach(root.path(), "t3", &mut nl, &mut nft, &b.id).unwrap();

        // A lease taken by a process that died mid-attach is reaped; one
        // whose maker lives (this process) is not.
        let config = load(root.path(), "t3").unwrap();
        let alloc = allocator(root.path(), &config).unwrap();
        alloc
            .allocate(
                "dead0001",
                None,
                serde_json::json!({ "pendingPid": i32::MAX, "pendingStart": 1 }),
            )
            .unwrap();
        let reaped = prune(root.path(), "t3", &mut nl, &mut nft).unwrap();
        assert_eq!(reaped.len(), 1);
        assert_eq!(reaped[0].id, "dead0001");
        alloc.allocate("live0001", None, pending_marker()).unwrap();
        assert!(prune(root.path(), "t3", &mut nl, &mut nft)
            .unwrap()
            .is_empty());
        alloc.release("live0001").unwrap();
        delete(root.path(), "t3", &mut nl, &mut nft).unwrap();
    }

    #[test]
    fn an_attach_cut_short_is_found_by_its_recorded_id() {
        let (root, mut nl, mut nft) = fake_network("t4", "10.231.7.0/24");
        let config = load(root.path(), "t4").unwrap();
        let alloc = allocator(root.path(), &config).unwrap();
        let ns = crate::ns::open_current().unwrap();
        // While the veth is being configured (it exists, the ports do not
        // yet), the lease already names the veth and the ports, pending.
        let mut seen = None;
        let a = attach(
            root.path(),
            "t4",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions {
                id: Some("abc123".into()),
                ports: vec![tcp(18082)],
                ..Default::default()
            },
            &mut |_, _| {
                seen = Some(alloc.get("abc123").unwrap());
                Ok(())
            },
        )
        .unwrap();
        let seen = seen.unwrap();
        assert_eq!(a.host_ifname, "vctrabc123");
        assert_eq!(seen.data["hostIfname"], "vctrabc123");
        assert_eq!(seen.data["ports"][0]["hostPort"], 18082);
        assert_eq!(seen.data["pendingPid"], std::process::id());
        assert!(attachments(root.path(), "t4").unwrap().len() == 1);
        // The attacher is killed right after publishing: the lease is still
        // pending (its maker now dead), veth and port exist.
        let mut cut = seen.data.clone();
        cut["pendingPid"] = serde_json::json!(i32::MAX);
        alloc.update("abc123", cut).unwrap();
        assert!(
            attachments(root.path(), "t4").unwrap().is_empty(),
            "a pending lease is not an attachment"
        );
        assert_eq!(nft.ports, ["tcp/18082"]);
        release_recorded(root.path(), "t4", &mut nl, &mut nft, "abc123").unwrap();
        assert!(nft.ports.is_empty());
        assert!(nl.link_by_name("vctrabc123").unwrap().is_none());
        assert!(alloc.leases().unwrap().is_empty());
        // Idempotent, and fine once the network itself is gone.
        release_recorded(root.path(), "t4", &mut nl, &mut nft, "abc123").unwrap();
        assert_eq!(
            release_recorded(root.path(), "t4", &mut nl, &mut nft, "../x")
                .unwrap_err()
                .code,
            Code::InvalidOption.as_str()
        );

        // A dead attacher's pending lease naming a host port that another,
        // complete attachment holds: prune reaps the lease, never their port.
        let b = attach(
            root.path(),
            "t4",
            &mut nl,
            &mut nft,
            &ns,
            &AttachOptions {
                ports: vec![tcp(18083)],
                ..Default::default()
            },
            &mut |_, _| Ok(()),
        )
        .unwrap();
        alloc
            .allocate(
                "dead02",
                None,
                serde_json::json!({ "pendingPid": i32::MAX, "pendingStart": 1, "ports": [tcp(18083)] }),
            )
            .unwrap();
        let reaped = prune(root.path(), "t4", &mut nl, &mut nft).unwrap();
        assert_eq!(reaped.len(), 1);
        assert_eq!(nft.ports, ["tcp/18083"]);
        detach(root.path(), "t4", &mut nl, &mut nft, &b.id).unwrap();
        delete(root.path(), "t4", &mut nl, &mut nft).unwrap();
        release_recorded(root.path(), "t4", &mut nl, &mut nft, "abc123").unwrap();
    }

    #[test]
    fn failed_create_is_undone() {
        let root = tempfile::tempdir().unwrap();
        let mut nl = FakeNetlink::new();
        let mut nft = FakeNft::default();
        let e = create_with(
            root.path(),
            &mut nl,
            &mut nft,
            &opts("t2", "10.231.5.0/24"),
            &mut |_, _| Err(Error::new(Code::Sysctl, "refused")),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Sysctl.as_str());
        assert!(nl.link_by_name("t2").unwrap().is_none());
        assert!(list(root.path()).unwrap().is_empty());
    }
}
