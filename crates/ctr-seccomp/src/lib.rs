//! Seccomp for ctr: profiles and their BPF.
//!
//! * [`profile`]: the front end, the OCI `linux.seccomp` model parsed from
//!   JSON with errors naming the JSON path (`syscalls[3].args[0].op`).
//! * [`docker`]: Docker's format resolved into OCI for a capability set,
//!   architecture and kernel version; the built-in default profile.
//! * [`compile`]: the back end, libseccomp, with a cache keyed by a hash
//!   of the canonical profile, the architecture and libseccomp's version.
//! * [`bpf`]: a cBPF interpreter over `seccomp_data` (used by
//!   [`evaluate`]) and a disassembler.
//! * [`notify`]: the user-notification listener and the OCI
//!   `listenerPath` protocol.
//!
//! Filters are never installed here: `ctr-ns` installs the program bytes
//! in a child just before exec.
#![deny(missing_docs)]

pub mod bpf;
pub mod code;
pub mod compile;
pub mod docker;
pub mod notify;
pub mod profile;

pub use code::Code;

pub use compile::{compile, CacheHit, CompileOptions, Program};
pub use ctr_common::{Error, Result};
pub use docker::{builtin_default, resolve_docker, Arch, KernelVersion, ResolveFor};
pub use profile::{parse_oci, Action, ArgCondition, Op, Profile, SyscallRule};

use ctr_common::fs::read_string;
use libseccomp::{ScmpArch, ScmpSyscall};
use serde::Serialize;

/// What this kernel offers for seccomp filtering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelSupport {
    /// `Seccomp:` mode support from `/proc/self/status` (the field exists
    /// when the kernel has CONFIG_SECCOMP).
    pub available: bool,
    /// Filter return actions the kernel accepts, from
    /// `/proc/sys/kernel/seccomp/actions_avail` (e.g. `kill_process`,
    /// `user_notif`).
    pub actions: Vec<String>,
}

/// Read what seccomp support the running kernel has.
pub fn kernel_support() -> Result<KernelSupport> {
    let status = read_string(Code::Detect.as_str(), "/proc/self/status")?;
    let available = status.lines().any(|l| l.starts_with("Seccomp:"));
    let actions = match std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail") {
        Ok(s) => s.split_whitespace().map(String::from).collect(),
        Err(_) => Vec::new(),
    };
    Ok(KernelSupport { available, actions })
}

/// Parse a profile in either format: Docker's (resolved for `target`) when
/// it has Docker-only fields, else OCI. `format` forces one (`"oci"`,
/// `"docker"`).
pub fn parse_profile(json: &str, format: Option<&str>, target: &ResolveFor) -> Result<Profile> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        Error::new(Code::InvalidJson, format!("profile is not valid json: {e}"))
            .with_field(format!("line {} column {}", e.line(), e.column()))
    })?;
    match format {
        Some("oci") => parse_oci(&v),
        Some("docker") => resolve_docker(&v, target),
        None | Some("auto") => {
            if docker::is_docker_format(&v) {
                resolve_docker(&v, target)
            } else {
                parse_oci(&v)
            }
        }
        Some(f) => Err(
            Error::new(Code::InvalidOption, format!("unknown profile format {f:?}"))
                .with_field("format"),
        ),
    }
}

/// A system call to explain.
#[derive(Debug, Clone)]
pub struct Call {
    /// Name (resolved for `arch` by libseccomp) or number.
    pub syscall: SyscallRef,
    /// Arguments (missing ones are 0).
    pub args: [u64; 6],
    /// Architecture of the caller: `x86_64`, `x86`/`i386` or `x32` (or OCI names).
    pub arch: String,
}

/// A system call by name or number.
#[derive(Debug, Clone)]
pub enum SyscallRef {
    /// By name.
    Name(String),
    /// By number on the call's architecture.
    Number(i32),
}

/// What the filter does with a [`Call`], and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The action, from interpreting the compiled program.
    pub action: Action,
    /// The raw 32-bit return value of the program.
    pub ret: u32,
    /// Index in `profile.syscalls` of the rule that decided, `None` for the
    /// default action (or a call of an architecture the filter rejects).
    pub rule: Option<usize>,
    /// The system call number the program saw.
    pub nr: i32,
    /// The system call name, where libseccomp knows it.
    pub name: Option<String>,
}

fn call_arch(s: &str) -> Result<(ScmpArch, &'static str)> {
    Ok(match s {
        "x86_64" | "amd64" | "SCMP_ARCH_X86_64" => (ScmpArch::X8664, "SCMP_ARCH_X86_64"),
        "x86" | "i386" | "386" | "SCMP_ARCH_X86" => (ScmpArch::X86, "SCMP_ARCH_X86"),
        "x32" | "SCMP_ARCH_X32" => (ScmpArch::X32, "SCMP_ARCH_X32"),
        _ => {
            return Err(Error::new(
                Code::UnknownArch,
                format!("cannot evaluate calls of architecture {s:?}"),
            )
            .with_field("arch"))
        }
    })
}

fn conditions_hold(rule: &SyscallRule, args: &[u64; 6]) -> bool {
    if rule.args.is_empty() {
        return true;
    }
    let test = |c: &ArgCondition| c.op.test(args[c.index as usize], c.value, c.value_two);
    if compile::repeats_index(&rule.args) {
        rule.args.iter().any(test)
    } else {
        rule.args.iter().all(test)
    }
}

/// Explain what `prog` (compiled from `p`) does with `call`, by running
/// the BPF program over the `seccomp_data` the kernel would build.
pub fn evaluate(p: &Profile, prog: &Program, call: &Call) -> Result<Verdict> {
    let (arch, scmp_name) = call_arch(&call.arch)?;
    let (nr, name) = match &call.syscall {
        SyscallRef::Name(n) => {
            let sc = ScmpSyscall::from_name_by_arch(n, arch).map_err(|_| {
                Error::new(
                    Code::UnknownSyscall,
                    format!("unknown system call {n:?} on {}", call.arch),
                )
                .with_field("syscall")
            })?;
            let nr = sc.as_raw_syscall();
            if nr < 0 {
                return Err(Error::new(
                    Code::UnknownSyscall,
                    format!(
                        "system call {n:?} does not exist on {} (libseccomp pseudo-number {nr})",
                        call.arch
                    ),
                )
                .with_field("syscall"));
            }
            (nr, Some(n.clone()))
        }
        SyscallRef::Number(nr) => (*nr, ScmpSyscall::from(*nr).get_name_by_arch(arch).ok()),
    };
    let mut args = call.args;
    if arch == ScmpArch::X86 {
        // A 32-bit caller's arguments reach the filter zero-extended.
        for a in &mut args {
            *a &= 0xffff_ffff;
        }
    }
    let data = bpf::SeccompData {
        nr,
        arch: bpf::audit_arch(scmp_name).unwrap_or(0),
        instruction_pointer: 0,
        args,
    };
    let insns = bpf::decode(&prog.bpf)?;
    let ret = bpf::run(&insns, &data)?;
    let action = bpf::action_of(ret);
    let arch_ok = scmp_name == "SCMP_ARCH_X86_64" || p.architectures.iter().any(|a| a == scmp_name);
    let rule = match (&name, arch_ok) {
        (Some(n), true) => p.syscalls.iter().position(|r| {
            r.action == action && r.names.iter().any(|x| x == n) && conditions_hold(r, &args)
        }),
        _ => None,
    };
    Ok(Verdict {
        action,
        ret,
        rule,
        nr,
        name,
    })
}

/// Every system call name libseccomp knows on `arch` (numbers 0 to 1023
/// resolved through its tables), sorted.
pub fn syscall_names(arch: &str) -> Result<Vec<String>> {
    let (a, _) = call_arch(arch)?;
    let base = if a == ScmpArch::X32 { 0x4000_0000 } else { 0 };
    let mut names: Vec<String> = (0..1024)
        .filter_map(|nr| ScmpSyscall::from(base + nr).get_name_by_arch(a).ok())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> ResolveFor {
        ResolveFor::host_defaults().unwrap()
    }

    fn eval(p: &Profile, name: &str, args: &[u64], arch: &str) -> Verdict {
        let prog = compile::compile_uncached(p, &CompileOptions::default()).unwrap();
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        evaluate(
            p,
            &prog,
            &Call {
                syscall: SyscallRef::Name(name.into()),
                args: a,
                arch: arch.into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn every_action_and_operator_compiles_and_evaluates() {
        let p = parse_profile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls": [
              {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
              {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42},
              {"names": ["getpgrp"], "action": "SCMP_ACT_KILL"},
              {"names": ["getsid"], "action": "SCMP_ACT_KILL_PROCESS"},
              {"names": ["sync"], "action": "SCMP_ACT_TRAP"},
              {"names": ["syncfs"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
              {"names": ["getuid"], "action": "SCMP_ACT_LOG"},
              {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_EQ"}]},
              {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2, "args": [{"index": 0, "value": 200, "op": "SCMP_CMP_GT"}]},
              {"names": ["dup2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3, "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_LT"}]},
              {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4, "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_LE"}, {"index": 1, "value": 9, "op": "SCMP_CMP_GE"}]},
              {"names": ["close"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_NE"}, {"index": 0, "value": 4, "op": "SCMP_CMP_NE"}]},
              {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 6, "args": [{"index": 0, "value": 240, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}]},
              {"names": ["no_such_call_anywhere"], "action": "SCMP_ACT_ERRNO"}
            ]}"#,
            None,
            &host(),
        )
        .unwrap();
        let prog = compile::compile_uncached(&p, &CompileOptions::default()).unwrap();
        assert_eq!(prog.flags, 2 | 4 | 32 | 8);
        assert_eq!(prog.warnings.len(), 1, "{:?}", prog.warnings);
        assert!(prog.warnings[0].contains("syscalls[13].names[0]"));
        let cases: &[(&str, &[u64], Action, Option<usize>)] = &[
            ("mkdir", &[], Action::Notify, Some(0)),
            ("getppid", &[], Action::Errno(42), Some(1)),
            ("getpgrp", &[], Action::KillThread, Some(2)),
            ("getsid", &[], Action::KillProcess, Some(3)),
            ("sync", &[], Action::Trap, Some(4)),
            ("syncfs", &[], Action::Trace(7), Some(5)),
            ("getuid", &[], Action::Log, Some(6)),
            ("dup", &[100], Action::Errno(1), Some(7)),
            ("dup", &[201], Action::Errno(2), Some(8)),
            ("dup", &[150], Action::Allow, None),
            ("dup2", &[4], Action::Errno(3), Some(9)),
            ("dup2", &[5], Action::Allow, None),
            ("dup3", &[5, 9], Action::Errno(4), Some(10)),
            ("dup3", &[5, 8], Action::Allow, None),
            ("dup3", &[6, 9], Action::Allow, None),
            ("close", &[3], Action::Errno(5), Some(11)),
            ("close", &[7], Action::Errno(5), Some(11)),
            ("umask", &[0x1f], Action::Errno(6), Some(12)),
            ("umask", &[0x2f], Action::Allow, None),
            ("read", &[], Action::Allow, None),
        ];
        for arch in ["x86_64", "x86", "x32"] {
            for (name, args, action, rule) in cases {
                let v = eval(&p, name, args, arch);
                assert_eq!(
                    (v.action, v.rule),
                    (*action, *rule),
                    "{name}{args:?} on {arch}"
                );
            }
        }
        // comparisons are 64-bit: 2^32+100 is not == 100 but is > 200
        let v = eval(&p, "dup", &[(1 << 32) | 100], "x86_64");
        assert_eq!((v.action, v.rule), (Action::Errno(2), Some(8)));
        let listing = bpf::disassemble(&bpf::decode(&prog.bpf).unwrap());
        assert!(
            listing.contains("ERRNO(42)") && listing.contains("NOTIFY"),
            "{listing}"
        );
    }

    #[test]
    fn binary_tree_changes_layout_not_meaning() {
        let p = builtin_default(&host()).unwrap();
        let tree = compile::compile_uncached(
            &p,
            &CompileOptions {
                binary_tree: true,
                arch: None,
            },
        )
        .unwrap();
        let flat = compile::compile_uncached(
            &p,
            &CompileOptions {
                binary_tree: false,
                arch: None,
            },
        )
        .unwrap();
        assert_ne!(tree.bpf, flat.bpf);
        for name in syscall_names("x86_64").unwrap() {
            let c = Call {
                syscall: SyscallRef::Name(name.clone()),
                args: [0; 6],
                arch: "x86_64".into(),
            };
            assert_eq!(
                evaluate(&p, &tree, &c).unwrap().action,
                evaluate(&p, &flat, &c).unwrap().action,
                "{name}"
            );
        }
    }

    #[test]
    fn calls_newer_than_libseccomp_get_enosys_known_ones_keep_the_profile() {
        let p = builtin_default(&host()).unwrap();
        let prog = compile::compile_uncached(&p, &CompileOptions::default()).unwrap();
        let max = compile::highest_known_syscall(ScmpArch::X8664).unwrap();
        let num = |nr: i32| Call {
            syscall: SyscallRef::Number(nr),
            args: [0; 6],
            arch: "x86_64".into(),
        };
        // cachestat 451, fchmodat2 452, map_shadow_stack 453, mseal 462:
        // whichever this libseccomp does not know get ENOSYS.
        for nr in [451, 452, 453, 462, 500, 1000] {
            let v = evaluate(&p, &prog, &num(nr)).unwrap();
            if nr as u32 > max {
                assert_eq!(
                    v.action,
                    Action::Errno(libc::ENOSYS as u32),
                    "nr {nr} (libseccomp knows up to {max})"
                );
            } else {
                assert_ne!(v.ret, compile::RET_ENOSYS, "nr {nr}");
            }
        }
        assert!(
            max < 462,
            "this libseccomp knows mseal: pick a newer call for the test"
        );
        let e = |n: &str| eval(&p, n, &[], "x86_64").action;
        for n in ["unshare", "mount", "keyctl"] {
            assert_eq!(e(n), Action::Errno(1), "{n}");
        }
        assert_eq!(e("read"), Action::Allow);
        // i386 calls above the i386 table get ENOSYS too, x32 goes to the filter.
        let max32 = compile::highest_known_syscall(ScmpArch::X86).unwrap();
        let v = evaluate(
            &p,
            &prog,
            &Call {
                syscall: SyscallRef::Number(max32 as i32 + 40),
                args: [0; 6],
                arch: "x86".into(),
            },
        )
        .unwrap();
        assert_eq!(v.action, Action::Errno(libc::ENOSYS as u32));
        // A default-allow profile gets no stub.
        let mut allow = p.clone();
        allow.default_action = Action::Allow;
        allow.syscalls.retain(|r| r.action != Action::Allow);
        let prog = compile::compile_uncached(&allow, &CompileOptions::default()).unwrap();
        assert_eq!(
            evaluate(&allow, &prog, &num(1000)).unwrap().action,
            Action::Allow
        );
    }

    #[test]
    fn builtin_default_matches_docker_semantics() {
        let p = builtin_default(&host()).unwrap();
        let e = |n: &str, a: &[u64]| eval(&p, n, a, "x86_64").action;
        assert_eq!(e("read", &[]), Action::Allow);
        for n in [
            "unshare",
            "mount",
            "keyctl",
            "add_key",
            "kexec_load",
            "open_by_handle_at",
        ] {
            assert_eq!(e(n, &[]), Action::Errno(1), "{n}");
        }
        assert_eq!(e("clone", &[libc::CLONE_NEWNS as u64]), Action::Errno(1));
        assert_eq!(e("clone", &[libc::SIGCHLD as u64]), Action::Allow);
        assert_eq!(e("clone3", &[]), Action::Errno(38));
        assert_eq!(e("personality", &[0]), Action::Allow);
        assert_eq!(e("personality", &[0x0040000]), Action::Errno(1));
        assert_eq!(e("socket", &[libc::AF_VSOCK as u64]), Action::Errno(1));
        assert_eq!(e("socket", &[libc::AF_INET as u64]), Action::Allow);
        assert_eq!(e("ptrace", &[]), Action::Allow);
        // on i386 too
        assert_eq!(eval(&p, "unshare", &[], "x86").action, Action::Errno(1));
        assert_eq!(eval(&p, "getpid", &[], "x32").action, Action::Allow);
    }

    #[test]
    fn compiles_for_another_architecture() {
        let arm = ResolveFor {
            arch: Arch::parse("arm64").unwrap(),
            ..host()
        };
        let p = builtin_default(&arm).unwrap();
        let opts = CompileOptions {
            arch: Some("aarch64".into()),
            ..Default::default()
        };
        let prog = compile::compile_uncached(&p, &opts).unwrap();
        let listing = bpf::disassemble(&bpf::decode(&prog.bpf).unwrap());
        assert!(listing.contains("0xc00000b7"), "checks AUDIT_ARCH_AARCH64");
        assert!(listing.contains("0x40000028"), "checks AUDIT_ARCH_ARM");
        assert!(
            !listing.contains("0xc000003e"),
            "no x86_64 arm of the filter"
        );
        assert_ne!(
            prog.hash,
            compile::cache_key(&p, &CompileOptions::default())
        );
        let e = compile::compile_uncached(
            &p,
            &CompileOptions {
                arch: Some("vax".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::UnknownArch.as_str(), Some("arch"))
        );
    }

    #[test]
    fn cache_hits_in_memory_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let p = parse_profile(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":77}]}"#, None, &host()).unwrap();
        let o = CompileOptions::default();
        let (a, h1) = compile(&p, &o, Some(dir.path())).unwrap();
        let (b, h2) = compile(&p, &o, Some(dir.path())).unwrap();
        compile::clear_memory_cache();
        let (c, h3) = compile(&p, &o, Some(dir.path())).unwrap();
        assert_eq!(
            (h1, h2, h3),
            (CacheHit::Miss, CacheHit::Memory, CacheHit::Disk)
        );
        assert_eq!(a.bpf, b.bpf);
        assert_eq!(a.as_ref(), c.as_ref());
        assert!(dir.path().join(format!("{}.json", a.hash)).exists());
    }

    #[test]
    fn reads_actions() {
        let s = super::kernel_support().unwrap();
        assert!(s.available);
        assert!(s.actions.iter().any(|a| a == "allow"));
    }
}
