//! The error codes of this crate: stable strings (`ERUNTIME_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-runtime` and `@ctr/runtime`: the OCI lifecycle, `ctrun` and containers.
    pub enum Code {
        /// the operation was aborted by its AbortSignal
        Aborted = "ERUNTIME_ABORTED" => "nothing to fix: the container was removed as asked",
        /// the bundle could not be used
        Bundle = "ERUNTIME_BUNDLE" => "pass a bundle directory with a config.json and its rootfs",
        /// the console socket or terminal could not be used
        Console = "ERUNTIME_CONSOLE" => "pass a unix socket path that accepts the pty master",
        /// process.execCPUAffinity is malformed or could not be applied
        CpuAffinity = "ERUNTIME_CPU_AFFINITY" => "list cpus that exist, like 0-3,7",
        /// process.cwd is invalid
        Cwd = "ERUNTIME_CWD" => "give an absolute path inside the rootfs",
        /// the container could not be deleted
        Delete = "ERUNTIME_DELETE" => "stop it first, or delete with --force",
        /// process.args and process.env are larger than execve accepts
        E2big = "ERUNTIME_E2BIG" => "shorten them, or raise the stack rlimit",
        /// container events could not be read or written
        Events = "ERUNTIME_EVENTS" => "check the container still exists",
        /// running a process in the container failed
        Exec = "ERUNTIME_EXEC" => "check the container is running and the program exists in it",
        /// a container with that id, or a file to be created, exists already
        Exists = "ERUNTIME_EXISTS" => "pick another id, or delete the old container",
        /// an OCI hook failed or timed out (`path` names it)
        Hook = "ERUNTIME_HOOK" => "check the hook's path, arguments and timeout",
        /// the container's init did not reach the point of waiting for start
        Init = "ERUNTIME_INIT" => "read the message; recreate the container",
        /// a container id is malformed
        InvalidId = "ERUNTIME_INVALID_ID" => "use letters, digits, `_`, `-` and `.`, not starting with `.`",
        /// an option or flag is malformed (`path` names it)
        InvalidOption = "ERUNTIME_INVALID_OPTION" => "correct the option named in the message",
        /// signalling the container failed
        Kill = "ERUNTIME_KILL" => "check the container is running and the signal is valid",
        /// the container's state lock could not be taken
        Lock = "ERUNTIME_LOCK" => "retry; another command is working on the container",
        /// the memory limit is below the current usage (checkBeforeUpdate)
        MemoryBelowUsage = "ERUNTIME_MEMORY_BELOW_USAGE" => "raise the limit, or free memory in the container first",
        /// linux.memoryPolicy is invalid or could not be applied
        MemoryPolicy = "ERUNTIME_MEMORY_POLICY" => "use a mode and nodes the host has",
        /// the memory limit is too low for the container to start
        MemoryTooLow = "ERUNTIME_MEMORY_TOO_LOW" => "raise linux.resources.memory.limit",
        /// the current memory usage could not be read
        MemoryUsage = "ERUNTIME_MEMORY_USAGE" => "check the container's cgroup has the memory controller",
        /// a linux.netDevices entry is invalid or could not be moved
        NetDevice = "ERUNTIME_NET_DEVICE" => "name a host interface that exists and is not in use",
        /// the container does not exist
        NotFound = "ERUNTIME_NOT_FOUND" => "check the id and the state root (--root)",
        /// the container is not running
        NotRunning = "ERUNTIME_NOT_RUNNING" => "start it first",
        /// the container has no cgroup
        NoCgroup = "ERUNTIME_NO_CGROUP" => "create it with a cgroup (linux.cgroupsPath or the default)",
        /// a path could not be resolved inside the rootfs
        Path = "ERUNTIME_PATH" => "remove symlink loops and links that leave the rootfs",
        /// the pid file could not be written
        PidFile = "ERUNTIME_PID_FILE" => "give a path in a writable directory",
        /// root.path is not a usable directory
        Rootfs = "ERUNTIME_ROOTFS" => "point root.path at the container's root directory",
        /// process.scheduler is invalid or could not be applied
        Scheduler = "ERUNTIME_SCHEDULER" => "use a policy and priority the kernel accepts",
        /// the seccomp listener fd could not be sent to linux.seccomp.listenerPath
        SeccompListener = "ERUNTIME_SECCOMP_LISTENER" => "check the agent listens on that unix socket",
        /// a signal name or number is not known
        Signal = "ERUNTIME_SIGNAL" => "use a name like SIGTERM or TERM, or a number from 1 to 64",
        /// the config could not be turned into a plan
        Spec = "ERUNTIME_SPEC" => "correct the field named in the message",
        /// the container could not be started
        Start = "ERUNTIME_START" => "start it once, from the created state",
        /// the state directory or state.json could not be read or written
        State = "ERUNTIME_STATE" => "check the state root (--root) is writable",
        /// the container is in the wrong state for the command
        StateInvalid = "ERUNTIME_STATE_INVALID" => "check its status first (paused, stopped, ...)",
        /// the option exists in runc but is not supported
        Unsupported = "ERUNTIME_UNSUPPORTED" => "drop the option",
        /// the ctrun command line was used wrongly
        Usage = "ERUNTIME_USAGE" => "run `ctrun help <command>` for the usage",
        /// waiting for the container's process failed
        Wait = "ERUNTIME_WAIT" => "check the container exists; wait from the process that created it for the exit code",
        /// a rootless container asks for cgroup limits but no cgroup subtree is delegated to the caller
        RootlessCgroup = "ERUNTIME_ROOTLESS_CGROUP" => "delegate a cgroup v2 subtree to the user (systemd: Delegate=yes), or drop linux.resources",
        /// an option spelled the old way (the message names the new spelling)
        RenamedOption = "ERUNTIME_RENAMED_OPTION" => "use the spelling the message names",
    }
}
