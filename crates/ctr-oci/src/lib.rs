//! OCI runtime-spec 1.2 for Linux: [`types`] of `config.json`, [`parse`]
//! with errors naming the JSON path, [`validate`] of the spec's MUST rules,
//! [`spec::default_spec`] (like `runc spec`) and [`features::features`].
//!
//! Error codes: `EOCI_JSON` (not JSON), `EOCI_TYPE` (a value of the wrong
//! type, or a missing required field), `EOCI_INVALID` (a MUST rule broken),
//! `EOCI_BUNDLE` (the bundle or its config.json cannot be read).
#![deny(missing_docs)]

pub mod code;
pub mod features;
pub mod spec;
pub mod types;
pub mod validate;

pub use code::Code;

pub use ctr_common::{Error, Result};
pub use types::Spec;
pub use validate::{validate, Purpose};

use std::path::{Path, PathBuf};

/// The spec version we implement and generate.
pub const OCI_VERSION: &str = "1.2.0";

/// Parse a `config.json` text. Errors name the JSON path at fault
/// (`linux.namespaces[0].type`).
pub fn parse(text: &str) -> Result<Spec> {
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Spec>(&mut *de) {
        // One JSON object and nothing after it but white space: trailing
        // bytes (a second object, a truncated edit) are refused, not ignored.
        Ok(s) => match de.end() {
            Ok(()) => Ok(s),
            Err(e) => Err(Error::new(
                Code::Json,
                format!("invalid JSON: {}", lower_first(&e.to_string())),
            )),
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            use serde_json::error::Category;
            let (code, what) = match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => {
                    (Code::Json.as_str(), "invalid JSON")
                }
                Category::Data => (Code::Type.as_str(), "invalid value"),
            };
            let msg = inner.to_string();
            // serde says "invalid type: string \"x\", expected u32 at line 3 column 4".
            let msg = lower_first(&msg);
            let err = if code == Code::Json.as_str() || path == "." {
                Error::new(code, format!("{what}: {msg}"))
            } else {
                Error::new(code, format!("{what} at {path}: {msg}")).with_field(path)
            };
            Err(err)
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A bundle: its directory, parsed config and resolved rootfs path.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Absolute bundle directory.
    pub dir: PathBuf,
    /// The parsed `config.json`.
    pub spec: Spec,
    /// Absolute root filesystem path.
    pub rootfs: PathBuf,
}

/// Load and validate `<dir>/config.json`.
pub fn load_bundle(dir: impl AsRef<Path>, purpose: Purpose) -> Result<Bundle> {
    let dir = dir.as_ref();
    let dir = std::fs::canonicalize(dir).map_err(|e| {
        Error::io(
            Code::Bundle,
            "realpath",
            &e,
            format!("bundle {}", dir.display()),
        )
        .with_path(dir)
    })?;
    let cfg = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg).map_err(|e| {
        Error::io(Code::Bundle, "open", &e, format!("read {}", cfg.display())).with_path(&cfg)
    })?;
    let spec = parse(&text).map_err(|e| Error {
        message: format!("{}: {}", cfg.display(), e.message),
        ..e
    })?;
    validate(&spec, purpose)?;
    let root = spec
        .root
        .as_ref()
        .map(|r| r.path.clone())
        .unwrap_or_default();
    let rootfs = if Path::new(&root).is_absolute() {
        PathBuf::from(&root)
    } else {
        // A relative root is inside the bundle; one that climbs out is a mistake.
        let mut depth = 0i32;
        for c in Path::new(&root).components() {
            match c {
                std::path::Component::ParentDir => depth -= 1,
                std::path::Component::Normal(_) => depth += 1,
                _ => {}
            }
            if depth < 0 {
                return Err(Error::new(
                    Code::Invalid,
                    format!("root.path: relative path {root:?} leaves the bundle (use an absolute path)"),
                )
                .with_field("root.path"));
            }
        }
        dir.join(&root)
    };
    Ok(Bundle { dir, spec, rootfs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_the_json_path() {
        let e = parse(r#"{"ociVersion":"1.2.0","linux":{"namespaces":[{"type":5}]}}"#).unwrap_err();
        assert_eq!(e.code, Code::Type.as_str());
        assert_eq!(e.path.as_deref(), Some("linux.namespaces[0].type"));
        let e =
            parse(r#"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"uid":"root","gid":0}}}"#)
                .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("process.user.uid"));
    }

    #[test]
    fn syntax_errors_are_eoci_json() {
        assert_eq!(parse("{]").unwrap_err().code, Code::Json.as_str());
        assert_eq!(parse("").unwrap_err().code, Code::Json.as_str());
    }

    #[test]
    fn missing_required_field() {
        let e = parse(r#"{"ociVersion":"1.2.0","root":{}}"#).unwrap_err();
        assert_eq!(e.code, Code::Type.as_str());
        assert!(e.message.contains("missing field `path`"), "{}", e.message);
        assert_eq!(e.path.as_deref(), Some("root"));
    }

    #[test]
    fn unknown_properties_are_ignored() {
        let s = parse(
            r#"{"ociVersion":"1.2.0","somethingNew":{"x":1},"root":{"path":"r","future":true}}"#,
        )
        .unwrap();
        assert_eq!(s.root.unwrap().path, "r");
    }

    #[test]
    fn load_bundle_errors() {
        let d = tempfile::tempdir().unwrap();
        let e = load_bundle(d.path(), Purpose::Create).unwrap_err();
        assert_eq!(e.code, Code::Bundle.as_str());
        assert_eq!(e.errno, Some(libc::ENOENT));
        let e = load_bundle(d.path().join("nope"), Purpose::Create).unwrap_err();
        assert_eq!(e.code, Code::Bundle.as_str());
        std::fs::write(d.path().join("config.json"), "{").unwrap();
        assert_eq!(
            load_bundle(d.path(), Purpose::Create).unwrap_err().code,
            Code::Json.as_str()
        );
        let ok = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}}"#;
        for trailing in ["{}", "x", "]"] {
            std::fs::write(d.path().join("config.json"), format!("{ok}\n{trailing}")).unwrap();
            let e = load_bundle(d.path(), Purpose::Create).unwrap_err();
            assert_eq!(e.code, Code::Json.as_str(), "{trailing}");
            assert!(e.message.contains("trailing characters"), "{}", e.message);
        }
        std::fs::write(d.path().join("config.json"), format!("{ok}\n\t ")).unwrap();
        load_bundle(d.path(), Purpose::Create).unwrap();
        std::fs::write(
            d.path().join("config.json"),
            r#"{"ociVersion":"1.2.0","root":{"path":"../../etc"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}}"#,
        )
        .unwrap();
        let e = load_bundle(d.path(), Purpose::Create).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::Invalid.as_str(), Some("root.path"))
        );
    }
}
