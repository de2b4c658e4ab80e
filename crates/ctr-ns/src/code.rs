//! The error codes of this crate: stable strings (`ENS_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-ns`: spawning processes into namespaces.
    pub enum Code {
        /// the capability sets could not be applied in the child
        Caps = "ENS_CAPS" => "ask only for capabilities the caller holds, and check the bounding set",
        /// the child could not be placed into its cgroup
        Cgroup = "ENS_CGROUP" => "check that the cgroup directory exists and is writable (`path`)",
        /// the child could not change into its working directory
        Chdir = "ENS_CHDIR" => "make the cwd exist inside the rootfs and be a directory the user can enter",
        /// the kernel refused to create the process or its namespaces
        Clone = "ENS_CLONE" => "run as root (or with a user namespace), and check the namespace limits in /proc/sys/user",
        /// the child or terminal handle was closed
        Closed = "ENS_CLOSED" => "do not use a handle after close()",
        /// the pseudo-terminal could not be created, resized or handed over
        Console = "ENS_CONSOLE" => "check /dev/pts is mounted and the console socket accepts the pty master",
        /// the cpu affinity could not be applied
        CpuAffinity = "ENS_CPU_AFFINITY" => "list only cpus that exist and are allowed by the cgroup's cpuset",
        /// switching user and groups in the child failed
        Creds = "ENS_CREDS" => "map the uid and gids in the user namespace, or run as root",
        /// a device node could not be created or bind-mounted in the rootfs
        Device = "ENS_DEVICE" => "run as root, or let devices be bind-mounted from the host in a user namespace",
        /// the program could not be executed (`path` is the program)
        Exec = "ENS_EXEC" => "check that the program exists in the rootfs, is executable and its interpreter exists",
        /// the exec fifo that holds the container before start is missing or wrong
        ExecFifo = "ENS_EXEC_FIFO" => "recreate the container; do not touch exec.fifo in the state dir",
        /// the sealed copy of the exec helper could not be made
        ExecHelper = "ENS_EXEC_HELPER" => "check that memfd_create is allowed and /proc is mounted",
        /// setting the hostname or domain name failed
        Hostname = "ENS_HOSTNAME" => "use a uts namespace and a name of at most 64 bytes",
        /// the uid or gid maps could not be written
        IdMap = "ENS_ID_MAP" => "map ranges the caller owns (see /etc/subuid), or install uidmap for newuidmap",
        /// a spawn option is malformed (`path` names it)
        InvalidOption = "ENS_INVALID_OPTION" => "correct the option named in the message",
        /// the io priority could not be set
        Ioprio = "ENS_IOPRIO" => "use a class and level the kernel accepts (realtime needs CAP_SYS_ADMIN)",
        /// joining an existing namespace failed
        Join = "ENS_JOIN" => "check that the namespace path exists and the caller may setns into it",
        /// signalling the child failed
        Kill = "ENS_KILL" => "check the child is still alive and the signal is valid",
        /// the memory policy could not be applied
        MemoryPolicy = "ENS_MEMORY_POLICY" => "use a mode and nodes the host has (see /sys/devices/system/node)",
        /// a mount in the new rootfs failed (`syscall`, `errno`, `path`)
        Mount = "ENS_MOUNT" => "check the source exists, the filesystem type is supported and the target lies in the rootfs",
        /// release() on a child that is not held at the gate
        NotHeld = "ENS_NOT_HELD" => "spawn it with hold: true, and release it once",
        /// setting no_new_privs failed
        NoNewPrivs = "ENS_NO_NEW_PRIVS" => "this should not fail on a supported kernel: report it",
        /// the oom score adjustment could not be written
        OomScoreAdj = "ENS_OOM_SCORE_ADJ" => "use a value from -1000 to 1000; lowering it needs CAP_SYS_RESOURCE",
        /// a namespace could not be persisted by bind mount, or released
        Persist = "ENS_PERSIST" => "use a path on a filesystem that allows bind mounts, not already in use",
        /// the execution domain (personality) could not be set
        Personality = "ENS_PERSONALITY" => "use a personality the kernel supports (linux, linux32)",
        /// a resource limit could not be set
        Rlimit = "ENS_RLIMIT" => "keep soft at most hard; raising hard limits needs CAP_SYS_RESOURCE",
        /// the rootfs could not be prepared, pivoted into or resolved
        Rootfs = "ENS_ROOTFS" => "check the rootfs directory exists and holds no symlink that leaves it",
        /// the scheduling policy could not be set
        Scheduler = "ENS_SCHEDULER" => "use a policy and priority the kernel accepts; realtime needs CAP_SYS_NICE",
        /// the kernel refused the seccomp filter, or its listener fd could not be taken
        Seccomp = "ENS_SECCOMP" => "set noNewPrivileges or hold CAP_SYS_ADMIN; check the filter for the native arch",
        /// a setup step of the child failed (`syscall` names it)
        Spawn = "ENS_SPAWN" => "read the step and errno in the message; it names the file or call at fault",
        /// a namespaced sysctl could not be written
        Sysctl = "ENS_SYSCTL" => "use only sysctls of the namespaces the child has (net.*, kernel.shm*, ...)",
        /// the time namespace offsets could not be written
        Time = "ENS_TIME" => "use a time namespace (linux 5.6+) and set offsets before the first process runs",
        /// a capability name is not known
        UnknownCapability = "ENS_UNKNOWN_CAPABILITY" => "use names like CAP_NET_ADMIN as listed in capabilities(7)",
        /// a namespace type that does not exist
        UnknownNamespace = "ENS_UNKNOWN_NAMESPACE" => "use mount, uts, ipc, pid, net, user, cgroup or time",
        /// creating new namespaces with unshare failed
        Unshare = "ENS_UNSHARE" => "run as root or in a user namespace; check the namespace limits",
        /// waiting for the child failed
        Wait = "ENS_WAIT" => "wait once per child; do not reap it elsewhere (SIGCHLD ignored)",
        /// the loopback device of the new network namespace could not be brought up
        Network = "ENS_NETWORK" => "check the process may configure its own network namespace (CAP_NET_ADMIN there)",
    }
}
