//! v2 memory controller.

use crate::fsx::{keyed, read_opt, read_u64, write};
use crate::resources::Resources;
use crate::stats::{limit, Stats};
use crate::Code;
use ctr_common::Error;
use std::path::Path;

fn val(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// OCI swap (memory + swap) to v2 `memory.swap.max` (swap only), as runc.
pub fn swap_to_v2(swap: i64, limit: Option<i64>) -> Result<i64, Error> {
    let mem = limit.unwrap_or(0);
    if mem == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if mem <= 0 {
        return Err(Error::new(
            Code::InvalidValue,
            "memory.swap: a swap limit needs a memory limit",
        )
        .with_field("memory.swap"));
    }
    if swap < mem {
        return Err(Error::new(
            Code::InvalidValue,
            "memory.swap: must be >= memory.limit (it counts memory plus swap)",
        )
        .with_field("memory.swap"));
    }
    Ok(swap - mem)
}

/// Apply memory limits.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(m) = &r.memory else { return Ok(()) };
    // v2 has no separate kernel limits: kernel memory and TCP buffers are
    // charged to memory.max. -1 (unlimited, as OCI generators write) is
    // what v2 does anyway; a real limit cannot be honoured.
    for (v, field) in [
        (m.kernel, "memory.kernel"),
        (m.kernel_tcp, "memory.kernelTCP"),
    ] {
        if v.is_some_and(|v| v != -1) {
            return Err(Error::new(
                Code::Unsupported,
                format!(
                    "{field}: cgroup v2 has no kernel memory limit (it counts toward memory.limit)"
                ),
            )
            .with_field(field));
        }
    }
    if m.disable_oom_killer == Some(true) {
        return Err(Error::new(
            Code::Unsupported,
            "memory.disableOOMKiller: cgroup v2 cannot disable the oom killer",
        )
        .with_field("memory.disableOOMKiller"));
    }
    if let Some(s) = m.swap {
        let v = swap_to_v2(s, m.limit)?;
        // Without swap accounting there is no swap to limit: "none" and
        // "unlimited" are then no-ops; a real swap limit is refused.
        if dir.join("memory.swap.max").exists() || v > 0 {
            write(dir, "memory.swap.max", &val(v))?;
        }
    }
    if let Some(v) = m.limit {
        write(dir, "memory.max", &val(v))?;
    }
    if let Some(v) = m.reservation {
        write(dir, "memory.low", &val(v))?;
    }
    if let Some(v) = m.high {
        write(dir, "memory.high", &val(v))?;
    }
    if let Some(g) = m.oom_group {
        write(dir, "memory.oom.group", if g { "1" } else { "0" })?;
    }
    Ok(())
}

/// Read memory statistics.
pub fn stats(dir: &Path, s: &mut Stats) {
    let m = &mut s.memory;
    m.current = read_u64(dir, "memory.current");
    m.peak = read_u64(dir, "memory.peak");
    m.limit = limit(read_u64(dir, "memory.max"));
    m.swap = read_u64(dir, "memory.swap.current");
    if let Some(st) = read_opt(dir, "memory.stat") {
        m.cache = keyed(&st, "file");
        m.rss = keyed(&st, "anon");
    }
    if let Some(ev) = read_opt(dir, "memory.events") {
        m.failcnt = keyed(&ev, "max");
        m.oom = keyed(&ev, "oom");
        m.oom_kill = keyed(&ev, "oom_kill");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn writes_limits() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("memory.max", ""),
                ("memory.swap.max", ""),
                ("memory.low", ""),
                ("memory.high", ""),
                ("memory.oom.group", ""),
            ],
        );
        apply(d.path(), &parse(&json!({ "memory": { "limit": 5000000, "swap": 8000000, "reservation": -1, "high": "4m", "oomGroup": true } })).unwrap()).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
        assert_eq!(rd("memory.max"), "5000000");
        assert_eq!(rd("memory.swap.max"), "3000000");
        assert_eq!(rd("memory.low"), "max");
        assert_eq!(rd("memory.high"), "4194304");
        assert_eq!(rd("memory.oom.group"), "1");
        assert!(swap_to_v2(100, Some(200)).is_err());
        assert_eq!(swap_to_v2(0, Some(-1)).unwrap(), -1);
    }

    #[test]
    fn reads_stats() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("memory.current", "4096\n"),
                ("memory.peak", "5000000\n"),
                ("memory.max", "4997120\n"),
                ("memory.stat", "anon 10\nfile 20\n"),
                (
                    "memory.events",
                    "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n",
                ),
            ],
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(
            (
                s.memory.rss,
                s.memory.cache,
                s.memory.oom,
                s.memory.oom_kill,
                s.memory.failcnt
            ),
            (Some(10), Some(20), Some(1), Some(1), Some(7))
        );
        assert_eq!(s.memory.limit, Some(4997120));
    }
}
