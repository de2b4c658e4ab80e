//! Resolving a user's cgroup path against a hierarchy.

use ctr_common::Error;

/// Split and check a user path. Absolute paths (`/a/b`) are from the
/// hierarchy's root; relative ones (`a/b`) are under the caller's own
/// cgroup. `..`, `.` and empty components are refused.
pub fn components(path: &str) -> Result<(bool, Vec<String>), Error> {
    let bad = |why: &str| {
        Error::new(
            "ECGROUP_INVALID_PATH",
            format!("invalid cgroup path {path:?}: {why}"),
        )
        .with_field(path.to_string())
    };
    if path.is_empty() || path.contains('\0') {
        return Err(bad("empty or contains NUL"));
    }
    let absolute = path.starts_with('/');
    let parts: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if parts.is_empty() {
        return Err(bad("names the root cgroup"));
    }
    for p in &parts {
        if p == ".." || p == "." {
            return Err(bad(
                "must not contain '.' or '..' (it would escape the hierarchy)",
            ));
        }
        if p.len() > 255 {
            return Err(bad("component longer than 255 bytes"));
        }
    }
    Ok((absolute, parts))
}

/// The directory (relative to the mount point) for `path` given the
/// caller's own cgroup in that hierarchy.
pub fn resolve(own: &str, absolute: bool, parts: &[String]) -> String {
    let mut out: Vec<&str> = if absolute {
        vec![]
    } else {
        own.split('/').filter(|s| !s.is_empty()).collect()
    };
    out.extend(parts.iter().map(|s| s.as_str()));
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let (abs, p) = components("/a/b/").unwrap();
        assert!(abs);
        assert_eq!(resolve("/user.slice", abs, &p), "/a/b");
        let (abs, p) = components("x").unwrap();
        assert_eq!(resolve("/user.slice", abs, &p), "/user.slice/x");
        assert_eq!(resolve("/", abs, &p), "/x");
        for bad in ["", "/", "../x", "a/../../b", "a/./b", "a\0b"] {
            assert_eq!(
                components(bad).unwrap_err().code,
                "ECGROUP_INVALID_PATH",
                "{bad:?}"
            );
        }
    }
}
