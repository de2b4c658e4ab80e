//! v2 hugetlb controller.

use crate::fsx::{keyed, read_opt, read_u64, write};
use crate::resources::Resources;
use crate::stats::{limit, HugetlbStats, Stats};
use crate::v1::hugetlb::{present_sizes, sizes};
use ctr_common::Error;
use std::path::Path;

/// Apply hugepage limits (`hugetlb.2MB.max`).
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (size, lim) in &r.hugepages {
        write(
            dir,
            &format!("hugetlb.{size}.max"),
            &if *lim < 0 {
                "max".into()
            } else {
                lim.to_string()
            },
        )?;
    }
    Ok(())
}

/// Usage per page size.
pub fn stats(dir: &Path, s: &mut Stats) {
    let mut found = present_sizes(dir, ".current");
    if found.is_empty() && cfg!(test) {
        found = sizes(dir, ".current");
    }
    for size in found {
        let f = |k: &str| read_u64(dir, &format!("hugetlb.{size}.{k}"));
        let failcnt =
            read_opt(dir, &format!("hugetlb.{size}.events")).and_then(|e| keyed(&e, "max"));
        s.hugetlb.insert(
            size.clone(),
            HugetlbStats {
                current: f("current").unwrap_or(0),
                peak: None,
                limit: limit(f("max")),
                failcnt,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn hugetlb() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("hugetlb.2MB.max", "max\n"),
                ("hugetlb.2MB.current", "0\n"),
                ("hugetlb.2MB.events", "max 3\n"),
                ("hugetlb.2MB.rsvd.current", "0\n"),
            ],
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(
            s.hugetlb["2MB"],
            HugetlbStats {
                current: 0,
                peak: None,
                limit: None,
                failcnt: Some(3)
            }
        );
        assert_eq!(s.hugetlb.len(), 1);
        apply(
            d.path(),
            &parse(&json!({ "hugepageLimits": [{ "pageSize": "2MB", "limit": -1 }] })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("hugetlb.2MB.max")).unwrap(),
            "max"
        );
    }
}
