//! Serde types for the OCI runtime-spec 1.2 `config.json` (Linux).
//!
//! Field names follow the spec exactly (camelCase). Unknown properties are
//! ignored as config.md requires; sections of other platforms (windows,
//! solaris, vm, zos, freebsd) are kept as raw JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The whole `config.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// SemVer of the spec the bundle follows.
    pub oci_version: String,
    /// The container's root filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    /// Additional mounts, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<Mount>>,
    /// The container process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// Host name inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// NIS domain name inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Lifecycle hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    /// Arbitrary metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Linux-specific configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linux: Option<Linux>,
    /// Solaris section (kept, not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solaris: Option<Value>,
    /// Windows section (kept, not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<Value>,
    /// VM section (kept, not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm: Option<Value>,
    /// z/OS section (kept, not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zos: Option<Value>,
    /// FreeBSD section (kept, not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freebsd: Option<Value>,
}

/// `root`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Root {
    /// Path to the root filesystem, absolute or relative to the bundle.
    pub path: String,
    /// Make the root filesystem read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
}

/// One entry of `mounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// Absolute destination inside the container.
    pub destination: String,
    /// Device name, directory or dummy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// File system type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// mount(8) options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Id-mapped mount, uids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid_mappings: Option<Vec<IdMapping>>,
    /// Id-mapped mount, gids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid_mappings: Option<Vec<IdMapping>>,
}

/// `process`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Allocate a pseudo-terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal: Option<bool>,
    /// Console size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    /// User to run as.
    pub user: User,
    /// argv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Windows command line (not for Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    /// Environment, `KEY=value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Absolute working directory.
    pub cwd: String,
    /// Capability sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Resource limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rlimits: Option<Vec<Rlimit>>,
    /// Set `no_new_privs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_new_privileges: Option<bool>,
    /// AppArmor profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    /// `/proc/self/oom_score_adj`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// SELinux label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux_label: Option<String>,
    /// Scheduling policy (sched_setattr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,
    /// I/O priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io_priority: Option<IoPriority>,
    /// CPU affinity for exec'd processes.
    #[serde(rename = "execCPUAffinity", skip_serializing_if = "Option::is_none")]
    pub exec_cpu_affinity: Option<Value>,
}

/// `process.consoleSize`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConsoleSize {
    /// Rows.
    pub height: u32,
    /// Columns.
    pub width: u32,
}

/// `process.user`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id in the container.
    pub uid: u32,
    /// Group id in the container.
    pub gid: u32,
    /// umask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    /// Supplementary groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_gids: Option<Vec<u32>>,
    /// User name (Windows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// `process.capabilities`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Capabilities {
    /// Bounding set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounding: Option<Vec<String>>,
    /// Effective set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<Vec<String>>,
    /// Inheritable set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inheritable: Option<Vec<String>>,
    /// Permitted set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permitted: Option<Vec<String>>,
    /// Ambient set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient: Option<Vec<String>>,
}

/// One of `process.rlimits`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Rlimit {
    /// `RLIMIT_*` name.
    #[serde(rename = "type")]
    pub typ: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// `process.scheduler`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Scheduler {
    /// `SCHED_*` policy.
    pub policy: String,
    /// Nice value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nice: Option<i32>,
    /// Static priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// `SCHED_FLAG_*` flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// SCHED_DEADLINE runtime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<u64>,
    /// SCHED_DEADLINE deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<u64>,
    /// SCHED_DEADLINE period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
}

/// `process.ioPriority`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IoPriority {
    /// `IOPRIO_CLASS_*`.
    pub class: String,
    /// Priority within the class.
    #[serde(default)]
    pub priority: i32,
}

/// `hooks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    /// Deprecated prestart hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prestart: Option<Vec<Hook>>,
    /// createRuntime hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_runtime: Option<Vec<Hook>>,
    /// createContainer hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_container: Option<Vec<Hook>>,
    /// startContainer hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_container: Option<Vec<Hook>>,
    /// poststart hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poststart: Option<Vec<Hook>>,
    /// poststop hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poststop: Option<Vec<Hook>>,
}

impl Hooks {
    /// All hook lists with their JSON names.
    pub fn all(&self) -> [(&'static str, Option<&Vec<Hook>>); 6] {
        [
            ("prestart", self.prestart.as_ref()),
            ("createRuntime", self.create_runtime.as_ref()),
            ("createContainer", self.create_container.as_ref()),
            ("startContainer", self.start_container.as_ref()),
            ("poststart", self.poststart.as_ref()),
            ("poststop", self.poststop.as_ref()),
        ]
    }
}

/// One hook.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Hook {
    /// Absolute path of the program.
    pub path: String,
    /// argv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Timeout in seconds (> 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
}

/// `linux`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    /// User namespace uid mappings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid_mappings: Option<Vec<IdMapping>>,
    /// User namespace gid mappings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid_mappings: Option<Vec<IdMapping>>,
    /// Time namespace offsets (`monotonic`, `boottime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_offsets: Option<BTreeMap<String, TimeOffset>>,
    /// Kernel parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctl: Option<BTreeMap<String, String>>,
    /// Cgroup resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Cgroup path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroups_path: Option<String>,
    /// Namespaces to create or join.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<Namespace>>,
    /// Device nodes to create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<Device>>,
    /// Network devices to move into the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_devices: Option<BTreeMap<String, NetDevice>>,
    /// Seccomp profile (shape checked by @ctr/seccomp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<Value>,
    /// Propagation of the rootfs mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs_propagation: Option<String>,
    /// Paths masked over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_paths: Option<Vec<String>>,
    /// Paths made read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly_paths: Option<Vec<String>>,
    /// SELinux mount label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_label: Option<String>,
    /// Intel RDT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intel_rdt: Option<Value>,
    /// Execution domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    /// Memory policy (1.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_policy: Option<Value>,
}

/// One id mapping.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdMapping {
    /// First id in the container.
    #[serde(rename = "containerID")]
    pub container_id: u32,
    /// First id on the host.
    #[serde(rename = "hostID")]
    pub host_id: u32,
    /// Number of ids.
    pub size: u32,
}

/// One time offset.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimeOffset {
    /// Seconds.
    #[serde(default)]
    pub secs: i64,
    /// Nanoseconds.
    #[serde(default)]
    pub nanosecs: u32,
}

/// One namespace entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    /// `pid`, `network`, `mount`, `ipc`, `uts`, `user`, `cgroup`, `time`.
    #[serde(rename = "type")]
    pub typ: String,
    /// Join this namespace file instead of creating one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One device node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// `c`, `b`, `u` or `p`.
    #[serde(rename = "type")]
    pub typ: String,
    /// Absolute path in the container.
    pub path: String,
    /// Major number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    /// Minor number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    /// Permission bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_mode: Option<u32>,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// One network device.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NetDevice {
    /// Name inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `linux.personality`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Personality {
    /// `LINUX` or `LINUX32`.
    pub domain: String,
    /// Flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
}

/// `linux.resources` (the shape @ctr/cgroup takes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Device cgroup rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<DeviceRule>>,
    /// Memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    /// Pids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<Pids>,
    /// Block I/O.
    #[serde(rename = "blockIO", skip_serializing_if = "Option::is_none")]
    pub block_io: Option<Value>,
    /// Huge page limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hugepage_limits: Option<Vec<HugepageLimit>>,
    /// Network class and priorities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Value>,
    /// RDMA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdma: Option<BTreeMap<String, Rdma>>,
    /// cgroup v2 files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unified: Option<BTreeMap<String, String>>,
}

/// One device cgroup rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeviceRule {
    /// Allow or deny.
    pub allow: bool,
    /// `a`, `c` or `b`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Major, all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    /// Minor, all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    /// `r`, `w`, `m` combination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// `resources.memory`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Limit in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Soft limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    /// Memory+swap limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    /// Kernel memory (deprecated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    /// Kernel TCP memory.
    #[serde(rename = "kernelTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    /// Swappiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    /// Disable the OOM killer.
    #[serde(rename = "disableOOMKiller", skip_serializing_if = "Option::is_none")]
    pub disable_oom_killer: Option<bool>,
    /// Hierarchical accounting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_hierarchy: Option<bool>,
    /// Check usage before lowering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_before_update: Option<bool>,
}

/// `resources.cpu`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    /// Relative share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// CFS quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    /// CFS burst.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// CFS period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    /// RT runtime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    /// RT period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    /// CPU list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// Memory node list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
    /// SCHED_IDLE for the cgroup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<i64>,
}

/// `resources.pids`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Pids {
    /// Max pids.
    pub limit: i64,
}

/// One huge page limit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HugepageLimit {
    /// Page size, e.g. `2MB`.
    pub page_size: String,
    /// Limit in bytes.
    pub limit: u64,
}

/// RDMA limits of one device.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rdma {
    /// HCA handles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hca_handles: Option<u32>,
    /// HCA objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hca_objects: Option<u32>,
}
