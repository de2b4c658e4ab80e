//! `update`: change the resource limits of a container's cgroup through
//! @ctr/cgroup (`Cgroup::update`), from an OCI `linux.resources` object
//! (`--resources FILE|-`) or runc's flags. Only what is given changes.
//! As in runc, device rules are not updated (they are skipped).

use crate::state::{live_status, Status, Store};
use crate::Code;
use ctr_common::{Error, Result};

/// runc's `update` flags (each `None` leaves the value alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateFlags {
    /// `--memory` (bytes, units like `64m`, or -1).
    pub memory: Option<String>,
    /// `--memory-reservation`.
    pub memory_reservation: Option<String>,
    /// `--memory-swap` (memory + swap).
    pub memory_swap: Option<String>,
    /// `--cpu-share(s)`.
    pub cpu_shares: Option<u64>,
    /// `--cpu-quota` (microseconds, -1 unlimited).
    pub cpu_quota: Option<i64>,
    /// `--cpu-period` (microseconds).
    pub cpu_period: Option<u64>,
    /// `--cpu-burst` (microseconds).
    pub cpu_burst: Option<u64>,
    /// `--cpu-rt-period`.
    pub cpu_rt_period: Option<u64>,
    /// `--cpu-rt-runtime`.
    pub cpu_rt_runtime: Option<i64>,
    /// `--cpu-idle`.
    pub cpu_idle: Option<i64>,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`.
    pub cpuset_mems: Option<String>,
    /// `--pids-limit` (-1 unlimited).
    pub pids_limit: Option<i64>,
    /// `--blkio-weight`.
    pub blkio_weight: Option<u64>,
}

impl UpdateFlags {
    /// The flags as an OCI `linux.resources` object.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let mut mem = Map::new();
        let size = |s: &String| -> Value {
            s.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(s.clone()))
        };
        if let Some(v) = &self.memory {
            mem.insert("limit".into(), size(v));
        }
        if let Some(v) = &self.memory_reservation {
            mem.insert("reservation".into(), size(v));
        }
        if let Some(v) = &self.memory_swap {
            mem.insert("swap".into(), size(v));
        }
        let mut cpu = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                cpu.insert(k.into(), v);
            }
        };
        put("shares", self.cpu_shares.map(Value::from));
        put("quota", self.cpu_quota.map(Value::from));
        put("period", self.cpu_period.map(Value::from));
        put("burst", self.cpu_burst.map(Value::from));
        put("realtimePeriod", self.cpu_rt_period.map(Value::from));
        put("realtimeRuntime", self.cpu_rt_runtime.map(Value::from));
        put("idle", self.cpu_idle.map(Value::from));
        put("cpus", self.cpuset_cpus.clone().map(Value::from));
        put("mems", self.cpuset_mems.clone().map(Value::from));
        let mut out = Map::new();
        if !mem.is_empty() {
            out.insert("memory".into(), Value::Object(mem));
        }
        if !cpu.is_empty() {
            out.insert("cpu".into(), Value::Object(cpu));
        }
        if let Some(p) = self.pids_limit {
            out.insert("pids".into(), json!({ "limit": p }));
        }
        if let Some(w) = self.blkio_weight {
            out.insert("blockIO".into(), json!({ "weight": w }));
        }
        Value::Object(out)
    }
}

/// Parse a resources object (OCI `linux.resources`, as `runc update
/// --resources` reads it) into @ctr/cgroup's resources, device rules
/// dropped. Errors name the field under `resources`.
pub fn parse_resources(v: &serde_json::Value) -> Result<ctr_cgroup::Resources> {
    let mut r = ctr_cgroup::resources::parse(v)?;
    r.devices = None;
    Ok(r)
}

/// Apply `resources` (a `linux.resources` object) to container `id`'s
/// cgroup. The container must not be stopped.
pub fn update(store: &Store, id: &str, resources: &serde_json::Value) -> Result<()> {
    let r = parse_resources(resources)?;
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    if live_status(&locked.dir, &saved) == Status::Stopped {
        return Err(Error::new(
            Code::NotRunning,
            format!("cannot update container {id:?}: it is not running"),
        ));
    }
    let p = saved
        .cgroup_path
        .as_deref()
        .ok_or_else(|| Error::new(Code::NoCgroup, format!("container {id:?} has no cgroup")))?;
    let cg = ctr_cgroup::Cgroup::open(p, &crate::plan::cgroup_options(&saved))?;
    check_memory_usage(&cg, resources, &r)?;
    cg.update(&r)
}

/// With `memory.checkBeforeUpdate: true` and a memory limit (not -1) in
/// `resources`, [`check_limit`] against the cgroup's current usage.
pub fn check_memory_usage(
    cg: &ctr_cgroup::Cgroup,
    resources: &serde_json::Value,
    r: &ctr_cgroup::Resources,
) -> Result<()> {
    if !check_before_update(resources) {
        return Ok(());
    }
    match r.memory.as_ref().and_then(|m| m.limit).filter(|l| *l >= 0) {
        Some(limit) => check_limit(limit, cg.stats()?.memory.current),
        None => Ok(()),
    }
}

/// `memory.checkBeforeUpdate: true` in a resources object.
pub fn check_before_update(resources: &serde_json::Value) -> bool {
    resources
        .get("memory")
        .and_then(|m| m.get("checkBeforeUpdate"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The check of `memory.checkBeforeUpdate` (runtime-spec 1.3): a new memory
/// limit lower than the cgroup's current usage (v1 `memory.usage_in_bytes`,
/// v2 `memory.current`) is refused instead of written. On v1 the kernel
/// would refuse it too (EBUSY, after trying to reclaim); on v2 it would
/// OOM-kill the container, which this check exists to avoid. No usage
/// figure (no memory controller) is a refusal too: the check cannot be made.
pub fn check_limit(limit: i64, usage: Option<u64>) -> Result<()> {
    let Some(usage) = usage else {
        return Err(Error::new(
            Code::MemoryUsage,
            "memory.checkBeforeUpdate: the cgroup reports no memory usage (no memory controller), the new limit cannot be checked",
        )
        .with_field("memory.checkBeforeUpdate"));
    };
    if (limit as u64) < usage {
        return Err(Error::new(
            Code::MemoryBelowUsage,
            format!("memory.limit: cannot set memory limit {limit} lower than current usage {usage} (checkBeforeUpdate)"),
        )
        .with_field("memory.limit")
        .with_errno(libc::EBUSY));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_oci_resources() {
        let f = UpdateFlags {
            memory: Some("64m".into()),
            memory_swap: Some("-1".into()),
            cpu_shares: Some(512),
            cpu_quota: Some(50000),
            cpuset_cpus: Some("0".into()),
            pids_limit: Some(20),
            ..Default::default()
        };
        let v = f.to_json();
        assert_eq!(v["memory"]["limit"], "64m");
        assert_eq!(v["memory"]["swap"], -1);
        assert_eq!(v["cpu"]["shares"], 512);
        assert_eq!(v["pids"]["limit"], 20);
        let r = parse_resources(&v).unwrap();
        assert_eq!(r.memory.unwrap().limit, Some(64 << 20));
        assert_eq!(r.pids, Some(20));
        let cpu = r.cpu.unwrap();
        assert_eq!(
            (cpu.shares, cpu.quota, cpu.cpus.as_deref()),
            (Some(512), Some(50000), Some("0"))
        );
        assert_eq!(UpdateFlags::default().to_json(), serde_json::json!({}));
    }

    #[test]
    fn check_before_update_refuses_a_limit_below_usage() {
        assert!(check_before_update(
            &serde_json::json!({"memory":{"limit":1,"checkBeforeUpdate":true}})
        ));
        assert!(!check_before_update(
            &serde_json::json!({"memory":{"limit":1,"checkBeforeUpdate":false}})
        ));
        assert!(!check_before_update(
            &serde_json::json!({"memory":{"limit":1}})
        ));
        assert!(check_limit(1 << 20, Some(1 << 19)).is_ok());
        assert!(
            check_limit(1 << 20, Some(1 << 20)).is_ok(),
            "equal to usage is allowed"
        );
        let e = check_limit(4096, Some(1 << 20)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref(), e.errno),
            (
                Code::MemoryBelowUsage.as_str(),
                Some("memory.limit"),
                Some(libc::EBUSY)
            )
        );
        assert!(
            e.message.contains("lower than current usage"),
            "{}",
            e.message
        );
        assert_eq!(
            check_limit(4096, None).unwrap_err().code,
            Code::MemoryUsage.as_str()
        );
    }

    /// A cgroup v2 hierarchy in a temp dir holding one cgroup whose
    /// `memory.current` says 1 MiB: the usage v2 hosts report.
    #[test]
    fn check_before_update_reads_memory_current_on_v2() {
        let dir = tempfile::tempdir().unwrap();
        let cg_dir = dir.path().join("ctrtest-spec13");
        std::fs::create_dir(&cg_dir).unwrap();
        std::fs::write(cg_dir.join("memory.current"), "1048576\n").unwrap();
        std::fs::write(cg_dir.join("memory.max"), "max\n").unwrap();
        std::fs::write(cg_dir.join("cgroup.procs"), "").unwrap();
        let layout = ctr_cgroup::Layout {
            mode: ctr_cgroup::Mode::Unified,
            hierarchies: vec![ctr_cgroup::Hierarchy {
                version: 2,
                mount_point: dir.path().to_string_lossy().into_owned(),
                controllers: vec!["memory".into()],
                own_path: "/".into(),
                delegated: false,
            }],
            cgroup_namespace: None,
        };
        let cg = ctr_cgroup::Cgroup::open_on(
            &layout,
            "/ctrtest-spec13",
            &ctr_cgroup::Options::relative_to_own_cgroup(),
        )
        .unwrap();
        let low = serde_json::json!({"memory":{"limit":4096,"checkBeforeUpdate":true}});
        let e = check_memory_usage(&cg, &low, &parse_resources(&low).unwrap()).unwrap_err();
        assert_eq!(e.code, Code::MemoryBelowUsage.as_str());
        assert!(e.message.contains("current usage 1048576"), "{}", e.message);
        let high = serde_json::json!({"memory":{"limit":2097152,"checkBeforeUpdate":true}});
        check_memory_usage(&cg, &high, &parse_resources(&high).unwrap()).unwrap();
        let unchecked = serde_json::json!({"memory":{"limit":4096}});
        check_memory_usage(&cg, &unchecked, &parse_resources(&unchecked).unwrap()).unwrap();
        let unlimited = serde_json::json!({"memory":{"limit":-1,"checkBeforeUpdate":true}});
        check_memory_usage(&cg, &unlimited, &parse_resources(&unlimited).unwrap()).unwrap();
    }

    #[test]
    fn devices_are_skipped_and_bad_values_named() {
        let v = serde_json::json!({"devices":[{"allow":false,"access":"rwm"}],"pids":{"limit":5}});
        let r = parse_resources(&v).unwrap();
        assert!(r.devices.is_none());
        let e = parse_resources(&serde_json::json!({"memory":{"limit":"lots"}})).unwrap_err();
        assert!(e.code.starts_with("ECGROUP_"), "{e:?}");
        assert!(e.path.unwrap_or_default().contains("memory.limit"));
    }
}
