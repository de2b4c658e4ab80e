//! Resource-limit names: the one table from `RLIMIT_*` names to the
//! kernel's resource numbers.

/// `RLIMIT_*` names and their resource numbers (Linux, every arch).
pub const RLIMITS: [(&str, u32); 16] = [
    ("RLIMIT_CPU", 0),
    ("RLIMIT_FSIZE", 1),
    ("RLIMIT_DATA", 2),
    ("RLIMIT_STACK", 3),
    ("RLIMIT_CORE", 4),
    ("RLIMIT_RSS", 5),
    ("RLIMIT_NPROC", 6),
    ("RLIMIT_NOFILE", 7),
    ("RLIMIT_MEMLOCK", 8),
    ("RLIMIT_AS", 9),
    ("RLIMIT_LOCKS", 10),
    ("RLIMIT_SIGPENDING", 11),
    ("RLIMIT_MSGQUEUE", 12),
    ("RLIMIT_NICE", 13),
    ("RLIMIT_RTPRIO", 14),
    ("RLIMIT_RTTIME", 15),
];

/// The resource number of an exact `RLIMIT_*` name (as an OCI config spells it).
pub fn number(name: &str) -> Option<u32> {
    RLIMITS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The resource number of a name in any case, with or without the
/// `RLIMIT_` prefix (`RLIMIT_NOFILE`, `nofile`), as the Node API takes it.
pub fn number_lenient(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let short = upper.strip_prefix("RLIMIT_").unwrap_or(&upper);
    RLIMITS
        .iter()
        .find(|(n, _)| &n["RLIMIT_".len()..] == short)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_kernel() {
        assert_eq!(number("RLIMIT_NOFILE"), Some(libc::RLIMIT_NOFILE));
        assert_eq!(number("nofile"), None, "OCI names are exact");
        assert_eq!(number_lenient("nofile"), Some(libc::RLIMIT_NOFILE));
        assert_eq!(number_lenient("RLIMIT_RTTIME"), Some(libc::RLIMIT_RTTIME));
        assert_eq!(number_lenient("bogus"), None);
        for (n, v) in RLIMITS {
            assert_eq!(number_lenient(n), Some(v));
        }
    }
}
