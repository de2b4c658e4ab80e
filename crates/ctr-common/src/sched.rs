//! Scheduling, NUMA memory policy and I/O priority: the kernel's names and
//! numbers, and the rules a value must follow (the kernel's own, checked
//! early so a bad value fails naming its field instead of as `EINVAL` from
//! the child). The OCI config path (ctr-oci, ctr-runtime) and the Node API
//! path (ctr-ns `Prepared::new`, which every `@ctr/ns` spawn goes through)
//! both check here; the TypeScript layer only maps its short names.
//!
//! A rule broken is a [`Broken`]: the sub-field at fault (`priority`,
//! `nodes`, `flags`, ...) and a lower-case message; each caller adds its
//! own code and field prefix.

/// A broken rule: (sub-field, message).
pub type Broken = (&'static str, String);

/// `SCHED_*` policies and their numbers.
pub const SCHED_POLICIES: [(&str, u32); 7] = [
    ("SCHED_OTHER", 0),
    ("SCHED_FIFO", 1),
    ("SCHED_RR", 2),
    ("SCHED_BATCH", 3),
    ("SCHED_ISO", 4),
    ("SCHED_IDLE", 5),
    ("SCHED_DEADLINE", 6),
];

/// `SCHED_FLAG_*` bits.
pub const SCHED_FLAGS: [(&str, u64); 7] = [
    ("SCHED_FLAG_RESET_ON_FORK", 0x01),
    ("SCHED_FLAG_RECLAIM", 0x02),
    ("SCHED_FLAG_DL_OVERRUN", 0x04),
    ("SCHED_FLAG_KEEP_POLICY", 0x08),
    ("SCHED_FLAG_KEEP_PARAMS", 0x10),
    ("SCHED_FLAG_UTIL_CLAMP_MIN", 0x20),
    ("SCHED_FLAG_UTIL_CLAMP_MAX", 0x40),
];

/// `MPOL_*` modes and their numbers.
pub const MPOL_MODES: [(&str, i32); 7] = [
    ("MPOL_DEFAULT", 0),
    ("MPOL_PREFERRED", 1),
    ("MPOL_BIND", 2),
    ("MPOL_INTERLEAVE", 3),
    ("MPOL_LOCAL", 4),
    ("MPOL_PREFERRED_MANY", 5),
    ("MPOL_WEIGHTED_INTERLEAVE", 6),
];

/// `MPOL_F_*` mode flags and their values.
pub const MPOL_FLAGS: [(&str, i32); 3] = [
    ("MPOL_F_NUMA_BALANCING", 1 << 13),
    ("MPOL_F_RELATIVE_NODES", 1 << 14),
    ("MPOL_F_STATIC_NODES", 1 << 15),
];

/// `IOPRIO_CLASS_*` and their numbers.
pub const IOPRIO_CLASSES: [(&str, i32); 3] = [
    ("IOPRIO_CLASS_RT", 1),
    ("IOPRIO_CLASS_BE", 2),
    ("IOPRIO_CLASS_IDLE", 3),
];

fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

fn name_of<T: Copy + PartialEq>(table: &[(&'static str, T)], v: T) -> &'static str {
    table
        .iter()
        .find(|(_, x)| *x == v)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

/// The number of a `SCHED_*` policy name.
pub fn sched_policy(name: &str) -> Option<u32> {
    lookup(&SCHED_POLICIES, name)
}

/// The bit of a `SCHED_FLAG_*` name.
pub fn sched_flag(name: &str) -> Option<u64> {
    lookup(&SCHED_FLAGS, name)
}

/// The number of an `MPOL_*` mode name.
pub fn mpol_mode(name: &str) -> Option<i32> {
    lookup(&MPOL_MODES, name)
}

/// The value of an `MPOL_F_*` flag name.
pub fn mpol_flag(name: &str) -> Option<i32> {
    lookup(&MPOL_FLAGS, name)
}

/// The number of an `IOPRIO_CLASS_*` name.
pub fn ioprio_class(name: &str) -> Option<i32> {
    lookup(&IOPRIO_CLASSES, name)
}

/// A `sched_setattr(2)` request, as plain numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sched {
    /// `SCHED_*` number.
    pub policy: u32,
    /// `SCHED_FLAG_*` bits.
    pub flags: u64,
    /// Nice value.
    pub nice: i32,
    /// Static priority.
    pub priority: u32,
    /// `SCHED_DEADLINE` runtime (ns).
    pub runtime: u64,
    /// `SCHED_DEADLINE` deadline (ns).
    pub deadline: u64,
    /// `SCHED_DEADLINE` period (ns).
    pub period: u64,
}

/// The scheduler rules (runc's plus the kernel's): a known policy and
/// flags; nice -20..19; a priority only for `SCHED_FIFO`/`SCHED_RR`, and
/// there 1..99; runtime, deadline and period only for `SCHED_DEADLINE`,
/// and there all three with runtime <= deadline <= period.
pub fn check_sched(s: &Sched) -> Result<(), Broken> {
    if !SCHED_POLICIES.iter().any(|(_, p)| *p == s.policy) {
        return Err(("policy", format!("unknown policy {}", s.policy)));
    }
    let known: u64 = SCHED_FLAGS.iter().map(|(_, b)| b).sum();
    if s.flags & !known != 0 {
        return Err(("flags", format!("unknown flags {:#x}", s.flags & !known)));
    }
    if !(-20..=19).contains(&s.nice) {
        return Err(("nice", format!("{} is out of range (-20..19)", s.nice)));
    }
    let name = name_of(&SCHED_POLICIES, s.policy);
    let rt = s.policy == 1 || s.policy == 2;
    if rt && !(1..=99).contains(&s.priority) {
        return Err((
            "priority",
            format!("{name} needs a priority of 1..99 (got {})", s.priority),
        ));
    }
    if !rt && s.priority != 0 {
        return Err((
            "priority",
            "is only valid for SCHED_FIFO and SCHED_RR".into(),
        ));
    }
    let dl = [
        ("runtime", s.runtime),
        ("deadline", s.deadline),
        ("period", s.period),
    ];
    if s.policy == 6 {
        if let Some((k, _)) = dl.iter().find(|(_, v)| *v == 0) {
            return Err((
                k,
                "SCHED_DEADLINE needs runtime, deadline and period".into(),
            ));
        }
        if s.runtime > s.deadline {
            return Err(("runtime", "must not exceed the deadline".into()));
        }
        if s.deadline > s.period {
            return Err(("deadline", "must not exceed the period".into()));
        }
    } else if let Some((k, _)) = dl.iter().find(|(_, v)| *v != 0) {
        return Err((k, "is only valid for SCHED_DEADLINE".into()));
    }
    Ok(())
}

/// The memory policy rules (the kernel's): a known mode and flags; nodes
/// required for `MPOL_BIND`, `MPOL_INTERLEAVE`, `MPOL_WEIGHTED_INTERLEAVE`
/// and `MPOL_PREFERRED_MANY`, refused for `MPOL_DEFAULT` and `MPOL_LOCAL`;
/// `MPOL_F_STATIC_NODES` and `MPOL_F_RELATIVE_NODES` exclude each other and
/// need nodes; `MPOL_F_NUMA_BALANCING` only with `MPOL_BIND` or
/// `MPOL_PREFERRED_MANY`.
pub fn check_mempolicy(mode: i32, flags: i32, has_nodes: bool) -> Result<(), Broken> {
    if !MPOL_MODES.iter().any(|(_, m)| *m == mode) {
        return Err(("mode", format!("unknown mode {mode}")));
    }
    let known: i32 = MPOL_FLAGS.iter().map(|(_, b)| b).sum();
    if flags & !known != 0 {
        return Err(("flags", format!("unknown flags {:#x}", flags & !known)));
    }
    let name = name_of(&MPOL_MODES, mode);
    if [2, 3, 5, 6].contains(&mode) && !has_nodes {
        return Err(("nodes", format!("{name} needs at least one node")));
    }
    if [0, 4].contains(&mode) && has_nodes {
        return Err(("nodes", format!("{name} takes no nodes")));
    }
    let (stat, rel, bal) = (1 << 15, 1 << 14, 1 << 13);
    if flags & stat != 0 && flags & rel != 0 {
        return Err((
            "flags",
            "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other".into(),
        ));
    }
    if flags & (stat | rel) != 0 && !has_nodes {
        let f = if flags & stat != 0 {
            "MPOL_F_STATIC_NODES"
        } else {
            "MPOL_F_RELATIVE_NODES"
        };
        return Err(("flags", format!("{f} needs nodes")));
    }
    if flags & bal != 0 && mode != 2 && mode != 5 {
        return Err((
            "flags",
            format!(
                "MPOL_F_NUMA_BALANCING goes only with MPOL_BIND or MPOL_PREFERRED_MANY, not {name}"
            ),
        ));
    }
    Ok(())
}

/// The `ioprio_set(2)` value of a class number (1..3) and level (0..7).
pub fn io_priority(class: i32, level: i32) -> Result<i32, Broken> {
    if !IOPRIO_CLASSES.iter().any(|(_, c)| *c == class) {
        return Err(("class", format!("unknown class {class}")));
    }
    if !(0..=7).contains(&level) {
        return Err(("level", format!("{level} must be between 0 and 7")));
    }
    Ok((class << 13) | level)
}

/// Check an `ioprio_set(2)` value made of class << 13 | level.
pub fn check_io_priority(value: i32) -> Result<(), Broken> {
    io_priority(value >> 13, value & ((1 << 13) - 1)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sched_rules() {
        let ok = Sched::default();
        assert_eq!(check_sched(&ok), Ok(()));
        let fifo = |priority| Sched {
            policy: 1,
            priority,
            ..ok
        };
        assert_eq!(check_sched(&fifo(0)).unwrap_err().0, "priority");
        assert_eq!(check_sched(&fifo(50)), Ok(()));
        assert_eq!(
            check_sched(&Sched { nice: 20, ..ok }).unwrap_err().0,
            "nice"
        );
        assert_eq!(
            check_sched(&Sched { priority: 3, ..ok }).unwrap_err().0,
            "priority"
        );
        assert_eq!(
            check_sched(&Sched { period: 4, ..ok }).unwrap_err().0,
            "period"
        );
        let dl = Sched {
            policy: 6,
            runtime: 30,
            deadline: 20,
            period: 40,
            ..ok
        };
        assert_eq!(check_sched(&dl).unwrap_err().0, "runtime");
        assert_eq!(
            check_sched(&Sched { period: 0, ..dl }).unwrap_err().0,
            "period"
        );
        assert_eq!(check_sched(&Sched { runtime: 10, ..dl }), Ok(()));
        assert_eq!(
            check_sched(&Sched { flags: 0x80, ..ok }).unwrap_err().0,
            "flags"
        );
        assert_eq!(sched_policy("SCHED_RR"), Some(2));
        assert_eq!(sched_flag("SCHED_FLAG_RECLAIM"), Some(2));
    }

    #[test]
    fn mempolicy_rules() {
        assert_eq!(check_mempolicy(2, 0, true), Ok(()));
        // The TS copy took a bind without nodes; the kernel refuses it.
        assert_eq!(check_mempolicy(2, 0, false).unwrap_err().0, "nodes");
        assert_eq!(check_mempolicy(4, 0, true).unwrap_err().0, "nodes");
        assert_eq!(check_mempolicy(1, 0, false), Ok(()));
        assert_eq!(
            check_mempolicy(2, (1 << 15) | (1 << 14), true)
                .unwrap_err()
                .0,
            "flags"
        );
        assert_eq!(check_mempolicy(3, 1 << 13, true).unwrap_err().0, "flags");
        assert_eq!(check_mempolicy(9, 0, true).unwrap_err().0, "mode");
        assert_eq!(mpol_mode("MPOL_LOCAL"), Some(4));
        assert_eq!(mpol_flag("MPOL_F_STATIC_NODES"), Some(1 << 15));
    }

    #[test]
    fn io_priority_rules() {
        assert_eq!(io_priority(2, 4), Ok((2 << 13) | 4));
        assert_eq!(io_priority(2, 8).unwrap_err().0, "level");
        assert_eq!(io_priority(0, 1).unwrap_err().0, "class");
        assert_eq!(check_io_priority((3 << 13) | 7), Ok(()));
        assert_eq!(check_io_priority((2 << 13) | 9).unwrap_err().0, "level");
        assert_eq!(ioprio_class("IOPRIO_CLASS_IDLE"), Some(3));
    }
}
