//! Resolving a user's cgroup path against a hierarchy: the one rule for
//! every caller (the Rust API, @ctr/cgroup, the `ctr-cgroup` command line
//! and the runtime).
//!
//! - An absolute path (`/jobs/1`) names the same cgroup whoever asks: it
//!   starts at the root of each hierarchy.
//! - A relative path (`jobs/1`) is refused (`ECGROUP_RELATIVE_PATH`)
//!   unless the caller opts in with [`RelativePaths::UnderOwnCgroup`]:
//!   then it is joined to the caller's own cgroup in each hierarchy (from
//!   `/proc/self/cgroup`; on v1 that may differ per hierarchy). The
//!   runtime opts in for OCI's relative `cgroupsPath`, as runc does.
//! - `..`, `.`, empty names and NUL are refused (`ECGROUP_INVALID_PATH`).

use crate::Code;
use ctr_common::Error;

/// How a path without a leading `/` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelativePaths {
    /// Refused with `ECGROUP_RELATIVE_PATH` (the default), so a path never
    /// silently depends on where the caller happens to run.
    #[default]
    Refuse,
    /// Joined to the caller's own cgroup in each hierarchy.
    UnderOwnCgroup,
}

/// Check `path` against [`RelativePaths`] and split it: whether it is
/// relative to the caller's cgroup, and its names.
pub fn check(path: &str, relative: RelativePaths) -> Result<(bool, Vec<String>), Error> {
    let (absolute, parts) = components(path)?;
    if !absolute && relative == RelativePaths::Refuse {
        return Err(Error::new(
            Code::RelativePath,
            format!(
                "cgroup path {path:?} is relative: write it from the hierarchy root (\"/{}\"), \
                 or opt in to joining it to the caller's own cgroup",
                parts.join("/")
            ),
        )
        .with_field(path.to_string()));
    }
    Ok((absolute, parts))
}

/// Split and check a user path. Absolute paths (`/a/b`) are from the
/// hierarchy's root; relative ones (`a/b`) are under the caller's own
/// cgroup (callers go through [`check`], which refuses them unless asked).
/// `..`, `.` and empty components are refused.
pub fn components(path: &str) -> Result<(bool, Vec<String>), Error> {
    let bad = |why: &str| {
        Error::new(
            Code::InvalidPath,
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
                check(bad, RelativePaths::UnderOwnCgroup).unwrap_err().code,
                Code::InvalidPath.as_str(),
                "{bad:?}"
            );
            assert_eq!(
                components(bad).unwrap_err().code,
                Code::InvalidPath.as_str(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn relative_paths_are_an_explicit_opt_in() {
        let e = check("jobs/1", RelativePaths::Refuse).unwrap_err();
        assert_eq!(e.code, Code::RelativePath.as_str());
        assert!(e.message.contains("\"/jobs/1\""), "{}", e.message);
        assert_eq!(RelativePaths::default(), RelativePaths::Refuse);
        let (abs, p) = check("jobs/1", RelativePaths::UnderOwnCgroup).unwrap();
        assert_eq!(resolve("/user.slice", abs, &p), "/user.slice/jobs/1");
        // Absolute paths are the same either way.
        for r in [RelativePaths::Refuse, RelativePaths::UnderOwnCgroup] {
            let (abs, p) = check("/jobs/1", r).unwrap();
            assert_eq!(resolve("/user.slice", abs, &p), "/jobs/1");
        }
    }
}
