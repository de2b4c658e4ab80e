//! v1 cpuset controller. A new v1 cpuset starts with empty `cpus` and
//! `mems` (no task can join it), so creation copies the parent's.
//!
//! Writing `cpus` of a cpuset whose `sched_load_balance` is on makes the
//! kernel rebuild the scheduler domains (`partition_sched_domains`, and
//! `dl_rebuild_rd_accounting`, a walk of every cpuset on the host): a cost
//! per container that grows with the containers alive (+0.11 ms each with
//! 500 alive, docs/performance.md). While the hierarchy's root balances,
//! one domain spans every cpuset below it and their own flags change
//! nothing (v1 `generate_sched_domains` skips the subtree of a balancing
//! cpuset), so a new cpuset's flag is turned off before its `cpus` is
//! written: the domains stay exactly as they were, without the rebuild.

use crate::fsx::{read_value as read, write};
use ctr_common::Error;
use std::path::Path;

/// Fill empty cpuset.cpus/mems of `dir` from its parent (call top-down for
/// every directory created below the hierarchy's mount point `root`).
pub fn init(dir: &Path, root: &Path) -> Result<(), Error> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    let cpus_empty = read(dir, "cpuset.cpus")?.trim().is_empty();
    if cpus_empty {
        if root_balances(root) {
            // Best effort: on failure the write of cpus costs the
            // rebuild, nothing else changes.
            let _ = write(dir, "cpuset.sched_load_balance", "0");
        }
        let v = read(parent, "cpuset.cpus")?;
        write(dir, "cpuset.cpus", v.trim())?;
    }
    // A new cpuset's mems is empty too unless the parent's
    // `cgroup.clone_children` copied both; copied but with cpus empty
    // (a parent without cpus) its mems already equals the parent's, which
    // the write sets again. So after empty cpus, mems is written unread.
    if cpus_empty || read(dir, "cpuset.mems")?.trim().is_empty() {
        let v = read(parent, "cpuset.mems")?;
        write(dir, "cpuset.mems", v.trim())?;
    }
    Ok(())
}

/// Whether the cpuset at the hierarchy's mount point balances its CPUs,
/// i.e. one scheduler domain covers every cpuset below it (the mount point
/// is the top cpuset, or in a cgroup namespace the namespace's root: a
/// balancing cpuset's subtree is covered wherever it sits).
fn root_balances(root: &Path) -> bool {
    read(root, "cpuset.sched_load_balance").is_ok_and(|v| v.trim() == "1")
}

/// Apply cpus/mems: the files and their values are the same as on v2.
pub use crate::v2::cpuset::apply;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    /// A parent with cpus 0-1 and mems 0, and its new child (both empty),
    /// after `init`.
    fn initialised_empty_child() -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
        );
        let child = d.path().join("c");
        std::fs::create_dir(&child).unwrap();
        fixture(&child, &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")]);
        init(&child, d.path()).unwrap();
        (d, child)
    }

    #[test]
    fn inherits_then_applies() {
        let (_d, child) = initialised_empty_child();
        assert_eq!(
            std::fs::read_to_string(child.join("cpuset.cpus")).unwrap(),
            "0-1"
        );
        apply(
            &child,
            &parse(&json!({ "cpuset": { "cpus": "1" } })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(child.join("cpuset.cpus")).unwrap(),
            "1"
        );
    }

    #[test]
    fn a_cloned_cpuset_is_left_as_it_is() {
        // cgroup.clone_children: the new cpuset has its parent's values
        // already and its own (here different) flag is not touched.
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("cpuset.cpus", "0-1\n"),
                ("cpuset.mems", "0\n"),
                ("cpuset.sched_load_balance", "1\n"),
            ],
        );
        let child = d.path().join("c");
        std::fs::create_dir(&child).unwrap();
        fixture(
            &child,
            &[
                ("cpuset.cpus", "1\n"),
                ("cpuset.mems", "0\n"),
                ("cpuset.sched_load_balance", "1"),
            ],
        );
        init(&child, d.path()).unwrap();
        for (f, want) in [
            ("cpuset.cpus", "1\n"),
            ("cpuset.mems", "0\n"),
            ("cpuset.sched_load_balance", "1"),
        ] {
            assert_eq!(std::fs::read_to_string(child.join(f)).unwrap(), want, "{f}");
        }
    }

    #[test]
    fn empty_cpus_get_the_parents_mems_written_unread() {
        // The mems file is written even where a (cloned) value was there:
        // it is the parent's either way.
        let (_d, child) = initialised_empty_child();
        assert_eq!(
            std::fs::read_to_string(child.join("cpuset.mems")).unwrap(),
            "0"
        );
    }

    #[test]
    fn balance_is_turned_off_only_below_a_balancing_root() {
        for (root_flag, want) in [(Some("1\n"), "0"), (Some("0\n"), "1"), (None, "1")] {
            let d = tempfile::tempdir().unwrap();
            let mut files = vec![("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")];
            if let Some(f) = root_flag {
                files.push(("cpuset.sched_load_balance", f));
            }
            fixture(d.path(), &files);
            let child = d.path().join("c");
            std::fs::create_dir(&child).unwrap();
            fixture(
                &child,
                &[
                    ("cpuset.cpus", "\n"),
                    ("cpuset.mems", "\n"),
                    ("cpuset.sched_load_balance", "1"),
                ],
            );
            init(&child, d.path()).unwrap();
            let flag = std::fs::read_to_string(child.join("cpuset.sched_load_balance")).unwrap();
            assert_eq!(flag, want, "root flag {root_flag:?}");
            assert_eq!(
                std::fs::read_to_string(child.join("cpuset.cpus")).unwrap(),
                "0-1"
            );
        }
    }
}
