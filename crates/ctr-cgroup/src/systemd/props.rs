//! [`Resources`] as the properties of a transient scope, as runc's
//! `libcontainer/cgroups/systemd` sets them. What systemd cannot say (or
//! this systemd is too old for) is left to the cgroup files, which the
//! driver writes after the unit started anyway (runc does the same, so the
//! files hold the exact values).

use crate::resources::{shares_to_weight, Resources};

/// A D-Bus value of a unit property (the few types systemd's resource
/// properties use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `b`
    Bool(bool),
    /// `t`
    U64(u64),
    /// `s`
    Str(String),
    /// `au`
    U32s(Vec<u32>),
    /// `ay`
    Bytes(Vec<u8>),
}

/// One `(name, value)` pair of StartTransientUnit's `a(sv)`.
pub type Property = (String, Value);

/// systemd's `infinity` for `t` properties (USEC_INFINITY, CGROUP_LIMIT_MAX).
pub const INFINITY: u64 = u64::MAX;

fn limit(v: i64) -> u64 {
    if v < 0 {
        INFINITY
    } else {
        v as u64
    }
}

/// The properties of the scope `description` in `slice` holding `pids`,
/// with `r` as far as `version` (systemd's) can express it.
pub fn scope_properties(
    description: &str,
    slice: &str,
    pids: &[u32],
    r: &Resources,
    version: u32,
) -> Vec<Property> {
    let mut p: Vec<Property> = vec![
        ("Description".into(), Value::Str(description.into())),
        ("Slice".into(), Value::Str(slice.into())),
        ("PIDs".into(), Value::U32s(pids.to_vec())),
        // The runtime manages the subtree (a container may make cgroups).
        ("Delegate".into(), Value::Bool(true)),
        // No ordering against shutdown.target and friends: the scope is
        // stopped by `delete`, not by a dependency.
        ("DefaultDependencies".into(), Value::Bool(false)),
        ("MemoryAccounting".into(), Value::Bool(true)),
        ("CPUAccounting".into(), Value::Bool(true)),
        ("IOAccounting".into(), Value::Bool(true)),
        ("TasksAccounting".into(), Value::Bool(true)),
    ];
    let mut put = |name: &str, v: Value| p.push((name.to_string(), v));
    if let Some(m) = &r.memory {
        if let Some(v) = m.limit {
            put("MemoryMax", Value::U64(limit(v)));
        }
        if let Some(v) = m.reservation {
            put("MemoryLow", Value::U64(limit(v)));
        }
        if let Some(v) = m.high {
            put("MemoryHigh", Value::U64(limit(v)));
        }
        // OCI's swap is memory + swap; systemd's MemorySwapMax is swap alone.
        match (m.swap, m.limit) {
            (Some(-1), _) => put("MemorySwapMax", Value::U64(INFINITY)),
            (Some(s), Some(l)) if l > 0 && s >= l => {
                put("MemorySwapMax", Value::U64((s - l) as u64))
            }
            _ => {}
        }
    }
    if let Some(c) = &r.cpu {
        if let Some(w) = c.weight.or(c.shares.map(shares_to_weight)) {
            put("CPUWeight", Value::U64(w));
        }
        let quota = c.quota.unwrap_or(0);
        let period = c.period.unwrap_or(0);
        if quota != 0 || period != 0 {
            let mut per_sec = INFINITY;
            if quota > 0 {
                let period = if period == 0 { 100_000 } else { period };
                per_sec = (quota as u64).saturating_mul(1_000_000) / period;
                // systemd keeps CPUQuotaPerSecUSec in 10 ms steps: round up,
                // never giving less than asked (the file gets the exact value).
                if !per_sec.is_multiple_of(10_000) {
                    per_sec = (per_sec / 10_000 + 1) * 10_000;
                }
            }
            put("CPUQuotaPerSecUSec", Value::U64(per_sec));
            if period != 0 && version >= 242 {
                put("CPUQuotaPeriodUSec", Value::U64(period));
            }
        }
        if version >= 244 {
            if let Some(m) = c.cpus.as_deref().and_then(bitmask) {
                put("AllowedCPUs", Value::Bytes(m));
            }
            if let Some(m) = c.mems.as_deref().and_then(bitmask) {
                put("AllowedMemoryNodes", Value::Bytes(m));
            }
        }
    }
    if let Some(n) = r.pids {
        put(
            "TasksMax",
            Value::U64(if n <= 0 { INFINITY } else { n as u64 }),
        );
    }
    p
}

/// A cpuset list (`0-2,7`) as systemd's byte mask: bit `n % 8` of byte
/// `n / 8` for cpu `n`. None for a list that does not parse (the cgroup
/// file write then reports it, naming the file).
pub fn bitmask(list: &str) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    for n in ctr_common::cpulist::parse(list, ctr_common::cpulist::CPUSET).ok()? {
        let n = n as usize;
        if out.len() <= n / 8 {
            out.resize(n / 8 + 1, 0);
        }
        out[n / 8] |= 1 << (n % 8);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    fn find<'a>(p: &'a [Property], name: &str) -> Option<&'a Value> {
        p.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    #[test]
    fn limits_become_properties() {
        let r = parse(&json!({
            "memory": { "limit": 5242880, "swap": 10485760 },
            "cpu": { "shares": 1024, "quota": 25000, "period": 100000, "cpus": "0-1,3", "mems": "0" },
            "pids": { "limit": 32 }
        }))
        .unwrap();
        let p = scope_properties("ctrun container x", "system.slice", &[42], &r, 252);
        assert_eq!(find(&p, "PIDs"), Some(&Value::U32s(vec![42])));
        assert_eq!(find(&p, "Delegate"), Some(&Value::Bool(true)));
        assert_eq!(find(&p, "DefaultDependencies"), Some(&Value::Bool(false)));
        assert_eq!(find(&p, "MemoryMax"), Some(&Value::U64(5242880)));
        assert_eq!(find(&p, "MemorySwapMax"), Some(&Value::U64(5242880)));
        assert_eq!(
            find(&p, "CPUWeight"),
            Some(&Value::U64(shares_to_weight(1024)))
        );
        assert_eq!(find(&p, "CPUQuotaPerSecUSec"), Some(&Value::U64(250_000)));
        assert_eq!(find(&p, "CPUQuotaPeriodUSec"), Some(&Value::U64(100_000)));
        assert_eq!(find(&p, "TasksMax"), Some(&Value::U64(32)));
        assert_eq!(find(&p, "AllowedCPUs"), Some(&Value::Bytes(vec![0b1011])));
        assert_eq!(find(&p, "AllowedMemoryNodes"), Some(&Value::Bytes(vec![1])));
    }

    #[test]
    fn unlimited_and_rounding() {
        let r = parse(&json!({ "memory": { "limit": -1 }, "cpu": { "quota": 12345 }, "pids": { "limit": -1 } })).unwrap();
        let p = scope_properties("d", "s.slice", &[1], &r, 252);
        assert_eq!(find(&p, "MemoryMax"), Some(&Value::U64(INFINITY)));
        assert_eq!(find(&p, "TasksMax"), Some(&Value::U64(INFINITY)));
        // 123450 us per second, rounded up to systemd's 10 ms steps
        assert_eq!(find(&p, "CPUQuotaPerSecUSec"), Some(&Value::U64(130_000)));
        assert_eq!(find(&p, "CPUQuotaPeriodUSec"), None);
    }

    #[test]
    fn old_systemd_gets_what_it_knows() {
        let r = parse(&json!({ "cpu": { "cpus": "0", "period": 50000, "quota": 50000 } })).unwrap();
        let p = scope_properties("d", "s.slice", &[1], &r, 239);
        assert_eq!(find(&p, "AllowedCPUs"), None);
        assert_eq!(find(&p, "CPUQuotaPeriodUSec"), None);
        assert_eq!(find(&p, "CPUQuotaPerSecUSec"), Some(&Value::U64(1_000_000)));
    }

    #[test]
    fn bitmasks() {
        assert_eq!(bitmask("0"), Some(vec![1]));
        assert_eq!(bitmask("8-9"), Some(vec![0, 3]));
        assert_eq!(bitmask(""), Some(vec![]));
        assert_eq!(bitmask("3-1"), None);
        assert_eq!(bitmask("x"), None);
    }
}
