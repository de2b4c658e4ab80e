//! The commands an engine runs per container (`create`, `start`, `state`,
//! `kill`, `delete`, `run`, `exec`) parsed without clap.
//!
//! Why: building clap's definition of the command line and running its
//! parser was most of what a short `ctrun` allocated (~800 allocations,
//! ~150 KiB of heap before any bundle was read; crun's whole heap is ~20
//! KiB) and spread its code over the binary's text; both count in ctrun's
//! max RSS (docs/performance.md).
//!
//! Only a plainly spelled command line is taken here: the flags of
//! `cli.rs` in clap's GNU spelling or runc's legacy ones (`-root`,
//! `--detach=false`, as `legacy.rs` rewrites them), each value present,
//! not empty and not looking like a flag. Anything else (`--help`, a
//! flag of another command, a missing value, a cluster of short flags, a
//! value clap would refuse) returns `None` and goes to clap, so that every
//! usage error, help text and exit status stays clap's own. The test
//! `agrees_with_clap` parses thousands of command lines both ways.

use crate::cli::{
    go_bool, BundleArgs, Cli, Command, CreateArgs, DeleteArgs, ExecArgs, GlobalArgs, IdArgs,
    KillArgs, LogFormat, RunArgs,
};
use std::path::PathBuf;

/// One argument as typed.
enum Token<'a> {
    /// Not a flag: a command name, the container id, a signal.
    Word(&'a str),
    /// `--name`, runc's `-name`, or the short `-x`; with its `=value`.
    Flag {
        name: &'a str,
        short: bool,
        inline: Option<&'a str>,
    },
    /// `--`.
    End,
}

fn token(a: &str) -> Token<'_> {
    if a == "--" {
        return Token::End;
    }
    let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) else {
        return Token::Word(a);
    };
    let double = body.starts_with('-');
    let body = body.strip_prefix('-').unwrap_or(body);
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    Token::Flag {
        name,
        short: !double && name.chars().count() == 1,
        inline,
    }
}

/// The arguments still to read.
struct Args<'a> {
    argv: &'a [String],
    next: usize,
}

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let a = self.argv.get(self.next)?;
        self.next += 1;
        Some(a)
    }

    /// A flag's value: `--name=value` or the next argument; `None` (leave
    /// it to clap) when it is missing, empty or looks like a flag.
    fn value(&mut self, inline: Option<&'a str>, short: bool) -> Option<&'a str> {
        let v = match inline {
            // `-b=dir`: clap's own reading of it.
            Some(_) if short => return None,
            Some(v) => v,
            None => self.next()?,
        };
        (!v.is_empty() && !v.starts_with('-')).then_some(v)
    }

    fn path(&mut self, inline: Option<&'a str>, short: bool) -> Option<PathBuf> {
        self.value(inline, short).map(PathBuf::from)
    }

    fn string(&mut self, inline: Option<&'a str>, short: bool) -> Option<String> {
        self.value(inline, short).map(String::from)
    }

    /// The rest, for `exec`'s command and `kill`'s signal: what follows
    /// the container id, without a first `--`.
    fn rest(&mut self) -> &'a [String] {
        let mut rest = &self.argv[self.next.min(self.argv.len())..];
        if rest.first().is_some_and(|a| a == "--") {
            rest = &rest[1..];
        }
        self.next = self.argv.len();
        rest
    }
}

/// A boolean flag: `--name` is true; `--name=<Go boolean>` sets it when
/// true and leaves it when false (legacy.rs drops a false one); another
/// value is clap's to refuse.
fn set_bool(field: &mut bool, inline: Option<&str>) -> Option<()> {
    match inline.map(go_bool) {
        None | Some(Ok(true)) => *field = true,
        Some(Ok(false)) => {}
        Some(Err(_)) => return None,
    }
    Some(())
}

/// `--tty` and `--no-new-privs`: bare, or `--name=<Go boolean>`.
fn tri_state(inline: Option<&str>, short: bool) -> Option<Option<bool>> {
    match inline {
        None => Some(Some(true)),
        Some(_) if short => None,
        Some(v) => go_bool(v).ok().map(Some),
    }
}

/// `--preserve-fds N`: digits only (clap reads the rest).
fn count(v: &str) -> Option<u32> {
    v.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| v.parse().ok())
        .flatten()
}

/// A global flag (`before`: ahead of the command, where `--rootless` is
/// also one). `None`: not one, or not plainly spelled.
fn global<'a>(
    g: &mut GlobalArgs,
    args: &mut Args<'a>,
    name: &str,
    short: bool,
    inline: Option<&'a str>,
    before: bool,
) -> Option<()> {
    if short {
        return None;
    }
    match name {
        "debug" => set_bool(&mut g.debug, inline)?,
        "systemd-cgroup" => set_bool(&mut g.systemd_cgroup, inline)?,
        "log" => g.log = Some(args.path(inline, short)?),
        "root" => g.root = Some(args.path(inline, short)?),
        "log-format" => {
            g.log_format = match args.value(inline, short)? {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return None,
            }
        }
        "rootless" if before => {
            g.rootless = match args.value(inline, short)? {
                v @ ("true" | "false" | "auto") => v.to_string(),
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(())
}

/// `create`'s and `run`'s shared flags.
fn bundle_flag<'a>(
    b: &mut BundleArgs,
    args: &mut Args<'a>,
    name: &str,
    short: bool,
    inline: Option<&'a str>,
) -> Option<()> {
    match (name, short) {
        ("bundle", false) | ("b", true) => b.bundle = args.path(inline, short)?,
        ("console-socket", false) => b.console_socket = Some(args.path(inline, short)?),
        ("pidfd-socket", false) => b.pidfd_socket = Some(args.path(inline, short)?),
        ("pid-file", false) => b.pid_file = Some(args.path(inline, short)?),
        ("no-pivot", false) => set_bool(&mut b.no_pivot, inline)?,
        ("no-new-keyring", false) => set_bool(&mut b.no_new_keyring, inline)?,
        ("preserve-fds", false) => b.preserve_fds = count(args.value(inline, short)?)?,
        _ => return None,
    }
    Some(())
}

/// The command being read, with its flags as far as they were given.
enum Partial {
    Create(BundleArgs, bool),
    Run(BundleArgs, bool, bool, bool),
    Start,
    State,
    Delete(bool),
    Kill(bool),
    Exec(Box<ExecArgs>),
}

impl Partial {
    fn new(name: &str) -> Option<Partial> {
        let bundle = || BundleArgs {
            bundle: PathBuf::from("."),
            console_socket: None,
            pidfd_socket: None,
            pid_file: None,
            no_pivot: false,
            no_new_keyring: false,
            preserve_fds: 0,
        };
        Some(match name {
            "create" => Partial::Create(bundle(), false),
            "run" => Partial::Run(bundle(), false, false, false),
            "start" => Partial::Start,
            "state" => Partial::State,
            "delete" => Partial::Delete(false),
            "kill" => Partial::Kill(false),
            "exec" => Partial::Exec(Box::new(ExecArgs {
                console_socket: None,
                pidfd_socket: None,
                cwd: None,
                env: Vec::new(),
                tty: None,
                user: None,
                additional_gids: Vec::new(),
                process: None,
                detach: false,
                pid_file: None,
                process_label: None,
                apparmor: None,
                no_new_privs: None,
                cap: Vec::new(),
                preserve_fds: 0,
                cgroup: None,
                ignore_paused: false,
                no_subreaper: false,
                log_fd: None,
                container_id: String::new(),
                command: Vec::new(),
            })),
            _ => return None,
        })
    }

    /// A flag of this command. `None`: not one (perhaps a global flag).
    fn flag<'a>(
        &mut self,
        args: &mut Args<'a>,
        name: &str,
        short: bool,
        inline: Option<&'a str>,
    ) -> Option<()> {
        let detach = matches!((name, short), ("detach", false) | ("d", true));
        match self {
            Partial::Create(_, d) if detach => set_bool(d, inline),
            Partial::Create(b, _) => bundle_flag(b, args, name, short, inline),
            Partial::Run(_, d, _, _) if detach => set_bool(d, inline),
            Partial::Run(_, _, keep, _) if (name, short) == ("keep", false) => {
                set_bool(keep, inline)
            }
            Partial::Run(_, _, _, n) if (name, short) == ("no-subreaper", false) => {
                set_bool(n, inline)
            }
            Partial::Run(b, _, _, _) => bundle_flag(b, args, name, short, inline),
            Partial::Delete(force) if matches!((name, short), ("force", false) | ("f", true)) => {
                set_bool(force, inline)
            }
            Partial::Kill(all) if matches!((name, short), ("all", false) | ("a", true)) => {
                set_bool(all, inline)
            }
            Partial::Exec(e) => exec_flag(e, args, name, short, inline),
            _ => None,
        }
    }

    /// The finished command, given its positional arguments.
    fn finish(self, id: String, args: &mut Args<'_>) -> Option<Command> {
        Some(match self {
            Partial::Create(bundle, detach) => Command::Create(CreateArgs {
                bundle,
                detach,
                container_id: id,
            }),
            Partial::Run(bundle, detach, keep, no_subreaper) => Command::Run(RunArgs {
                bundle,
                detach,
                keep,
                no_subreaper,
                container_id: id,
            }),
            Partial::Start => Command::Start(IdArgs { container_id: id }),
            Partial::State => Command::State(IdArgs { container_id: id }),
            Partial::Delete(force) => Command::Delete(DeleteArgs {
                force,
                container_id: id,
            }),
            Partial::Kill(all) => {
                let signal = match args.rest() {
                    [] => "SIGTERM".to_string(),
                    [s] => s.clone(),
                    _ => return None,
                };
                Command::Kill(KillArgs {
                    all,
                    container_id: id,
                    signal,
                })
            }
            Partial::Exec(mut e) => {
                e.container_id = id;
                e.command = args.rest().to_vec();
                Command::Exec(*e)
            }
        })
    }

    /// What follows the container id belongs to the command (`exec`'s
    /// process, `kill`'s signal), not to ctrun (legacy.rs).
    fn stops_at_id(&self) -> bool {
        matches!(self, Partial::Kill(_) | Partial::Exec(_))
    }
}

/// `exec`'s flags.
fn exec_flag<'a>(
    e: &mut ExecArgs,
    args: &mut Args<'a>,
    name: &str,
    short: bool,
    inline: Option<&'a str>,
) -> Option<()> {
    match (name, short) {
        ("console-socket", false) => e.console_socket = Some(args.path(inline, short)?),
        ("pidfd-socket", false) => e.pidfd_socket = Some(args.path(inline, short)?),
        ("cwd", false) => e.cwd = Some(args.string(inline, short)?),
        ("env", false) | ("e", true) => e.env.push(args.string(inline, short)?),
        ("tty", false) | ("t", true) => e.tty = tri_state(inline, short)?,
        ("user", false) | ("u", true) => e.user = Some(args.string(inline, short)?),
        ("additional-gids", false) | ("g", true) => {
            e.additional_gids.push(args.string(inline, short)?)
        }
        ("process", false) | ("p", true) => e.process = Some(args.string(inline, short)?),
        ("detach", false) | ("d", true) => set_bool(&mut e.detach, inline)?,
        ("pid-file", false) => e.pid_file = Some(args.path(inline, short)?),
        ("process-label", false) => e.process_label = Some(args.string(inline, short)?),
        ("apparmor", false) => e.apparmor = Some(args.string(inline, short)?),
        ("no-new-privs", false) => e.no_new_privs = tri_state(inline, short)?,
        ("cap", false) | ("c", true) => e.cap.push(args.string(inline, short)?),
        ("preserve-fds", false) => e.preserve_fds = count(args.value(inline, short)?)?,
        ("cgroup", false) => e.cgroup = Some(args.string(inline, short)?),
        ("ignore-paused", false) => set_bool(&mut e.ignore_paused, inline)?,
        ("no-subreaper", false) => set_bool(&mut e.no_subreaper, inline)?,
        ("log-fd", false) => e.log_fd = Some(args.string(inline, short)?),
        _ => return None,
    }
    Some(())
}

/// `argv` (without the program name) as clap reads it, when it is one of
/// the commands above plainly spelled; `None` for anything else.
pub fn parse(argv: &[String]) -> Option<Cli> {
    let mut g = GlobalArgs {
        debug: false,
        log: None,
        log_format: LogFormat::Text,
        root: None,
        systemd_cgroup: false,
        rootless: "auto".to_string(),
        version: false,
    };
    let mut args = Args { argv, next: 0 };
    // The global flags, up to the command's name.
    let mut cmd = loop {
        match token(args.next()?) {
            Token::Word(name) => break Partial::new(name)?,
            Token::Flag {
                name,
                short,
                inline,
            } => global(&mut g, &mut args, name, short, inline, true)?,
            Token::End => return None,
        }
    };
    // The command's flags (and global ones) around its container id.
    let mut id = None;
    while let Some(a) = args.next() {
        match token(a) {
            Token::Word(w) if id.is_none() && !w.is_empty() => {
                id = Some(w.to_string());
                if cmd.stops_at_id() {
                    break;
                }
            }
            Token::Flag {
                name,
                short,
                inline,
            } => {
                let at = args.next;
                if cmd.flag(&mut args, name, short, inline).is_none() {
                    // A value a command flag consumed is not read again.
                    args.next = at;
                    global(&mut g, &mut args, name, short, inline, false)?;
                }
            }
            _ => return None,
        }
    }
    let command = cmd.finish(id?, &mut args)?;
    Some(Cli {
        global: g,
        command: Some(command),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect()
    }

    /// clap's reading of `argv` (through legacy.rs), as `run` does it.
    fn by_clap(argv: &[String]) -> Result<String, String> {
        crate::parse_with_clap(argv)
            .map(|cli| format!("{cli:?}"))
            .map_err(|e| e.to_string())
    }

    fn check(argv: &[String]) -> bool {
        let Some(fast) = parse(argv) else {
            return false;
        };
        assert_eq!(
            Ok(format!("{fast:?}")),
            by_clap(argv),
            "ctrun {}",
            argv.join(" ")
        );
        true
    }

    /// What engines and the benches type is read here, as clap reads it.
    #[test]
    fn engines_command_lines_are_read_without_clap() {
        for line in [
            "--root /run/x --log /l --log-format json create --bundle /b --pid-file /p --console-socket /s id",
            "--root /run/x --systemd-cgroup create --bundle /b --pid-file /p --no-new-keyring id",
            "--root /run/x run --bundle /b id",
            "--root /run/x run -d -b /b --keep id",
            "--root=/run/x run --bundle=/b --preserve-fds 2 --no-pivot id",
            "--root /run/x start id",
            "--root /run/x state id",
            "--root /run/x delete --force id",
            "--root /run/x delete -f id",
            "--root /run/x kill id",
            "--root /run/x kill --all id KILL",
            "--root /run/x kill id 9",
            "--root /run/x kill id -9",
            "--root /run/x exec id true",
            "--root /run/x exec --process /p.json --detach --pid-file /p --console-socket /s id",
            "--root /run/x exec -t -e A=1 -e B=2 --cwd /w -u 1:2 -g 3 -g 4,5 --cap CAP_X id sh -c -root",
            "--root /run/x exec --tty=false --no-new-privs id -- sh -- x",
            "-root /x -log-format json run -bundle /b -detach=1 -no-pivot=false id",
            "--debug=false --systemd-cgroup=true --root /x run id",
            "--root /x run id --root /y --debug",
            "--root /x --rootless true run id",
            "run --detach --detach=false id",
            "exec --tty --tty=false id sh",
            "create -d id",
        ] {
            assert!(check(&argv(line)), "not read without clap: ctrun {line}");
        }
    }

    /// Left to clap: its messages, help and refusals.
    #[test]
    fn the_rest_goes_to_clap() {
        for line in [
            "",
            "--help",
            "run --help",
            "run -help",
            "help run",
            "-v",
            "--version",
            "list",
            "run",
            "run a b",
            "run --frob id",
            "run --bundle",
            "run --bundle -x id",
            "run -b=/b id",
            "run -dk id",
            "run --detach=maybe id",
            "run --rootless true id",
            "--log-format xml run id",
            "--rootless maybe run id",
            "kill id a b",
            "exec --tty=maybe id sh",
            "run --preserve-fds +2 id",
            "run -- id",
            "--debug",
        ] {
            assert!(
                parse(&argv(line)).is_none(),
                "read without clap: ctrun {line}"
            );
        }
    }

    /// Random command lines of the tokens both parsers care about: where
    /// this parser answers, clap answers the same.
    #[test]
    fn agrees_with_clap() {
        const TOKENS: &[&str] = &[
            "run",
            "create",
            "exec",
            "kill",
            "delete",
            "state",
            "start",
            "list",
            "id",
            "other",
            "sh",
            "KILL",
            "--",
            "-",
            "--root",
            "-root",
            "--root=/r",
            "/x",
            "--log",
            "/l",
            "--log-format",
            "json",
            "text",
            "--debug",
            "--debug=false",
            "-debug=1",
            "--systemd-cgroup",
            "--rootless",
            "true",
            "-d",
            "--detach",
            "--detach=0",
            "-d=1",
            "--keep",
            "-b",
            "--bundle",
            "-bundle",
            "--bundle=/b",
            "--pid-file",
            "--no-pivot",
            "--preserve-fds",
            "2",
            "x1",
            "-f",
            "--force",
            "--force=true",
            "-a",
            "--all",
            "-t",
            "--tty",
            "--tty=false",
            "-e",
            "A=1",
            "--env",
            "-u",
            "--user",
            "-g",
            "1,2",
            "-c",
            "--cap",
            "-p",
            "--process",
            "--cwd",
            "--no-new-privs=1",
            "--ignore-paused",
            "--console-socket",
            "--log-fd",
            "3",
            "-h",
            "--help",
            "-v",
            "-x",
            "",
        ];
        let mut seed: u64 = 0x5eed_1234_abcd_0042;
        let mut rand = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        let mut read = 0;
        const COMMANDS: &[&str] = &["run", "create", "exec", "kill", "delete", "state", "start"];
        for _ in 0..50_000 {
            let len = 1 + rand(8);
            let mut line: Vec<String> = (0..len)
                .map(|_| TOKENS[rand(TOKENS.len())].to_string())
                .collect();
            // Mostly one of the commands read here, somewhere near the start.
            if rand(4) > 0 {
                let at = rand(len.min(3));
                line[at] = COMMANDS[rand(COMMANDS.len())].to_string();
            }
            if check(&line) {
                read += 1;
            }
        }
        // Enough of them are read here for the comparison to mean something.
        assert!(read > 1000, "only {read} command lines read without clap");
    }
}
