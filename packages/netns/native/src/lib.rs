//! Node-API binding of `ctr-netns`. No logic here: argument conversion and
//! async plumbing only. Every call that touches the kernel runs on a tokio
//! blocking thread; work inside a namespace runs on a further dedicated
//! thread that joined it (`ctr_netns::ns::in_netns`).
#![deny(clippy::all)]

use ctr_common::Error;
use ctr_netns::bridge::{self, AttachOptions, CreateOptions};
use ctr_netns::netlink::{
    self, Address, LinkChange, LinkKind, LinkSpec, Netlink, NsTarget, Route, RtNetlink,
};
use ctr_netns::nft::{LibNft, PortMap, Proto};
use ctr_netns::ns::{self, Netns};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use ctr_napi::promise as blocking;

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))
}

/// An open network namespace (the fd keeps it alive until close()).
#[napi]
pub struct NativeNetns {
    inner: Mutex<Option<Arc<Netns>>>,
    inode: i64,
    name: Option<String>,
    path: Option<String>,
    /// An anonymous namespace's own path (a bind mount), removed at close.
    anonymous_path: Mutex<Option<std::path::PathBuf>>,
    anonymous: bool,
}

impl NativeNetns {
    fn wrap(n: Netns) -> NativeNetns {
        NativeNetns {
            inode: n.inode as i64,
            name: n.name.clone(),
            path: n.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            anonymous_path: Mutex::new(None),
            anonymous: false,
            inner: Mutex::new(Some(Arc::new(n))),
        }
    }
    fn wrap_anonymous(n: Netns) -> NativeNetns {
        let path = n.path.clone();
        let mut w = NativeNetns::wrap(n);
        w.anonymous = true;
        *w.anonymous_path.lock().unwrap() = path;
        w
    }
    fn ns(&self) -> Result<Arc<Netns>, Error> {
        self.inner.lock().unwrap().clone().ok_or_else(|| {
            Error::new(
                ctr_netns::Code::Closed,
                "the network namespace handle was closed",
            )
        })
    }
    /// Run `f` with a netlink client inside this namespace, off the main thread.
    fn with_nl<'e, T, F>(&self, env: &'e Env, f: F) -> napi::Result<PromiseRaw<'e, T>>
    where
        T: 'static + Send + napi::bindgen_prelude::ToNapiValue,
        F: FnOnce(&mut RtNetlink) -> Result<T, Error> + Send + 'static,
    {
        let ns = self.ns()?;
        blocking(env, move || {
            ns::in_netns(&ns, move || {
                let mut nl = RtNetlink::new()?;
                f(&mut nl)
            })
        })
    }
}

/// A link to create, as the TS layer hands it over.
#[napi(object)]
pub struct NativeLinkSpec {
    /// Name.
    pub name: String,
    /// veth | bridge | dummy | macvlan.
    pub kind: String,
    /// Peer name (veth).
    pub peer: Option<String>,
    /// Parent link name (macvlan).
    pub parent: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// MAC address.
    pub mac: Option<String>,
}

/// Changes to a link.
#[napi(object)]
pub struct NativeLinkChange {
    /// Set up/down.
    pub up: Option<bool>,
    /// MTU.
    pub mtu: Option<u32>,
    /// MAC address.
    pub mac: Option<String>,
    /// Master link name; empty string releases it.
    pub master: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// Move into the namespace of this pid.
    pub netns_pid: Option<u32>,
}

/// A route, as plain strings.
#[napi(object)]
pub struct NativeRoute {
    /// Destination CIDR, absent for the default route.
    pub destination: Option<String>,
    /// Gateway address.
    pub gateway: Option<String>,
    /// Output interface name.
    pub dev: Option<String>,
    /// IPv6 default route (when neither destination nor gateway tell).
    pub v6: Option<bool>,
}

fn parse_cidr(s: &str, field: &str) -> Result<(IpAddr, u8), Error> {
    let bad = || {
        Error::new(
            ctr_netns::Code::InvalidAddress,
            format!("invalid address {s:?} (expected address/prefix)"),
        )
        .with_field(field)
    };
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = a.parse().map_err(|_| bad())?;
    let p: u8 = p.parse().map_err(|_| bad())?;
    if p > if ip.is_ipv4() { 32 } else { 128 } {
        return Err(bad());
    }
    Ok((ip, p))
}

fn parse_ip(s: &str, field: &str) -> Result<IpAddr, Error> {
    s.parse().map_err(|_| {
        Error::new(
            ctr_netns::Code::InvalidAddress,
            format!("invalid address {s:?}"),
        )
        .with_field(field)
    })
}

fn to_route(nl: &mut RtNetlink, r: &NativeRoute) -> Result<Route, Error> {
    Ok(Route {
        destination: r
            .destination
            .as_deref()
            .map(|d| parse_cidr(d, "destination"))
            .transpose()?,
        gateway: r
            .gateway
            .as_deref()
            .map(|g| parse_ip(g, "gateway"))
            .transpose()?,
        oif: match &r.dev {
            Some(d) => Some(nl.require_link(d)?.index),
            None => None,
        },
        v6: r.v6.unwrap_or(false),
    })
}

#[napi]
impl NativeNetns {
    /// Inode of the namespace.
    #[napi(getter)]
    pub fn inode(&self) -> i64 {
        self.inode
    }
    /// Name under /run/netns, if named.
    #[napi(getter)]
    pub fn name(&self) -> Option<String> {
        self.name.clone()
    }
    /// Path it was opened from, or an anonymous namespace's own path while
    /// it is open (none once closed: close removed it).
    #[napi(getter)]
    pub fn path(&self) -> Option<String> {
        if self.anonymous && self.inner.lock().unwrap().is_none() {
            return None;
        }
        self.path.clone()
    }

    /// The fd (-1 once closed).
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner
            .lock()
            .unwrap()
            .as_ref()
            .map(|n| n.as_raw_fd())
            .unwrap_or(-1)
    }
    /// Close the fd (pending operations keep their own reference); an
    /// anonymous namespace's path is removed.
    #[napi]
    pub fn close(&self) -> napi::Result<()> {
        self.inner.lock().unwrap().take();
        if let Some(p) = self.anonymous_path.lock().unwrap().take() {
            ns::release_anonymous(&p)?;
        }
        Ok(())
    }

    /// Every link, as plain objects.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub fn links<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        self.with_nl(env, |nl| to_json(&nl.links()?))
    }

    /// One link or null.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn link<'e>(&self, env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, Value>> {
        self.with_nl(env, move |nl| to_json(&nl.link_by_name(&name)?))
    }

    /// Create a link. `peer_netns_fd` puts a veth peer in another namespace.
    #[napi]
    pub fn create_link<'e>(
        &self,
        env: &'e Env,
        spec: NativeLinkSpec,
        peer_netns: Option<&NativeNetns>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let peer_ns = match peer_netns {
            Some(p) => Some(p.ns()?),
            None => None,
        };
        self.with_nl(env, move |nl| {
            let kind = match spec.kind.as_str() {
                "veth" => LinkKind::Veth {
                    peer: spec.peer.clone().ok_or_else(|| {
                        Error::new(ctr_netns::Code::InvalidOption, "a veth needs a peer name")
                            .with_field("peer")
                    })?,
                    peer_netns_fd: peer_ns.as_ref().map(|n| n.as_raw_fd()),
                },
                "bridge" => LinkKind::Bridge,
                "dummy" => LinkKind::Dummy,
                "macvlan" => {
                    let p = spec.parent.as_deref().ok_or_else(|| {
                        Error::new(
                            ctr_netns::Code::InvalidOption,
                            "a macvlan needs a parent link",
                        )
                        .with_field("parent")
                    })?;
                    LinkKind::Macvlan {
                        parent: nl.require_link(p)?.index,
                    }
                }
                k => {
                    return Err(Error::new(
                        ctr_netns::Code::InvalidOption,
                        format!("unknown link kind {k:?}"),
                    )
                    .with_field("kind"))
                }
            };
            let mac = spec.mac.as_deref().map(netlink::parse_mac).transpose()?;
            nl.create_link(&LinkSpec {
                name: spec.name.clone(),
                kind,
                mtu: spec.mtu,
                mac,
            })
        })
    }

    /// Change a link (by name). `netns` moves it into another namespace.
    #[napi]
    pub fn set_link<'e>(
        &self,
        env: &'e Env,
        name: String,
        change: NativeLinkChange,
        netns: Option<&NativeNetns>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let target = match netns {
            Some(p) => Some(p.ns()?),
            None => None,
        };
        self.with_nl(env, move |nl| {
            let link = nl.require_link(&name)?;
            let master = match change.master.as_deref() {
                None => None,
                Some("") => Some(0),
                Some(m) => Some(nl.require_link(m)?.index),
            };
            let ns_target = match (&target, change.netns_pid) {
                (Some(t), _) => Some(NsTarget::Fd(t.as_raw_fd())),
                (None, Some(pid)) => Some(NsTarget::Pid(pid)),
                _ => None,
            };
            let c = LinkChange {
                up: change.up,
                mtu: change.mtu,
                mac: change.mac.as_deref().map(netlink::parse_mac).transpose()?,
                master,
                name: change.name.clone(),
                netns: ns_target,
            };
            nl.set_link(link.index, &c)
        })
    }

    /// Delete a link by name.
    #[napi]
    pub fn delete_link<'e>(&self, env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, ()>> {
        self.with_nl(env, move |nl| {
            let l = nl.require_link(&name)?;
            nl.delete_link(l.index)
        })
    }

    /// Addresses (of one link, by name, or all) as {index, address, prefix}.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub fn addresses<'e>(
        &self,
        env: &'e Env,
        link: Option<String>,
    ) -> napi::Result<PromiseRaw<'e, Value>> {
        self.with_nl(env, move |nl| {
            let idx = match &link {
                Some(l) => Some(nl.require_link(l)?.index),
                None => None,
            };
            to_json(&nl.addresses(idx)?)
        })
    }

    /// Add `cidr` to link `name`.
    #[napi]
    pub fn add_address<'e>(
        &self,
        env: &'e Env,
        name: String,
        cidr: String,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let (ip, prefix) = parse_cidr(&cidr, "address")?;
        self.with_nl(env, move |nl| {
            let l = nl.require_link(&name)?;
            nl.add_address(&Address {
                index: l.index,
                address: ip,
                prefix,
            })
        })
    }

    /// Delete `cidr` from link `name`.
    #[napi]
    pub fn delete_address<'e>(
        &self,
        env: &'e Env,
        name: String,
        cidr: String,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let (ip, prefix) = parse_cidr(&cidr, "address")?;
        self.with_nl(env, move |nl| {
            let l = nl.require_link(&name)?;
            nl.delete_address(&Address {
                index: l.index,
                address: ip,
                prefix,
            })
        })
    }

    /// Routes of the main table.
    #[napi(ts_return_type = "Promise<any[]>")]
    pub fn routes<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
        self.with_nl(env, |nl| to_json(&nl.routes()?))
    }

    /// Add a route.
    #[napi]
    pub fn add_route<'e>(
        &self,
        env: &'e Env,
        route: NativeRoute,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        self.with_nl(env, move |nl| {
            let r = to_route(nl, &route)?;
            nl.add_route(&r)
        })
    }

    /// Delete a route.
    #[napi]
    pub fn delete_route<'e>(
        &self,
        env: &'e Env,
        route: NativeRoute,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        self.with_nl(env, move |nl| {
            let r = to_route(nl, &route)?;
            nl.delete_route(&r)
        })
    }

    /// Bring `lo` up.
    #[napi]
    pub fn loopback_up<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, ()>> {
        self.with_nl(env, |nl| nl.loopback_up())
    }
}

/// Create /run/netns/NAME.
#[napi]
pub fn create_named<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, move || ns::create_named(&name).map(NativeNetns::wrap))
}

/// Open /run/netns/NAME.
#[napi]
pub fn open_named<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, move || ns::open_named(&name).map(NativeNetns::wrap))
}

/// Open a namespace file.
#[napi]
pub fn open_path<'e>(env: &'e Env, path: String) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, move || ns::open_path_ns(&path).map(NativeNetns::wrap))
}

/// Open the namespace of a process.
#[napi]
pub fn open_pid<'e>(env: &'e Env, pid: i32) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, move || ns::open_pid(pid).map(NativeNetns::wrap))
}

/// Open this process's namespace (the host network).
#[napi]
pub fn open_current<'e>(env: &'e Env) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, || ns::open_current().map(NativeNetns::wrap))
}

/// Create an anonymous namespace held by an fd.
#[napi]
pub fn create_anonymous<'e>(env: &'e Env) -> napi::Result<PromiseRaw<'e, NativeNetns>> {
    blocking(env, || {
        ns::create_anonymous_maybe_at(&ns::anonymous_dir()).map(NativeNetns::wrap_anonymous)
    })
}

/// Unmount and remove /run/netns/NAME.
#[napi]
pub fn delete_named<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, ()>> {
    blocking(env, move || ns::delete_named(&name))
}

/// Names under /run/netns.
#[napi]
pub fn list_named<'e>(env: &'e Env) -> napi::Result<PromiseRaw<'e, Vec<String>>> {
    blocking(env, ns::list_named)
}

/// Options of networkCreate.
#[napi(object)]
pub struct NativeNetworkOptions {
    /// Network name.
    pub name: String,
    /// Subnet CIDR.
    pub subnet: String,
    /// Gateway.
    pub gateway: Option<String>,
    /// Bridge name.
    pub bridge: Option<String>,
}

/// A published port.
#[napi(object)]
pub struct NativePort {
    /// Host port.
    pub host_port: u32,
    /// Container port.
    pub container_port: u32,
    /// tcp | udp.
    pub protocol: String,
}

/// Options of networkAttach.
#[napi(object)]
pub struct NativeAttachOptions {
    /// Lease id recorded by the caller before the attach (default: random).
    pub id: Option<String>,
    /// Interface name in the namespace.
    pub ifname: Option<String>,
    /// Specific address.
    pub address: Option<String>,
    /// Published ports.
    pub ports: Vec<NativePort>,
}

/// Create a bridge network.
#[napi(ts_return_type = "Promise<any>")]
pub fn network_create<'e>(
    env: &'e Env,
    opts: NativeNetworkOptions,
) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, move || {
        let o = CreateOptions {
            name: opts.name,
            subnet: opts.subnet,
            gateway: opts.gateway,
            bridge: opts.bridge,
        };
        to_json(&bridge::create(
            &ctr_netns::state_root(),
            &mut RtNetlink::new()?,
            &mut LibNft,
            &o,
        )?)
    })
}

/// Load a network's config.
#[napi(ts_return_type = "Promise<any>")]
pub fn network_open<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, move || {
        to_json(&bridge::load(&ctr_netns::state_root(), &name)?)
    })
}

/// Where networks keep their state (`CTR_NETNS_STATE_DIR` or `/run/ctr/netns`).
#[napi]
pub fn network_state_root() -> String {
    ctr_netns::state_root().to_string_lossy().into_owned()
}

/// Connect (or with `connect` false, isolate again) two bridge networks.
#[napi]
pub fn network_connect<'e>(
    env: &'e Env,
    a: String,
    b: String,
    connect: bool,
) -> napi::Result<PromiseRaw<'e, ()>> {
    blocking(env, move || {
        bridge::connect(&ctr_netns::state_root(), &a, &b, &mut LibNft, connect)
    })
}

/// Every network.
#[napi(ts_return_type = "Promise<any[]>")]
pub fn network_list<'e>(env: &'e Env) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, || to_json(&bridge::list(&ctr_netns::state_root())?))
}

/// Attach a namespace.
#[napi(ts_return_type = "Promise<any>")]
pub fn network_attach<'e>(
    env: &'e Env,
    name: String,
    netns: &NativeNetns,
    opts: NativeAttachOptions,
) -> napi::Result<PromiseRaw<'e, Value>> {
    let target = netns.ns()?;
    let mut ports = Vec::new();
    for (i, p) in opts.ports.iter().enumerate() {
        let bad = |what: &str| {
            Error::new(ctr_netns::Code::InvalidPort, format!("invalid {what}"))
                .with_field(format!("ports[{i}]"))
        };
        let protocol = match p.protocol.as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(bad("protocol (tcp or udp)").into()),
        };
        let host_port = u16::try_from(p.host_port).map_err(|_| bad("host port"))?;
        let container_port = u16::try_from(p.container_port).map_err(|_| bad("container port"))?;
        ports.push(PortMap {
            host_port,
            container_port,
            protocol,
        });
    }
    let o = AttachOptions {
        id: opts.id,
        ifname: opts.ifname,
        address: opts.address,
        ports,
    };
    blocking(env, move || {
        let att = bridge::attach(
            &ctr_netns::state_root(),
            &name,
            &mut RtNetlink::new()?,
            &mut LibNft,
            &target,
            &o,
            &mut |ns, setup| {
                ns::in_netns(ns, move || {
                    bridge::configure_inside(&mut RtNetlink::new()?, &setup)
                })
            },
        )?;
        to_json(&att)
    })
}

/// Detach by lease id.
#[napi(ts_return_type = "Promise<any>")]
pub fn network_detach<'e>(
    env: &'e Env,
    name: String,
    id: String,
) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, move || {
        to_json(&bridge::detach(
            &ctr_netns::state_root(),
            &name,
            &mut RtNetlink::new()?,
            &mut LibNft,
            &id,
        )?)
    })
}

/// Release the leases of namespaces that died without a detach.
#[napi(ts_return_type = "Promise<any[]>")]
pub fn network_prune<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, move || {
        to_json(&bridge::prune(
            &ctr_netns::state_root(),
            &name,
            &mut RtNetlink::new()?,
            &mut LibNft,
        )?)
    })
}

/// Attachments of a network.
#[napi(ts_return_type = "Promise<any[]>")]
pub fn network_attachments<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, Value>> {
    blocking(env, move || {
        to_json(&bridge::attachments(&ctr_netns::state_root(), &name)?)
    })
}

/// Delete a network and everything attached.
#[napi]
pub fn network_delete<'e>(env: &'e Env, name: String) -> napi::Result<PromiseRaw<'e, ()>> {
    blocking(env, move || {
        bridge::delete(
            &ctr_netns::state_root(),
            &name,
            &mut RtNetlink::new()?,
            &mut LibNft,
        )
    })
}

/// The caller's network namespace.
#[napi(object)]
pub struct NativeCurrentNetns {
    /// Inode of /proc/self/ns/net.
    pub inode: i64,
    /// Interface names.
    pub links: Vec<String>,
}

/// Describe the caller's network namespace.
#[napi]
pub fn current() -> napi::Result<NativeCurrentNetns> {
    let n = ctr_common::catch_panic(ctr_netns::current)?;
    Ok(NativeCurrentNetns {
        inode: n.inode as i64,
        links: n.links,
    })
}
