//! Root-only: the device program loads and attaches on a real cgroup2 dir.
use ctr_cgroup::resources::parse;
use ctr_cgroup::v2::devices::{attached_programs, install};

#[test]
fn device_program_loads_attaches_and_replaces() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return;
    }
    let l = ctr_cgroup::detect().unwrap();
    let Some(v2) = l.hierarchies.iter().find(|h| h.version == 2) else {
        eprintln!("skipped: no cgroup2 hierarchy");
        return;
    };
    let dir = std::path::PathBuf::from(format!(
        "{}/ctrtest-cgroup-rs-{}",
        v2.mount_point,
        std::process::id()
    ));
    std::fs::create_dir(&dir).unwrap();
    let r = (|| {
        let rules = parse(&serde_json::json!({ "devices": [{ "allow": false, "type": "c", "major": 1, "minor": 3, "access": "w" }] })).unwrap();
        install(&dir, rules.devices.as_ref().unwrap())?;
        assert_eq!(attached_programs(&dir)?.len(), 1);
        let first = attached_programs(&dir)?;
        let allow_all =
            parse(&serde_json::json!({ "devices": [{ "allow": true, "access": "rwm" }] })).unwrap();
        install(&dir, allow_all.devices.as_ref().unwrap())?;
        let second = attached_programs(&dir)?;
        assert_eq!(second.len(), 1);
        assert_ne!(first, second);
        Ok::<_, ctr_common::Error>(())
    })();
    std::fs::remove_dir(&dir).unwrap();
    r.unwrap();
}
