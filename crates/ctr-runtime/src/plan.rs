//! Bundle -> plan: the one mapping of an OCI config to the
//! [`ctr_ns::SpawnOptions`] of the container's init (namespaces, id maps,
//! rootfs plan, devices, sysctl, process settings) plus its cgroup. The init
//! is a plain `ctr_ns::spawn` of the user's program: no runtime binary is
//! exec'd. Anything in the config this runtime cannot apply yet fails here
//! with `ERUNTIME_UNSUPPORTED`, naming the JSON path, before anything is made.

use crate::Code;
use ctr_common::{Error, Result};
use ctr_ns::NamespaceKind;
use ctr_oci::types::*;
use ctr_oci::Bundle;

/// One mount, checked, with its options parsed once (by ctr-ns's table).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMount {
    /// Destination inside the container.
    pub destination: String,
    /// Source (host path for binds, made absolute against the bundle).
    pub source: String,
    /// File system type (`none` for binds).
    pub typ: String,
    /// The parsed options (flags, data, propagation, extensions).
    pub options: ctr_ns::MountOptions,
}

impl PlannedMount {
    /// A bind mount (`bind`/`rbind` option or type `bind`).
    pub fn is_bind(&self) -> bool {
        self.options.bind
    }
}

/// A compiled seccomp filter for the init.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSeccomp {
    /// The `struct sock_filter` array as bytes (8 bytes an instruction).
    pub bpf: Vec<u8>,
    /// `seccomp(2)` flags (`SECCOMP_FILTER_FLAG_*`, from `linux.seccomp.flags`).
    pub flags: u32,
    /// With `SCMP_ACT_NOTIFY` rules: where the listener fd goes.
    pub listener: Option<SeccompListener>,
}

/// The seccomp agent of `linux.seccomp.listenerPath`: after the filter is
/// installed the runtime sends it the listener fd with the container
/// process state (config-linux.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompListener {
    /// Absolute path of the agent's `AF_UNIX` `SOCK_STREAM` socket.
    pub path: String,
    /// `listenerMetadata`, sent as `metadata`.
    pub metadata: Option<String>,
}

/// A planned container: the init's spawn options and its cgroup.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    /// The init process, complete but for what `create` fills in (stdio,
    /// extra fds, cgroup dirs and binds, the exec FIFO).
    pub spawn: ctr_ns::SpawnOptions,
    /// The container's cgroup path.
    pub cgroup_path: String,
    /// Its resources.
    pub resources: ctr_cgroup::Resources,
    /// The config has a `cgroup`/`cgroup2` mount (needs the cgroup binds).
    pub cgroup_mount: bool,
    /// `linux.netDevices` to move into the container's network namespace.
    pub net_devices: Vec<crate::netdev::PlannedDevice>,
    /// The network namespace joined by path, if any (where the devices are
    /// found again on delete, even after the init is gone).
    pub netns_path: Option<String>,
    /// The seccomp agent to send the listener fd to (`SCMP_ACT_NOTIFY`).
    pub seccomp_listener: Option<SeccompListener>,
}

fn unsupported(path: &str, why: &str) -> Error {
    Error::new(Code::Unsupported, format!("{path}: {why}")).with_field(path.to_string())
}

/// The mount options this runtime understands (for `features`): ctr-ns's table.
pub fn mount_options() -> Vec<String> {
    ctr_ns::mountopt::known_options()
}

/// Plan one mount.
pub fn plan_mount(i: usize, m: &Mount, bundle_dir: &std::path::Path) -> Result<PlannedMount> {
    let field = format!("mounts[{i}]");
    let typ = m.typ.clone().unwrap_or_else(|| "none".into());
    let mut options = ctr_ns::parse_options(m.options.as_deref().unwrap_or_default());
    if typ == "bind" {
        options.bind = true;
        options.flags |= libc::MS_BIND;
    }
    let flags = options.flags;
    let idmap = options.idmap;
    let maps = m.uid_mappings.is_some() || m.gid_mappings.is_some();
    if maps && !idmap {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{field}.uidMappings: id mappings need the idmap or ridmap option"),
        )
        .with_field(format!("{field}.options")));
    }
    if m.uid_mappings.is_some() != m.gid_mappings.is_some() {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{field}.uidMappings: uidMappings and gidMappings go together"),
        )
        .with_field(format!("{field}.uidMappings")));
    }
    if idmap && flags & libc::MS_BIND == 0 {
        return Err(unsupported(
            &format!("{field}.options"),
            "idmap and ridmap are supported on bind mounts only",
        ));
    }
    if options.tmpcopyup && typ != "tmpfs" {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{field}.options: tmpcopyup is only for tmpfs mounts"),
        )
        .with_field(format!("{field}.options")));
    }
    if (typ == "cgroup" || typ == "cgroup2") && flags & libc::MS_BIND != 0 {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{field}.options: a {typ} mount cannot be a bind mount"),
        )
        .with_field(format!("{field}.options")));
    }
    let mut source = m.source.clone().unwrap_or_else(|| typ.clone());
    if flags & libc::MS_BIND != 0 {
        if m.source.is_none() {
            return Err(Error::new(
                ctr_oci::Code::Invalid,
                format!("{field}.source: a bind mount needs a source"),
            )
            .with_field(format!("{field}.source")));
        }
        if !source.starts_with('/') {
            source = bundle_dir.join(&source).to_string_lossy().into_owned();
        }
    }
    Ok(PlannedMount {
        destination: m.destination.clone(),
        source,
        typ,
        options,
    })
}

/// The container's cgroup as `cgroup`/`cgroup`2 mounts show it (runc
/// style, whatever the cgroup namespace): each hierarchy's directory of the
/// container bound under the mount point by the hierarchy's name
/// (`memory`, `cpu,cpuacct`, `unified`, ...), or on a unified host the one
/// cgroup2 directory bound on the mount point itself.
pub fn cgroup_binds(dirs: &[std::path::PathBuf]) -> Vec<(String, String)> {
    let hierarchies = ctr_cgroup::detect()
        .map(|l| l.hierarchies)
        .unwrap_or_default();
    let mut out = Vec::new();
    for d in dirs {
        let ds = d.to_string_lossy().into_owned();
        let Some(h) = hierarchies
            .iter()
            .filter(|h| {
                ds == h.mount_point
                    || ds.starts_with(&format!("{}/", h.mount_point.trim_end_matches('/')))
            })
            .max_by_key(|h| h.mount_point.len())
        else {
            continue;
        };
        let name = if h.mount_point.trim_end_matches('/') == "/sys/fs/cgroup" {
            String::new()
        } else {
            std::path::Path::new(&h.mount_point)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        out.push((ds, name));
    }
    out
}

/// Where compiled seccomp filters are cached on disk: `$CTRUN_SECCOMP_CACHE`,
/// else `/run/ctr/seccomp-cache` (a tmpfs: gone at reboot). Entries are
/// content-addressed (sha256 of the profile and options) and written
/// atomically, so concurrent runtimes share it safely.
pub fn seccomp_cache_dir() -> std::path::PathBuf {
    #[cfg(test)]
    if let Some(d) = tests::CACHE_DIR.with(|d| d.borrow().clone()) {
        return d;
    }
    std::env::var_os("CTRUN_SECCOMP_CACHE")
        .map(Into::into)
        .unwrap_or_else(|| "/run/ctr/seccomp-cache".into())
}

/// Parse `linux.seccomp` (the OCI object) with @ctr/seccomp and compile it
/// for the host architecture through its cache (memory, then disk).
pub fn plan_seccomp(v: &serde_json::Value, no_new_privileges: bool) -> Result<PlannedSeccomp> {
    let prefix = |e: Error| {
        let path = Some(match e.path.as_deref() {
            None | Some("$") | Some("") => "linux.seccomp".to_string(),
            Some(p) => format!("linux.seccomp.{p}"),
        });
        Error {
            message: format!("linux.seccomp: {}", e.message),
            path,
            ..e
        }
    };
    let profile = ctr_seccomp::parse_oci(v).map_err(prefix)?;
    let listener = plan_listener(v, &profile)?;
    let opts = ctr_seccomp::CompileOptions::default();
    let dir = seccomp_cache_dir();
    let prog = match ctr_seccomp::compile(&profile, &opts, Some(&dir)) {
        Ok((prog, _)) => prog,
        // An unwritable cache only costs the compile time.
        Err(e) if e.code == ctr_seccomp::Code::Cache.as_str() => {
            ctr_seccomp::compile(&profile, &opts, None)
                .map_err(prefix)?
                .0
        }
        Err(e) => return Err(prefix(e)),
    };
    let _ = no_new_privileges; // ctr-ns orders the filter around the credential change itself
    Ok(PlannedSeccomp {
        bpf: prog.bpf.clone(),
        flags: prog.flags,
        listener,
    })
}

fn invalid(path: &str, why: String) -> Error {
    Error::new(ctr_oci::Code::Invalid, format!("{path}: {why}")).with_field(path.to_string())
}

/// Check `listenerPath` / `listenerMetadata` against the profile's notify
/// rules (config-linux.md): `listenerMetadata` needs `listenerPath`;
/// `SCMP_ACT_NOTIFY` needs an absolute `listenerPath`; without notify rules
/// `listenerPath` is ignored. Notify on `write` is refused as runc does: the
/// init reports the installed filter to us with a `write` on its status
/// pipe, before we hold the listener, so that `write` would wait forever.
fn plan_listener(
    v: &serde_json::Value,
    profile: &ctr_seccomp::Profile,
) -> Result<Option<SeccompListener>> {
    if profile.listener_metadata.is_some() && profile.listener_path.is_none() {
        return Err(invalid(
            "linux.seccomp.listenerMetadata",
            "must not be set without listenerPath".into(),
        ));
    }
    if !profile.has_notify() {
        return Ok(None);
    }
    let notifies_write = profile
        .syscalls
        .iter()
        .any(|r| r.action == ctr_seccomp::Action::Notify && r.names.iter().any(|n| n == "write"));
    if notifies_write {
        // Name the rule as written (the parsed profile dropped rules that
        // do not apply to this host, so its indexes may differ).
        let i = v["syscalls"]
            .as_array()
            .and_then(|l| {
                l.iter().position(|r| {
                    r["action"] == "SCMP_ACT_NOTIFY"
                        && r["names"]
                            .as_array()
                            .is_some_and(|n| n.iter().any(|n| n == "write"))
                })
            })
            .unwrap_or(0);
        return Err(unsupported(
            &format!("linux.seccomp.syscalls[{i}].names"),
            "SCMP_ACT_NOTIFY cannot be used for the write system call (the runtime's init writes after installing the filter)",
        ));
    }
    let Some(path) = profile.listener_path.clone().filter(|p| !p.is_empty()) else {
        return Err(invalid(
            "linux.seccomp.listenerPath",
            "is required when a rule uses SCMP_ACT_NOTIFY".into(),
        ));
    };
    if !path.starts_with('/') {
        return Err(invalid(
            "linux.seccomp.listenerPath",
            format!("{path:?} is not an absolute path"),
        ));
    }
    Ok(Some(SeccompListener {
        path,
        metadata: profile.listener_metadata.clone(),
    }))
}

/// Device cgroup rules the runtime adds after the config's own, as runc
/// and crun do: the default devices of config-linux.md (which the runtime
/// MUST supply, so they must be usable even under a deny-all rule), pts and
/// ptmx for terminals, tun, mknod of any node (creating a node grants no
/// access to it), and every device of `linux.devices`. Only when the config
/// has device rules at all: without them the cgroup allows everything.
pub fn with_default_device_rules(
    mut r: ctr_cgroup::Resources,
    devices: &[ctr_oci::types::Device],
) -> ctr_cgroup::Resources {
    let Some(rules) = r.devices.as_mut() else {
        return r;
    };
    let rule = |kind: char, major: Option<i64>, minor: Option<i64>, access: &str| {
        ctr_cgroup::resources::DeviceRule {
            allow: true,
            kind,
            major,
            minor,
            access: access.into(),
        }
    };
    rules.push(rule('c', None, None, "m"));
    rules.push(rule('b', None, None, "m"));
    for (major, minor) in [
        (1, 3),
        (1, 8),
        (1, 7),
        (5, 0),
        (1, 5),
        (1, 9),
        (5, 2),
        (10, 200),
    ] {
        rules.push(rule('c', Some(major), Some(minor), "rwm"));
    }
    rules.push(rule('c', Some(136), None, "rwm"));
    for d in devices {
        let kind = match d.typ.as_str() {
            "b" => 'b',
            "c" | "u" => 'c',
            _ => continue, // fifos are not device-controlled
        };
        rules.push(rule(kind, d.major, d.minor, "rwm"));
    }
    r
}

/// A cgroup error naming a resources field (`network.classID`, `memory`)
/// names it by its config path (`linux.resources.network.classID`); file
/// paths stay as they are.
pub fn resources_field(e: Error) -> Error {
    match e.path.as_deref() {
        Some(p)
            if e.code.starts_with("ECGROUP_")
                && !p.starts_with('/')
                && !p.starts_with("linux.") =>
        {
            let field = format!("linux.resources.{p}");
            let message = match e.message.strip_prefix(p) {
                Some(rest) => format!("{field}{rest}"),
                None => format!("{field}: {}", e.message),
            };
            Error {
                message,
                path: Some(field),
                ..e
            }
        }
        _ => e,
    }
}

/// SELinux is enabled on this host (selinuxfs is mounted and reports a
/// mode), as libselinux's `is_selinux_enabled` decides.
pub fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// Plan a container from a validated bundle. `state_dir` is its state
/// directory (its name is the container id).
pub fn plan(b: &Bundle, state_dir: &std::path::Path) -> Result<ContainerPlan> {
    let spec = &b.spec;
    let p = spec.process.as_ref().expect("validated for create");
    let linux = spec.linux.clone().unwrap_or_default();

    // Things the runtime cannot apply yet: fail, never ignore.
    crate::process::check_supported(p, "process")?;
    // The mount label is a file-system option (`context=`) that only
    // means something under SELinux: ignored when it is not enabled, as
    // runc and crun do (engines write it whenever SELinux might be on).
    if linux.mount_label.as_ref().is_some_and(|s| !s.is_empty()) && selinux_enabled() {
        return Err(unsupported(
            "linux.mountLabel",
            "setting selinux mount labels is not supported by this runtime",
        ));
    }
    if linux.intel_rdt.is_some() {
        return Err(unsupported(
            "linux.intelRdt",
            "intel RDT is not available on this host",
        ));
    }

    let mut namespaces = Vec::new();
    let mut joins = Vec::new();
    for (i, ns) in linux.namespaces.iter().flatten().enumerate() {
        let kind = NamespaceKind::parse(&ns.typ).map_err(|e| Error {
            code: ctr_oci::Code::Invalid.into(),
            ..e
        })?;
        if !ctr_ns::supported_namespaces().contains(&kind) {
            return Err(unsupported(
                &format!("linux.namespaces[{i}]"),
                &format!("the kernel has no {} namespaces", ns.typ),
            ));
        }
        match ns.path.as_deref().filter(|p| !p.is_empty()) {
            Some(path) => joins.push((kind, path.to_string())),
            None => namespaces.push(kind),
        }
    }
    let time_offsets = match &linux.time_offsets {
        None => None,
        Some(t) => {
            if !namespaces.contains(&NamespaceKind::Time) {
                return Err(Error::new(ctr_oci::Code::Invalid, "linux.timeOffsets: needs a new time namespace (add {\"type\":\"time\"} to linux.namespaces)")
                    .with_field("linux.timeOffsets"));
            }
            let mut o = ctr_ns::TimeOffsets::default();
            for (clock, off) in t {
                match clock.as_str() {
                    "monotonic" => o.monotonic = (off.secs, off.nanosecs),
                    "boottime" => o.boottime = (off.secs, off.nanosecs),
                    other => {
                        return Err(Error::new(
                            ctr_oci::Code::Invalid,
                            format!(
                                "linux.timeOffsets.{other}: unknown clock (monotonic or boottime)"
                            ),
                        )
                        .with_field(format!("linux.timeOffsets.{other}")))
                    }
                }
            }
            // ctr-ns makes the time namespace itself (by unshare, to write the offsets).
            namespaces.retain(|k| *k != NamespaceKind::Time);
            Some(o)
        }
    };
    // Without a mount namespace (config-linux.md: the container then shares
    // the runtime's) the init only chroots into the rootfs, as crun does:
    // the config's mounts, /dev, masked and read-only paths, devices and
    // root propagation would all be mounts in the host's namespace that
    // outlive the container, so none is made (runc makes them there).
    // A chroot is no isolation from a process with CAP_SYS_CHROOT: see
    // docs/conformance.md.
    let own_mount_ns = namespaces.contains(&NamespaceKind::Mnt)
        || joins.iter().any(|(k, _)| *k == NamespaceKind::Mnt);

    let id_maps = id_maps(&linux, &namespaces, &joins)?;
    let netns_path = joins
        .iter()
        .find(|(k, _)| *k == NamespaceKind::Net)
        .map(|(_, p)| p.clone());
    let net_devices = crate::netdev::plan(
        linux.net_devices.as_ref().unwrap_or(&Default::default()),
        namespaces.contains(&NamespaceKind::Net) || netns_path.is_some(),
    )?;

    let mut mounts = Vec::new();
    let mut dev_nodes = false;
    let mut cgroup_mount = false;
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        // Checked (and bind sources made absolute) here; ctr-ns parses the options.
        let pm = plan_mount(i, m, &b.dir)?;
        if pm.destination.trim_end_matches('/') == "/dev" && !pm.is_bind() {
            dev_nodes = true;
        }
        cgroup_mount |= pm.typ == "cgroup" || pm.typ == "cgroup2";
        let bind = pm.is_bind();
        let conv = |v: &Option<Vec<IdMapping>>| -> Vec<ctr_ns::IdMap> {
            v.iter()
                .flatten()
                .map(|m| ctr_ns::IdMap {
                    inside: m.container_id,
                    outside: m.host_id,
                    count: m.size,
                })
                .collect()
        };
        let (mut uid_mappings, mut gid_mappings) = (conv(&m.uid_mappings), conv(&m.gid_mappings));
        if pm.options.idmap && uid_mappings.is_empty() {
            // No maps of its own: the container's user namespace maps.
            let Some(maps) = &id_maps else {
                return Err(Error::new(ctr_oci::Code::Invalid, format!("mounts[{i}]: an idmap mount needs uidMappings and gidMappings (or a user namespace with maps)"))
                    .with_field(format!("mounts[{i}].uidMappings")));
            };
            uid_mappings = maps.uid.clone();
            gid_mappings = maps.gid.clone();
        }
        mounts.push(ctr_ns::MountSpec {
            destination: m.destination.clone(),
            source: Some(pm.source),
            fstype: Some(if bind { "bind".to_string() } else { pm.typ }),
            options: pm.options,
            uid_mappings,
            gid_mappings,
        });
    }
    let mut devices = Vec::new();
    for d in linux.devices.iter().flatten() {
        devices.push(ctr_ns::DeviceSpec {
            path: d.path.clone(),
            kind: d.typ.chars().next().unwrap_or('c'),
            major: d.major.unwrap_or(0) as u32,
            minor: d.minor.unwrap_or(0) as u32,
            mode: d.file_mode,
            uid: d.uid,
            gid: d.gid,
        });
    }
    // runc: "/" is made rslave unless rootfsPropagation says otherwise.
    let propagation = match linux.rootfs_propagation.as_deref() {
        None | Some("") => "rslave".to_string(),
        Some(p) if ctr_ns::rootfs::propagation_flags(p).is_some() => p.to_string(),
        Some(p) => {
            return Err(Error::new(
                ctr_oci::Code::Invalid,
                format!("linux.rootfsPropagation: unknown propagation {p:?}"),
            )
            .with_field("linux.rootfsPropagation"))
        }
    };
    let mut rootfs = ctr_ns::RootfsSpec {
        path: b.rootfs.to_string_lossy().into_owned(),
        propagation: Some(propagation),
        mounts,
        readonly: spec.root.as_ref().and_then(|r| r.readonly).unwrap_or(false),
        masked_paths: linux.masked_paths.clone().unwrap_or_default(),
        readonly_paths: linux.readonly_paths.clone().unwrap_or_default(),
        dev: false,
        bind_devices: false, // ctr-ns binds them itself in a user namespace
        no_pivot: false,
        devices,
        cgroup_binds: vec![],
        dev_nodes,
        chroot: false,
    };
    if !own_mount_ns {
        cgroup_mount = false;
        rootfs = ctr_ns::RootfsSpec {
            path: rootfs.path,
            chroot: true,
            ..Default::default()
        };
    }
    let personality = match &linux.personality {
        None => None,
        Some(per) => {
            if per.flags.as_ref().is_some_and(|f| !f.is_empty()) {
                return Err(unsupported(
                    "linux.personality.flags",
                    "personality flags are not supported yet",
                ));
            }
            Some(if per.domain == "LINUX32" { 0x0008 } else { 0 })
        }
    };
    // The one mapping of OCI `process` (shared with `ctrun exec`), with the
    // filter of `linux.seccomp` (OCI semantics: none, no filter).
    let settings = crate::process::map(p, "process", linux.seccomp.as_ref())?;
    let seccomp_listener = settings.seccomp.as_ref().and_then(|s| s.listener.clone());
    let mut so = settings.spawn_options();
    so.namespaces.create = namespaces;
    so.namespaces.join = joins;
    so.namespaces.id_maps = id_maps;
    so.namespaces.time_offsets = time_offsets;
    so.namespaces.hostname = spec.hostname.clone().filter(|h| !h.is_empty());
    so.namespaces.domainname = spec.domainname.clone().filter(|d| !d.is_empty());
    so.filesystem.rootfs = Some(rootfs);
    so.namespaces.sysctl = linux
        .sysctl
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    so.process.personality = personality;
    so.resources.memory_policy = linux
        .memory_policy
        .as_ref()
        .map(crate::mempolicy::plan)
        .transpose()?;
    // The init must never become the runtime (or node) binary.
    so.process.refuse_own_exe = true;
    let id = state_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Resources in the OCI shape, checked by @ctr/cgroup (ECGROUP_* codes);
    // the cgroup is cgroupsPath, or /<id> like runc's default.
    let resources = match &linux.resources {
        Some(r) => ctr_cgroup::resources::parse(&serde_json::to_value(r).unwrap_or_default())
            .map_err(|e| {
                let path = e.path.clone().map(|p| {
                    if p.starts_with("linux.") {
                        p
                    } else {
                        format!("linux.resources.{}", p.trim_start_matches("resources."))
                    }
                });
                Error { path, ..e }
            })?,
        None => ctr_cgroup::Resources::default(),
    };
    let resources =
        with_default_device_rules(resources, linux.devices.as_deref().unwrap_or_default());
    let cgroup_path = linux
        .cgroups_path
        .clone()
        .unwrap_or_else(|| format!("/{id}"));
    Ok(ContainerPlan {
        spawn: so,
        cgroup_path,
        resources,
        cgroup_mount,
        net_devices,
        netns_path,
        seccomp_listener,
    })
}

/// The cgroup a create makes, with its back end and (systemd driver) its
/// unit name: `planned` (cgroupsPath or `/<id>`) for the cgroupfs driver;
/// with `systemd`, cgroupsPath in the `slice:prefix:name` form (checked
/// here, naming the field) or `system.slice:ctrun:<id>` as runc's
/// `system.slice:runc:<id>`.
pub fn cgroup_driver(
    planned: &str,
    cgroups_path: Option<&str>,
    id: &str,
    systemd: bool,
    layout: &ctr_cgroup::Layout,
) -> Result<(String, ctr_cgroup::Options, Option<String>)> {
    if !systemd {
        return Ok((
            planned.to_string(),
            ctr_cgroup::Options::relative_to_own_cgroup(),
            None,
        ));
    }
    let path = cgroups_path
        .map(String::from)
        .unwrap_or_else(|| format!("{}:ctrun:{id}", ctr_cgroup::systemd::unit::DEFAULT_SLICE));
    ctr_cgroup::systemd::unit::parse(&path, "linux.cgroupsPath")?;
    let unit = ctr_cgroup::systemd::manager_for(layout, &path, "linux.cgroupsPath")
        .map_err(|e| Error {
            message: format!("--systemd-cgroup: {}", e.message),
            ..e
        })?
        .1;
    let opts = ctr_cgroup::Options {
        backend: ctr_cgroup::Backend::Systemd,
        ..Default::default()
    };
    Ok((path, opts, Some(unit)))
}

/// The back end a saved container's cgroup is opened with.
pub fn cgroup_options(saved: &crate::state::Saved) -> ctr_cgroup::Options {
    ctr_cgroup::Options {
        backend: if saved.systemd_unit.is_some() {
            ctr_cgroup::Backend::Systemd
        } else {
            ctr_cgroup::Backend::Auto
        },
        // A relative OCI cgroupsPath is under the runtime's own cgroup, as runc reads it.
        ..ctr_cgroup::Options::relative_to_own_cgroup()
    }
}

/// `linux.uidMappings`/`gidMappings` for a new user namespace.
fn id_maps(
    linux: &Linux,
    namespaces: &[NamespaceKind],
    joins: &[(NamespaceKind, String)],
) -> Result<Option<ctr_ns::IdMaps>> {
    let has_maps = linux.uid_mappings.as_ref().is_some_and(|m| !m.is_empty())
        || linux.gid_mappings.as_ref().is_some_and(|m| !m.is_empty());
    let new_user = namespaces.contains(&NamespaceKind::User);
    if !new_user {
        if has_maps && !joins.iter().any(|(k, _)| *k == NamespaceKind::User) {
            return Err(Error::new(ctr_oci::Code::Invalid, "linux.uidMappings: id mappings need a new user namespace (add {\"type\":\"user\"} to linux.namespaces)")
                .with_field("linux.uidMappings"));
        }
        return Ok(None);
    }
    let conv = |m: &Option<Vec<IdMapping>>| -> Vec<ctr_ns::IdMap> {
        m.iter()
            .flatten()
            .map(|m| ctr_ns::IdMap {
                inside: m.container_id,
                outside: m.host_id,
                count: m.size,
            })
            .collect()
    };
    let (uid, gid) = (conv(&linux.uid_mappings), conv(&linux.gid_mappings));
    if uid.is_empty() || gid.is_empty() {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            "linux.uidMappings: a new user namespace needs uidMappings and gidMappings",
        )
        .with_field("linux.uidMappings"));
    }
    Ok(Some(ctr_ns::IdMaps {
        uid,
        gid,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// The seccomp cache dir of the test running on this thread, if it set one.
        pub(super) static CACHE_DIR: std::cell::RefCell<Option<std::path::PathBuf>> = const { std::cell::RefCell::new(None) };
    }
    use ctr_oci::{parse, Purpose};

    fn bundle(json: &str) -> Bundle {
        let spec = parse(json).unwrap();
        ctr_oci::validate(&spec, Purpose::Create).unwrap();
        Bundle {
            dir: "/b".into(),
            rootfs: "/b/rootfs".into(),
            spec,
        }
    }
    const BASE: &str = r#""ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}"#;

    #[test]
    fn mount_options_become_flags_and_data() {
        let m = Mount {
            destination: "/dev".into(),
            source: Some("tmpfs".into()),
            typ: Some("tmpfs".into()),
            options: Some(
                [
                    "nosuid",
                    "strictatime",
                    "mode=755",
                    "size=65536k",
                    "rprivate",
                ]
                .map(String::from)
                .to_vec(),
            ),
            ..Default::default()
        };
        let p = plan_mount(0, &m, "/b".as_ref()).unwrap();
        assert_eq!(p.options.flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
        assert_eq!(p.options.data, "mode=755,size=65536k");
        assert_eq!(p.options.propagation, libc::MS_PRIVATE | libc::MS_REC);
        let b = Mount {
            destination: "/x".into(),
            source: Some("data".into()),
            options: Some(vec!["rbind".into(), "ro".into()]),
            ..Default::default()
        };
        let p = plan_mount(1, &b, "/b".as_ref()).unwrap();
        assert_eq!(p.source, "/b/data");
        assert_eq!(
            p.options.flags,
            libc::MS_BIND | libc::MS_REC | libc::MS_RDONLY
        );
        // The mount extensions are accepted (ctr-ns applies them) and checked.
        let ext = Mount {
            destination: "/x".into(),
            source: Some("/d".into()),
            options: Some(
                ["rbind", "rro", "rnosuid", "ridmap"]
                    .map(String::from)
                    .to_vec(),
            ),
            uid_mappings: Some(vec![IdMapping {
                container_id: 0,
                host_id: 1000,
                size: 1,
            }]),
            gid_mappings: Some(vec![IdMapping {
                container_id: 0,
                host_id: 1000,
                size: 1,
            }]),
            ..Default::default()
        };
        assert_eq!(plan_mount(2, &ext, "/b".as_ref()).unwrap().options.data, "");
        let bad = Mount {
            destination: "/x".into(),
            source: Some("/d".into()),
            options: Some(vec!["rbind".into(), "tmpcopyup".into()]),
            ..Default::default()
        };
        assert_eq!(
            plan_mount(2, &bad, "/b".as_ref())
                .unwrap_err()
                .path
                .as_deref(),
            Some("mounts[2].options")
        );
        let bad = Mount {
            destination: "/x".into(),
            typ: Some("tmpfs".into()),
            options: Some(vec!["idmap".into()]),
            ..Default::default()
        };
        assert_eq!(
            plan_mount(2, &bad, "/b".as_ref()).unwrap_err().code,
            Code::Unsupported.as_str()
        );
        let bad = Mount {
            destination: "/x".into(),
            source: Some("/d".into()),
            options: Some(vec!["bind".into()]),
            uid_mappings: ext.uid_mappings.clone(),
            gid_mappings: ext.gid_mappings.clone(),
            ..Default::default()
        };
        assert_eq!(
            plan_mount(2, &bad, "/b".as_ref())
                .unwrap_err()
                .path
                .as_deref(),
            Some("mounts[2].options")
        );
        assert!(
            mount_options().iter().any(|o| o == "rro")
                && mount_options().iter().any(|o| o == "tmpcopyup")
        );
    }

    #[test]
    fn unsupported_config_fails_with_path() {
        let cases = [
            (
                r#""linux":{"namespaces":[{"type":"mount"}],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"},{"names":["getpid","write"],"action":"SCMP_ACT_NOTIFY"}]}}"#,
                "linux.seccomp.syscalls[1].names",
            ),
            (
                r#""linux":{"namespaces":[{"type":"mount"}],"intelRdt":{"closID":"x"}}"#,
                "linux.intelRdt",
            ),
        ];
        for (extra, field) in cases {
            let e = plan(&bundle(&format!("{{{BASE},{extra}}}")), "/s".as_ref()).unwrap_err();
            assert_eq!(e.code, Code::Unsupported.as_str(), "{extra}");
            assert_eq!(e.path.as_deref(), Some(field), "{extra}");
        }
    }

    #[test]
    fn without_a_mount_namespace_the_rootfs_is_only_a_chroot() {
        // config-linux.md: no mount namespace, the runtime's is shared. The
        // mounts, /dev, masks and propagation would be host mounts: none.
        let json = format!(
            r#"{{{BASE},"mounts":[{{"destination":"/proc","type":"proc","source":"proc"}},{{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup"}}],
            "linux":{{"namespaces":[{{"type":"pid"}}],"maskedPaths":["/proc/kcore"],"rootfsPropagation":"shared"}}}}"#
        );
        let cp = plan(&bundle(&json), "/s/x".as_ref()).unwrap();
        let r = cp.spawn.filesystem.rootfs.as_ref().unwrap();
        assert!(r.chroot);
        assert_eq!(r.path, "/b/rootfs");
        assert!(
            r.mounts.is_empty()
                && r.masked_paths.is_empty()
                && r.propagation.is_none()
                && !r.dev_nodes
        );
        assert!(!cp.cgroup_mount, "no cgroup binds to prepare");
        assert_eq!(cp.spawn.namespaces.create, vec![NamespaceKind::Pid]);
        // With a mount namespace, joined by path too, the rootfs is set up.
        let json = format!(
            r#"{{{BASE},"linux":{{"namespaces":[{{"type":"mount","path":"/proc/1/ns/mnt"}}]}}}}"#
        );
        assert!(
            !plan(&bundle(&json), "/s/x".as_ref())
                .unwrap()
                .spawn
                .filesystem
                .rootfs
                .unwrap()
                .chroot
        );
    }

    #[test]
    fn cgroup_errors_name_the_config_field() {
        let e = Error::new(
            ctr_cgroup::Code::Unsupported,
            "network.classID: the net_cls controller is not mounted on this host",
        )
        .with_field("network.classID");
        let e = resources_field(e);
        assert_eq!(e.path.as_deref(), Some("linux.resources.network.classID"));
        assert_eq!(
            e.message,
            "linux.resources.network.classID: the net_cls controller is not mounted on this host"
        );
        let e = resources_field(
            Error::new(
                ctr_cgroup::Code::Unsupported,
                "the rdma controller is not mounted",
            )
            .with_field("rdma"),
        );
        assert_eq!(
            (e.path.as_deref(), e.message.as_str()),
            (
                Some("linux.resources.rdma"),
                "linux.resources.rdma: the rdma controller is not mounted"
            )
        );
        let e = resources_field(
            Error::new(ctr_cgroup::Code::Io, "write").with_path("/sys/fs/cgroup/x"),
        );
        assert_eq!(
            e.path.as_deref(),
            Some("/sys/fs/cgroup/x"),
            "file paths stay"
        );
    }

    #[test]
    fn selinux_labels_without_selinux() {
        if selinux_enabled() {
            println!(
                "skipped: SELinux is enabled on this host (the test is about hosts without it)"
            );
            return;
        }
        // The mount label is ignored (runc and crun), a process label refused.
        let json = format!(
            r#"{{{BASE},"linux":{{"namespaces":[{{"type":"mount"}}],"mountLabel":"system_u:object_r:svirt_sandbox_file_t:s0:c1,c2"}}}}"#
        );
        plan(&bundle(&json), "/s/x".as_ref()).unwrap();
        let json = json.replacen(
            r#""process":{"#,
            r#""process":{"selinuxLabel":"system_u:system_r:svirt_lxc_net_t:s0:c1,c2","#,
            1,
        );
        let e = plan(&bundle(&json), "/s/x".as_ref()).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::Unsupported.as_str(), Some("process.selinuxLabel"))
        );
        assert!(
            e.message.contains("selinux is not enabled"),
            "{}",
            e.message
        );
    }

    #[test]
    fn seccomp_notify_needs_an_absolute_listener_path() {
        let dir = tempfile::tempdir().unwrap();
        CACHE_DIR.with(|d| *d.borrow_mut() = Some(dir.path().to_path_buf()));
        let sc = |extra: &str, action: &str| {
            format!(
                r#"{{{BASE},"linux":{{"namespaces":[{{"type":"mount"}}],"seccomp":{{"defaultAction":"SCMP_ACT_ALLOW"{extra},"syscalls":[{{"names":["mkdir"],"action":"{action}"}}]}}}}}}"#
            )
        };
        let bad = [
            (
                "",
                "SCMP_ACT_NOTIFY",
                "linux.seccomp.listenerPath",
                "is required",
            ),
            (
                r#","listenerPath":"""#,
                "SCMP_ACT_NOTIFY",
                "linux.seccomp.listenerPath",
                "is required",
            ),
            (
                r#","listenerPath":"agent.sock""#,
                "SCMP_ACT_NOTIFY",
                "linux.seccomp.listenerPath",
                "not an absolute path",
            ),
            (
                r#","listenerMetadata":"m""#,
                "SCMP_ACT_ERRNO",
                "linux.seccomp.listenerMetadata",
                "without listenerPath",
            ),
        ];
        for (extra, action, field, why) in bad {
            let e = plan(&bundle(&sc(extra, action)), "/s".as_ref()).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.path.as_deref()),
                (ctr_oci::Code::Invalid.as_str(), Some(field)),
                "{extra}"
            );
            assert!(
                e.message.starts_with(field) && e.message.contains(why),
                "{e:?}"
            );
        }
        // notify: the listener is asked of ctr-ns, NEW_LISTENER left to it
        let cp = plan(
            &bundle(&sc(
                r#","listenerPath":"/run/agent.sock","listenerMetadata":"m1""#,
                "SCMP_ACT_NOTIFY",
            )),
            "/s".as_ref(),
        )
        .unwrap();
        assert_eq!(
            cp.seccomp_listener,
            Some(SeccompListener {
                path: "/run/agent.sock".into(),
                metadata: Some("m1".into())
            })
        );
        assert!(cp.spawn.security.seccomp_listener);
        assert_eq!(
            cp.spawn.security.seccomp_flags & ctr_seccomp::profile::FLAG_NEW_LISTENER,
            0
        );
        // without notify rules listenerPath is ignored (config-linux.md)
        let cp = plan(
            &bundle(&sc(r#","listenerPath":"relative""#, "SCMP_ACT_ERRNO")),
            "/s".as_ref(),
        )
        .unwrap();
        assert_eq!(cp.seccomp_listener, None);
        assert!(!cp.spawn.security.seccomp_listener);
    }

    #[test]
    fn seccomp_is_compiled_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        // This thread's own cache dir: the environment is shared by the
        // tests running in parallel (they would write into it too).
        CACHE_DIR.with(|d| *d.borrow_mut() = Some(dir.path().to_path_buf()));
        let ns = r#""linux":{"namespaces":[{"type":"mount"}]"#;
        let cp = plan(&bundle(&format!("{{{BASE},{ns}}}}}")), "/s".as_ref()).unwrap();
        assert_eq!(
            cp.spawn.security.seccomp, None,
            "no linux.seccomp, no filter"
        );
        let sc = r#","seccomp":{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#;
        let cp = plan(&bundle(&format!("{{{BASE},{ns}{sc}}}}}")), "/s".as_ref()).unwrap();
        let bpf = cp.spawn.security.seccomp.unwrap();
        assert!(!bpf.is_empty() && bpf.len().is_multiple_of(8));
        assert_eq!(
            cp.spawn.security.seccomp_flags, 2,
            "SECCOMP_FILTER_FLAG_LOG"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the compiled filter is cached on disk"
        );
        let bad = r#","seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOPE"}]}"#;
        let e = plan(&bundle(&format!("{{{BASE},{ns}{bad}}}}}")), "/s".as_ref()).unwrap_err();
        assert!(e.code.starts_with("ESECCOMP_"), "{e:?}");
        assert!(
            e.path.as_deref().unwrap_or("").starts_with("linux.seccomp"),
            "{e:?}"
        );
    }

    #[test]
    fn terminal_becomes_a_console_with_the_console_size() {
        let ns = r#""linux":{"namespaces":[{"type":"mount"}]"#;
        let cp = plan(&bundle(&format!("{{{BASE},{ns}}}}}")), "/s".as_ref()).unwrap();
        assert_eq!(cp.spawn.io.console, None);
        let json = format!("{{{BASE},{ns}}}}}").replacen(
            r#""process":{"#,
            r#""process":{"terminal":true,"consoleSize":{"height":24,"width":80},"#,
            1,
        );
        assert!(json.contains("consoleSize"), "{json}");
        let cp = plan(&bundle(&json), "/s".as_ref()).unwrap();
        assert_eq!(
            cp.spawn.io.console,
            Some(ctr_ns::Console::returned(Some(ctr_ns::WinSize {
                cols: 80,
                rows: 24
            })))
        );
        let json = json.replace(r#","consoleSize":{"height":24,"width":80}"#, "");
        let cp = plan(&bundle(&json), "/s".as_ref()).unwrap();
        assert_eq!(cp.spawn.io.console, Some(ctr_ns::Console::returned(None)));
    }

    #[test]
    fn plan_carries_process_settings() {
        let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs","readonly":true},"hostname":"box",
            "process":{"cwd":"/tmp","args":["sh"],"env":["A=1"],"user":{"uid":1,"gid":2,"additionalGids":[3]},
            "rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":20}],"noNewPrivileges":true,
            "capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"]}},
            "mounts":[{"destination":"/dev","type":"tmpfs","source":"tmpfs"}],
            "linux":{"namespaces":[{"type":"mount"},{"type":"uts"},{"type":"pid"}],"maskedPaths":["/proc/kcore"]}}"#.to_string();
        let cp = plan(&bundle(&json), "/s/ctr1".as_ref()).unwrap();
        let so = &cp.spawn;
        assert_eq!(so.namespaces.hostname.as_deref(), Some("box"));
        assert_eq!(
            so.namespaces.create,
            vec![NamespaceKind::Mnt, NamespaceKind::Uts, NamespaceKind::Pid]
        );
        let r = so.filesystem.rootfs.as_ref().unwrap();
        assert!(r.readonly && r.dev_nodes && so.security.no_new_privileges);
        assert_eq!(
            (r.path.as_str(), r.propagation.as_deref()),
            ("/b/rootfs", Some("rslave"))
        );
        assert_eq!(r.masked_paths, vec!["/proc/kcore"]);
        assert_eq!(
            so.resources.rlimits,
            vec![ctr_ns::Rlimit {
                resource: 7,
                soft: 10,
                hard: 20
            }]
        );
        assert_eq!(
            so.security.capabilities.as_ref().unwrap().bounding,
            vec!["CAP_KILL", "CAP_CHOWN"]
        );
        assert_eq!(
            (so.security.uid, so.security.gid, so.security.groups.clone()),
            (Some(1), Some(2), Some(vec![3]))
        );
        assert_eq!(
            (
                so.process.program.as_str(),
                so.process.cwd.as_deref(),
                so.process.env.clone()
            ),
            ("sh", Some("/tmp"), vec!["A=1".to_string()])
        );
        assert!(so.process.refuse_own_exe);
        assert_eq!(cp.cgroup_path, "/ctr1");
    }

    #[test]
    fn user_namespace_maps_devices_sysctl_personality() {
        let json = format!(
            r#"{{{BASE},"linux":{{"namespaces":[{{"type":"mount"}},{{"type":"user"}},{{"type":"ipc"}}],
            "uidMappings":[{{"containerID":0,"hostID":100000,"size":65536}}],"gidMappings":[{{"containerID":0,"hostID":200000,"size":10}}],
            "devices":[{{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438}}],
            "sysctl":{{"kernel.msgmax":"8192"}},"personality":{{"domain":"LINUX32"}},"rootfsPropagation":"private"}}}}"#
        );
        let cp = plan(&bundle(&json), "/s/x".as_ref()).unwrap();
        let so = &cp.spawn;
        let m = so.namespaces.id_maps.as_ref().unwrap();
        assert_eq!(
            (m.uid[0].inside, m.uid[0].outside, m.uid[0].count),
            (0, 100000, 65536)
        );
        assert_eq!((m.gid[0].outside, m.gid[0].count), (200000, 10));
        assert!(so.namespaces.create.contains(&NamespaceKind::User));
        let r = so.filesystem.rootfs.as_ref().unwrap();
        assert_eq!(
            r.devices[0],
            ctr_ns::DeviceSpec {
                path: "/dev/fuse".into(),
                kind: 'c',
                major: 10,
                minor: 229,
                mode: Some(0o666),
                uid: None,
                gid: None
            }
        );
        assert_eq!(r.propagation.as_deref(), Some("private"));
        assert_eq!(
            so.namespaces.sysctl,
            vec![("kernel.msgmax".to_string(), "8192".to_string())]
        );
        assert_eq!(so.process.personality, Some(8));
        // A user namespace without maps is refused.
        let json = format!(
            r#"{{{BASE},"linux":{{"namespaces":[{{"type":"mount"}},{{"type":"user"}}]}}}}"#
        );
        assert_eq!(
            plan(&bundle(&json), "/s/x".as_ref())
                .unwrap_err()
                .path
                .as_deref(),
            Some("linux.uidMappings")
        );
    }
}

#[cfg(test)]
mod systemd_driver_tests {
    use super::cgroup_driver;

    fn unified() -> ctr_cgroup::Layout {
        ctr_cgroup::Layout {
            mode: ctr_cgroup::Mode::Unified,
            hierarchies: vec![ctr_cgroup::Hierarchy {
                version: 2,
                mount_point: "/sys/fs/cgroup".into(),
                controllers: vec![],
                own_path: "/".into(),
                delegated: false,
            }],
            cgroup_namespace: Some(false),
        }
    }

    #[test]
    fn cgroupfs_keeps_the_planned_path() {
        let (p, o, u) = cgroup_driver("/c1", None, "c1", false, &unified()).unwrap();
        assert_eq!(
            (p.as_str(), o.backend, u),
            ("/c1", ctr_cgroup::Backend::Auto, None)
        );
    }

    #[test]
    fn systemd_defaults_to_a_ctrun_scope_in_system_slice() {
        let (p, o, u) = cgroup_driver("/c1", None, "c1", true, &unified()).unwrap();
        assert_eq!(p, "system.slice:ctrun:c1");
        assert_eq!(o.backend, ctr_cgroup::Backend::Systemd);
        assert_eq!(u.as_deref(), Some("ctrun-c1.scope"));
        let (_, _, u) =
            cgroup_driver("x", Some("system.slice:ctr:abc"), "c1", true, &unified()).unwrap();
        assert_eq!(u.as_deref(), Some("ctr-abc.scope"));
    }

    #[test]
    fn systemd_refuses_a_path_of_another_form_naming_the_field() {
        let e = cgroup_driver("/a/b", Some("/a/b"), "c1", true, &unified()).unwrap_err();
        assert_eq!(e.code, ctr_cgroup::Code::InvalidPath.as_str());
        assert_eq!(e.path.as_deref(), Some("linux.cgroupsPath"));
        let mut hybrid = unified();
        hybrid.mode = ctr_cgroup::Mode::Hybrid;
        let e = cgroup_driver("/c1", None, "c1", true, &hybrid).unwrap_err();
        assert_eq!(e.code, ctr_cgroup::Code::Unsupported.as_str());
        assert!(e.message.starts_with("--systemd-cgroup: "), "{}", e.message);
    }
}
