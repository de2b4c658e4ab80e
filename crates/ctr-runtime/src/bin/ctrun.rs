//! `ctrun`: an OCI runtime command line speaking runc's dialect.
//!
//! Global flags: `--root`, `--log`, `--log-format text|json`, `--debug`,
//! `--systemd-cgroup` (cgroups as systemd scopes). Commands: create, start, state, kill,
//! delete, run, list, spec, features, exec, update, events. Errors exit 1, print to stderr and,
//! with `--log`, append a line in runc's log format.

use ctr_common::{Error, Result};
use ctr_runtime::lifecycle::{self, CreateOptions};
use ctr_runtime::state::{Store, DEFAULT_ROOT};
use ctr_runtime::util;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Our stdin in raw mode while `run` relays a terminal (restored on drop).
struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    fn enter(fd: i32) -> Option<RawMode> {
        unsafe {
            if libc::isatty(fd) != 1 {
                return None;
            }
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut saved) < 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(fd, libc::TCSANOW, &raw);
            Some(RawMode { fd, saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// Give the pty `master` the window size of our own terminal, if any.
fn copy_win_size(master: i32) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    for fd in [0, 1, 2] {
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
            && ws.ws_row > 0
        {
            unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
            return;
        }
    }
}

fn has_console_size(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.pointer("/process/consoleSize").is_some())
}

fn write_all(fd: i32, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return false;
        }
        data = &data[n as usize..];
    }
    true
}

/// `ctrun run` with a terminal and no console socket: copy our stdin to
/// the pty and the pty to our stdout until the container side is gone
/// (EIO once every holder of the slave exited).
fn relay_terminal(master: &OwnedFd) {
    if let Ok(input) = master.try_clone() {
        // Blocking reads of our stdin; the thread ends with the process.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                if n <= 0 || !write_all(input.as_raw_fd(), &buf[..n as usize]) {
                    return;
                }
            }
        });
    }
    let mut buf = [0u8; 16384];
    loop {
        match ctr_ns::console::read_master(master.as_raw_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if !write_all(1, &buf[..n]) {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

const USAGE: &str = "ctrun: an OCI container runtime (runc's command line)

usage: ctrun [global options] command [command options] [arguments...]

commands:
  create    create a container            (--bundle, --pid-file, --console-socket, --preserve-fds, --no-pivot) <id>
  start     start a created container     <id>
  run       create and run a container    (--bundle, --pid-file, --console-socket, --detach, --no-pivot) <id>
  state     print the state of a container as JSON  <id>
  kill      send a signal to the init process       (--all) <id> [signal]
  delete    delete a container            (--force) <id>
  list      list containers               (--format table|json, --quiet)
  spec      write a default config.json   (--bundle, --rootless)
  pause     freeze a running container    <id>
  resume    thaw a paused container       <id>
  ps        pids of a container           (--format table|json) <id>
  features  print the features document (JSON)
  exec      run a process in a container  (--process, --detach, --pid-file, --cwd, --env, --user,
            --additional-gids, --cap, --no-new-privs, --preserve-fds, --tty, --console-socket) <id> [args...]
  update    change a container's limits   (--resources FILE|-, --memory, --cpu-shares, ...) <id>
  events    stats and OOM events as JSON  (--stats, --interval 5s) <id>

global options:
  --root PATH          state root (default /run/ctrun)
  --log PATH           append errors (and --debug lines) to this file
  --log-format FORMAT  text or json (default text)
  --debug              log debug lines
  --systemd-cgroup     make each container's cgroup a transient systemd scope over D-Bus
                       (cgroupsPath slice:prefix:name, default system.slice:ctrun:<id>)
  --version, -v        print the version and the OCI spec version
";

struct Global {
    root: PathBuf,
    log: Option<PathBuf>,
    json_log: bool,
    /// `--systemd-cgroup`: cgroups as systemd scopes.
    systemd_cgroup: bool,
    debug: bool,
}

impl Global {
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
}

/// Command arguments: flags (`--x v`, `--x=v`, `-x v`) and positionals.
struct Args {
    flags: Vec<(String, Option<String>)>,
    pos: Vec<String>,
}

fn usage_err(msg: impl Into<String>) -> Error {
    Error::new("ERUNTIME_USAGE", msg)
}

/// Parse `args`; `bool_flags` take no value, `value_flags` take one.
fn parse_args(args: &[String], bool_flags: &[&str], value_flags: &[&str]) -> Result<Args> {
    let mut flags = Vec::new();
    let mut pos = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            pos.extend(args[i + 1..].iter().cloned());
            break;
        }
        if a.starts_with('-') && a.len() > 1 && pos.is_empty() {
            let body = a.trim_start_matches('-');
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            if bool_flags.contains(&name.as_str()) {
                flags.push((name, inline));
            } else if value_flags.contains(&name.as_str()) {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i)
                            .cloned()
                            .ok_or_else(|| usage_err(format!("flag needs an argument: -{name}")))?
                    }
                };
                flags.push((name, Some(v)));
            } else {
                return Err(usage_err(format!("flag provided but not defined: -{name}")));
            }
        } else {
            pos.push(a.clone());
        }
        i += 1;
    }
    Ok(Args { flags, pos })
}

impl Args {
    fn value(&self, names: &[&str]) -> Option<String> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| names.contains(&n.as_str()))
            .and_then(|(_, v)| v.clone())
    }
    fn bool(&self, names: &[&str]) -> bool {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v.as_deref().map(|v| v != "false").unwrap_or(true))
            .unwrap_or(false)
    }
    fn id(&self, cmd: &str) -> Result<String> {
        match self.pos.first() {
            Some(id) => Ok(id.clone()),
            None => Err(usage_err(format!(
                "{cmd}: requires exactly 1 argument: the container id"
            ))),
        }
    }
}

/// `--console-socket PATH`: connect to the receiver's unix socket (it gets
/// the pty master with SCM_RIGHTS during create).
fn console_socket(a: &Args) -> Result<Option<UnixStream>> {
    let Some(path) = a.value(&["console-socket"]) else {
        return Ok(None);
    };
    UnixStream::connect(&path).map(Some).map_err(|e| {
        Error::io(
            "ERUNTIME_CONSOLE",
            "connect",
            &e,
            format!("--console-socket {path}: connect"),
        )
        .with_path(&path)
    })
}

fn create_opts(
    a: &Args,
    id: String,
    console: &Option<UnixStream>,
    detach: bool,
) -> Result<CreateOptions> {
    // --preserve-fds N: our fds 3 .. 3+N become the container's 3 .. 3+N.
    let extra_fds: Vec<i32> = match a.value(&["preserve-fds"]) {
        None => vec![],
        Some(n) => {
            let n: i32 = n
                .parse()
                .ok()
                .filter(|n| (0..=64).contains(n))
                .ok_or_else(|| {
                    Error::new(
                        "ERUNTIME_USAGE",
                        format!("--preserve-fds {n}: must be a number from 0 to 64"),
                    )
                    .with_field("preserve-fds")
                })?;
            let fds: Vec<i32> = (3..3 + n).collect();
            if let Some(fd) = fds
                .iter()
                .find(|fd| unsafe { libc::fcntl(**fd, libc::F_GETFD) } < 0)
            {
                return Err(Error::new(
                    "ERUNTIME_USAGE",
                    format!("--preserve-fds {n}: fd {fd} is not open"),
                )
                .with_field("preserve-fds"));
            }
            fds
        }
    };
    let bundle = PathBuf::from(a.value(&["bundle", "b"]).unwrap_or_else(|| ".".into()));
    Ok(CreateOptions {
        id,
        bundle,
        pid_file: a.value(&["pid-file"]).map(PathBuf::from),
        no_pivot: a.bool(&["no-pivot"]),
        stdio: [
            ctr_ns::Stdio::Fd(0),
            ctr_ns::Stdio::Fd(1),
            ctr_ns::Stdio::Fd(2),
        ],
        extra_fds,
        console_socket: console.as_ref().map(|s| s.as_raw_fd()),
        detach,
        systemd_cgroup: false,
    })
}

const CREATE_BOOLS: [&str; 3] = ["no-pivot", "no-new-keyring", "detach"];
const CREATE_VALUES: [&str; 5] = ["bundle", "b", "pid-file", "console-socket", "preserve-fds"];

/// Forward these signals to the container in `run`.
const FORWARD: [i32; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

fn block_forwarded() -> libc::sigset_t {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARD {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Stay with a started process until it exits (`run` and `exec` without
/// `--detach`): forward the signals blocked in `set` to it, and with a
/// terminal relay it to ours in raw mode, keeping the window size in step
/// (taking ours first when `size_from_ours`: the config gave none).
fn foreground(
    child: &ctr_ns::Child,
    set: libc::sigset_t,
    master: Option<OwnedFd>,
    size_from_ours: bool,
) -> Result<ctr_ns::ExitStatus> {
    let pid = child.pid;
    let master_fd = master.as_ref().map(|m| m.as_raw_fd());
    if let Some(m) = master_fd {
        if size_from_ours {
            copy_win_size(m);
        }
    }
    std::thread::spawn(move || loop {
        let mut sig = 0;
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            match master_fd {
                // The kernel sends SIGWINCH to the pty's foreground group.
                Some(m) if sig == libc::SIGWINCH => copy_win_size(m),
                // Not reaped yet (we wait below): the pid is still our child's.
                _ => unsafe {
                    libc::kill(pid, sig);
                },
            }
        }
    });
    let raw = master.as_ref().and_then(|_| RawMode::enter(0));
    if let Some(m) = &master {
        relay_terminal(m);
    }
    let st = child.wait();
    drop(raw);
    st
}

fn run_cmd(g: &Global, store: &Store, a: &Args) -> Result<i32> {
    let id = a.id("run")?;
    let detach = a.bool(&["detach", "d"]);
    let socket = console_socket(a)?;
    let o = CreateOptions {
        systemd_cgroup: g.systemd_cgroup,
        ..create_opts(a, id.clone(), &socket, detach)?
    };
    let set = if detach {
        None
    } else {
        Some(block_forwarded())
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
    if detach {
        return Ok(0);
    }
    let st = foreground(
        &created.child,
        set.unwrap(),
        master,
        !has_console_size(&o.bundle),
    )?;
    let code = lifecycle::exit_code(st);
    g.debug(format!("run: {id} exited {st:?}"));
    lifecycle::delete(store, &id, true)?;
    Ok(code)
}

fn list_cmd(store: &Store, a: &Args) -> Result<i32> {
    let all = lifecycle::list(store)?;
    let format = a.value(&["format", "f"]).unwrap_or_else(|| "table".into());
    if a.bool(&["quiet", "q"]) {
        for s in &all {
            println!("{}", s.id);
        }
        return Ok(0);
    }
    match format.as_str() {
        "json" => {
            // runc prints `null` for no containers.
            if all.is_empty() {
                println!("null");
            } else {
                println!("{}", serde_json::to_string(&all).unwrap());
            }
        }
        "table" => {
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
        f => {
            return Err(usage_err(format!(
                "invalid format option {f:?}: use table or json"
            )))
        }
    }
    Ok(0)
}

fn spec_cmd(a: &Args) -> Result<i32> {
    let dir = PathBuf::from(a.value(&["bundle", "b"]).unwrap_or_else(|| ".".into()));
    let spec = if a.bool(&["rootless"]) {
        ctr_oci::spec::rootless_spec(unsafe { libc::geteuid() }, unsafe { libc::getegid() })
    } else {
        ctr_oci::spec::default_spec()
    };
    let path = dir.join("config.json");
    if path.exists() {
        return Err(Error::new(
            "ERUNTIME_EXISTS",
            format!("file {} exists: remove it first", path.display()),
        )
        .with_path(&path));
    }
    let text = serde_json::to_string_pretty(&spec).unwrap();
    std::fs::write(&path, text + "\n").map_err(|e| {
        Error::io(
            "ERUNTIME_SPEC",
            "write",
            &e,
            format!("write {}", path.display()),
        )
        .with_path(&path)
    })?;
    Ok(0)
}

const EXEC_BOOLS: [&str; 8] = [
    "detach",
    "d",
    "tty",
    "t",
    "no-new-privs",
    "ignore-paused",
    "no-subreaper",
    "help",
];
const EXEC_VALUES: [&str; 19] = [
    "process",
    "p",
    "pid-file",
    "cwd",
    "env",
    "e",
    "user",
    "u",
    "additional-gids",
    "g",
    "cap",
    "c",
    "preserve-fds",
    "console-socket",
    "apparmor",
    "process-label",
    "cgroup",
    "pidfd-socket",
    "log-fd",
];

fn all_values(a: &Args, names: &[&str]) -> Vec<String> {
    a.flags
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .filter_map(|(_, v)| v.clone())
        .collect()
}

fn preserve_fds(a: &Args) -> Result<Vec<i32>> {
    match a.value(&["preserve-fds"]) {
        None => Ok(vec![]),
        Some(n) => {
            let n: i32 = n
                .parse()
                .ok()
                .filter(|n| (0..=64).contains(n))
                .ok_or_else(|| {
                    Error::new(
                        "ERUNTIME_USAGE",
                        format!("--preserve-fds {n}: must be a number from 0 to 64"),
                    )
                    .with_field("preserve-fds")
                })?;
            let fds: Vec<i32> = (3..3 + n).collect();
            if let Some(fd) = fds
                .iter()
                .find(|fd| unsafe { libc::fcntl(**fd, libc::F_GETFD) } < 0)
            {
                return Err(Error::new(
                    "ERUNTIME_USAGE",
                    format!("--preserve-fds {n}: fd {fd} is not open"),
                )
                .with_field("preserve-fds"));
            }
            Ok(fds)
        }
    }
}

/// `ctrun exec`: runc's flags; without --detach wait and exit with the
/// process's code (128 + signal when killed), forwarding signals to it.
fn exec_cmd(g: &Global, store: &Store, a: &Args) -> Result<i32> {
    use ctr_runtime::exec::{self, ExecOptions, ExecOverrides};
    let id = a.id("exec")?;
    for f in ["apparmor", "process-label", "cgroup", "pidfd-socket"] {
        if let Some(v) = a.value(&[f]) {
            return Err(Error::new(
                "ERUNTIME_UNSUPPORTED",
                format!("exec --{f} {v}: not supported"),
            )
            .with_field(f.to_string()));
        }
    }
    let mut process: ctr_oci::types::Process = match a.value(&["process", "p"]) {
        Some(path) => {
            let text = if path == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                    Error::io("ERUNTIME_USAGE", "read", &e, "read the process from stdin")
                })?;
                s
            } else {
                std::fs::read_to_string(&path).map_err(|e| {
                    Error::io(
                        "ERUNTIME_USAGE",
                        "open",
                        &e,
                        format!("read --process {path}"),
                    )
                    .with_path(&path)
                })?
            };
            serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    "EOCI_INVALID",
                    format!("--process {path}: not an OCI process object: {e}"),
                )
                .with_field("process")
            })?
        }
        None => {
            let mut p = exec::default_process(store, &id)?;
            let gids = match a.value(&["additional-gids", "g"]) {
                None => None,
                Some(_) => {
                    let mut v = Vec::new();
                    for s in all_values(a, &["additional-gids", "g"]) {
                        for part in s.split(',').filter(|x| !x.is_empty()) {
                            v.push(part.parse::<u32>().map_err(|_| {
                                Error::new(
                                    "ERUNTIME_USAGE",
                                    format!("--additional-gids {part}: not a number"),
                                )
                                .with_field("additional-gids")
                            })?);
                        }
                    }
                    Some(v)
                }
            };
            let o = ExecOverrides {
                args: a.pos[1..].to_vec(),
                env: all_values(a, &["env", "e"]),
                cwd: a.value(&["cwd"]),
                user: a
                    .value(&["user", "u"])
                    .map(|u| exec::parse_user(&u))
                    .transpose()?,
                additional_gids: gids,
                caps: all_values(a, &["cap", "c"]),
                no_new_privileges: a
                    .flags
                    .iter()
                    .any(|(n, _)| n == "no-new-privs")
                    .then(|| a.bool(&["no-new-privs"])),
            };
            exec::apply_overrides(&mut p, &o)?;
            p
        }
    };
    // --tty / -t (runc): the process gets a pty of the container's devpts.
    if a.flags.iter().any(|(n, _)| n == "tty" || n == "t") {
        process.terminal = Some(a.bool(&["tty", "t"]));
    }
    let has_console_size = process
        .console_size
        .as_ref()
        .is_some_and(|c| c.width > 0 && c.height > 0);
    let detach = a.bool(&["detach", "d"]);
    let socket = console_socket(a)?;
    let set = if detach {
        None
    } else {
        Some(block_forwarded())
    };
    let o = ExecOptions {
        process,
        stdio: [
            ctr_ns::Stdio::Fd(0),
            ctr_ns::Stdio::Fd(1),
            ctr_ns::Stdio::Fd(2),
        ],
        extra_fds: preserve_fds(a)?,
        pid_file: a.value(&["pid-file"]).map(PathBuf::from),
        ignore_paused: a.bool(&["ignore-paused"]),
        console_socket: socket.as_ref().map(|s| s.as_raw_fd()),
        detach,
    };
    let e = exec::exec(store, &id, &o)?;
    drop(socket);
    // process.terminal without --console-socket: we hold the master (runc).
    let master = e.child.take_console();
    g.debug(format!("exec: {id} pid {}", e.pid));
    if detach {
        return Ok(0);
    }
    let pid = e.pid;
    let st = foreground(&e.child, set.unwrap(), master, !has_console_size)?;
    g.debug(format!("exec: {id} pid {pid} exited {st:?}"));
    Ok(lifecycle::exit_code(st))
}

const UPDATE_VALUES: [&str; 20] = [
    "resources",
    "r",
    "memory",
    "memory-reservation",
    "memory-swap",
    "cpu-share",
    "cpu-shares",
    "cpu-quota",
    "cpu-period",
    "cpu-burst",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-idle",
    "cpuset-cpus",
    "cpuset-mems",
    "pids-limit",
    "blkio-weight",
    "kernel-memory",
    "kernel-memory-tcp",
    "l3-cache-schema",
];

fn num_flag<T: std::str::FromStr>(a: &Args, names: &[&str]) -> Result<Option<T>> {
    match a.value(names) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Error::new(
                "ERUNTIME_USAGE",
                format!("invalid value for --{}: {v:?}", names[0]),
            )
            .with_field(names[0].to_string())
        }),
    }
}

/// `ctrun update`: `--resources FILE|-` (then the other flags are ignored,
/// as in runc) or the flags.
fn update_cmd(store: &Store, a: &Args) -> Result<i32> {
    use ctr_runtime::update::{self, UpdateFlags};
    let id = a.id("update")?;
    if let Some(v) = a.value(&["l3-cache-schema"]) {
        return Err(Error::new(
            "ERUNTIME_UNSUPPORTED",
            format!("--l3-cache-schema {v}: intel RDT is not available on this host"),
        )
        .with_field("l3-cache-schema"));
    }
    let resources: serde_json::Value = match a.value(&["resources", "r"]) {
        Some(path) => {
            let text = if path == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                    Error::io(
                        "ERUNTIME_USAGE",
                        "read",
                        &e,
                        "read the resources from stdin",
                    )
                })?;
                s
            } else {
                std::fs::read_to_string(&path).map_err(|e| {
                    Error::io(
                        "ERUNTIME_USAGE",
                        "open",
                        &e,
                        format!("read --resources {path}"),
                    )
                    .with_path(&path)
                })?
            };
            serde_json::from_str(&text).map_err(|e| {
                Error::new("EOCI_INVALID", format!("--resources {path}: not JSON: {e}"))
                    .with_field("resources")
            })?
        }
        None => {
            for f in ["kernel-memory", "kernel-memory-tcp"] {
                if a.value(&[f]).is_some() {
                    eprintln!("ctrun: setting --{f} is ignored");
                }
            }
            UpdateFlags {
                memory: a.value(&["memory"]),
                memory_reservation: a.value(&["memory-reservation"]),
                memory_swap: a.value(&["memory-swap"]),
                cpu_shares: num_flag(a, &["cpu-share", "cpu-shares"])?,
                cpu_quota: num_flag(a, &["cpu-quota"])?,
                cpu_period: num_flag(a, &["cpu-period"])?,
                cpu_burst: num_flag(a, &["cpu-burst"])?,
                cpu_rt_period: num_flag(a, &["cpu-rt-period"])?,
                cpu_rt_runtime: num_flag(a, &["cpu-rt-runtime"])?,
                cpu_idle: num_flag(a, &["cpu-idle"])?,
                cpuset_cpus: a.value(&["cpuset-cpus"]),
                cpuset_mems: a.value(&["cpuset-mems"]),
                pids_limit: num_flag(a, &["pids-limit"])?,
                blkio_weight: num_flag(a, &["blkio-weight"])?,
            }
            .to_json()
        }
    };
    update::update(store, &id, &resources)?;
    Ok(0)
}

/// A Go-style duration: `5s`, `500ms`, `1m`, `1.5s`, or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let bad = || {
        Error::new(
            "ERUNTIME_USAGE",
            format!("--interval {s}: not a duration (like 5s or 500ms)"),
        )
        .with_field("interval")
    };
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// `ctrun events`: runc's JSON lines on stdout.
fn events_cmd(store: &Store, a: &Args) -> Result<i32> {
    use ctr_runtime::events::{self, EventsOptions};
    let id = a.id("events")?;
    let interval = match a.value(&["interval"]) {
        Some(v) => parse_duration(&v)?,
        None => std::time::Duration::from_secs(5),
    };
    let o = EventsOptions {
        stats_only: a.bool(&["stats"]),
        interval,
    };
    let out: std::sync::Arc<std::sync::Mutex<dyn Write + Send>> =
        std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    events::events(store, &id, &o, out)?;
    Ok(0)
}

// The error carries the global flags so main can log it where they say.
#[allow(clippy::result_large_err)]
fn main_inner(argv: Vec<String>) -> std::result::Result<i32, (Global, Error)> {
    let mut g = Global {
        root: DEFAULT_ROOT.into(),
        log: None,
        json_log: false,
        debug: false,
        systemd_cgroup: false,
    };
    // Global flags come before the command.
    let mut i = 0;
    let take = |i: &mut usize, name: &str, inline: Option<String>| -> Result<String> {
        if let Some(v) = inline {
            return Ok(v);
        }
        *i += 1;
        argv.get(*i)
            .cloned()
            .ok_or_else(|| usage_err(format!("flag needs an argument: --{name}")))
    };
    while i < argv.len() && argv[i].starts_with('-') {
        let body = argv[i].trim_start_matches('-').to_string();
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.clone(), None),
        };
        let r: Result<()> = (|| {
            match name.as_str() {
                "root" => g.root = take(&mut i, &name, inline)?.into(),
                "log" => g.log = Some(take(&mut i, &name, inline)?.into()),
                "log-format" => {
                    let f = take(&mut i, &name, inline)?;
                    match f.as_str() {
                        "text" => g.json_log = false,
                        "json" => g.json_log = true,
                        _ => {
                            return Err(usage_err(format!(
                                "unknown log-format {f:?}: use text or json"
                            )))
                        }
                    }
                }
                "debug" => g.debug = inline.as_deref() != Some("false"),
                "systemd-cgroup" => g.systemd_cgroup = inline.as_deref() != Some("false"),
                "rootless" => {
                    let _ = take(&mut i, &name, inline);
                }
                "version" | "v" => {
                    println!(
                        "ctrun version {}\nspec: {}",
                        env!("CARGO_PKG_VERSION"),
                        ctr_oci::OCI_VERSION
                    );
                    std::process::exit(0);
                }
                "help" | "h" => {
                    print!("{USAGE}");
                    std::process::exit(0);
                }
                _ => return Err(usage_err(format!("flag provided but not defined: -{name}"))),
            }
            Ok(())
        })();
        if let Err(e) = r {
            return Err((g, e));
        }
        i += 1;
    }
    let Some(cmd) = argv.get(i).cloned() else {
        print!("{USAGE}");
        return Ok(0);
    };
    let rest = &argv[i + 1..];
    g.debug(format!("{cmd} {}", rest.join(" ")));
    let store = Store::new(g.root.clone());
    let r: Result<i32> = (|| match cmd.as_str() {
        "create" => {
            let a = parse_args(rest, &CREATE_BOOLS, &CREATE_VALUES)?;
            let socket = console_socket(&a)?;
            let o = CreateOptions {
                systemd_cgroup: g.systemd_cgroup,
                ..create_opts(&a, a.id("create")?, &socket, true)?
            };
            lifecycle::create(&store, &o).map(|_| 0)
        }
        "run" => {
            let a = parse_args(
                rest,
                &["no-pivot", "no-new-keyring", "detach", "d", "keep"],
                &CREATE_VALUES,
            )?;
            run_cmd(&g, &store, &a)
        }
        // Not in runc's command list (hidden from the usage text): remove
        // every record whose owner died (docs/runtime.md, "State protocol").
        "gc" => {
            parse_args(rest, &[], &[])?;
            let r = lifecycle::gc(&store)?;
            for id in &r.removed {
                println!("{id}");
            }
            for (id, e) in &r.failed {
                eprintln!("ctrun: gc: {id}: {} [{}]", e.message, e.code);
            }
            Ok(if r.failed.is_empty() { 0 } else { 1 })
        }
        "start" => lifecycle::start(&store, &parse_args(rest, &[], &[])?.id("start")?).map(|_| 0),
        "state" => {
            let s = lifecycle::state(&store, &parse_args(rest, &[], &[])?.id("state")?)?;
            println!("{}", serde_json::to_string_pretty(&s).unwrap());
            Ok(0)
        }
        "kill" => {
            let a = parse_args(rest, &["all", "a"], &[])?;
            let id = a.id("kill")?;
            let sig = util::parse_signal(a.pos.get(1).map(String::as_str).unwrap_or("SIGTERM"))?;
            lifecycle::kill(&store, &id, sig, a.bool(&["all", "a"])).map(|_| 0)
        }
        "delete" => {
            let a = parse_args(rest, &["force", "f"], &[])?;
            let force = a.bool(&["force", "f"]);
            let id = a.id("delete")?;
            match lifecycle::delete(&store, &id, force) {
                // As runc: engines (containerd's shim, podman's cleanup) call
                // `delete --force` for containers that may already be gone;
                // a directory without a record is removed (runc does too).
                Err(e) if e.code == "ERUNTIME_NOT_FOUND" && (store.remove_stray(&id) || force) => {
                    Ok(0)
                }
                r => r.map(|_| 0),
            }
        }
        "list" => list_cmd(
            &store,
            &parse_args(rest, &["quiet", "q"], &["format", "f"])?,
        ),
        "spec" => spec_cmd(&parse_args(rest, &["rootless"], &["bundle", "b"])?),
        "pause" => lifecycle::pause(&store, &parse_args(rest, &[], &[])?.id("pause")?).map(|_| 0),
        "resume" => {
            lifecycle::resume(&store, &parse_args(rest, &[], &[])?.id("resume")?).map(|_| 0)
        }
        "ps" => {
            let a = parse_args(rest, &[], &["format", "f"])?;
            let pids = lifecycle::ps(&store, &a.id("ps")?)?;
            match a.value(&["format", "f"]).as_deref().unwrap_or("table") {
                "json" => println!("{}", serde_json::to_string(&pids).unwrap()),
                "table" => {
                    println!("PID");
                    for p in pids {
                        println!("{p}");
                    }
                }
                f => {
                    return Err(usage_err(format!(
                        "invalid format option {f:?}: use table or json"
                    )))
                }
            }
            Ok(0)
        }
        "exec" => {
            let a = parse_args(rest, &EXEC_BOOLS, &EXEC_VALUES)?;
            exec_cmd(&g, &store, &a)
        }
        "update" => {
            let a = parse_args(rest, &[], &UPDATE_VALUES)?;
            update_cmd(&store, &a)
        }
        "events" => {
            let a = parse_args(rest, &["stats"], &["interval"])?;
            events_cmd(&store, &a)
        }
        "features" => {
            println!(
                "{}",
                serde_json::to_string_pretty(&ctr_runtime::features()).unwrap()
            );
            Ok(0)
        }
        other => Err(usage_err(format!(
            "no such command: {other:?} (see ctrun --help)"
        ))),
    })();
    r.map_err(|e| (g, e))
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match ctr_common::catch_panic(|| Ok(main_inner(argv))) {
        Ok(Ok(code)) => code,
        Ok(Err((g, e))) => {
            g.log_line("error", &e.to_string(), Some(&e.code));
            eprintln!("ctrun: {e} [{}]", e.code);
            1
        }
        Err(e) => {
            eprintln!("ctrun: {e} [{}]", e.code);
            1
        }
    };
    std::process::exit(code);
}
