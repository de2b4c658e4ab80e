//! v1 memory controller.

use crate::fsx::{keyed, read_opt, read_u64, write};
use crate::resources::Resources;
use crate::stats::{limit, Stats};
use crate::Code;
use ctr_common::Error;
use std::path::Path;

fn bytes(v: i64) -> String {
    v.to_string()
}

/// Write a limit file. The kernel refuses (EBUSY) a limit below what the
/// cgroup uses now once it cannot reclaim down to it: that is said with the
/// OCI field and the lowest value it accepts now (the current usage).
fn write_limit(dir: &Path, file: &str, v: i64) -> Result<(), Error> {
    write(dir, file, &bytes(v)).map_err(|e| {
        if e.errno != Some(libc::EBUSY) {
            return e;
        }
        let (field, usage) = if file == "memory.limit_in_bytes" {
            ("memory.limit", "memory.usage_in_bytes")
        } else {
            ("memory.swap", "memory.memsw.usage_in_bytes")
        };
        let used = read_u64(dir, usage).unwrap_or(0);
        Error::new(
            Code::LimitTooLow,
            format!("{field}: {v} is below what the cgroup uses now and the kernel could not reclaim down to it: the minimum it accepts now is {used} bytes ({file})"),
        )
        .with_field(field)
        .with_errno(libc::EBUSY)
    })
}

/// Apply memory limits.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(m) = &r.memory else { return Ok(()) };
    if m.high.is_some() {
        return Err(
            Error::new(Code::Unsupported, "memory.high is cgroup v2 only")
                .with_field("memory.high"),
        );
    }
    if m.oom_group == Some(true) {
        return Err(
            Error::new(Code::Unsupported, "memory.oomGroup is cgroup v2 only")
                .with_field("memory.oomGroup"),
        );
    }
    let has_memsw = dir.join("memory.memsw.limit_in_bytes").exists();
    let swap = match m.swap {
        Some(s) if !has_memsw => {
            if s != -1 && Some(s) != m.limit {
                return Err(Error::new(
                    Code::Unsupported,
                    "memory.swap: this kernel has no swap accounting (memory.memsw.limit_in_bytes)",
                )
                .with_path(dir.join("memory.memsw.limit_in_bytes")));
            }
            None
        }
        s => s,
    };
    match (m.limit, swap) {
        (Some(l), Some(s)) => {
            // memsw must stay >= limit: raise memsw first when growing.
            if let Err(e) = write_limit(dir, "memory.limit_in_bytes", l) {
                if e.errno != Some(libc::EINVAL) {
                    return Err(e);
                }
                write_limit(dir, "memory.memsw.limit_in_bytes", s)?;
                write_limit(dir, "memory.limit_in_bytes", l)?;
            } else {
                write_limit(dir, "memory.memsw.limit_in_bytes", s)?;
            }
        }
        (Some(l), None) => write_limit(dir, "memory.limit_in_bytes", l)?,
        (None, Some(s)) => write_limit(dir, "memory.memsw.limit_in_bytes", s)?,
        (None, None) => {}
    }
    if let Some(v) = m.reservation {
        write(dir, "memory.soft_limit_in_bytes", &bytes(v))?;
    }
    if let Some(v) = m.swappiness {
        write(dir, "memory.swappiness", &v.to_string())?;
    }
    if let Some(d) = m.disable_oom_killer {
        write(dir, "memory.oom_control", if d { "1" } else { "0" })?;
    }
    // Kernels >= 5.16 keep memory.kmem.limit_in_bytes but ignore writes to
    // it (kernel memory is charged to memory.limit_in_bytes); older ones
    // enforce it. Either way the kernel decides, as with runc and crun.
    for (v, file, field) in [
        (m.kernel, "memory.kmem.limit_in_bytes", "memory.kernel"),
        (
            m.kernel_tcp,
            "memory.kmem.tcp.limit_in_bytes",
            "memory.kernelTCP",
        ),
    ] {
        if let Some(v) = v {
            if !dir.join(file).exists() {
                return Err(Error::new(
                    Code::Unsupported,
                    format!("{field}: this kernel has no {file}"),
                )
                .with_path(dir.join(file)));
            }
            write(dir, file, &bytes(v))?;
        }
    }
    Ok(())
}

/// Read memory statistics.
pub fn stats(dir: &Path, s: &mut Stats) {
    let m = &mut s.memory;
    m.current = read_u64(dir, "memory.usage_in_bytes");
    m.peak = read_u64(dir, "memory.max_usage_in_bytes");
    m.limit = limit(read_u64(dir, "memory.limit_in_bytes"));
    m.failcnt = read_u64(dir, "memory.failcnt");
    if let Some(st) = read_opt(dir, "memory.stat") {
        let k = |a: &str, b: &str| keyed(&st, a).or_else(|| keyed(&st, b));
        m.cache = k("total_cache", "cache");
        m.rss = k("total_rss", "rss");
        m.swap = k("total_swap", "swap");
    }
    if let Some(oc) = read_opt(dir, "memory.oom_control") {
        m.oom_kill = keyed(&oc, "oom_kill");
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
                ("memory.limit_in_bytes", ""),
                ("memory.memsw.limit_in_bytes", ""),
                ("memory.soft_limit_in_bytes", ""),
                ("memory.swappiness", ""),
                ("memory.oom_control", ""),
            ],
        );
        let r = parse(&json!({ "memory": { "max": "5m", "swap": "10m", "low": "1m", "swappiness": 0, "disableOOMKiller": true } })).unwrap();
        apply(d.path(), &r).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
        assert_eq!(rd("memory.limit_in_bytes"), "5242880");
        assert_eq!(rd("memory.memsw.limit_in_bytes"), "10485760");
        assert_eq!(rd("memory.soft_limit_in_bytes"), "1048576");
        assert_eq!(rd("memory.swappiness"), "0");
        assert_eq!(rd("memory.oom_control"), "1");
        let e = apply(
            d.path(),
            &parse(&json!({ "memory": { "high": 1 } })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
    }

    #[test]
    fn reads_stats() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("memory.usage_in_bytes", "4096000\n"),
                ("memory.max_usage_in_bytes", "4997120\n"),
                ("memory.limit_in_bytes", "4997120\n"),
                ("memory.failcnt", "12\n"),
                (
                    "memory.stat",
                    "cache 100\nrss 200\ntotal_cache 1000\ntotal_rss 2000\ntotal_swap 0\n",
                ),
                (
                    "memory.oom_control",
                    "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
                ),
            ],
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(s.memory.limit, Some(4997120));
        assert_eq!(s.memory.cache, Some(1000));
        assert_eq!(s.memory.rss, Some(2000));
        assert_eq!(s.memory.oom_kill, Some(1));
        assert_eq!(s.memory.failcnt, Some(12));
        std::fs::write(
            d.path().join("memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        stats(d.path(), &mut s);
        assert_eq!(s.memory.limit, None);
    }
}
