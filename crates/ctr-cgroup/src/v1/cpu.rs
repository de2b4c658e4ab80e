//! v1 cpu controller (shares, CFS quota/period/burst, idle, realtime).

use crate::fsx::{keyed, read_opt, write};
use crate::resources::{weight_to_shares, Resources};
use crate::stats::Stats;
use ctr_common::Error;
use std::path::Path;

/// Apply cpu limits.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(c) = &r.cpu else { return Ok(()) };
    if let Some(s) = c.shares.or(c.weight.map(weight_to_shares)) {
        write(dir, "cpu.shares", &s.to_string())?;
    }
    if let Some(p) = c.period {
        write(dir, "cpu.cfs_period_us", &p.to_string())?;
    }
    if let Some(q) = c.quota {
        write(dir, "cpu.cfs_quota_us", &q.to_string())?;
    }
    if let Some(b) = c.burst {
        write(dir, "cpu.cfs_burst_us", &b.to_string())?;
    }
    if let Some(i) = c.idle {
        write(dir, "cpu.idle", &i.to_string())?;
    }
    if let Some(p) = c.realtime_period {
        write(dir, "cpu.rt_period_us", &p.to_string())?;
    }
    if let Some(rt) = c.realtime_runtime {
        write(dir, "cpu.rt_runtime_us", &rt.to_string())?;
    }
    Ok(())
}

/// Throttling statistics.
pub fn stats(dir: &Path, s: &mut Stats) {
    if let Some(st) = read_opt(dir, "cpu.stat") {
        s.cpu.nr_periods = keyed(&st, "nr_periods");
        s.cpu.nr_throttled = keyed(&st, "nr_throttled");
        s.cpu.throttled_usec = keyed(&st, "throttled_time").map(|ns| ns / 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use crate::Code;
    use serde_json::json;

    #[test]
    fn writes_and_reads() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("cpu.shares", ""),
                ("cpu.cfs_period_us", ""),
                ("cpu.cfs_quota_us", ""),
                ("cpu.cfs_burst_us", ""),
                ("cpu.idle", ""),
                (
                    "cpu.stat",
                    "nr_periods 10\nnr_throttled 4\nthrottled_time 5000000\n",
                ),
            ],
        );
        apply(
            d.path(),
            &parse(&json!({ "cpu": { "weight": 10000, "limit": 0.2, "burst": 1000, "idle": 0 } }))
                .unwrap(),
        )
        .unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
        assert_eq!(rd("cpu.shares"), "262144");
        assert_eq!(rd("cpu.cfs_period_us"), "100000");
        assert_eq!(rd("cpu.cfs_quota_us"), "20000");
        assert_eq!(rd("cpu.cfs_burst_us"), "1000");
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(
            (s.cpu.nr_periods, s.cpu.nr_throttled, s.cpu.throttled_usec),
            (Some(10), Some(4), Some(5000))
        );
        // realtime files missing: unsupported, with the path
        let e = apply(
            d.path(),
            &parse(&json!({ "cpu": { "realtimeRuntime": 1000 } })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
        assert!(e.path.unwrap().ends_with("cpu.rt_runtime_us"));
    }
}
