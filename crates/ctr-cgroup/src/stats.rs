//! Statistics in one shape on v1 and v2. Times are microseconds, sizes
//! bytes; a field is absent when the host lacks the file behind it.

use serde::Serialize;
use std::collections::BTreeMap;

/// Memory statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryStats {
    /// Current usage (v1 usage_in_bytes, v2 memory.current).
    pub current: Option<u64>,
    /// Peak usage (v1 max_usage_in_bytes, v2 memory.peak).
    pub peak: Option<u64>,
    /// Limit, None when unlimited.
    pub limit: Option<u64>,
    /// Page cache (v1 cache, v2 file).
    pub cache: Option<u64>,
    /// Anonymous memory (v1 rss, v2 anon).
    pub rss: Option<u64>,
    /// Swap used.
    pub swap: Option<u64>,
    /// Times the limit was hit (v1 failcnt, v2 memory.events max).
    pub failcnt: Option<u64>,
    /// OOM situations (v2 memory.events oom; v1 under_oom transitions are not counted).
    pub oom: Option<u64>,
    /// Processes killed by the OOM killer.
    pub oom_kill: Option<u64>,
}

/// CPU statistics (microseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuStats {
    /// Total CPU time.
    pub usage_usec: Option<u64>,
    /// User time.
    pub user_usec: Option<u64>,
    /// System time.
    pub system_usec: Option<u64>,
    /// CFS periods elapsed.
    pub nr_periods: Option<u64>,
    /// Periods throttled.
    pub nr_throttled: Option<u64>,
    /// Time throttled.
    pub throttled_usec: Option<u64>,
}

/// Pids statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PidsStats {
    /// Tasks now.
    pub current: Option<u64>,
    /// Limit, None when unlimited.
    pub limit: Option<u64>,
}

/// I/O of one device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IoDeviceStats {
    /// Device major.
    pub major: u64,
    /// Device minor.
    pub minor: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Read operations.
    pub read_ops: u64,
    /// Write operations.
    pub write_ops: u64,
}

/// Hugetlb usage of one page size.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HugetlbStats {
    /// Bytes in use.
    pub current: u64,
    /// Peak bytes (v1 only).
    pub peak: Option<u64>,
    /// Limit, None when unlimited.
    pub limit: Option<u64>,
    /// Allocation failures.
    pub failcnt: Option<u64>,
}

/// Every statistic of a cgroup.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Memory.
    pub memory: MemoryStats,
    /// CPU.
    pub cpu: CpuStats,
    /// Pids.
    pub pids: PidsStats,
    /// I/O per device.
    pub io: Vec<IoDeviceStats>,
    /// Hugetlb per page size (`2MB`).
    pub hugetlb: BTreeMap<String, HugetlbStats>,
}

/// Find or add the device entry.
pub fn io_dev(io: &mut Vec<IoDeviceStats>, major: u64, minor: u64) -> &mut IoDeviceStats {
    if let Some(i) = io.iter().position(|d| d.major == major && d.minor == minor) {
        return &mut io[i];
    }
    io.push(IoDeviceStats {
        major,
        minor,
        ..Default::default()
    });
    io.last_mut().unwrap()
}

/// Parse `maj:min`.
pub fn parse_dev(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A limit value where a huge number means unlimited.
pub fn limit(v: Option<u64>) -> Option<u64> {
    v.filter(|x| *x < (i64::MAX as u64) / 2)
}
