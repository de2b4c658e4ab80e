//! The default masked and read-only paths of a container: the one list
//! that `ctrun spec`, `@ctr/runtime`'s generated config and `@ctr/ns`'s
//! `DEFAULT_MASKED_PATHS` / `DEFAULT_READONLY_PATHS` all use.

/// Paths hidden from the container (`/dev/null` bound over files, an
/// empty read-only tmpfs over directories): runc's `spec` defaults plus
/// `/sys/devices/virtual/powercap` (RAPL energy counters, a power side
/// channel), as runc 1.2 and moby mask it.
pub const DEFAULT_MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths made read-only.
pub const DEFAULT_READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
