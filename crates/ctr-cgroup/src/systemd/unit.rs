//! `cgroupsPath` in the systemd form, `slice:prefix:name`, to the unit
//! name and the cgroup directory systemd gives it (as runc and crun read it).

use crate::Code;
use ctr_common::Error;

/// Where a container's scope goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitPath {
    /// The parent slice, e.g. `system.slice`.
    pub slice: String,
    /// The unit: `<prefix>-<name>.scope` (`<name>.scope` without a prefix).
    pub unit: String,
    /// The cgroup directory below the cgroup2 mount, e.g.
    /// `/system.slice/ctr-abc.scope`; nested slices expand
    /// (`a-b.slice` is `/a.slice/a-b.slice`).
    pub cgroup: String,
}

/// The slice a path without one goes to (runc's default for root).
pub const DEFAULT_SLICE: &str = "system.slice";

fn bad(field: &str, what: String) -> Error {
    Error::new(Code::InvalidPath, what).with_field(field.to_string())
}

/// Parse `slice:prefix:name`. An empty slice is [`DEFAULT_SLICE`]; `field`
/// names the value in errors (`linux.cgroupsPath`, `path`).
pub fn parse(path: &str, field: &str) -> Result<UnitPath, Error> {
    let parts: Vec<&str> = path.split(':').collect();
    let [slice, prefix, name] = parts[..] else {
        return Err(bad(
            field,
            format!("{field}: {path:?} is not of the form \"slice:prefix:name\" that the systemd cgroup driver needs"),
        ));
    };
    if name.is_empty() {
        return Err(bad(field, format!("{field}: {path:?} has an empty name")));
    }
    let slice = if slice.is_empty() {
        DEFAULT_SLICE
    } else {
        slice
    };
    for (what, v) in [("slice", slice), ("prefix", prefix), ("name", name)] {
        if v.contains('/')
            || v.chars().any(|c| c.is_whitespace() || c.is_control())
            || v == "."
            || v == ".."
        {
            return Err(bad(field, format!("{field}: the {what} {v:?} must be a plain unit name (no '/', space or control character)")));
        }
    }
    if name.ends_with(".slice") {
        return Err(bad(
            field,
            format!("{field}: a container goes into a scope, not the slice {name:?}"),
        ));
    }
    let unit = if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    Ok(UnitPath {
        cgroup: format!("{}/{unit}", expand_slice(slice, field)?),
        slice: slice.to_string(),
        unit,
    })
}

/// The cgroup directory of a slice: `a-b-c.slice` lives at
/// `/a.slice/a-b.slice/a-b-c.slice`; `-.slice` is the root.
pub fn expand_slice(slice: &str, field: &str) -> Result<String, Error> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(bad(
            field,
            format!("{field}: the slice {slice:?} must end in \".slice\""),
        ));
    };
    if stem == "-" {
        return Ok(String::new());
    }
    if stem.is_empty() || stem.starts_with('-') || stem.ends_with('-') || stem.contains("--") {
        return Err(bad(
            field,
            format!("{field}: {slice:?} is not a valid slice name"),
        ));
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push('/');
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_prefix_name() {
        let u = parse("system.slice:ctr:abc", "linux.cgroupsPath").unwrap();
        assert_eq!(u.unit, "ctr-abc.scope");
        assert_eq!(u.slice, "system.slice");
        assert_eq!(u.cgroup, "/system.slice/ctr-abc.scope");
    }

    #[test]
    fn nested_slices_expand() {
        let u = parse("machine-web-a.slice:ctr:x", "p").unwrap();
        assert_eq!(
            u.cgroup,
            "/machine.slice/machine-web.slice/machine-web-a.slice/ctr-x.scope"
        );
        assert_eq!(expand_slice("-.slice", "p").unwrap(), "");
        assert_eq!(parse("-.slice::x", "p").unwrap().cgroup, "/x.scope");
    }

    #[test]
    fn defaults_and_empty_prefix() {
        let u = parse(":ctrun:id1", "p").unwrap();
        assert_eq!(u.cgroup, "/system.slice/ctrun-id1.scope");
        assert_eq!(parse("user.slice::id1", "p").unwrap().unit, "id1.scope");
    }

    #[test]
    fn bad_forms_name_the_field() {
        for p in [
            "/a/b",
            "a:b",
            "a:b:c:d",
            "system.slice:ctr:",
            "sys:ctr:a",
            "a--b.slice:c:d",
            "-a.slice:c:d",
            "system.slice:c/x:d",
            "system.slice:ctr:x.slice",
        ] {
            let e = parse(p, "linux.cgroupsPath").unwrap_err();
            assert_eq!(e.code, Code::InvalidPath.as_str(), "{p}");
            assert_eq!(e.path.as_deref(), Some("linux.cgroupsPath"), "{p}");
            assert!(
                e.message.starts_with("linux.cgroupsPath: "),
                "{}",
                e.message
            );
        }
    }
}
