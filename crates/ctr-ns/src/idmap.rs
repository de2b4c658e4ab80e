//! User-namespace id maps, written by the parent: directly as root, or
//! through Debian's setuid `newuidmap`/`newgidmap` helpers otherwise.

use crate::Code;
use ctr_common::Error;

/// One line of a uid or gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMap {
    /// First id inside the namespace.
    pub inside: u32,
    /// First id outside (in the parent's namespace).
    pub outside: u32,
    /// How many ids.
    pub count: u32,
}

/// The maps of one new user namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMaps {
    /// uid map lines.
    pub uid: Vec<IdMap>,
    /// gid map lines.
    pub gid: Vec<IdMap>,
    /// `Some(true)`: write `deny` to `setgroups` before the gid map;
    /// `Some(false)`: leave it. `None`: deny exactly when the kernel
    /// requires it (a non-root parent writing its own gid directly).
    pub setgroups_deny: Option<bool>,
    /// Use newuidmap/newgidmap even as root.
    pub use_helpers: bool,
}

/// The text the kernel expects in `uid_map`/`gid_map`.
pub fn map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.inside, m.outside, m.count))
        .collect()
}

/// Check the maps before the clone.
pub fn validate(maps: &IdMaps) -> Result<(), Error> {
    for (name, list) in [("uidMap", &maps.uid), ("gidMap", &maps.gid)] {
        if list.len() > 340 {
            return Err(Error::new(
                Code::InvalidOption,
                format!("{name} has more than 340 lines"),
            )
            .with_field(name));
        }
        for m in list.iter() {
            if m.count == 0 {
                return Err(
                    Error::new(Code::InvalidOption, format!("{name} entry with count 0"))
                        .with_field(name),
                );
            }
        }
    }
    Ok(())
}

fn helper(prog: &str, pid: i32, maps: &[IdMap], file: &str) -> Result<(), Error> {
    let mut cmd = std::process::Command::new(prog);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.arg(m.inside.to_string())
            .arg(m.outside.to_string())
            .arg(m.count.to_string());
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::io(
                Code::IdMap,
                "execve",
                &e,
                format!("run {prog} (apt-get install uidmap)"),
            )
            .with_path(prog)
        })?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_lowercase();
        return Err(Error::new(
            Code::IdMap,
            format!("{prog} refused the map for {file}: {msg}"),
        )
        .with_path(format!("/proc/{pid}/{file}"))
        .with_syscall(prog.to_string()));
    }
    Ok(())
}

fn write_file(pid: i32, file: &str, text: &str) -> Result<(), Error> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::write(&path, text).map_err(|e| {
        Error::io(
            Code::IdMap,
            "write",
            &e,
            format!("write {path} ({:?})", text.trim()),
        )
        .with_path(&path)
    })
}

/// Whether `maps` is exactly one id, `own`, mapped once: an unprivileged
/// process may write that itself (gid only after `setgroups` `deny`).
fn only_own(maps: &[IdMap], own: u32) -> bool {
    maps.is_empty() || (maps.len() == 1 && maps[0].outside == own && maps[0].count == 1)
}

/// Write the maps of the user namespace of `pid`.
pub fn write_maps(pid: i32, maps: &IdMaps) -> Result<(), Error> {
    let root = unsafe { libc::geteuid() } == 0;
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    // A non-root parent mapping just itself writes directly, like
    // `unshare -r`; anything else goes through the setuid helpers.
    let own = !root && !maps.use_helpers && only_own(&maps.uid, euid) && only_own(&maps.gid, egid);
    if own {
        if !maps.uid.is_empty() {
            write_file(pid, "uid_map", &map_text(&maps.uid))?;
        }
        if !maps.gid.is_empty() {
            if maps.setgroups_deny != Some(false) {
                write_file(pid, "setgroups", "deny")?;
            }
            write_file(pid, "gid_map", &map_text(&maps.gid))?;
        }
        return Ok(());
    }
    let helpers = maps.use_helpers || !root;
    if helpers {
        if !maps.uid.is_empty() {
            helper("newuidmap", pid, &maps.uid, "uid_map")?;
        }
        if let Some(true) = maps.setgroups_deny {
            write_file(pid, "setgroups", "deny")?;
        }
        if !maps.gid.is_empty() {
            helper("newgidmap", pid, &maps.gid, "gid_map")?;
        }
        return Ok(());
    }
    if !maps.uid.is_empty() {
        write_file(pid, "uid_map", &map_text(&maps.uid))?;
    }
    if maps.setgroups_deny.unwrap_or(false) {
        write_file(pid, "setgroups", "deny")?;
    }
    if !maps.gid.is_empty() {
        write_file(pid, "gid_map", &map_text(&maps.gid))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_validation() {
        let m = [
            IdMap {
                inside: 0,
                outside: 1000,
                count: 1,
            },
            IdMap {
                inside: 1,
                outside: 100000,
                count: 65536,
            },
        ];
        assert_eq!(map_text(&m), "0 1000 1\n1 100000 65536\n");
        let bad = IdMaps {
            uid: vec![IdMap {
                inside: 0,
                outside: 0,
                count: 0,
            }],
            ..Default::default()
        };
        assert_eq!(validate(&bad).unwrap_err().path.as_deref(), Some("uidMap"));
    }
}
