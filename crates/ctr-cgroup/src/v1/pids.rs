//! pids controller (same files on v1 and v2).

use crate::fsx::{read_u64, write};
use crate::resources::Resources;
use crate::stats::Stats;
use ctr_common::Error;
use std::path::Path;

/// Apply pids.max.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    if let Some(l) = r.pids {
        write(
            dir,
            "pids.max",
            &if l < 0 {
                "max".to_string()
            } else {
                l.to_string()
            },
        )?;
    }
    Ok(())
}

/// Current and limit.
pub fn stats(dir: &Path, s: &mut Stats) {
    s.pids.current = read_u64(dir, "pids.current");
    s.pids.limit = read_u64(dir, "pids.max");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn pids() {
        let d = tempfile::tempdir().unwrap();
        fixture(d.path(), &[("pids.max", ""), ("pids.current", "3\n")]);
        apply(
            d.path(),
            &parse(&json!({ "pids": { "limit": -1 } })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("pids.max")).unwrap(),
            "max"
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!((s.pids.current, s.pids.limit), (Some(3), None));
        apply(d.path(), &parse(&json!({ "pids": { "max": 10 } })).unwrap()).unwrap();
        stats(d.path(), &mut s);
        assert_eq!(s.pids.limit, Some(10));
    }
}
