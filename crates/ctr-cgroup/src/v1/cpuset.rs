//! v1 cpuset controller. A new v1 cpuset starts with empty `cpus` and
//! `mems` (no task can join it), so creation copies the parent's.

use crate::fsx::{read, write};
use ctr_common::Error;
use std::path::Path;

/// Fill empty cpuset.cpus/mems of `dir` from its parent (call top-down for
/// every directory created).
pub fn init(dir: &Path) -> Result<(), Error> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for f in ["cpuset.cpus", "cpuset.mems"] {
        if read(dir, f)?.trim().is_empty() {
            let v = read(parent, f)?;
            write(dir, f, v.trim())?;
        }
    }
    Ok(())
}

/// Apply cpus/mems: the files and their values are the same as on v2.
pub use crate::v2::cpuset::apply;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn inherits_then_applies() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
        );
        let child = d.path().join("c");
        std::fs::create_dir(&child).unwrap();
        fixture(&child, &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")]);
        init(&child).unwrap();
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
}
