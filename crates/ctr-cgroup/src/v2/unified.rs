//! Raw v2 key/values (`unified` in the OCI resources), applied last.

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Write every raw file.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (k, v) in &r.unified {
        write(dir, k, v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use crate::Code;
    use serde_json::json;

    #[test]
    fn raw_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("memory.oom.group"), "0").unwrap();
        apply(
            d.path(),
            &parse(&json!({ "unified": { "memory.oom.group": "1" } })).unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("memory.oom.group")).unwrap(),
            "1"
        );
        let e = apply(
            d.path(),
            &parse(&json!({ "unified": { "nope.file": "1" } })).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
    }
}
