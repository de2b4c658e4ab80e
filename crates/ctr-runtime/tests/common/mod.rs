//! What the integration tests of ctr-runtime share: the busybox rootfs,
//! the root check, process and cgroup leftover probes, JSON merging.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

/// The busybox rootfs made by scripts/make-rootfs.sh.
pub fn rootfs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/rootfs/busybox")
        .canonicalize()
        .unwrap_or_default()
}

/// Whether the tests can run here (root, the rootfs); prints the stated skip if not.
pub fn ready() -> bool {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return false;
    }
    if !rootfs().join("bin/busybox").exists() {
        eprintln!("skipped: no busybox rootfs (run scripts/make-rootfs.sh)");
        return false;
    }
    true
}

/// Live processes whose command line contains `s`.
pub fn procs_mentioning(s: &str) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.parse::<i32>().is_err() || stat_state(name.parse().unwrap()) == Some('Z') {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(s) {
                out.push(format!("{name}: {cmd}"));
            }
        }
    }
    out
}

/// Merge JSON `b` into `a` (objects key by key, anything else replaced).
pub fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

/// The state letter of `/proc/PID/stat`.
pub fn stat_state(pid: i64) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].chars().next()
}

/// Wait (up to 5 s) until `pid` is gone or a zombie.
pub fn wait_gone(pid: i64) -> bool {
    for _ in 0..500 {
        match stat_state(pid) {
            None | Some('Z') => return true,
            _ => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
    false
}

/// Every hierarchy's directory for the cgroup `path` (v1 controllers and the v2 mount).
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    for line in std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
    {
        let f: Vec<&str> = line.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-").unwrap();
        if f[sep + 1] == "cgroup" || f[sep + 1] == "cgroup2" {
            out.push(PathBuf::from(f[4]).join(path.trim_start_matches('/')));
        }
    }
    out
}

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Numbers for ids, bundles and output files, unique in the test binary.
pub static N: AtomicUsize = AtomicUsize::new(0);

/// One test's world: a temp dir holding the state root, bundles and the
/// output files of every `ctrun` call; the ids it handed out (force-deleted
/// on drop, so a failed test leaves nothing) and the init pids it saw.
pub struct Env {
    /// The temp dir (`<prefix>-XXXX`).
    pub dir: tempfile::TempDir,
    prefix: String,
    ids: std::sync::Mutex<Vec<String>>,
    pids: std::sync::Mutex<Vec<i64>>,
}

impl Env {
    /// A new world; ids are `<prefix>-<pid>-<n>`.
    pub fn new(prefix: &str) -> Env {
        Env {
            dir: tempfile::Builder::new()
                .prefix(&format!("{prefix}-"))
                .tempdir()
                .unwrap(),
            prefix: prefix.into(),
            ids: Default::default(),
            pids: Default::default(),
        }
    }
    /// The `--root` of every call.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    /// A fresh container id, remembered for the cleanup.
    pub fn id(&self) -> String {
        let id = format!(
            "{}-{}-{}",
            self.prefix,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.ids.lock().unwrap().push(id.clone());
        id
    }
    /// A bundle whose config is the base (busybox, /proc, a /dev tmpfs, five
    /// new namespaces) with `patch` merged in.
    pub fn bundle(&self, args: &[&str], patch: serde_json::Value) -> PathBuf {
        let b = self
            .dir
            .path()
            .join(format!("bundle-{}", N.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&b).unwrap();
        let mut cfg = serde_json::json!({
            "ociVersion": "1.2.0",
            "root": { "path": rootfs() },
            "process": { "cwd": "/", "args": args, "env": ["PATH=/bin:/sbin", "HOME=/root"], "user": { "uid": 0, "gid": 0 } },
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] }
            ],
            "linux": { "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "network" }] }
        });
        merge(&mut cfg, patch);
        std::fs::write(
            b.join("config.json"),
            serde_json::to_vec_pretty(&cfg).unwrap(),
        )
        .unwrap();
        b
    }
    /// This world's compiled-filter cache (`$CTRUN_SECCOMP_CACHE` of its calls).
    pub fn seccomp_cache(&self) -> PathBuf {
        self.dir.path().join("seccomp-cache")
    }
    /// `ctrun --root <root> args...`, not started. Each world has its own
    /// seccomp cache, set on the command (never on this process: the tests
    /// of a binary share its environment and run in parallel).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ctrun"));
        c.env("CTRUN_SECCOMP_CACHE", self.seccomp_cache())
            .arg("--root")
            .arg(self.root())
            .args(args);
        c
    }
    /// Run ctrun with stdio on files: a created container holds the stdio of
    /// `ctrun create`, so pipes would never reach end of file.
    pub fn ctrun_in(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd(args);
        match stdin {
            Some(text) => {
                let p = self
                    .dir
                    .path()
                    .join(format!("in-{}", N.fetch_add(1, Ordering::SeqCst)));
                std::fs::write(&p, text).unwrap();
                c.stdin(std::fs::File::open(&p).unwrap());
            }
            None => {
                c.stdin(Stdio::null());
            }
        }
        let out = self
            .dir
            .path()
            .join(format!("out-{}", N.fetch_add(1, Ordering::SeqCst)));
        let err = self
            .dir
            .path()
            .join(format!("err-{}", N.fetch_add(1, Ordering::SeqCst)));
        c.stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        let status = c.status().unwrap();
        Output {
            status,
            stdout: std::fs::read(&out).unwrap(),
            stderr: std::fs::read(&err).unwrap(),
        }
    }
    /// [`Env::ctrun_in`] with stdin on /dev/null.
    pub fn ctrun(&self, args: &[&str]) -> Output {
        self.ctrun_in(args, None)
    }
    /// A call that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.ctrun(args);
        assert!(
            o.status.success(),
            "ctrun {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    /// `ctrun run -d` the bundle `b` under a fresh id: the id and the init's
    /// pid (remembered for the leftover check).
    pub fn run_detached(&self, b: &std::path::Path) -> (String, i64) {
        let id = self.id();
        self.ok(&["run", "-d", "-b", b.to_str().unwrap(), &id]);
        let pid = self.state(&id)["pid"].as_i64().unwrap();
        (id, pid)
    }
    /// `ctrun state`, parsed; the init pid is remembered for the leftover check.
    pub fn state(&self, id: &str) -> serde_json::Value {
        let o = self.ctrun(&["state", id]);
        assert!(
            o.status.success(),
            "state: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if let Some(pid) = v["pid"].as_i64().filter(|p| *p > 0) {
            self.pids.lock().unwrap().push(pid);
        }
        v
    }
    /// Nothing of ours left: state dirs, cgroups of our ids, processes
    /// running from our temp dir, the inits we saw; the shared rootfs got no
    /// /dev entries (devices go on the /dev tmpfs).
    pub fn assert_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(self.root())
            .map(|r| r.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "state dirs left: {left:?}");
        for id in self.ids.lock().unwrap().iter() {
            for d in cgroup_dirs(id) {
                assert!(!d.exists(), "cgroup left: {}", d.display());
            }
        }
        let me = self.dir.path().to_string_lossy().into_owned();
        let procs = procs_mentioning(&me);
        assert!(procs.is_empty(), "processes left: {procs:?}");
        for pid in self.pids.lock().unwrap().iter() {
            assert!(wait_gone(*pid), "container init {pid} left running");
        }
        let dev: Vec<_> = std::fs::read_dir(rootfs().join("dev"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            dev.is_empty(),
            "the shared rootfs got /dev entries: {dev:?}"
        );
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Clean up even when a test failed half way.
        for id in self.ids.lock().unwrap().iter() {
            let _ = self
                .cmd(&["delete", "--force", id])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
