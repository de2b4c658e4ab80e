//! OCI hooks: run a hook with the container state on stdin, its args and
//! env, and its timeout (config.md "POSIX-platform Hooks").

use crate::Code;
use ctr_common::{Error, Result};
use ctr_oci::types::Hook;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The state passed to hooks on stdin (state-schema.json).
pub fn state_json(
    id: &str,
    pid: i32,
    status: &str,
    bundle: &str,
    annotations: &std::collections::BTreeMap<String, String>,
) -> String {
    state_value(id, pid, status, bundle, annotations).to_string()
}

/// The state of runtime.md as a JSON value (hooks, seccomp agents).
pub fn state_value(
    id: &str,
    pid: i32,
    status: &str,
    bundle: &str,
    annotations: &std::collections::BTreeMap<String, String>,
) -> serde_json::Value {
    let mut v = serde_json::json!({ "ociVersion": ctr_oci::OCI_VERSION, "id": id, "status": status, "bundle": bundle });
    if pid > 0 {
        v["pid"] = pid.into();
    }
    if !annotations.is_empty() {
        v["annotations"] = serde_json::to_value(annotations).unwrap_or_default();
    }
    v
}

/// The `status` a hook of `kind` finds in the state on its stdin, by the
/// lifecycle of runtime.md: `creating` is step 2 (the environment being
/// made), `created` everything after it until the user program runs, so
/// `prestart`, `createRuntime`, `createContainer` (steps 3-5) and
/// `startContainer` (step 7) see `created`; `poststart` (step 9) sees
/// `running`, `poststop` (step 13) `stopped`. crun and the runtime-tools
/// suite agree; runc sends `creating` to the first three.
pub fn hook_status(kind: &str) -> &'static str {
    match kind {
        "poststart" => "running",
        "poststop" => "stopped",
        _ => "created",
    }
}

/// `pid` as seen from its own pid namespace (the last `NSpid` of
/// `/proc/PID/status`): the state's pid for hooks run in the container
/// namespace (runtime.md). `pid` itself when that cannot be read.
pub fn pid_in_container(pid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("NSpid:")
                    .and_then(|v| v.split_whitespace().last()?.parse().ok())
            })
        })
        .unwrap_or(pid)
}

/// Run one hook; `kind` and `i` name it in errors (`hooks.createRuntime[0]`).
pub fn run_hook(kind: &str, i: usize, h: &Hook, state: &str) -> Result<()> {
    let field = format!("hooks.{kind}[{i}]");
    let mut cmd = Command::new(&h.path);
    if let Some(args) = &h.args {
        if let Some((first, rest)) = args.split_first() {
            use std::os::unix::process::CommandExt;
            cmd.arg0(first);
            cmd.args(rest);
        }
    }
    cmd.env_clear();
    for kv in h.env.iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    // Pipes, not /dev/null: a container may have no /dev/null yet.
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::io(Code::Hook, "execve", &e, format!("{field}: run {}", h.path)).with_path(&h.path)
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.as_bytes()); // a hook may not read it
    }
    // Drain both outputs so a chatty hook never blocks on a full pipe.
    // (A hook's background children may keep the pipes open: never block on them.)
    let out_t = drain(child.stdout.take());
    let err_t = drain(child.stderr.take());
    let deadline = h
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        if let Some(st) = child
            .try_wait()
            .map_err(|e| Error::io(Code::Hook, "waitid", &e, format!("{field}: wait")))?
        {
            drop(out_t);
            let err = err_t
                .recv_timeout(Duration::from_millis(200))
                .unwrap_or_default();
            if st.success() {
                return Ok(());
            }
            return Err(failed(&field, h, st, &err));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            // (grandchildren may still hold the pipes: do not wait for the drains)
            return Err(timed_out(&field, h));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Run a list of hooks in order; the first failure stops.
pub fn run_all(kind: &str, hooks: &[Hook], state: &str) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_hook(kind, i, h, state)?;
    }
    Ok(())
}

/// Run a list of hooks in order, turning failures into warnings (poststart, poststop).
pub fn run_all_warn(kind: &str, hooks: &[Hook], state: &str) {
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run_hook(kind, i, h, state) {
            eprintln!("ctrun: warning: {e} [{}]", e.code);
        }
    }
}

/// The namespaces of `pid` that differ from ours, as files to join.
pub fn namespaces_of(pid: i32) -> Vec<(ctr_ns::NamespaceKind, String)> {
    use std::os::unix::fs::MetadataExt;
    let ino = |p: String| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    ctr_ns::supported_namespaces()
        .into_iter()
        .filter(|k| {
            let name = k.proc_name();
            let theirs = ino(format!("/proc/{pid}/ns/{name}"));
            theirs.is_some() && theirs != ino(format!("/proc/self/ns/{name}"))
        })
        .map(|k| (k, format!("/proc/{pid}/ns/{}", k.proc_name())))
        .collect()
}

/// Run one hook "in the container namespace" (createContainer,
/// startContainer): spawned with `ctr_ns::spawn` joining every namespace
/// of the init `pid`; joining its mount namespace puts the hook at that
/// namespace's root (the container's root once pivoted). Same contract as
/// [`run_hook`]: state on stdin, timeout, failure with stderr.
pub fn run_hook_in(kind: &str, i: usize, h: &Hook, state: &str, pid: i32) -> Result<()> {
    use std::os::fd::AsRawFd;
    let field = format!("hooks.{kind}[{i}]");
    let args = h
        .args
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| vec![h.path.clone()]);
    let mut so = ctr_ns::SpawnOptions::new(h.path.clone(), args);
    so.process.env = h.env.clone().unwrap_or_default();
    so.namespaces.join = namespaces_of(pid);
    so.process.cwd = Some("/".into());
    so.io.stdio = [
        ctr_ns::Stdio::Pipe,
        ctr_ns::Stdio::Pipe,
        ctr_ns::Stdio::Pipe,
    ];
    let name = |e: Error| Error {
        message: format!("{field}: {}", e.message),
        code: Code::Hook.into(),
        path: Some(field.clone()),
        ..e
    };
    let child = ctr_ns::spawn(&so).map_err(name)?;
    let [stdin, out, err] = child.take_stdio();
    if let Err(e) = child.wait_stage() {
        return Err(name(e));
    }
    if let Some(stdin) = stdin {
        let mut f = std::fs::File::from(stdin);
        let _ = f.write_all(state.as_bytes()); // a hook may not read it
    }
    let _out_t = drain(out.map(std::fs::File::from));
    let err_t = drain(err.map(std::fs::File::from));
    let deadline = h
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        let left = deadline
            .map(|d| d.saturating_duration_since(Instant::now()).as_millis() as i32)
            .unwrap_or(-1);
        let ready = crate::util::poll_in(&[child.pidfd.as_raw_fd()], left)
            .map_err(|e| Error::io(Code::Hook, "poll", &e, format!("{field}: wait")))?;
        if ready[0] {
            let st = child.wait()?;
            let err = err_t
                .recv_timeout(Duration::from_millis(200))
                .unwrap_or_default();
            if st.code == Some(0) {
                return Ok(());
            }
            let how = match (st.code, st.signal) {
                (Some(c), _) => format!("exit status: {c}"),
                (None, Some(s)) => format!("signal: {s}"),
                _ => "unknown status".into(),
            };
            return Err(failed(&field, h, how, &err));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill(libc::SIGKILL);
            let _ = child.wait();
            return Err(timed_out(&field, h));
        }
    }
}

/// Read all of `r` on a thread, the text sent on the returned channel once
/// the pipe closes: a chatty hook never blocks on a full pipe, and since a
/// hook's background children may keep the pipe open, callers wait for the
/// text a bounded time only.
fn drain(r: Option<impl std::io::Read + Send + 'static>) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = String::new();
        if let Some(mut r) = r {
            let _ = r.read_to_string(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// Hook `h` (at `field`) ended with `how` (its exit status or signal):
/// `ERUNTIME_HOOK` with what it wrote on stderr.
fn failed(field: &str, h: &Hook, how: impl std::fmt::Display, stderr: &str) -> Error {
    let stderr = stderr.trim();
    let detail = if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    };
    Error::new(
        Code::Hook,
        format!("{field}: {} failed ({how}){detail}", h.path),
    )
    .with_field(field)
}

/// Hook `h` (at `field`) was killed at its timeout.
fn timed_out(field: &str, h: &Hook) -> Error {
    Error::new(
        Code::Hook,
        format!(
            "{field}: {} timed out after {} s",
            h.path,
            h.timeout.unwrap_or(0)
        ),
    )
    .with_field(field)
    .with_errno(libc::ETIMEDOUT)
}

/// [`run_hook_in`] for a list, in order; the first failure stops.
pub fn run_all_in(kind: &str, hooks: &[Hook], state: &str, pid: i32) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_hook_in(kind, i, h, state, pid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hook_kind_gets_the_status_of_its_lifecycle_step() {
        for k in [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
        ] {
            assert_eq!(hook_status(k), "created", "{k}");
        }
        assert_eq!(hook_status("poststart"), "running");
        assert_eq!(hook_status("poststop"), "stopped");
    }

    #[test]
    fn pid_in_container_reads_nspid() {
        let me = std::process::id() as i32;
        // The test runs in the host's pid namespace (or is pid 1 of its own).
        let seen = pid_in_container(me);
        assert!(seen == me || seen > 0, "{seen}");
        assert_eq!(pid_in_container(-5), -5, "an unreadable pid stays as given");
    }
}
