//! Docker's profile format (`archMap`, `includes`/`excludes` by caps,
//! arches and minKernel, comments) and its resolution into an OCI profile
//! for one capability set, architecture and kernel version, the way
//! moby's `profiles/seccomp.setupSeccomp` does it.

use crate::profile::*;
use crate::Code;
use crate::{Error, Result};
use serde_json::{Map, Value};

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Docker's default profile, as shipped by moby (a copy of
/// `profiles/seccomp/default.json`; `cargo test` checks it is the same as
/// the shared data file).
pub const DOCKER_DEFAULT_JSON: &str = include_str!("../data/docker-default.json");

/// A kernel version `major.minor` (Docker compares only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KernelVersion {
    /// Parse `"6.18"`, `"6.18.0-1-amd64"` and alike.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let mut it = s.split(|c: char| !c.is_ascii_digit());
        let major = it.next()?.parse().ok()?;
        let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Some(KernelVersion { major, minor })
    }

    /// The running kernel's version (uname).
    pub fn current() -> Result<KernelVersion> {
        // SAFETY: utsname is plain data, uname fills it.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return Err(Error::last_os(
                Code::Detect,
                "uname",
                "read the kernel version",
            ));
        }
        // SAFETY: the release field is NUL terminated by the kernel.
        let rel = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        KernelVersion::parse(&rel)
            .ok_or_else(|| Error::new(Code::Detect, format!("cannot parse kernel release {rel:?}")))
    }
}

/// What to resolve a Docker profile for.
#[derive(Debug, Clone)]
pub struct ResolveFor {
    /// Capabilities in the bounding set (`CAP_*`).
    pub caps: Vec<String>,
    /// Architecture of the container, in any spelling [`Arch::parse`] takes.
    pub arch: Arch,
    /// Kernel version compared with `minKernel`.
    pub kernel: KernelVersion,
}

impl ResolveFor {
    /// Docker's defaults on this host: default caps, x86_64, running kernel.
    pub fn host_defaults() -> Result<ResolveFor> {
        Ok(ResolveFor {
            caps: DEFAULT_CAPS.iter().map(|s| s.to_string()).collect(),
            arch: Arch::native(),
            kernel: KernelVersion::current()?,
        })
    }
}

/// An architecture with its Go (Docker `includes.arches`) and libseccomp names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// Go's GOARCH name (`amd64`), used by `includes.arches`.
    pub go: &'static str,
    /// OCI / libseccomp name (`SCMP_ARCH_X86_64`), used by `archMap`.
    pub scmp: &'static str,
}

const ARCH_TABLE: &[(&str, &str, &str)] = &[
    ("x86_64", "amd64", "SCMP_ARCH_X86_64"),
    ("i386", "386", "SCMP_ARCH_X86"),
    ("x86", "x86", "SCMP_ARCH_X86"),
    ("x32", "x32", "SCMP_ARCH_X32"),
    ("aarch64", "arm64", "SCMP_ARCH_AARCH64"),
    ("arm", "arm", "SCMP_ARCH_ARM"),
    ("ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE"),
    ("s390x", "s390x", "SCMP_ARCH_S390X"),
    ("s390", "s390", "SCMP_ARCH_S390"),
    ("riscv64", "riscv64", "SCMP_ARCH_RISCV64"),
    ("mips64", "mips64", "SCMP_ARCH_MIPS64"),
    ("loongarch64", "loong64", "SCMP_ARCH_LOONGARCH64"),
];

impl Arch {
    /// Parse `x86_64`, `amd64` or `SCMP_ARCH_X86_64` (and the others).
    pub fn parse(s: &str) -> Option<Arch> {
        ARCH_TABLE
            .iter()
            .find(|(a, g, c)| *a == s || *g == s || *c == s)
            .map(|(_, g, c)| Arch { go: g, scmp: c })
    }

    /// The architecture this library was built for.
    pub fn native() -> Arch {
        Arch::parse(std::env::consts::ARCH).unwrap_or(Arch {
            go: "amd64",
            scmp: "SCMP_ARCH_X86_64",
        })
    }
}

struct Cond {
    caps: Vec<String>,
    arches: Vec<String>,
    min_kernel: Option<KernelVersion>,
}

fn parse_cond(o: &Map<String, Value>, key: &str, base: &str) -> Result<Option<Cond>> {
    let path = join(base, key);
    let Some(v) = o.get(key) else { return Ok(None) };
    if v.is_null() {
        return Ok(None);
    }
    let c = as_object(v, &path)?;
    let caps = opt_str_list(c, "caps", &path)?.unwrap_or_default();
    let arches = opt_str_list(c, "arches", &path)?.unwrap_or_default();
    let min_kernel = match opt_str(c, "minKernel", &path)? {
        None => None,
        Some(s) => Some(KernelVersion::parse(s).ok_or_else(|| {
            invalid(
                Code::InvalidValue.as_str(),
                &join(&path, "minKernel"),
                format!("invalid kernel version {s:?}"),
            )
        })?),
    };
    Ok(Some(Cond {
        caps,
        arches,
        min_kernel,
    }))
}

/// Whether a JSON profile is in Docker's format (has `archMap`, or rules
/// with `includes`/`excludes`/`comment`).
pub fn is_docker_format(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.contains_key("archMap")
        || o.get("syscalls")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter().any(|r| {
                    r.get("includes").is_some()
                        || r.get("excludes").is_some()
                        || r.get("comment").is_some()
                })
            })
}

/// Resolve a Docker-format profile into an OCI profile for `target`.
pub fn resolve_docker(v: &Value, target: &ResolveFor) -> Result<Profile> {
    let o = as_object(v, "")?;
    parse_profile(
        o,
        |o| architectures_for(o, target),
        |ro, base| rule_applies(ro, base, target),
    )
}

/// `architectures`, or the `archMap` entry of `target`'s architecture with
/// its sub-architectures (every entry checked).
fn architectures_for(o: &Map<String, Value>, target: &ResolveFor) -> Result<Vec<String>> {
    let arches = opt_str_list(o, "architectures", "")?.unwrap_or_default();
    check_arches(&arches, "architectures")?;
    let mut architectures = arches.clone();
    if let Some(map) = o.get("archMap").filter(|v| !v.is_null()) {
        if !arches.is_empty() {
            return Err(invalid(
                Code::InvalidProfile.as_str(),
                "archMap",
                "both architectures and archMap are specified, use either",
            ));
        }
        let list = map.as_array().ok_or_else(|| {
            invalid(
                Code::InvalidType.as_str(),
                "archMap",
                format!("must be an array, not {}", type_name(map)),
            )
        })?;
        for (i, e) in list.iter().enumerate() {
            let p = format!("archMap[{i}]");
            let eo = as_object(e, &p)?;
            let a = opt_str(eo, "architecture", &p)?.ok_or_else(|| {
                invalid(
                    Code::MissingField.as_str(),
                    &join(&p, "architecture"),
                    "is required",
                )
            })?;
            check_arches(&[a.to_string()], &join(&p, "architecture")).map_err(|mut e| {
                e.path = Some(join(&p, "architecture"));
                e
            })?;
            let subs = opt_str_list(eo, "subArchitectures", &p)?.unwrap_or_default();
            check_arches(&subs, &join(&p, "subArchitectures"))?;
            if a == target.arch.scmp {
                architectures.push(a.to_string());
                architectures.extend(subs);
            }
        }
    }
    Ok(architectures)
}

/// Whether the rule object `ro` (at `base`) applies to `target`: its
/// `excludes` and `includes` (architectures, capabilities, kernel version),
/// checked even when they do not matter here.
fn rule_applies(ro: &Map<String, Value>, base: &str, target: &ResolveFor) -> Result<bool> {
    let has = |c: &String| target.caps.iter().any(|t| t == c);
    opt_str(ro, "comment", base)?;
    let excludes = parse_cond(ro, "excludes", base)?;
    let includes = parse_cond(ro, "includes", base)?;
    if let Some(ex) = excludes {
        if ex.arches.iter().any(|a| a == target.arch.go) {
            return Ok(false);
        }
        if ex.caps.iter().any(has) {
            return Ok(false);
        }
        if ex.min_kernel.is_some_and(|k| target.kernel >= k) {
            return Ok(false);
        }
    }
    if let Some(inc) = includes {
        if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == target.arch.go) {
            return Ok(false);
        }
        if !inc.caps.iter().all(has) {
            return Ok(false);
        }
        if inc.min_kernel.is_some_and(|k| target.kernel < k) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The built-in default profile: Docker's, resolved for `target`.
pub fn builtin_default(target: &ResolveFor) -> Result<Profile> {
    let v: Value = serde_json::from_str(DOCKER_DEFAULT_JSON).map_err(|e| {
        Error::new(
            ctr_common::Code::Internal,
            format!("built-in profile is not json: {e}"),
        )
    })?;
    resolve_docker(&v, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(caps: &[&str], arch: &str, kernel: &str) -> ResolveFor {
        ResolveFor {
            caps: caps.iter().map(|s| s.to_string()).collect(),
            arch: Arch::parse(arch).unwrap(),
            kernel: KernelVersion::parse(kernel).unwrap(),
        }
    }

    fn names_with<'a>(p: &'a Profile, name: &str) -> Vec<&'a SyscallRule> {
        p.syscalls
            .iter()
            .filter(|r| r.names.iter().any(|n| n == name))
            .collect()
    }

    #[test]
    fn builtin_copy_matches_vendored_test_data() {
        let vendored = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-data/docker-seccomp/default.json"
        );
        let text = std::fs::read_to_string(vendored)
            .expect("test-data/docker-seccomp/default.json is part of the repository");
        let a: Value = serde_json::from_str(&text).unwrap();
        let b: Value = serde_json::from_str(DOCKER_DEFAULT_JSON).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn resolves_like_docker() {
        let v: Value = serde_json::from_str(DOCKER_DEFAULT_JSON).unwrap();
        let p = resolve_docker(&v, &target(DEFAULT_CAPS, "x86_64", "6.18")).unwrap();
        assert_eq!(
            p.architectures,
            ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        );
        assert_eq!(p.default_action, Action::Errno(1));
        // ptrace is allowed from kernel 4.8 on
        assert_eq!(names_with(&p, "ptrace").len(), 1);
        let old = resolve_docker(&v, &target(DEFAULT_CAPS, "x86_64", "4.4")).unwrap();
        assert!(names_with(&old, "ptrace").is_empty());
        // arch_prctl only on amd64/x32; s390 rules never on x86_64
        assert_eq!(names_with(&p, "arch_prctl").len(), 1);
        assert!(names_with(&p, "s390_runtime_instr").is_empty());
        let arm = resolve_docker(&v, &target(DEFAULT_CAPS, "aarch64", "6.1")).unwrap();
        assert!(names_with(&arm, "arch_prctl").is_empty());
        assert_eq!(arm.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
        // clone: namespace flags masked without CAP_SYS_ADMIN, free with it
        let clone = names_with(&p, "clone");
        assert_eq!(clone.len(), 1);
        assert_eq!(clone[0].args[0].op, Op::MaskedEq);
        let mut caps = DEFAULT_CAPS.to_vec();
        caps.push("CAP_SYS_ADMIN");
        let admin = resolve_docker(&v, &target(&caps, "x86_64", "6.18")).unwrap();
        assert!(names_with(&admin, "clone")
            .iter()
            .any(|r| r.args.is_empty()));
        assert!(names_with(&admin, "mount")
            .iter()
            .any(|r| r.action == Action::Allow));
        assert!(names_with(&p, "mount").is_empty());
        // clone3 gets ENOSYS without CAP_SYS_ADMIN
        assert!(names_with(&p, "clone3")
            .iter()
            .any(|r| r.action == Action::Errno(38)));
    }

    #[test]
    fn docker_errors_name_paths() {
        let v = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "x"}}]});
        let e = resolve_docker(&v, &target(DEFAULT_CAPS, "x86_64", "6.1")).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("syscalls[0].includes.minKernel"));
        let v = serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_NOPE"}]});
        let e = resolve_docker(&v, &target(DEFAULT_CAPS, "x86_64", "6.1")).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::UnknownArch.as_str(), Some("archMap[0].architecture"))
        );
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(
            KernelVersion::parse("6.18.0-1-amd64"),
            Some(KernelVersion {
                major: 6,
                minor: 18
            })
        );
        assert!(KernelVersion::parse("4.8").unwrap() < KernelVersion::parse("4.14").unwrap());
    }
}
