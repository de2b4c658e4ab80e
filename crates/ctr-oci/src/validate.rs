//! The MUST rules of config.md and config-linux.md that a schema cannot
//! express. Every error is `EOCI_INVALID` naming the JSON path.

use crate::types::*;
use crate::Code;
use ctr_common::{Error, Result};
use std::collections::HashSet;

/// What the config is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Just a well-formed Linux config (root and process may be absent).
    Config,
    /// A container to create and start: `root` and `process` with args are required.
    Create,
}

fn bad(path: impl Into<String>, msg: impl Into<String>) -> Error {
    let path = path.into();
    Error::new(Code::Invalid, format!("{path}: {}", msg.into())).with_field(path)
}

/// The namespace types of config-linux.md.
pub const NAMESPACE_TYPES: [&str; 8] = [
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
];

pub use ctr_common::caps::{capability_number, CAPABILITIES};

pub use ctr_common::rlimit::{number as rlimit_number, RLIMITS};

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn abs(path: &str, field: String, errs: &mut Vec<Error>) {
    if !path.starts_with('/') {
        errs.push(bad(field, format!("{path:?} must be an absolute path")));
    }
}

/// Check `spec` against the spec's MUST rules. Returns the first problem.
pub fn validate(spec: &Spec, purpose: Purpose) -> Result<()> {
    let errs = problems(spec, purpose);
    match errs.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every MUST-rule problem of `spec`, in document order.
pub fn problems(spec: &Spec, purpose: Purpose) -> Vec<Error> {
    let mut e = Vec::new();
    if !is_semver(&spec.oci_version) {
        e.push(bad(
            "ociVersion",
            format!("{:?} is not a SemVer 2.0.0 version", spec.oci_version),
        ));
    }
    match &spec.root {
        Some(r) if r.path.is_empty() => e.push(bad("root.path", "must not be empty")),
        None if purpose == Purpose::Create => e.push(bad("root", "is required on linux")),
        _ => {}
    }
    for (i, m) in spec.mounts.iter().flatten().enumerate() {
        abs(&m.destination, format!("mounts[{i}].destination"), &mut e);
    }
    match &spec.process {
        None if purpose == Purpose::Create => {
            e.push(bad("process", "is required to start a container"))
        }
        None => {}
        Some(p) => process(p, purpose, &mut e),
    }
    if let Some(h) = &spec.hooks {
        for (name, list) in h.all() {
            for (i, hook) in list.into_iter().flatten().enumerate() {
                abs(&hook.path, format!("hooks.{name}[{i}].path"), &mut e);
                if let Some(t) = hook.timeout {
                    if t <= 0 {
                        e.push(bad(
                            format!("hooks.{name}[{i}].timeout"),
                            "must be greater than zero",
                        ));
                    }
                }
            }
        }
    }
    if let Some(a) = &spec.annotations {
        if a.contains_key("") {
            e.push(bad("annotations", "keys must not be empty"));
        }
    }
    let linux = spec.linux.clone().unwrap_or_default();
    linux_rules(&linux, spec, &mut e);
    e
}

fn process(p: &Process, purpose: Purpose, e: &mut Vec<Error>) {
    match p.args.as_deref() {
        Some([first, ..]) if first.is_empty() => {
            e.push(bad("process.args[0]", "must not be empty"));
        }
        Some([_, ..]) => {}
        _ if purpose == Purpose::Create => {
            e.push(bad("process.args", "at least one entry is required"))
        }
        _ => {}
    }
    abs(&p.cwd, "process.cwd".into(), e);
    for (i, kv) in p.env.iter().flatten().enumerate() {
        if !kv.contains('=') || kv.starts_with('=') {
            e.push(bad(
                format!("process.env[{i}]"),
                format!("{kv:?} is not KEY=value"),
            ));
        }
    }
    if let Some(c) = &p.capabilities {
        for (set, list) in [
            ("bounding", &c.bounding),
            ("effective", &c.effective),
            ("inheritable", &c.inheritable),
            ("permitted", &c.permitted),
            ("ambient", &c.ambient),
        ] {
            for (i, name) in list.iter().flatten().enumerate() {
                if capability_number(name).is_none() {
                    e.push(bad(
                        format!("process.capabilities.{set}[{i}]"),
                        format!("unknown capability {name:?}"),
                    ));
                }
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, r) in p.rlimits.iter().flatten().enumerate() {
        if rlimit_number(&r.typ).is_none() {
            e.push(bad(
                format!("process.rlimits[{i}].type"),
                format!("unknown rlimit {:?}", r.typ),
            ));
        } else if !seen.insert(r.typ.clone()) {
            e.push(bad(
                format!("process.rlimits[{i}].type"),
                format!("duplicate rlimit {:?}", r.typ),
            ));
        }
        if r.soft > r.hard {
            e.push(bad(
                format!("process.rlimits[{i}]"),
                "soft limit is greater than the hard limit",
            ));
        }
    }
    if let Some(io) = &p.io_priority {
        if ctr_common::sched::ioprio_class(&io.class).is_none() {
            e.push(bad(
                "process.ioPriority.class",
                format!("unknown class {:?}", io.class),
            ));
        }
        if !(0..=7).contains(&io.priority) {
            e.push(bad(
                "process.ioPriority.priority",
                "must be between 0 and 7",
            ));
        }
    }
    if let Some(s) = &p.scheduler {
        if ctr_common::sched::sched_policy(&s.policy).is_none() {
            e.push(bad(
                "process.scheduler.policy",
                format!("unknown policy {:?}", s.policy),
            ));
        }
    }
    if let Some(cs) = &p.console_size {
        if p.terminal != Some(true) {
            let _ = cs;
            e.push(bad(
                "process.consoleSize",
                "is only valid with process.terminal set to true",
            ));
        }
    }
}

fn linux_rules(l: &Linux, spec: &Spec, e: &mut Vec<Error>) {
    let mut types = HashSet::new();
    for (i, ns) in l.namespaces.iter().flatten().enumerate() {
        if !NAMESPACE_TYPES.contains(&ns.typ.as_str()) {
            e.push(
                Error::new(
                    Code::Invalid,
                    format!(
                        "linux.namespaces[{i}].type: unknown namespace type {:?} (expected one of {})",
                        ns.typ,
                        NAMESPACE_TYPES.join(", ")
                    ),
                )
                .with_field(format!("linux.namespaces[{i}].type")),
            );
        } else if !types.insert(ns.typ.as_str()) {
            e.push(bad(
                format!("linux.namespaces[{i}].type"),
                format!("namespace type {:?} given twice", ns.typ),
            ));
        }
        if let Some(p) = &ns.path {
            abs(p, format!("linux.namespaces[{i}].path"), e);
        }
    }
    let has = |t: &str| types.contains(t);
    if (l.uid_mappings.as_ref().is_some_and(|m| !m.is_empty())
        || l.gid_mappings.as_ref().is_some_and(|m| !m.is_empty()))
        && !has("user")
    {
        let field = if l.uid_mappings.is_some() {
            "linux.uidMappings"
        } else {
            "linux.gidMappings"
        };
        e.push(bad(
            field,
            "id mappings need a user namespace in linux.namespaces",
        ));
    }
    if l.time_offsets.is_some() && !has("time") {
        e.push(bad(
            "linux.timeOffsets",
            "time offsets need a time namespace in linux.namespaces",
        ));
    }
    for k in l.time_offsets.iter().flat_map(|t| t.keys()) {
        if k != "monotonic" && k != "boottime" {
            e.push(bad(
                format!("linux.timeOffsets.{k}"),
                "only monotonic and boottime clocks have offsets",
            ));
        }
    }
    if spec.hostname.as_ref().is_some_and(|h| !h.is_empty()) && !has("uts") {
        e.push(bad(
            "hostname",
            "setting the hostname needs a uts namespace in linux.namespaces",
        ));
    }
    if spec.domainname.as_ref().is_some_and(|h| !h.is_empty()) && !has("uts") {
        e.push(bad(
            "domainname",
            "setting the domainname needs a uts namespace in linux.namespaces",
        ));
    }
    for (i, d) in l.devices.iter().flatten().enumerate() {
        abs(&d.path, format!("linux.devices[{i}].path"), e);
        match d.typ.as_str() {
            "c" | "b" | "u" => {
                if d.major.is_none() || d.minor.is_none() {
                    e.push(bad(
                        format!("linux.devices[{i}]"),
                        "major and minor are required for c, b and u devices",
                    ));
                }
            }
            "p" => {}
            t => e.push(bad(
                format!("linux.devices[{i}].type"),
                format!("unknown device type {t:?} (c, b, u or p)"),
            )),
        }
    }
    if let Some(r) = &l.resources {
        for (i, d) in r.devices.iter().flatten().enumerate() {
            if let Some(t) = &d.typ {
                if !["a", "c", "b"].contains(&t.as_str()) {
                    e.push(bad(
                        format!("linux.resources.devices[{i}].type"),
                        format!("unknown type {t:?} (a, c or b)"),
                    ));
                }
            }
            if let Some(a) = &d.access {
                if a.is_empty() || !a.chars().all(|c| "rwm".contains(c)) {
                    e.push(bad(
                        format!("linux.resources.devices[{i}].access"),
                        format!("{a:?} is not a combination of r, w, m"),
                    ));
                }
            }
        }
        for (i, h) in r.hugepage_limits.iter().flatten().enumerate() {
            let ps = &h.page_size;
            let ok = ps.len() > 2
                && (ps.ends_with("KB") || ps.ends_with("MB") || ps.ends_with("GB"))
                && ps[..ps.len() - 2].chars().all(|c| c.is_ascii_digit())
                && !ps.starts_with('0');
            if !ok {
                e.push(bad(
                    format!("linux.resources.hugepageLimits[{i}].pageSize"),
                    format!("{ps:?} is not like 2MB or 64KB"),
                ));
            }
        }
    }
    if let Some(p) = &l.rootfs_propagation {
        if ![
            "private",
            "shared",
            "slave",
            "unbindable",
            "rprivate",
            "rshared",
            "rslave",
            "runbindable",
        ]
        .contains(&p.as_str())
        {
            e.push(bad(
                "linux.rootfsPropagation",
                format!("unknown propagation {p:?}"),
            ));
        }
    }
    for (i, p) in l.masked_paths.iter().flatten().enumerate() {
        abs(p, format!("linux.maskedPaths[{i}]"), e);
    }
    for (i, p) in l.readonly_paths.iter().flatten().enumerate() {
        abs(p, format!("linux.readonlyPaths[{i}]"), e);
    }
    if let Some(p) = &l.personality {
        if p.domain != "LINUX" && p.domain != "LINUX32" {
            e.push(bad(
                "linux.personality.domain",
                format!("unknown domain {:?} (LINUX or LINUX32)", p.domain),
            ));
        }
    }
    for (k, _) in l.sysctl.iter().flatten() {
        match ctr_common::sysctl::namespace_of(k) {
            Some(ns) if !has(ns) => e.push(bad(format!("linux.sysctl.{k}"), format!("sysctl {k:?} belongs to the {ns} namespace, which the config neither creates nor joins"))),
            Some(_) => {}
            None => e.push(bad(format!("linux.sysctl.{k}"), format!("sysctl {k:?} is not in a separate kernel namespace: it is the host's"))),
        }
    }
    if let Some(c) = &l.cgroups_path {
        if c.is_empty() {
            e.push(bad("linux.cgroupsPath", "must not be empty when given"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn check(json: &str) -> std::result::Result<(), Error> {
        validate(&parse(json).unwrap(), Purpose::Create)
    }
    const BASE: &str = r#""ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}"#;

    #[test]
    fn minimal_for_start_is_valid() {
        check(&format!("{{{BASE}}}")).unwrap();
    }

    #[test]
    fn must_rules_name_the_field() {
        let cases = [
            (
                r#"{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"cwd":"/","user":{"uid":0,"gid":0}}}"#,
                "process.args",
            ),
            (
                r#"{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"cwd":"tmp","args":["a"],"user":{"uid":0,"gid":0}}}"#,
                "process.cwd",
            ),
            (r#"{"ociVersion":"1.2.0","root":{"path":"r"}}"#, "process"),
            (
                r#"{"ociVersion":"1.2.0","process":{"cwd":"/","args":["a"],"user":{"uid":0,"gid":0}}}"#,
                "root",
            ),
            (r#"{"ociVersion":"one","root":{"path":"r"}}"#, "ociVersion"),
        ];
        for (json, field) in cases {
            let e = check(json).unwrap_err();
            assert_eq!(e.code, Code::Invalid.as_str());
            assert_eq!(e.path.as_deref(), Some(field), "{json}");
        }
        let more = [
            (
                r#""mounts":[{"destination":"proc","type":"proc"}]"#,
                "mounts[0].destination",
            ),
            (
                r#""linux":{"namespaces":[{"type":"pid"},{"type":"bogus"}]}"#,
                "linux.namespaces[1].type",
            ),
            (
                r#""linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}"#,
                "linux.namespaces[1].type",
            ),
            (
                r#""linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}]}"#,
                "linux.uidMappings",
            ),
            (r#""hostname":"box""#, "hostname"),
            (
                r#""linux":{"maskedPaths":["proc/kcore"]}"#,
                "linux.maskedPaths[0]",
            ),
            (
                r#""linux":{"devices":[{"type":"x","path":"/dev/x"}]}"#,
                "linux.devices[0].type",
            ),
            (
                r#""linux":{"timeOffsets":{"monotonic":{"secs":1}}}"#,
                "linux.timeOffsets",
            ),
            (
                r#""hooks":{"poststop":[{"path":"bin/x"}]}"#,
                "hooks.poststop[0].path",
            ),
            (
                r#""linux":{"resources":{"hugepageLimits":[{"pageSize":"64kB","limit":1}]}}"#,
                "linux.resources.hugepageLimits[0].pageSize",
            ),
            // sysctls: only keys of a namespace the container has (runc's rule).
            (
                r#""linux":{"namespaces":[{"type":"ipc"}],"sysctl":{"vm.swappiness":"10"}}"#,
                "linux.sysctl.vm.swappiness",
            ),
            (
                r#""linux":{"namespaces":[{"type":"ipc"}],"sysctl":{"net.ipv4.ip_forward":"1"}}"#,
                "linux.sysctl.net.ipv4.ip_forward",
            ),
            (
                r#""linux":{"namespaces":[{"type":"network"}],"sysctl":{"kernel.shmmax":"1"}}"#,
                "linux.sysctl.kernel.shmmax",
            ),
            (
                r#""linux":{"namespaces":[{"type":"ipc"},{"type":"network"}],"sysctl":{"kernel.hostname":"x"}}"#,
                "linux.sysctl.kernel.hostname",
            ),
        ];
        for (extra, field) in more {
            let e = check(&format!("{{{BASE},{extra}}}")).unwrap_err();
            assert_eq!(e.code, Code::Invalid.as_str());
            assert_eq!(e.path.as_deref(), Some(field), "{extra}");
        }
        check(&format!(r#"{{{BASE},"linux":{{"namespaces":[{{"type":"ipc"}},{{"type":"network","path":"/run/netns/x"}},{{"type":"uts"}}],"sysctl":{{"fs.mqueue.msg_max":"9","net.core.somaxconn":"1","kernel.domainname":"d"}}}}}}"#)).unwrap();
        let e = check(&format!(
            "{{{BASE},\"linux\":{{\"namespaces\":[{{\"type\":\"bogus\"}}]}}}}"
        ))
        .unwrap_err();
        assert!(
            e.message.contains("unknown namespace type \"bogus\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn process_fields() {
        let p = r#""ociVersion":"1.2.0","root":{"path":"r"},"process":{"cwd":"/","args":["a"],"user":{"uid":0,"gid":0},"#;
        let cases = [
            (
                r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":2},{"type":"RLIMIT_NOFILE","soft":1,"hard":2}]"#,
                "process.rlimits[1].type",
            ),
            (
                r#""rlimits":[{"type":"RLIMIT_BOGUS","soft":1,"hard":2}]"#,
                "process.rlimits[0].type",
            ),
            (
                r#""capabilities":{"bounding":["CAP_NOPE"]}"#,
                "process.capabilities.bounding[0]",
            ),
            (r#""env":["NOEQUALS"]"#, "process.env[0]"),
        ];
        for (extra, field) in cases {
            let e = check(&format!("{{{p}{extra}}}}}")).unwrap_err();
            assert_eq!(e.path.as_deref(), Some(field), "{extra}");
        }
    }

    #[test]
    fn semver() {
        assert!(is_semver("1.2.0"));
        assert!(is_semver("1.0.2-dev"));
        assert!(!is_semver("1.2"));
        assert!(!is_semver("01.2.0"));
    }
}
