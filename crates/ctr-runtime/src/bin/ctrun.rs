//! `ctrun`: an OCI runtime command line speaking runc's dialect.
//!
//! The command line itself (runc's global flags, commands, flags and
//! aliases) is declared in `ctrun/cli.rs`; runc's legacy spellings are
//! rewritten in `ctrun/legacy.rs`; the commands an engine runs per
//! container, plainly spelled, are read without clap by `ctrun/hot.rs`
//! (into the same `Cli`); `run` and `exec` in the foreground use
//! `ctrun/terminal.rs`. This file runs the commands.
//!
//! Exit status, as runc's: 0, or the container process's own status from
//! `run` and `exec` (128 + signal when killed); 1 for a usage error or a
//! failed command; 255 for a failed `exec`. Errors print
//! `ctrun: <message> [<CODE>]` on stderr and, with `--log`, a line in
//! runc's log format.

#[path = "ctrun/cli.rs"]
mod cli;
#[path = "ctrun/hot.rs"]
mod hot;
#[path = "ctrun/legacy.rs"]
mod legacy;
#[path = "ctrun/terminal.rs"]
mod terminal;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, Format, LogFormat};
use ctr_common::{Error, Result};
use ctr_runtime::lifecycle::{self, CreateOptions};
use ctr_runtime::state::Store;
use ctr_runtime::util;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// runc's status for a failed command.
const EXIT_FAILURE: i32 = 1;
/// runc's status for a failed `exec` (the process could not be started:
/// no such container, a program that cannot be executed, ...), so that a
/// caller can tell it from the status of a process that ran.
const EXIT_EXEC_FAILED: i32 = 255;

/// The global flags as the commands use them.
#[derive(Clone)]
struct Global {
    root: PathBuf,
    log: Option<PathBuf>,
    json_log: bool,
    debug: bool,
    /// `--systemd-cgroup`: cgroups as systemd scopes.
    systemd_cgroup: bool,
}

impl Global {
    fn new(g: &cli::GlobalArgs) -> Global {
        Global {
            root: g
                .root
                .clone()
                .unwrap_or_else(ctr_runtime::rootless::default_root),
            log: g.log.clone(),
            json_log: g.log_format == LogFormat::Json,
            debug: g.debug,
            systemd_cgroup: g.systemd_cgroup,
        }
    }

    /// The log flags of a command line clap refused, read as far as they
    /// can be (global flags before the command), so that the usage error
    /// still reaches the log an engine reads.
    fn from_refused(argv: &[String]) -> Global {
        let mut g = Global {
            root: ctr_runtime::rootless::default_root(),
            log: None,
            json_log: false,
            debug: false,
            systemd_cgroup: false,
        };
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            let Some(flag) = a.strip_prefix("--") else {
                break;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (flag, None),
            };
            let mut value = || inline.clone().or_else(|| it.next().cloned());
            match name {
                "log" => g.log = value().map(PathBuf::from),
                "log-format" => g.json_log = value().as_deref() == Some("json"),
                "root" | "rootless" => {
                    value();
                }
                _ => {}
            }
        }
        g
    }

    fn log_line(&self, level: &str, msg: &str, code: Option<&str>) {
        let time = util::now_rfc3339();
        let line = if self.json_log {
            let mut v = serde_json::json!({ "level": level, "msg": msg, "time": time });
            if let Some(c) = code {
                v["code"] = c.into();
            }
            v.to_string()
        } else {
            let mut s = format!("time={time:?} level={level} msg={msg:?}");
            if let Some(c) = code {
                s.push_str(&format!(" code={c}"));
            }
            s
        };
        match &self.log {
            Some(p) => {
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                {
                    let _ = writeln!(f, "{line}");
                }
            }
            None if level == "debug" => eprintln!("{line}"),
            None => {}
        }
    }

    fn debug(&self, msg: impl AsRef<str>) {
        if self.debug {
            self.log_line("debug", msg.as_ref(), None);
        }
    }

    /// Report `e` (stderr and the log) and return the exit status.
    fn fail(&self, e: &Error, status: i32) -> i32 {
        self.log_line("error", &e.to_string(), Some(&e.code));
        eprintln!("ctrun: {e} [{}]", e.code);
        status
    }
}

fn usage_err(msg: impl Into<String>) -> Error {
    Error::new(ctr_runtime::Code::Usage, msg)
}

/// A clap refusal as one lower-case line: the message, the usage line and
/// where to read more.
fn usage_error(e: &clap::Error) -> Error {
    let text = e.render().to_string();
    let mut paragraphs = text.split("\n\n").map(str::trim);
    let message = paragraphs
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let usage = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .map(str::to_string);
    let command = usage
        .as_deref()
        .and_then(|u| u.split_whitespace().nth(1))
        .filter(|w| !w.starts_with(['[', '<']))
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let mut msg = message;
    if let Some(u) = usage {
        msg.push_str(&format!("; usage: {u}"));
    }
    msg.push_str(&format!("; see ctrun help{command}"));
    usage_err(msg)
}

/// `ctrun --version`: runc's lines (version, commit, spec, libseccomp).
#[cold]
#[inline(never)]
fn print_version() {
    println!("ctrun version {}", env!("CARGO_PKG_VERSION"));
    // Set by scripts/build-native.mjs for the shipped binary.
    if let Some(c) = option_env!("CTR_GIT_COMMIT").filter(|c| !c.is_empty()) {
        println!("commit: {c}");
    }
    println!("spec: {}", ctr_oci::OCI_VERSION);
    println!("libseccomp: {}", ctr_seccomp::compile::libseccomp_version());
}

/// `--console-socket PATH`: connect to the receiver's unix socket (it gets
/// the pty master with SCM_RIGHTS during create).
fn console_socket(path: Option<&Path>) -> Result<Option<UnixStream>> {
    let Some(path) = path else {
        return Ok(None);
    };
    UnixStream::connect(path).map(Some).map_err(|e| {
        Error::io(
            ctr_runtime::Code::Console,
            "connect",
            &e,
            format!("--console-socket {}: connect", path.display()),
        )
        .with_path(path)
    })
}

/// `--pidfd-socket` (runc 1.2): not implemented; refused by name rather
/// than ignored, since the caller would wait for a pidfd forever.
fn refuse_pidfd_socket(path: Option<&Path>) -> Result<()> {
    match path {
        None => Ok(()),
        Some(p) => Err(Error::new(
            ctr_runtime::Code::Unsupported,
            format!("--pidfd-socket {}: not supported", p.display()),
        )
        .with_field("pidfd-socket")),
    }
}

/// `--preserve-fds N`: our fds 3 .. 3+N become the process's 3 .. 3+N.
fn preserve_fds(n: u32) -> Result<Vec<i32>> {
    if n > 64 {
        return Err(Error::new(
            ctr_runtime::Code::Usage,
            format!("--preserve-fds {n}: must be a number from 0 to 64"),
        )
        .with_field("preserve-fds"));
    }
    let fds: Vec<i32> = (3..3 + n as i32).collect();
    if let Some(fd) = fds
        .iter()
        .find(|fd| unsafe { libc::fcntl(**fd, libc::F_GETFD) } < 0)
    {
        return Err(Error::new(
            ctr_runtime::Code::Usage,
            format!("--preserve-fds {n}: fd {fd} is not open"),
        )
        .with_field("preserve-fds"));
    }
    Ok(fds)
}

fn create_opts(
    g: &Global,
    a: &cli::BundleArgs,
    id: String,
    console: &Option<UnixStream>,
    detach: bool,
) -> Result<CreateOptions> {
    Ok(CreateOptions {
        id,
        bundle: a.bundle.clone(),
        pid_file: a.pid_file.clone(),
        no_pivot: a.no_pivot,
        stdio: [
            ctr_ns::Stdio::Fd(0),
            ctr_ns::Stdio::Fd(1),
            ctr_ns::Stdio::Fd(2),
        ],
        extra_fds: preserve_fds(a.preserve_fds)?,
        console_socket: console.as_ref().map(|s| s.as_raw_fd()),
        detach,
        systemd_cgroup: g.systemd_cgroup,
    })
}

#[inline(never)] // see `dispatch`
fn create_cmd(g: &Global, store: &Store, a: &cli::CreateArgs) -> Result<i32> {
    refuse_pidfd_socket(a.bundle.pidfd_socket.as_deref())?;
    let socket = console_socket(a.bundle.console_socket.as_deref())?;
    let o = create_opts(g, &a.bundle, a.container_id.clone(), &socket, true)?;
    lifecycle::create(store, &o).map(|_| 0)
}

#[inline(never)] // see `dispatch`
fn run_cmd(g: &Global, store: &Store, a: &cli::RunArgs) -> Result<i32> {
    let id = a.container_id.clone();
    refuse_pidfd_socket(a.bundle.pidfd_socket.as_deref())?;
    let socket = console_socket(a.bundle.console_socket.as_deref())?;
    let o = create_opts(g, &a.bundle, id.clone(), &socket, a.detach)?;
    let set = if a.detach {
        None
    } else {
        Some(terminal::block_forwarded())
    };
    let created = lifecycle::create(store, &o)?;
    drop(socket);
    // process.terminal without --console-socket: we hold the master (runc).
    let master = created.child.take_console();
    g.debug(format!("run: created {id} pid {}", created.pid));
    if let Err(e) = lifecycle::start(store, &id) {
        let _ = lifecycle::delete(store, &id, true);
        let _ = created.child.wait();
        return Err(e);
    }
    let Some(set) = set else {
        return Ok(0);
    };
    // The config is read again only for a pty (its size), not per run.
    let size_from_ours = master.is_some() && !terminal::has_console_size(&o.bundle);
    let st = terminal::foreground(&created.child, set, master, size_from_ours)?;
    let code = lifecycle::exit_code(st);
    g.debug(format!("run: {id} exited {st:?}"));
    if !a.keep {
        lifecycle::delete(store, &id, true)?;
    }
    Ok(code)
}

#[inline(never)] // see `dispatch`
fn kill_cmd(store: &Store, a: &cli::KillArgs) -> Result<i32> {
    let sig = util::parse_signal(&a.signal)?;
    lifecycle::kill(store, &a.container_id, sig, a.all).map(|_| 0)
}

#[inline(never)] // see `dispatch`
fn delete_cmd(store: &Store, a: &cli::DeleteArgs) -> Result<i32> {
    let id = &a.container_id;
    match lifecycle::delete(store, id, a.force) {
        // As runc: engines (containerd's shim, podman's cleanup) call
        // `delete --force` for containers that may already be gone;
        // a directory without a record is removed (runc does too).
        Err(e)
            if e.code == ctr_runtime::Code::NotFound.as_str()
                && (store.remove_stray(id) || a.force) =>
        {
            Ok(0)
        }
        r => r.map(|_| 0),
    }
}

#[inline(never)] // see `dispatch`
fn list_cmd(store: &Store, a: &cli::ListArgs) -> Result<i32> {
    let all = lifecycle::list(store)?;
    if a.quiet {
        for s in &all {
            println!("{}", s.id);
        }
        return Ok(0);
    }
    match a.format {
        Format::Json => {
            // runc prints `null` for no containers.
            if all.is_empty() {
                println!("null");
            } else {
                println!("{}", serde_json::to_string(&all).unwrap());
            }
        }
        Format::Table => {
            let rows: Vec<[String; 6]> = std::iter::once(
                ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from),
            )
            .chain(all.iter().map(|s| {
                [
                    s.id.clone(),
                    s.pid.to_string(),
                    s.status.clone(),
                    s.bundle.clone(),
                    s.created.clone(),
                    s.owner.clone(),
                ]
            }))
            .collect();
            // runc: tabwriter(minwidth 12, padding 3).
            let mut w = [0usize; 6];
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    w[i] = w[i].max(c.len() + 3).max(12);
                }
            }
            for r in &rows {
                let mut line = String::new();
                for (i, c) in r.iter().enumerate() {
                    if i == 5 {
                        line.push_str(c);
                    } else {
                        line.push_str(&format!("{c:<width$}", width = w[i]));
                    }
                }
                println!("{}", line.trim_end());
            }
        }
    }
    Ok(0)
}

#[inline(never)] // see `dispatch`
fn ps_cmd(store: &Store, a: &cli::PsArgs) -> Result<i32> {
    let id = &a.container_id;
    if !a.ps_options.is_empty() {
        return Err(Error::new(
            ctr_runtime::Code::Unsupported,
            format!(
                "ps {}: ps options are not supported (ctrun lists the container's pids; use --format json)",
                a.ps_options.join(" ")
            ),
        )
        .with_field("ps"));
    }
    let pids = lifecycle::ps(store, id)?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string(&pids).unwrap()),
        Format::Table => {
            println!("PID");
            for p in pids {
                println!("{p}");
            }
        }
    }
    Ok(0)
}

#[inline(never)] // see `dispatch`
fn spec_cmd(a: &cli::SpecArgs) -> Result<i32> {
    let spec = if a.rootless {
        ctr_oci::spec::rootless_spec(unsafe { libc::geteuid() }, unsafe { libc::getegid() })
    } else {
        ctr_oci::spec::default_spec()
    };
    let path = a.bundle.join("config.json");
    if path.exists() {
        return Err(Error::new(
            ctr_runtime::Code::Exists,
            format!("file {} exists: remove it first", path.display()),
        )
        .with_path(&path));
    }
    let text = serde_json::to_string_pretty(&spec).unwrap();
    std::fs::write(&path, text + "\n").map_err(|e| {
        Error::io(
            ctr_runtime::Code::Spec,
            "write",
            &e,
            format!("write {}", path.display()),
        )
        .with_path(&path)
    })?;
    Ok(0)
}

/// The text of `--process FILE` / `--resources FILE` (`-`: stdin).
fn read_file_or_stdin(flag: &str, path: &str) -> Result<String> {
    if path == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            Error::io(
                ctr_runtime::Code::Usage,
                "read",
                &e,
                format!("read --{flag} from stdin"),
            )
        })?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            ctr_runtime::Code::Usage,
            "open",
            &e,
            format!("read --{flag} {path}"),
        )
        .with_path(path)
    })
}

/// `ctrun exec`: runc's flags; without --detach wait and exit with the
/// process's code (128 + signal when killed), forwarding signals to it.
#[inline(never)] // see `dispatch`
fn exec_cmd(g: &Global, store: &Store, a: &cli::ExecArgs) -> Result<i32> {
    use ctr_runtime::exec::{self, ExecOptions, ExecOverrides};
    let id = &a.container_id;
    for (flag, value) in [
        ("apparmor", &a.apparmor),
        ("process-label", &a.process_label),
        ("cgroup", &a.cgroup),
    ] {
        if let Some(v) = value {
            return Err(Error::new(
                ctr_runtime::Code::Unsupported,
                format!("exec --{flag} {v}: not supported"),
            )
            .with_field(flag.to_string()));
        }
    }
    refuse_pidfd_socket(a.pidfd_socket.as_deref())?;
    let mut process: ctr_oci::types::Process = match &a.process {
        Some(path) => {
            let text = read_file_or_stdin("process", path)?;
            serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ctr_oci::Code::Invalid,
                    format!("--process {path}: not an OCI process object: {e}"),
                )
                .with_field("process")
            })?
        }
        None => {
            let mut p = exec::default_process(store, id)?;
            let gids = if a.additional_gids.is_empty() {
                None
            } else {
                let mut v = Vec::new();
                for s in &a.additional_gids {
                    for part in s.split(',').filter(|x| !x.is_empty()) {
                        v.push(part.parse::<u32>().map_err(|_| {
                            Error::new(
                                ctr_runtime::Code::Usage,
                                format!("--additional-gids {part}: not a number"),
                            )
                            .with_field("additional-gids")
                        })?);
                    }
                }
                Some(v)
            };
            let o = ExecOverrides {
                args: a.command.clone(),
                env: a.env.clone(),
                cwd: a.cwd.clone(),
                user: a.user.as_deref().map(exec::parse_user).transpose()?,
                additional_gids: gids,
                caps: a.cap.clone(),
                no_new_privileges: a.no_new_privs,
            };
            exec::apply_overrides(&mut p, &o)?;
            p
        }
    };
    // --tty / -t (runc): the process gets a pty of the container's devpts.
    if let Some(tty) = a.tty {
        process.terminal = Some(tty);
    }
    let has_console_size = process
        .console_size
        .as_ref()
        .is_some_and(|c| c.width > 0 && c.height > 0);
    let socket = console_socket(a.console_socket.as_deref())?;
    let set = if a.detach {
        None
    } else {
        Some(terminal::block_forwarded())
    };
    let o = ExecOptions {
        process,
        stdio: [
            ctr_ns::Stdio::Fd(0),
            ctr_ns::Stdio::Fd(1),
            ctr_ns::Stdio::Fd(2),
        ],
        extra_fds: preserve_fds(a.preserve_fds)?,
        pid_file: a.pid_file.clone(),
        ignore_paused: a.ignore_paused,
        console_socket: socket.as_ref().map(|s| s.as_raw_fd()),
        detach: a.detach,
    };
    let e = exec::exec(store, id, &o)?;
    drop(socket);
    // process.terminal without --console-socket: we hold the master (runc).
    let master = e.child.take_console();
    g.debug(format!("exec: {id} pid {}", e.pid));
    let Some(set) = set else {
        return Ok(0);
    };
    let pid = e.pid;
    let st = terminal::foreground(&e.child, set, master, !has_console_size)?;
    g.debug(format!("exec: {id} pid {pid} exited {st:?}"));
    Ok(lifecycle::exit_code(st))
}

/// `ctrun update`: `--resources FILE|-` (then the other flags are ignored,
/// as in runc) or the flags.
#[inline(never)] // see `dispatch`
fn update_cmd(store: &Store, a: &cli::UpdateArgs) -> Result<i32> {
    use ctr_runtime::update::{self, UpdateFlags};
    for (flag, value) in [
        ("l3-cache-schema", &a.l3_cache_schema),
        ("mem-bw-schema", &a.mem_bw_schema),
    ] {
        if let Some(v) = value {
            return Err(Error::new(
                ctr_runtime::Code::Unsupported,
                format!("--{flag} {v}: intel RDT is not available on this host"),
            )
            .with_field(flag));
        }
    }
    let resources: serde_json::Value = match &a.resources {
        Some(path) => {
            let text = read_file_or_stdin("resources", path)?;
            serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ctr_oci::Code::Invalid,
                    format!("--resources {path}: not JSON: {e}"),
                )
                .with_field("resources")
            })?
        }
        None => {
            for (flag, value) in [
                ("kernel-memory", &a.kernel_memory),
                ("kernel-memory-tcp", &a.kernel_memory_tcp),
            ] {
                if value.is_some() {
                    eprintln!("ctrun: setting --{flag} is ignored");
                }
            }
            UpdateFlags {
                memory: a.memory.clone(),
                memory_reservation: a.memory_reservation.clone(),
                memory_swap: a.memory_swap.clone(),
                cpu_shares: a.cpu_share,
                cpu_quota: a.cpu_quota,
                cpu_period: a.cpu_period,
                cpu_burst: a.cpu_burst,
                cpu_rt_period: a.cpu_rt_period,
                cpu_rt_runtime: a.cpu_rt_runtime,
                cpu_idle: a.cpu_idle,
                cpuset_cpus: a.cpuset_cpus.clone(),
                cpuset_mems: a.cpuset_mems.clone(),
                pids_limit: a.pids_limit,
                blkio_weight: a.blkio_weight,
            }
            .to_json()
        }
    };
    update::update(store, &a.container_id, &resources)?;
    Ok(0)
}

/// `ctrun events`: runc's JSON lines on stdout.
#[inline(never)] // see `dispatch`
fn events_cmd(store: &Store, a: &cli::EventsArgs) -> Result<i32> {
    use ctr_runtime::events::{self, EventsOptions};
    let o = EventsOptions {
        stats_only: a.stats,
        interval: a.interval,
    };
    let out: std::sync::Arc<std::sync::Mutex<dyn Write + Send>> =
        std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    events::events(store, &a.container_id, &o, out)?;
    Ok(0)
}

/// Not in runc's command list (hidden from the help): remove every record
/// whose owner died (docs/runtime.md, "State protocol").
#[inline(never)] // see `dispatch`
fn gc_cmd(store: &Store) -> Result<i32> {
    let r = lifecycle::gc(store)?;
    for id in &r.removed {
        println!("{id}");
    }
    for (id, e) in &r.failed {
        eprintln!("ctrun: gc: {id}: {} [{}]", e.message, e.code);
    }
    Ok(if r.failed.is_empty() { 0 } else { 1 })
}

#[inline(never)] // see `dispatch`
fn state_cmd(store: &Store, a: &cli::IdArgs) -> Result<i32> {
    let s = lifecycle::state(store, &a.container_id)?;
    println!("{}", serde_json::to_string_pretty(&s).unwrap());
    Ok(0)
}

#[inline(never)] // see `dispatch`
fn features_cmd() -> Result<i32> {
    println!(
        "{}",
        serde_json::to_string_pretty(&ctr_runtime::features()).unwrap()
    );
    Ok(0)
}

/// Run `cmd`. Each command is a function of its own that is not inlined
/// here: inlined, they made one 68 KiB function with a 10 KiB stack frame,
/// which every command mapped and touched whole (ctrun's max RSS is mostly
/// the pages it touches: docs/performance.md).
fn dispatch(g: &Global, store: &Store, cmd: &Command) -> Result<i32> {
    match cmd {
        Command::Create(a) => create_cmd(g, store, a),
        Command::Run(a) => run_cmd(g, store, a),
        Command::Start(a) => lifecycle::start(store, &a.container_id).map(|_| 0),
        Command::State(a) => state_cmd(store, a),
        Command::Kill(a) => kill_cmd(store, a),
        Command::Delete(a) => delete_cmd(store, a),
        Command::List(a) => list_cmd(store, a),
        Command::Ps(a) => ps_cmd(store, a),
        Command::Spec(a) => spec_cmd(a),
        Command::Pause(a) => lifecycle::pause(store, &a.container_id).map(|_| 0),
        Command::Resume(a) => lifecycle::resume(store, &a.container_id).map(|_| 0),
        Command::Exec(a) => exec_cmd(g, store, a),
        Command::Update(a) => update_cmd(store, a),
        Command::Events(a) => events_cmd(store, a),
        Command::Features => features_cmd(),
        Command::Gc => gc_cmd(store),
        Command::Checkpoint(_) | Command::Restore(_) => Err(Error::new(
            ctr_runtime::Code::Unsupported,
            format!(
                "{}: checkpoint and restore (CRIU) are not supported",
                cmd.name()
            ),
        )),
    }
}

/// ctrun is built with `panic = "abort"` (Cargo.toml's `ctrun` profile):
/// a panic (a bug) is reported as an `EINTERNAL` error, on stderr and in
/// the --log, as the unwinding build's `catch_panic` reported it, before
/// the process aborts. What it made by then is recorded before it was made
/// (as after a `kill -9`), so `ctrun delete --force` or `ctrun gc` removes it.
/// (An unwinding build, as `cargo test`'s, reports through `catch_panic`.)
fn report_panics(g: &Global) {
    if !cfg!(panic = "abort") {
        return;
    }
    let g = g.clone();
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let e = Error::new(
            ctr_common::Code::Internal,
            format!("internal error: {what}{at}"),
        );
        g.fail(&e, EXIT_FAILURE);
    }));
}

/// `argv` (without the program name) read by clap, after runc's legacy
/// spellings are rewritten.
fn parse_with_clap(argv: &[String]) -> std::result::Result<Cli, clap::Error> {
    // One definition for both passes (building it is most of what a short command allocates).
    let definition = Cli::command();
    let argv = legacy::normalize(&definition, argv);
    definition
        .try_get_matches_from(std::iter::once("ctrun".to_string()).chain(argv))
        .and_then(|m| Cli::from_arg_matches(&m))
}

/// `ctrun` alone.
#[cold]
#[inline(never)]
fn print_help() {
    let _ = Cli::command().print_long_help();
}

/// `--debug`: the command line as clap reads it (runc's legacy spellings
/// rewritten).
#[cold]
#[inline(never)]
fn debug_command_line(g: &Global, cmd: &Command, argv: &[String]) {
    let argv = legacy::normalize(&Cli::command(), argv);
    g.debug(format!("{} {}", cmd.name(), argv.join(" ")));
}

/// `argv` read by clap; `Err` is the exit status after clap printed the
/// help (0) or the usage error was reported (1).
#[cold]
#[inline(never)]
fn clap_cli(argv: &[String]) -> std::result::Result<Cli, i32> {
    match parse_with_clap(argv) {
        Ok(cli) => Ok(cli),
        Err(e) if !e.use_stderr() => {
            // --help, help <command>: clap prints it; runc exits 0.
            let _ = e.print();
            Err(0)
        }
        Err(e) => {
            let argv = legacy::normalize(&Cli::command(), argv);
            Err(Global::from_refused(&argv).fail(&usage_error(&e), EXIT_FAILURE))
        }
    }
}

/// Parse `argv` (without the program name), run the command, and return
/// the exit status.
fn run(argv: Vec<String>) -> i32 {
    // The usual commands without building clap's definition (hot.rs).
    let cli = match hot::parse(&argv) {
        Some(cli) => cli,
        None => match clap_cli(&argv) {
            Ok(cli) => cli,
            Err(status) => return status,
        },
    };
    let g = Global::new(&cli.global);
    report_panics(&g);
    if cli.global.version {
        print_version();
        return 0;
    }
    let Some(cmd) = cli.command else {
        // runc: no command prints the help and succeeds.
        print_help();
        return 0;
    };
    if g.debug {
        debug_command_line(&g, &cmd, &argv);
    }
    let store = Store::new(g.root.clone());
    match ctr_common::catch_panic(|| dispatch(&g, &store, &cmd)) {
        Ok(code) => code,
        Err(e) => {
            let status = match cmd {
                Command::Exec(_) => EXIT_EXEC_FAILED,
                _ => EXIT_FAILURE,
            };
            g.fail(&e, status)
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // Started by the in-process API as its spawner (ctr_ns::spawner): not
    // a command of the command line.
    if argv.first().map(String::as_str) == Some(ctr_ns::spawner::ARG) {
        std::process::exit(ctr_ns::spawner::serve_main(&argv));
    }
    std::process::exit(run(argv));
}
