//! v1 hugetlb controller.

use crate::fsx::{read_u64, write};
use crate::resources::Resources;
use crate::stats::{limit, HugetlbStats, Stats};
use ctr_common::Error;
use std::path::Path;

/// Apply hugepage limits.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (size, lim) in &r.hugepages {
        write(
            dir,
            &format!("hugetlb.{size}.limit_in_bytes"),
            &lim.to_string(),
        )?;
    }
    Ok(())
}

/// The host's huge page sizes as cgroup file names use them (`2MB`,
/// `1GB`), from `/sys/kernel/mm/hugepages`, read once.
pub fn host_sizes() -> &'static [String] {
    static S: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<(u64, String)> = std::fs::read_dir("/sys/kernel/mm/hugepages")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let kb: u64 = n
                    .strip_prefix("hugepages-")?
                    .strip_suffix("kB")?
                    .parse()
                    .ok()?;
                let name = if kb >= 1 << 20 {
                    format!("{}GB", kb >> 20)
                } else if kb >= 1 << 10 {
                    format!("{}MB", kb >> 10)
                } else {
                    format!("{kb}KB")
                };
                Some((kb, name))
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    })
}

/// Page sizes present in a hugetlb directory: the host's sizes whose
/// `hugetlb.<size><suffix>` file exists (one stat each, no directory scan).
pub fn present_sizes(dir: &Path, suffix: &str) -> Vec<String> {
    host_sizes()
        .iter()
        .filter(|s| dir.join(format!("hugetlb.{s}{suffix}")).exists())
        .cloned()
        .collect()
}

/// Page sizes present in a hugetlb directory (`2MB`, `1GB`), by scanning it.
pub fn sizes(dir: &Path, suffix: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let rest = n
                .strip_prefix("hugetlb.")?
                .strip_suffix(suffix)?
                .to_string();
            (!rest.contains('.')).then_some(rest)
        })
        .collect();
    out.sort();
    out
}

/// Usage per page size.
pub fn stats(dir: &Path, s: &mut Stats) {
    let mut found = present_sizes(dir, ".usage_in_bytes");
    if found.is_empty() && cfg!(test) {
        found = sizes(dir, ".usage_in_bytes");
    }
    for size in found {
        let f = |k: &str| read_u64(dir, &format!("hugetlb.{size}.{k}"));
        s.hugetlb.insert(
            size.clone(),
            HugetlbStats {
                current: f("usage_in_bytes").unwrap_or(0),
                peak: f("max_usage_in_bytes"),
                limit: limit(f("limit_in_bytes")),
                failcnt: f("failcnt"),
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
                ("hugetlb.2MB.limit_in_bytes", "9223372036854771712\n"),
                ("hugetlb.2MB.usage_in_bytes", "0\n"),
                ("hugetlb.2MB.failcnt", "0\n"),
                ("hugetlb.2MB.rsvd.usage_in_bytes", "0\n"),
            ],
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(s.hugetlb.keys().collect::<Vec<_>>(), vec!["2MB"]);
        assert_eq!(s.hugetlb["2MB"].limit, None);
        apply(
            d.path(),
            &parse(&json!({ "hugepageLimits": [{ "pageSize": "2MB", "limit": "4m" }] })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("hugetlb.2MB.limit_in_bytes")).unwrap(),
            "4194304"
        );
    }
}
