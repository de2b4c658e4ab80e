//! Signal names: the one table from `KILL`/`SIGKILL`/`9` to numbers and
//! back, as `kill(1)`, runc and the Node `os.constants.signals` spell them.

/// (name without `SIG`, number): the Linux x86-64/arm64 numbering. Aliases
/// (`IOT`, `POLL`) follow the name they alias, so a number's name is the
/// first entry with it.
pub const SIGNALS: [(&str, i32); 33] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// A signal number from `9`, `KILL`, `kill` or `SIGKILL` (1 to 64), or `None`.
pub fn number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// The `SIG...` name of a signal number, or `None` (real-time signals).
pub fn name(n: i32) -> Option<String> {
    SIGNALS
        .iter()
        .find(|(_, v)| *v == n)
        .map(|(name, _)| format!("SIG{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(number("KILL"), Some(9));
        assert_eq!(number("SIGTERM"), Some(15));
        assert_eq!(number("sigint"), Some(2));
        assert_eq!(number("2"), Some(2));
        assert_eq!(number("65"), None);
        assert_eq!(number("NOPE"), None);
        assert_eq!(name(6).as_deref(), Some("SIGABRT"));
        assert_eq!(name(29).as_deref(), Some("SIGIO"));
        assert_eq!(name(40), None);
        for (n, v) in SIGNALS {
            assert_eq!(number(n), Some(v));
        }
    }
}
