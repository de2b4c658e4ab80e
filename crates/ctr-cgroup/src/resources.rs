//! Resource limits: the OCI `linux.resources` object accepted as is, plus
//! friendly spellings (`memory.max: '5m'`, `pids.max`, `cpu.weight`,
//! `cpu.limit: 0.2` cores, `cpuset: { cpus, mems }`).
//!
//! Parsing is by hand from JSON so that each error names the field at
//! fault (`ECGROUP_INVALID_VALUE`, path `memory.limit`).

use crate::units::parse_size;
use crate::Code;
use ctr_common::Error;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Memory limits. Byte values; -1 is unlimited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// Hard limit (v1 `memory.limit_in_bytes`, v2 `memory.max`).
    pub limit: Option<i64>,
    /// Soft limit / protection (v1 `memory.soft_limit_in_bytes`, v2 `memory.low`).
    pub reservation: Option<i64>,
    /// Throttling threshold (v2 `memory.high`; not on v1).
    pub high: Option<i64>,
    /// Memory plus swap, as OCI (v1 `memory.memsw.limit_in_bytes`, v2
    /// `memory.swap.max` = swap - limit).
    pub swap: Option<i64>,
    /// v1 `memory.swappiness`.
    pub swappiness: Option<u64>,
    /// v1 `memory.oom_control` = 1.
    pub disable_oom_killer: Option<bool>,
    /// v2 `memory.oom.group`.
    pub oom_group: Option<bool>,
    /// Kernel memory limit (v1 `memory.kmem.limit_in_bytes`; NOT
    /// RECOMMENDED by the spec: kernels >= 5.16 accept and ignore it).
    pub kernel: Option<i64>,
    /// Kernel TCP buffer limit (v1 `memory.kmem.tcp.limit_in_bytes`).
    pub kernel_tcp: Option<i64>,
}

/// CPU limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cpu {
    /// v1 shares (2..262144); converted to a v2 weight.
    pub shares: Option<u64>,
    /// v2 weight (1..10000); converted to v1 shares.
    pub weight: Option<u64>,
    /// CFS quota in microseconds per period; -1 unlimited.
    pub quota: Option<i64>,
    /// CFS period in microseconds.
    pub period: Option<u64>,
    /// CFS burst in microseconds.
    pub burst: Option<u64>,
    /// SCHED_IDLE for the group (`cpu.idle`).
    pub idle: Option<i64>,
    /// v1 `cpu.rt_runtime_us`.
    pub realtime_runtime: Option<i64>,
    /// v1 `cpu.rt_period_us`.
    pub realtime_period: Option<u64>,
    /// cpuset cpus, e.g. `"0-1,3"`.
    pub cpus: Option<String>,
    /// cpuset memory nodes.
    pub mems: Option<String>,
}

/// A per-device value (`major:minor`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceValue {
    /// Device major.
    pub major: i64,
    /// Device minor.
    pub minor: i64,
    /// Rate (bytes or ops per second) or weight.
    pub value: u64,
}

/// Block I/O.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockIo {
    /// Default weight (v1 10..1000, v2 1..10000; converted).
    pub weight: Option<u64>,
    /// Per-device weights.
    pub weight_device: Vec<DeviceValue>,
    /// Read bytes/s limits.
    pub read_bps: Vec<DeviceValue>,
    /// Write bytes/s limits.
    pub write_bps: Vec<DeviceValue>,
    /// Read ops/s limits.
    pub read_iops: Vec<DeviceValue>,
    /// Write ops/s limits.
    pub write_iops: Vec<DeviceValue>,
}

/// One OCI device rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    /// Allow or deny.
    pub allow: bool,
    /// 'a', 'b' or 'c'.
    pub kind: char,
    /// Major, None for any.
    pub major: Option<i64>,
    /// Minor, None for any.
    pub minor: Option<i64>,
    /// Subset of "rwm".
    pub access: String,
}

impl DeviceRule {
    /// The v1 `devices.allow`/`devices.deny` line, e.g. `c 1:3 rw`.
    pub fn v1_line(&self) -> String {
        let n = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_else(|| "*".into());
        format!(
            "{} {}:{} {}",
            self.kind,
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

/// Everything a cgroup can be limited by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    /// Memory.
    pub memory: Option<Memory>,
    /// CPU and cpuset.
    pub cpu: Option<Cpu>,
    /// Maximum number of tasks (-1 unlimited).
    pub pids: Option<i64>,
    /// Block I/O.
    pub block_io: Option<BlockIo>,
    /// Hugepage limits: (page size as in file names, e.g. `2MB`, bytes).
    pub hugepages: Vec<(String, i64)>,
    /// Device rules in order (later rules win); None leaves devices alone.
    pub devices: Option<Vec<DeviceRule>>,
    /// rdma: device -> (hca_handles, hca_objects).
    pub rdma: BTreeMap<String, (Option<u32>, Option<u32>)>,
    /// misc: resource -> max.
    pub misc: BTreeMap<String, i64>,
    /// Raw v2 files -> value.
    pub unified: BTreeMap<String, String>,
    /// `network`: the v1 net_cls class id and net_prio priorities (cgroup
    /// v2 has neither controller).
    pub network: Option<Network>,
}

/// OCI `linux.resources.network`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    /// `classID`: the `net_cls.classid` tag of the container's packets.
    pub class_id: Option<u32>,
    /// `priorities`: (interface, priority) lines of `net_prio.ifpriomap`.
    pub priorities: Vec<(String, u32)>,
}

impl Network {
    /// Whether it asks for the net_cls controller, and for net_prio.
    pub fn uses(&self) -> (bool, bool) {
        (self.class_id.is_some(), !self.priorities.is_empty())
    }
}

fn invalid(field: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(Code::InvalidValue, format!("{field}: {msg}")).with_field(field.to_string())
}

fn obj<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Error> {
    v.as_object()
        .ok_or_else(|| invalid(field, "must be an object"))
}

fn check_keys(m: &Map<String, Value>, field: &str, known: &[&str]) -> Result<(), Error> {
    for k in m.keys() {
        if !known.contains(&k.as_str()) {
            return Err(
                Error::new(Code::InvalidOption, format!("{field}: unknown key {k:?}"))
                    .with_field(format!("{field}.{k}")),
            );
        }
    }
    Ok(())
}

/// A size: number of bytes or a string with units; -1/"max" unlimited.
fn size(v: &Value, field: &str) -> Result<i64, Error> {
    match v {
        Value::Number(n) => match n.as_i64().or_else(|| whole(n)) {
            Some(x) if x >= -1 => Ok(x),
            _ => Err(invalid(
                field,
                format!("invalid size {n} (must be a non-negative integer or -1)"),
            )),
        },
        Value::String(s) => parse_size(s, field),
        _ => Err(invalid(field, "must be a number or a string like '5m'")),
    }
}

/// A JS number arrives as a float when it is beyond 2^53: accept whole ones.
fn whole(n: &serde_json::Number) -> Option<i64> {
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.is_finite()).then_some(if f >= i64::MAX as f64 {
        i64::MAX
    } else {
        f as i64
    })
}

fn uint(v: &Value, field: &str) -> Result<u64, Error> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| whole(n).filter(|x| *x >= 0).map(|x| x as u64))
            .ok_or_else(|| {
                invalid(
                    field,
                    format!("invalid value {n} (must be a non-negative integer)"),
                )
            }),
        Value::String(s) => s.trim().parse().map_err(|_| {
            invalid(
                field,
                format!("invalid value {s:?} (must be a non-negative integer)"),
            )
        }),
        _ => Err(invalid(field, "must be a non-negative integer")),
    }
}

fn int(v: &Value, field: &str) -> Result<i64, Error> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| whole(n))
            .ok_or_else(|| invalid(field, format!("invalid value {n} (must be an integer)"))),
        Value::String(s) if s == "max" => Ok(-1),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| invalid(field, format!("invalid value {s:?} (must be an integer)"))),
        _ => Err(invalid(field, "must be an integer")),
    }
}

fn boolean(v: &Value, field: &str) -> Result<bool, Error> {
    v.as_bool()
        .ok_or_else(|| invalid(field, "must be a boolean"))
}

fn string(v: &Value, field: &str) -> Result<String, Error> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(invalid(field, "must be a string")),
    }
}

fn cpu_list(v: &Value, field: &str) -> Result<String, Error> {
    let s = string(v, field)?;
    // Checked by ctr-common's one list parser, written as given.
    let ok = ctr_common::cpulist::parse(&s, ctr_common::cpulist::CPUSET);
    match ok {
        Ok(list) if !list.is_empty() => Ok(s.trim().to_string()),
        Ok(_) => Err(invalid(field, "is an empty cpu/node list (e.g. \"0-1,3\")")),
        Err(why) => Err(invalid(field, format!("invalid cpu/node list {why}"))),
    }
}

fn opt<T>(
    m: &Map<String, Value>,
    key: &str,
    field: &str,
    f: impl Fn(&Value, &str) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => f(v, &format!("{field}.{key}")).map(Some),
    }
}

fn first<T>(a: Option<T>, b: Option<T>) -> Option<T> {
    a.or(b)
}

fn parse_memory(v: &Value) -> Result<Memory, Error> {
    let m = obj(v, "memory")?;
    check_keys(
        m,
        "memory",
        &[
            "limit",
            "max",
            "reservation",
            "low",
            "high",
            "swap",
            "swappiness",
            "disableOOMKiller",
            "oomGroup",
            "kernel",
            "kernelTCP",
            "useHierarchy",
            "checkBeforeUpdate",
        ],
    )?;
    let f = "memory";
    let swappiness = opt(m, "swappiness", f, uint)?;
    if let Some(s) = swappiness {
        if s > 100 {
            return Err(invalid(
                "memory.swappiness",
                format!("invalid value {s} (0..100)"),
            ));
        }
    }
    Ok(Memory {
        limit: first(opt(m, "limit", f, size)?, opt(m, "max", f, size)?),
        reservation: first(opt(m, "reservation", f, size)?, opt(m, "low", f, size)?),
        high: opt(m, "high", f, size)?,
        swap: opt(m, "swap", f, size)?,
        swappiness,
        disable_oom_killer: opt(m, "disableOOMKiller", f, boolean)?,
        oom_group: opt(m, "oomGroup", f, boolean)?,
        kernel: opt(m, "kernel", f, size)?,
        kernel_tcp: opt(m, "kernelTCP", f, size)?,
    })
}

fn parse_cpu(v: &Value) -> Result<Cpu, Error> {
    let m = obj(v, "cpu")?;
    check_keys(
        m,
        "cpu",
        &[
            "shares",
            "weight",
            "quota",
            "period",
            "burst",
            "idle",
            "realtimeRuntime",
            "realtimePeriod",
            "cpus",
            "mems",
            "limit",
        ],
    )?;
    let f = "cpu";
    let mut c = Cpu {
        shares: opt(m, "shares", f, uint)?,
        weight: opt(m, "weight", f, uint)?,
        quota: opt(m, "quota", f, int)?,
        period: opt(m, "period", f, uint)?,
        burst: opt(m, "burst", f, uint)?,
        idle: opt(m, "idle", f, int)?,
        realtime_runtime: opt(m, "realtimeRuntime", f, int)?,
        realtime_period: opt(m, "realtimePeriod", f, uint)?,
        cpus: opt(m, "cpus", f, cpu_list)?,
        mems: opt(m, "mems", f, cpu_list)?,
    };
    if let Some(q) = c.quota {
        if q < -1 || q == 0 {
            return Err(invalid(
                "cpu.quota",
                format!("invalid value {q} (microseconds > 0, or -1)"),
            ));
        }
    }
    if let Some(w) = c.weight {
        if !(1..=10000).contains(&w) {
            return Err(invalid(
                "cpu.weight",
                format!("invalid value {w} (1..10000)"),
            ));
        }
    }
    if let Some(limit) = m.get("limit").filter(|v| !v.is_null()) {
        // Friendly: fraction of one cpu (0.2 = 20%), with the default period.
        let cores = limit
            .as_f64()
            .filter(|x| *x > 0.0 && x.is_finite())
            .ok_or_else(|| {
                invalid(
                    "cpu.limit",
                    "must be a positive number of cpus (0.2 = 20% of one cpu)",
                )
            })?;
        let period = c.period.unwrap_or(100_000);
        c.period = Some(period);
        c.quota = Some(((cores * period as f64).round() as i64).max(1000));
    }
    Ok(c)
}

fn parse_device_values(v: &Value, field: &str, key: &str) -> Result<Vec<DeviceValue>, Error> {
    let arr = v
        .as_array()
        .ok_or_else(|| invalid(field, "must be an array"))?;
    arr.iter()
        .enumerate()
        .map(|(i, d)| {
            let f = format!("{field}[{i}]");
            let m = obj(d, &f)?;
            let major = m
                .get("major")
                .map(|x| int(x, &format!("{f}.major")))
                .transpose()?
                .ok_or_else(|| invalid(&f, "major is required"))?;
            let minor = m
                .get("minor")
                .map(|x| int(x, &format!("{f}.minor")))
                .transpose()?
                .ok_or_else(|| invalid(&f, "minor is required"))?;
            let value = match m
                .get(key)
                .map(|x| uint(x, &format!("{f}.{key}")))
                .transpose()?
            {
                Some(v) => v,
                // OCI weightDevice entries may carry only a leafWeight (unused by current kernels).
                None if key == "weight" => return Ok(None),
                None => return Err(invalid(&f, format!("{key} is required"))),
            };
            if major < 0 || minor < 0 {
                return Err(invalid(&f, "major and minor must be non-negative"));
            }
            Ok(Some(DeviceValue {
                major,
                minor,
                value,
            }))
        })
        .filter_map(|r| r.transpose())
        .collect()
}

fn parse_block_io(v: &Value) -> Result<BlockIo, Error> {
    let m = obj(v, "blockIO")?;
    check_keys(
        m,
        "blockIO",
        &[
            "weight",
            "leafWeight",
            "weightDevice",
            "throttleReadBpsDevice",
            "throttleWriteBpsDevice",
            "throttleReadIOPSDevice",
            "throttleWriteIOPSDevice",
        ],
    )?;
    let f = "blockIO";
    let list = |key: &str, val: &str| -> Result<Vec<DeviceValue>, Error> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(v) => parse_device_values(v, &format!("{f}.{key}"), val),
        }
    };
    Ok(BlockIo {
        weight: opt(m, "weight", f, uint)?,
        weight_device: list("weightDevice", "weight")?,
        read_bps: list("throttleReadBpsDevice", "rate")?,
        write_bps: list("throttleWriteBpsDevice", "rate")?,
        read_iops: list("throttleReadIOPSDevice", "rate")?,
        write_iops: list("throttleWriteIOPSDevice", "rate")?,
    })
}

fn parse_devices(v: &Value) -> Result<Vec<DeviceRule>, Error> {
    let arr = v
        .as_array()
        .ok_or_else(|| invalid("devices", "must be an array"))?;
    arr.iter()
        .enumerate()
        .map(|(i, d)| {
            let f = format!("devices[{i}]");
            let m = obj(d, &f)?;
            check_keys(m, &f, &["allow", "type", "major", "minor", "access"])?;
            let allow = m
                .get("allow")
                .map(|x| boolean(x, &format!("{f}.allow")))
                .transpose()?
                .ok_or_else(|| invalid(&f, "allow is required"))?;
            let kind = match m.get("type").and_then(|t| t.as_str()).unwrap_or("a") {
                "a" => 'a',
                "b" => 'b',
                "c" | "u" => 'c',
                t => {
                    return Err(invalid(
                        &format!("{f}.type"),
                        format!("invalid device type {t:?} (a, b or c)"),
                    ))
                }
            };
            let num = |k: &str| -> Result<Option<i64>, Error> {
                match m.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(x) => {
                        let n = int(x, &format!("{f}.{k}"))?;
                        Ok(if n < 0 { None } else { Some(n) })
                    }
                }
            };
            let access = m
                .get("access")
                .and_then(|a| a.as_str())
                .unwrap_or("rwm")
                .to_string();
            if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
                return Err(invalid(
                    &format!("{f}.access"),
                    format!("invalid access {access:?} (subset of rwm)"),
                ));
            }
            Ok(DeviceRule {
                allow,
                kind,
                major: num("major")?,
                minor: num("minor")?,
                access,
            })
        })
        .collect()
}

/// Parse a resources object (OCI `linux.resources` or friendly).
pub fn parse(v: &Value) -> Result<Resources, Error> {
    if v.is_null() {
        return Ok(Resources::default());
    }
    let m = obj(v, "resources")?;
    check_keys(
        m,
        "resources",
        &[
            "memory",
            "cpu",
            "cpuset",
            "pids",
            "blockIO",
            "io",
            "hugepageLimits",
            "devices",
            "rdma",
            "misc",
            "unified",
            "network",
            "oomScoreAdj",
        ],
    )?;
    let mut r = Resources::default();
    if let Some(x) = m.get("memory").filter(|v| !v.is_null()) {
        r.memory = Some(parse_memory(x)?);
    }
    if let Some(x) = m.get("cpu").filter(|v| !v.is_null()) {
        r.cpu = Some(parse_cpu(x)?);
    }
    if let Some(x) = m.get("cpuset").filter(|v| !v.is_null()) {
        let cs = obj(x, "cpuset")?;
        check_keys(cs, "cpuset", &["cpus", "mems"])?;
        let c = r.cpu.get_or_insert_with(Cpu::default);
        if let Some(v) = opt(cs, "cpus", "cpuset", cpu_list)? {
            c.cpus = Some(v);
        }
        if let Some(v) = opt(cs, "mems", "cpuset", cpu_list)? {
            c.mems = Some(v);
        }
    }
    if let Some(x) = m.get("pids").filter(|v| !v.is_null()) {
        let p = obj(x, "pids")?;
        check_keys(p, "pids", &["limit", "max"])?;
        let lim = first(opt(p, "limit", "pids", int)?, opt(p, "max", "pids", int)?);
        if let Some(l) = lim {
            if l < -1 {
                return Err(invalid(
                    "pids.limit",
                    format!("invalid value {l} (>= 0, or -1 for max)"),
                ));
            }
            // OCI: 0 or -1 means unlimited.
            r.pids = Some(if l == 0 { -1 } else { l });
        }
    }
    if let Some(x) = m
        .get("blockIO")
        .or_else(|| m.get("io"))
        .filter(|v| !v.is_null())
    {
        r.block_io = Some(parse_block_io(x)?);
    }
    if let Some(x) = m.get("hugepageLimits").filter(|v| !v.is_null()) {
        let arr = x
            .as_array()
            .ok_or_else(|| invalid("hugepageLimits", "must be an array"))?;
        for (i, h) in arr.iter().enumerate() {
            let f = format!("hugepageLimits[{i}]");
            let hm = obj(h, &f)?;
            let ps = hm
                .get("pageSize")
                .and_then(|p| p.as_str())
                .ok_or_else(|| invalid(&f, "pageSize is required (e.g. \"2MB\")"))?;
            if !ps.ends_with('B') || ps.contains('/') {
                return Err(invalid(
                    &format!("{f}.pageSize"),
                    format!("invalid page size {ps:?} (e.g. \"2MB\")"),
                ));
            }
            let limit = hm
                .get("limit")
                .map(|l| size(l, &format!("{f}.limit")))
                .transpose()?
                .ok_or_else(|| invalid(&f, "limit is required"))?;
            r.hugepages.push((ps.to_string(), limit));
        }
    }
    if let Some(x) = m.get("devices").filter(|v| !v.is_null()) {
        r.devices = Some(parse_devices(x)?);
    }
    if let Some(x) = m.get("rdma").filter(|v| !v.is_null()) {
        for (dev, lim) in obj(x, "rdma")? {
            let f = format!("rdma.{dev}");
            let lm = obj(lim, &f)?;
            let h = opt(lm, "hcaHandles", &f, uint)?.map(|v| v as u32);
            let o = opt(lm, "hcaObjects", &f, uint)?.map(|v| v as u32);
            r.rdma.insert(dev.clone(), (h, o));
        }
    }
    if let Some(x) = m.get("misc").filter(|v| !v.is_null()) {
        for (k, v) in obj(x, "misc")? {
            r.misc.insert(k.clone(), int(v, &format!("misc.{k}"))?);
        }
    }
    if let Some(x) = m.get("network").filter(|v| !v.is_null()) {
        r.network = parse_network(x)?;
    }
    if let Some(x) = m.get("unified").filter(|v| !v.is_null()) {
        for (k, v) in obj(x, "unified")? {
            if k.contains('/') || k.starts_with('.') || k.is_empty() {
                return Err(invalid(&format!("unified.{k}"), "invalid file name"));
            }
            r.unified
                .insert(k.clone(), string(v, &format!("unified.{k}"))?);
        }
    }
    Ok(r)
}

fn parse_network(x: &Value) -> Result<Option<Network>, Error> {
    let n = obj(x, "network")?;
    check_keys(n, "network", &["classID", "priorities"])?;
    let class_id = opt(n, "classID", "network", uint)?;
    if class_id.is_some_and(|c| c > u32::MAX as u64) {
        return Err(invalid("network.classID", "must fit in 32 bits"));
    }
    let mut net = Network {
        class_id: class_id.map(|v| v as u32),
        ..Default::default()
    };
    if let Some(p) = n.get("priorities").filter(|v| !v.is_null()) {
        let arr = p
            .as_array()
            .ok_or_else(|| invalid("network.priorities", "must be an array"))?;
        for (i, e) in arr.iter().enumerate() {
            let f = format!("network.priorities[{i}]");
            let em = obj(e, &f)?;
            check_keys(em, &f, &["name", "priority"])?;
            let name = em
                .get("name")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty());
            let name =
                name.ok_or_else(|| invalid(&format!("{f}.name"), "an interface name is required"))?;
            if name.contains(char::is_whitespace) || name.len() > 15 {
                return Err(invalid(
                    &format!("{f}.name"),
                    format!("{name:?} is not an interface name"),
                ));
            }
            let prio = opt(em, "priority", &f, uint)?
                .ok_or_else(|| invalid(&format!("{f}.priority"), "is required"))?;
            net.priorities.push((name.to_string(), prio as u32));
        }
    }
    Ok(Some(net).filter(|n| *n != Network::default()))
}

/// v1 cpu.shares -> v2 cpu.weight, as runc and crun 1.8 convert.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let s = shares.clamp(2, 262144);
    1 + ((s - 2) * 9999) / 262142
}

/// v2 cpu.weight -> v1 cpu.shares (the inverse of [`shares_to_weight`]).
pub fn weight_to_shares(weight: u64) -> u64 {
    let w = weight.clamp(1, 10000);
    2 + ((w - 1) * 262142) / 9999
}

/// v1 blkio weight (10..1000) -> v2 io.weight (1..10000), as runc.
pub fn blkio_weight_to_io(w: u64) -> u64 {
    if w == 0 {
        return 0;
    }
    1 + (w.saturating_sub(10)) * 9999 / 990
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oci_shape_as_is() {
        let r = parse(&json!({
            "memory": { "limit": 5000000, "reservation": 1000, "swap": 10000000, "swappiness": 10, "disableOOMKiller": false },
            "cpu": { "shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0", "realtimeRuntime": 0 },
            "pids": { "limit": 10 },
            "blockIO": { "weight": 500, "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 1048576 }] },
            "hugepageLimits": [{ "pageSize": "2MB", "limit": 0 }],
            "devices": [{ "allow": false, "access": "rwm" }, { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw" }],
            "unified": { "memory.oom.group": "1" }
        }))
        .unwrap();
        let m = r.memory.unwrap();
        assert_eq!(m.limit, Some(5_000_000));
        assert_eq!(m.swap, Some(10_000_000));
        let c = r.cpu.unwrap();
        assert_eq!(
            (c.shares, c.quota, c.period),
            (Some(512), Some(20000), Some(100000))
        );
        assert_eq!(r.pids, Some(10));
        assert_eq!(
            r.block_io.unwrap().read_bps[0],
            DeviceValue {
                major: 8,
                minor: 0,
                value: 1048576
            }
        );
        assert_eq!(r.hugepages, vec![("2MB".to_string(), 0)]);
        let d = r.devices.unwrap();
        assert_eq!(d[0].v1_line(), "a *:* rwm");
        assert_eq!(d[1].v1_line(), "c 1:3 rw");
        assert_eq!(r.unified["memory.oom.group"], "1");
    }

    #[test]
    fn friendly_units() {
        let r = parse(&json!({ "memory": { "max": "5m", "high": "1.5g", "low": "512k" }, "pids": { "max": "max" }, "cpu": { "limit": 0.2 } })).unwrap();
        let m = r.memory.unwrap();
        assert_eq!(m.limit, Some(5 << 20));
        assert_eq!(m.high, Some(1536 << 20));
        assert_eq!(m.reservation, Some(512 << 10));
        assert_eq!(r.pids, Some(-1));
        let c = r.cpu.unwrap();
        assert_eq!((c.quota, c.period), (Some(20000), Some(100000)));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!({ "memory": { "limit": -5 } }),
                "memory.limit",
                Code::InvalidValue.as_str(),
            ),
            (
                json!({ "memory": { "max": "5q" } }),
                "memory.max",
                Code::InvalidValue.as_str(),
            ),
            (
                json!({ "pids": { "limit": -2 } }),
                "pids.limit",
                Code::InvalidValue.as_str(),
            ),
            (
                json!({ "cpu": { "cpus": "a-b" } }),
                "cpu.cpus",
                Code::InvalidValue.as_str(),
            ),
            (
                json!({ "bogus": {} }),
                "resources.bogus",
                Code::InvalidOption.as_str(),
            ),
            (
                json!({ "devices": [{ "allow": true, "access": "x" }] }),
                "devices[0].access",
                Code::InvalidValue.as_str(),
            ),
            (
                json!({ "unified": { "../x": "1" } }),
                "unified.../x",
                Code::InvalidValue.as_str(),
            ),
        ];
        for (v, field, code) in cases {
            let e = parse(&v).unwrap_err();
            assert_eq!(e.code, code, "{v}");
            assert_eq!(e.path.as_deref(), Some(field), "{v}");
        }
    }

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262144), 10000);
        assert_eq!(weight_to_shares(10000), 262144);
        assert_eq!(weight_to_shares(1), 2);
        assert_eq!(blkio_weight_to_io(10), 1);
        assert_eq!(blkio_weight_to_io(1000), 10000);
    }
}
