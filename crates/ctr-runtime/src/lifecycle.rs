//! The lifecycle of runtime.md: create, start, state, kill, delete, and
//! run (create + start + wait + delete).

use crate::plan::{plan, ContainerPlan};
use crate::state::{self, live_status, Locked, Owner, Saved, State, Status, Store};
use crate::util;
use crate::Code;
use ctr_common::{Error, Result};
use ctr_ns::{Child, Stage, Stdio};
use ctr_oci::Purpose;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Options of [`create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: PathBuf,
    /// Write the init pid here.
    pub pid_file: Option<PathBuf>,
    /// Skip `pivot_root` (`MS_MOVE` + `chroot` instead: for a rootfs on
    /// an initramfs, where `pivot_root` is refused).
    pub no_pivot: bool,
    /// stdio of the container process.
    pub stdio: [Stdio; 3],
    /// Fds of the caller that become fds 3, 4, ... of the container
    /// process (`--preserve-fds`).
    pub extra_fds: Vec<std::os::fd::RawFd>,
    /// With `process.terminal`: a connected unix socket to send the pty
    /// master over (runc's `--console-socket`; the caller keeps the fd).
    /// `None`: the master comes back through `Created.child.take_console()`.
    /// Refused without `process.terminal`.
    pub console_socket: Option<std::os::fd::RawFd>,
    /// The caller will not stay to hold a pty master (`ctrun create`,
    /// `run --detach`): `process.terminal` then needs `console_socket`, as
    /// with runc.
    pub detach: bool,
    /// Make the cgroup a transient systemd scope over D-Bus (runc's
    /// `--systemd-cgroup`): `linux.cgroupsPath` is `slice:prefix:name`,
    /// by default `system.slice:ctrun:<id>`.
    pub systemd_cgroup: bool,
}

/// A created container: its pid and, in the creating process, the child
/// handle (to wait for it in `run`).
#[derive(Debug)]
pub struct Created {
    /// Host pid of the init process.
    pub pid: i32,
    /// The spawned child (we are its parent).
    pub child: Child,
}

fn mkfifo(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    if unsafe { libc::mkfifo(c.as_ptr(), mode) } < 0 {
        return Err(
            Error::last_os(Code::State, "mkfifo", format!("mkfifo {}", p.display())).with_path(p),
        );
    }
    Ok(())
}

/// `ctr_ns` errors as the runtime's: `ENS_X` becomes `ERUNTIME_X` (a
/// failed `chdir` is `ERUNTIME_CWD` on `process.cwd`), except `ENS_EXEC`:
/// a program that cannot be executed is one failure with one code wherever
/// it shows (`@ctr/ns`, `ctr-unshare`, `exec` here); it was `ERUNTIME_EXEC`.
fn ns_err(e: Error) -> Error {
    match e.code.strip_prefix("ENS_") {
        Some("EXEC") => e,
        Some("CHDIR") => Error {
            code: Code::Cwd.into(),
            message: format!("process.cwd: {}", e.message),
            ..e
        }
        .with_field("process.cwd"),
        Some("EXEC_FIFO") => Error {
            code: Code::Init.into(),
            ..e
        },
        Some("SCHEDULER" | "CPU_AFFINITY") => crate::process::oci_step_error(e),
        Some("MEMORY_POLICY") => Error {
            code: Code::MemoryPolicy.into(),
            message: format!("linux.memoryPolicy: {}", e.message),
            ..e
        }
        .with_field("linux.memoryPolicy"),
        Some(rest) => Error {
            code: format!("ERUNTIME_{rest}"),
            ..e
        },
        None => e,
    }
}

/// Whether `process.args` and `process.env` fit what `execve` takes, as
/// the kernel counts it (fs/exec.c): every string with its NUL, plus a
/// pointer each, within a quarter of the stack limit (the config's
/// `RLIMIT_STACK`, else ours), at most 6 MiB and at least 128 KiB; and no
/// single string over 128 KiB (`MAX_ARG_STRLEN`). Checked before anything
/// is made: the init's execve only fails at `start`, long after `create`
/// could say why (it exited 127 with nothing printed).
pub fn check_exec_size(spec: &ctr_oci::types::Spec) -> Result<()> {
    const MAX_ARG_STRLEN: usize = 32 * 4096;
    let Some(p) = &spec.process else {
        return Ok(());
    };
    let (args, env) = (
        p.args.as_deref().unwrap_or_default(),
        p.env.as_deref().unwrap_or_default(),
    );
    for (field, list) in [("process.args", args), ("process.env", env)] {
        if let Some((i, s)) = list
            .iter()
            .enumerate()
            .find(|(_, s)| s.len() + 1 > MAX_ARG_STRLEN)
        {
            return Err(Error::new(
                Code::E2big,
                format!(
                    "{field}[{i}] is {} bytes: execve takes at most {} per string (E2BIG)",
                    s.len(),
                    MAX_ARG_STRLEN - 1
                ),
            )
            .with_field(format!("{field}[{i}]"))
            .with_errno(libc::E2BIG));
        }
    }
    let strings: usize = args
        .iter()
        .chain(env.iter())
        .map(|s| s.len() + 1)
        .sum::<usize>()
        + args.first().map_or(0, |a| a.len() + 1);
    let size = strings + (args.len().max(1) + env.len()) * std::mem::size_of::<usize>();
    // At most the floor fits whatever the stack limit: the common case
    // then needs no getrlimit (a system call per create).
    const FLOOR: usize = 128 << 10;
    if size <= FLOOR {
        return Ok(());
    }
    let stack = p
        .rlimits
        .as_ref()
        .and_then(|r| r.iter().find(|r| r.typ == "RLIMIT_STACK").map(|r| r.soft))
        .unwrap_or_else(|| {
            let mut r = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut r) };
            r.rlim_cur
        });
    let limit = (stack / 4).clamp(FLOOR as u64, 6 << 20) as usize;
    if size > limit {
        let field = if args.iter().map(|s| s.len()).sum::<usize>()
            >= env.iter().map(|s| s.len()).sum::<usize>()
        {
            "process.args"
        } else {
            "process.env"
        };
        return Err(Error::new(
            Code::E2big,
            format!("process.args and process.env take {size} bytes, more than the {limit} execve takes here (a quarter of the stack limit; E2BIG)"),
        )
        .with_field(field)
        .with_errno(libc::E2BIG));
    }
    Ok(())
}

/// Create a container: validate and plan the bundle, claim the id, spawn
/// the init (`ctr_ns::spawn` of the user's program, no runtime binary)
/// into its namespaces, run the prestart/createRuntime/createContainer
/// hooks at its pre-pivot sync point, and return once it is set up and
/// blocked on the `exec.fifo` gate. On any error nothing is left: no
/// process, no state directory.
pub fn create(store: &Store, o: &CreateOptions) -> Result<Created> {
    state::validate_id(&o.id)?;
    create_from(store, o, load_for_create(&o.bundle)?)
}

/// The bundle's config, read and checked (out of line: see `create_from`).
#[inline(never)]
fn load_for_create(dir: &Path) -> Result<ctr_oci::Bundle> {
    ctr_oci::load_bundle(dir, Purpose::Create)
}

/// [`create`] of a loaded bundle. Out of line, as the loading: their
/// large stack frames (~8 KiB each) and the config's parser (~20 KiB
/// deep) are not on the stack at once (a short-lived `ctrun`'s stack
/// pages count in its RSS).
#[inline(never)]
fn create_from(store: &Store, o: &CreateOptions, bundle: ctr_oci::Bundle) -> Result<Created> {
    check_exec_size(&bundle.spec)?;
    let dir = store.root.join(&o.id);
    let cp = plan(&bundle, &dir)?;
    if o.console_socket.is_some() && cp.spawn.io.console.is_none() {
        return Err(Error::new(
            Code::Console,
            "a console socket was given but process.terminal is false",
        )
        .with_field("process.terminal"));
    }
    if o.detach && o.console_socket.is_none() && cp.spawn.io.console.is_some() {
        return Err(Error::new(
            Code::Console,
            "process.terminal is true but no console socket was given: the pty master would have nowhere to go (use --console-socket)",
        )
        .with_field("console-socket"));
    }
    if !bundle.rootfs.is_dir() {
        return Err(Error::new(
            Code::Rootfs,
            format!("root.path: {} is not a directory", bundle.rootfs.display()),
        )
        .with_path(&bundle.rootfs)
        .with_errno(libc::ENOENT));
    }
    // Every device must exist before anything is made.
    crate::netdev::check_host(&cp.net_devices)?;
    // The record comes first: everything create is about to make is named
    // in it (the cgroup, the parents it will add, the namespace it joins),
    // so a crash from here on leaves a `creating` record that `delete`
    // can clear (docs/runtime.md, "State protocol").
    // One layout for both (detect reads mountinfo and /proc/self/cgroup).
    let layout = ctr_cgroup::detect()?;
    // Rootless: a cgroup only in a delegated subtree, else none (or an
    // error when limits are asked for), as runc (crate::rootless).
    let mut resources = cp.resources.clone();
    let given = bundle
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.cgroups_path.as_deref());
    let (cgroup_path, cgroup_opts, systemd_unit) = if crate::rootless::is_rootless() {
        // Device rules need privilege a rootless runtime lacks; the user
        // namespace bars foreign device nodes anyway (runc ignores them).
        resources.devices = None;
        let path = match crate::rootless::choose_cgroup(&layout, &o.id, given, &resources)? {
            crate::rootless::RootlessCgroup::Delegated(p) => Some(p),
            crate::rootless::RootlessCgroup::None(why) => {
                eprintln!("ctrun: warning: {why}");
                None
            }
        };
        (path, ctr_cgroup::Options::relative_to_own_cgroup(), None)
    } else {
        let (path, opts, unit) =
            crate::plan::cgroup_driver(&cp.cgroup_path, given, &o.id, o.systemd_cgroup, &layout)?;
        (Some(path), opts, unit)
    };
    let planned_parents = match &cgroup_path {
        Some(p) => ctr_cgroup::Cgroup::planned_parents_on(&layout, p, &cgroup_opts)?,
        None => Vec::new(),
    };
    let mut record = Saved {
        oci_version: ctr_oci::OCI_VERSION.into(),
        id: o.id.clone(),
        pid: 0,
        init_start_time: 0,
        status: Status::Creating,
        bundle: bundle.dir.to_string_lossy().into_owned(),
        rootfs: bundle.rootfs.to_string_lossy().into_owned(),
        created: util::now_rfc3339(),
        annotations: bundle.spec.annotations.clone().unwrap_or_default(),
        hooks: bundle.spec.hooks.clone(),
        cgroup_path: cgroup_path.clone(),
        cgroup_made_parents: planned_parents,
        systemd_unit,
        net_devices: Vec::new(),
        netns_path: cp.netns_path.clone(),
        bridge_leases: Vec::new(),
        owner: Some(Owner::me()),
    };
    let locked = store.claim(&o.id, &record)?;
    let cg = match &cgroup_path {
        None => None,
        Some(p) => match ctr_cgroup::Cgroup::create_on(&layout, p, &resources, &cgroup_opts) {
            Ok(cg) => Some(cg),
            // A rootless caller the kernel refuses (a delegated subtree
            // that is read-only after all) degrades as without one.
            Err(e)
                if crate::rootless::is_rootless() && crate::rootless::is_permission_error(&e) =>
            {
                match crate::rootless::no_cgroup(&o.id, &resources, &e.message) {
                    Ok(crate::rootless::RootlessCgroup::None(why)) => {
                        eprintln!("ctrun: warning: {why}");
                        record.cgroup_path = None;
                        record.cgroup_made_parents = Vec::new();
                        None
                    }
                    Ok(_) => unreachable!("no_cgroup never delegates"),
                    Err(e) => {
                        let _ = locked.remove();
                        return Err(e);
                    }
                }
            }
            Err(e) => {
                let _ = locked.remove();
                return Err(crate::plan::resources_field(e));
            }
        },
    };
    // The parents actually made (another create may have made some meanwhile).
    if let Some(cg) = &cg {
        record.cgroup_made_parents = cg.made_parents().to_vec();
    }
    let mut child: Option<Child> = None;
    let mut moved = Vec::new();
    match create_locked(
        &locked,
        o,
        &bundle,
        &cp,
        cg.as_ref(),
        &layout,
        &mut record,
        &mut child,
        &mut moved,
    ) {
        Ok(pid) => Ok(Created {
            pid,
            child: child.expect("spawned"),
        }),
        Err(e) => {
            if let Some(c) = &child {
                // Devices go back while the namespace still exists (with the
                // init gone, a virtual one would be destroyed).
                if !moved.is_empty() {
                    let ns = match &cp.netns_path {
                        Some(p) => ctr_netns::ns::open_path_ns(p),
                        None => ctr_netns::ns::open_pid(c.pid),
                    };
                    if let Ok(ns) = ns {
                        let _ = crate::netdev::move_out(&moved, &ns, true);
                    }
                }
                let _ = c.kill(libc::SIGKILL);
                let _ = c.wait();
            }
            let e = match &cg {
                Some(cg) => {
                    let e = oom_during_setup(cg, e);
                    let _ = cg.delete(true);
                    e
                }
                None => e,
            };
            let _ = locked.remove();
            Err(e)
        }
    }
}

/// An init that died while being set up because the memory limit left it
/// no room (the kernel takes any limit, then OOM-kills): said as such,
/// naming the field and the least the set-up had used.
fn oom_during_setup(cg: &ctr_cgroup::Cgroup, e: Error) -> Error {
    let Ok(s) = cg.stats() else { return e };
    if s.memory.oom_kill.unwrap_or(0) == 0 {
        return e;
    }
    let limit = s
        .memory
        .limit
        .map(|l| format!(" ({l} bytes)"))
        .unwrap_or_default();
    let used = s
        .memory
        .peak
        .map(|p| format!(": it had used {p} bytes, so the minimum is above that"))
        .unwrap_or_default();
    Error::new(
        Code::MemoryTooLow,
        format!("linux.resources.memory.limit{limit} is too low: the container init was OOM-killed while being set up{used} ({})", e.message),
    )
    .with_field("linux.resources.memory.limit")
}

/// The caller's own memory cgroup on a v1 hierarchy and the index of the
/// container's among `dirs`: where the init's exec helper is charged until
/// `start` (see [`ctr_ns::CallerMemoryCgroup`]), as a forking runtime's
/// waiting init is charged to its caller. None on cgroup2 (one cgroup for
/// every controller, joined at clone), inside a cgroup namespace (own paths
/// are relative to its root, not to the mount), without a memory hierarchy,
/// or where the caller's is the container's.
fn caller_memory_cgroup(
    layout: &ctr_cgroup::Layout,
    dirs: &[PathBuf],
) -> Option<ctr_ns::CallerMemoryCgroup> {
    // Unknown (pid 1's namespace unreadable) counts as none: a home that
    // is not there only fails its open, which skips the handoff.
    if layout.cgroup_namespace == Some(true) {
        return None;
    }
    let memory = layout
        .hierarchies
        .iter()
        .find(|h| h.version == 1 && h.controllers.iter().any(|c| c == "memory"))?;
    let mount = Path::new(&memory.mount_point);
    let index = dirs.iter().position(|d| d.starts_with(mount))?;
    let home = mount.join(memory.own_path.trim_start_matches('/'));
    (home != dirs[index]).then(|| ctr_ns::CallerMemoryCgroup {
        index,
        dir: home.to_string_lossy().into_owned(),
    })
}

// The pieces of one create, each owned by `create` for its error path.
#[allow(clippy::too_many_arguments)]
fn create_locked(
    locked: &Locked,
    o: &CreateOptions,
    bundle: &ctr_oci::Bundle,
    cp: &ContainerPlan,
    cg: Option<&ctr_cgroup::Cgroup>,
    layout: &ctr_cgroup::Layout,
    record: &mut Saved,
    child_out: &mut Option<Child>,
    moved: &mut Vec<crate::netdev::MovedDevice>,
) -> Result<i32> {
    // World-writable like runc's: the init reopens it (through its O_PATH
    // fd) after switching to the container's user, maybe in a user namespace.
    let fifo = locked.fifo();
    mkfifo(&fifo, 0o622)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o622)).map_err(|e| {
            Error::io(
                Code::State,
                "chmod",
                &e,
                format!("chmod {}", fifo.display()),
            )
            .with_path(&fifo)
        })?;
    }
    let mut so = cp.spawn.clone();
    so.io.stdio = o.stdio;
    so.io.extra_fds = o.extra_fds.clone();
    if let (Some(c), Some(fd)) = (so.io.console.as_mut(), o.console_socket) {
        c.socket = ctr_ns::ConsoleSocket::Fd(fd);
    }
    // The init starts in the container's cgroup (CLONE_INTO_CGROUP on v2,
    // joined by the child itself on v1, first thing).
    let dirs = cg.map(|cg| cg.dirs()).unwrap_or_default();
    so.resources.cgroups = dirs
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    so.resources.caller_memory_cgroup = caller_memory_cgroup(layout, &dirs);
    if let Some(r) = so.filesystem.rootfs.as_mut() {
        if cp.cgroup_mount {
            // Without a cgroup of its own, a `cgroup` mount shows the caller's.
            let own_dirs: Vec<PathBuf> = layout
                .hierarchies
                .iter()
                .map(|h| Path::new(&h.mount_point).join(h.own_path.trim_start_matches('/')))
                .collect();
            r.cgroup_binds =
                crate::plan::cgroup_binds(if cg.is_some() { &dirs } else { &own_dirs });
        }
        r.no_pivot = o.no_pivot;
    }
    so.lifecycle.exec_fifo = Some(fifo.to_string_lossy().into_owned());
    let hooks = bundle.spec.hooks.clone().unwrap_or_default();
    let list = |h: &Option<Vec<ctr_oci::types::Hook>>| h.clone().unwrap_or_default();
    let (prestart, create_runtime, create_container) = (
        list(&hooks.prestart),
        list(&hooks.create_runtime),
        list(&hooks.create_container),
    );
    // The sync point is also where network devices move in: the
    // namespaces exist, the user program is far from running.
    // A rootless container's new network namespace gets `lo` up, by the
    // init itself (loopback-only networking; the runtime could not join it).
    // (The namespaces are checked first: is_rootless is a system call.)
    so.namespaces.loopback_up = so.namespaces.create.contains(&ctr_ns::NamespaceKind::Net)
        && so.namespaces.create.contains(&ctr_ns::NamespaceKind::User)
        && crate::rootless::is_rootless();
    so.lifecycle.pre_pivot_sync = !(prestart.is_empty()
        && create_runtime.is_empty()
        && create_container.is_empty()
        && cp.net_devices.is_empty());

    let child = ctr_ns::spawn(&so).map_err(ns_err)?;
    // A systemd scope's placeholder leaves once the init is in it.
    if let Some(cg) = cg {
        cg.release_placeholder();
    }
    let pid = child.pid;
    *child_out = Some(child);
    let child = child_out.as_ref().unwrap();
    // The init is in the cgroup already (which is what delete kills
    // through); its pid is recorded for `list` and a direct kill.
    let first_start = util::proc_stat(pid).map(|(_, start)| start);
    if let Some(start) = first_start {
        record.pid = pid;
        record.init_start_time = start;
        locked.save(record)?;
    }
    let annotations = bundle.spec.annotations.clone().unwrap_or_default();
    let bundle_dir = bundle.dir.to_string_lossy().into_owned();
    loop {
        match child.wait_stage().map_err(ns_err)? {
            Stage::PrePivot => {
                // Namespaces, id maps and mounts exist, the root is not
                // pivoted yet: prestart and createRuntime run here in the
                // runtime namespace, createContainer in the container's.
                crate::netdev::move_in(&cp.net_devices, pid, moved)?;
                let st = |k, pid| {
                    crate::hooks::state_json(
                        &o.id,
                        pid,
                        crate::hooks::hook_status(k),
                        &bundle_dir,
                        &annotations,
                    )
                };
                crate::hooks::run_all("prestart", &prestart, &st("prestart", pid))?;
                crate::hooks::run_all("createRuntime", &create_runtime, &st("createRuntime", pid))?;
                let in_ctr = crate::hooks::pid_in_container(pid);
                crate::hooks::run_all_in(
                    "createContainer",
                    &create_container,
                    &st("createContainer", in_ctr),
                    pid,
                )?;
                child.resume().map_err(ns_err)?;
            }
            Stage::SeccompListener => {
                // The filter is installed and ctr-ns holds its listener (the
                // init went on: its notified calls wait in the kernel until
                // the agent has the fd; it cannot exec before `start`, so a
                // failed send kills it before the program ran). Sent before
                // waiting for the next stage, which may need the agent.
                // runc sends "creating" too.
                let Some(l) = &cp.seccomp_listener else {
                    return Err(Error::new(
                        Code::Init,
                        "container init reported a seccomp listener that was not asked for",
                    ));
                };
                let st =
                    crate::hooks::state_value(&o.id, pid, "creating", &bundle_dir, &annotations);
                crate::notify::send(child, l, &crate::notify::process_state(l, pid, st))?;
            }
            Stage::ExecFifo => break,
            s => {
                return Err(Error::new(
                    Code::Init,
                    format!("container init reported {s:?} instead of waiting at exec.fifo"),
                ))
            }
        }
    }
    // The init is our child and only we reap it, so a start time read
    // above still holds (a zombie's stat reads the same); read now only if
    // that first read failed.
    let start = first_start
        .or_else(|| util::proc_stat(pid).map(|(_, start)| start))
        .ok_or_else(|| {
            Error::new(
                Code::Init,
                "container init exited right after it was set up",
            )
        })?;
    record.pid = pid;
    record.init_start_time = start;
    record.status = Status::Created;
    record.net_devices = moved.clone();
    // A detached container (`ctrun create`, `run -d`) outlives its creator;
    // one the creator stays attached to (Node, a foreground `run`) is its.
    record.owner = if o.detach { None } else { record.owner };
    locked.save(record)?;
    if let Some(pf) = &o.pid_file {
        ctr_common::fs::write_atomic(Code::PidFile.as_str(), pf, pid.to_string().as_bytes())?;
    }
    Ok(pid)
}

/// Release the init blocked on `exec.fifo`: open it for reading (which
/// completes the init's open for writing) and take its one byte. Fails if
/// the init dies first.
fn release_fifo(fifo: &Path, init: &OwnedFd) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(
            Error::last_os(Code::Start, "open", format!("open {}", fifo.display())).with_path(fifo),
        );
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // No POLLHUP before a writer came: this waits for the init's byte or its death.
    loop {
        let ready = util::poll_in(&[fd.as_raw_fd(), init.as_raw_fd()], 10_000).map_err(|e| {
            Error::io(
                Code::Start,
                "poll",
                &e,
                "wait for the container init at exec.fifo",
            )
        })?;
        let mut byte = 0u8;
        let n = unsafe { libc::read(fd.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            wait_for_exec(&fd);
            return Ok(());
        }
        if ready[1] {
            return Err(Error::new(
                Code::Start,
                "container init exited before it was released",
            ));
        }
        if !ready[0] {
            return Err(Error::new(
                Code::Start,
                "container init did not take exec.fifo within 10 s",
            ));
        }
        if n == 0 {
            // The writer came and went without its byte.
            return Err(Error::new(
                Code::Start,
                "container init closed exec.fifo without starting",
            ));
        }
    }
}

/// After the init's byte: its write end of exec.fifo is close-on-exec, so
/// end-of-file on our side means the user program is running (or the init
/// died, which `state` reports). Returning only then makes `start` mean the
/// program has started, not merely that it was released; bounded, since
/// the byte already proved the init took the gate.
fn wait_for_exec(fifo: &OwnedFd) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .as_millis() as i32;
        if left == 0 || util::poll_in(&[fifo.as_raw_fd()], left).is_err() {
            return;
        }
        let mut byte = 0u8;
        let n = unsafe { libc::read(fifo.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) };
        if n == 0 || (n < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EAGAIN))
        {
            return;
        }
    }
}

/// A pidfd for the saved init, or `None` if it is gone (or the pid was reused).
fn init_pidfd(s: &Saved) -> Option<OwnedFd> {
    let fd = util::pidfd_open(s.pid).ok()?;
    // Checked after opening: the pidfd pins this exact process.
    util::alive(s.pid, s.init_start_time).then_some(fd)
}

/// Start a created container: open `exec.fifo`, which lets its init exec.
pub fn start(store: &Store, id: &str) -> Result<()> {
    let (locked, saved) = store.lock_load(id)?;
    // Opened before the status is read: the liveness check in it (pid and
    // start time) then pins this exact process to the pidfd, as
    // `init_pidfd` does, with one read of /proc/<pid>/stat instead of two.
    let pidfd = (saved.status != Status::Creating)
        .then(|| util::pidfd_open(saved.pid).ok())
        .flatten();
    let st = live_status(&locked.dir, &saved);
    if st != Status::Created {
        let what = match st {
            Status::Running => "cannot start an already running container".to_string(),
            Status::Stopped => "cannot start a container that has stopped".to_string(),
            s => format!("cannot start a container in the {} state", s.as_str()),
        };
        return Err(Error::new(Code::StateInvalid, what));
    }
    let pidfd = pidfd.ok_or_else(|| {
        Error::new(
            Code::StateInvalid,
            "cannot start a container that has stopped",
        )
    })?;
    // startContainer hooks run in the container after start, before the
    // user program: in its namespaces while the init still waits. A
    // failure stops the container (the program never runs).
    if let Some(h) = saved
        .hooks
        .as_ref()
        .and_then(|h| h.start_container.as_ref())
        .filter(|h| !h.is_empty())
    {
        let pid = crate::hooks::pid_in_container(saved.pid);
        let st = crate::hooks::state_json(
            &saved.id,
            pid,
            crate::hooks::hook_status("startContainer"),
            &saved.bundle,
            &saved.annotations,
        );
        if let Err(e) = crate::hooks::run_all_in("startContainer", h, &st, saved.pid) {
            let _ = util::pidfd_send_signal(pidfd.as_raw_fd(), libc::SIGKILL);
            return Err(e);
        }
    }
    release_fifo(&locked.fifo(), &pidfd).map_err(|e| match cgroup_of(&saved) {
        Ok(cg) => oom_during_setup(&cg, e),
        Err(_) => e,
    })?;
    drop(pidfd);
    // Removing exec.fifo is what makes the container `running` (the status is
    // computed from the fifo and the init's liveness, see state::live_status),
    // so state.json need not be rewritten (and fsync'd) here.
    std::fs::remove_file(locked.fifo()).map_err(|e| {
        Error::io(Code::Start, "unlink", &e, "remove exec.fifo").with_path(locked.fifo())
    })?;
    if let Some(h) = saved.hooks.as_ref().and_then(|h| h.poststart.as_ref()) {
        let st = crate::hooks::state_json(
            &saved.id,
            saved.pid,
            "running",
            &saved.bundle,
            &saved.annotations,
        );
        crate::hooks::run_all_warn("poststart", h, &st);
    }
    Ok(())
}

/// The state of a container, shaped as runc's `state` output.
pub fn state(store: &Store, id: &str) -> Result<State> {
    let s = store.read(id)?;
    Ok(state::view(store, &s))
}

/// Every container of the store.
pub fn list(store: &Store) -> Result<Vec<State>> {
    let mut out = Vec::new();
    for id in store.ids()? {
        if let Ok(s) = store.read(&id) {
            out.push(state::view(store, &s));
        }
    }
    Ok(out)
}

fn ns_inode(pid: i32) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|m| m.ino())
}

/// Host pids of every process in the container's pid namespace.
fn pids_in_ns(init_pid: i32) -> Result<Vec<i32>> {
    let own =
        ns_inode(init_pid).ok_or_else(|| Error::new(Code::NotRunning, "container not running"))?;
    if Some(own) == ns_inode(std::process::id() as i32) {
        return Err(Error::new(
            Code::Unsupported,
            "kill --all needs the container to have its own pid namespace until cgroups are wired in",
        ));
    }
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc")
        .map_err(|e| Error::io(Code::Kill, "opendir", &e, "list /proc"))?
        .flatten()
    {
        if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) {
            if ns_inode(pid) == Some(own) {
                pids.push(pid);
            }
        }
    }
    Ok(pids)
}

/// Send `signal` to the init (or, with `all`, every process of the container).
pub fn kill(store: &Store, id: &str, signal: i32, all: bool) -> Result<()> {
    let saved = store.read(id)?;
    let dir = store.root.join(id);
    let st = live_status(&dir, &saved);
    if st == Status::Stopped {
        return Err(Error::new(Code::NotRunning, "container not running"));
    }
    let pidfd =
        init_pidfd(&saved).ok_or_else(|| Error::new(Code::NotRunning, "container not running"))?;
    if all {
        for pid in pids_in_ns(saved.pid)? {
            if pid != saved.pid {
                unsafe { libc::kill(pid, signal) };
            }
        }
    }
    util::pidfd_send_signal(pidfd.as_raw_fd(), signal).map_err(|e| {
        Error::io(
            Code::Kill,
            "pidfd_send_signal",
            &e,
            format!("signal {signal} to pid {}", saved.pid),
        )
    })
}

fn kill_and_wait(saved: &Saved) -> Result<()> {
    if let Some(fd) = init_pidfd(saved) {
        if let Ok(pids) = pids_in_ns(saved.pid) {
            for p in pids {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
        let _ = util::pidfd_send_signal(fd.as_raw_fd(), libc::SIGKILL);
        let ready = util::poll_in(&[fd.as_raw_fd()], 10_000)
            .map_err(|e| Error::io(Code::Delete, "poll", &e, "wait for init"))?;
        if !ready[0] {
            return Err(Error::new(
                Code::Delete,
                format!("pid {} did not die within 10 s of SIGKILL", saved.pid),
            ));
        }
    }
    Ok(())
}

/// Delete a container: remove every trace. One that is not stopped
/// (created, running, paused) needs `force` and is killed first: runtime.md
/// says deleting it MUST fail otherwise. A `creating` one (its creator died:
/// a live creator holds the lock until it is done) is cleared of whatever
/// it got to make.
///
/// Every step is tried and each failure is named: the process tree (killed
/// through the cgroup, then the init by its pidfd), the cgroup in every
/// hierarchy with the parents create made, the state directory. If
/// anything could not be removed the record stays (so `list` shows it and
/// `delete` can be tried again) and `ERUNTIME_DELETE` lists what is left.
pub fn delete(store: &Store, id: &str, force: bool) -> Result<()> {
    let (locked, saved) = store.lock_load(id)?;
    let status = live_status(&locked.dir, &saved);
    match status {
        Status::Stopped | Status::Creating => {}
        Status::Created | Status::Running | Status::Paused if force => {}
        s => {
            return Err(Error::new(
                Code::StateInvalid,
                format!(
                    "cannot delete container {id:?} that is not stopped: {}",
                    s.as_str()
                ),
            ))
        }
    }
    // Before the kill: the namespace dies with the last process in it.
    return_net_devices(&saved);
    let mut left: Vec<String> = Vec::new();
    // The common case, an init that was reaped (its pid namespace took every
    // other process with it): one rmdir per hierarchy, no existence checks.
    let removed = status == Status::Stopped
        && saved.systemd_unit.is_none()
        && saved.cgroup_path.as_deref().is_some_and(|p| {
            ctr_cgroup::Cgroup::remove_if_empty(p, &crate::plan::cgroup_options(&saved))
                .unwrap_or(false)
        });
    let cgroup = match saved.cgroup_path.as_ref().filter(|_| !removed) {
        Some(p) => match ctr_cgroup::Cgroup::open(p, &crate::plan::cgroup_options(&saved)) {
            Ok(cg) => Some(cg),
            Err(e) if e.code == ctr_cgroup::Code::NotFound.as_str() => None,
            Err(e) => {
                left.push(format!("cgroup {p}: {}", e.message));
                None
            }
        },
        None => None,
    };
    if status == Status::Paused {
        // Thaw so the processes can die of SIGKILL at once.
        if let Some(cg) = &cgroup {
            let _ = cg.thaw();
        }
    }
    // The whole tree through the cgroup (cgroup.kill, or freeze + kill +
    // thaw on v1), then the directories in every hierarchy.
    if let Some(cg) = &cgroup {
        if let Err(e) = cg.delete(true) {
            left.push(format!(
                "cgroup {}: {}",
                saved.cgroup_path.as_deref().unwrap_or_default(),
                e.message
            ));
        }
    }
    // A scope whose cgroup is gone (systemd removed it when its last
    // process died) may still be listed, failed after an OOM kill.
    if let (None, Some(unit)) = (&cgroup, &saved.systemd_unit) {
        if let Err(e) = ctr_cgroup::systemd::remove_unit(unit) {
            left.push(format!("unit {unit}: {}", e.message));
        }
    }
    // The init itself, should it not be in the cgroup (a shared or missing
    // one). Not when stopped: that status means the recorded process (pid
    // and start time) is gone, which it stays, so there is nothing to kill.
    let killed = if status == Status::Stopped {
        Ok(())
    } else {
        kill_and_wait(&saved)
    };
    if let Err(e) = killed {
        left.push(format!("process {}: {}", saved.pid, e.message));
    }
    ctr_cgroup::remove_made_parents(&saved.cgroup_made_parents);
    // After the kill: with the namespace gone its veth ends are gone too;
    // what remains are the leases, their published ports, and a host veth
    // an attach cut short may have left.
    for l in &saved.bridge_leases {
        if let Err(e) = release_bridge_lease(l) {
            left.push(format!(
                "lease {} of network {}: {}",
                l.lease, l.network, e.message
            ));
        }
    }
    if !left.is_empty() {
        return Err(Error::new(
            Code::Delete,
            format!("delete {id}: could not remove {}", left.join("; ")),
        ));
    }
    // A container that never finished creating never ran: no poststop.
    if saved.status != Status::Creating {
        if let Some(h) = saved.hooks.as_ref().and_then(|h| h.poststop.as_ref()) {
            let st = crate::hooks::state_json(
                &saved.id,
                0,
                "stopped",
                &saved.bundle,
                &saved.annotations,
            );
            crate::hooks::run_all_warn("poststop", h, &st);
        }
    }
    locked.remove()
}

fn release_bridge_lease(l: &crate::state::BridgeLease) -> Result<()> {
    ctr_netns::bridge::release_recorded(
        Path::new(&l.state_root),
        &l.network,
        &mut ctr_netns::netlink::RtNetlink::new()?,
        &mut ctr_netns::nft::LibNft,
        &l.lease,
    )
}

/// Record that the container is about to be attached to a bridge network
/// under lease `lease.lease` (the Node API calls it before the attach), so
/// [`delete`] and [`gc`] release whatever of the attachment exists.
pub fn record_bridge_lease(
    store: &Store,
    id: &str,
    lease: crate::state::BridgeLease,
) -> Result<()> {
    ctr_netns::bridge::validate_lease_id(&lease.lease)?;
    let locked = store.lock(id)?;
    let mut saved = locked.load()?;
    if !saved.bridge_leases.contains(&lease) {
        saved.bridge_leases.push(lease);
    }
    locked.save(&saved)
}

/// What [`gc`] did.
#[derive(Debug, Default, serde::Serialize)]
pub struct GcReport {
    /// Ids removed.
    pub removed: Vec<String>,
    /// Ids that could not be removed, with the error.
    pub failed: Vec<(String, Error)>,
    /// Leftovers of claims and removals cut short (hidden directories).
    pub swept: usize,
}

/// Remove every record whose owner is dead: containers whose creation
/// never finished (the creating `ctrun` or Node process was killed) and
/// containers whose attached owner (the Node process that made them, a
/// foreground `ctrun run`) is gone. Detached containers (`ctrun create`,
/// `run -d`) have no owner and are left alone, as are records whose owner
/// still runs.
pub fn gc(store: &Store) -> Result<GcReport> {
    let mut report = GcReport {
        swept: store.sweep(),
        ..Default::default()
    };
    for id in store.ids()? {
        let Ok(s) = store.read(&id) else { continue };
        if s.owner.is_none_or(|o| o.alive()) {
            continue;
        }
        match delete(store, &id, true) {
            Ok(()) => report.removed.push(id),
            Err(e) if e.code == Code::NotFound.as_str() => {}
            Err(e) => report.failed.push((id, e)),
        }
    }
    Ok(report)
}

/// Move the `linux.netDevices` of a container back to the runtime's network
/// namespace: from the namespace joined by path, or the init's while it
/// lives. With neither (a stopped container with a namespace of its own),
/// the kernel already dealt with them as the spec notes: physical devices
/// went back to the initial namespace, virtual ones were destroyed.
fn return_net_devices(saved: &Saved) {
    if saved.net_devices.is_empty() {
        return;
    }
    let ns = match &saved.netns_path {
        Some(p) => ctr_netns::ns::open_path_ns(p).ok(),
        None => init_pidfd(saved).and_then(|_fd| ctr_netns::ns::open_pid(saved.pid).ok()),
    };
    if let Some(ns) = ns {
        if let Err(e) = crate::netdev::move_out(&saved.net_devices, &ns, false) {
            eprintln!("ctrun: warning: delete {}: {}", saved.id, e.message);
        }
    }
}

fn cgroup_of(saved: &Saved) -> Result<ctr_cgroup::Cgroup> {
    let p = saved.cgroup_path.as_deref().ok_or_else(|| {
        Error::new(
            Code::NoCgroup,
            format!("container {:?} has no cgroup", saved.id),
        )
    })?;
    ctr_cgroup::Cgroup::open(p, &crate::plan::cgroup_options(saved))
}

/// Freeze every process of a running container (cgroup freezer).
pub fn pause(store: &Store, id: &str) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    match live_status(&locked.dir, &saved) {
        Status::Running => {}
        s => {
            return Err(Error::new(
                Code::StateInvalid,
                format!("cannot pause a container that is {}", s.as_str()),
            ))
        }
    }
    cgroup_of(&saved)?.freeze()?;
    std::fs::write(locked.dir.join("paused"), b"")
        .map_err(|e| Error::io(Code::State, "write", &e, "mark the container paused"))
}

/// Thaw a paused container.
pub fn resume(store: &Store, id: &str) -> Result<()> {
    let locked = store.lock(id)?;
    let saved = locked.load()?;
    match live_status(&locked.dir, &saved) {
        Status::Paused => {}
        s => {
            return Err(Error::new(
                Code::StateInvalid,
                format!("cannot resume a container that is {}", s.as_str()),
            ))
        }
    }
    cgroup_of(&saved)?.thaw()?;
    std::fs::remove_file(locked.dir.join("paused"))
        .map_err(|e| Error::io(Code::State, "unlink", &e, "clear the paused mark"))
}

/// Host pids of every process in the container's cgroup.
pub fn ps(store: &Store, id: &str) -> Result<Vec<i32>> {
    let saved = store.read(id)?;
    if live_status(&store.root.join(id), &saved) == Status::Stopped {
        return Ok(vec![]);
    }
    let mut pids = cgroup_of(&saved)?.pids()?;
    pids.sort_unstable();
    Ok(pids)
}

/// How a container's process ended.
pub fn exit_code(st: ctr_ns::ExitStatus) -> i32 {
    match (st.code, st.signal) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 255,
    }
}

#[cfg(test)]
mod tests {
    use crate::Code;
    #[test]
    fn argv_and_env_beyond_execve_are_refused_with_e2big() {
        let spec = |args: Vec<String>, env: Vec<String>| {
            let mut s: ctr_oci::types::Spec = serde_json::from_value(serde_json::json!({ "ociVersion": "1.2.0", "process": { "cwd": "/", "args": ["x"], "user": { "uid": 0, "gid": 0 } } })).unwrap();
            let p = s.process.as_mut().unwrap();
            p.args = Some(args);
            p.env = Some(env);
            s
        };
        super::check_exec_size(&spec(
            vec!["sh".into(), "-c".into(), "true".into()],
            vec!["PATH=/bin".into()],
        ))
        .unwrap();
        let e = super::check_exec_size(&spec(vec!["echo".into(), "a".repeat(200_000)], vec![]))
            .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref(), e.errno),
            (
                Code::E2big.as_str(),
                Some("process.args[1]"),
                Some(libc::E2BIG)
            )
        );
        let many: Vec<String> = (0..100)
            .map(|i| format!("V{i}={}", "b".repeat(100_000)))
            .collect();
        let e = super::check_exec_size(&spec(vec!["env".into()], many)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::E2big.as_str(), Some("process.env"))
        );
        assert!(e.message.contains("E2BIG"), "{}", e.message);
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        use ctr_ns::ExitStatus;
        assert_eq!(
            super::exit_code(ExitStatus {
                code: Some(42),
                signal: None
            }),
            42
        );
        assert_eq!(
            super::exit_code(ExitStatus {
                code: None,
                signal: Some(9)
            }),
            137
        );
    }
}
