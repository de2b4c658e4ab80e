//! `exec`: run another process in a created or running container, as
//! `runc exec` does: it joins every namespace of the container's init
//! (`/proc/PID/ns/*`, the time namespace included; ctr-ns joins the user
//! namespace in runc's order), starts in the container's cgroup(s), and is
//! set up from an OCI `process` (see [`crate::process`]) with the
//! container's seccomp filter (`linux.seccomp` of the bundle's config).
//! Its working directory is inside the container's root (joining the
//! mount namespace puts the process at that namespace's root).

use crate::process::ProcessSettings;
use crate::state::{live_status, Saved, Status, Store};
use crate::util;
use crate::Code;
use ctr_common::{Error, Result};
use ctr_ns::{Child, NamespaceKind, SpawnOptions, Stage, Stdio};
use ctr_oci::types::{Process, Spec};
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;

/// Options of [`exec`].
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The process to run (see [`default_process`] and [`ExecOverrides`]).
    pub process: Process,
    /// stdin, stdout, stderr.
    pub stdio: [Stdio; 3],
    /// Fds of the caller that become fds 3, 4, ... (`--preserve-fds`).
    pub extra_fds: Vec<RawFd>,
    /// Write the host pid here.
    pub pid_file: Option<PathBuf>,
    /// Exec into a paused container too (`--ignore-paused`).
    pub ignore_paused: bool,
    /// With `process.terminal`: a connected unix socket the pty master is
    /// sent over (`--console-socket`; the caller keeps the fd). `None`: the
    /// master comes back through `Exec.child.take_console()`.
    pub console_socket: Option<RawFd>,
    /// The caller will not stay to hold a pty master (`--detach`):
    /// `process.terminal` then needs `console_socket`.
    pub detach: bool,
}

/// Command-line style changes to the container's own process (runc's
/// `exec` flags without `--process`).
#[derive(Debug, Clone, Default)]
pub struct ExecOverrides {
    /// argv (required).
    pub args: Vec<String>,
    /// `KEY=value` entries appended to the environment (a later one wins).
    pub env: Vec<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// uid and, optionally, gid.
    pub user: Option<(u32, Option<u32>)>,
    /// Supplementary groups (replace the config's when given).
    pub additional_gids: Option<Vec<u32>>,
    /// Capabilities added to the bounding, effective and permitted sets.
    pub caps: Vec<String>,
    /// Set `noNewPrivileges` (true), clear it (false) or keep it.
    pub no_new_privileges: Option<bool>,
}

/// An exec'd process: its host pid and, for its parent, the child handle.
#[derive(Debug)]
pub struct Exec {
    /// Host pid.
    pub pid: i32,
    /// The spawned child (we are its parent: wait for it).
    pub child: Child,
}

fn not_running(id: &str) -> Error {
    Error::new(
        Code::NotRunning,
        format!("cannot exec in container {id:?}: it is not running"),
    )
}

/// The container's config.json (from its bundle, as saved at create).
pub fn container_config(saved: &Saved) -> Result<Spec> {
    let path = PathBuf::from(&saved.bundle).join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::io(Code::Bundle, "open", &e, format!("read {}", path.display())).with_path(&path)
    })?;
    ctr_oci::parse(&text)
}

/// The process of the container's config (what `exec` starts from).
pub fn default_process(store: &Store, id: &str) -> Result<Process> {
    let saved = store.read(id)?;
    container_config(&saved)?.process.ok_or_else(|| {
        Error::new(
            ctr_oci::Code::Invalid,
            "process: the container's config has no process",
        )
        .with_field("process")
    })
}

/// Apply runc-style overrides to a process.
pub fn apply_overrides(p: &mut Process, o: &ExecOverrides) -> Result<()> {
    if o.args.is_empty() {
        return Err(
            Error::new(Code::Usage, "exec: needs the command to run (or --process)")
                .with_field("args"),
        );
    }
    p.args = Some(o.args.clone());
    let mut env = p.env.clone().unwrap_or_default();
    for kv in &o.env {
        let key = kv.split_once('=').map(|(k, _)| k).unwrap_or(kv);
        env.retain(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e) != key);
        env.push(kv.clone());
    }
    p.env = Some(env);
    if let Some(cwd) = &o.cwd {
        p.cwd = cwd.clone();
    }
    if let Some((uid, gid)) = o.user {
        p.user.uid = uid;
        if let Some(g) = gid {
            p.user.gid = g;
        }
    }
    if let Some(g) = &o.additional_gids {
        p.user.additional_gids = Some(g.clone());
    }
    if !o.caps.is_empty() {
        let mut caps = p.capabilities.clone().unwrap_or_default();
        for set in [&mut caps.bounding, &mut caps.effective, &mut caps.permitted] {
            let list = set.get_or_insert_with(Vec::new);
            for c in &o.caps {
                let name = if c.to_ascii_uppercase().starts_with("CAP_") {
                    c.to_ascii_uppercase()
                } else {
                    format!("CAP_{}", c.to_ascii_uppercase())
                };
                if ctr_oci::validate::capability_number(&name).is_none() {
                    return Err(
                        Error::new(Code::Usage, format!("--cap {c}: unknown capability"))
                            .with_field("cap"),
                    );
                }
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
        p.capabilities = Some(caps);
    }
    if let Some(n) = o.no_new_privileges {
        p.no_new_privileges = Some(n);
    }
    Ok(())
}

fn ns_inode(path: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The namespaces of `pid` that differ from ours, as `/proc/PID/ns/*`
/// paths (user first).
pub fn namespaces_of(pid: i32) -> Vec<(NamespaceKind, String)> {
    let mut kinds = ctr_ns::supported_namespaces();
    kinds.sort_by_key(|k| *k != NamespaceKind::User);
    let mut out = Vec::new();
    for k in kinds {
        let theirs = format!("/proc/{pid}/ns/{}", k.proc_name());
        let ours = format!("/proc/self/ns/{}", k.proc_name());
        match (ns_inode(&theirs), ns_inode(&ours)) {
            (Some(t), Some(o)) if t != o => out.push((k, theirs)),
            _ => {}
        }
    }
    out
}

/// A pidfd for the saved init, or `None` if it is gone (or the pid was reused).
fn init_pidfd(saved: &Saved) -> Option<OwnedFd> {
    let fd = util::pidfd_open(saved.pid).ok()?;
    util::alive(saved.pid, saved.init_start_time).then_some(fd)
}

/// Spawn `o.process` into container `id` (created or running; paused only
/// with `ignore_paused`). Returns once the program was exec'd; the caller
/// waits for [`Exec::child`].
pub fn exec(store: &Store, id: &str, o: &ExecOptions) -> Result<Exec> {
    let saved = store.read(id)?;
    let dir = store.root.join(id);
    match live_status(&dir, &saved) {
        Status::Created | Status::Running => {}
        Status::Paused if o.ignore_paused => {}
        Status::Paused => {
            return Err(Error::new(
                Code::StateInvalid,
                format!("cannot exec in container {id:?}: it is paused (resume it, or pass --ignore-paused)"),
            ))
        }
        _ => return Err(not_running(id)),
    }
    let terminal = o.process.terminal == Some(true);
    if o.console_socket.is_some() && !terminal {
        return Err(Error::new(
            Code::Console,
            "a console socket was given but process.terminal is false (use --tty)",
        )
        .with_field("process.terminal"));
    }
    if o.detach && terminal && o.console_socket.is_none() {
        return Err(Error::new(
            Code::Console,
            "process.terminal is true but no console socket was given: the pty master would have nowhere to go (use --console-socket)",
        )
        .with_field("console-socket"));
    }
    // The pidfd pins the init while its namespaces are opened.
    let pidfd = init_pidfd(&saved).ok_or_else(|| not_running(id))?;
    let config = container_config(&saved)?;
    let seccomp = config.linux.as_ref().and_then(|l| l.seccomp.as_ref());
    let settings: ProcessSettings = crate::process::map(&o.process, "process", seccomp)?;

    let mut so = SpawnOptions::new(settings.program.clone(), settings.args.clone());
    settings.apply(&mut so);
    so.namespaces.join = namespaces_of(saved.pid);
    if crate::rootless::is_rootless() {
        crate::rootless::enter_user_namespace_for_exec(&mut so.namespaces.join)?;
    }
    if !so
        .namespaces
        .join
        .iter()
        .any(|(k, _)| *k == NamespaceKind::Mnt)
    {
        // A container without a mount namespace of its own (it shares
        // ours): joining gives no root, so chroot into the init's.
        so.filesystem.rootfs = Some(ctr_ns::RootfsSpec {
            path: format!("/proc/{}/root", saved.pid),
            chroot: true,
            ..Default::default()
        });
    }
    // execCPUAffinity (exec only, as in runc): `initial` for the setup,
    // `final` for the program; without `final` every cpu is asked for,
    // which the kernel narrows to the container cgroup's cpuset, so the
    // process does not inherit this runtime's affinity (runc's
    // tryResetCPUAffinity).
    so.resources.initial_cpu_affinity = settings.exec_cpu_affinity.initial.clone();
    so.resources.cpu_affinity = Some(
        settings
            .exec_cpu_affinity
            .r#final
            .clone()
            .unwrap_or_else(|| (0..=ctr_ns::plan::MAX_CPU).collect()),
    );
    // The container's NUMA policy holds for every process of it (as
    // linux.personality does in runc's setns init).
    so.resources.memory_policy = config
        .linux
        .as_ref()
        .and_then(|l| l.memory_policy.as_ref())
        .map(crate::mempolicy::plan)
        .transpose()?;
    so.io.stdio = o.stdio;
    so.io.extra_fds = o.extra_fds.clone();
    if let (Some(c), Some(fd)) = (so.io.console.as_mut(), o.console_socket) {
        c.socket = ctr_ns::ConsoleSocket::Fd(fd);
    }
    if let Some(p) = &saved.cgroup_path {
        match ctr_cgroup::Cgroup::open(p, &crate::plan::cgroup_options(&saved)) {
            Ok(cg) => {
                so.resources.cgroups = cg
                    .dirs()
                    .iter()
                    .map(|d| d.to_string_lossy().into_owned())
                    .collect()
            }
            Err(e) if e.code == ctr_cgroup::Code::NotFound.as_str() => return Err(not_running(id)),
            Err(e) => return Err(e),
        }
    }
    let listener = settings.seccomp.as_ref().and_then(|s| s.listener.clone());
    // With a seccomp agent the process waits at the gate until the agent
    // has its listener: if sending fails it is killed before it can exec
    // (at create the exec.fifo gate does the same).
    so.lifecycle.hold = listener.is_some();
    let child = ctr_ns::spawn(&so).map_err(crate::process::oci_step_error)?;
    let pid = child.pid;
    let fail = |c: &Child, e: Error| -> Error {
        let _ = c.kill(libc::SIGKILL);
        let _ = c.wait();
        e
    };
    let r = (|| -> Result<()> {
        loop {
            match child.wait_stage()? {
                Stage::SeccompListener => {
                    // As at create; the process waits at the hold gate until
                    // the agent has the fd. The state is the container's (its
                    // init pid, its live status); the top-level pid is this
                    // process's, whose filter the fd belongs to.
                    let Some(l) = &listener else {
                        return Err(Error::new(
                            Code::Init,
                            "the exec'd process reported a seccomp listener that was not asked for",
                        ));
                    };
                    let status = live_status(&dir, &saved);
                    let st = crate::hooks::state_value(
                        id,
                        saved.pid,
                        status.as_str(),
                        &saved.bundle,
                        &saved.annotations,
                    );
                    crate::notify::send(&child, l, &crate::notify::process_state(l, pid, st))?;
                }
                Stage::Held if so.lifecycle.hold => child.release()?,
                _ => break,
            }
        }
        // The init must still be the one whose namespaces we opened.
        if !util::alive(saved.pid, saved.init_start_time) {
            return Err(not_running(id));
        }
        if let Some(pf) = &o.pid_file {
            ctr_common::fs::write_atomic(Code::PidFile.as_str(), pf, pid.to_string().as_bytes())?;
        }
        Ok(())
    })();
    drop(pidfd);
    match r {
        Ok(()) => Ok(Exec { pid, child }),
        Err(e) => Err(fail(&child, crate::process::oci_step_error(e))),
    }
}

/// Parse runc's `--user uid[:gid]`.
pub fn parse_user(s: &str) -> Result<(u32, Option<u32>)> {
    let bad = || {
        Error::new(
            Code::Usage,
            format!("--user {s}: expected uid[:gid] (numbers)"),
        )
        .with_field("user")
    };
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    let uid = u.parse().map_err(|_| bad())?;
    let gid = match g {
        Some(g) => Some(g.parse().map_err(|_| bad())?),
        None => None,
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Process {
        serde_json::from_str(
            r#"{"args":["sh"],"env":["PATH=/bin","A=1"],"cwd":"/","user":{"uid":0,"gid":0},
            "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}}"#,
        )
        .unwrap()
    }

    #[test]
    fn overrides_follow_runc() {
        let mut p = base();
        let o = ExecOverrides {
            args: vec!["ls".into(), "-l".into()],
            env: vec!["A=2".into(), "B=3".into()],
            cwd: Some("/tmp".into()),
            user: Some((1000, None)),
            additional_gids: Some(vec![10]),
            caps: vec!["net_admin".into(), "CAP_KILL".into()],
            no_new_privileges: Some(true),
        };
        apply_overrides(&mut p, &o).unwrap();
        assert_eq!(p.args.unwrap(), ["ls", "-l"]);
        assert_eq!(p.env.unwrap(), ["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(p.cwd, "/tmp");
        assert_eq!((p.user.uid, p.user.gid), (1000, 0));
        assert_eq!(p.user.additional_gids.unwrap(), [10]);
        let c = p.capabilities.unwrap();
        assert_eq!(c.bounding.unwrap(), ["CAP_KILL", "CAP_NET_ADMIN"]);
        assert_eq!(c.permitted.unwrap(), ["CAP_KILL", "CAP_NET_ADMIN"]);
        assert!(c.ambient.is_none());
        assert_eq!(p.no_new_privileges, Some(true));
    }

    #[test]
    fn overrides_are_checked() {
        let mut p = base();
        assert_eq!(
            apply_overrides(&mut p, &ExecOverrides::default())
                .unwrap_err()
                .code,
            Code::Usage.as_str()
        );
        let o = ExecOverrides {
            args: vec!["sh".into()],
            caps: vec!["CAP_NOPE".into()],
            ..Default::default()
        };
        assert_eq!(
            apply_overrides(&mut p, &o).unwrap_err().path.as_deref(),
            Some("cap")
        );
    }

    #[test]
    fn users_parse() {
        assert_eq!(parse_user("5").unwrap(), (5, None));
        assert_eq!(parse_user("5:6").unwrap(), (5, Some(6)));
        assert_eq!(parse_user("root").unwrap_err().code, Code::Usage.as_str());
    }

    #[test]
    fn own_namespaces_are_not_joined() {
        assert!(namespaces_of(std::process::id() as i32).is_empty());
    }
}
