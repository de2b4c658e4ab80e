//! net_cls and net_prio controllers (v1 only; usually co-mounted as
//! `net_cls,net_prio`): OCI `linux.resources.network`.

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Write `net_cls.classid` (the class id tagging the cgroup's packets).
pub fn apply_cls(dir: &Path, r: &Resources) -> Result<(), Error> {
    if let Some(id) = r.network.as_ref().and_then(|n| n.class_id) {
        write(dir, "net_cls.classid", &id.to_string())?;
    }
    Ok(())
}

/// Write one `net_prio.ifpriomap` line per interface (`eth0 5`).
pub fn apply_prio(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (name, prio) in r.network.iter().flat_map(|n| n.priorities.iter()) {
        write(dir, "net_prio.ifpriomap", &format!("{name} {prio}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn class_id_and_priorities() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[("net_cls.classid", "0\n"), ("net_prio.ifpriomap", "")],
        );
        let r = parse(&json!({ "network": { "classID": 1048577, "priorities": [{ "name": "lo", "priority": 2 }] } })).unwrap();
        apply_cls(d.path(), &r).unwrap();
        apply_prio(d.path(), &r).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("net_cls.classid")).unwrap(),
            "1048577"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("net_prio.ifpriomap")).unwrap(),
            "lo 2"
        );
        // Without network nothing is written.
        let e = tempfile::tempdir().unwrap();
        apply_cls(e.path(), &parse(&json!({})).unwrap()).unwrap();
        apply_prio(e.path(), &parse(&json!({})).unwrap()).unwrap();
        assert!(std::fs::read_dir(e.path()).unwrap().next().is_none());
    }

    #[test]
    fn bad_network_values_name_the_field() {
        let e = parse(&json!({ "network": { "priorities": [{ "name": "a b", "priority": 1 }] } }))
            .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("network.priorities[0].name"));
        let e = parse(&json!({ "network": { "classID": -1 } })).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("network.classID"));
        let e = parse(&json!({ "network": { "bogus": 1 } })).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("network.bogus"));
        assert_eq!(
            parse(&json!({ "network": {} })).unwrap().network,
            None,
            "an empty object asks nothing"
        );
    }
}
