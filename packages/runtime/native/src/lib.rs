//! Node-API binding of `ctr-runtime`. No logic here: argument conversion
//! and async plumbing over `ctr_runtime::lifecycle`.
#![deny(clippy::all)]

use ctr_common::{catch_panic, Error};
use ctr_runtime::lifecycle::{self, CreateOptions};
use ctr_runtime::state::Store;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::os::fd::IntoRawFd;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Host facts the runtime depends on.
#[napi(object)]
pub struct NativeHostInfo {
    /// OCI runtime-spec version implemented.
    pub oci_version: String,
    /// Supported namespace kinds.
    pub namespaces: Vec<String>,
    /// Cgroup layout mode.
    pub cgroup_mode: String,
}

/// Gather host facts.
#[napi]
pub fn host_info() -> napi::Result<NativeHostInfo> {
    let h = catch_panic(ctr_runtime::host_info)?;
    Ok(NativeHostInfo {
        oci_version: h.oci_version,
        namespaces: h.namespaces,
        cgroup_mode: h.cgroup_mode,
    })
}

/// What to create, as the TypeScript layer hands it over.
#[napi(object)]
pub struct CreateRequest {
    /// State root.
    pub root: String,
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: String,
    /// Skip pivot_root (MS_MOVE + chroot).
    pub no_pivot: Option<bool>,
    /// Pid file to write.
    pub pid_file: Option<String>,
    /// For fds 0-2: -1 a pipe, -2 /dev/null, n >= 0 the parent's fd n.
    pub stdio: Vec<i32>,
}

/// A created container.
#[napi(object)]
pub struct CreatedInfo {
    /// Host pid of the init.
    pub pid: i32,
    /// Parent ends of piped stdio (-1 where not piped); the caller owns them.
    pub stdio: Vec<i32>,
    /// With process.terminal: the pty master (the caller owns it), else -1.
    pub terminal: i32,
}

/// How a container's process ended (both null when not our child).
#[napi(object)]
pub struct ExitInfo {
    /// Exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Signal number, if it was killed by one.
    pub signal: Option<i32>,
}

/// Children this process created (it is their parent and must reap them).
fn children() -> &'static Mutex<HashMap<String, Arc<ctr_ns::Child>>> {
    static C: OnceLock<Mutex<HashMap<String, Arc<ctr_ns::Child>>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn key(root: &str, id: &str) -> String {
    format!("{root}\0{id}")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ctr_common::Result<T> + Send + 'static,
) -> ctr_common::Result<T> {
    tokio::task::spawn_blocking(move || catch_panic(f))
        .await
        .map_err(|e| Error::new("EINTERNAL", format!("blocking task failed: {e}")))?
}

/// Create a container (off the main thread).
#[napi]
pub fn create<'e>(env: &'e Env, req: CreateRequest) -> napi::Result<PromiseRaw<'e, CreatedInfo>> {
    env.spawn_future(async move {
        if req.stdio.len() != 3 {
            return Err(
                Error::new("ERUNTIME_INVALID_OPTION", "stdio must have three entries")
                    .with_field("stdio")
                    .into(),
            );
        }
        let mut stdio = [ctr_ns::Stdio::Null; 3];
        for (i, v) in req.stdio.iter().enumerate() {
            stdio[i] = match *v {
                -1 => ctr_ns::Stdio::Pipe,
                -2 => ctr_ns::Stdio::Null,
                fd if fd >= 0 => ctr_ns::Stdio::Fd(fd),
                _ => {
                    return Err(Error::new("ERUNTIME_INVALID_OPTION", "invalid stdio entry")
                        .with_field(format!("stdio[{i}]"))
                        .into())
                }
            };
        }
        let k = key(&req.root, &req.id);
        let o = CreateOptions {
            id: req.id,
            bundle: req.bundle.into(),
            pid_file: req.pid_file.map(Into::into),
            no_pivot: req.no_pivot.unwrap_or(false),
            stdio,
            extra_fds: vec![],
            console_socket: None,
            detach: false,
            systemd_cgroup: false,
        };
        let store = Store::new(req.root);
        let created = blocking(move || lifecycle::create(&store, &o)).await?;
        let fds = created
            .child
            .take_stdio()
            .into_iter()
            .map(|f| f.map(|f| f.into_raw_fd()).unwrap_or(-1))
            .collect();
        let terminal = created
            .child
            .take_console()
            .map(|f| f.into_raw_fd())
            .unwrap_or(-1);
        let pid = created.pid;
        children()
            .lock()
            .unwrap()
            .insert(k, Arc::new(created.child));
        Ok(CreatedInfo {
            pid,
            stdio: fds,
            terminal,
        })
    })
}

/// The container's cgroup path, if it has one.
#[napi]
pub fn cgroup_path<'e>(
    env: &'e Env,
    root: String,
    id: String,
) -> napi::Result<PromiseRaw<'e, Option<String>>> {
    env.spawn_future(async move {
        Ok(blocking(move || Store::new(root).read(&id))
            .await?
            .cgroup_path)
    })
}

/// Start a created container.
#[napi]
pub fn start<'e>(env: &'e Env, root: String, id: String) -> napi::Result<PromiseRaw<'e, ()>> {
    env.spawn_future(async move {
        Ok(blocking(move || lifecycle::start(&Store::new(root), &id)).await?)
    })
}

/// The state of a container as runc's JSON.
#[napi]
pub fn state<'e>(env: &'e Env, root: String, id: String) -> napi::Result<PromiseRaw<'e, String>> {
    env.spawn_future(async move {
        let s = blocking(move || lifecycle::state(&Store::new(root), &id)).await?;
        Ok(serde_json::to_string(&s).unwrap_or_default())
    })
}

/// Every container of the store, as a JSON array of states.
#[napi]
pub fn list<'e>(env: &'e Env, root: String) -> napi::Result<PromiseRaw<'e, String>> {
    env.spawn_future(async move {
        let s = blocking(move || lifecycle::list(&Store::new(root))).await?;
        Ok(serde_json::to_string(&s).unwrap_or_default())
    })
}

/// Remove every record whose owner is dead; JSON `{ removed, failed: [[id, error]], swept }`.
#[napi]
pub fn gc<'e>(env: &'e Env, root: String) -> napi::Result<PromiseRaw<'e, String>> {
    env.spawn_future(async move {
        let r = blocking(move || lifecycle::gc(&Store::new(root))).await?;
        Ok(serde_json::to_string(&r).unwrap_or_default())
    })
}

/// Record a bridge-network lease in the container's state before the attach
/// that takes it (delete and gc release it).
#[napi]
pub fn record_bridge_lease<'e>(
    env: &'e Env,
    root: String,
    id: String,
    state_root: String,
    network: String,
    lease: String,
) -> napi::Result<PromiseRaw<'e, ()>> {
    env.spawn_future(async move {
        let l = ctr_runtime::state::BridgeLease {
            state_root,
            network,
            lease,
        };
        Ok(blocking(move || lifecycle::record_bridge_lease(&Store::new(root), &id, l)).await?)
    })
}

/// Send a signal to the init (or every process with `all`).
#[napi]
pub fn kill<'e>(
    env: &'e Env,
    root: String,
    id: String,
    signal: i32,
    all: bool,
) -> napi::Result<PromiseRaw<'e, ()>> {
    env.spawn_future(async move {
        Ok(blocking(move || lifecycle::kill(&Store::new(root), &id, signal, all)).await?)
    })
}

/// Delete a container; a child of ours is reaped too.
#[napi(js_name = "deleteContainer")]
pub fn delete_container<'e>(
    env: &'e Env,
    root: String,
    id: String,
    force: bool,
) -> napi::Result<PromiseRaw<'e, ()>> {
    env.spawn_future(async move {
        let k = key(&root, &id);
        blocking(move || {
            lifecycle::delete(&Store::new(root), &id, force)?;
            let child = children().lock().unwrap().remove(&k);
            if let Some(c) = child {
                // Dead by now (delete waited for it): reap the zombie, unless a
                // pending wait() holds it and will reap it (and report the status).
                if Arc::strong_count(&c) == 1 {
                    let _ = c.wait();
                }
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
}

/// Resolves when the container's init exits. For a container this process
/// created, the exit status is known (and the child reaped); for one loaded
/// from the store, only that it ended.
#[napi]
pub fn wait<'e>(env: &'e Env, root: String, id: String) -> napi::Result<PromiseRaw<'e, ExitInfo>> {
    let k = key(&root, &id);
    let child = children().lock().unwrap().get(&k).cloned();
    env.spawn_future(async move {
        let pidfd = match &child {
            Some(c) => c
                .pidfd
                .try_clone()
                .map_err(|e| Error::io("ERUNTIME_WAIT", "dup", &e, "duplicate pidfd"))?,
            None => {
                let s = Store::new(root).read(&id)?;
                if !ctr_runtime::util::alive(s.pid, s.init_start_time) {
                    return Ok(ExitInfo {
                        exit_code: None,
                        signal: None,
                    });
                }
                let fd = ctr_runtime::util::pidfd_open(s.pid)
                    .map_err(|e| Error::io("ERUNTIME_WAIT", "pidfd_open", &e, "open pidfd"))?;
                if !ctr_runtime::util::alive(s.pid, s.init_start_time) {
                    return Ok(ExitInfo {
                        exit_code: None,
                        signal: None,
                    });
                }
                fd
            }
        };
        // SAFETY: the OwnedFd moves into the AsyncFd and lives as long.
        let watch =
            unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) }.map_err(|e| {
                Error::io(
                    "ERUNTIME_WAIT",
                    "epoll_ctl",
                    &e.into_parts().1,
                    "watch pidfd",
                )
            })?;
        loop {
            if let Some(c) = &child {
                if let Some(st) = c.try_wait()? {
                    return Ok(ExitInfo {
                        exit_code: st.code,
                        signal: st.signal,
                    });
                }
            }
            let mut guard = watch
                .readable()
                .await
                .map_err(|e| Error::io("ERUNTIME_WAIT", "epoll_wait", &e, "wait for pidfd"))?;
            if child.is_none() {
                return Ok(ExitInfo {
                    exit_code: None,
                    signal: None,
                });
            }
            guard.clear_ready();
        }
    })
}

/// What to exec in a container: a whole OCI `process` (JSON), or changes
/// to the container's own process (runc's `exec` flags).
#[napi(object)]
pub struct ExecRequest {
    /// State root.
    pub root: String,
    /// Container id.
    pub id: String,
    /// A whole OCI process object as JSON (the other fields are then ignored).
    pub process: Option<String>,
    /// argv (without `process`).
    pub args: Option<Vec<String>>,
    /// `KEY=value` entries added to the container's environment.
    pub env: Option<Vec<String>>,
    /// Working directory.
    pub cwd: Option<String>,
    /// User id.
    pub uid: Option<u32>,
    /// Group id.
    pub gid: Option<u32>,
    /// Supplementary groups.
    pub additional_gids: Option<Vec<u32>>,
    /// Capabilities to add.
    pub capabilities: Option<Vec<String>>,
    /// Set or clear no_new_privs.
    pub no_new_privileges: Option<bool>,
    /// For fds 0-2: -1 a pipe, -2 /dev/null, n >= 0 the parent's fd n.
    pub stdio: Vec<i32>,
    /// Write the host pid here.
    pub pid_file: Option<String>,
    /// Set `process.terminal`: the process gets a pty of the container's
    /// devpts and the master comes back in `ExecInfo.terminal`.
    pub terminal: Option<bool>,
}

/// An exec'd process.
#[napi(object)]
pub struct ExecInfo {
    /// Host pid (the key for `execWait`/`execKill`).
    pub pid: i32,
    /// Parent ends of piped stdio (-1 where not piped); the caller owns them.
    pub stdio: Vec<i32>,
    /// The pty master with a terminal, else -1; the caller owns it.
    pub terminal: i32,
}

/// Exec'd processes this process spawned and has not reaped, by pid.
fn execs() -> &'static Mutex<HashMap<i32, Arc<ctr_ns::Child>>> {
    static C: OnceLock<Mutex<HashMap<i32, Arc<ctr_ns::Child>>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn stdio_of(list: &[i32]) -> ctr_common::Result<[ctr_ns::Stdio; 3]> {
    if list.len() != 3 {
        return Err(
            Error::new("ERUNTIME_INVALID_OPTION", "stdio must have three entries")
                .with_field("stdio"),
        );
    }
    let mut stdio = [ctr_ns::Stdio::Null; 3];
    for (i, v) in list.iter().enumerate() {
        stdio[i] = match *v {
            -1 => ctr_ns::Stdio::Pipe,
            -2 => ctr_ns::Stdio::Null,
            fd if fd >= 0 => ctr_ns::Stdio::Fd(fd),
            _ => {
                return Err(Error::new("ERUNTIME_INVALID_OPTION", "invalid stdio entry")
                    .with_field(format!("stdio[{i}]")))
            }
        };
    }
    Ok(stdio)
}

/// Run a process in a created or running container (off the main thread).
#[napi]
pub fn exec<'e>(env: &'e Env, req: ExecRequest) -> napi::Result<PromiseRaw<'e, ExecInfo>> {
    use ctr_runtime::exec::{self, ExecOptions, ExecOverrides};
    env.spawn_future(async move {
        let stdio = stdio_of(&req.stdio)?;
        let e = blocking(move || {
            let store = Store::new(&req.root);
            let process = match &req.process {
                Some(json) => serde_json::from_str(json).map_err(|e| {
                    Error::new(
                        "EOCI_INVALID",
                        format!("process: not an OCI process object: {e}"),
                    )
                    .with_field("process")
                })?,
                None => {
                    let mut p = exec::default_process(&store, &req.id)?;
                    let o = ExecOverrides {
                        args: req.args.clone().unwrap_or_default(),
                        env: req.env.clone().unwrap_or_default(),
                        cwd: req.cwd.clone(),
                        user: req.uid.map(|u| (u, req.gid)),
                        additional_gids: req.additional_gids.clone(),
                        caps: req.capabilities.clone().unwrap_or_default(),
                        no_new_privileges: req.no_new_privileges,
                    };
                    if req.uid.is_none() {
                        if let Some(g) = req.gid {
                            p.user.gid = g;
                        }
                    }
                    exec::apply_overrides(&mut p, &o)?;
                    p
                }
            };
            let mut process = process;
            if let Some(t) = req.terminal {
                process.terminal = Some(t);
            }
            let o = ExecOptions {
                process,
                stdio,
                extra_fds: vec![],
                pid_file: req.pid_file.map(Into::into),
                ignore_paused: false,
                console_socket: None,
                detach: false,
            };
            exec::exec(&store, &req.id, &o)
        })
        .await?;
        let fds = e
            .child
            .take_stdio()
            .into_iter()
            .map(|f| f.map(|f| f.into_raw_fd()).unwrap_or(-1))
            .collect();
        let terminal = e
            .child
            .take_console()
            .map(|f| f.into_raw_fd())
            .unwrap_or(-1);
        execs().lock().unwrap().insert(e.pid, Arc::new(e.child));
        Ok(ExecInfo {
            pid: e.pid,
            stdio: fds,
            terminal,
        })
    })
}

/// Resolves with the exit status of an exec'd process (and reaps it).
#[napi]
pub fn exec_wait<'e>(env: &'e Env, pid: i32) -> napi::Result<PromiseRaw<'e, ExitInfo>> {
    let child = execs().lock().unwrap().get(&pid).cloned();
    env.spawn_future(async move {
        let child = child.ok_or_else(|| {
            Error::new(
                "ERUNTIME_NOT_FOUND",
                format!("no exec'd process {pid} of ours"),
            )
        })?;
        let pidfd = child
            .pidfd
            .try_clone()
            .map_err(|e| Error::io("ERUNTIME_WAIT", "dup", &e, "duplicate pidfd"))?;
        // SAFETY: the OwnedFd moves into the AsyncFd and lives as long.
        let watch =
            unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) }.map_err(|e| {
                Error::io(
                    "ERUNTIME_WAIT",
                    "epoll_ctl",
                    &e.into_parts().1,
                    "watch pidfd",
                )
            })?;
        loop {
            if let Some(st) = child.try_wait()? {
                execs().lock().unwrap().remove(&pid);
                return Ok(ExitInfo {
                    exit_code: st.code,
                    signal: st.signal,
                });
            }
            let mut guard = watch
                .readable()
                .await
                .map_err(|e| Error::io("ERUNTIME_WAIT", "epoll_wait", &e, "wait for pidfd"))?;
            guard.clear_ready();
        }
    })
}

/// Signal an exec'd process of ours (through its pidfd: never a reused pid).
#[napi]
pub fn exec_kill(pid: i32, signal: i32) -> napi::Result<()> {
    let child = execs().lock().unwrap().get(&pid).cloned();
    match child {
        Some(c) => Ok(c.kill(signal)?),
        None => Err(Error::new(
            "ERUNTIME_NOT_FOUND",
            format!("no exec'd process {pid} of ours"),
        )
        .into()),
    }
}

/// Apply a `linux.resources` object (JSON) to a container's cgroup.
#[napi]
pub fn update<'e>(
    env: &'e Env,
    root: String,
    id: String,
    resources: String,
) -> napi::Result<PromiseRaw<'e, ()>> {
    env.spawn_future(async move {
        let v: serde_json::Value = serde_json::from_str(&resources).map_err(|e| {
            Error::new(
                "ERUNTIME_INVALID_OPTION",
                format!("resources: not JSON: {e}"),
            )
            .with_field("resources")
        })?;
        Ok(blocking(move || ctr_runtime::update::update(&Store::new(root), &id, &v)).await?)
    })
}

/// A container's statistics in runc's `events --stats` shape, as JSON.
#[napi]
pub fn runc_stats<'e>(
    env: &'e Env,
    root: String,
    id: String,
) -> napi::Result<PromiseRaw<'e, String>> {
    env.spawn_future(async move {
        let v = blocking(move || ctr_runtime::events::stats(&Store::new(root), &id)).await?;
        Ok(v.to_string())
    })
}
