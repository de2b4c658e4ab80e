//! The official schema fixtures: good configs parse and validate, bad ones fail.
use ctr_oci::{parse, validate, Purpose};
use std::path::PathBuf;

fn dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-data/oci-runtime-spec/schema/test/config")
        .join(kind)
}

#[test]
fn good_linux_fixtures_parse_and_validate() {
    let d = dir("good");
    assert!(
        d.exists(),
        "the schema fixtures are vendored in the repository: {}",
        d.display()
    );
    let mut n = 0;
    for f in std::fs::read_dir(&d).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("freebsd") || name.starts_with("zos") {
            continue; // other platforms
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let spec = parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        validate(&spec, Purpose::Config).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "minimal-for-start.json" || name == "spec-example.json" {
            validate(&spec, Purpose::Create).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        n += 1;
    }
    assert!(n >= 5, "only {n} fixtures");
}

#[test]
fn bad_linux_fixtures_fail_with_codes() {
    let d = dir("bad");
    assert!(
        d.exists(),
        "the schema fixtures are vendored in the repository: {}",
        d.display()
    );
    let expect = [
        ("invalid-json.json", "EOCI_JSON", None),
        (
            "linux-hugepage.json",
            "EOCI_INVALID",
            Some("linux.resources.hugepageLimits[0].pageSize"),
        ),
        (
            "linux-netdevice.json",
            "EOCI_TYPE",
            Some("linux.netDevices.eth0.name"),
        ),
        (
            "linux-rdma.json",
            "EOCI_TYPE",
            Some("linux.resources.rdma.mlx5_1.hcaHandles"),
        ),
    ];
    for (name, code, path) in expect {
        let text = std::fs::read_to_string(d.join(name)).unwrap();
        let err = parse(&text)
            .and_then(|s| validate(&s, Purpose::Config).map(|_| s))
            .unwrap_err();
        assert_eq!(err.code, code, "{name}: {err}");
        if let Some(p) = path {
            assert_eq!(err.path.as_deref(), Some(p), "{name}");
        }
    }
}
