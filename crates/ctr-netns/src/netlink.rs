//! A small rtnetlink client: links, addresses and routes.
//!
//! [`Netlink`] is the seam: [`RtNetlink`] speaks to the kernel over a
//! `NETLINK_ROUTE` socket (messages built with `netlink-packet-route`), and
//! [`fake::FakeNetlink`] keeps a model in memory for unit tests. A netlink
//! socket acts on the namespace it was created in, so a client for another
//! namespace is made (and used) on a thread that joined it: see
//! [`crate::ns::in_netns`].

use crate::Code;
use crate::{Error, Result};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    MacVlanMode,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use serde::Serialize;
use std::net::IpAddr;
use std::os::fd::RawFd;

/// A network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Kind (`veth`, `bridge`, `dummy`, `macvlan`, ...), None for physical
    /// devices and loopback.
    pub kind: Option<String>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// MTU in bytes.
    pub mtu: u32,
    /// MAC address as `aa:bb:cc:dd:ee:ff` (empty when none).
    pub mac: String,
    /// Index of the master (bridge) it is enslaved to.
    pub master: Option<u32>,
}

/// The kind of link to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// A veth pair; the peer may be created directly in another namespace.
    Veth {
        /// Name of the peer end.
        peer: String,
        /// Namespace fd in which to create the peer (None: the same one).
        peer_netns_fd: Option<RawFd>,
    },
    /// A Linux bridge.
    Bridge,
    /// A dummy interface.
    Dummy,
    /// A macvlan on top of `parent` (bridge mode).
    Macvlan {
        /// Index of the parent link.
        parent: u32,
    },
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// Name of the new link.
    pub name: String,
    /// Its kind.
    pub kind: LinkKind,
    /// MTU, if not the default.
    pub mtu: Option<u32>,
    /// MAC address, if not random.
    pub mac: Option<[u8; 6]>,
}

/// Where to move a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsTarget {
    /// A namespace fd.
    Fd(RawFd),
    /// The namespace of a process.
    Pid(u32),
}

/// Changes to an existing link; None fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChange {
    /// Set up (true) or down (false).
    pub up: Option<bool>,
    /// New MTU.
    pub mtu: Option<u32>,
    /// New MAC address.
    pub mac: Option<[u8; 6]>,
    /// Enslave to this master index, or Some(0) to release.
    pub master: Option<u32>,
    /// New name.
    pub name: Option<String>,
    /// Move into this namespace.
    pub netns: Option<NsTarget>,
}

/// An address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// Interface index.
    pub index: u32,
    /// The address.
    pub address: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

/// A route in the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Route {
    /// Destination network (None: the default route).
    pub destination: Option<(IpAddr, u8)>,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// True for IPv6 routes (needed for a default route without gateway).
    pub v6: bool,
}

/// One kernel surface: rtnetlink, as the rest of the crate uses it.
pub trait Netlink {
    /// Every link.
    fn links(&mut self) -> Result<Vec<Link>>;
    /// The link named `name`, if it exists.
    fn link_by_name(&mut self, name: &str) -> Result<Option<Link>>;
    /// Create a link.
    fn create_link(&mut self, spec: &LinkSpec) -> Result<()>;
    /// Change a link.
    fn set_link(&mut self, index: u32, change: &LinkChange) -> Result<()>;
    /// Delete a link (a veth takes its peer with it).
    fn delete_link(&mut self, index: u32) -> Result<()>;
    /// Addresses, of one link or all.
    fn addresses(&mut self, index: Option<u32>) -> Result<Vec<Address>>;
    /// Add an address.
    fn add_address(&mut self, addr: &Address) -> Result<()>;
    /// Delete an address.
    fn delete_address(&mut self, addr: &Address) -> Result<()>;
    /// Routes of the main table (IPv4 and IPv6).
    fn routes(&mut self) -> Result<Vec<Route>>;
    /// Add a route to the main table.
    fn add_route(&mut self, route: &Route) -> Result<()>;
    /// Delete a route from the main table.
    fn delete_route(&mut self, route: &Route) -> Result<()>;

    /// The link named `name`, or ENETNS_LINK_NOT_FOUND.
    fn require_link(&mut self, name: &str) -> Result<Link> {
        self.link_by_name(name)?.ok_or_else(|| {
            Error::new(Code::LinkNotFound, format!("link {name:?} does not exist"))
                .with_field("name")
        })
    }

    /// Bring `lo` up.
    fn loopback_up(&mut self) -> Result<()> {
        let lo = self.require_link("lo")?;
        self.set_link(
            lo.index,
            &LinkChange {
                up: Some(true),
                ..Default::default()
            },
        )
    }
}

/// Check an interface name the way the kernel does (1-15 bytes, no `/`,
/// `:` or whitespace, not `.` or `..`).
pub fn validate_ifname(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            Code::InvalidName,
            format!("invalid interface name {name:?} (1-15 characters, no '/', ':' or spaces)"),
        )
        .with_field("ifname"))
    }
}

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad =
        || Error::new(Code::InvalidMac, format!("invalid mac address {s:?}")).with_field("mac");
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.len() != 2 {
            return Err(bad());
        }
        out[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Format a MAC address.
pub fn format_mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn errno_code(errno: i32) -> &'static str {
    match errno {
        libc::EEXIST => Code::Exists.as_str(),
        libc::ENODEV | libc::ENOENT | libc::ESRCH | libc::EADDRNOTAVAIL => {
            Code::LinkNotFound.as_str()
        }
        libc::EPERM | libc::EACCES => Code::Permission.as_str(),
        libc::EINVAL | libc::ERANGE | libc::EOPNOTSUPP => Code::Invalid.as_str(),
        _ => Code::Netlink.as_str(),
    }
}

/// The real client: a NETLINK_ROUTE socket in the namespace of the thread
/// that created it.
pub struct RtNetlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl RtNetlink {
    /// Open a socket in the calling thread's network namespace.
    pub fn new() -> Result<RtNetlink> {
        let mut sock = Socket::new(NETLINK_ROUTE)
            .map_err(|e| Error::io(Code::Netlink, "socket", &e, "open netlink socket"))?;
        sock.bind_auto()
            .map_err(|e| Error::io(Code::Netlink, "bind", &e, "bind netlink socket"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::io(Code::Netlink, "connect", &e, "connect netlink socket"))?;
        let _ = sock.set_ext_ack(true);
        Ok(RtNetlink {
            sock,
            seq: 0,
            buf: vec![0; 64 * 1024],
        })
    }

    /// One RTM_NEWLINK carrying every change of `change`.
    fn set_link_once(&mut self, index: u32, change: &LinkChange) -> Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        if let Some(up) = change.up {
            m.header.change_mask = LinkFlags::Up;
            if up {
                m.header.flags = LinkFlags::Up;
            }
        }
        if let Some(mtu) = change.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = change.mac {
            m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        if let Some(master) = change.master {
            m.attributes.push(LinkAttribute::Controller(master));
        }
        if let Some(name) = &change.name {
            validate_ifname(name)?;
            m.attributes.push(LinkAttribute::IfName(name.clone()));
        }
        match change.netns {
            Some(NsTarget::Fd(fd)) => m.attributes.push(LinkAttribute::NetNsFd(fd)),
            Some(NsTarget::Pid(pid)) => m.attributes.push(LinkAttribute::NetNsPid(pid)),
            None => {}
        }
        self.request(
            RouteNetlinkMessage::SetLink(m),
            0,
            &format!("change link #{index}"),
        )?;
        Ok(())
    }

    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        packet.header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        self.seq = self.seq.wrapping_add(1);
        packet.header.sequence_number = self.seq;
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.sock
            .send(&out, 0)
            .map_err(|e| Error::io(Code::Netlink, "sendmsg", &e, what.to_string()))?;
        let mut replies = Vec::new();
        loop {
            let n = loop {
                let mut b = &mut self.buf[..];
                match self.sock.recv(&mut b, 0) {
                    Ok(n) => break n,
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                    Err(e) => {
                        return Err(Error::io(Code::Netlink, "recvmsg", &e, what.to_string()))
                    }
                }
            };
            let n = n.min(self.buf.len());
            let mut offset = 0;
            while offset < n {
                let bytes = &self.buf[offset..n];
                let msg: NetlinkMessage<RouteNetlinkMessage> = NetlinkMessage::deserialize(bytes)
                    .map_err(|e| {
                    Error::new(
                        Code::Netlink,
                        format!("{what}: cannot parse netlink reply: {e}"),
                    )
                })?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq {
                    match msg.payload {
                        NetlinkPayload::Done(d) => {
                            if d.code < 0 {
                                let errno = -d.code;
                                return Err(Error::sys(
                                    errno_code(errno),
                                    "netlink",
                                    errno,
                                    what.to_string(),
                                ));
                            }
                            return Ok(replies);
                        }
                        NetlinkPayload::Error(e) => match e.code {
                            None => return Ok(replies),
                            Some(code) => {
                                let errno = -code.get();
                                return Err(Error::sys(
                                    errno_code(errno),
                                    "netlink",
                                    errno,
                                    what.to_string(),
                                ));
                            }
                        },
                        NetlinkPayload::InnerMessage(m) => replies.push(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += (len + 3) & !3;
            }
        }
    }
}

fn family(ip: &IpAddr) -> AddressFamily {
    if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn link_from(m: LinkMessage) -> Link {
    let mut l = Link {
        index: m.header.index,
        name: String::new(),
        kind: None,
        up: m.header.flags.contains(LinkFlags::Up),
        mtu: 0,
        mac: String::new(),
        master: None,
    };
    for a in m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n,
            LinkAttribute::Mtu(v) => l.mtu = v,
            LinkAttribute::Address(b) => l.mac = format_mac(&b),
            LinkAttribute::Controller(i) => l.master = Some(i),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        l.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    l
}

fn route_key_attrs(route: &Route) -> (RouteMessage, String) {
    let mut m = RouteMessage::default();
    let v6 = route.v6
        || route.destination.map(|(a, _)| a.is_ipv6()).unwrap_or(false)
        || route.gateway.map(|g| g.is_ipv6()).unwrap_or(false);
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Boot;
    m.header.kind = RouteType::Unicast;
    m.header.scope = if route.gateway.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    let mut what = String::from("route ");
    match route.destination {
        Some((a, p)) => {
            m.header.destination_prefix_length = p;
            m.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(a)));
            what.push_str(&format!("{a}/{p}"));
        }
        None => what.push_str("default"),
    }
    if let Some(g) = route.gateway {
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(g)));
        what.push_str(&format!(" via {g}"));
    }
    if let Some(o) = route.oif {
        m.attributes.push(RouteAttribute::Oif(o));
        what.push_str(&format!(" dev #{o}"));
    }
    (m, what)
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

impl Netlink for RtNetlink {
    fn links(&mut self) -> Result<Vec<Link>> {
        let r = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
            "list links",
        )?;
        Ok(r.into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })
            .collect())
    }

    fn link_by_name(&mut self, name: &str) -> Result<Option<Link>> {
        validate_ifname(name)?;
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(
            RouteNetlinkMessage::GetLink(m),
            0,
            &format!("get link {name}"),
        ) {
            Ok(r) => Ok(r.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })),
            Err(e) if e.errno == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn create_link(&mut self, spec: &LinkSpec) -> Result<()> {
        validate_ifname(&spec.name)?;
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(spec.name.clone()));
        if let Some(mtu) = spec.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = spec.mac {
            m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        let info = match &spec.kind {
            LinkKind::Veth {
                peer,
                peer_netns_fd,
            } => {
                validate_ifname(peer)?;
                let mut p = LinkMessage::default();
                p.attributes.push(LinkAttribute::IfName(peer.clone()));
                if let Some(fd) = peer_netns_fd {
                    p.attributes.push(LinkAttribute::NetNsFd(*fd));
                }
                if let Some(mtu) = spec.mtu {
                    p.attributes.push(LinkAttribute::Mtu(mtu));
                }
                vec![
                    LinkInfo::Kind(InfoKind::Veth),
                    LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
                ]
            }
            LinkKind::Bridge => vec![LinkInfo::Kind(InfoKind::Bridge)],
            LinkKind::Dummy => vec![LinkInfo::Kind(InfoKind::Dummy)],
            LinkKind::Macvlan { parent } => {
                m.attributes.push(LinkAttribute::Link(*parent));
                vec![
                    LinkInfo::Kind(InfoKind::MacVlan),
                    LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                        MacVlanMode::Bridge,
                    )])),
                ]
            }
        };
        m.attributes.push(LinkAttribute::LinkInfo(info));
        self.request(
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("create link {}", spec.name),
        )
        .map_err(|e| e.with_field("name"))?;
        Ok(())
    }

    fn set_link(&mut self, index: u32, change: &LinkChange) -> Result<()> {
        match self.set_link_once(index, change) {
            Err(e)
                if e.errno == Some(libc::EBUSY)
                    && change.name.is_some()
                    && change.netns.is_none() =>
            {
                // Linux before 6.2 refuses to rename a link that is up
                // (dev_change_name: EBUSY, no live renaming), and within one
                // RTM_NEWLINK the rename runs before the flags change, so
                // even { name, up: false } fails there. Do what `ip link set
                // X down; ip link set X name Y; ip link set Y up` does: the
                // other changes, then down, rename, and up again.
                let was_up = self.links()?.into_iter().any(|l| l.index == index && l.up);
                if !was_up {
                    return Err(e);
                }
                let rest = LinkChange {
                    name: None,
                    up: None,
                    ..change.clone()
                };
                if rest != LinkChange::default() {
                    self.set_link_once(index, &rest)?;
                }
                self.set_link_once(
                    index,
                    &LinkChange {
                        up: Some(false),
                        ..LinkChange::default()
                    },
                )?;
                let renamed = self.set_link_once(
                    index,
                    &LinkChange {
                        name: change.name.clone(),
                        ..LinkChange::default()
                    },
                );
                if change.up.unwrap_or(true) || renamed.is_err() {
                    // Up as asked, or as it was when the rename failed.
                    self.set_link_once(
                        index,
                        &LinkChange {
                            up: Some(true),
                            ..LinkChange::default()
                        },
                    )?;
                }
                renamed
            }
            r => r,
        }
    }

    fn delete_link(&mut self, index: u32) -> Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        self.request(
            RouteNetlinkMessage::DelLink(m),
            0,
            &format!("delete link #{index}"),
        )?;
        Ok(())
    }

    fn addresses(&mut self, index: Option<u32>) -> Result<Vec<Address>> {
        let r = self.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
            "list addresses",
        )?;
        let mut out = Vec::new();
        for m in r {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if index.is_some_and(|i| i != a.header.index) {
                continue;
            }
            let mut addr = None;
            let mut local = None;
            for at in &a.attributes {
                match at {
                    AddressAttribute::Address(ip) => addr = Some(*ip),
                    AddressAttribute::Local(ip) => local = Some(*ip),
                    _ => {}
                }
            }
            if let Some(ip) = local.or(addr) {
                out.push(Address {
                    index: a.header.index,
                    address: ip,
                    prefix: a.header.prefix_len,
                });
            }
        }
        Ok(out)
    }

    fn add_address(&mut self, addr: &Address) -> Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = family(&addr.address);
        m.header.prefix_len = addr.prefix;
        m.header.index = addr.index;
        m.attributes.push(AddressAttribute::Local(addr.address));
        m.attributes.push(AddressAttribute::Address(addr.address));
        if let IpAddr::V4(v4) = addr.address {
            if addr.prefix < 31 {
                let mask = if addr.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - addr.prefix)
                };
                let bcast = u32::from(v4) | !mask;
                m.attributes.push(AddressAttribute::Broadcast(bcast.into()));
            }
        }
        self.request(
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("add address {}/{}", addr.address, addr.prefix),
        )?;
        Ok(())
    }

    fn delete_address(&mut self, addr: &Address) -> Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = family(&addr.address);
        m.header.prefix_len = addr.prefix;
        m.header.index = addr.index;
        m.attributes.push(AddressAttribute::Local(addr.address));
        self.request(
            RouteNetlinkMessage::DelAddress(m),
            0,
            &format!("delete address {}/{}", addr.address, addr.prefix),
        )?;
        Ok(())
    }

    fn routes(&mut self) -> Result<Vec<Route>> {
        let mut out = Vec::new();
        for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut q = RouteMessage::default();
            q.header.address_family = fam;
            let r = self.request(RouteNetlinkMessage::GetRoute(q), NLM_F_DUMP, "list routes")?;
            for m in r {
                let RouteNetlinkMessage::NewRoute(rt) = m else {
                    continue;
                };
                if rt.header.table != RouteHeader::RT_TABLE_MAIN
                    || rt.header.kind != RouteType::Unicast
                {
                    continue;
                }
                let mut route = Route {
                    v6: fam == AddressFamily::Inet6,
                    ..Default::default()
                };
                let mut dst = None;
                for a in &rt.attributes {
                    match a {
                        RouteAttribute::Destination(d) => dst = route_addr(d),
                        RouteAttribute::Gateway(g) => route.gateway = route_addr(g),
                        RouteAttribute::Oif(o) => route.oif = Some(*o),
                        _ => {}
                    }
                }
                route.destination = dst.map(|d| (d, rt.header.destination_prefix_length));
                out.push(route);
            }
        }
        Ok(out)
    }

    fn add_route(&mut self, route: &Route) -> Result<()> {
        let (m, what) = route_key_attrs(route);
        self.request(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("add {what}"),
        )?;
        Ok(())
    }

    fn delete_route(&mut self, route: &Route) -> Result<()> {
        let (mut m, what) = route_key_attrs(route);
        m.header.protocol = RouteProtocol::Unspec;
        m.header.scope = RouteScope::NoWhere;
        self.request(
            RouteNetlinkMessage::DelRoute(m),
            0,
            &format!("delete {what}"),
        )?;
        Ok(())
    }
}

/// An in-memory [`Netlink`] for unit tests: a model of links, addresses
/// and routes with the kernel's main refusals (duplicate names, unknown
/// indexes, duplicate addresses), and a log of calls.
pub mod fake {
    use super::*;

    /// The fake; inspect its fields in tests.
    #[derive(Debug, Default)]
    pub struct FakeNetlink {
        /// Links, starting with `lo` (index 1, down).
        pub links: Vec<Link>,
        /// Addresses.
        pub addrs: Vec<Address>,
        /// Routes.
        pub routes: Vec<Route>,
        /// Links moved to another namespace (name, target).
        pub moved: Vec<(String, NsTarget)>,
        /// One line per call, for asserting order.
        pub calls: Vec<String>,
        next: u32,
    }

    impl FakeNetlink {
        /// A namespace as new: only a down `lo`.
        pub fn new() -> Self {
            FakeNetlink {
                links: vec![Link {
                    index: 1,
                    name: "lo".into(),
                    kind: None,
                    up: false,
                    mtu: 65536,
                    mac: "00:00:00:00:00:00".into(),
                    master: None,
                }],
                next: 2,
                ..Default::default()
            }
        }

        fn push(&mut self, name: &str, kind: &str, mtu: Option<u32>) -> Result<()> {
            if self.links.iter().any(|l| l.name == name) {
                return Err(Error::sys(
                    Code::Exists,
                    "netlink",
                    libc::EEXIST,
                    format!("create link {name}"),
                ));
            }
            self.links.push(Link {
                index: self.next,
                name: name.into(),
                kind: Some(kind.into()),
                up: false,
                mtu: mtu.unwrap_or(1500),
                mac: format_mac(&[2, 0, 0, 0, 0, self.next as u8]),
                master: None,
            });
            self.next += 1;
            Ok(())
        }

        fn find(&mut self, index: u32) -> Result<usize> {
            self.links
                .iter()
                .position(|l| l.index == index)
                .ok_or_else(|| {
                    Error::sys(
                        Code::LinkNotFound,
                        "netlink",
                        libc::ENODEV,
                        format!("link #{index}"),
                    )
                })
        }
    }

    impl Netlink for FakeNetlink {
        fn links(&mut self) -> Result<Vec<Link>> {
            Ok(self.links.clone())
        }
        fn link_by_name(&mut self, name: &str) -> Result<Option<Link>> {
            validate_ifname(name)?;
            Ok(self.links.iter().find(|l| l.name == name).cloned())
        }
        fn create_link(&mut self, spec: &LinkSpec) -> Result<()> {
            validate_ifname(&spec.name)?;
            self.calls
                .push(format!("create {} {:?}", spec.name, spec.kind));
            match &spec.kind {
                LinkKind::Veth {
                    peer,
                    peer_netns_fd,
                } => {
                    validate_ifname(peer)?;
                    self.push(&spec.name, "veth", spec.mtu)?;
                    match peer_netns_fd {
                        Some(fd) => self.moved.push((peer.clone(), NsTarget::Fd(*fd))),
                        None => self.push(peer, "veth", spec.mtu)?,
                    }
                }
                LinkKind::Bridge => self.push(&spec.name, "bridge", spec.mtu)?,
                LinkKind::Dummy => self.push(&spec.name, "dummy", spec.mtu)?,
                LinkKind::Macvlan { parent } => {
                    self.find(*parent)?;
                    self.push(&spec.name, "macvlan", spec.mtu)?
                }
            }
            Ok(())
        }
        fn set_link(&mut self, index: u32, c: &LinkChange) -> Result<()> {
            self.calls.push(format!("set #{index} {c:?}"));
            let i = self.find(index)?;
            if let Some(n) = &c.name {
                validate_ifname(n)?;
                if self.links.iter().any(|l| &l.name == n && l.index != index) {
                    return Err(Error::sys(
                        Code::Exists,
                        "netlink",
                        libc::EEXIST,
                        format!("rename to {n}"),
                    ));
                }
            }
            if let Some(m) = c.master {
                if m != 0 {
                    self.find(m)?;
                }
            }
            let l = &mut self.links[i];
            if let Some(up) = c.up {
                l.up = up;
            }
            if let Some(mtu) = c.mtu {
                l.mtu = mtu;
            }
            if let Some(mac) = c.mac {
                l.mac = format_mac(&mac);
            }
            if let Some(m) = c.master {
                l.master = if m == 0 { None } else { Some(m) };
            }
            if let Some(n) = &c.name {
                l.name = n.clone();
            }
            if let Some(t) = c.netns {
                let l = self.links.remove(i);
                self.addrs.retain(|a| a.index != index);
                self.moved.push((l.name, t));
            }
            Ok(())
        }
        fn delete_link(&mut self, index: u32) -> Result<()> {
            self.calls.push(format!("delete #{index}"));
            let i = self.find(index)?;
            self.links.remove(i);
            self.addrs.retain(|a| a.index != index);
            self.routes.retain(|r| r.oif != Some(index));
            Ok(())
        }
        fn addresses(&mut self, index: Option<u32>) -> Result<Vec<Address>> {
            Ok(self
                .addrs
                .iter()
                .filter(|a| index.is_none_or(|i| a.index == i))
                .cloned()
                .collect())
        }
        fn add_address(&mut self, a: &Address) -> Result<()> {
            self.calls
                .push(format!("addr add {}/{} #{}", a.address, a.prefix, a.index));
            self.find(a.index)?;
            if self.addrs.contains(a) {
                return Err(Error::sys(
                    Code::Exists,
                    "netlink",
                    libc::EEXIST,
                    "add address",
                ));
            }
            self.addrs.push(a.clone());
            Ok(())
        }
        fn delete_address(&mut self, a: &Address) -> Result<()> {
            let before = self.addrs.len();
            self.addrs.retain(|x| x != a);
            if before == self.addrs.len() {
                return Err(Error::sys(
                    Code::LinkNotFound,
                    "netlink",
                    libc::EADDRNOTAVAIL,
                    "delete address",
                ));
            }
            Ok(())
        }
        fn routes(&mut self) -> Result<Vec<Route>> {
            Ok(self.routes.clone())
        }
        fn add_route(&mut self, r: &Route) -> Result<()> {
            self.calls.push(format!("route add {r:?}"));
            if self.routes.contains(r) {
                return Err(Error::sys(
                    Code::Exists,
                    "netlink",
                    libc::EEXIST,
                    "add route",
                ));
            }
            self.routes.push(r.clone());
            Ok(())
        }
        fn delete_route(&mut self, r: &Route) -> Result<()> {
            let before = self.routes.len();
            self.routes.retain(|x| x != r);
            if before == self.routes.len() {
                return Err(Error::sys(
                    Code::LinkNotFound,
                    "netlink",
                    libc::ESRCH,
                    "delete route",
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeNetlink;
    use super::*;

    #[test]
    fn ifnames_and_macs() {
        validate_ifname("eth0").unwrap();
        validate_ifname("ctt12345-abcdef").unwrap();
        for bad in ["", "a/b", "a:b", "a b", "sixteen-chars-xx", ".."] {
            assert_eq!(
                validate_ifname(bad).unwrap_err().code,
                Code::InvalidName.as_str(),
                "{bad}"
            );
        }
        assert_eq!(
            parse_mac("02:00:0a:ff:00:01").unwrap(),
            [2, 0, 10, 255, 0, 1]
        );
        assert_eq!(format_mac(&[2, 0, 10, 255, 0, 1]), "02:00:0a:ff:00:01");
        for bad in ["02:00", "zz:00:00:00:00:00", "020:0:00:00:00:00"] {
            assert_eq!(parse_mac(bad).unwrap_err().code, Code::InvalidMac.as_str());
        }
    }

    #[test]
    fn fake_loopback_and_links() {
        let mut nl = FakeNetlink::new();
        assert!(!nl.require_link("lo").unwrap().up);
        nl.loopback_up().unwrap();
        assert!(nl.require_link("lo").unwrap().up);
        nl.create_link(&LinkSpec {
            name: "br0".into(),
            kind: LinkKind::Bridge,
            mtu: None,
            mac: None,
        })
        .unwrap();
        let e = nl
            .create_link(&LinkSpec {
                name: "br0".into(),
                kind: LinkKind::Dummy,
                mtu: None,
                mac: None,
            })
            .unwrap_err();
        assert_eq!(e.code, Code::Exists.as_str());
        assert_eq!(
            nl.require_link("nope").unwrap_err().code,
            Code::LinkNotFound.as_str()
        );
    }

    #[test]
    fn real_netlink_lists_loopback() {
        let mut nl = RtNetlink::new().unwrap();
        let links = nl.links().unwrap();
        let lo = links.iter().find(|l| l.name == "lo").expect("lo listed");
        assert_eq!(nl.link_by_name("lo").unwrap().unwrap().index, lo.index);
        assert!(nl.link_by_name("ctrnoexist0").unwrap().is_none());
    }

    #[test]
    fn real_netlink_in_new_namespace() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        let ns = crate::ns::create_anonymous().unwrap();
        crate::ns::in_netns(&ns, || {
            let mut nl = RtNetlink::new()?;
            let links = nl.links()?;
            assert_eq!(links.len(), 1);
            assert!(!links[0].up);
            nl.loopback_up()?;
            assert!(nl.require_link("lo")?.up);
            // This kernel may be built without the dummy driver: then the
            // kernel's refusal must come back as a coded error.
            match nl.create_link(&LinkSpec {
                name: "dm0".into(),
                kind: LinkKind::Dummy,
                mtu: None,
                mac: None,
            }) {
                Ok(()) => assert_eq!(nl.require_link("dm0")?.kind.as_deref(), Some("dummy")),
                Err(e) => assert_eq!(
                    (e.code.as_str(), e.errno),
                    (Code::Invalid.as_str(), Some(libc::EOPNOTSUPP))
                ),
            }
            nl.create_link(&LinkSpec {
                name: "d0".into(),
                kind: LinkKind::Veth {
                    peer: "d0p".into(),
                    peer_netns_fd: None,
                },
                mtu: Some(1400),
                mac: Some([2, 0, 0, 0, 0, 9]),
            })?;
            let d = nl.require_link("d0")?;
            assert_eq!(
                (d.kind.as_deref(), d.mtu, d.mac.as_str()),
                (Some("veth"), 1400, "02:00:00:00:00:09")
            );
            nl.create_link(&LinkSpec {
                name: "b0".into(),
                kind: LinkKind::Bridge,
                mtu: None,
                mac: None,
            })?;
            let b = nl.require_link("b0")?;
            nl.set_link(
                d.index,
                &LinkChange {
                    up: Some(true),
                    master: Some(b.index),
                    mtu: Some(1300),
                    name: Some("d1".into()),
                    ..Default::default()
                },
            )?;
            let d = nl.require_link("d1")?;
            assert_eq!((d.up, d.master, d.mtu), (true, Some(b.index), 1300));
            let parent = nl.require_link("d0p")?.index;
            nl.create_link(&LinkSpec {
                name: "mv0".into(),
                kind: LinkKind::Macvlan { parent },
                mtu: None,
                mac: None,
            })?;
            assert_eq!(nl.require_link("mv0")?.kind.as_deref(), Some("macvlan"));
            let a = Address {
                index: d.index,
                address: "10.231.250.2".parse().unwrap(),
                prefix: 24,
            };
            nl.add_address(&a)?;
            let a6 = Address {
                index: d.index,
                address: "fd00:231::2".parse().unwrap(),
                prefix: 64,
            };
            nl.add_address(&a6)?;
            assert!(nl.addresses(Some(d.index))?.contains(&a));
            assert!(nl.addresses(Some(d.index))?.contains(&a6));
            assert_eq!(nl.add_address(&a).unwrap_err().code, Code::Exists.as_str());
            let r = Route {
                gateway: Some("10.231.250.1".parse().unwrap()),
                ..Default::default()
            };
            nl.add_route(&r)?;
            assert!(nl
                .routes()?
                .iter()
                .any(|x| x.destination.is_none() && x.gateway == r.gateway));
            nl.delete_route(&r)?;
            assert!(!nl
                .routes()?
                .iter()
                .any(|x| x.destination.is_none() && x.gateway == r.gateway));
            nl.delete_address(&a)?;
            assert!(!nl.addresses(Some(d.index))?.contains(&a));
            nl.create_link(&LinkSpec {
                name: "va".into(),
                kind: LinkKind::Veth {
                    peer: "vb".into(),
                    peer_netns_fd: None,
                },
                mtu: None,
                mac: None,
            })?;
            assert_eq!(nl.require_link("vb")?.kind.as_deref(), Some("veth"));
            let va = nl.require_link("va")?;
            nl.delete_link(va.index)?;
            assert!(nl.link_by_name("vb")?.is_none());
            Ok(())
        })
        .unwrap();
    }
}
