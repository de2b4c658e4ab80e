//! Root-only: the pure-v1 code path on this host, by hiding the cgroup2
//! hierarchy from the layout (`Cgroup::create_on`). Proves what a legacy
//! host relies on: eventfd OOM events, emptiness by checking cgroup.procs,
//! killAll by freeze/kill/thaw, delete in every v1 hierarchy.
use ctr_cgroup::events::Watcher;
use ctr_cgroup::resources::parse;
use ctr_cgroup::{Cgroup, Mode, Options};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Collect event kinds on a thread; wait for one kind.
struct Collector(std::sync::mpsc::Receiver<String>, Vec<String>);

impl Collector {
    fn start(w: &Arc<Watcher>) -> Collector {
        let w = w.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Ok(Some(ev)) = w.next() {
                for e in ev {
                    let _ = tx.send(e.kind);
                }
            }
        });
        Collector(rx, vec![])
    }

    fn wait_for(&mut self, kind: &str, ms: u64) -> bool {
        let end = std::time::Instant::now() + Duration::from_millis(ms);
        while !self.1.iter().any(|k| k == kind) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.0.recv_timeout(left) {
                Ok(k) => self.1.push(k),
                Err(_) => return false,
            }
        }
        true
    }
}

#[test]
fn legacy_path_on_this_host() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return;
    }
    let mut layout = ctr_cgroup::detect().unwrap();
    if !layout
        .hierarchies
        .iter()
        .any(|h| h.version == 1 && h.controllers.iter().any(|c| c == "memory"))
    {
        eprintln!("skipped: no v1 memory hierarchy");
        return;
    }
    layout.hierarchies.retain(|h| h.version == 1);
    layout.mode = Mode::Legacy;
    let path = format!("/ctrtest-cgroup-rs-legacy-{}", std::process::id());
    let r = parse(&serde_json::json!({ "memory": { "limit": 5000000, "swap": 5000000 } })).unwrap();
    let cg = Cgroup::create_on(&layout, &path, &r, &Options::default()).unwrap();
    let dirs = cg.dirs();
    assert!(dirs
        .iter()
        .all(|d| !d.starts_with("/sys/fs/cgroup/unified")));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_eq!(
            cg.read_file("memory.limit_in_bytes").unwrap().trim(),
            "4997120"
        );
        let w = Arc::new(Watcher::new(&cg.manager().events()).unwrap());
        let mut ev = Collector::start(&w);
        // OOM through the eventfd
        let mut child = Command::new("sh")
            .args([
                "-c",
                "read _ && exec dd if=/dev/zero of=/dev/null bs=50M count=1",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        cg.add_process(child.id() as i32).unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let st = child.wait().unwrap();
        assert_eq!(st.signal(), Some(libc::SIGKILL));
        assert!(ev.wait_for("oom", 3000), "{:?}", ev.1);
        assert!(ev.wait_for("oom_kill", 3000), "{:?}", ev.1);
        assert_eq!(cg.stats().unwrap().memory.oom_kill, Some(1));
        // populated again, then killAll without cgroup.kill
        // drain first: the short dd phase may or may not have shown populated/empty
        std::thread::sleep(Duration::from_millis(1200));
        while ev.0.try_recv().is_ok() {}
        ev.1.clear();
        let mut a = Command::new("sleep").arg("100").spawn().unwrap();
        let mut b = Command::new("sleep").arg("100").spawn().unwrap();
        cg.add_process(a.id() as i32).unwrap();
        cg.add_process(b.id() as i32).unwrap();
        assert!(ev.wait_for("populated", 3000), "{:?}", ev.1);
        cg.kill_all(libc::SIGKILL).unwrap();
        assert!(cg.pids().unwrap().is_empty());
        assert_eq!(a.wait().unwrap().signal(), Some(libc::SIGKILL));
        assert_eq!(b.wait().unwrap().signal(), Some(libc::SIGKILL));
        assert!(ev.wait_for("empty", 3000), "{:?}", ev.1);
        w.close();
    }));
    cg.delete(true).unwrap();
    for d in &dirs {
        assert!(!d.exists(), "{} left", d.display());
    }
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
