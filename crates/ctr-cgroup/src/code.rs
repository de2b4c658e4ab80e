//! The error codes of this crate: stable strings (`ECGROUP_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-cgroup`: control groups, v1, v2 and hybrid.
    pub enum Code {
        /// the cgroup v2 device program could not be loaded, attached or listed
        Bpf = "ECGROUP_BPF" => "run as root on a kernel with BPF_PROG_TYPE_CGROUP_DEVICE",
        /// processes are still in the cgroup, so it cannot be removed
        Busy = "ECGROUP_BUSY" => "kill the processes first (kill(), or delete with force)",
        /// the cgroup directory could not be created
        Create = "ECGROUP_CREATE" => "run as root and check the parent exists and delegates the controllers",
        /// the cgroup directory could not be removed
        Delete = "ECGROUP_DELETE" => "make sure it has no processes and no child cgroups",
        /// the cgroup layout of the host could not be read
        Detect = "ECGROUP_DETECT" => "mount cgroupfs (v2 at /sys/fs/cgroup, or v1 hierarchies) and /proc",
        /// watching a cgroup's events failed
        Events = "ECGROUP_EVENTS" => "check the cgroup still exists and inotify watches are available",
        /// the cgroup exists already
        Exists = "ECGROUP_EXISTS" => "pick another name, or open the existing cgroup",
        /// the freezer did not reach the state asked for
        Freeze = "ECGROUP_FREEZE" => "retry; a process in uninterruptible sleep can delay freezing",
        /// an option is malformed (`path` names it)
        InvalidOption = "ECGROUP_INVALID_OPTION" => "correct the option named in the message",
        /// a cgroup path or file name is malformed
        InvalidPath = "ECGROUP_INVALID_PATH" => "use a relative path of plain names, without `..`",
        /// a limit or pid has a value the cgroup cannot take (`path` names it)
        InvalidValue = "ECGROUP_INVALID_VALUE" => "give a value in range, in the unit the field documents",
        /// reading or writing a cgroup file failed
        Io = "ECGROUP_IO" => "check the cgroup still exists and the caller may write it",
        /// a limit is below what the cgroup uses now
        LimitTooLow = "ECGROUP_LIMIT_TOO_LOW" => "raise the limit, or free the memory first",
        /// the cgroup does not exist
        NotFound = "ECGROUP_NOT_FOUND" => "create it first, or check the path (relative to the cgroup root)",
        /// no cgroup filesystem is mounted
        NotMounted = "ECGROUP_NOT_MOUNTED" => "mount cgroup2 at /sys/fs/cgroup (or the v1 hierarchies)",
        /// a cgroup file could not be read (`path`)
        Read = "ECGROUP_READ" => "check the controller is enabled for the cgroup",
        /// a controller is not known or not available here
        UnknownController = "ECGROUP_UNKNOWN_CONTROLLER" => "use a controller listed in cgroup.controllers (v2) or /proc/cgroups (v1)",
        /// the setting exists only on the other cgroup version
        Unsupported = "ECGROUP_UNSUPPORTED" => "use the field of this host's version, or leave it unset",
        /// the ctr-cgroup command line was used wrongly
        Usage = "ECGROUP_USAGE" => "run `ctr-cgroup --help` for the usage",
        /// a value could not be written to a cgroup file (`path`)
        Write = "ECGROUP_WRITE" => "check the value is valid for the file and the controller is enabled",
        /// a relative cgroup path was given where the rule asks for an absolute one
        RelativePath = "ECGROUP_RELATIVE_PATH" => "start the path with `/` (from the hierarchy root), or opt in to paths under the own cgroup",
        /// systemd refused the transient scope or a call on it
        Systemd = "ECGROUP_SYSTEMD" => "read the message: systemd's error name says what it refused (a unit of that name, a property)",
        /// systemd cannot be reached over D-Bus
        SystemdUnavailable = "ECGROUP_SYSTEMD_UNAVAILABLE" => "run on a host booted with systemd (the system bus or /run/systemd/private), or drop --systemd-cgroup",
        /// the caller may not do this (D-Bus or cgroupfs permission)
        Permission = "ECGROUP_PERMISSION" => "run as root, or in a cgroup subtree delegated to the caller",
    }
}
