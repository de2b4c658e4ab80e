//! The back end: a [`Profile`] compiled into a cBPF program by libseccomp,
//! and a cache of compiled programs.

use crate::profile::{Action, ArgCondition, Op, Profile};
use crate::Code;
use crate::{Error, Result};
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
    ScmpVersion,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

/// How to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    /// Use libseccomp's binary-tree layout (`SCMP_FLTATR_CTL_OPTIMIZE` 2),
    /// which makes large filters O(log n) per call. Default true.
    pub binary_tree: bool,
    /// Architecture the program is for (any spelling
    /// [`crate::Arch::parse`] takes); `None` for the native one. The
    /// profile's `architectures` are added to it.
    pub arch: Option<String>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            binary_tree: true,
            arch: None,
        }
    }
}

/// The OCI name of the architecture a program is compiled for.
pub fn target_arch(opts: &CompileOptions) -> Result<&'static str> {
    match &opts.arch {
        None => Ok(crate::Arch::native().scmp),
        Some(a) => crate::Arch::parse(a).map(|a| a.scmp).ok_or_else(|| {
            Error::new(Code::UnknownArch, format!("unknown architecture {a:?}")).with_field("arch")
        }),
    }
}

/// A compiled filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The `struct sock_filter` array as bytes (8 bytes an instruction).
    pub bpf: Vec<u8>,
    /// `seccomp(2)` flags to install it with (incl. NEW_LISTENER).
    pub flags: u32,
    /// What was skipped (unknown system call names), runc style.
    pub warnings: Vec<String>,
    /// The cache key (hex sha256).
    pub hash: String,
}

/// The libseccomp version linked in, as `major.minor.micro`.
pub fn libseccomp_version() -> String {
    match ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "unknown".into(),
    }
}

fn scmp_err(code: &str, what: String, e: libseccomp::error::SeccompError) -> Error {
    Error::new(code, format!("{what}: {}", e.to_string().to_lowercase()))
}

fn to_scmp_action(a: Action) -> ScmpAction {
    match a {
        Action::Allow => ScmpAction::Allow,
        Action::Errno(n) => ScmpAction::Errno(n as i32),
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Trace(n) => ScmpAction::Trace(n as u16),
        Action::Log => ScmpAction::Log,
        Action::Notify => ScmpAction::Notify,
    }
}

fn to_cmp(c: &ArgCondition) -> ScmpArgCompare {
    let op = match c.op {
        Op::Ne => ScmpCompareOp::NotEqual,
        Op::Lt => ScmpCompareOp::Less,
        Op::Le => ScmpCompareOp::LessOrEqual,
        Op::Eq => ScmpCompareOp::Equal,
        Op::Ge => ScmpCompareOp::GreaterEqual,
        Op::Gt => ScmpCompareOp::Greater,
        Op::MaskedEq => ScmpCompareOp::MaskedEqual(c.value),
    };
    let datum = if c.op == Op::MaskedEq {
        c.value_two
    } else {
        c.value
    };
    ScmpArgCompare::new(c.index, op, datum)
}

/// The libseccomp architecture of an OCI name.
pub fn scmp_arch(name: &str) -> Option<ScmpArch> {
    ScmpArch::from_str(name).ok()
}

/// Whether conditions repeat an argument index: runc then adds each
/// condition as its own rule (they are ORed), as libseccomp cannot AND two
/// conditions on one argument.
pub fn repeats_index(args: &[ArgCondition]) -> bool {
    let mut seen = [0u8; 6];
    args.iter().any(|a| {
        seen[a.index as usize] += 1;
        seen[a.index as usize] > 1
    })
}

/// Compile without the cache.
///
/// Each architecture is compiled in its own libseccomp context and the
/// programs are chained (see [`chain_programs`]): libseccomp's BPF
/// generator is quadratic in the number of blocks of one filter (it finds
/// jump targets by walking the block list), so Docker's profile over
/// x86_64, x86 and x32 in one context took ~20x the time of one arch alone.
/// Chained, the cost is the sum of three small compiles; each call is still
/// decided by its own arch's program, as in libseccomp's combined filter.
pub fn compile_uncached(p: &Profile, opts: &CompileOptions) -> Result<Program> {
    let hash = cache_key(p, opts);
    let arches = program_arches(p, opts)?;
    let sentinel = unused_trace_data(p);
    let mut warnings = Vec::new();
    let mut parts = Vec::with_capacity(arches.len());
    for (k, &arch) in arches.iter().enumerate() {
        let ctx = rules_context(
            p,
            opts,
            &[arch],
            ScmpAction::Trace(sentinel),
            (k == 0).then_some(&mut warnings),
        )?;
        parts.push(export(&ctx)?);
    }
    let mut bpf = chain_programs(&parts, RET_TRACE | sentinel as u32, RET_KILL_THREAD)?;
    if !matches!(p.default_action, Action::Allow | Action::Log) {
        bpf = with_enosys_stub(&arches, bpf)?;
        bpf = with_hot_path(p, arches[0], bpf)?;
    }
    Ok(Program {
        bpf,
        flags: p.flag_bits(),
        warnings,
        hash,
    })
}

/// The architectures a program covers: the target first (the native one
/// unless `opts.arch`), then the profile's others, each once.
fn program_arches(p: &Profile, opts: &CompileOptions) -> Result<Vec<ScmpArch>> {
    let target = target_arch(opts)?;
    let target_scmp = scmp_arch(target).ok_or_else(|| {
        Error::new(
            Code::UnknownArch,
            format!("libseccomp does not know {target}"),
        )
        .with_field("arch")
    })?;
    let mut arches = vec![target_scmp];
    for (i, a) in p.architectures.iter().enumerate() {
        let arch = scmp_arch(a).ok_or_else(|| {
            Error::new(
                Code::UnknownArch,
                format!("architectures[{i}]: libseccomp does not know {a:?}"),
            )
            .with_field(format!("architectures[{i}]"))
        })?;
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    Ok(arches)
}

/// `SECCOMP_RET_TRACE`: the sentinel bad-arch return is this with unused data.
const RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_KILL_THREAD`: libseccomp's default bad-arch action.
const RET_KILL_THREAD: u32 = 0;

/// A `SCMP_ACT_TRACE` data value no rule of `p` returns: the per-arch
/// programs return it for "not my architecture", and [`chain_programs`]
/// rewrites those returns into jumps to the next program.
fn unused_trace_data(p: &Profile) -> u16 {
    let used: Vec<u32> = std::iter::once(p.default_action)
        .chain(p.syscalls.iter().map(|r| r.action))
        .filter_map(|a| match a {
            Action::Trace(n) => Some(n),
            _ => None,
        })
        .collect();
    (0..=u16::MAX)
        .rev()
        .find(|n| !used.contains(&(*n as u32)))
        .unwrap_or(u16::MAX)
}

/// A libseccomp context for `arches` (the chained compile passes one)
/// with every rule of `p`; unknown names go to `warnings` when given.
fn rules_context(
    p: &Profile,
    opts: &CompileOptions,
    arches: &[ScmpArch],
    bad_arch: ScmpAction,
    mut warnings: Option<&mut Vec<String>>,
) -> Result<ScmpFilterContext> {
    let mut ctx = ScmpFilterContext::new(to_scmp_action(p.default_action))
        .map_err(|e| scmp_err(Code::Compile.as_str(), "create filter".into(), e))?;
    // no_new_privs is the spawner's business (set before the filter
    // unless the child keeps CAP_SYS_ADMIN), not part of the program.
    ctx.set_ctl_nnp(false)
        .map_err(|e| scmp_err(Code::Compile.as_str(), "set nnp attribute".into(), e))?;
    ctx.set_act_badarch(bad_arch)
        .map_err(|e| scmp_err(Code::Compile.as_str(), "set the bad-arch action".into(), e))?;
    if opts.binary_tree {
        ctx.set_ctl_optimize(2)
            .map_err(|e| scmp_err(Code::Compile.as_str(), "enable binary tree".into(), e))?;
    }
    let native = ScmpArch::native();
    for &arch in arches.iter().filter(|a| **a != native) {
        ctx.add_arch(arch).map_err(|e| {
            scmp_err(Code::Compile.as_str(), format!("add arch {arch:?}"), e).with_field("arch")
        })?;
    }
    if !arches.contains(&native) {
        ctx.remove_arch(native).map_err(|e| {
            scmp_err(Code::Compile.as_str(), "remove the native arch".into(), e).with_field("arch")
        })?;
    }
    for (i, rule) in p.syscalls.iter().enumerate() {
        if rule.action == p.default_action {
            // libseccomp refuses rules equal to the default; they change
            // nothing (runc skips them too).
            continue;
        }
        let action = to_scmp_action(rule.action);
        let conds: Vec<ScmpArgCompare> = rule.args.iter().map(to_cmp).collect();
        for (j, name) in rule.names.iter().enumerate() {
            let sc = match ScmpSyscall::from_name(name) {
                Ok(sc) => sc,
                Err(_) => {
                    if let Some(w) = warnings.as_deref_mut() {
                        w.push(format!(
                            "syscalls[{i}].names[{j}]: unknown system call {name:?} skipped"
                        ));
                    }
                    continue;
                }
            };
            let res = if conds.is_empty() {
                ctx.add_rule(action, sc)
            } else if repeats_index(&rule.args) {
                conds
                    .iter()
                    .try_for_each(|c| ctx.add_rule_conditional(action, sc, &[*c]).map(|_| ()))
                    .map(|_| &mut ctx)
            } else {
                ctx.add_rule_conditional(action, sc, &conds)
            };
            res.map_err(|e| {
                let field = format!("syscalls[{i}].names[{j}]");
                scmp_err(
                    Code::Compile.as_str(),
                    format!("{field}: add rule for {name}"),
                    e,
                )
                .with_field(field)
            })?;
        }
    }
    Ok(ctx)
}

/// Chain single-architecture programs into one: in each, a return of
/// `sentinel` (its bad-arch action: "not my architecture") becomes a jump
/// to the next program's first instruction, and in the last one the real
/// bad-arch return `bad_arch`.
pub fn chain_programs(parts: &[Vec<u8>], sentinel: u32, bad_arch: u32) -> Result<Vec<u8>> {
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const JA: u16 = 0x05; // BPF_JMP | BPF_JA
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for (k, part) in parts.iter().enumerate() {
        if part.len() % 8 != 0 {
            return Err(Error::new(
                Code::Compile,
                "libseccomp exported a partial bpf instruction",
            ));
        }
        let last = k + 1 == parts.len();
        let n = part.len() / 8;
        for (i, insn) in part.chunks_exact(8).enumerate() {
            let code = u16::from_ne_bytes([insn[0], insn[1]]);
            let k_val = u32::from_ne_bytes([insn[4], insn[5], insn[6], insn[7]]);
            if code == RET_K && k_val == sentinel {
                let (code, k) = if last {
                    (RET_K, bad_arch)
                } else {
                    (JA, (n - i - 1) as u32)
                };
                out.extend_from_slice(&code.to_ne_bytes());
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&k.to_ne_bytes());
            } else {
                out.extend_from_slice(insn);
            }
        }
    }
    if out.len() / 8 > 4096 {
        return Err(Error::new(
            Code::Compile,
            "the filter exceeds 4096 instructions",
        ));
    }
    Ok(out)
}

/// The system calls a typical process makes most (I/O, memory, futexes,
/// event loops): checked first, one instruction each, when the profile
/// allows them unconditionally. libseccomp's binary tree ignores
/// `seccomp_syscall_priority`, so the hot path is ours.
pub const HOT_SYSCALLS: &[&str] = &[
    "read",
    "write",
    "futex",
    "epoll_wait",
    "epoll_pwait",
    "close",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "brk",
    "rt_sigprocmask",
    "recvfrom",
    "sendto",
    "recvmsg",
    "sendmsg",
    "ppoll",
    "poll",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "fstat",
    "newfstatat",
    "lseek",
    "openat",
    "sched_yield",
    "clock_nanosleep",
    "nanosleep",
    "getrandom",
    "io_uring_enter",
];

/// Whether `p` allows `name` whatever its arguments: named only by Allow
/// rules, one of them without conditions.
fn allowed_unconditionally(p: &Profile, name: &str) -> bool {
    let rules: Vec<&crate::profile::SyscallRule> = p
        .syscalls
        .iter()
        .filter(|r| r.names.iter().any(|n| n == name))
        .collect();
    !rules.is_empty()
        && rules.iter().all(|r| r.action == Action::Allow)
        && rules.iter().any(|r| r.args.is_empty())
}

/// Put the hot path in front of a program: for calls of `arch` (the
/// target, whose program is first), each [`HOT_SYSCALLS`] entry that `p`
/// allows unconditionally returns `SECCOMP_RET_ALLOW` at once; every
/// other call goes on to `program` unchanged (a few instructions more).
pub fn with_hot_path(p: &Profile, arch: ScmpArch, program: Vec<u8>) -> Result<Vec<u8>> {
    const LD_ABS: u16 = 0x20;
    const JEQ: u16 = 0x15;
    const RET: u16 = 0x06;
    const RET_ALLOW: u32 = 0x7fff_0000;
    let audit = match arch {
        ScmpArch::X8664 => crate::bpf::audit_arch("SCMP_ARCH_X86_64"),
        ScmpArch::X86 => crate::bpf::audit_arch("SCMP_ARCH_X86"),
        ScmpArch::Aarch64 => crate::bpf::audit_arch("SCMP_ARCH_AARCH64"),
        ScmpArch::Arm => crate::bpf::audit_arch("SCMP_ARCH_ARM"),
        _ => None,
    };
    let Some(audit) = audit else {
        return Ok(program);
    };
    let mut nrs: Vec<u32> = HOT_SYSCALLS
        .iter()
        .filter(|n| allowed_unconditionally(p, n))
        .filter_map(|n| ScmpSyscall::from_name_by_arch(n, arch).ok())
        .map(|s| s.as_raw_syscall())
        .filter(|nr| *nr >= 0)
        .map(|nr| nr as u32)
        .collect();
    let mut seen = Vec::new();
    nrs.retain(|nr| {
        let new = !seen.contains(nr);
        seen.push(*nr);
        new
    });
    if nrs.is_empty() {
        return Ok(program);
    }
    // ld arch; jeq arch (else to the program); ld nr; jeq nr_i -> allow
    // (else next); ja program; ret allow; the program.
    let n = nrs.len();
    let mut insns: Vec<(u16, u8, u8, u32)> = vec![(LD_ABS, 0, 0, 4)];
    insns.push((JEQ, 0, (n + 3) as u8, audit));
    insns.push((LD_ABS, 0, 0, 0));
    for (i, nr) in nrs.iter().enumerate() {
        insns.push((JEQ, (n - i) as u8, 0, *nr));
    }
    insns.push((0x05, 0, 0, 1)); // ja over the allow
    insns.push((RET, 0, 0, RET_ALLOW));
    prepend(&insns, &program, "its hot path")
}

/// `insns` (`sock_filter` fields: code, jt, jf, k) as raw instructions in
/// front of `program`; `what` names them in the error when the whole
/// exceeds the kernel's 4096 instructions.
fn prepend(insns: &[(u16, u8, u8, u32)], program: &[u8], what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(insns.len() * 8 + program.len());
    for &(code, jt, jf, k) in insns {
        out.extend_from_slice(&code.to_ne_bytes());
        out.push(jt);
        out.push(jf);
        out.extend_from_slice(&k.to_ne_bytes());
    }
    out.extend_from_slice(program);
    if out.len() / 8 > 4096 {
        return Err(Error::new(
            Code::Compile,
            format!("the filter with {what} exceeds 4096 instructions"),
        ));
    }
    Ok(out)
}

/// The highest system call number libseccomp knows on `arch` (its tables
/// are frozen at its release: 2.5.4 knows nothing after Linux 5.x).
pub fn highest_known_syscall(arch: ScmpArch) -> Option<u32> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<u32>>>> = OnceLock::new();
    let key = format!("{arch:?}");
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return *v;
    }
    let base = if arch == ScmpArch::X32 {
        0x4000_0000
    } else {
        0
    };
    let max = (0..2048u32).rev().find(|nr| {
        ScmpSyscall::from((base + nr) as i32)
            .get_name_by_arch(arch)
            .is_ok()
    });
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, max);
    max
}

/// `__X32_SYSCALL_BIT`: x32 calls come in with this bit on the x86_64 arch.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// `SECCOMP_RET_ERRNO | ENOSYS`.
pub const RET_ENOSYS: u32 = 0x0005_0000 | libc::ENOSYS as u32;

/// Put runc's ENOSYS stub in front of a libseccomp program: on each arch of
/// the filter, a system call numbered above the highest one libseccomp
/// knows there returns `ENOSYS`, so that glibc and language runtimes fall
/// back from calls newer than the bundled libseccomp (`cachestat`,
/// `fchmodat2`, `map_shadow_stack`, `mseal`, ...) instead of failing with
/// the profile's `EPERM`. A profile cannot name such a call anyway
/// (libseccomp skips the name with a warning), and an unknown call is one
/// the kernel may not have either, for which ENOSYS is the honest answer.
/// Known calls, x32 calls and other arches go on to the filter unchanged.
pub fn with_enosys_stub(arches: &[ScmpArch], program: Vec<u8>) -> Result<Vec<u8>> {
    const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JGT: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
    const JSET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    const JA: u16 = 0x05; // BPF_JMP | BPF_JA
    const RET: u16 = 0x06; // BPF_RET | BPF_K
                           // (audit arch, highest known nr, x86_64 also carries x32 calls)
    let mut blocks: Vec<(u32, u32, bool)> = Vec::new();
    for &a in arches {
        if a == ScmpArch::X32 {
            continue;
        }
        let name = match a {
            ScmpArch::X8664 => "SCMP_ARCH_X86_64",
            ScmpArch::X86 => "SCMP_ARCH_X86",
            ScmpArch::Aarch64 => "SCMP_ARCH_AARCH64",
            ScmpArch::Arm => "SCMP_ARCH_ARM",
            _ => continue,
        };
        let Some(audit) = crate::bpf::audit_arch(name) else {
            continue;
        };
        let Some(max) = highest_known_syscall(a) else {
            continue;
        };
        if !blocks.iter().any(|b| b.0 == audit) {
            blocks.push((audit, max, a == ScmpArch::X8664));
        }
    }
    if blocks.is_empty() {
        return Ok(program);
    }
    // Layout: ld arch; per arch [jeq arch; ld nr; (jset x32); jgt max];
    // ja filter; ret ENOSYS; the filter.
    let mut insns: Vec<(u16, u8, u8, u32)> = vec![(LD_ABS, 0, 0, 4)];
    let len: usize = 1
        + blocks
            .iter()
            .map(|b| if b.2 { 4 } else { 3 })
            .sum::<usize>()
        + 2;
    let enosys = len - 1;
    let filter = len;
    for (audit, max, x32) in &blocks {
        let here = insns.len();
        let block = if *x32 { 4 } else { 3 };
        insns.push((JEQ, 0, (block - 1) as u8, *audit));
        insns.push((LD_ABS, 0, 0, 0));
        if *x32 {
            let at = insns.len();
            insns.push((JSET, (filter - at - 1) as u8, 0, X32_SYSCALL_BIT));
        }
        let at = insns.len();
        insns.push((JGT, (enosys - at - 1) as u8, (filter - at - 1) as u8, *max));
        debug_assert_eq!(insns.len(), here + block);
    }
    insns.push((JA, 0, 0, 1));
    insns.push((RET, 0, 0, RET_ENOSYS));
    debug_assert_eq!(insns.len(), len);
    prepend(&insns, &program, "its enosys stub")
}

// libseccomp 2.5 has no seccomp_export_bpf_mem: export into a memfd.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>> {
    // SAFETY: memfd_create with a static NUL-terminated name. The raw
    // syscall, not glibc's wrapper (2.27+): the addon's glibc floor is 2.17.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            c"ctr-seccomp-bpf".as_ptr(),
            libc::MFD_CLOEXEC,
        )
    } as libc::c_int;
    if fd < 0 {
        return Err(Error::last_os(
            Code::Compile,
            "memfd_create",
            "create a memfd for the bpf",
        ));
    }
    // SAFETY: fd was just created and is owned here.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    ctx.export_bpf(&owned)
        .map_err(|e| scmp_err(Code::Compile.as_str(), "export bpf".into(), e))?;
    let mut f = std::fs::File::from(owned);
    let mut out = Vec::new();
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.read_to_end(&mut out))
        .map_err(|e| Error::io(Code::Compile, "read", &e, "read the exported bpf"))?;
    Ok(out)
}

/// The cache key of a profile: sha256 over the canonical OCI JSON, the
/// target architecture, the libseccomp version and the options.
pub fn cache_key(p: &Profile, opts: &CompileOptions) -> String {
    let mut h = Sha256::new();
    h.update(p.to_oci_json().to_string().as_bytes());
    h.update(b"\0");
    h.update(target_arch(opts).unwrap_or("invalid").as_bytes());
    h.update(b"\0");
    h.update(libseccomp_version().as_bytes());
    h.update(b"\0");
    h.update(if opts.binary_tree { b"tree" } else { b"flat" });
    h.update(b"\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // The program layout (the ENOSYS stub in front of per-arch programs
    // chained).
    h.update(b"\0enosys-stub-1\0per-arch-chain-1\0hot-path-1");
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a compiled program came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheHit {
    /// Compiled now.
    Miss,
    /// Found in memory.
    Memory,
    /// Read back from the disk cache.
    Disk,
}

fn memory() -> &'static Mutex<HashMap<String, Arc<Program>>> {
    static M: OnceLock<Mutex<HashMap<String, Arc<Program>>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Drop every program cached in memory.
pub fn clear_memory_cache() {
    memory().lock().unwrap_or_else(|e| e.into_inner()).clear();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn disk_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{hash}.json"))
}

fn read_disk(dir: &Path, hash: &str) -> Option<Program> {
    let text = std::fs::read_to_string(disk_path(dir, hash)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let bpf = unhex(v.get("bpf")?.as_str()?)?;
    if bpf.is_empty() || bpf.len() % 8 != 0 || v.get("hash")?.as_str()? != hash {
        return None;
    }
    let flags = v.get("flags")?.as_u64()? as u32;
    let warnings = v
        .get("warnings")?
        .as_array()?
        .iter()
        .filter_map(|w| w.as_str().map(String::from))
        .collect();
    Some(Program {
        bpf,
        flags,
        warnings,
        hash: hash.to_string(),
    })
}

fn write_disk(dir: &Path, p: &Program) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            Code::Cache,
            "mkdir",
            &e,
            format!("create {}", dir.display()),
        )
        .with_path(dir)
    })?;
    let v = serde_json::json!({ "hash": p.hash, "flags": p.flags, "warnings": p.warnings, "bpf": hex(&p.bpf) });
    ctr_common::fs::write_atomic(
        Code::Cache.as_str(),
        disk_path(dir, &p.hash),
        v.to_string().as_bytes(),
    )
}

/// Compile through the cache: memory first, then `disk` (a directory) when
/// given, else libseccomp (and store in both).
pub fn compile(
    p: &Profile,
    opts: &CompileOptions,
    disk: Option<&Path>,
) -> Result<(Arc<Program>, CacheHit)> {
    let hash = cache_key(p, opts);
    if let Some(hit) = memory()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&hash)
    {
        return Ok((hit.clone(), CacheHit::Memory));
    }
    if let Some(dir) = disk {
        if let Some(prog) = read_disk(dir, &hash) {
            let prog = Arc::new(prog);
            memory()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(hash, prog.clone());
            return Ok((prog, CacheHit::Disk));
        }
    }
    let prog = Arc::new(compile_uncached(p, opts)?);
    if let Some(dir) = disk {
        write_disk(dir, &prog)?;
    }
    memory()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(hash, prog.clone());
    Ok((prog, CacheHit::Miss))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{self, SeccompData};
    use crate::{builtin_default, ResolveFor};

    /// The program as one libseccomp context over every arch would make it
    /// (the layout before the chained compile), as the reference.
    fn compile_combined(p: &Profile, opts: &CompileOptions) -> Vec<u8> {
        let arches = program_arches(p, opts).unwrap();
        let ctx = rules_context(p, opts, &arches, ScmpAction::KillThread, None).unwrap();
        let bpf = export(&ctx).unwrap();
        with_enosys_stub(&arches, bpf).unwrap()
    }

    /// Argument values that sit on and around every condition of `p`.
    fn sample_args(p: &Profile) -> Vec<u64> {
        let mut v = vec![0, 1, u64::MAX, 0xffff_ffff, 0x1_0000_0000];
        for c in p.syscalls.iter().flat_map(|r| &r.args) {
            for x in [c.value, c.value_two] {
                v.extend([x, x.wrapping_add(1), x.wrapping_sub(1), !x, x & 0xffff_ffff]);
            }
            v.push(c.value | c.value_two);
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn chained_program_decides_as_the_combined_one_for_dockers_profile() {
        let p = builtin_default(&ResolveFor::host_defaults().unwrap()).unwrap();
        let samples = sample_args(&p);
        // Calls of each arch of the profile, plus one the filter lacks.
        let callers = [
            ("SCMP_ARCH_X86_64", ScmpArch::X8664, 0u32),
            ("SCMP_ARCH_X86", ScmpArch::X86, 0),
            ("SCMP_ARCH_X32", ScmpArch::X32, X32_SYSCALL_BIT),
            ("SCMP_ARCH_AARCH64", ScmpArch::Aarch64, 0),
        ];
        for binary_tree in [true, false] {
            let opts = CompileOptions {
                binary_tree,
                arch: None,
            };
            let chained = bpf::decode(&compile_uncached(&p, &opts).unwrap().bpf).unwrap();
            let combined = bpf::decode(&compile_combined(&p, &opts)).unwrap();
            let mut checked = 0usize;
            for (name, arch, base) in callers {
                let audit = bpf::audit_arch(name).unwrap();
                let top = highest_known_syscall(arch).unwrap_or(500) + 16;
                for nr in (0..=top).map(|n| base | n) {
                    let known = ScmpSyscall::from(nr as i32).get_name_by_arch(arch).ok();
                    // Every call with all-zero arguments; the calls the
                    // profile names with each sample in each argument.
                    let conditional = known.as_ref().is_some_and(|n| {
                        p.syscalls
                            .iter()
                            .any(|r| !r.args.is_empty() && r.names.contains(n))
                    });
                    let mut inputs = vec![[0u64; 6]];
                    if conditional {
                        for &s in &samples {
                            inputs.extend((0..6).map(|i| {
                                let mut a = [0u64; 6];
                                a[i] = s;
                                a
                            }));
                            inputs.push([s; 6]);
                        }
                    }
                    for args in inputs {
                        let data = SeccompData {
                            nr: nr as i32,
                            arch: audit,
                            instruction_pointer: 0,
                            args,
                        };
                        let a = bpf::run(&chained, &data).unwrap();
                        let b = bpf::run(&combined, &data).unwrap();
                        assert_eq!(
                            a, b,
                            "{name} nr {nr} ({known:?}) args {args:x?} tree {binary_tree}"
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked > 1500, "only {checked} calls checked");
        }
    }

    #[test]
    fn hot_syscalls_are_decided_first_on_the_native_arch() {
        let p = builtin_default(&ResolveFor::host_defaults().unwrap()).unwrap();
        let prog = bpf::decode(
            &compile_uncached(&p, &CompileOptions::default())
                .unwrap()
                .bpf,
        )
        .unwrap();
        let native = ScmpArch::native();
        let read = ScmpSyscall::from_name_by_arch("read", native)
            .unwrap()
            .as_raw_syscall() as u32;
        // ld arch; jeq native; ld nr; then one jeq per hot call.
        assert_eq!((prog[0].code, prog[0].k), (0x20, 4));
        assert_eq!((prog[2].code, prog[2].k), (0x20, 0));
        let hot: Vec<u32> = prog[3..]
            .iter()
            .take_while(|i| i.code == 0x15)
            .map(|i| i.k)
            .collect();
        assert!(hot.contains(&read), "{hot:?}");
        // ptrace is not allowed unconditionally by Docker's profile.
        let ptrace = ScmpSyscall::from_name_by_arch("ptrace", native)
            .unwrap()
            .as_raw_syscall() as u32;
        assert!(!hot.contains(&ptrace));
        // A profile allowing read only with a condition gets no hot path for it.
        let mut q = p.clone();
        for r in &mut q.syscalls {
            r.names.retain(|n| n != "read");
        }
        q.syscalls.push(crate::profile::SyscallRule {
            names: vec!["read".into()],
            action: Action::Allow,
            args: vec![ArgCondition {
                index: 0,
                value: 0,
                value_two: 0,
                op: Op::Eq,
            }],
        });
        let prog = bpf::decode(
            &compile_uncached(&q, &CompileOptions::default())
                .unwrap()
                .bpf,
        )
        .unwrap();
        assert!(!prog[3..]
            .iter()
            .take_while(|i| i.code == 0x15)
            .any(|i| i.k == read));
    }

    #[test]
    fn chain_rewrites_only_the_sentinel_returns() {
        let ins = |code: u16, k: u32| {
            let mut b = code.to_ne_bytes().to_vec();
            b.extend([0, 0]);
            b.extend(k.to_ne_bytes());
            b
        };
        let a = [ins(0x06, 7), ins(0x06, 0x7ff0_ffff), ins(0x06, 0x7fff_0000)].concat();
        let b = [ins(0x06, 0x7ff0_ffff), ins(0x06, 0x7fff_0000)].concat();
        let out = chain_programs(&[a, b], 0x7ff0_ffff, 0).unwrap();
        let want = [
            ins(0x06, 7),
            ins(0x05, 1), // ja over the rest of the first program
            ins(0x06, 0x7fff_0000),
            ins(0x06, 0), // the last program's "not mine" is the bad-arch kill
            ins(0x06, 0x7fff_0000),
        ]
        .concat();
        assert_eq!(out, want);
    }
}
