//! Mount options: the one table from `mount(8)`-style option names to
//! `MS_*` flags, propagation, `MOUNT_ATTR_*` recursive attributes and the
//! OCI mount extensions. The runtime parses a config's options here once
//! and hands the parsed [`MountOptions`] to the rootfs plan; `features`
//! lists [`known_options`].
// `MS_*` constants are `c_ulong`: the casts to u64 are kept for portability.
#![allow(clippy::unnecessary_cast)]

use crate::syscalls::{
    MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME,
};

/// `MS_NOSYMFOLLOW` (Linux 5.10; not in every libc).
pub const MS_NOSYMFOLLOW: u64 = 256;

/// Options that change the `MS_*` flags of the mount: (name, set, clear).
/// `loud` clears `MS_SILENT` (the opposite of `silent`, as in `mount(8)`).
pub const FLAG_OPTIONS: [(&str, u64, u64); 29] = [
    ("ro", libc::MS_RDONLY as u64, 0),
    ("rw", 0, libc::MS_RDONLY as u64),
    ("nosuid", libc::MS_NOSUID as u64, 0),
    ("suid", 0, libc::MS_NOSUID as u64),
    ("nodev", libc::MS_NODEV as u64, 0),
    ("dev", 0, libc::MS_NODEV as u64),
    ("noexec", libc::MS_NOEXEC as u64, 0),
    ("exec", 0, libc::MS_NOEXEC as u64),
    ("sync", libc::MS_SYNCHRONOUS as u64, 0),
    ("async", 0, libc::MS_SYNCHRONOUS as u64),
    ("dirsync", libc::MS_DIRSYNC as u64, 0),
    ("remount", libc::MS_REMOUNT as u64, 0),
    ("mand", libc::MS_MANDLOCK as u64, 0),
    ("nomand", 0, libc::MS_MANDLOCK as u64),
    ("atime", 0, libc::MS_NOATIME as u64),
    ("noatime", libc::MS_NOATIME as u64, 0),
    ("diratime", 0, libc::MS_NODIRATIME as u64),
    ("nodiratime", libc::MS_NODIRATIME as u64, 0),
    ("relatime", libc::MS_RELATIME as u64, 0),
    ("norelatime", 0, libc::MS_RELATIME as u64),
    ("strictatime", libc::MS_STRICTATIME as u64, 0),
    ("nostrictatime", 0, libc::MS_STRICTATIME as u64),
    ("defaults", 0, 0),
    ("silent", libc::MS_SILENT as u64, 0),
    ("loud", 0, libc::MS_SILENT as u64),
    ("nosymfollow", MS_NOSYMFOLLOW, 0),
    ("symfollow", 0, MS_NOSYMFOLLOW),
    ("bind", libc::MS_BIND as u64, 0),
    ("rbind", (libc::MS_BIND | libc::MS_REC) as u64, 0),
];

/// Propagation options: (name, `MS_*` propagation flags).
pub const PROPAGATION_OPTIONS: [(&str, u64); 8] = [
    ("private", libc::MS_PRIVATE as u64),
    ("rprivate", (libc::MS_PRIVATE | libc::MS_REC) as u64),
    ("shared", libc::MS_SHARED as u64),
    ("rshared", (libc::MS_SHARED | libc::MS_REC) as u64),
    ("slave", libc::MS_SLAVE as u64),
    ("rslave", (libc::MS_SLAVE | libc::MS_REC) as u64),
    ("unbindable", libc::MS_UNBINDABLE as u64),
    ("runbindable", (libc::MS_UNBINDABLE | libc::MS_REC) as u64),
];

/// Recursive attribute options (`mount_setattr(2)` with `AT_RECURSIVE`),
/// as runc and crun read them: (name, `MOUNT_ATTR_*` to set, to clear).
/// The atime mode is one value: the kernel takes a new one only with the
/// whole `MOUNT_ATTR__ATIME` field cleared.
pub const RECURSIVE_OPTIONS: [(&str, u64, u64); 18] = [
    ("rro", MOUNT_ATTR_RDONLY, 0),
    ("rrw", 0, MOUNT_ATTR_RDONLY),
    ("rnosuid", MOUNT_ATTR_NOSUID, 0),
    ("rsuid", 0, MOUNT_ATTR_NOSUID),
    ("rnodev", MOUNT_ATTR_NODEV, 0),
    ("rdev", 0, MOUNT_ATTR_NODEV),
    ("rnoexec", MOUNT_ATTR_NOEXEC, 0),
    ("rexec", 0, MOUNT_ATTR_NOEXEC),
    ("rnodiratime", MOUNT_ATTR_NODIRATIME, 0),
    ("rdiratime", 0, MOUNT_ATTR_NODIRATIME),
    ("rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME),
    ("ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME),
    ("rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME),
    ("rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME),
    ("rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
    ("rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
    ("rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0),
    ("rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW),
];

/// The OCI mount extensions that are neither flags nor data: id-mapped
/// binds and the tmpfs copy-up.
pub const EXTENSION_OPTIONS: [&str; 3] = ["idmap", "ridmap", "tmpcopyup"];

/// Parsed mount options.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MountOptions {
    /// `MS_*` flags for the mount itself.
    pub flags: u64,
    /// Propagation flags applied afterwards (`MS_PRIVATE` etc., `MS_REC`).
    pub propagation: u64,
    /// File-system data (comma-joined unknown options).
    pub data: String,
    /// `bind` or `rbind` was given.
    pub bind: bool,
    /// `MOUNT_ATTR_*` set recursively (`rro`, `rnosuid`, ...).
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` cleared recursively (`rrw`, `rsuid`, ...).
    pub attr_clr: u64,
    /// The recursive attribute options as given (for messages).
    pub attr_names: Vec<String>,
    /// `idmap` (or `ridmap`, then `recursive_idmap` too).
    pub idmap: bool,
    /// `ridmap`: the id mapping applies to every submount of the bind.
    pub recursive_idmap: bool,
    /// `tmpcopyup`.
    pub tmpcopyup: bool,
}

impl MountOptions {
    /// Parse `mount(8)`-style options (see [`parse_options`]).
    pub fn parse<S: AsRef<str>>(options: &[S]) -> Self {
        parse_options(options)
    }
}

/// A flag option as (`MS_*` to set, to clear), or `None`.
pub fn flag_option(opt: &str) -> Option<(u64, u64)> {
    FLAG_OPTIONS
        .iter()
        .find(|(n, ..)| *n == opt)
        .map(|&(_, s, c)| (s, c))
}

/// A recursive attribute option (`rro`, `rnoatime`, ...) as
/// (`MOUNT_ATTR_*` to set, to clear), or `None`.
pub fn recursive_attr(opt: &str) -> Option<(u64, u64)> {
    RECURSIVE_OPTIONS
        .iter()
        .find(|(n, ..)| *n == opt)
        .map(|&(_, s, c)| (s, c))
}

/// `private`/`rslave`/... as `MS_*` flags, or `None`.
pub fn propagation_flags(name: &str) -> Option<u64> {
    PROPAGATION_OPTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, f)| f)
}

/// Parse `mount(8)`-style options; a later option wins over an earlier
/// one, unknown options are file-system data.
pub fn parse_options<S: AsRef<str>>(options: &[S]) -> MountOptions {
    let mut o = MountOptions::default();
    let mut data: Vec<&str> = Vec::new();
    for opt in options {
        let opt = opt.as_ref();
        if let Some((set, clear)) = flag_option(opt) {
            o.bind |= set & libc::MS_BIND as u64 != 0;
            o.flags = (o.flags | set) & !clear;
        } else if let Some(p) = propagation_flags(opt) {
            o.propagation |= p;
        } else if let Some((set, clr)) = recursive_attr(opt) {
            if clr & MOUNT_ATTR__ATIME != 0 {
                o.attr_set &= !MOUNT_ATTR__ATIME;
            }
            o.attr_set = (o.attr_set & !clr) | set;
            o.attr_clr = (o.attr_clr & !(set & !MOUNT_ATTR__ATIME)) | clr;
            o.attr_names.push(opt.to_string());
        } else {
            match opt {
                "idmap" => o.idmap = true,
                "ridmap" => {
                    o.idmap = true;
                    o.recursive_idmap = true;
                }
                "tmpcopyup" => o.tmpcopyup = true,
                other => data.push(other),
            }
        }
    }
    o.data = data.join(",");
    o
}

/// Every option name this crate understands, sorted (for `features`).
pub fn known_options() -> Vec<String> {
    let mut v: Vec<String> = FLAG_OPTIONS
        .iter()
        .map(|(n, ..)| *n)
        .chain(PROPAGATION_OPTIONS.iter().map(|(n, _)| *n))
        .chain(RECURSIVE_OPTIONS.iter().map(|(n, ..)| *n))
        .chain(EXTENSION_OPTIONS)
        .map(String::from)
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loud_clears_silent() {
        // The runtime's table cleared MS_SILENT for `loud`, ctr-ns ignored
        // it: `mount(8)` makes `loud` the opposite of `silent`, so it clears.
        assert_eq!(parse_options(&["silent", "loud"]).flags, 0);
        assert_eq!(
            parse_options(&["loud", "silent"]).flags,
            libc::MS_SILENT as u64
        );
        assert!(known_options().iter().any(|o| o == "loud"));
    }

    #[test]
    fn every_name_is_in_one_table_once() {
        let all = known_options();
        let mut dedup = all.clone();
        dedup.dedup();
        assert_eq!(all, dedup, "an option name appears in two tables");
        for o in &all {
            let p = parse_options(&[o]);
            assert_eq!(p.data, "", "{o} is known, so it is not data");
        }
    }
}
