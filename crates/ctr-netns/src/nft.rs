//! nftables through libnftables: the NAT table of a bridge network and its
//! published ports.
//!
//! [`Nft`] is the seam: [`LibNft`] hands command text to
//! `nft_run_cmd_from_buffer` in-process (no `nft` binary is run), and
//! [`fake::FakeNft`] records commands for unit tests. The rule text is built
//! by plain functions ([`table_ruleset`], [`port_element`]) tested here.
//!
//! libnftables is opened with `dlopen` the first time NAT or a published port
//! is asked for, never linked: the addons and `ctrun` load on hosts without
//! it, and only the features that need it fail, with `ENETNS_NFT_MISSING`
//! naming the library and the package that provides it.

use crate::Code;
use crate::{Error, Result};
use std::ffi::{CStr, CString};
use std::net::Ipv4Addr;
use std::os::raw::{c_char, c_int, c_uint};
use std::sync::Mutex;

/// Runs nft command text.
pub trait Nft {
    /// Run `cmds` (one or more lines of `nft -f` syntax) as one transaction.
    fn run(&mut self, cmds: &str) -> Result<String>;

    /// Whether commands can run at all, checked before anything is created
    /// for them (`ENETNS_NFT_MISSING` without libnftables).
    fn ready(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The shared object opened on first use (its soname: the ABI we speak).
pub const LIBNFTABLES: &str = "libnftables.so.1";

#[repr(C)]
struct NftCtx {
    _p: [u8; 0],
}

/// The libnftables entry points we use, resolved from the opened library.
struct Api {
    ctx_new: unsafe extern "C" fn(flags: u32) -> *mut NftCtx,
    buffer_output: unsafe extern "C" fn(ctx: *mut NftCtx) -> c_int,
    buffer_error: unsafe extern "C" fn(ctx: *mut NftCtx) -> c_int,
    get_output_buffer: unsafe extern "C" fn(ctx: *mut NftCtx) -> *const c_char,
    get_error_buffer: unsafe extern "C" fn(ctx: *mut NftCtx) -> *const c_char,
    output_set_flags: unsafe extern "C" fn(ctx: *mut NftCtx, flags: c_uint),
    run_cmd_from_buffer: unsafe extern "C" fn(ctx: *mut NftCtx, buf: *const c_char) -> c_int,
    // Keeps the function pointers above valid: never unloaded once opened.
    _lib: libloading::Library,
}

/// What the dynamic loader said (libloading keeps dlerror() in the source).
fn dl_reason(e: &libloading::Error) -> String {
    let mut why = e.to_string();
    if let Some(src) = std::error::Error::source(e) {
        why = format!("{why}: {src}");
    }
    why.to_lowercase()
}

/// The coded error for a host without libnftables (or a broken one).
fn missing(lib: &str, why: &str) -> Error {
    Error::new(
        Code::NftMissing,
        format!(
            "nat and published ports need {lib} ({why}); install it: debian/ubuntu `apt install libnftables1`, \
             alpine `apk add libnftables`, fedora/rhel `dnf install nftables`"
        ),
    )
    .with_syscall("dlopen")
}

impl Api {
    /// Open `lib` and resolve every entry point, or say which is missing.
    fn open(lib: &str) -> Result<Api> {
        // SAFETY: loading libnftables runs its constructors, which only set
        // up its own state; each symbol is given the C signature of
        // <nftables/libnftables.h> (stable since libnftables.so.1).
        unsafe {
            let l = libloading::Library::new(lib).map_err(|e| missing(lib, &dl_reason(&e)))?;
            macro_rules! sym {
                ($name:literal) => {
                    *l.get(concat!($name, "\0").as_bytes())
                        .map_err(|e| missing(lib, &dl_reason(&e)))?
                };
            }
            Ok(Api {
                ctx_new: sym!("nft_ctx_new"),
                buffer_output: sym!("nft_ctx_buffer_output"),
                buffer_error: sym!("nft_ctx_buffer_error"),
                get_output_buffer: sym!("nft_ctx_get_output_buffer"),
                get_error_buffer: sym!("nft_ctx_get_error_buffer"),
                output_set_flags: sym!("nft_ctx_output_set_flags"),
                run_cmd_from_buffer: sym!("nft_run_cmd_from_buffer"),
                _lib: l,
            })
        }
    }
}

// A libnftables context is not thread-safe: one per process, created on
// first use (opening the library and creating a context cost more than most
// commands), and every use serialised by this lock. A failed open is not
// remembered: installing the library makes the next call work.
struct Ctx {
    api: Api,
    ctx: *mut NftCtx,
}
// SAFETY: the context is only ever touched with NFT_CTX locked.
unsafe impl Send for Ctx {}
static NFT_CTX: Mutex<Option<Ctx>> = Mutex::new(None);

/// The real back end: the process's libnftables context.
#[derive(Debug, Default)]
pub struct LibNft;

/// Check that libnftables can be opened (what NAT and published ports need),
/// without creating a context. `Err` is `ENETNS_NFT_MISSING`.
pub fn available() -> Result<()> {
    let guard = NFT_CTX.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_some() {
        return Ok(());
    }
    Api::open(LIBNFTABLES).map(drop)
}

impl Nft for LibNft {
    fn ready(&mut self) -> Result<()> {
        available()
    }

    fn run(&mut self, cmds: &str) -> Result<String> {
        let c = CString::new(cmds)
            .map_err(|_| Error::new(Code::Nft, "nft commands contain a nul byte"))?;
        let mut guard = NFT_CTX.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let api = Api::open(LIBNFTABLES)?;
            // SAFETY: plain libnftables API use; the context lives as long
            // as the process (it is never freed, like the library).
            let ctx = unsafe { (api.ctx_new)(0) };
            if ctx.is_null() {
                return Err(Error::new(Code::Nft, "cannot create a libnftables context"));
            }
            unsafe {
                (api.output_set_flags)(ctx, 0);
                (api.buffer_output)(ctx);
                (api.buffer_error)(ctx);
            }
            *guard = Some(Ctx { api, ctx });
        }
        let Some(Ctx { api, ctx }) = guard.as_ref() else {
            unreachable!("set above")
        };
        let ctx = *ctx;
        // SAFETY: plain libnftables API use on the process's context, under
        // the lock; the buffers returned belong to the context and are
        // copied before the next command.
        unsafe {
            let rc = (api.run_cmd_from_buffer)(ctx, c.as_ptr());
            let take = |p: *const c_char| {
                if p.is_null() {
                    String::new()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            // Reading a buffer also resets it for the next command.
            let out = take((api.get_output_buffer)(ctx));
            let err = take((api.get_error_buffer)(ctx));
            if rc != 0 {
                let first = err
                    .lines()
                    .next()
                    .unwrap_or("nft command failed")
                    .trim()
                    .to_string();
                let first = first.strip_prefix("Error: ").unwrap_or(&first).to_string();
                let lower = first.to_lowercase();
                let (code, errno) = if lower.contains("file exists") {
                    (Code::Exists.as_str(), Some(libc::EEXIST))
                } else if lower.contains("no such file") {
                    (Code::NftNotFound.as_str(), Some(libc::ENOENT))
                } else if lower.contains("operation not permitted") {
                    (Code::Permission.as_str(), Some(libc::EPERM))
                } else {
                    (Code::Nft.as_str(), None)
                };
                let mut e = Error::new(code, format!("nftables: {}", lower))
                    .with_syscall("nft_run_cmd_from_buffer");
                if let Some(n) = errno {
                    e = e.with_errno(n);
                }
                return Err(e);
            }
            Ok(out)
        }
    }
}

/// The nft table that holds a network's rules (family `ip`).
pub fn table_name(network: &str) -> String {
    format!("ctr-{network}")
}

/// The whole table of a network: NAT for traffic leaving the subnet,
/// published ports as DNAT maps (one per protocol) for traffic from other
/// hosts/namespaces (prerouting) and from this host (output), and
/// masquerading of host-loopback and hairpin connections to published
/// ports so that replies come back through the host.
///
/// Isolation: the `forward` chain drops connections routed *into* the
/// bridge from any other interface (another network's bridge above all),
/// except replies to the network's own connections, published ports
/// (DNAT), and bridges in the `peers` set ([`connect_commands`]). Traffic
/// inside the network (same bridge) and out of it is left alone. Only this
/// table is touched: no other table, no sysctl.
pub fn table_ruleset(network: &str, bridge: &str, subnet: &str) -> String {
    let t = table_name(network);
    format!(
        "table ip {t} {{\n\
         \tmap tcp_ports {{ type inet_service : ipv4_addr . inet_service; }}\n\
         \tmap udp_ports {{ type inet_service : ipv4_addr . inet_service; }}\n\
         \tset peers {{ type ifname; }}\n\
         \tchain forward {{ type filter hook forward priority filter; policy accept;\n\
         \t\toifname \"{bridge}\" iifname \"{bridge}\" accept\n\
         \t\toifname \"{bridge}\" ct state established,related accept\n\
         \t\toifname \"{bridge}\" ct status dnat accept\n\
         \t\toifname \"{bridge}\" iifname @peers accept\n\
         \t\toifname \"{bridge}\" drop\n\
         \t}}\n\
         \tchain prerouting {{ type nat hook prerouting priority dstnat; policy accept;\n\
         \t\tfib daddr type local dnat ip to tcp dport map @tcp_ports\n\
         \t\tfib daddr type local dnat ip to udp dport map @udp_ports\n\
         \t}}\n\
         \tchain output {{ type nat hook output priority -100; policy accept;\n\
         \t\tfib daddr type local dnat ip to tcp dport map @tcp_ports\n\
         \t\tfib daddr type local dnat ip to udp dport map @udp_ports\n\
         \t}}\n\
         \tchain postrouting {{ type nat hook postrouting priority srcnat; policy accept;\n\
         \t\tip saddr {subnet} ip daddr != {subnet} masquerade\n\
         \t\toifname \"{bridge}\" ip saddr 127.0.0.0/8 masquerade\n\
         \t\toifname \"{bridge}\" ct status dnat ip saddr {subnet} masquerade\n\
         \t}}\n\
         }}\n"
    )
}

/// The commands that let networks `a` and `b` (with bridges `bridge_a`,
/// `bridge_b`) reach each other: each bridge in the other's `peers` set.
/// With `connect` false, the commands that undo it.
pub fn connect_commands(a: &str, bridge_a: &str, b: &str, bridge_b: &str, connect: bool) -> String {
    let verb = if connect { "add" } else { "delete" };
    format!(
        "{verb} element ip {} peers {{ \"{bridge_b}\" }}\n{verb} element ip {} peers {{ \"{bridge_a}\" }}",
        table_name(a),
        table_name(b)
    )
}

/// Protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One published port: host port -> container address and port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMap {
    /// Port on the host.
    pub host_port: u16,
    /// Port in the namespace.
    pub container_port: u16,
    /// Protocol.
    pub protocol: Proto,
}

/// The map element of a published port, e.g.
/// `ip ctr-x tcp_ports { 8080 : 10.0.0.2 . 80 }`.
pub fn port_element(network: &str, p: &PortMap, ip: Ipv4Addr) -> String {
    format!(
        "ip {} {}_ports {{ {} : {} . {} }}",
        table_name(network),
        p.protocol.as_str(),
        p.host_port,
        ip,
        p.container_port
    )
}

/// Test double.
pub mod fake {
    use super::*;

    /// Records every command; refuses duplicates of `add element` like the
    /// kernel (the same host port twice).
    #[derive(Debug, Default)]
    pub struct FakeNft {
        /// Every command text run.
        pub log: Vec<String>,
        /// Host ports currently mapped, as `proto/port`.
        pub ports: Vec<String>,
        /// Tables present.
        pub tables: Vec<String>,
    }

    impl Nft for FakeNft {
        fn run(&mut self, cmds: &str) -> Result<String> {
            self.log.push(cmds.to_string());
            for line in cmds.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                match w.as_slice() {
                    ["table", "ip", t, ..] => self.tables.push(t.to_string()),
                    ["delete", "table", "ip", t] => {
                        let before = self.tables.len();
                        self.tables.retain(|x| x != t);
                        if before == self.tables.len() {
                            return Err(Error::new(Code::NftNotFound, "no such table"));
                        }
                    }
                    ["add" | "create", "element", "ip", _, map, "{", port, ..] => {
                        let k = format!("{}/{port}", map.trim_end_matches("_ports"));
                        if self.ports.contains(&k) {
                            return Err(Error::new(Code::Exists, "nftables: file exists"));
                        }
                        self.ports.push(k);
                    }
                    ["delete", "element", "ip", _, map, "{", port, ..] => {
                        let k = format!("{}/{port}", map.trim_end_matches("_ports"));
                        self.ports.retain(|x| x != &k);
                    }
                    _ => {}
                }
            }
            Ok(String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_names_subnet_bridge_and_maps() {
        let r = table_ruleset("ctt1", "ctt1br", "10.231.1.0/24");
        assert!(r.starts_with("table ip ctr-ctt1 {"));
        assert!(r.contains("ip saddr 10.231.1.0/24 ip daddr != 10.231.1.0/24 masquerade"));
        assert!(r.contains("oifname \"ctt1br\" ip saddr 127.0.0.0/8 masquerade"));
        assert_eq!(r.matches("dnat ip to tcp dport map @tcp_ports").count(), 2);
        // Isolation: new connections routed into the bridge are dropped
        // unless they come from the bridge itself, a peer, or a published port.
        let fwd = &r[r.find("chain forward").unwrap()..];
        let fwd = &fwd[..fwd.find('}').unwrap()];
        assert!(fwd.contains("hook forward"));
        assert!(fwd.contains("oifname \"ctt1br\" iifname \"ctt1br\" accept"));
        assert!(fwd.contains("oifname \"ctt1br\" iifname @peers accept"));
        assert!(fwd.contains("oifname \"ctt1br\" ct status dnat accept"));
        assert!(fwd.trim_end().ends_with("oifname \"ctt1br\" drop"));
        assert_eq!(
            connect_commands("a", "bra", "b", "brb", true),
            "add element ip ctr-a peers { \"brb\" }\nadd element ip ctr-b peers { \"bra\" }"
        );
        assert!(connect_commands("a", "bra", "b", "brb", false).starts_with("delete element"));
        let p = PortMap {
            host_port: 8080,
            container_port: 80,
            protocol: Proto::Tcp,
        };
        assert_eq!(
            port_element("ctt1", &p, "10.231.1.2".parse().unwrap()),
            "ip ctr-ctt1 tcp_ports { 8080 : 10.231.1.2 . 80 }"
        );
    }

    #[test]
    fn a_missing_library_is_a_coded_error_naming_it_and_its_package() {
        let e = Api::open("libnftables-ctr-test-absent.so.1")
            .err()
            .expect("no such library");
        assert_eq!(e.code, Code::NftMissing.as_str());
        assert!(
            e.message.contains("libnftables-ctr-test-absent.so.1"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("apt install libnftables1")
                && e.message.contains("apk add libnftables"),
            "{}",
            e.message
        );
        // The host's own library opens (setup installs libnftables1).
        available().unwrap();
    }

    #[test]
    fn libnftables_checks_our_ruleset() {
        // `-c`-like check: a dry run needs no privileges beyond parsing;
        // as root, really add and delete the table.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        let name = format!("cttu{}", std::process::id());
        let mut nft = LibNft;
        nft.run(&table_ruleset(&name, "cttbr0", "10.231.254.0/24"))
            .unwrap();
        let p = PortMap {
            host_port: 18080,
            container_port: 80,
            protocol: Proto::Udp,
        };
        nft.run(&format!(
            "add element {}",
            port_element(&name, &p, "10.231.254.2".parse().unwrap())
        ))
        .unwrap();
        let e = nft
            .run(&format!(
                "add element {}",
                port_element(&name, &p, "10.231.254.3".parse().unwrap())
            ))
            .unwrap_err();
        assert_eq!(e.code, Code::Exists.as_str());
        let listed = nft
            .run(&format!("list table ip {}", table_name(&name)))
            .unwrap();
        assert!(listed.contains("18080 : 10.231.254.2 . 80"), "{listed}");
        nft.run(&format!("delete table ip {}", table_name(&name)))
            .unwrap();
        let e = nft
            .run(&format!("delete table ip {}", table_name(&name)))
            .unwrap_err();
        assert_eq!(e.code, Code::NftNotFound.as_str());
        let e = nft.run("this is not nft").unwrap_err();
        assert_eq!(e.code, Code::Nft.as_str());
    }
}
