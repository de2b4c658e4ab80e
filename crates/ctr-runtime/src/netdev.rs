//! `linux.netDevices` (runtime-spec 1.3): host network interfaces moved
//! into the container's network namespace at create, renamed when asked,
//! with their addresses (which the kernel drops on a namespace change)
//! added again and the link set up, as runc does. On delete, and when a
//! create fails after some were moved, each is set down and moved back to
//! the runtime's namespace under its original name, with its addresses
//! (the spec: the runtime moves the device back before the namespace goes,
//! down, with its name restored). All of it over netlink (@ctr/netns's
//! client), never by running `ip`.

use crate::Code;
use ctr_common::{Error, Result};
use ctr_netns::netlink::{Address, LinkChange, Netlink, NsTarget, RtNetlink};
use ctr_netns::ns::Netns;
use serde::{Deserialize, Serialize};
use std::os::fd::AsRawFd;

/// One device to move: its name on the host and in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDevice {
    /// Name in the runtime's network namespace (the entry key).
    pub host_name: String,
    /// Name in the container (`name`, or the host name).
    pub name: String,
}

/// A device that was moved in, as state.json keeps it for delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MovedDevice {
    /// Name in the runtime's network namespace, restored on the way back.
    pub host_name: String,
    /// Name in the container.
    pub name: String,
    /// Its addresses when it was moved (`ip/prefix`), restored on the way back.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// It was up on the host (restored when a failed create undoes the move).
    #[serde(default)]
    pub up: bool,
}

fn field(host: &str) -> String {
    format!("linux.netDevices.{host}")
}

/// Check `linux.netDevices` against the rest of the config: names valid as
/// interface names (1-15 bytes, no `/`, `:` or whitespace), no two devices
/// with one name inside, and a network namespace of the container's own
/// (new or joined by path): moving a device into the runtime's own
/// namespace would be no isolation at all.
pub fn plan(
    devices: &std::collections::BTreeMap<String, ctr_oci::types::NetDevice>,
    has_netns: bool,
) -> Result<Vec<PlannedDevice>> {
    if devices.is_empty() {
        return Ok(vec![]);
    }
    if !has_netns {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            "linux.netDevices: needs a network namespace of the container's own (add {\"type\":\"network\"} to linux.namespaces, or a path to join)",
        )
        .with_field("linux.netDevices"));
    }
    let mut out: Vec<PlannedDevice> = Vec::new();
    for (host, d) in devices {
        ctr_netns::netlink::validate_ifname(host).map_err(|e| {
            Error::new(
                ctr_oci::Code::Invalid,
                format!("{}: {}", field(host), e.message),
            )
            .with_field(field(host))
        })?;
        let name = d
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| host.clone());
        ctr_netns::netlink::validate_ifname(&name).map_err(|e| {
            Error::new(
                ctr_oci::Code::Invalid,
                format!("{}.name: {}", field(host), e.message),
            )
            .with_field(format!("{}.name", field(host)))
        })?;
        if let Some(other) = out.iter().find(|p| p.name == name) {
            return Err(Error::new(
                ctr_oci::Code::Invalid,
                format!(
                    "{}.name: {name:?} is also the name of linux.netDevices.{} in the container",
                    field(host),
                    other.host_name
                ),
            )
            .with_field(format!("{}.name", field(host))));
        }
        out.push(PlannedDevice {
            host_name: host.clone(),
            name,
        });
    }
    Ok(out)
}

fn no_device(host: &str) -> Error {
    Error::new(
        Code::NetDevice,
        format!(
            "{}: no network device {host:?} in the runtime's network namespace: no such device",
            field(host)
        ),
    )
    .with_field(field(host))
    .with_errno(libc::ENODEV)
    .with_syscall("RTM_GETLINK")
}

fn named(host: &str, e: Error) -> Error {
    let msg = format!("{}: {}", field(host), e.message);
    Error {
        code: Code::NetDevice.into(),
        message: msg,
        ..e
    }
    .with_field(field(host))
}

/// Check that every device exists in the runtime's network namespace,
/// before anything is made (a missing one: `ERUNTIME_NET_DEVICE`, ENODEV).
pub fn check_host(devices: &[PlannedDevice]) -> Result<()> {
    if devices.is_empty() {
        return Ok(());
    }
    let mut nl = RtNetlink::new()?;
    for d in devices {
        if nl.link_by_name(&d.host_name)?.is_none() {
            return Err(no_device(&d.host_name));
        }
    }
    Ok(())
}

fn is_link_local_v6(a: &Address) -> bool {
    matches!(a.address, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// Move `devices` into the network namespace of `pid`. Every device moved
/// is pushed on `moved` as soon as it left the host, so that a failure half
/// way can be undone with [`move_out`] (which the caller does, before the
/// namespace can go away).
pub fn move_in(devices: &[PlannedDevice], pid: i32, moved: &mut Vec<MovedDevice>) -> Result<()> {
    if devices.is_empty() {
        return Ok(());
    }
    let ns = ctr_netns::ns::open_pid(pid)?;
    let mut nl = RtNetlink::new()?;
    for d in devices {
        let link = nl
            .link_by_name(&d.host_name)?
            .ok_or_else(|| no_device(&d.host_name))?;
        let addrs: Vec<Address> = nl
            .addresses(Some(link.index))?
            .into_iter()
            .filter(|a| !is_link_local_v6(a))
            .collect();
        // Down first (runc does: no traffic while it changes hands), then
        // rename and move in one message, so the name never clashes in
        // either namespace.
        nl.set_link(
            link.index,
            &LinkChange {
                up: Some(false),
                ..Default::default()
            },
        )
        .map_err(|e| named(&d.host_name, e))?;
        let change = LinkChange {
            name: (d.name != d.host_name).then(|| d.name.clone()),
            netns: Some(NsTarget::Pid(pid as u32)),
            ..Default::default()
        };
        let record = |name: &str| MovedDevice {
            host_name: d.host_name.clone(),
            name: name.to_string(),
            addresses: addrs
                .iter()
                .map(|a| format!("{}/{}", a.address, a.prefix))
                .collect(),
            up: link.up,
        };
        if let Err(e) = nl.set_link(link.index, &change) {
            // The kernel may have moved it and then failed the rename (a
            // name taken in the container, EEXIST): then it is in there
            // under its host name, and must be moved back like the others.
            let still_here = nl
                .links()?
                .iter()
                .any(|l| l.index == link.index && l.name == d.host_name);
            if still_here {
                if link.up {
                    let _ = nl.set_link(
                        link.index,
                        &LinkChange {
                            up: Some(true),
                            ..Default::default()
                        },
                    );
                }
            } else {
                let (a, b) = (d.name.clone(), d.host_name.clone());
                let found = ctr_netns::ns::in_netns(&ns, move || {
                    let mut nl = RtNetlink::new()?;
                    Ok(if nl.link_by_name(&b)?.is_some() {
                        Some(b)
                    } else {
                        nl.link_by_name(&a)?.map(|_| a)
                    })
                });
                if let Ok(Some(name)) = found {
                    moved.push(record(&name));
                }
            }
            return Err(named(&d.host_name, e));
        }
        moved.push(record(&d.name));
        let (name, host) = (d.name.clone(), d.host_name.clone());
        ctr_netns::ns::in_netns(&ns, move || {
            let mut nl = RtNetlink::new()?;
            let l = nl.require_link(&name)?;
            for a in addrs {
                match nl.add_address(&Address {
                    index: l.index,
                    ..a
                }) {
                    Err(e) if e.errno == Some(libc::EEXIST) => {}
                    r => r?,
                }
            }
            nl.set_link(
                l.index,
                &LinkChange {
                    up: Some(true),
                    ..Default::default()
                },
            )
        })
        .map_err(|e| named(&host, e))?;
    }
    Ok(())
}

fn parse_addr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (ip, prefix) = s.split_once('/')?;
    Some((ip.parse().ok()?, prefix.parse().ok()?))
}

/// Move devices back from the network namespace `ns` to the runtime's:
/// down, under their host names, with their addresses. With `restore_up`
/// (undoing a failed create: nothing changed) a device that was up is set
/// up again; on delete they stay down, as the spec asks. Best effort over
/// the whole list; the first error is returned.
pub fn move_out(moved: &[MovedDevice], ns: &Netns, restore_up: bool) -> Result<()> {
    let mut first: Option<Error> = None;
    let host = ctr_netns::ns::open_current()?;
    for d in moved.iter().rev() {
        let (name, host_name, host_fd) = (d.name.clone(), d.host_name.clone(), host.as_raw_fd());
        let r = ctr_netns::ns::in_netns(ns, move || {
            let mut nl = RtNetlink::new()?;
            let Some(l) = nl.link_by_name(&name)? else {
                return Ok(false); // gone with the namespace, or renamed by the container
            };
            nl.set_link(
                l.index,
                &LinkChange {
                    up: Some(false),
                    ..Default::default()
                },
            )?;
            let change = LinkChange {
                name: (name != host_name).then(|| host_name.clone()),
                netns: Some(NsTarget::Fd(host_fd)),
                ..Default::default()
            };
            nl.set_link(l.index, &change)?;
            Ok(true)
        });
        let r = r.and_then(|back| {
            if !back {
                return Ok(());
            }
            let mut nl = RtNetlink::new()?;
            let l = nl.require_link(&d.host_name)?;
            for a in d.addresses.iter().filter_map(|a| parse_addr(a)) {
                match nl.add_address(&Address {
                    index: l.index,
                    address: a.0,
                    prefix: a.1,
                }) {
                    Err(e) if e.errno == Some(libc::EEXIST) => {}
                    r => r?,
                }
            }
            if restore_up && d.up {
                nl.set_link(
                    l.index,
                    &LinkChange {
                        up: Some(true),
                        ..Default::default()
                    },
                )?;
            }
            Ok(())
        });
        if let Err(e) = r {
            first.get_or_insert(named(&d.host_name, e));
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctr_oci::types::NetDevice;
    use std::collections::BTreeMap;

    fn devs(list: &[(&str, Option<&str>)]) -> BTreeMap<String, NetDevice> {
        list.iter()
            .map(|(h, n)| {
                (
                    h.to_string(),
                    NetDevice {
                        name: n.map(String::from),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn names_are_checked_and_a_netns_is_required() {
        let p = plan(
            &devs(&[("eth1", Some("data0")), ("eth2", None), ("eth3", Some(""))]),
            true,
        )
        .unwrap();
        assert_eq!(
            p.iter()
                .map(|d| (d.host_name.as_str(), d.name.as_str()))
                .collect::<Vec<_>>(),
            vec![("eth1", "data0"), ("eth2", "eth2"), ("eth3", "eth3")]
        );
        assert!(plan(&devs(&[]), false).unwrap().is_empty());
        let e = plan(&devs(&[("eth1", None)]), false).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (ctr_oci::Code::Invalid.as_str(), Some("linux.netDevices"))
        );
        let cases = [
            (devs(&[("a/b", None)]), "linux.netDevices.a/b"),
            (devs(&[("has space", None)]), "linux.netDevices.has space"),
            (
                devs(&[("sixteen-chars-xx", None)]),
                "linux.netDevices.sixteen-chars-xx",
            ),
            (
                devs(&[("eth1", Some("x".repeat(16).as_str()))]),
                "linux.netDevices.eth1.name",
            ),
            (devs(&[("eth1", Some("a:b"))]), "linux.netDevices.eth1.name"),
            (
                devs(&[("eth1", Some("in\t"))]),
                "linux.netDevices.eth1.name",
            ),
            (
                devs(&[("eth1", Some("same")), ("eth2", Some("same"))]),
                "linux.netDevices.eth2.name",
            ),
        ];
        for (d, f) in cases {
            let e = plan(&d, true).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.path.as_deref()),
                (ctr_oci::Code::Invalid.as_str(), Some(f)),
                "{d:?}"
            );
        }
    }

    #[test]
    fn saved_addresses_parse_back() {
        assert_eq!(
            parse_addr("10.1.2.3/24"),
            Some(("10.1.2.3".parse().unwrap(), 24))
        );
        assert_eq!(
            parse_addr("fd00::1/64"),
            Some(("fd00::1".parse().unwrap(), 64))
        );
        assert_eq!(parse_addr("nope"), None);
    }
}
