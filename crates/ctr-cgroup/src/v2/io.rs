//! v2 io controller: io.weight (or io.bfq.weight) and io.max.

use crate::fsx::{read_opt, write};
use crate::resources::{blkio_weight_to_io, Resources};
use crate::stats::{io_dev, parse_dev, Stats};
use ctr_common::Error;
use std::collections::BTreeMap;
use std::path::Path;

/// Apply weights and limits. OCI blkio weights (10..1000) are converted to
/// io.weight (1..10000) when io.weight is the file, as runc does.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(b) = &r.block_io else { return Ok(()) };
    let bfq = !dir.join("io.weight").exists() && dir.join("io.bfq.weight").exists();
    let (file, conv): (&str, fn(u64) -> u64) = if bfq {
        ("io.bfq.weight", |w| w)
    } else {
        ("io.weight", blkio_weight_to_io)
    };
    if let Some(w) = b.weight {
        write(dir, file, &format!("default {}", conv(w)))?;
    }
    for d in &b.weight_device {
        write(
            dir,
            file,
            &format!("{}:{} {}", d.major, d.minor, conv(d.value)),
        )?;
    }
    let mut max: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
    for (key, list) in [
        ("rbps", &b.read_bps),
        ("wbps", &b.write_bps),
        ("riops", &b.read_iops),
        ("wiops", &b.write_iops),
    ] {
        for d in list {
            max.entry((d.major, d.minor))
                .or_default()
                .push(format!("{key}={}", d.value));
        }
    }
    for ((maj, min), kv) in max {
        write(dir, "io.max", &format!("{maj}:{min} {}", kv.join(" ")))?;
    }
    Ok(())
}

/// Bytes and ops per device from io.stat.
pub fn stats(dir: &Path, s: &mut Stats) {
    let Some(text) = read_opt(dir, "io.stat") else {
        return;
    };
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some((maj, min)) = it.next().and_then(parse_dev) else {
            continue;
        };
        let d = io_dev(&mut s.io, maj, min);
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let v: u64 = v.parse().unwrap_or(0);
            match k {
                "rbytes" => d.read_bytes = v,
                "wbytes" => d.write_bytes = v,
                "rios" => d.read_ops = v,
                "wios" => d.write_ops = v,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn io() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("io.weight", ""),
                ("io.max", ""),
                (
                    "io.stat",
                    "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
                ),
            ],
        );
        let r = parse(&json!({ "blockIO": { "weight": 1000, "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 1000 }], "throttleWriteIOPSDevice": [{ "major": 8, "minor": 0, "rate": 5 }] } })).unwrap();
        apply(d.path(), &r).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("io.weight")).unwrap(),
            "default 10000"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("io.max")).unwrap(),
            "8:0 rbps=1000 wiops=5"
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!((s.io[0].read_bytes, s.io[0].write_ops), (4096, 2));
    }
}
