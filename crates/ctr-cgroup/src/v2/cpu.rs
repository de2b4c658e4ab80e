//! v2 cpu controller (weight, max, burst, idle) and cpu.stat.

use crate::fsx::{keyed, read, read_opt, write};
use crate::resources::{shares_to_weight, Resources};
use crate::stats::Stats;
use crate::Code;
use ctr_common::Error;
use std::path::Path;

/// Apply cpu limits.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(c) = &r.cpu else { return Ok(()) };
    if c.realtime_runtime.is_some_and(|v| v != 0) || c.realtime_period.is_some_and(|v| v != 0) {
        return Err(Error::new(
            Code::Unsupported,
            "cpu.realtimeRuntime: realtime scheduling limits are cgroup v1 only",
        )
        .with_field("cpu.realtimeRuntime"));
    }
    if let Some(w) = c.weight.or(c.shares.map(shares_to_weight)) {
        if w > 0 {
            write(dir, "cpu.weight", &w.to_string())?;
        }
    }
    if c.quota.is_some() || c.period.is_some() {
        // Keep whichever half was not given.
        let cur = read(dir, "cpu.max").unwrap_or_else(|_| "max 100000".into());
        let mut it = cur.split_whitespace();
        let (cq, cp) = (
            it.next().unwrap_or("max").to_string(),
            it.next().unwrap_or("100000").to_string(),
        );
        let q = match c.quota {
            Some(q) if q < 0 => "max".to_string(),
            Some(q) => q.to_string(),
            None => cq,
        };
        let p = c.period.map(|p| p.to_string()).unwrap_or(cp);
        write(dir, "cpu.max", &format!("{q} {p}"))?;
    }
    if let Some(b) = c.burst {
        write(dir, "cpu.max.burst", &b.to_string())?;
    }
    if let Some(i) = c.idle {
        write(dir, "cpu.idle", &i.to_string())?;
    }
    Ok(())
}

/// cpu.stat (present on every v2 cgroup, even without the cpu controller).
pub fn stats(dir: &Path, s: &mut Stats) {
    if let Some(st) = read_opt(dir, "cpu.stat") {
        s.cpu.usage_usec = keyed(&st, "usage_usec");
        s.cpu.user_usec = keyed(&st, "user_usec");
        s.cpu.system_usec = keyed(&st, "system_usec");
        s.cpu.nr_periods = keyed(&st, "nr_periods");
        s.cpu.nr_throttled = keyed(&st, "nr_throttled");
        s.cpu.throttled_usec = keyed(&st, "throttled_usec");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn writes_and_reads() {
        let d = tempfile::tempdir().unwrap();
        fixture(d.path(), &[("cpu.weight", ""), ("cpu.max", "max 100000\n"), ("cpu.max.burst", ""), ("cpu.idle", ""),
            ("cpu.stat", "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 3\nnr_throttled 2\nthrottled_usec 9\n")]);
        apply(
            d.path(),
            &parse(&json!({ "cpu": { "shares": 1024, "quota": 20000 } })).unwrap(),
        )
        .unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
        assert_eq!(rd("cpu.weight"), "39");
        assert_eq!(rd("cpu.max"), "20000 100000");
        apply(
            d.path(),
            &parse(&json!({ "cpu": { "period": 50000 } })).unwrap(),
        )
        .unwrap();
        assert_eq!(rd("cpu.max"), "20000 50000");
        apply(
            d.path(),
            &parse(&json!({ "cpu": { "quota": -1 } })).unwrap(),
        )
        .unwrap();
        assert_eq!(rd("cpu.max"), "max 50000");
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(
            (s.cpu.usage_usec, s.cpu.nr_throttled, s.cpu.throttled_usec),
            (Some(100), Some(2), Some(9))
        );
        let e = apply(
            d.path(),
            &parse(&json!({ "cpu": { "realtimeRuntime": 5 } })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
    }
}
