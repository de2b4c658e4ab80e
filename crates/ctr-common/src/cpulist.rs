//! Cpu and NUMA node lists as Linux and the OCI spec write them: `0-3,7`,
//! comma-separated numbers and inclusive ranges (the kernel's "list
//! format", as in `cpuset.cpus` or `/sys/devices/system/node/online`).
//!
//! The one parser of that syntax: process affinity
//! (`process.execCPUAffinity`, `@ctr/ns` `cpuAffinity`), memory policy
//! nodes (`linux.memoryPolicy.nodes`, `@ctr/ns` `memoryPolicy.nodes`), the
//! cgroup cpuset (`linux.resources.cpu.cpus`/`mems`, systemd's
//! `AllowedCPUs`) and the stats read back from the kernel all go through
//! [`parse`]. Each caller says what the numbers count ([`Unit`]: the noun
//! of the messages and the highest number allowed) and, with
//! [`parse_field`], which code and field an error names.

use crate::{Error, ErrorCode, Result};

/// The highest cpu of an affinity mask (`cpu_set_t` holds `CPU_SETSIZE`
/// = 1024 cpus).
pub const MAX_CPU: u32 = 1023;

/// The highest NUMA node of a memory policy (the kernel's `MAX_NUMNODES`
/// is at most 1 << 10).
pub const MAX_NODE: u32 = 1023;

/// The highest cpu a cgroup cpuset can name (the kernel's largest
/// `NR_CPUS`, 8192; systemd's masks stop there too).
pub const MAX_CPUSET: u32 = 8191;

/// What the numbers of a list count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    /// What one number is called in messages (`cpu`, `node`).
    pub noun: &'static str,
    /// The highest number allowed.
    pub max: u32,
}

/// Cpus of an affinity mask (0 to [`MAX_CPU`]).
pub const CPU: Unit = Unit {
    noun: "cpu",
    max: MAX_CPU,
};

/// NUMA nodes of a memory policy (0 to [`MAX_NODE`]).
pub const NODE: Unit = Unit {
    noun: "node",
    max: MAX_NODE,
};

/// Cpus or memory nodes of a cgroup cpuset (0 to [`MAX_CPUSET`]).
pub const CPUSET: Unit = Unit {
    noun: "cpu or node",
    max: MAX_CPUSET,
};

/// The numbers of `list`, sorted and without repeats; an empty (or blank)
/// list is no numbers. Spaces around numbers and commas are allowed; an
/// empty item (`1,,2`), a sign, a reversed range (`3-1`) or a number above
/// `unit.max` is refused with a lower-case message quoting the list.
pub fn parse(list: &str, unit: Unit) -> std::result::Result<Vec<u32>, String> {
    let mut out = Vec::new();
    if list.trim().is_empty() {
        return Ok(out);
    }
    let Unit { noun, max } = unit;
    let bad = |why: String| format!("{list:?}: {why} (e.g. \"0-3,7\")");
    let num = |t: &str| -> std::result::Result<u32, String> {
        let t = t.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("{t:?} is not a {noun} number")));
        }
        match t.parse::<u32>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(bad(format!("{noun} {t} is out of range (0-{max})"))),
        }
    };
    for part in list.split(',') {
        match part.split_once('-') {
            None => out.push(num(part)?),
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad(format!("range {a}-{b} is reversed")));
                }
                out.extend(a..=b);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// [`parse`] for the option or config field `field`: an error is `code`
/// with a message starting with the field and [`Error::path`] set to it.
pub fn parse_field(list: &str, unit: Unit, code: impl ErrorCode, field: &str) -> Result<Vec<u32>> {
    parse(list, unit)
        .map_err(|why| Error::new(code.as_str(), format!("{field}: {why}")).with_field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Any crate's code does: the callers pass their own (`ENS_INVALID_OPTION`, ...).
    use crate::Code as TestCode;
    const BAD: TestCode = TestCode::Internal;

    #[test]
    fn numbers_and_ranges_sorted_without_repeats() {
        assert_eq!(parse("0-3,7", CPU).unwrap(), vec![0, 1, 2, 3, 7]);
        assert_eq!(parse("5, 1,1", NODE).unwrap(), vec![1, 5]);
        assert_eq!(parse(" 2 - 4 ", CPU).unwrap(), vec![2, 3, 4]);
        assert_eq!(parse("1023", CPU).unwrap(), vec![1023]);
        assert_eq!(parse("8191", CPUSET).unwrap(), vec![8191]);
        assert_eq!(parse("", NODE).unwrap(), Vec::<u32>::new());
        assert_eq!(parse("  ", NODE).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn malformed_lists_are_refused_saying_why() {
        for (bad, why) in [
            ("a", "\"a\" is not a cpu number"),
            ("1-", "\"\" is not a cpu number"),
            ("-1", "\"\" is not a cpu number"),
            ("+1", "\"+1\" is not a cpu number"),
            ("1,,2", "\"\" is not a cpu number"),
            ("0-3,", "\"\" is not a cpu number"),
            ("1-2-3", "\"2-3\" is not a cpu number"),
            ("3-1", "range 3-1 is reversed"),
            ("1024", "cpu 1024 is out of range (0-1023)"),
            ("0-99999999999", "cpu 99999999999 is out of range (0-1023)"),
        ] {
            let e = parse(bad, CPU).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.starts_with(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(parse("2048", NODE).unwrap_err().contains("node 2048"));
    }

    #[test]
    fn a_field_error_carries_the_callers_code_and_field() {
        let e = parse_field("3-1", CPU, BAD, "process.execCPUAffinity.initial").unwrap_err();
        assert_eq!(TestCode::from_code(&e.code), Some(BAD));
        assert_eq!(e.path.as_deref(), Some("process.execCPUAffinity.initial"));
        assert!(
            e.message
                .starts_with("process.execCPUAffinity.initial: \"3-1\": range 3-1 is reversed"),
            "{}",
            e.message
        );
        assert_eq!(parse_field("0,2", NODE, BAD, "nodes").unwrap(), vec![0, 2]);
    }
}
