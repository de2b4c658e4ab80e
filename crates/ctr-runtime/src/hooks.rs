//! OCI hooks: run a hook with the container state on stdin, its args and
//! env, and its timeout (config.md "POSIX-platform Hooks").

use ctr_common::{Error, Result};
use ctr_oci::types::Hook;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The state passed to hooks on stdin (state-schema.json).
pub fn state_json(id: &str, pid: i32, status: &str, bundle: &str, annotations: &std::collections::BTreeMap<String, String>) -> String {
    let mut v = serde_json::json!({ "ociVersion": ctr_oci::OCI_VERSION, "id": id, "status": status, "bundle": bundle });
    if pid > 0 {
        v["pid"] = pid.into();
    }
    if !annotations.is_empty() {
        v["annotations"] = serde_json::to_value(annotations).unwrap_or_default();
    }
    v.to_string()
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
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io("ERUNTIME_HOOK", "execve", &e, format!("{field}: run {}", h.path)).with_path(&h.path))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(state.as_bytes()); // a hook may not read it
    }
    // Drain both outputs so a chatty hook never blocks on a full pipe.
    // (A hook's background children may keep the pipes open: never block on them.)
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = String::new();
            if let Some(mut r) = r {
                use std::io::Read;
                let _ = r.read_to_string(&mut buf);
            }
            let _ = tx.send(buf);
        });
        rx
    };
    let out_t = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let err_t = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let deadline = h.timeout.map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        if let Some(st) = child.try_wait().map_err(|e| Error::io("ERUNTIME_HOOK", "waitid", &e, format!("{field}: wait")))? {
            drop(out_t);
            let err = err_t.recv_timeout(Duration::from_millis(200)).unwrap_or_default();
            if st.success() {
                return Ok(());
            }
            let err = err.trim();
            let detail = if err.is_empty() { String::new() } else { format!(": {err}") };
            return Err(Error::new("ERUNTIME_HOOK", format!("{field}: {} failed ({st}){detail}", h.path)).with_field(field));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            // (grandchildren may still hold the pipes: do not wait for the drains)
            return Err(Error::new("ERUNTIME_HOOK", format!("{field}: {} timed out after {} s", h.path, h.timeout.unwrap_or(0)))
                .with_field(field)
                .with_errno(libc::ETIMEDOUT));
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
