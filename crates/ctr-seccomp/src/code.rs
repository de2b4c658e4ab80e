//! The error codes of this crate: stable strings (`ESECCOMP_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-seccomp`: seccomp profiles, their compilation and user notification.
    pub enum Code {
        /// the compiled-filter cache could not be read or written
        Cache = "ESECCOMP_CACHE" => "check the cache directory is writable, or disable the cache",
        /// the notification listener or agent socket was closed
        Closed = "ESECCOMP_CLOSED" => "do not use a listener after close()",
        /// libseccomp refused to compile the profile
        Compile = "ESECCOMP_COMPILE" => "check the syscalls, arguments and architectures of the profile",
        /// the kernel's seccomp support could not be read
        Detect = "ESECCOMP_DETECT" => "mount /proc; the kernel needs CONFIG_SECCOMP_FILTER",
        /// a syscall rule has no names
        EmptyNames = "ESECCOMP_EMPTY_NAMES" => "give each rule at least one syscall name",
        /// an argument index is outside 0 to 5
        InvalidArgIndex = "ESECCOMP_INVALID_ARG_INDEX" => "use an index from 0 to 5",
        /// a BPF program is malformed
        InvalidBpf = "ESECCOMP_INVALID_BPF" => "pass whole sock_filter instructions (8 bytes each) from a compiler",
        /// the profile is not valid JSON
        InvalidJson = "ESECCOMP_INVALID_JSON" => "fix the syntax at the line and column in the message",
        /// a compile or load option is malformed
        InvalidOption = "ESECCOMP_INVALID_OPTION" => "correct the option named in the message",
        /// the profile is well-formed JSON but not a profile
        InvalidProfile = "ESECCOMP_INVALID_PROFILE" => "give an OCI linux.seccomp object or a Docker profile",
        /// a profile field has the wrong type (`path` names it)
        InvalidType = "ESECCOMP_INVALID_TYPE" => "give the field the type the profile format defines",
        /// a profile field has a value out of range (`path` names it)
        InvalidValue = "ESECCOMP_INVALID_VALUE" => "correct the value named in the message",
        /// the notification listener fd could not be sent or received
        Listener = "ESECCOMP_LISTENER" => "check the listener path is a unix socket that accepts connections",
        /// a required profile field is missing (`path` names it)
        MissingField = "ESECCOMP_MISSING_FIELD" => "add the field named in the message",
        /// a seccomp user notification could not be read or answered
        Notify = "ESECCOMP_NOTIFY" => "answer each request once, with an errno from 1 to 4095",
        /// the process behind a notification is gone
        NotifyGone = "ESECCOMP_NOTIFY_GONE" => "nothing to do: the process exited or the syscall was interrupted",
        /// an action name is not known
        UnknownAction = "ESECCOMP_UNKNOWN_ACTION" => "use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, ... (see the runtime spec)",
        /// an architecture name is not known or not supported
        UnknownArch = "ESECCOMP_UNKNOWN_ARCH" => "use names like SCMP_ARCH_X86_64 or x86_64",
        /// a seccomp flag is not known
        UnknownFlag = "ESECCOMP_UNKNOWN_FLAG" => "use SECCOMP_FILTER_FLAG_LOG, ..._SPEC_ALLOW or ..._WAIT_KILLABLE_RECV",
        /// an argument comparison operator is not known
        UnknownOperator = "ESECCOMP_UNKNOWN_OPERATOR" => "use SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ",
        /// a syscall name is not known on the target architecture
        UnknownSyscall = "ESECCOMP_UNKNOWN_SYSCALL" => "check the spelling, or drop the syscall for that architecture",
    }
}
