//! What to spawn ([`SpawnOptions`]) and its prepared, fork-safe form
//! ([`Prepared`]) that the child reads without allocating.
// `MS_*` and `CLONE_*` constants are `c_ulong`/`c_int` depending on the
// target: the casts to u64 are kept for portability.
#![allow(clippy::unnecessary_cast)]

use crate::caps::{CapNames, CapSets};
use crate::console::{Console, PreparedConsole};
use crate::idmap::IdMaps;
use crate::kinds::NamespaceKind;
use crate::rootfs::{MountSpec, RootfsPlan, RootfsSpec};
use crate::Code;
use ctr_common::Error;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Where one of the child's standard streams goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stdio {
    /// A new pipe; the parent gets the other end.
    Pipe,
    /// `/dev/null`.
    Null,
    /// This file descriptor of the parent (for inherit, the same number).
    Fd(RawFd),
}

/// Everything needed to spawn one process into namespaces, grouped the way
/// the OCI config groups it: what runs ([`ProcessOptions`]), the namespaces
/// it lives in ([`NamespaceOptions`]), its root filesystem
/// ([`FilesystemOptions`]), who it runs as and what it may do
/// ([`SecurityOptions`]), its limits and placement ([`ResourceOptions`]), its
/// file descriptors ([`IoOptions`]) and how its start is gated
/// ([`LifecycleOptions`]). Each group is built by the parent and checked by
/// [`Prepared::new`] in a function of its own.
///
/// `Default` runs nothing (an empty program) with an empty environment and
/// the parent's stdio; [`SpawnOptions::new`] sets the program and inherits
/// the environment.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SpawnOptions {
    /// The program, its arguments and environment.
    pub process: ProcessOptions,
    /// Namespaces to create and join, and what is set inside them.
    pub namespaces: NamespaceOptions,
    /// The root filesystem and `/proc`.
    pub filesystem: FilesystemOptions,
    /// Credentials, capabilities and the seccomp filter.
    pub security: SecurityOptions,
    /// Cgroups, resource limits, scheduling and memory policy.
    pub resources: ResourceOptions,
    /// stdio, extra fds and the console.
    pub io: IoOptions,
    /// Gates before exec and the tie to the parent.
    pub lifecycle: LifecycleOptions,
}

/// What runs (OCI `process.args`, `env`, `cwd`, `linux.personality`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ProcessOptions {
    /// The program: a path, or a name looked up in the child's `PATH`.
    pub program: String,
    /// The full argument vector, `argv[0]` included.
    pub args: Vec<String>,
    /// The environment as `KEY=value` strings.
    pub env: Vec<String>,
    /// Working directory inside the child.
    pub cwd: Option<String>,
    /// Start a new session (`setsid`), detaching from the terminal.
    pub new_session: bool,
    /// `personality(2)` persona (`PER_LINUX32` = 0x0008 ...), set before exec.
    pub personality: Option<u64>,
    /// Refuse to exec the spawning process's own binary (`/proc/self/exe`
    /// of a runtime or of node): a container process running it could
    /// rewrite the host's binary (the runc CVE-2019-5736 class). Checked,
    /// with the program lookup, before the exec FIFO gate.
    pub refuse_own_exe: bool,
}

/// The namespaces of the child and what is set inside them (OCI
/// `linux.namespaces`, `uidMappings`/`gidMappings`, `timeOffsets`,
/// `hostname`, `domainname`, `linux.sysctl`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NamespaceOptions {
    /// Namespaces to create.
    pub create: Vec<NamespaceKind>,
    /// Namespaces to join: kind and path of an ns file (`/proc/PID/ns/net`,
    /// `/run/netns/NAME`, ...).
    pub join: Vec<(NamespaceKind, String)>,
    /// Id maps of a new user namespace, written by the parent.
    pub id_maps: Option<IdMaps>,
    /// Time namespace offsets (seconds, nanoseconds) of the monotonic and
    /// boot-time clocks; implies a new time namespace.
    pub time_offsets: Option<TimeOffsets>,
    /// Host name to set (needs a new uts namespace).
    pub hostname: Option<String>,
    /// NIS domain name (needs a new uts namespace).
    pub domainname: Option<String>,
    /// Bring `lo` up in the new network namespace, from inside it: a
    /// rootless runtime cannot join the namespace afterwards (the child is
    /// not dumpable, and the runtime has no capability in its own user
    /// namespace), so loopback-only networking is set up here.
    pub loopback_up: bool,
    /// sysctl keys (`net.ipv4.ip_forward`) and values, written to
    /// `/proc/sys/...` after the pivot (needs the container's `/proc`);
    /// each key must belong to a namespace the child creates or joins.
    pub sysctl: Vec<(String, String)>,
}

/// The child's root filesystem (OCI `root`, `mounts`, `linux.maskedPaths`
/// ...) and its `/proc`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FilesystemOptions {
    /// The root filesystem plan; `None` keeps the parent's root.
    pub rootfs: Option<RootfsSpec>,
    /// Mount a fresh `/proc` (implies a new mount namespace, made private).
    pub mount_proc: bool,
}

/// Who the child runs as and what it may do (OCI `process.user`,
/// `process.capabilities`, `process.noNewPrivileges`, `linux.seccomp`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SecurityOptions {
    /// User id to run as.
    pub uid: Option<u32>,
    /// Group id to run as.
    pub gid: Option<u32>,
    /// Supplementary groups (set only when given).
    pub groups: Option<Vec<u32>>,
    /// File mode creation mask.
    pub umask: Option<u32>,
    /// Capability sets; `None` leaves the capabilities as they come.
    pub capabilities: Option<CapNames>,
    /// Set `no_new_privs` before exec (and before the seccomp filter).
    pub no_new_privileges: bool,
    /// A classic BPF seccomp program: an array of `struct sock_filter`
    /// (8 bytes each, native byte order), installed as the last setup step.
    pub seccomp: Option<Vec<u8>>,
    /// `SECCOMP_FILTER_FLAG_*` flags for `seccomp(SECCOMP_SET_MODE_FILTER)`.
    pub seccomp_flags: u32,
    /// Install the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` and hand
    /// the listener fd to the parent (see [`crate::Child::take_seccomp_listener`]).
    pub seccomp_listener: bool,
}

/// Where the child is accounted and how it is limited and scheduled (OCI
/// `process.rlimits`, `oomScoreAdj`, `ioPriority`, `scheduler`,
/// `execCPUAffinity`, `linux.memoryPolicy`, the cgroup).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ResourceOptions {
    /// Cgroup directories to start in: a cgroup2 one through
    /// `CLONE_INTO_CGROUP`, v1 ones by the child itself as its first step.
    pub cgroups: Vec<String>,
    /// Resource limits.
    pub rlimits: Vec<Rlimit>,
    /// `/proc/self/oom_score_adj`.
    pub oom_score_adj: Option<i32>,
    /// `ioprio_set(IOPRIO_WHO_PROCESS, 0, value)`: class << 13 | level.
    pub io_priority: Option<i32>,
    /// `sched_setattr(2)` of the child, made right before the credential
    /// change (so `CAP_SYS_NICE` is still there for real-time policies);
    /// the program inherits it (OCI `process.scheduler`).
    pub scheduler: Option<SchedAttr>,
    /// `sched_setaffinity(2)` of the child right before exec: the cpus it
    /// may run on (OCI `process.execCPUAffinity.final`, or the container
    /// cgroup's cpuset so an exec'd process does not inherit the runtime's).
    pub cpu_affinity: Option<Vec<u32>>,
    /// `sched_setaffinity(2)` of the child first thing after the clone, so
    /// its setup (namespace joins, the cgroup move) runs on these cpus (OCI
    /// `process.execCPUAffinity.initial`; a cpuset cgroup attach resets it).
    pub initial_cpu_affinity: Option<Vec<u32>>,
    /// `set_mempolicy(2)` of the child, made right before exec (the NUMA
    /// policy the program inherits, OCI `linux.memoryPolicy`).
    pub memory_policy: Option<MemoryPolicy>,
    /// On a v1 memory hierarchy, where the runtime's waiting init is charged
    /// (see [`CallerMemoryCgroup`]); `None` leaves it in the container's.
    #[serde(default)]
    pub caller_memory_cgroup: Option<CallerMemoryCgroup>,
}

/// The caller's own memory cgroup on a v1 hierarchy, and which of
/// [`ResourceOptions::cgroups`] is the container's memory cgroup there.
///
/// A child that execs the helper early ([`Prepared::exec_early`]) moves
/// itself back to `dir` for that exec, and the helper moves into the
/// container's memory cgroup again before it reports or waits: so the
/// helper's address space (page tables, mm, vmas: ~30 KiB), which lives
/// until `start`, is charged to the caller, as the copy-on-write init of a
/// forking runtime (crun's, runc's) is, while the container's cgroup is
/// charged for its setup and its program. Skipped when either move fails.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallerMemoryCgroup {
    /// Index in [`ResourceOptions::cgroups`] of the container's memory
    /// cgroup directory (a v1 hierarchy's).
    pub index: usize,
    /// The caller's memory cgroup directory in the same hierarchy.
    pub dir: String,
}

/// The child's file descriptors (OCI `process.terminal`, `consoleSize`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IoOptions {
    /// stdin, stdout and stderr (default: the parent's 0, 1, 2).
    pub stdio: [Stdio; 3],
    /// Parent fds that become fds 3, 4, ... of the child (everything else
    /// above 2 is closed).
    pub extra_fds: Vec<RawFd>,
    /// Give the child a pseudo-terminal as stdio and controlling terminal
    /// (`stdio` is then ignored); see [`crate::console`].
    pub console: Option<Console>,
}

impl Default for IoOptions {
    /// Inherit the parent's stdio, no extra fds, no console.
    fn default() -> Self {
        IoOptions {
            stdio: [Stdio::Fd(0), Stdio::Fd(1), Stdio::Fd(2)],
            extra_fds: Vec::new(),
            console: None,
        }
    }
}

/// When the child may go on, and its tie to the parent (runc's create /
/// start split, OCI hooks).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct LifecycleOptions {
    /// Stop before exec until the parent releases the child.
    pub hold: bool,
    /// Stop right before `pivot_root` (after the namespaces, id maps and
    /// the mounts of the rootfs plan; without a rootfs, before the exec
    /// setup) and report [`crate::Stage::PrePivot`]; [`crate::Child::resume`]
    /// lets it go on. The place to run OCI prestart/createRuntime and
    /// createContainer hooks.
    pub pre_pivot_sync: bool,
    /// A named FIFO (host path) gating the exec, runc's `exec.fifo`: the
    /// child opens it `O_PATH` before `pivot_root`, reports
    /// [`crate::Stage::ExecFifo`], and as the very last step before
    /// `execve` opens `/proc/self/fd/N` for writing (which blocks until
    /// some process opens the FIFO for reading) and writes one byte. The
    /// gate outlives the spawning process: any process may release it.
    /// The reopen goes through the spawner's `/proc` (opened before the
    /// pivot, closed right after the gate), so the container needs no
    /// `/proc` of its own.
    pub exec_fifo: Option<String>,
    /// Signal delivered to the child when the spawning thread dies.
    pub parent_death_signal: Option<i32>,
}

/// Offsets of the clocks of a new time namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeOffsets {
    /// `CLOCK_MONOTONIC` offset: seconds, nanoseconds.
    pub monotonic: (i64, u32),
    /// `CLOCK_BOOTTIME` offset: seconds, nanoseconds.
    pub boottime: (i64, u32),
}

/// A NUMA memory policy for `set_mempolicy(2)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MemoryPolicy {
    /// `MPOL_DEFAULT` (0), `MPOL_PREFERRED` (1), `MPOL_BIND` (2),
    /// `MPOL_INTERLEAVE` (3), `MPOL_LOCAL` (4), `MPOL_PREFERRED_MANY` (5),
    /// `MPOL_WEIGHTED_INTERLEAVE` (6).
    pub mode: i32,
    /// Mode flags or'ed into the mode: `MPOL_F_STATIC_NODES` (1 << 15),
    /// `MPOL_F_RELATIVE_NODES` (1 << 14), `MPOL_F_NUMA_BALANCING` (1 << 13).
    pub flags: i32,
    /// The node numbers of the nodemask (empty: a NULL nodemask).
    pub nodes: Vec<u32>,
}

/// Nodes at most this high are accepted (ctr-common's bound of node
/// lists); the nodemask is sized to the highest node given.
pub const MAX_NUMA_NODE: u32 = ctr_common::cpulist::MAX_NODE;

impl MemoryPolicy {
    /// The `set_mempolicy` arguments: mode | flags and the nodemask words
    /// (empty for none), made in the parent: the child only passes them.
    pub fn syscall_args(&self) -> ctr_common::Result<(libc::c_int, Vec<libc::c_ulong>)> {
        let bits = libc::c_ulong::BITS;
        let mut mask: Vec<libc::c_ulong> = Vec::new();
        for &n in &self.nodes {
            if n > MAX_NUMA_NODE {
                return Err(Error::new(
                    Code::InvalidOption,
                    format!("memoryPolicy.nodes: node {n} is out of range (0-{MAX_NUMA_NODE})"),
                )
                .with_field("memoryPolicy.nodes"));
            }
            let (w, b) = ((n / bits) as usize, n % bits);
            if mask.len() <= w {
                mask.resize(w + 1, 0);
            }
            mask[w] |= 1 << b;
        }
        Ok((self.mode | self.flags, mask))
    }
}

/// The kernel's `struct sched_attr` (`SCHED_ATTR_SIZE_VER1`, 56 bytes) for
/// `sched_setattr(2)`: built in the parent, the child only passes it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SchedAttr {
    /// Size of this struct (set by [`SchedAttr::new`]).
    pub size: u32,
    /// `SCHED_OTHER` (0), `SCHED_FIFO` (1), `SCHED_RR` (2), `SCHED_BATCH`
    /// (3), `SCHED_ISO` (4), `SCHED_IDLE` (5), `SCHED_DEADLINE` (6).
    pub sched_policy: u32,
    /// `SCHED_FLAG_*` bits.
    pub sched_flags: u64,
    /// Nice value (`SCHED_OTHER`, `SCHED_BATCH`).
    pub sched_nice: i32,
    /// Static priority (`SCHED_FIFO`, `SCHED_RR`: 1..99).
    pub sched_priority: u32,
    /// `SCHED_DEADLINE` runtime, ns.
    pub sched_runtime: u64,
    /// `SCHED_DEADLINE` deadline, ns.
    pub sched_deadline: u64,
    /// `SCHED_DEADLINE` period, ns.
    pub sched_period: u64,
    /// Utilization clamp minimum (`SCHED_FLAG_UTIL_CLAMP_MIN`).
    pub sched_util_min: u32,
    /// Utilization clamp maximum (`SCHED_FLAG_UTIL_CLAMP_MAX`).
    pub sched_util_max: u32,
}

impl SchedAttr {
    /// An attr of `policy` with its size set and everything else zero.
    pub fn new(policy: u32) -> SchedAttr {
        SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            sched_policy: policy,
            ..Default::default()
        }
    }
}

/// The highest cpu number accepted in an affinity mask (ctr-common's bound
/// of cpu lists: `cpu_set_t` holds `CPU_SETSIZE` = 1024 cpus).
pub const MAX_CPU: u32 = ctr_common::cpulist::MAX_CPU;

/// A `cpu_set_t` with `cpus` set, made in the parent for the child; `field`
/// names the option in errors.
pub fn cpu_set(cpus: &[u32], field: &str) -> ctr_common::Result<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain bits; all zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpus.is_empty() {
        return Err(Error::new(
            Code::InvalidOption,
            format!("{field}: needs at least one cpu"),
        )
        .with_field(field));
    }
    for &c in cpus {
        if c > MAX_CPU {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{field}: cpu {c} is out of range (0-{MAX_CPU})"),
            )
            .with_field(field));
        }
        // SAFETY: c < CPU_SETSIZE, checked above.
        unsafe { libc::CPU_SET(c as usize, &mut set) };
    }
    Ok(set)
}

/// One resource limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rlimit {
    /// `RLIMIT_*` number.
    pub resource: i32,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// The `RLIMIT_*` number of a name (`RLIMIT_NOFILE`, `nofile`): ctr-common's table.
pub fn rlimit_from_name(name: &str) -> Option<i32> {
    ctr_common::rlimit::number_lenient(name).map(|n| n as i32)
}

impl SpawnOptions {
    /// Options that run `program` with `args` (`[program]` when empty),
    /// inherit this process's environment and stdio, and change nothing else.
    pub fn new(program: impl Into<String>, args: Vec<String>) -> Self {
        let program = program.into();
        let args = if args.is_empty() {
            vec![program.clone()]
        } else {
            args
        };
        SpawnOptions {
            process: ProcessOptions {
                program,
                args,
                env: std::env::vars().map(|(k, v)| format!("{k}={v}")).collect(),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// A namespace to join: an open ns file and its `CLONE_NEW*` type.
#[derive(Debug)]
pub struct JoinFd {
    /// The open ns file.
    pub fd: OwnedFd,
    /// Its kind.
    pub kind: NamespaceKind,
    /// The path it was opened from.
    pub path: String,
}

/// The spawn plan as C data: built before `clone3`, only read by the child.
pub struct Prepared {
    /// Namespaces asked to be new, as `CLONE_NEW*` flags.
    pub ns_flags: u64,
    /// Of those, the ones made by `clone3` ...
    pub clone_flags: u64,
    /// ... made by `unshare(CLONE_NEWUSER)` in the child (after joins) ...
    pub unshare_user: bool,
    /// ... and made by `unshare` after the user namespace and id maps.
    pub unshare_flags: u64,
    /// Namespaces joined in the child (pid is joined by the parent).
    pub joins: Vec<JoinFd>,
    /// A new network namespace made ahead by the spawner
    /// ([`crate::spare_net`]): the child enters it as its first namespace
    /// step instead of `clone3` making one.
    pub spare_net: Option<OwnedFd>,
    /// A pid namespace the parent enters around `clone3`.
    pub join_pid: Option<JoinFd>,
    /// The child asks the parent to write id maps.
    pub parent_setup: bool,
    /// Cgroup directories were given: the child may move itself into v1
    /// ones as its first step (see `child::join_cgroups`).
    pub cgroups: bool,
    /// After the id maps, become uid/gid 0 of the new user namespace.
    pub become_root: bool,
    /// Domain name bytes.
    pub domainname: Option<Vec<u8>>,
    /// Text written to `/proc/self/timens_offsets` after `unshare(CLONE_NEWTIME)`.
    pub time_offsets: Option<Vec<u8>>,
    /// Text written to `/proc/self/oom_score_adj`.
    pub oom_score_adj: Option<Vec<u8>>,
    /// The rootfs plan.
    pub rootfs: Option<RootfsPlan>,
    /// Resource limits.
    pub rlimits: Vec<(i32, libc::rlimit64)>,
    /// umask.
    pub umask: Option<u32>,
    /// uid, gid to switch to.
    pub creds: Option<(u32, u32)>,
    /// Supplementary groups, when given.
    pub groups: Option<Vec<libc::gid_t>>,
    /// Capability sets to apply.
    pub caps: Option<CapSets>,
    /// Highest capability number of the kernel.
    pub last_cap: u32,
    /// Install seccomp before dropping capabilities (no no_new_privs and
    /// the child would lose CAP_SYS_ADMIN).
    pub seccomp_early: bool,
    /// Parent is not root: make the child dumpable again before handing
    /// out the seccomp listener (pidfd_getfd needs ptrace access), and keep
    /// it dumpable until newuidmap ran.
    pub dumpable_for_listener: bool,
    /// fds above 2 the child keeps until exec (joins), sorted.
    pub keep_fds: Vec<RawFd>,
    /// Candidate paths to `execve`, in order (PATH lookup done up front).
    pub exec_paths: Vec<CString>,
    /// Pointers into `exec_paths`, the child iterates them.
    pub exec_path_ptrs: Vec<*const libc::c_char>,
    /// argv, NULL-terminated.
    pub argv: Vec<*const libc::c_char>,
    /// envp, NULL-terminated.
    pub envp: Vec<*const libc::c_char>,
    /// Host name bytes (not NUL-terminated), if any.
    pub hostname: Option<Vec<u8>>,
    /// Set `IFF_UP` on `lo` (a new network namespace).
    pub loopback_up: bool,
    /// Working directory.
    pub cwd: Option<CString>,
    /// Mount a private `/proc`.
    pub mount_proc: bool,
    /// Wait at the gate before exec.
    pub hold: bool,
    /// Parent-death signal, 0 for none.
    pub pdeathsig: i32,
    /// The exec FIFO, opened `O_PATH` by the parent (see
    /// [`LifecycleOptions::exec_fifo`]): the child keeps it, so neither a user
    /// namespace nor the pivot gets in the way of reaching it.
    pub exec_fifo: Option<OwnedFd>,
    /// (dev, ino) of the spawning binary when [`ProcessOptions::refuse_own_exe`].
    pub own_exe: Option<(u64, u64)>,
    /// With [`crate::spawner`]: (dev, ino) of the spawner's own program
    /// (the child's `/proc/self/exe` until it execs), refused as well.
    pub spawner_exe: Option<(u64, u64)>,
    /// Stop before `pivot_root` for the parent.
    pub pre_pivot_sync: bool,
    /// (`/proc/sys/...` path, value) to write after the pivot.
    pub sysctl: Vec<(CString, Vec<u8>)>,
    /// `personality(2)` value.
    pub personality: Option<u64>,
    /// `ioprio_set` value.
    pub io_priority: Option<i32>,
    /// `sched_setattr` argument.
    pub sched: Option<SchedAttr>,
    /// `sched_setaffinity` mask.
    pub affinity: Option<libc::cpu_set_t>,
    /// `sched_setaffinity` mask right after the clone.
    pub initial_affinity: Option<libc::cpu_set_t>,
    /// `set_mempolicy` mode | flags and nodemask words (empty: NULL).
    pub mempolicy: Option<(libc::c_int, Vec<libc::c_ulong>)>,
    /// setsid before exec.
    pub new_session: bool,
    /// The spawning process (to detect its death before the pdeathsig prctl).
    pub parent_pid: i32,
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    pub no_new_privs: bool,
    /// The seccomp program, if any (points into `_seccomp_filter`).
    pub seccomp: Option<libc::sock_fprog>,
    /// Flags for `seccomp(2)`, `NEW_LISTENER` included when asked.
    pub seccomp_flags: u32,
    /// The filter makes a listener fd the parent takes.
    pub seccomp_listener: bool,
    /// The console to set up (the socket fd is filled in by spawn).
    pub console: Option<PreparedConsole>,
    /// The process ends up in another root (a rootfs, or a joined mount
    /// namespace): its cwd is resolved inside that root, and it execs
    /// through the exec helper.
    pub contained: bool,
    /// The sealed memfd of [`crate::exec_helper`] the child execs last, or -1.
    pub exec_helper: RawFd,
    /// The helper's argv (built by [`Prepared::set_status_fd`]).
    pub helper_argv: Vec<*const libc::c_char>,
    /// The helper's "FIFO,PROC,GATE,MEMCG,INDEX" argument: "-1,-1,-1,-1,0" (no gates)
    /// unless the child, exec'ing it early, writes its fd numbers in.
    pub helper_gates: Box<crate::exec_helper::Gates>,
    _helper_strings: Vec<CString>,
    _seccomp_filter: Vec<libc::sock_filter>,
    // Owners of the strings behind argv/envp.
    _args: Vec<CString>,
    _env: Vec<CString>,
}

// The raw pointers point into vectors owned by the same struct.
unsafe impl Send for Prepared {}

fn cstring(field: &str, s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| {
        Error::new(Code::InvalidOption, format!("{field} contains a NUL byte"))
            .with_field(field.to_string())
    })
}

/// The value of `PATH` in an environment list, or the default.
fn path_of(env: &[String]) -> &str {
    env.iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// The paths `execvp` would try for `program` under `PATH`.
pub fn exec_candidates(program: &str, env: &[String]) -> Vec<String> {
    if program.contains('/') {
        return vec![program.to_string()];
    }
    path_of(env)
        .split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| format!("{}/{program}", dir.trim_end_matches('/')))
        .collect()
}

/// `NS_GET_NSTYPE` ioctl: the `CLONE_NEW*` type of a namespace fd.
pub const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
/// The most instructions the kernel accepts in one filter (`BPF_MAXINSNS`).
pub const BPF_MAXINSNS: usize = 4096;

/// Decode a seccomp program given as bytes: an array of `struct
/// sock_filter { u16 code; u8 jt; u8 jf; u32 k; }` in native byte order.
pub fn parse_bpf(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, Error> {
    let bad = |what: String| Err(Error::new(Code::InvalidOption, what).with_field("seccomp"));
    if bytes.is_empty() {
        return bad("seccomp program is empty".into());
    }
    if !bytes.len().is_multiple_of(8) {
        return bad(format!(
            "seccomp program is {} bytes, not a whole number of 8-byte sock_filter instructions",
            bytes.len()
        ));
    }
    if bytes.len() / 8 > BPF_MAXINSNS {
        return bad(format!(
            "seccomp program has {} instructions, more than {BPF_MAXINSNS}",
            bytes.len() / 8
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// Which namespaces are new and how each is made (clone3 or unshare),
/// checked against the options that need one.
struct NamespacePlan {
    ns_flags: u64,
    clone_flags: u64,
    unshare_user: bool,
    unshare_flags: u64,
}

impl NamespacePlan {
    fn new(
        opts: &NamespaceOptions,
        fs: &FilesystemOptions,
        into_cgroups: bool,
    ) -> Result<NamespacePlan, Error> {
        let mut ns_flags = 0u64;
        for k in &opts.create {
            ns_flags |= k.clone_flag();
        }
        // A rootfs or /proc needs a mount namespace of the child's own: a new
        // one, unless the caller joins one (OCI linux.namespaces with a
        // path), in which the rootfs is then set up, as runc does.
        let joins_mnt = opts.join.iter().any(|(k, _)| *k == NamespaceKind::Mnt);
        let rootfs_mounts = fs.rootfs.as_ref().is_some_and(|r| !r.chroot);
        if fs.mount_proc && fs.rootfs.as_ref().is_some_and(|r| r.chroot) {
            return Err(Error::new(
                Code::InvalidOption,
                "mountProc needs a mount namespace: not with rootfs.chroot (which mounts nothing)",
            )
            .with_field("mountProc"));
        }
        if (fs.mount_proc || rootfs_mounts) && !joins_mnt {
            ns_flags |= NamespaceKind::Mnt.clone_flag();
        }
        if opts.time_offsets.is_some() {
            ns_flags |= NamespaceKind::Time.clone_flag();
        }
        let has = |k: NamespaceKind| ns_flags & k.clone_flag() != 0;
        for (k, _) in &opts.join {
            if has(*k) {
                return Err(Error::new(
                    Code::InvalidOption,
                    format!("{} namespace both joined and created", k.proc_name()),
                )
                .with_field(format!("join.{}", k.proc_name())));
            }
        }
        let joins_uts = opts.join.iter().any(|(k, _)| *k == NamespaceKind::Uts);
        if opts.loopback_up && !has(NamespaceKind::Net) {
            return Err(Error::new(
                Code::InvalidOption,
                "loopbackUp needs a new network namespace (add 'net' to namespaces)",
            )
            .with_field("loopbackUp"));
        }
        if opts.hostname.is_some() && !has(NamespaceKind::Uts) && !joins_uts {
            return Err(Error::new(
                Code::InvalidOption,
                "hostname needs a new uts namespace (add 'uts' to namespaces)",
            )
            .with_field("hostname"));
        }
        if opts.domainname.is_some() && !has(NamespaceKind::Uts) && !joins_uts {
            return Err(Error::new(
                Code::InvalidOption,
                "domainname needs a new uts namespace (add 'uts' to namespaces)",
            )
            .with_field("domainname"));
        }
        if opts.id_maps.is_some() && !has(NamespaceKind::User) {
            return Err(Error::new(
                Code::InvalidOption,
                "uidMap/gidMap need a new user namespace (add 'user' to namespaces)",
            )
            .with_field("uidMap"));
        }
        if let Some(m) = &opts.id_maps {
            crate::idmap::validate(m)?;
        }
        // Joined namespaces go first in the child, so everything new after
        // them is made by unshare (owned by a joined user namespace); pid
        // must be made by clone3 (unshare would only affect children). A
        // time namespace with offsets is made by unshare too: its offsets
        // can only be written before a process is in it, and exec enters it.
        let user = NamespaceKind::User.clone_flag();
        let pid = NamespaceKind::Pid.clone_flag();
        let time = NamespaceKind::Time.clone_flag();
        let (clone_flags, unshare_user, mut unshare_flags) = if opts.join.is_empty() {
            (ns_flags, false, 0)
        } else {
            (
                ns_flags & pid,
                ns_flags & user != 0,
                ns_flags & !(user | pid),
            )
        };
        let mut clone_flags = clone_flags;
        // A new cgroup namespace is rooted at the cgroup its creator is in
        // at that moment: made by clone3 it would be the spawner's cgroup
        // (CLONE_INTO_CGROUP and the v1 moves come later), and the
        // container would read "0::/../../<path>" in /proc/self/cgroup. So
        // it is unshared after the child moved itself (as runc, crun).
        let cgroup_ns = NamespaceKind::Cgroup.clone_flag();
        if into_cgroups && clone_flags & cgroup_ns != 0 {
            clone_flags &= !cgroup_ns;
            unshare_flags |= cgroup_ns;
        }
        if opts.time_offsets.is_some() {
            clone_flags &= !time;
            unshare_flags |= time;
        }
        Ok(NamespacePlan {
            ns_flags,
            clone_flags,
            unshare_user,
            unshare_flags,
        })
    }
}

/// Open the namespaces to join (pid apart: the parent enters it).
fn open_joins(list: &[(NamespaceKind, String)]) -> Result<(Vec<JoinFd>, Option<JoinFd>), Error> {
    let mut joins = Vec::new();
    let mut join_pid = None;
    for (kind, path) in list {
        let cp = cstring("join", path)?;
        let fd = unsafe { libc::open(cp.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(Error::last_os(
                Code::Join,
                "open",
                format!("open the {} namespace {path}", kind.proc_name()),
            )
            .with_path(path));
        }
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Check it is a namespace file of that kind.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
        if rc >= 0 && rc as u64 != kind.clone_flag() {
            return Err(Error::sys(
                Code::Join,
                "ioctl",
                libc::EINVAL,
                format!("{path} is not a {} namespace", kind.proc_name()),
            )
            .with_path(path));
        }
        if rc < 0 {
            return Err(Error::last_os(
                Code::Join,
                "ioctl",
                format!("{path} is not a namespace file"),
            )
            .with_path(path));
        }
        let j = JoinFd {
            fd,
            kind: *kind,
            path: path.clone(),
        };
        if *kind == NamespaceKind::Pid {
            join_pid = Some(j);
        } else {
            joins.push(j);
        }
    }
    Ok((joins, join_pid))
}

/// A host or domain name: at most 64 bytes, no NUL.
fn uts_name(field: &str, v: &Option<String>) -> Result<Option<Vec<u8>>, Error> {
    match v {
        Some(h) if h.len() > 64 || h.contains('\0') => Err(Error::new(
            Code::InvalidOption,
            format!("{field} must be at most 64 bytes without NUL"),
        )
        .with_field(field.to_string())),
        Some(h) => Ok(Some(h.as_bytes().to_vec())),
        None => Ok(None),
    }
}

/// The text written to `/proc/self/oom_score_adj`, checked.
fn oom_score_adj(v: Option<i32>) -> Result<Option<Vec<u8>>, Error> {
    if let Some(o) = v {
        if !(-1000..=1000).contains(&o) {
            return Err(Error::new(
                Code::InvalidOption,
                "oomScoreAdj must be between -1000 and 1000",
            )
            .with_field("oomScoreAdj"));
        }
    }
    Ok(v.map(|o| o.to_string().into_bytes()))
}

/// The rootfs operations, `/proc` added for `mountProc`, detached mounts made.
fn plan_rootfs(opts: &FilesystemOptions, bind_devices: bool) -> Result<Option<RootfsPlan>, Error> {
    let Some(spec) = &opts.rootfs else {
        return Ok(None);
    };
    let mut spec = spec.clone();
    spec.bind_devices |= bind_devices;
    if opts.mount_proc && !spec.mounts.iter().any(|m| m.destination == "/proc") {
        spec.mounts.insert(
            0,
            MountSpec {
                destination: "/proc".into(),
                source: Some("proc".into()),
                fstype: Some("proc".into()),
                options: crate::MountOptions::parse(&["nosuid", "nodev", "noexec"]),
                ..Default::default()
            },
        );
    }
    let mut plan = RootfsPlan::build(&spec)?;
    // tmpcopyup and id-mapped mounts: made here, detached, for
    // the child to attach (it cannot allocate or fork a helper).
    plan.prepare_detached()?;
    Ok(Some(plan))
}

/// Resource limits as `setrlimit` arguments, soft never above hard.
fn plan_rlimits(list: &[Rlimit]) -> Result<Vec<(i32, libc::rlimit64)>, Error> {
    list.iter()
        .map(|r| {
            if r.soft > r.hard {
                return Err(Error::new(
                    Code::InvalidOption,
                    format!("rlimit {}: soft limit above hard limit", r.resource),
                )
                .with_field("rlimits"));
            }
            Ok((
                r.resource,
                libc::rlimit64 {
                    rlim_cur: r.soft,
                    rlim_max: r.hard,
                },
            ))
        })
        .collect()
}

/// What `execve` gets: candidate paths, argv and envp as C strings and the
/// NULL-terminated pointer arrays into them.
struct ExecPlan {
    exec_paths: Vec<CString>,
    exec_path_ptrs: Vec<*const libc::c_char>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    args: Vec<CString>,
    env: Vec<CString>,
}

impl ExecPlan {
    fn new(opts: &ProcessOptions) -> Result<ExecPlan, Error> {
        let exec_paths = exec_candidates(&opts.program, &opts.env)
            .iter()
            .map(|p| cstring("command", p))
            .collect::<Result<Vec<_>, _>>()?;
        let exec_path_ptrs = exec_paths.iter().map(|p| p.as_ptr()).collect();
        let args = opts
            .args
            .iter()
            .map(|a| cstring("args", a))
            .collect::<Result<Vec<_>, _>>()?;
        let env = opts
            .env
            .iter()
            .map(|e| cstring("env", e))
            .collect::<Result<Vec<_>, _>>()?;
        let mut argv: Vec<_> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<_> = env.iter().map(|e| e.as_ptr()).collect();
        envp.push(std::ptr::null());
        Ok(ExecPlan {
            exec_paths,
            exec_path_ptrs,
            argv,
            envp,
            args,
            env,
        })
    }
}

/// The seccomp program and its `seccomp(2)` flags, checked together.
fn plan_seccomp(opts: &SecurityOptions) -> Result<(Option<Vec<libc::sock_filter>>, u32), Error> {
    let seccomp_filter = opts.seccomp.as_deref().map(parse_bpf).transpose()?;
    let mut seccomp_flags = opts.seccomp_flags;
    if seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 && !opts.seccomp_listener {
        return Err(Error::new(
            Code::InvalidOption,
            "seccompFlags must not include SECCOMP_FILTER_FLAG_NEW_LISTENER: use seccompListener",
        )
        .with_field("seccompFlags"));
    }
    if opts.seccomp_listener {
        if seccomp_filter.is_none() {
            return Err(Error::new(
                Code::InvalidOption,
                "seccompListener needs a seccomp program",
            )
            .with_field("seccompListener"));
        }
        seccomp_flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    if seccomp_filter.is_none() && seccomp_flags != 0 {
        return Err(
            Error::new(Code::InvalidOption, "seccompFlags needs a seccomp program")
                .with_field("seccompFlags"),
        );
    }
    Ok((seccomp_filter, seccomp_flags))
}

/// The exec FIFO, opened `O_PATH` and checked to be a FIFO.
fn open_exec_fifo(f: &str) -> Result<OwnedFd, Error> {
    let c = cstring("execFifo", f)?;
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(
            Error::last_os(Code::ExecFifo, "open", format!("open the exec fifo {f}")).with_path(f),
        );
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0
        || st.st_mode & libc::S_IFMT != libc::S_IFIFO
    {
        return Err(Error::sys(
            Code::ExecFifo,
            "fstat",
            libc::EINVAL,
            format!("exec fifo {f} is not a FIFO"),
        )
        .with_path(f));
    }
    Ok(fd)
}

/// The sysctl writes, each key in a namespace the child has of its own.
fn plan_sysctl(opts: &NamespaceOptions, ns_flags: u64) -> Result<Vec<(CString, Vec<u8>)>, Error> {
    opts
        .sysctl
        .iter()
        .map(|(k, v)| {
            if k.split(['.', '/']).any(|c| c.is_empty()) {
                return Err(Error::new(Code::InvalidOption, format!("sysctl key {k:?} is not a dotted name")).with_field(format!("sysctl.{k}")));
            }
            // Only keys of a namespace the child has apart from ours:
            // any other would be written for the whole host.
            let own = match ctr_common::sysctl::namespace_of(k) {
                Some(ns) => {
                    let kind = NamespaceKind::parse(ns)?;
                    ns_flags & kind.clone_flag() != 0 || opts.join.iter().any(|(j, _)| *j == kind)
                }
                None => false,
            };
            if !own {
                let why = match ctr_common::sysctl::namespace_of(k) {
                    Some(ns) => format!("sysctl {k:?} belongs to the {ns} namespace, which the spawn neither creates nor joins"),
                    None => format!("sysctl {k:?} is not namespaced: writing it would change the host"),
                };
                return Err(Error::new(Code::InvalidOption, why).with_field(format!("sysctl.{k}")));
            }
            Ok((cstring("sysctl", &format!("/proc/sys/{}", k.replace('.', "/")))?, v.as_bytes().to_vec()))
        })
        .collect()
}

/// [`IoOptions`]: the console to set up, its size checked (stdio and the
/// extra fds are dup'ed by [`crate::spawn`] itself). `/dev/console` is bound
/// with a rootfs that mounts, the pty owned by the credentials the child
/// takes, and the child makes its own session unless it already asked for
/// one.
fn plan_console(
    opts: &IoOptions,
    fs: &FilesystemOptions,
    process: &ProcessOptions,
    creds: Option<(u32, u32)>,
) -> Result<Option<PreparedConsole>, Error> {
    let console = opts.console.map(|c| {
        if let Some(sz) = c.size {
            if sz.cols == 0 || sz.rows == 0 {
                return Err(Error::new(
                    Code::InvalidOption,
                    "console size needs at least one column and one row",
                )
                .with_field("consoleSize"));
            }
        }
        Ok(PreparedConsole {
            socket: match c.socket {
                crate::console::ConsoleSocket::Fd(fd) => fd,
                crate::console::ConsoleSocket::Return => -1,
            },
            size: c.size,
            // (with a chroot only, /dev/console would be a host mount)
            bind_console: fs.rootfs.as_ref().is_some_and(|r| !r.chroot),
            owner: creds,
            setsid: !process.new_session,
        })
    });
    console.transpose()
}

/// The scheduler, memory policy and I/O priority rules
/// ([`ctr_common::sched`], the same the OCI path checks), so a bad value
/// fails here naming its field rather than as `EINVAL` from the child.
fn check_scheduling(opts: &ResourceOptions) -> Result<(), Error> {
    use ctr_common::sched;
    let broken = |group: &str, (k, msg): sched::Broken| {
        Error::new(Code::InvalidOption, format!("{group}.{k}: {msg}"))
            .with_field(format!("{group}.{k}"))
    };
    if let Some(s) = &opts.scheduler {
        sched::check_sched(&sched::Sched {
            policy: s.sched_policy,
            flags: s.sched_flags,
            nice: s.sched_nice,
            priority: s.sched_priority,
            runtime: s.sched_runtime,
            deadline: s.sched_deadline,
            period: s.sched_period,
        })
        .map_err(|b| broken("scheduler", b))?;
    }
    if let Some(m) = &opts.memory_policy {
        sched::check_mempolicy(m.mode, m.flags, !m.nodes.is_empty())
            .map_err(|b| broken("memoryPolicy", b))?;
    }
    if let Some(io) = opts.io_priority {
        sched::check_io_priority(io).map_err(|b| broken("ioPriority", b))?;
    }
    Ok(())
}

/// [`ProcessOptions`] prepared: what `execve` gets, the working directory
/// and the identity of the spawner's own binary.
struct ProcessPlan {
    exec: ExecPlan,
    cwd: Option<CString>,
    own_exe: Option<(u64, u64)>,
}

fn plan_process(opts: &ProcessOptions) -> Result<ProcessPlan, Error> {
    if opts.program.is_empty() {
        return Err(
            Error::new(Code::InvalidOption, "command must not be empty").with_field("command")
        );
    }
    let exec = ExecPlan::new(opts)?;
    let cwd = opts.cwd.as_deref().map(|c| cstring("cwd", c)).transpose()?;
    let own_exe = if opts.refuse_own_exe {
        Some(own_exe_id()?)
    } else {
        None
    };
    Ok(ProcessPlan { exec, cwd, own_exe })
}

/// (dev, ino) of this process's own binary, `/proc/self/exe`: it changes
/// only at an exec, which starts a new image, so one `statx` per process.
pub(crate) fn own_exe_id() -> Result<(u64, u64), Error> {
    use std::os::unix::fs::MetadataExt;
    static ID: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    if let Some(id) = ID.get() {
        return Ok(*id);
    }
    let m = std::fs::metadata("/proc/self/exe")
        .map_err(|e| Error::io(Code::Spawn, "stat", &e, "stat /proc/self/exe"))?;
    Ok(*ID.get_or_init(|| (m.dev(), m.ino())))
}

/// [`ResourceOptions`] checked and made into the syscall arguments the
/// child passes on.
struct ResourcePlan {
    rlimits: Vec<(i32, libc::rlimit64)>,
    oom_score_adj: Option<Vec<u8>>,
    mempolicy: Option<(libc::c_int, Vec<libc::c_ulong>)>,
    affinity: Option<libc::cpu_set_t>,
    initial_affinity: Option<libc::cpu_set_t>,
}

fn plan_resources(opts: &ResourceOptions) -> Result<ResourcePlan, Error> {
    check_scheduling(opts)?;
    let affinity =
        |cpus: &Option<Vec<u32>>, field| cpus.as_deref().map(|c| cpu_set(c, field)).transpose();
    Ok(ResourcePlan {
        rlimits: plan_rlimits(&opts.rlimits)?,
        oom_score_adj: oom_score_adj(opts.oom_score_adj)?,
        mempolicy: opts
            .memory_policy
            .as_ref()
            .map(|m| m.syscall_args())
            .transpose()?,
        affinity: affinity(&opts.cpu_affinity, "cpuAffinity")?,
        initial_affinity: affinity(&opts.initial_cpu_affinity, "initialCpuAffinity")?,
    })
}

/// [`SecurityOptions`] checked: the credentials, capability sets and the
/// decoded seccomp program with its flags.
struct SecurityPlan {
    creds: Option<(u32, u32)>,
    caps: Option<CapSets>,
    seccomp_filter: Option<Vec<libc::sock_filter>>,
    seccomp_flags: u32,
    /// Install seccomp before dropping capabilities (no no_new_privs and
    /// the child would lose CAP_SYS_ADMIN).
    seccomp_early: bool,
}

fn plan_security(opts: &SecurityOptions) -> Result<SecurityPlan, Error> {
    if opts.umask.map(|u| u > 0o777).unwrap_or(false) {
        return Err(
            Error::new(Code::InvalidOption, "umask must be between 0 and 0o777")
                .with_field("umask"),
        );
    }
    let caps = opts
        .capabilities
        .as_ref()
        .map(|c| c.to_sets())
        .transpose()?;
    let creds = match (opts.uid, opts.gid) {
        (None, None) => None,
        (u, g) => Some((u.unwrap_or(0), g.unwrap_or(0))),
    };
    let (seccomp_filter, seccomp_flags) = plan_seccomp(opts)?;
    let seccomp_early =
        seccomp_filter.is_some() && !opts.no_new_privileges && (caps.is_some() || creds.is_some());
    Ok(SecurityPlan {
        creds,
        caps,
        seccomp_filter,
        seccomp_flags,
        seccomp_early,
    })
}

/// [`NamespaceOptions`] checked (with the filesystem and cgroups that need
/// or move namespaces): how each namespace is made and the data written
/// inside them. The namespaces to join are opened apart ([`open_joins`]).
struct NamespaceData {
    flags: NamespacePlan,
    become_root: bool,
    hostname: Option<Vec<u8>>,
    domainname: Option<Vec<u8>>,
    time_offsets: Option<Vec<u8>>,
    sysctl: Vec<(CString, Vec<u8>)>,
}

fn plan_namespaces(
    opts: &NamespaceOptions,
    fs: &FilesystemOptions,
    into_cgroups: bool,
) -> Result<NamespaceData, Error> {
    let flags = NamespacePlan::new(opts, fs, into_cgroups)?;
    let become_root = opts
        .id_maps
        .as_ref()
        .map(|m| m.uid.iter().any(|l| l.inside == 0) && m.gid.iter().any(|l| l.inside == 0))
        .unwrap_or(false);
    let time_offsets = opts.time_offsets.map(|t| {
        format!(
            "monotonic {} {}\nboottime {} {}\n",
            t.monotonic.0, t.monotonic.1, t.boottime.0, t.boottime.1
        )
        .into_bytes()
    });
    Ok(NamespaceData {
        become_root,
        hostname: uts_name("hostname", &opts.hostname)?,
        domainname: uts_name("domainname", &opts.domainname)?,
        time_offsets,
        sysctl: plan_sysctl(opts, flags.ns_flags)?,
        flags,
    })
}

/// [`LifecycleOptions`]: the exec FIFO opened (the other gates are flags).
fn plan_lifecycle(opts: &LifecycleOptions) -> Result<Option<OwnedFd>, Error> {
    opts.exec_fifo.as_deref().map(open_exec_fifo).transpose()
}

impl Prepared {
    /// Enter `net`, a new network namespace made ahead
    /// ([`crate::spare_net`]), instead of having `clone3` make one.
    pub fn use_spare_net(&mut self, net: OwnedFd) {
        self.clone_flags &= !(libc::CLONE_NEWNET as u64);
        let raw = net.as_raw_fd();
        let at = self.keep_fds.partition_point(|k| *k < raw);
        self.keep_fds.insert(at, raw);
        self.spare_net = Some(net);
    }

    /// Validate `opts` and build the C data the child needs: each group of
    /// options is checked by its own function, the ones that only check
    /// first, then those that open fds or make detached mounts.
    pub fn new(opts: &SpawnOptions) -> Result<Prepared, Error> {
        let SpawnOptions {
            process,
            namespaces,
            filesystem,
            security,
            resources,
            io,
            lifecycle,
        } = opts;
        let process_plan = plan_process(process)?;
        let resource_plan = plan_resources(resources)?;
        let security_plan = plan_security(security)?;
        let ns = plan_namespaces(namespaces, filesystem, !resources.cgroups.is_empty())?;
        let console = plan_console(io, filesystem, process, security_plan.creds)?;
        let ids = crate::spawn::spawner_ids();
        let root_parent = ids.map_or_else(|| unsafe { libc::geteuid() }, |(euid, _)| euid) == 0;
        let (joins, join_pid) = open_joins(&namespaces.join)?;
        // mknod is refused in a user namespace: bind the host's nodes.
        let bind_devices = ns.flags.ns_flags & NamespaceKind::User.clone_flag() != 0
            || !root_parent
            || namespaces
                .join
                .iter()
                .any(|(k, _)| *k == NamespaceKind::User);
        let rootfs = plan_rootfs(filesystem, bind_devices)?;
        let exec_fifo = plan_lifecycle(lifecycle)?;
        // A process that ends up in another root never execs its program
        // while /proc/self/exe is the host's binary (see exec_helper).
        let contained = rootfs.is_some() || joins.iter().any(|j| j.kind == NamespaceKind::Mnt);
        let exec_helper = if contained {
            crate::exec_helper::helper_fd()?
        } else {
            -1
        };
        let mut keep_fds: Vec<RawFd> = joins.iter().map(|j| j.fd.as_raw_fd()).collect();
        if let Some(r) = &rootfs {
            keep_fds.extend(r.detached_fds.iter().map(|f| f.as_raw_fd()));
        }
        if exec_helper >= 0 {
            keep_fds.push(exec_helper);
        }
        keep_fds.extend(exec_fifo.as_ref().map(|f| f.as_raw_fd()));
        keep_fds.sort_unstable();
        let ProcessPlan { exec, cwd, own_exe } = process_plan;
        let ResourcePlan {
            rlimits,
            oom_score_adj,
            mempolicy,
            affinity,
            initial_affinity,
        } = resource_plan;
        let SecurityPlan {
            creds,
            caps,
            seccomp_filter,
            seccomp_flags,
            seccomp_early,
        } = security_plan;
        let NamespaceData {
            flags:
                NamespacePlan {
                    ns_flags,
                    clone_flags,
                    unshare_user,
                    unshare_flags,
                },
            become_root,
            hostname,
            domainname,
            time_offsets,
            sysctl,
        } = ns;
        Ok(Prepared {
            ns_flags,
            clone_flags,
            unshare_user,
            unshare_flags,
            joins,
            spare_net: None,
            join_pid,
            parent_setup: namespaces.id_maps.is_some(),
            cgroups: !resources.cgroups.is_empty(),
            become_root,
            domainname,
            time_offsets,
            oom_score_adj,
            rootfs,
            rlimits,
            umask: security.umask,
            creds,
            groups: security.groups.clone(),
            caps,
            last_cap: crate::caps::last_cap(),
            seccomp_early,
            dumpable_for_listener: !root_parent,
            keep_fds,
            exec_paths: exec.exec_paths,
            exec_path_ptrs: exec.exec_path_ptrs,
            argv: exec.argv,
            envp: exec.envp,
            hostname,
            loopback_up: namespaces.loopback_up,
            cwd,
            mount_proc: filesystem.mount_proc,
            hold: lifecycle.hold,
            pdeathsig: lifecycle.parent_death_signal.unwrap_or(0),
            exec_fifo,
            own_exe,
            spawner_exe: None,
            pre_pivot_sync: lifecycle.pre_pivot_sync,
            sysctl,
            personality: process.personality,
            io_priority: resources.io_priority,
            mempolicy,
            sched: resources.scheduler,
            affinity,
            initial_affinity,
            new_session: process.new_session,
            parent_pid: ids.map_or_else(|| std::process::id() as i32, |(_, pid)| pid),
            no_new_privs: security.no_new_privileges,
            seccomp: seccomp_filter.as_ref().map(|f| libc::sock_fprog {
                len: f.len() as u16,
                filter: f.as_ptr() as *mut _,
            }),
            seccomp_flags,
            seccomp_listener: security.seccomp_listener,
            console,
            contained,
            exec_helper,
            helper_argv: Vec::new(),
            helper_gates: Box::default(),
            _helper_strings: Vec::new(),
            _seccomp_filter: seccomp_filter.unwrap_or_default(),
            _args: exec.args,
            _env: exec.env,
        })
    }

    /// The fields of this plan that rule out a vfork-style spawn (the child
    /// sharing the parent's memory, see [`crate::spawn`]); empty when the
    /// plan may use it.
    ///
    /// Every field is decided here, one by one: the destructuring has no
    /// `..`, so a new field does not compile until it is put in one of the
    /// two groups below. A field is allowed only if the child uses it with
    /// syscalls that change the task alone and never waits for the parent.
    /// It blocks when the child would wait for the parent (the parent is
    /// stopped until the child execs), change state that lives in the
    /// shared mm (dumpable flag, credentials and capabilities through
    /// `commit_creds`, `oom_score_adj`, a time namespace's vvar page), or do
    /// long mount work. Each public option of [`SpawnOptions`] is tied to
    /// its decision by the unit test `every_option_is_decided_for_vfork`,
    /// which destructures every group with no `..` as well.
    pub fn vfork_blockers(&self) -> Vec<&'static str> {
        self.vfork_blockers_for(false)
    }

    /// [`Prepared::vfork_blockers`] for a clone made by a non-dumpable
    /// spawner (`from_spawner`) or by this process, given
    /// [`Prepared::exec_early`]:
    /// - the waits for `start` are the helper's then, after the exec;
    /// - from a spawner, the memory shared is the spawner's, not Node's:
    ///   the spawner makes itself non-dumpable when it starts, so the
    ///   child's credential change (which sets the mm's dumpable flag to
    ///   `fs.suid_dumpable`) leaves it non-dumpable for users; the
    ///   spawner has no memory policies for a v1 cpuset attach to rebind
    ///   and migrates none (`memory_migrate` is off in the cgroups made
    ///   here), and the pages the child touches are charged to the mm's
    ///   owner, the spawner, not to the container; and the mount work
    ///   keeps only the spawner waiting (a pool of them serves the
    ///   process).
    pub fn vfork_blockers_for(&self, from_spawner: bool) -> Vec<&'static str> {
        let early = self.exec_early();
        let node = !from_spawner;
        let Prepared {
            // Allowed: task-local syscalls on data the child only reads.
            ns_flags,
            clone_flags: _,
            unshare_user: _,
            unshare_flags: _,
            become_root: _,
            domainname: _,
            rlimits: _,
            umask: _,
            last_cap: _,
            seccomp_early: _,
            dumpable_for_listener: _,
            keep_fds: _,
            exec_paths: _,
            exec_path_ptrs: _,
            argv: _,
            envp: _,
            hostname: _,
            cwd: _,
            mount_proc: _,
            // A socket and an ioctl in the child's own network namespace.
            loopback_up: _,
            // setns into a new network namespace: task-local, no creds.
            spare_net: _,
            pdeathsig: _,
            own_exe: _,
            spawner_exe: _,
            sysctl: _,
            personality: _,
            io_priority: _,
            sched: _,
            affinity: _,
            initial_affinity: _,
            mempolicy: _,
            new_session: _,
            parent_pid: _,
            no_new_privs: _,
            seccomp: _,
            seccomp_flags: _,
            console: _,
            contained: _,
            exec_helper: _,
            helper_argv: _,
            helper_gates: _,
            _helper_strings: _,
            _seccomp_filter: _,
            _args: _,
            _env: _,
            // Decided below, each with its reason.
            joins,
            join_pid,
            parent_setup,
            cgroups,
            time_offsets,
            oom_score_adj,
            rootfs,
            creds,
            groups,
            caps,
            hold,
            exec_fifo,
            pre_pivot_sync,
            seccomp_listener,
        } = self;
        let blocks: [(&'static str, bool); 15] = [
            // The child waits at the gate for the parent (the helper does,
            // after the exec, with an early exec).
            ("hold", *hold && !early),
            // The parent takes the listener fd while the child waits.
            ("seccompListener", *seccomp_listener),
            // The parent writes id maps while the child waits.
            ("parentSetup", *parent_setup),
            // A v1 cpuset attach may rebind the shared mm's memory policy,
            // and v1 memory accounting follows the mm's owner (Node's;
            // a spawner has no policies, and its pages are its own).
            ("cgroups", *cgroups && node),
            // Stops before pivot_root for the parent.
            ("prePivotSync", *pre_pivot_sync),
            // Long mount work: keep Node's thread running meanwhile (only
            // a spawner of the pool waits).
            ("rootfs", rootfs.is_some() && node),
            // setns in the child (a user namespace commits new creds, as `creds`).
            ("joins", !joins.is_empty()),
            // The parent thread sits in another pid namespace until the clone returns.
            ("joinPid", join_pid.is_some()),
            // commit_creds resets the shared mm's dumpable flag (Node's; a
            // root spawner is non-dumpable throughout).
            ("creds", creds.is_some() && node),
            ("groups", groups.is_some() && node),
            ("caps", caps.is_some() && node),
            // Applies to every process sharing the mm.
            ("oomScoreAdj", oom_score_adj.is_some()),
            // The time namespace's vvar page is installed in the mm.
            ("timeOffsets", time_offsets.is_some()),
            (
                "namespaces.time",
                ns_flags & crate::kinds::CLONE_NEWTIME != 0,
            ),
            // The child opens the FIFO and blocks until `start` (the helper
            // does, after the exec, with an early exec).
            ("execFifo", exec_fifo.is_some() && !early),
        ];
        blocks
            .into_iter()
            .filter(|(_, b)| *b)
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether the child execs the exec helper *before* its waits for
    /// `start` (the exec FIFO, the hold gate), leaving them to the helper
    /// (`helper/ctr-exec.c`): the child stops being a copy of the spawner
    /// (or of Node) as soon as its setup is done, instead of sharing its
    /// pages copy-on-write until `start`, and a vfork-style clone needs no
    /// wait before the exec. Not with a seccomp filter: a late one goes
    /// after the FIFO gate (so the filter need not allow its open and
    /// write), and an early one would have to allow the helper's own
    /// calls; nor with a listener, which the parent takes while the child
    /// waits.
    pub fn exec_early(&self) -> bool {
        self.exec_helper >= 0
            && (self.exec_fifo.is_some() || self.hold)
            && self.seccomp.is_none()
            && !self.seccomp_listener
    }

    /// Record the child's status pipe: the exec helper reports a failed
    /// final `execve` on it.
    pub fn set_status_fd(&mut self, fd: RawFd) {
        if self.exec_helper >= 0 {
            self.helper_argv = crate::exec_helper::helper_argv(
                fd,
                self.helper_gates.as_ptr(),
                &self.exec_path_ptrs,
                &self.argv,
                &mut self._helper_strings,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vfork_allow_list_decides_each_knob() {
        let base = || SpawnOptions::new("true", vec!["true".into()]);
        let blockers = |o: &SpawnOptions| Prepared::new(o).unwrap().vfork_blockers();
        assert_eq!(blockers(&base()), Vec::<&str>::new());
        // Knobs that only change the task keep the plan vfork-eligible.
        let mut o = base();
        o.security.umask = Some(0o22);
        o.process.new_session = true;
        o.security.no_new_privileges = true;
        o.namespaces.create = vec![NamespaceKind::Uts, NamespaceKind::Pid, NamespaceKind::Net];
        o.namespaces.hostname = Some("h".into());
        o.filesystem.mount_proc = false;
        o.lifecycle.parent_death_signal = Some(libc::SIGKILL);
        assert_eq!(blockers(&o), Vec::<&str>::new());
        // Each knob that needs the copy-on-write clone names itself.
        type Set = fn(&mut SpawnOptions);
        let cases: [(&str, Set); 7] = [
            ("hold", |o| o.lifecycle.hold = true),
            ("creds", |o| {
                o.security.uid = Some(1);
                o.security.gid = Some(1);
            }),
            ("groups", |o| o.security.groups = Some(vec![1])),
            ("oomScoreAdj", |o| o.resources.oom_score_adj = Some(100)),
            ("rootfs", |o| {
                o.filesystem.rootfs = Some(RootfsSpec {
                    path: "/".into(),
                    chroot: true,
                    ..Default::default()
                })
            }),
            ("namespaces.time", |o| {
                o.namespaces.create = vec![NamespaceKind::Time]
            }),
            ("prePivotSync", |o| o.lifecycle.pre_pivot_sync = true),
        ];
        for (name, set) in cases {
            let mut o = base();
            set(&mut o);
            assert!(
                blockers(&o).contains(&name),
                "{name} must rule out vfork: {:?}",
                blockers(&o)
            );
        }
    }

    #[test]
    fn a_contained_plan_waits_in_the_helper_and_a_spawner_clones_it_vfork_style() {
        let contained = || {
            let mut o = SpawnOptions::new("true", vec!["true".into()]);
            o.filesystem.rootfs = Some(RootfsSpec {
                path: "/".into(),
                chroot: true,
                ..Default::default()
            });
            o.lifecycle.hold = true;
            o.security.uid = Some(1);
            o.security.gid = Some(1);
            o
        };
        let p = Prepared::new(&contained()).unwrap();
        assert!(
            p.exec_helper >= 0,
            "a contained plan execs through the helper"
        );
        assert!(p.exec_early());
        // From a non-dumpable spawner nothing is left; from Node, the
        // mount work and the credential change still are, the hold is not.
        assert_eq!(p.vfork_blockers_for(true), Vec::<&str>::new());
        assert_eq!(p.vfork_blockers_for(false), vec!["rootfs", "creds"]);
        // The helper's gates argument is "none" until the child sets it.
        let gates = unsafe { std::ffi::CStr::from_ptr(p.helper_gates.as_ptr()) };
        assert_eq!(gates.to_bytes(), b"-1,-1,-1,-1,0");

        // A seccomp filter goes after the waits: the child makes them then.
        let mut o = contained();
        let allow = libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        };
        o.security.seccomp = Some(
            unsafe {
                std::slice::from_raw_parts(
                    (&allow as *const libc::sock_filter).cast::<u8>(),
                    std::mem::size_of::<libc::sock_filter>(),
                )
            }
            .to_vec(),
        );
        let p = Prepared::new(&o).unwrap();
        assert!(!p.exec_early());
        assert_eq!(p.vfork_blockers_for(true), vec!["hold"]);

        // A plan that does not exec through the helper has no early exec.
        let mut o = SpawnOptions::new("true", vec!["true".into()]);
        o.lifecycle.hold = true;
        let p = Prepared::new(&o).unwrap();
        assert!(!p.exec_early());
        assert_eq!(p.vfork_blockers_for(true), vec!["hold"]);
    }

    /// The names `group.field` of every public option, from a destructuring
    /// with no `..` at any level: a new field does not compile until it is
    /// listed here, and then fails [`every_option_is_decided_for_vfork`]
    /// until it has a case there.
    macro_rules! every_option {
        ($($group:ident: $ty:ident { $($field:ident),* $(,)? }),* $(,)?) => {{
            let SpawnOptions { $($group: $ty { $($field: _),* }),* } = SpawnOptions::default();
            vec![$($(concat!(stringify!($group), ".", stringify!($field))),*),*]
        }};
    }

    #[test]
    fn every_option_is_decided_for_vfork() {
        let fields = every_option! {
            process: ProcessOptions {
                program, args, env, cwd, new_session, personality, refuse_own_exe,
            },
            namespaces: NamespaceOptions {
                create, join, id_maps, time_offsets, hostname, domainname, loopback_up, sysctl,
            },
            filesystem: FilesystemOptions { rootfs, mount_proc },
            security: SecurityOptions {
                uid, gid, groups, umask, capabilities, no_new_privileges, seccomp, seccomp_flags,
                seccomp_listener,
            },
            resources: ResourceOptions {
                cgroups, rlimits, oom_score_adj, io_priority, scheduler, cpu_affinity,
                initial_cpu_affinity, memory_policy, caller_memory_cgroup,
            },
            io: IoOptions { stdio, extra_fds, console },
            lifecycle: LifecycleOptions { hold, pre_pivot_sync, exec_fifo, parent_death_signal },
        };
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("exec.fifo");
        let cf = CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(cf.as_ptr(), 0o600) }, 0);
        let fifo = fifo.to_string_lossy().into_owned();
        let allow = [
            0x06u16.to_ne_bytes().as_slice(),
            &[0, 0],
            &0x7fff_0000u32.to_ne_bytes(),
        ]
        .concat();
        // Each option set to a valid value that is not its default, and the
        // vfork blockers it brings (empty: the vfork spawn may be used).
        type Set<'a> = Box<dyn Fn(&mut SpawnOptions) + 'a>;
        let cases: Vec<(&str, Set, &[&str])> = vec![
            (
                "process.program",
                Box::new(|o| o.process.program = "/bin/true".into()),
                &[],
            ),
            (
                "process.args",
                Box::new(|o| o.process.args = vec!["x".into()]),
                &[],
            ),
            (
                "process.env",
                Box::new(|o| o.process.env = vec!["A=b".into()]),
                &[],
            ),
            (
                "process.cwd",
                Box::new(|o| o.process.cwd = Some("/".into())),
                &[],
            ),
            (
                "process.new_session",
                Box::new(|o| o.process.new_session = true),
                &[],
            ),
            (
                "process.personality",
                Box::new(|o| o.process.personality = Some(8)),
                &[],
            ),
            (
                "process.refuse_own_exe",
                Box::new(|o| o.process.refuse_own_exe = true),
                &[],
            ),
            (
                "namespaces.create",
                Box::new(|o| o.namespaces.create = vec![NamespaceKind::Uts, NamespaceKind::Pid]),
                &[],
            ),
            (
                "namespaces.join",
                Box::new(|o| {
                    o.namespaces.join = vec![(NamespaceKind::Net, "/proc/self/ns/net".into())]
                }),
                &["joins"],
            ),
            (
                "namespaces.id_maps",
                Box::new(|o| {
                    let line = vec![crate::IdMap {
                        inside: 0,
                        outside: 0,
                        count: 1,
                    }];
                    o.namespaces.create = vec![NamespaceKind::User];
                    o.namespaces.id_maps = Some(IdMaps {
                        uid: line.clone(),
                        gid: line,
                        ..Default::default()
                    });
                }),
                &["parentSetup"],
            ),
            (
                "namespaces.time_offsets",
                Box::new(|o| o.namespaces.time_offsets = Some(TimeOffsets::default())),
                &["timeOffsets", "namespaces.time"],
            ),
            (
                "namespaces.hostname",
                Box::new(|o| {
                    o.namespaces.create = vec![NamespaceKind::Uts];
                    o.namespaces.hostname = Some("box".into());
                }),
                &[],
            ),
            (
                "namespaces.domainname",
                Box::new(|o| {
                    o.namespaces.create = vec![NamespaceKind::Uts];
                    o.namespaces.domainname = Some("box".into());
                }),
                &[],
            ),
            (
                "namespaces.loopback_up",
                Box::new(|o| {
                    o.namespaces.create = vec![NamespaceKind::Net];
                    o.namespaces.loopback_up = true;
                }),
                &[],
            ),
            (
                "namespaces.sysctl",
                Box::new(|o| {
                    o.namespaces.create = vec![NamespaceKind::Ipc];
                    o.namespaces.sysctl = vec![("kernel.msgmax".into(), "8192".into())];
                }),
                &[],
            ),
            (
                "filesystem.rootfs",
                Box::new(|o| {
                    o.filesystem.rootfs = Some(RootfsSpec {
                        path: "/".into(),
                        chroot: true,
                        ..Default::default()
                    })
                }),
                &["rootfs"],
            ),
            (
                "filesystem.mount_proc",
                Box::new(|o| o.filesystem.mount_proc = true),
                &[],
            ),
            (
                "security.uid",
                Box::new(|o| o.security.uid = Some(1)),
                &["creds"],
            ),
            (
                "security.gid",
                Box::new(|o| o.security.gid = Some(1)),
                &["creds"],
            ),
            (
                "security.groups",
                Box::new(|o| o.security.groups = Some(vec![1])),
                &["groups"],
            ),
            (
                "security.umask",
                Box::new(|o| o.security.umask = Some(0o22)),
                &[],
            ),
            (
                "security.capabilities",
                Box::new(|o| o.security.capabilities = Some(CapNames::default())),
                &["caps"],
            ),
            (
                "security.no_new_privileges",
                Box::new(|o| o.security.no_new_privileges = true),
                &[],
            ),
            (
                "security.seccomp",
                Box::new(|o| o.security.seccomp = Some(allow.clone())),
                &[],
            ),
            (
                "security.seccomp_flags",
                Box::new(|o| {
                    o.security.seccomp = Some(allow.clone());
                    o.security.seccomp_flags = 2;
                }),
                &[],
            ),
            (
                "security.seccomp_listener",
                Box::new(|o| {
                    o.security.seccomp = Some(allow.clone());
                    o.security.seccomp_listener = true;
                }),
                &["seccompListener"],
            ),
            (
                "resources.cgroups",
                Box::new(|o| o.resources.cgroups = vec!["/sys/fs/cgroup/x".into()]),
                &["cgroups"],
            ),
            (
                "resources.rlimits",
                Box::new(|o| {
                    o.resources.rlimits = vec![Rlimit {
                        resource: libc::RLIMIT_NOFILE as i32,
                        soft: 1024,
                        hard: 1024,
                    }]
                }),
                &[],
            ),
            (
                "resources.oom_score_adj",
                Box::new(|o| o.resources.oom_score_adj = Some(100)),
                &["oomScoreAdj"],
            ),
            (
                "resources.io_priority",
                Box::new(|o| o.resources.io_priority = Some(2 << 13 | 4)),
                &[],
            ),
            (
                "resources.scheduler",
                Box::new(|o| {
                    o.resources.scheduler = Some(SchedAttr::new(libc::SCHED_BATCH as u32))
                }),
                &[],
            ),
            (
                "resources.cpu_affinity",
                Box::new(|o| o.resources.cpu_affinity = Some(vec![0])),
                &[],
            ),
            (
                "resources.initial_cpu_affinity",
                Box::new(|o| o.resources.initial_cpu_affinity = Some(vec![0])),
                &[],
            ),
            (
                "resources.memory_policy",
                Box::new(|o| o.resources.memory_policy = Some(MemoryPolicy::default())),
                &[],
            ),
            // The memory cgroup moves are the child's own (a shared mm stays
            // charged to its owner, the spawner).
            (
                "resources.caller_memory_cgroup",
                Box::new(|o| {
                    o.resources.caller_memory_cgroup = Some(CallerMemoryCgroup {
                        index: 0,
                        dir: "/sys/fs/cgroup/memory".into(),
                    })
                }),
                &[],
            ),
            // stdio and extra fds are dup'ed by the parent before the clone.
            ("io.stdio", Box::new(|o| o.io.stdio = [Stdio::Null; 3]), &[]),
            ("io.extra_fds", Box::new(|o| o.io.extra_fds = vec![0]), &[]),
            (
                "io.console",
                Box::new(|o| o.io.console = Some(Console::returned(None))),
                &[],
            ),
            (
                "lifecycle.hold",
                Box::new(|o| o.lifecycle.hold = true),
                &["hold"],
            ),
            (
                "lifecycle.pre_pivot_sync",
                Box::new(|o| o.lifecycle.pre_pivot_sync = true),
                &["prePivotSync"],
            ),
            (
                "lifecycle.exec_fifo",
                Box::new(|o| o.lifecycle.exec_fifo = Some(fifo.clone())),
                &["execFifo"],
            ),
            (
                "lifecycle.parent_death_signal",
                Box::new(|o| o.lifecycle.parent_death_signal = Some(libc::SIGKILL)),
                &[],
            ),
        ];
        let decided: Vec<&str> = cases.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(
            decided, fields,
            "each option needs exactly one case, in field order"
        );
        for (name, set, expected) in &cases {
            let mut o = SpawnOptions::new("true", vec![]);
            set(&mut o);
            let p = Prepared::new(&o).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(p.vfork_blockers(), *expected, "{name}");
        }
    }

    #[test]
    fn path_lookup_follows_env_path() {
        let env = vec!["PATH=/a:/b/".to_string()];
        assert_eq!(exec_candidates("sh", &env), vec!["/a/sh", "/b/sh"]);
        assert_eq!(exec_candidates("./x", &env), vec!["./x"]);
    }

    #[test]
    fn mount_proc_is_refused_with_a_chroot_only_rootfs() {
        let mut o = SpawnOptions::new("true", vec!["true".into()]);
        o.filesystem.mount_proc = true;
        o.filesystem.rootfs = Some(RootfsSpec {
            path: "/".into(),
            chroot: true,
            ..Default::default()
        });
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("mountProc")
        );
        o.filesystem.mount_proc = false;
        let p = Prepared::new(&o).unwrap();
        assert_eq!(
            p.ns_flags & libc::CLONE_NEWNS as u64,
            0,
            "a chroot-only rootfs makes no mount namespace"
        );
    }

    #[test]
    fn mount_proc_implies_mount_namespace() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.filesystem.mount_proc = true;
        let p = Prepared::new(&o).unwrap();
        assert_eq!(p.ns_flags, libc::CLONE_NEWNS as u64);
        assert_eq!(p.clone_flags, libc::CLONE_NEWNS as u64);
        assert_eq!(p.argv.len(), 2);
        assert!(p.argv[1].is_null());
    }

    #[test]
    fn hostname_needs_uts() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.namespaces.hostname = Some("box".into());
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("hostname")
        );
        o.namespaces.create.push(NamespaceKind::Uts);
        assert!(Prepared::new(&o).is_ok());
    }

    #[test]
    fn seccomp_program_is_decoded_and_checked() {
        let mut o = SpawnOptions::new("true", vec![]);
        // ret ALLOW
        let allow = [
            0x06u16.to_ne_bytes().as_slice(),
            &[0, 0],
            &0x7fff_0000u32.to_ne_bytes(),
        ]
        .concat();
        o.security.seccomp = Some(allow.clone());
        let p = Prepared::new(&o).unwrap();
        let prog = p.seccomp.unwrap();
        assert_eq!(prog.len, 1);
        assert_eq!(unsafe { (*prog.filter).k }, 0x7fff_0000);
        o.security.seccomp = Some(allow[..7].to_vec());
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("seccomp")
        );
        o.security.seccomp = Some(vec![]);
        assert!(Prepared::new(&o).is_err());
        o.security.seccomp = Some(allow.repeat(BPF_MAXINSNS + 1));
        assert!(Prepared::new(&o).is_err());
        o.security.seccomp = Some(allow);
        o.security.seccomp_listener = true;
        assert_eq!(
            Prepared::new(&o).unwrap().seccomp_flags,
            SECCOMP_FILTER_FLAG_NEW_LISTENER
        );
        o.security.seccomp = None;
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("seccompListener")
        );
        o.security.seccomp_listener = false;
        o.security.seccomp_flags = 2;
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("seccompFlags")
        );
    }

    #[test]
    fn joins_move_new_namespaces_to_unshare() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.namespaces.create = vec![NamespaceKind::User, NamespaceKind::Pid, NamespaceKind::Uts];
        o.namespaces.join = vec![(NamespaceKind::Net, "/proc/self/ns/net".into())];
        let p = Prepared::new(&o).unwrap();
        assert_eq!(p.clone_flags, libc::CLONE_NEWPID as u64);
        assert!(p.unshare_user);
        assert_eq!(p.unshare_flags, libc::CLONE_NEWUTS as u64);
        assert_eq!(p.joins.len(), 1);
        assert_eq!(p.keep_fds, vec![p.joins[0].fd.as_raw_fd()]);
        // A file of the wrong kind is refused before the clone.
        o.namespaces.join = vec![(NamespaceKind::Ipc, "/proc/self/ns/net".into())];
        assert_eq!(Prepared::new(&o).err().unwrap().code, Code::Join.as_str());
        o.namespaces.join = vec![(NamespaceKind::Ipc, "/nonexistent/ns".into())];
        let e = Prepared::new(&o).err().unwrap();
        assert_eq!(
            (e.code.as_str(), e.errno, e.path.as_deref()),
            (
                Code::Join.as_str(),
                Some(libc::ENOENT),
                Some("/nonexistent/ns")
            )
        );
        o.namespaces.join = vec![(NamespaceKind::Uts, "/proc/self/ns/uts".into())];
        assert!(Prepared::new(&o).is_err(), "joined and created");
    }

    #[test]
    fn time_offsets_use_unshare() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.namespaces.time_offsets = Some(TimeOffsets {
            monotonic: (86400, 0),
            boottime: (-5, 7),
        });
        let p = Prepared::new(&o).unwrap();
        assert_eq!(p.clone_flags, 0);
        assert_eq!(p.unshare_flags, crate::kinds::CLONE_NEWTIME);
        assert_eq!(
            p.time_offsets.as_deref(),
            Some(b"monotonic 86400 0\nboottime -5 7\n".as_slice())
        );
    }

    #[test]
    fn rlimit_names() {
        assert_eq!(rlimit_from_name("RLIMIT_NOFILE"), Some(7));
        assert_eq!(rlimit_from_name("nproc"), Some(6));
        assert_eq!(rlimit_from_name("bogus"), None);
    }

    #[test]
    fn nul_bytes_are_rejected_with_field() {
        let o = SpawnOptions::new("true", vec!["a\0b".into()]);
        let e = Prepared::new(&o).err().unwrap();
        assert_eq!(e.code, Code::InvalidOption.as_str());
        assert_eq!(e.path.as_deref(), Some("args"));
    }

    #[test]
    fn exec_fifo_sysctl_and_sync_are_prepared() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.lifecycle.pre_pivot_sync = true;
        o.namespaces.sysctl = vec![
            ("net.ipv4.ip_forward".into(), "1".into()),
            ("kernel/msgmax".into(), "8192".into()),
        ];
        o.process.personality = Some(8);
        // Each key needs its namespace apart from ours; host-wide keys never.
        let e = Prepared::new(&o).err().unwrap();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (
                Code::InvalidOption.as_str(),
                Some("sysctl.net.ipv4.ip_forward")
            )
        );
        o.namespaces.create = vec![NamespaceKind::Net];
        o.namespaces.join = vec![(NamespaceKind::Ipc, "/proc/self/ns/ipc".into())];
        let p = Prepared::new(&o).unwrap();
        assert!(p.exec_fifo.is_none(), "no fifo asked");
        assert!(p.pre_pivot_sync);
        assert_eq!(p.sysctl[0].0.as_c_str(), c"/proc/sys/net/ipv4/ip_forward");
        assert_eq!(p.sysctl[1].0.as_c_str(), c"/proc/sys/kernel/msgmax");
        assert_eq!(p.sysctl[1].1, b"8192");
        assert_eq!(p.personality, Some(8));
        for bad in [
            "",
            "net..x",
            "../../etc/passwd",
            "a/./b/",
            "vm.swappiness",
            "kernel.pid_max",
            "kernel.hostname",
        ] {
            o.namespaces.sysctl = vec![(bad.into(), "1".into())];
            let e = Prepared::new(&o)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(e.code, Code::InvalidOption.as_str());
        }
        o.namespaces.sysctl = vec![];
        o.lifecycle.exec_fifo = Some("a\0b".into());
        assert_eq!(
            Prepared::new(&o).err().unwrap().path.as_deref(),
            Some("execFifo")
        );
        // Not a FIFO, missing: refused before the clone, with the path.
        o.lifecycle.exec_fifo = Some("/proc/self/status".into());
        assert_eq!(
            Prepared::new(&o).err().unwrap().code,
            Code::ExecFifo.as_str()
        );
        o.lifecycle.exec_fifo = Some("/nonexistent/exec.fifo".into());
        let e = Prepared::new(&o).err().unwrap();
        assert_eq!(
            (e.errno, e.path.as_deref()),
            (Some(libc::ENOENT), Some("/nonexistent/exec.fifo"))
        );
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("fifo");
        let cf = CString::new(f.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(cf.as_ptr(), 0o600) }, 0);
        o.lifecycle.exec_fifo = Some(f.to_string_lossy().into_owned());
        let p = Prepared::new(&o).unwrap();
        let fd = p.exec_fifo.as_ref().unwrap().as_raw_fd();
        assert!(p.keep_fds.contains(&fd), "the child keeps the fifo fd");
    }
}
