//! v1 blkio controller: weights (where the kernel has them) and throttles.

use crate::fsx::{read_opt, write};
use crate::resources::Resources;
use crate::stats::{io_dev, parse_dev, Stats};
use ctr_common::Error;
use std::path::Path;

/// Apply weights and throttles; one write per device line.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(b) = &r.block_io else { return Ok(()) };
    let weight_file = if dir.join("blkio.weight").exists() {
        "blkio.weight"
    } else {
        "blkio.bfq.weight"
    };
    if let Some(w) = b.weight {
        write(dir, weight_file, &w.to_string())?;
    }
    let wd = if dir.join("blkio.weight_device").exists() {
        "blkio.weight_device"
    } else {
        "blkio.bfq.weight_device"
    };
    for d in &b.weight_device {
        write(dir, wd, &format!("{}:{} {}", d.major, d.minor, d.value))?;
    }
    for (file, list) in [
        ("blkio.throttle.read_bps_device", &b.read_bps),
        ("blkio.throttle.write_bps_device", &b.write_bps),
        ("blkio.throttle.read_iops_device", &b.read_iops),
        ("blkio.throttle.write_iops_device", &b.write_iops),
    ] {
        for d in list {
            write(dir, file, &format!("{}:{} {}", d.major, d.minor, d.value))?;
        }
    }
    Ok(())
}

/// Bytes and ops per device (throttle accounting, which v1 always keeps).
pub fn stats(dir: &Path, s: &mut Stats) {
    for (file, bytes) in [
        ("blkio.throttle.io_service_bytes_recursive", true),
        ("blkio.throttle.io_serviced_recursive", false),
    ] {
        let Some(text) = read_opt(dir, file) else {
            continue;
        };
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 3 {
                continue;
            }
            let (Some((maj, min)), Ok(v)) = (parse_dev(f[0]), f[2].parse::<u64>()) else {
                continue;
            };
            let d = io_dev(&mut s.io, maj, min);
            match (f[1], bytes) {
                ("Read", true) => d.read_bytes = v,
                ("Write", true) => d.write_bytes = v,
                ("Read", false) => d.read_ops = v,
                ("Write", false) => d.write_ops = v,
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
    use crate::Code;
    use serde_json::json;

    #[test]
    fn throttles_and_stats() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("blkio.throttle.read_bps_device", ""),
                ("blkio.throttle.write_iops_device", ""),
                (
                    "blkio.throttle.io_service_bytes_recursive",
                    "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n",
                ),
                (
                    "blkio.throttle.io_serviced_recursive",
                    "8:0 Read 1\n8:0 Write 2\n",
                ),
            ],
        );
        let r = parse(&json!({ "blockIO": { "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 1000 }], "throttleWriteIOPSDevice": [{ "major": 8, "minor": 0, "rate": 5 }] } })).unwrap();
        apply(d.path(), &r).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("blkio.throttle.read_bps_device")).unwrap(),
            "8:0 1000"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("blkio.throttle.write_iops_device")).unwrap(),
            "8:0 5"
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(s.io.len(), 1);
        assert_eq!(
            (
                s.io[0].read_bytes,
                s.io[0].write_bytes,
                s.io[0].read_ops,
                s.io[0].write_ops
            ),
            (4096, 8192, 1, 2)
        );
        // no weight file on this kernel: unsupported, naming the file
        let e = apply(
            d.path(),
            &parse(&json!({ "blockIO": { "weight": 500 } })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
    }
}
