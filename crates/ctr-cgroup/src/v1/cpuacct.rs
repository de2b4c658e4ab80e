//! v1 cpuacct controller (usage statistics).

use crate::fsx::{keyed, read_opt, read_u64};
use crate::stats::Stats;
use std::path::Path;

fn usec_per_tick() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        1_000_000 / hz as u64
    } else {
        10_000
    }
}

/// Usage statistics.
pub fn stats(dir: &Path, s: &mut Stats) {
    s.cpu.usage_usec = read_u64(dir, "cpuacct.usage").map(|ns| ns / 1000);
    if let Some(st) = read_opt(dir, "cpuacct.stat") {
        let t = usec_per_tick();
        s.cpu.user_usec = keyed(&st, "user").map(|x| x * t);
        s.cpu.system_usec = keyed(&st, "system").map(|x| x * t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::fixture;

    #[test]
    fn reads_usage() {
        let d = tempfile::tempdir().unwrap();
        fixture(
            d.path(),
            &[
                ("cpuacct.usage", "123456789\n"),
                ("cpuacct.stat", "user 10\nsystem 5\n"),
            ],
        );
        let mut s = Stats::default();
        stats(d.path(), &mut s);
        assert_eq!(s.cpu.usage_usec, Some(123456));
        assert_eq!(s.cpu.user_usec, Some(10 * usec_per_tick()));
        assert_eq!(s.cpu.system_usec, Some(5 * usec_per_tick()));
    }
}
