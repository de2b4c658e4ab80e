//! One mapping from an OCI `process` object onto the fields of
//! [`ctr_ns::SpawnOptions`]: program resolution, argv, environment, working
//! directory, user (uid, gid, umask, additional gids), rlimits, capabilities
//! (as [`ctr_ns::CapNames`]), `noNewPrivileges`, `oomScoreAdj` and the
//! seccomp filter of `linux.seccomp` compiled through
//! [`crate::plan::plan_seccomp`] (and its cache).
//!
//! Used by `ctrun exec` (and meant for the container init): what cannot be
//! applied fails here with `ERUNTIME_UNSUPPORTED` naming the JSON path,
//! before anything is spawned.

use crate::plan::{plan_seccomp, PlannedSeccomp};
use crate::Code;
use ctr_common::{Error, Result};
use ctr_oci::types::{Capabilities, Process, Scheduler};
use ctr_oci::validate::rlimit_number;

/// An OCI process, resolved into what `ctr_ns::spawn` applies.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// The program: `args[0]`, looked up in the process's own `PATH` (from
    /// `env`) by ctr-ns when it has no `/` (as `execvp`, inside the
    /// container's mount namespace).
    pub program: String,
    /// argv, `argv[0]` included.
    pub args: Vec<String>,
    /// Environment, `KEY=value`.
    pub env: Vec<String>,
    /// Absolute working directory (inside the container).
    pub cwd: String,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Supplementary groups (always set: an empty list drops the caller's).
    pub groups: Vec<u32>,
    /// umask, when given.
    pub umask: Option<u32>,
    /// Resource limits.
    pub rlimits: Vec<ctr_ns::Rlimit>,
    /// Capability sets, when `process.capabilities` is given (a missing set
    /// is empty, as in runc).
    pub capabilities: Option<ctr_ns::CapNames>,
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    pub no_new_privileges: bool,
    /// `/proc/self/oom_score_adj`.
    pub oom_score_adj: Option<i32>,
    /// `ioprio_set` value (class << 13 | level), when given.
    pub io_priority: Option<i32>,
    /// `process.terminal`: a pty in the container's devpts as stdio and
    /// controlling terminal, its master returned to the caller (the caller
    /// may point it at a console socket instead); `consoleSize` 0x0 is unset.
    pub console: Option<ctr_ns::Console>,
    /// The compiled filter of `linux.seccomp`, when the config has one.
    pub seccomp: Option<PlannedSeccomp>,
    /// `process.scheduler` as the `sched_setattr` argument.
    pub scheduler: Option<ctr_ns::SchedAttr>,
    /// `process.execCPUAffinity`: applied by exec only (the spec: not to
    /// the container's init).
    pub exec_cpu_affinity: ExecCpuAffinity,
}

/// A refused `sched_setattr`/`sched_setaffinity` of the spawned process
/// named by its OCI field (`ERUNTIME_SCHEDULER` on `process.scheduler`,
/// `ERUNTIME_CPU_AFFINITY` on `process.execCPUAffinity.initial|final`);
/// other errors pass unchanged.
pub fn oci_step_error(e: Error) -> Error {
    use ctr_ns::Code as Ns;
    let (code, field) = match (Ns::from_code(&e.code), e.path.as_deref()) {
        (Some(Ns::Scheduler), _) => (Code::Scheduler.as_str(), "process.scheduler"),
        (Some(Ns::CpuAffinity), Some("initialCpuAffinity")) => (
            Code::CpuAffinity.as_str(),
            "process.execCPUAffinity.initial",
        ),
        (Some(Ns::CpuAffinity), _) => (Code::CpuAffinity.as_str(), "process.execCPUAffinity.final"),
        _ => return e,
    };
    Error {
        code: code.into(),
        message: format!("{field}: {}", e.message),
        ..e
    }
    .with_field(field)
}

/// `process.execCPUAffinity` as cpu numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecCpuAffinity {
    /// `initial`: the cpus the exec'd process's setup runs on.
    pub initial: Option<Vec<u32>>,
    /// `final`: the cpus the exec'd program runs on.
    pub r#final: Option<Vec<u32>>,
}

fn invalid(path: String, why: impl std::fmt::Display) -> Error {
    Error::new(ctr_oci::Code::Invalid, format!("{path}: {why}")).with_field(path)
}

pub use ctr_common::sched::{sched_flag, sched_policy};

/// `process.scheduler` as a `struct sched_attr`, validated as runc does
/// (plus the kernel's own rules, so a bad config fails with a field rather
/// than as `EINVAL` from the container's setup): nice -20..19; priority only
/// for `SCHED_FIFO`/`SCHED_RR`, and there 1..99; runtime, deadline and
/// period only for `SCHED_DEADLINE`, and there all three with
/// runtime <= deadline <= period.
pub fn scheduler(s: &Scheduler, prefix: &str) -> Result<ctr_ns::SchedAttr> {
    let f = |name: &str| format!("{prefix}.scheduler.{name}");
    let policy = sched_policy(&s.policy)
        .ok_or_else(|| invalid(f("policy"), format!("unknown policy {:?}", s.policy)))?;
    let mut flags = 0;
    for (i, name) in s.flags.iter().flatten().enumerate() {
        flags |= sched_flag(name).ok_or_else(|| {
            invalid(
                format!("{prefix}.scheduler.flags[{i}]"),
                format!("unknown flag {name:?}"),
            )
        })?;
    }
    let priority = match s.priority {
        Some(p) if p < 0 => return Err(invalid(f("priority"), format!("{p} is negative"))),
        p => p.unwrap_or(0) as u32,
    };
    let want = ctr_common::sched::Sched {
        policy,
        flags,
        nice: s.nice.unwrap_or(0),
        priority,
        runtime: s.runtime.unwrap_or(0),
        deadline: s.deadline.unwrap_or(0),
        period: s.period.unwrap_or(0),
    };
    ctr_common::sched::check_sched(&want).map_err(|(k, msg)| invalid(f(k), msg))?;
    let mut attr = ctr_ns::SchedAttr::new(policy);
    attr.sched_flags = want.flags;
    attr.sched_nice = want.nice;
    attr.sched_priority = want.priority;
    (attr.sched_runtime, attr.sched_deadline, attr.sched_period) =
        (want.runtime, want.deadline, want.period);
    Ok(attr)
}

/// A cpu list (`0-1,3`) as cpu numbers (ctr-common's one parser); `path`
/// names the field. An empty list is refused: an affinity needs a cpu.
pub fn cpu_list(s: &str, path: &str) -> Result<Vec<u32>> {
    if s.trim().is_empty() {
        return Err(invalid(path.to_string(), "is an empty cpu list"));
    }
    ctr_common::cpulist::parse_field(s, ctr_common::cpulist::CPU, ctr_oci::Code::Invalid, path)
}

/// `process.execCPUAffinity` (`{"initial": "0-1", "final": "1"}`).
pub fn exec_cpu_affinity(v: &serde_json::Value, prefix: &str) -> Result<ExecCpuAffinity> {
    let path = format!("{prefix}.execCPUAffinity");
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(path.clone(), "must be an object with initial and/or final"))?;
    let mut out = ExecCpuAffinity::default();
    for (k, val) in obj {
        let field = format!("{path}.{k}");
        let list = match val {
            serde_json::Value::String(s) => cpu_list(s, &field)?,
            _ => return Err(invalid(field, "must be a cpu list string")),
        };
        match k.as_str() {
            "initial" => out.initial = Some(list),
            "final" => out.r#final = Some(list),
            _ => return Err(invalid(field, "unknown field (initial, final)")),
        }
    }
    Ok(out)
}

fn unsupported(path: String, why: &str) -> Error {
    Error::new(Code::Unsupported, format!("{path}: {why}")).with_field(path)
}

/// Refuse the process fields this runtime cannot apply; `prefix` is the
/// JSON path of the object (`process`).
pub fn check_supported(p: &Process, prefix: &str) -> Result<()> {
    if p.apparmor_profile.as_ref().is_some_and(|s| !s.is_empty()) {
        return Err(unsupported(
            format!("{prefix}.apparmorProfile"),
            "apparmor is not available on this host",
        ));
    }
    // A process label is a confinement request: never dropped silently
    // (runc refuses it too when SELinux is off; crun ignores it). Engines
    // set it only when the host has SELinux enabled.
    if p.selinux_label.as_ref().is_some_and(|s| !s.is_empty()) {
        let why = if crate::plan::selinux_enabled() {
            "setting selinux process labels is not supported by this runtime"
        } else {
            "selinux is not enabled on this host"
        };
        return Err(unsupported(format!("{prefix}.selinuxLabel"), why));
    }
    Ok(())
}

fn names(list: &Option<Vec<String>>) -> Vec<String> {
    list.clone().unwrap_or_default()
}

/// `process.capabilities` as ctr-ns capability names.
///
/// An ambient capability the kernel cannot raise (it must be in both the
/// permitted and the inheritable set, capabilities(7)) is dropped, as runc
/// and crun do: `runc spec` writes `CAP_KILL` and others as ambient but not
/// inheritable, and such bundles must run unchanged.
pub fn cap_names(c: &Capabilities) -> ctr_ns::CapNames {
    let bits = |l: &Option<Vec<String>>| {
        l.iter()
            .flatten()
            .filter_map(|n| ctr_ns::caps::cap_from_name(n))
            .collect::<Vec<_>>()
    };
    let (permitted, inheritable) = (bits(&c.permitted), bits(&c.inheritable));
    let ambient = names(&c.ambient)
        .into_iter()
        // Unknown names stay: ctr-ns refuses them with the field named.
        .filter(|n| {
            ctr_ns::caps::cap_from_name(n)
                .is_none_or(|b| permitted.contains(&b) && inheritable.contains(&b))
        })
        .collect();
    ctr_ns::CapNames {
        bounding: names(&c.bounding),
        effective: names(&c.effective),
        permitted: names(&c.permitted),
        inheritable: names(&c.inheritable),
        ambient,
    }
}

/// `process.rlimits` as (resource, soft, hard); `prefix` names the object.
pub fn rlimits(p: &Process, prefix: &str) -> Result<Vec<(u32, u64, u64)>> {
    let mut out = Vec::new();
    for (i, r) in p.rlimits.iter().flatten().enumerate() {
        let n = rlimit_number(&r.typ).ok_or_else(|| {
            Error::new(
                ctr_oci::Code::Invalid,
                format!("{prefix}.rlimits[{i}].type: unknown rlimit {:?}", r.typ),
            )
            .with_field(format!("{prefix}.rlimits[{i}].type"))
        })?;
        if r.soft > r.hard {
            return Err(Error::new(
                ctr_oci::Code::Invalid,
                format!("{prefix}.rlimits[{i}]: soft limit above the hard limit"),
            )
            .with_field(format!("{prefix}.rlimits[{i}]")));
        }
        out.push((n, r.soft, r.hard));
    }
    Ok(out)
}

/// `process.ioPriority` as the `ioprio_set` value.
pub fn io_priority(p: &Process) -> Option<i32> {
    // ctr-oci's validation refused an unknown class or level already.
    p.io_priority.as_ref().map(|io| {
        let class = ctr_common::sched::ioprio_class(&io.class).unwrap_or(3);
        (class << 13) | io.priority
    })
}

/// Map `p` (at JSON path `prefix`) and the config's `linux.seccomp`, if
/// any (the OCI rule: no `linux.seccomp`, no filter).
pub fn map(
    p: &Process,
    prefix: &str,
    seccomp: Option<&serde_json::Value>,
) -> Result<ProcessSettings> {
    check_supported(p, prefix)?;
    let args = p.args.clone().unwrap_or_default();
    let Some(program) = args.first().filter(|a| !a.is_empty()).cloned() else {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{prefix}.args: needs at least the program"),
        )
        .with_field(format!("{prefix}.args")));
    };
    if !p.cwd.starts_with('/') {
        return Err(Error::new(
            ctr_oci::Code::Invalid,
            format!("{prefix}.cwd: {:?} is not absolute", p.cwd),
        )
        .with_field(format!("{prefix}.cwd")));
    }
    let no_new_privileges = p.no_new_privileges.unwrap_or(false);
    let seccomp = match seccomp {
        None => None,
        Some(v) => Some(plan_seccomp(v, no_new_privileges)?),
    };
    Ok(ProcessSettings {
        program,
        args,
        env: p.env.clone().unwrap_or_default(),
        cwd: p.cwd.clone(),
        uid: p.user.uid,
        gid: p.user.gid,
        groups: p.user.additional_gids.clone().unwrap_or_default(),
        umask: p.user.umask,
        rlimits: rlimits(p, prefix)?
            .into_iter()
            .map(|(r, soft, hard)| ctr_ns::Rlimit {
                resource: r as i32,
                soft,
                hard,
            })
            .collect(),
        capabilities: p.capabilities.as_ref().map(cap_names),
        no_new_privileges,
        oom_score_adj: p.oom_score_adj,
        io_priority: io_priority(p),
        console: (p.terminal == Some(true)).then(|| {
            let size = p
                .console_size
                .as_ref()
                .filter(|c| c.width > 0 && c.height > 0)
                .map(|c| ctr_ns::WinSize {
                    cols: c.width.min(u16::MAX as u32) as u16,
                    rows: c.height.min(u16::MAX as u32) as u16,
                });
            ctr_ns::Console::returned(size)
        }),
        seccomp,
        scheduler: p
            .scheduler
            .as_ref()
            .map(|s| scheduler(s, prefix))
            .transpose()?,
        exec_cpu_affinity: p
            .exec_cpu_affinity
            .as_ref()
            .map(|v| exec_cpu_affinity(v, prefix))
            .transpose()?
            .unwrap_or_default(),
    })
}

impl ProcessSettings {
    /// Set the process fields of `so` (namespaces, cgroups, stdio and the
    /// rootfs are the caller's).
    pub fn apply(&self, so: &mut ctr_ns::SpawnOptions) {
        so.process.program = self.program.clone();
        so.process.args = self.args.clone();
        so.process.env = self.env.clone();
        so.process.cwd = Some(self.cwd.clone());
        so.security.uid = Some(self.uid);
        so.security.gid = Some(self.gid);
        // Rootless with no additional gids: no setgroups at all, as runc
        // (a user namespace mapping only the caller's gid denies it).
        so.security.groups = if self.groups.is_empty() && crate::rootless::is_rootless() {
            None
        } else {
            Some(self.groups.clone())
        };
        so.security.umask = self.umask;
        so.resources.rlimits = self.rlimits.clone();
        so.security.capabilities = self.capabilities.clone();
        so.security.no_new_privileges = self.no_new_privileges;
        so.resources.oom_score_adj = self.oom_score_adj;
        so.resources.io_priority = self.io_priority;
        so.io.console = self.console;
        so.resources.scheduler = self.scheduler;
        match &self.seccomp {
            Some(s) => {
                so.security.seccomp = Some(s.bpf.clone());
                // ctr-ns adds NEW_LISTENER itself when asked for the listener.
                so.security.seccomp_flags = s.flags & !ctr_seccomp::profile::FLAG_NEW_LISTENER;
                so.security.seccomp_listener = s.listener.is_some();
            }
            None => {
                so.security.seccomp = None;
                so.security.seccomp_flags = 0;
                so.security.seccomp_listener = false;
            }
        }
    }

    /// A [`ctr_ns::SpawnOptions`] with these settings.
    pub fn spawn_options(&self) -> ctr_ns::SpawnOptions {
        let mut so = ctr_ns::SpawnOptions::new(self.program.clone(), self.args.clone());
        self.apply(&mut so);
        so
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(json: &str) -> Process {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ambient_capabilities_the_kernel_cannot_raise_are_dropped() {
        // What Debian's `runc spec` (1.1.5) writes: ambient, not inheritable.
        let p = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"capabilities":{
            "bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
            "effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
            "inheritable":["CAP_NET_BIND_SERVICE"],
            "permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
            "ambient":["CAP_AUDIT_WRITE","CAP_KILL","net_bind_service"]}}"#,
        );
        let c = cap_names(p.capabilities.as_ref().unwrap());
        assert_eq!(
            c.ambient,
            vec!["net_bind_service"],
            "only what is both permitted and inheritable"
        );
        assert_eq!(c.permitted.len(), 3);
        assert_eq!(c.inheritable, vec!["CAP_NET_BIND_SERVICE"]);
        // An unknown name is left for ctr-ns to refuse with its field.
        let p = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"capabilities":{"ambient":["CAP_NOPE"]}}"#,
        );
        assert_eq!(
            cap_names(p.capabilities.as_ref().unwrap()).ambient,
            vec!["CAP_NOPE"]
        );
    }

    #[test]
    fn every_field_lands_in_spawn_options() {
        let p = process(
            r#"{"args":["sh","-c","id"],"env":["PATH=/bin","A=1"],"cwd":"/tmp",
            "user":{"uid":1000,"gid":100,"umask":18,"additionalGids":[5,6]},
            "rlimits":[{"type":"RLIMIT_NOFILE","soft":64,"hard":128}],
            "capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"]},
            "noNewPrivileges":true,"oomScoreAdj":200,"ioPriority":{"class":"IOPRIO_CLASS_BE","priority":4}}"#,
        );
        let s = map(&p, "process", None).unwrap();
        let so = s.spawn_options();
        assert_eq!(so.process.program, "sh");
        assert_eq!(so.process.args, ["sh", "-c", "id"]);
        assert_eq!(
            so.process.env,
            ["PATH=/bin", "A=1"],
            "only the process's environment, not the caller's"
        );
        assert_eq!(so.process.cwd.as_deref(), Some("/tmp"));
        assert_eq!(
            (
                so.security.uid,
                so.security.gid,
                so.security.groups.clone(),
                so.security.umask
            ),
            (Some(1000), Some(100), Some(vec![5, 6]), Some(18))
        );
        assert_eq!(
            so.resources.rlimits,
            vec![ctr_ns::Rlimit {
                resource: 7,
                soft: 64,
                hard: 128
            }]
        );
        let caps = so.security.capabilities.clone().unwrap();
        assert_eq!(caps.bounding, ["CAP_KILL", "CAP_CHOWN"]);
        assert_eq!(caps.effective, ["CAP_KILL"]);
        assert!(
            caps.permitted.is_empty() && caps.ambient.is_empty(),
            "a missing set is empty"
        );
        assert_eq!(
            caps.to_sets().unwrap().bounding,
            (1 << 5) | 1,
            "names resolve in ctr-ns"
        );
        assert!(so.security.no_new_privileges);
        assert_eq!(so.resources.oom_score_adj, Some(200));
        assert_eq!(so.resources.io_priority, Some((2 << 13) | 4));
        assert!(so.security.seccomp.is_none());
        assert!(so.io.console.is_none());
        let t = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"terminal":true,"consoleSize":{"height":24,"width":80}}"#,
        );
        let c = map(&t, "process", None)
            .unwrap()
            .spawn_options()
            .io
            .console
            .unwrap();
        assert_eq!(c.socket, ctr_ns::ConsoleSocket::Return);
        assert_eq!(c.size, Some(ctr_ns::WinSize { cols: 80, rows: 24 }));
    }

    #[test]
    fn scheduler_and_affinity_map() {
        let p = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},
            "scheduler":{"policy":"SCHED_BATCH","nice":5,"flags":["SCHED_FLAG_RESET_ON_FORK","SCHED_FLAG_KEEP_PARAMS"]},
            "execCPUAffinity":{"initial":"0-2,5","final":"1"}}"#,
        );
        let s = map(&p, "process", None).unwrap();
        let a = s.spawn_options().resources.scheduler.unwrap();
        assert_eq!(
            std::mem::size_of::<ctr_ns::SchedAttr>(),
            56,
            "SCHED_ATTR_SIZE_VER1"
        );
        assert_eq!(
            (
                a.size,
                a.sched_policy,
                a.sched_flags,
                a.sched_nice,
                a.sched_priority
            ),
            (56, 3, 0x11, 5, 0)
        );
        assert_eq!(
            s.exec_cpu_affinity,
            ExecCpuAffinity {
                initial: Some(vec![0, 1, 2, 5]),
                r#final: Some(vec![1])
            }
        );
        assert!(
            s.spawn_options().resources.cpu_affinity.is_none(),
            "execCPUAffinity is not the init's"
        );
        let dl = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},
            "scheduler":{"policy":"SCHED_DEADLINE","runtime":100000,"deadline":200000,"period":300000}}"#,
        );
        let a = map(&dl, "process", None).unwrap().scheduler.unwrap();
        assert_eq!(
            (
                a.sched_policy,
                a.sched_runtime,
                a.sched_deadline,
                a.sched_period
            ),
            (6, 100000, 200000, 300000)
        );
        let rr = process(
            r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_RR","priority":99}}"#,
        );
        assert_eq!(
            map(&rr, "process", None)
                .unwrap()
                .scheduler
                .unwrap()
                .sched_priority,
            99
        );
    }

    #[test]
    fn defaults_drop_groups_and_keep_caps_as_given() {
        let p = process(r#"{"args":["/bin/true"],"cwd":"/","user":{"uid":0,"gid":0}}"#);
        let so = map(&p, "process", None).unwrap().spawn_options();
        assert_eq!(
            so.security.groups,
            Some(vec![]),
            "supplementary groups are always set"
        );
        assert!(so.security.capabilities.is_none());
        assert!(!so.security.no_new_privileges);
        assert!(so.process.env.is_empty());
    }

    #[test]
    fn seccomp_is_compiled_through_the_cache() {
        // The same profile as plan's test (which counts its cache entries
        // while tests run in parallel): the same cache entry.
        let p =
            process(r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"noNewPrivileges":true}"#);
        let v: serde_json::Value = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
        )
        .unwrap();
        let s = map(&p, "process", Some(&v)).unwrap();
        let sc = s.seccomp.clone().unwrap();
        let so = s.spawn_options();
        assert_eq!(so.security.seccomp.as_deref(), Some(&sc.bpf[..]));
        assert_eq!(so.security.seccomp_flags, 2);
    }

    #[test]
    fn unsupported_and_invalid_fields_name_their_path() {
        let cases = [
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"apparmorProfile":"x"}"#,
                Code::Unsupported.as_str(),
                "p.apparmorProfile",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"selinuxLabel":"x"}"#,
                Code::Unsupported.as_str(),
                "p.selinuxLabel",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_NOPE"}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.policy",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_OTHER","flags":["SCHED_FLAG_X"]}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.flags[0]",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_OTHER","nice":20}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.nice",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_OTHER","priority":5}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.priority",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_FIFO","priority":100}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.priority",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_RR"}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.priority",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_BATCH","runtime":10}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.runtime",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_DEADLINE","runtime":10,"deadline":20}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.period",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_DEADLINE","runtime":30,"deadline":20,"period":40}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.runtime",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_DEADLINE","runtime":10,"deadline":50,"period":40}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.scheduler.deadline",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"final":"0-x"}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.execCPUAffinity.final",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"final":"3-1"}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.execCPUAffinity.final",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"initial":"5000"}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.execCPUAffinity.initial",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"final":""}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.execCPUAffinity.final",
            ),
            (
                r#"{"args":[],"cwd":"/","user":{"uid":0,"gid":0}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.args",
            ),
            (
                r#"{"args":["sh"],"cwd":"tmp","user":{"uid":0,"gid":0}}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.cwd",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"rlimits":[{"type":"RLIMIT_X","soft":1,"hard":1}]}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.rlimits[0].type",
            ),
            (
                r#"{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0},"rlimits":[{"type":"RLIMIT_NOFILE","soft":9,"hard":1}]}"#,
                ctr_oci::Code::Invalid.as_str(),
                "p.rlimits[0]",
            ),
        ];
        for (json, code, path) in cases {
            let e = map(&process(json), "p", None).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.path.as_deref()),
                (code, Some(path)),
                "{json}"
            );
        }
    }
}
