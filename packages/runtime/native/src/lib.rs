//! Node-API binding of `ctr-runtime`. No logic here: argument conversion
//! and async plumbing over `ctr_runtime::lifecycle`.
#![deny(clippy::all)]

use ctr_common::{catch_panic, Error};
use ctr_napi::{
    blocking, children, stdio_from_js, stdio_to_js, uv_promise, wait_child, wait_pidfd, ChildKey,
    ExitInfo,
};
use ctr_runtime::lifecycle::{self, CreateOptions};
use ctr_runtime::state::Store;
use napi::bindgen_prelude::{Function, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use std::os::fd::IntoRawFd;
use std::sync::Arc;

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

/// The registry key of a container's init.
fn key(root: &str, id: &str) -> ChildKey {
    ChildKey::Init {
        root: root.to_string(),
        id: id.to_string(),
    }
}

/// Spawn containers' processes from a spawner process running `program`
/// (`ctrun`, copied into a sealed memfd and started on the next spawn), or,
/// with `null`, as forks of this process (see `ctr_ns::spawner`).
#[napi]
pub fn use_spawner(program: Option<String>) {
    ctr_ns::spawner::enable(program);
}

/// The pid of the running spawner, if any.
#[napi]
pub fn spawner_pid() -> Option<i32> {
    ctr_ns::spawner::pid()
}

/// Create a container (off the main thread).
#[napi]
pub fn create<'e>(env: &'e Env, req: CreateRequest) -> napi::Result<PromiseRaw<'e, CreatedInfo>> {
    uv_promise(env, move || {
        let stdio = stdio_from_js(
            &req.stdio,
            ctr_runtime::Code::InvalidOption.as_str(),
            "stdio",
        )?;
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
        let created = lifecycle::create(&store, &o)?;
        let fds = stdio_to_js(&created.child);
        let terminal = created
            .child
            .take_console()
            .map(|f| f.into_raw_fd())
            .unwrap_or(-1);
        let pid = created.pid;
        children().insert(k, created.child);
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
    uv_promise(env, move || lifecycle::start(&Store::new(root), &id))
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
    let k = key(&root, &id);
    uv_promise(env, move || {
        lifecycle::delete(&Store::new(root), &id, force)?;
        let child = children().remove(&k);
        if let Some(c) = child {
            // Dead by now (delete waited for it): reap the zombie, unless a
            // pending wait() holds it and will reap it (and report the status).
            if Arc::strong_count(&c) == 1 {
                let _ = c.wait();
            }
        }
        Ok(())
    })
}

/// Resolves when the container's init exits. For a container this process
/// created, the exit status is known (and the child reaped); for one loaded
/// from the store, only that it ended.
#[napi]
pub fn wait<'e>(env: &'e Env, root: String, id: String) -> napi::Result<PromiseRaw<'e, ExitInfo>> {
    let child = children().get(&key(&root, &id));
    env.spawn_future(async move { Ok(wait_exit(child, root, id).await?) })
}

/// How the init of `id` ended (see [`wait`]); `child` is ours if we created it.
async fn wait_exit(
    child: Option<Arc<ctr_ns::Child>>,
    root: String,
    id: String,
) -> ctr_common::Result<ExitInfo> {
    if let Some(c) = child {
        return wait_child(&c, ctr_runtime::Code::Wait.as_str()).await;
    }
    // Not our child: only that it ended can be known.
    let s = Store::new(root).read(&id)?;
    if !ctr_runtime::util::alive(s.pid, s.init_start_time) {
        return Ok(ExitInfo::default());
    }
    let fd = ctr_runtime::util::pidfd_open(s.pid)
        .map_err(|e| Error::io(ctr_runtime::Code::Wait, "pidfd_open", &e, "open pidfd"))?;
    // The pid may have been reused between the check and the open.
    if ctr_runtime::util::alive(s.pid, s.init_start_time) {
        wait_pidfd(fd, ctr_runtime::Code::Wait.as_str()).await?;
    }
    Ok(ExitInfo::default())
}

/// One container exit, as an [`ExitWatcher`]'s callback receives it.
#[napi(object)]
pub struct ExitEvent {
    /// The token given to [`ExitWatcher::watch`].
    pub token: u32,
    /// Exit code, if it exited (and was our child).
    pub exit_code: Option<i32>,
    /// Signal number, if it was killed by one (and was our child).
    pub signal: Option<i32>,
    /// When the wait failed: the error as a native error message carries it
    /// (the coded JSON the TS layer decodes).
    pub error: Option<String>,
}

/// The watcher's callback: weak (a pending exit does not keep Node's loop
/// alive by itself; the TS layer holds one timer while any wait is pending).
type ExitCallback = ThreadsafeFunction<ExitEvent, (), ExitEvent, napi::Status, false, true>;

/// Every exit wait of one JS environment through ONE threadsafe function.
/// A promise per pending wait (as [`wait`]) holds a libuv async handle per
/// container alive, and libuv scans every async handle at each wakeup of
/// the loop: with 500 containers alive that made each launch's main-thread
/// work grow with the number alive. Here the number alive costs nothing.
#[napi]
pub struct ExitWatcher {
    callback: Arc<ExitCallback>,
}

#[napi]
impl ExitWatcher {
    /// `callback(event)` is called once per [`ExitWatcher::watch`].
    #[napi(constructor)]
    pub fn new(callback: Function<ExitEvent, ()>) -> napi::Result<Self> {
        let callback = callback
            .build_threadsafe_function::<ExitEvent>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(ExitWatcher {
            callback: Arc::new(callback),
        })
    }

    /// Report how the init of `id` ends, as [`wait`] would, to the callback with `token`.
    #[napi]
    pub fn watch(&self, root: String, id: String, token: u32) {
        let child = children().get(&key(&root, &id));
        let callback = Arc::clone(&self.callback);
        napi::bindgen_prelude::spawn(async move {
            let event = match wait_exit(child, root, id).await {
                Ok(e) => ExitEvent {
                    token,
                    exit_code: e.exit_code,
                    signal: e.signal,
                    error: None,
                },
                Err(e) => ExitEvent {
                    token,
                    exit_code: None,
                    signal: None,
                    error: Some(napi::Error::from(e).reason),
                },
            };
            callback.call(event, ThreadsafeFunctionCallMode::NonBlocking);
        });
    }
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

/// Run a process in a created or running container (off the main thread).
#[napi]
pub fn exec<'e>(env: &'e Env, req: ExecRequest) -> napi::Result<PromiseRaw<'e, ExecInfo>> {
    use ctr_runtime::exec::{self, ExecOptions, ExecOverrides};
    env.spawn_future(async move {
        let stdio = stdio_from_js(
            &req.stdio,
            ctr_runtime::Code::InvalidOption.as_str(),
            "stdio",
        )?;
        let e = blocking(move || {
            let store = Store::new(&req.root);
            let process = match &req.process {
                Some(json) => serde_json::from_str(json).map_err(|e| {
                    Error::new(
                        ctr_oci::Code::Invalid,
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
        let fds = stdio_to_js(&e.child);
        let terminal = e
            .child
            .take_console()
            .map(|f| f.into_raw_fd())
            .unwrap_or(-1);
        children().insert(ChildKey::Exec { pid: e.pid }, e.child);
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
    let key = ChildKey::Exec { pid };
    let child = children().get(&key);
    env.spawn_future(async move {
        let child = child.ok_or_else(|| {
            Error::new(
                ctr_runtime::Code::NotFound,
                format!("no exec'd process {pid} of ours"),
            )
        })?;
        let exit = wait_child(&child, ctr_runtime::Code::Wait.as_str()).await?;
        children().remove(&key);
        Ok(exit)
    })
}

/// Signal an exec'd process of ours (through its pidfd: never a reused pid).
#[napi]
pub fn exec_kill(pid: i32, signal: i32) -> napi::Result<()> {
    let child = children().get(&ChildKey::Exec { pid });
    match child {
        Some(c) => Ok(c.kill(signal)?),
        None => Err(Error::new(
            ctr_runtime::Code::NotFound,
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
                ctr_runtime::Code::InvalidOption,
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
