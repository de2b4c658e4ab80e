//! v2 cpuset controller (an empty v2 cpuset inherits its parent's, so no
//! copying is needed as on v1).

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Apply cpus/mems.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(c) = &r.cpu else { return Ok(()) };
    if let Some(v) = &c.cpus {
        write(dir, "cpuset.cpus", v)?;
    }
    if let Some(v) = &c.mems {
        write(dir, "cpuset.mems", v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn cpus() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cpuset.cpus"), "").unwrap();
        apply(
            d.path(),
            &parse(&json!({ "cpu": { "cpus": "0-1" } })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("cpuset.cpus")).unwrap(),
            "0-1"
        );
    }
}
