//! runc's argument spellings that clap does not take as they are.
//!
//! runc parses with urfave/cli, which (like Go's `flag` package) accepts a
//! long flag after one dash as well as two (`-root /x`, `-bundle .`) and a
//! value on a boolean flag (`--debug=false`, `--detach=1`). Scripts and
//! older engines use both. [`normalize`] rewrites them to clap's GNU
//! spelling (`--root /x`, `--debug`, or nothing for a false boolean),
//! looking every name up in the clap definition itself, so that nothing
//! else is touched: values, unknown flags (which clap then reports). And
//! it ends the flags of `exec`, `kill` and `ps` at the container id, as
//! runc does, by putting `--` after it.

use clap::{Arg, ArgAction, Command};

/// Commands whose flags end at their first positional argument (urfave's
/// `StopOnNthArg: 1` in runc): what follows the container id is the
/// command to run (`exec`), the signal (`kill`) or ps options (`ps`).
const STOP_AFTER_ID: [&str; 3] = ["exec", "kill", "ps"];

/// `argv` (without the program name) in clap's spelling for `cmd`.
///
/// Only the command named in `argv` is built (a copy of it: its flags are
/// declared lazily, see `cli::Command`); the top command's own arguments
/// are the global flags.
pub fn normalize(cmd: &Command, argv: &[String]) -> Vec<String> {
    let root = cmd;
    let globals: Vec<Arg> = root.get_arguments().cloned().collect();
    // clap adds `-h, --help` when it builds a command; the unbuilt top one has none yet.
    let help = Arg::new("help")
        .short('h')
        .long("help")
        .action(ArgAction::Help);
    let mut sub: Option<Command> = None;
    let mut positionals = 0;
    let mut out = Vec::with_capacity(argv.len());
    let mut i = 0;
    while i < argv.len() {
        let current = sub.as_ref().unwrap_or(root);
        let a = &argv[i];
        i += 1;
        if a == "--" {
            out.extend(argv[i - 1..].iter().cloned());
            break;
        }
        if STOP_AFTER_ID.contains(&current.get_name()) && positionals >= 1 {
            // What follows is not ours: clap takes it whole after `--`.
            out.push("--".to_string());
            out.extend(argv[i - 1..].iter().cloned());
            break;
        }
        let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) else {
            // A positional: a command name at the top, else an argument.
            if sub.is_none() {
                if let Some(found) = root.find_subcommand(a) {
                    let mut built = found.clone();
                    built.build();
                    sub = Some(built);
                    out.push(a.clone());
                    continue;
                }
            }
            positionals += 1;
            out.push(a.clone());
            continue;
        };
        let double = body.starts_with('-');
        let body = body.strip_prefix('-').unwrap_or(body);
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let found = find_flag(current, name, double).or_else(|| match sub {
            Some(_) => find_flag_in(&globals, name, double),
            None => matches(&help, name, double).then_some(&help),
        });
        let Some(arg) = found else {
            out.push(a.clone());
            continue;
        };
        // A lone letter after one dash is a short flag: clap reads it as is.
        let spelled = if double || name.chars().count() == 1 {
            a.clone()
        } else {
            format!("--{body}")
        };
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            if let Some(v) = inline {
                match crate::cli::go_bool(v) {
                    Ok(true) => out.push(flag_name(&spelled)),
                    Ok(false) => {}
                    Err(_) => out.push(spelled),
                }
                continue;
            }
            out.push(spelled);
            continue;
        }
        let takes_value = arg.get_action().takes_values()
            && arg.get_num_args().is_none_or(|n| n.min_values() > 0);
        out.push(spelled);
        if takes_value && inline.is_none() && i < argv.len() {
            out.push(argv[i].clone());
            i += 1;
        }
    }
    out
}

/// `--name=value` without its value.
fn flag_name(spelled: &str) -> String {
    spelled
        .split_once('=')
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| spelled.to_string())
}

/// The flag of `cmd` called `name` (long name, alias, or the short letter).
fn find_flag<'a>(cmd: &'a Command, name: &str, double: bool) -> Option<&'a Arg> {
    cmd.get_arguments().find(|arg| matches(arg, name, double))
}

/// A global flag of the top command, when we are in a subcommand (clap
/// propagates them on its own; we only need to know their shape).
fn find_flag_in<'a>(globals: &'a [Arg], name: &str, double: bool) -> Option<&'a Arg> {
    globals
        .iter()
        .find(|arg| arg.is_global_set() && matches(arg, name, double))
}

fn matches(arg: &Arg, name: &str, double: bool) -> bool {
    if arg.is_positional() {
        return false;
    }
    let long =
        arg.get_long() == Some(name) || arg.get_all_aliases().is_some_and(|a| a.contains(&name));
    let short = !double
        && name.chars().count() == 1
        && arg.get_short().is_some_and(|s| name.starts_with(s));
    long || short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn norm(args: &str) -> String {
        let argv: Vec<String> = args.split(' ').map(String::from).collect();
        normalize(&Cli::command(), &argv).join(" ")
    }

    #[test]
    fn single_dash_long_flags_become_double() {
        assert_eq!(
            norm("-root /x -log-format json list -format json"),
            "--root /x --log-format json list --format json"
        );
        assert_eq!(
            norm("create -bundle . -pid-file p id"),
            "create --bundle . --pid-file p id"
        );
        assert_eq!(norm("-help"), "--help");
        // Short flags and their values stay.
        assert_eq!(norm("create -b . id"), "create -b . id");
        assert_eq!(norm("delete -f id"), "delete -f id");
    }

    #[test]
    fn boolean_values_as_go_takes_them() {
        assert_eq!(
            norm("--debug=false --systemd-cgroup=true list"),
            "--systemd-cgroup list"
        );
        assert_eq!(norm("run --detach=1 -no-pivot=false id"), "run --detach id");
        // Tri-state flags keep their value for clap.
        assert_eq!(norm("exec --tty=false id sh"), "exec --tty=false id -- sh");
        // Not a boolean: left for clap to report.
        assert_eq!(norm("--debug=maybe list"), "--debug=maybe list");
    }

    #[test]
    fn values_and_commands_are_not_touched() {
        // A value that looks like a flag, and everything after exec's id.
        assert_eq!(norm("--root -debug list"), "--root -debug list");
        assert_eq!(norm("exec -t id sh -c -root"), "exec -t id -- sh -c -root");
        assert_eq!(
            norm("exec -env A=1 id -debug"),
            "exec --env A=1 id -- -debug"
        );
        assert_eq!(norm("exec id -- sh -- x"), "exec id -- sh -- x");
        assert_eq!(norm("kill id -all"), "kill id -- -all");
        assert_eq!(norm("kill --all id"), "kill --all id");
        // A global flag after the command keeps its shape.
        assert_eq!(norm("list -root /x -debug"), "list --root /x --debug");
        // Unknown flags stay for clap's error.
        assert_eq!(norm("-frob list"), "-frob list");
        assert_eq!(norm("list -- -x"), "list -- -x");
    }
}
