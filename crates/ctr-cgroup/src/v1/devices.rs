//! v1 devices controller: the OCI rules written in order to
//! `devices.allow` / `devices.deny` (a later rule overrides an earlier).

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Apply the device rules.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    let Some(rules) = &r.devices else {
        return Ok(());
    };
    for rule in rules {
        write(
            dir,
            if rule.allow {
                "devices.allow"
            } else {
                "devices.deny"
            },
            &rule.v1_line(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn writes_rules_in_order() {
        // cgroupfs files take one rule per write; a regular file keeps the last.
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("devices.allow"), "").unwrap();
        std::fs::write(d.path().join("devices.deny"), "").unwrap();
        let r = parse(&json!({ "devices": [{ "allow": false, "access": "rwm" }, { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "r" }] })).unwrap();
        apply(d.path(), &r).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("devices.deny")).unwrap(),
            "a *:* rwm"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("devices.allow")).unwrap(),
            "c 1:3 r"
        );
    }
}
