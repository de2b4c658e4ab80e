//! `ctrun`'s command line as data: runc's global flags, commands, flags and
//! aliases (runc 1.5, `main.go`, `create.go`, `exec.go`, ...), declared
//! with clap so that parsing, `ctrun help <command>` and docs/cli.md come
//! from one place.
//!
//! What runc accepts beyond clap's GNU style (`-root`, `--debug=false`) is
//! rewritten before clap sees it, in `legacy.rs`.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// The heading of the global options in every command's help.
const GLOBAL: &str = "Global options";

/// What `ctrun --help` prints above the command list.
const ABOUT: &str = "ctrun: an OCI container runtime speaking runc's command line";

const LONG_ABOUT: &str = "\
ctrun: an OCI container runtime speaking runc's command line

ctrun runs containers from OCI bundles: a directory holding a config.json
and a root filesystem. Engines (containerd, podman) drive it as they drive
runc; it shares its state directory and its Rust lifecycle with the
in-process Container API of @ctr/runtime.

To start a container from the bundle in the current directory:

    ctrun run [--bundle DIR] <container-id>

Exit status: 0 on success; a container's own status from `run` and `exec`
(128 + signal when it was killed); 1 for a usage error or a failure; 255
when `exec` fails (runc's code), including a program that cannot be
executed. Errors print `ctrun: <message> [<CODE>]` on stderr and, with
--log, a line in the log.";

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "ctrun",
    bin_name = "ctrun",
    about = ABOUT,
    long_about = LONG_ABOUT,
    disable_version_flag = true,
    // runc: `ctrun` alone prints the help and succeeds.
    arg_required_else_help = false,
    subcommand_required = false,
    // Go's flag parsing: a repeated flag is not an error, the last one wins.
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command (none: print the help).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// runc's global options. They go before the command; as in runc 1.5,
/// all but `--rootless` are also accepted after it.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Enable debug logging (to --log, or stderr)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub debug: bool,

    /// Append runtime logs to this file (default: stderr)
    #[arg(long, value_name = "PATH", global = true, help_heading = GLOBAL)]
    pub log: Option<PathBuf>,

    /// Log format
    #[arg(long = "log-format", value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text, global = true, help_heading = GLOBAL)]
    pub log_format: LogFormat,

    /// Root directory for the state of containers (keep it on a tmpfs)
    /// [default: /run/ctrun; $XDG_RUNTIME_DIR/ctrun when rootless]
    #[arg(long, value_name = "PATH", global = true, help_heading = GLOBAL)]
    pub root: Option<PathBuf>,

    /// Use the systemd cgroup driver: each container's cgroup is a transient
    /// systemd scope made over D-Bus; cgroupsPath is then "slice:prefix:name"
    /// (default system.slice:ctrun:<id>)
    #[arg(long = "systemd-cgroup", global = true, help_heading = GLOBAL)]
    pub systemd_cgroup: bool,

    /// Ignore cgroup permission errors (accepted for runc compatibility)
    #[arg(long, value_name = "true|false|auto", default_value = "auto", value_parser = ["true", "false", "auto"], help_heading = GLOBAL)]
    pub rootless: String,

    /// Print the version, the commit, the OCI spec version and libseccomp's
    #[arg(short = 'v', long, action = ArgAction::SetTrue, help_heading = GLOBAL)]
    pub version: bool,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `time="..." level=error msg="..."`
    Text,
    /// One JSON object per line (`level`, `msg`, `time`, `code`)
    Json,
}

/// `list --format` and `ps --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people
    Table,
    /// JSON
    Json,
}

/// The commands, in runc's order of its help text.
///
/// `defer`: a command's flags are declared only when that command is
/// parsed (or its help printed), so a `ctrun run` does not build the
/// definitions of the other eighteen commands (most of ctrun's heap, and
/// of its max RSS, before this). The argument structs below therefore
/// carry `//` comments, not doc comments: clap would make a struct's doc
/// the command's about, and the deferred part runs after the variant's.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a container (its process waits for `start`)
    ///
    /// Creates an instance of a container from a bundle: a directory with a
    /// config.json and a root filesystem. The process named by the config's
    /// process.args is set up and waits until `ctrun start <container-id>`.
    Create(CreateArgs),

    /// Delete any resources held by the container
    ///
    /// Removes the container's processes (with --force), cgroup, mounts and
    /// state. A container that is already gone is not an error with --force.
    Delete(DeleteArgs),

    /// Display container events: OOM notifications and resource statistics
    ///
    /// Prints runc's JSON events on stdout: `oom` when the kernel OOM-kills
    /// a process of the container, and `stats` every --interval (or once,
    /// with --stats).
    Events(EventsArgs),

    /// Execute a new process inside the container
    ///
    /// Runs a process in the container's namespaces, cgroup and security
    /// settings: the command after the container id (every argument after
    /// the id belongs to it), or the OCI process object given by --process.
    /// Without --detach ctrun waits and exits with the process's status.
    ///
    /// Example: ctrun exec -t mycontainer sh
    #[command(
        override_usage = "ctrun exec [OPTIONS] <CONTAINER_ID> <COMMAND> [ARGS]...\n       \
                                ctrun exec [OPTIONS] --process <FILE> <CONTAINER_ID>"
    )]
    Exec(ExecArgs),

    /// Send a signal (default: SIGTERM) to the container's init process
    ///
    /// The signal is a name (KILL, SIGKILL) or a number.
    ///
    /// Example: ctrun kill mycontainer KILL
    Kill(KillArgs),

    /// List the containers in the state root (--root)
    List(ListArgs),

    /// Suspend every process in the container (cgroup freezer)
    Pause(IdArgs),

    /// List the processes running in the container
    ///
    /// Prints the host pids of the container's cgroup.
    Ps(PsArgs),

    /// Resume the processes of a paused container
    Resume(IdArgs),

    /// Create and start a container, and wait for it
    ///
    /// Creates a container from a bundle (see `create`), starts it, and
    /// unless --detach stays with it: signals are forwarded, a terminal is
    /// relayed, and ctrun exits with the container's status after deleting
    /// it (unless --keep).
    Run(RunArgs),

    /// Write a default config.json for a new bundle
    ///
    /// The starter config runs `sh` in the bundle's `rootfs` directory; edit
    /// it to taste. With --rootless it maps the caller's uid and gid in a new
    /// user namespace.
    Spec(SpecArgs),

    /// Start the process of a created container
    Start(IdArgs),

    /// Print the state of a container as JSON (the OCI state)
    State(IdArgs),

    /// Change a running container's resource limits
    ///
    /// Either --resources (an OCI linux.resources object; then every other
    /// flag is ignored, as in runc) or the flags below.
    Update(UpdateArgs),

    /// Print the features document (JSON) of this runtime
    ///
    /// The OCI features document: the spec versions, hooks, mount options,
    /// namespaces, capabilities, cgroup and seccomp support of this host.
    Features,

    /// Remove the records of containers whose owner died (not in runc)
    #[command(hide = true)]
    Gc,

    /// CRIU checkpoint (not supported)
    #[command(hide = true)]
    Checkpoint(UnsupportedArgs),

    /// CRIU restore (not supported)
    #[command(hide = true)]
    Restore(UnsupportedArgs),
}

impl Command {
    /// The name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::Delete(_) => "delete",
            Command::Events(_) => "events",
            Command::Exec(_) => "exec",
            Command::Kill(_) => "kill",
            Command::List(_) => "list",
            Command::Pause(_) => "pause",
            Command::Ps(_) => "ps",
            Command::Resume(_) => "resume",
            Command::Run(_) => "run",
            Command::Spec(_) => "spec",
            Command::Start(_) => "start",
            Command::State(_) => "state",
            Command::Update(_) => "update",
            Command::Features => "features",
            Command::Gc => "gc",
            Command::Checkpoint(_) => "checkpoint",
            Command::Restore(_) => "restore",
        }
    }
}

// Commands that take only the container id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The container's id
    pub container_id: String,
}

// Flags shared by `create` and `run`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The bundle directory (holding config.json)
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,

    /// An AF_UNIX socket that receives the pty master of a container with
    /// process.terminal (SCM_RIGHTS)
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,

    /// An AF_UNIX socket to receive a pidfd of the init process (not
    /// supported: refused)
    #[arg(long = "pidfd-socket", value_name = "PATH")]
    pub pidfd_socket: Option<PathBuf>,

    /// Write the init process's host pid to this file
    #[arg(long = "pid-file", value_name = "PATH")]
    pub pid_file: Option<PathBuf>,

    /// Do not use pivot_root (move the rootfs over / and chroot: for a
    /// rootfs on a ramdisk)
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,

    /// Do not create a new session keyring (accepted; ctrun never creates one)
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,

    /// Pass N more fds (3 .. 3+N-1 of ctrun) to the container process
    #[arg(long = "preserve-fds", value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
}

// `ctrun create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub bundle: BundleArgs,

    /// Accepted and ignored: `create` always detaches (some clients pass it)
    #[arg(short = 'd', long, hide = true)]
    pub detach: bool,

    /// The new container's id (unique in the state root)
    pub container_id: String,
}

// `ctrun run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub bundle: BundleArgs,

    /// Start the container and exit (do not wait for it)
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Do not delete the container after it exits
    #[arg(long)]
    pub keep: bool,

    /// Accepted for runc compatibility: ctrun waits for its own child
    /// directly and needs no subreaper
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,

    /// The new container's id (unique in the state root)
    pub container_id: String,
}

// `ctrun delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Kill the container's processes (SIGKILL) if it is still running
    #[arg(short = 'f', long)]
    pub force: bool,

    /// The container's id
    pub container_id: String,
}

// `ctrun events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// How often to print statistics (Go duration: 5s, 500ms, 1m)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,

    /// Print the container's statistics once and exit
    #[arg(long)]
    pub stats: bool,

    /// The container's id
    pub container_id: String,
}

// `ctrun exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// An AF_UNIX socket that receives the pty master (with --tty)
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,

    /// An AF_UNIX socket to receive a pidfd of the process (not supported:
    /// refused)
    #[arg(long = "pidfd-socket", value_name = "PATH")]
    pub pidfd_socket: Option<PathBuf>,

    /// Working directory in the container
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,

    /// Set an environment variable (KEY=value; repeatable)
    #[arg(short = 'e', long, value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub env: Vec<String>,

    /// Allocate a pseudo-terminal (--tty=false: none, even if --process
    /// asks for one)
    #[arg(short = 't', long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = go_bool)]
    pub tty: Option<bool>,

    /// User and group ids: UID[:GID]
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    pub user: Option<String>,

    /// Supplementary group ids (repeatable; commas also separate)
    #[arg(short = 'g', long = "additional-gids", value_name = "GID", action = ArgAction::Append)]
    pub additional_gids: Vec<String>,

    /// The process as an OCI process object (a file, or - for stdin); the
    /// flags that shape the process are then ignored
    #[arg(short = 'p', long, value_name = "FILE")]
    pub process: Option<String>,

    /// Start the process and exit (do not wait for it)
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Write the process's host pid to this file
    #[arg(long = "pid-file", value_name = "PATH")]
    pub pid_file: Option<PathBuf>,

    /// SELinux process label (not supported on this host: refused)
    #[arg(long = "process-label", value_name = "LABEL")]
    pub process_label: Option<String>,

    /// AppArmor profile (not supported on this host: refused)
    #[arg(long, value_name = "PROFILE")]
    pub apparmor: Option<String>,

    /// Set noNewPrivileges for the process (--no-new-privs=false clears it)
    #[arg(long = "no-new-privs", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = go_bool)]
    pub no_new_privs: Option<bool>,

    /// Add a capability to the process's sets (repeatable)
    #[arg(short = 'c', long, value_name = "CAP", action = ArgAction::Append)]
    pub cap: Vec<String>,

    /// Pass N more fds (3 .. 3+N-1 of ctrun) to the process
    #[arg(long = "preserve-fds", value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,

    /// Run in a sub-cgroup of the container (not supported: refused)
    #[arg(long, value_name = "[CONTROLLER:]PATH")]
    pub cgroup: Option<String>,

    /// Allow exec in a paused container
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,

    /// Accepted for runc compatibility (ctrun needs no subreaper)
    #[arg(long = "no-subreaper", hide = true)]
    pub no_subreaper: bool,

    /// Accepted for runc compatibility (ignored)
    #[arg(long = "log-fd", value_name = "FD", hide = true)]
    pub log_fd: Option<String>,

    /// The container's id
    pub container_id: String,

    /// The command and its arguments (every argument after the container
    /// id, flags included; none with --process)
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

// `ctrun kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Send the signal to every process of the container, not only init
    #[arg(short = 'a', long)]
    pub all: bool,

    /// The container's id
    pub container_id: String,

    /// The signal: a name (KILL, SIGKILL) or a number
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

// `ctrun list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Print only the container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

// `ctrun ps`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// The container's id
    pub container_id: String,

    /// runc passes these to ps(1); not supported (refused)
    #[arg(value_name = "PS_OPTIONS", hide = true)]
    pub ps_options: Vec<String>,
}

// `ctrun spec`.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Where to write config.json
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,

    /// A config for a rootless container (a user namespace mapping the
    /// caller's ids)
    #[arg(long)]
    pub rootless: bool,
}

// `ctrun update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// An OCI linux.resources object (a file, or - for stdin); every other
    /// flag is then ignored
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: Option<String>,

    /// Block IO weight (10 to 1000)
    #[arg(long = "blkio-weight", value_name = "N")]
    pub blkio_weight: Option<u64>,

    /// CPU CFS period in microseconds (0: the system default)
    #[arg(long = "cpu-period", value_name = "USECS")]
    pub cpu_period: Option<u64>,

    /// CPU CFS quota in microseconds per period (-1: unlimited)
    #[arg(
        long = "cpu-quota",
        value_name = "USECS",
        allow_negative_numbers = true
    )]
    pub cpu_quota: Option<i64>,

    /// CPU CFS burst in microseconds
    #[arg(long = "cpu-burst", value_name = "USECS")]
    pub cpu_burst: Option<u64>,

    /// CPU shares (relative weight)
    #[arg(long = "cpu-share", visible_alias = "cpu-shares", value_name = "N")]
    pub cpu_share: Option<u64>,

    /// CPU realtime period in microseconds
    #[arg(long = "cpu-rt-period", value_name = "USECS")]
    pub cpu_rt_period: Option<u64>,

    /// CPU realtime runtime in microseconds per period
    #[arg(
        long = "cpu-rt-runtime",
        value_name = "USECS",
        allow_negative_numbers = true
    )]
    pub cpu_rt_runtime: Option<i64>,

    /// CPUs to use (cpuset, like 0-3,8)
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    pub cpuset_cpus: Option<String>,

    /// Memory nodes to use (cpuset)
    #[arg(long = "cpuset-mems", value_name = "LIST")]
    pub cpuset_mems: Option<String>,

    /// Obsolete (kernel memory limits are gone): ignored with a warning
    #[arg(long = "kernel-memory", value_name = "BYTES", hide = true)]
    pub kernel_memory: Option<String>,

    /// Obsolete: ignored with a warning
    #[arg(long = "kernel-memory-tcp", value_name = "BYTES", hide = true)]
    pub kernel_memory_tcp: Option<String>,

    /// Memory limit (bytes, or with a unit: 64m; -1: unlimited)
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub memory: Option<String>,

    /// SCHED_IDLE for the cgroup: 1, or 0 for the default
    #[arg(long = "cpu-idle", value_name = "0|1", allow_negative_numbers = true)]
    pub cpu_idle: Option<i64>,

    /// Memory reservation (soft limit)
    #[arg(
        long = "memory-reservation",
        value_name = "BYTES",
        allow_hyphen_values = true
    )]
    pub memory_reservation: Option<String>,

    /// Memory plus swap limit (-1: unlimited swap)
    #[arg(long = "memory-swap", value_name = "BYTES", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,

    /// Maximum number of pids (-1: unlimited)
    #[arg(long = "pids-limit", value_name = "N", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,

    /// Intel RDT L3 cache schema (not available on this host: refused)
    #[arg(long = "l3-cache-schema", value_name = "SCHEMA")]
    pub l3_cache_schema: Option<String>,

    /// Intel RDT memory bandwidth schema (not available on this host: refused)
    #[arg(long = "mem-bw-schema", value_name = "SCHEMA")]
    pub mem_bw_schema: Option<String>,

    /// The container's id
    pub container_id: String,
}

// Arguments of a command ctrun does not implement (taken whole, so the
// error names the command instead of a flag).
#[derive(Debug, Args)]
pub struct UnsupportedArgs {
    #[arg(allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// Go's `strconv.ParseBool`, which runc's boolean flags use
/// (`--tty=false`, `--detach=1`).
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (true or false)")),
    }
}

/// A Go duration as runc's `--interval` takes it: `5s`, `500ms`, `1m30s`,
/// `1.5s`; a plain number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (like 5s, 500ms or 1m30s)");
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = s.parse::<f64>() {
        return (n.is_finite() && n >= 0.0)
            .then(|| Duration::from_secs_f64(n))
            .ok_or_else(bad);
    }
    let mut secs = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        secs += n * scale;
        rest = &rest[unit_end..];
    }
    if !secs.is_finite() {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The "Reference" part of docs/cli.md: `ctrun --help`, then the help of
/// every command without the global options it repeats. Written by
/// `node scripts/cli-docs.mjs`; the `docs_cli_md_is_current` test fails
/// when docs/cli.md holds another text.
#[cfg(test)]
pub fn reference_markdown() -> String {
    use clap::CommandFactory;
    let fence = |title: &str, help: String| {
        let help: Vec<&str> = help.lines().map(str::trim_end).collect();
        format!(
            "### `{title}`\n\n```text\n{}\n```\n",
            help.join("\n").trim_end()
        )
    };
    let mut out = vec![fence(
        "ctrun --help",
        Cli::command().render_long_help().to_string(),
    )];
    let mut root = Cli::command();
    let globals: Vec<String> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().to_string())
        .collect();
    for id in globals {
        root = root.mut_arg(id, |a| a.hide(true));
    }
    root.build();
    for sub in root.get_subcommands_mut() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let title = format!("ctrun {} --help", sub.get_name());
        out.push(fence(&title, sub.render_long_help().to_string()));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    const BEGIN: &str =
        "<!-- generated by scripts/cli-docs.mjs from ctrun's clap definition: begin -->\n";
    const END: &str = "<!-- generated: end -->";

    /// docs/cli.md carries the help of this very definition; with
    /// CTR_WRITE_CLI_DOCS=1 (scripts/cli-docs.mjs) the test writes it.
    #[test]
    fn docs_cli_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md");
        let text = std::fs::read_to_string(path).expect("docs/cli.md");
        let (head, rest) = text
            .split_once(BEGIN)
            .expect("docs/cli.md has the begin marker");
        let (_, tail) = rest
            .split_once(END)
            .expect("docs/cli.md has the end marker");
        let want = format!("{head}{BEGIN}\n{}\n{END}{tail}", reference_markdown());
        if std::env::var_os("CTR_WRITE_CLI_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/cli.md");
            return;
        }
        assert!(
            text == want,
            "docs/cli.md is out of date with ctrun's help: run node scripts/cli-docs.mjs"
        );
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_as_go_writes_them() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(d("5s"), Ok(5000));
        assert_eq!(d("500ms"), Ok(500));
        assert_eq!(d("1m30s"), Ok(90_000));
        assert_eq!(d("1.5s"), Ok(1500));
        assert_eq!(d("2"), Ok(2000));
        for bad in ["", "5x", "s", "-1s", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "true", "TRUE", "True"] {
            assert_eq!(go_bool(t), Ok(true));
        }
        for f in ["0", "f", "false", "FALSE", "False"] {
            assert_eq!(go_bool(f), Ok(false));
        }
        assert!(go_bool("yes").is_err());
    }
}
