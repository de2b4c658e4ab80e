//! `process.terminal` with `ctrun`: the test plays the `--console-socket`
//! receiver (a unix socket server taking the pty master with SCM_RIGHTS,
//! as containerd and conmon do) and checks that a busybox `sh` in the
//! container is on a tty of the container's own devpts; `ctrun run`
//! without a console socket relays the pty itself; misuse is coded.
mod common;
use common::*;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

/// `sh -c script` on a devpts, with a terminal of 111x33 or without one.
fn console_bundle(env: &Env, script: &str, terminal: bool) -> PathBuf {
    let mut process = serde_json::json!({ "terminal": terminal });
    if terminal {
        process["consoleSize"] = serde_json::json!({ "height": 33, "width": 111 });
    }
    env.bundle(
        &["sh", "-c", script],
        serde_json::json!({
            "process": process,
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] }
            ]
        }),
    )
}

/// Everything the master gives until the container side is gone (EIO).
fn drain(master: OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match ctr_ns::console::read_master(master.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read master: {e}"),
        }
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

fn pty_masters() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path())
                .map(|l| l.to_string_lossy().ends_with("ptmx"))
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn console_socket_receives_the_master_of_a_shell_on_a_tty() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime-console");
    let sock = env.dir.path().join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    // The receiver: accept one connection, take the master (and the name).
    let receiver = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        ctr_ns::console::recv_fd(conn.as_raw_fd(), 0)
            .unwrap()
            .expect("a master fd")
    });
    let script = "read -r s < /proc/$$/stat; echo stat:$s; tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-tty; stty size; \
                  stat -c %t:%T /dev/console; read -r line; echo got:$line";
    let b = console_bundle(&env, script, true);
    let id = env.id();
    let o = env.ctrun(&[
        "create",
        "--console-socket",
        sock.to_str().unwrap(),
        "--bundle",
        b.to_str().unwrap(),
        &id,
    ]);
    assert!(
        o.status.success(),
        "create: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // runc's protocol: the master arrives during create, the pty name as payload.
    let (master, name) = receiver.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&name), "/dev/pts/0");
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGWINSZ, &mut size) },
        0
    );
    assert_eq!((size.ws_col, size.ws_row), (111, 33), "process.consoleSize");
    let o = env.ctrun(&["start", &id]);
    assert!(
        o.status.success(),
        "start: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::File::from(master.try_clone().unwrap())
        .write_all(b"typed-in\n")
        .unwrap();
    let out = drain(master);
    let lines: Vec<&str> = out.lines().collect();
    let stat = lines
        .iter()
        .find_map(|l| l.strip_prefix("stat:"))
        .unwrap_or_else(|| panic!("{out}"));
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    assert_eq!(f[3], "1", "sh (pid 1) leads its session: {stat}");
    assert_eq!(
        f[4],
        (136 << 8).to_string(),
        "its controlling terminal is pts 0: {stat}"
    );
    assert!(lines.contains(&"/dev/pts/0"), "{out}");
    assert!(lines.contains(&"on-tty"), "{out}");
    assert!(lines.contains(&"33 111"), "{out}");
    assert!(lines.contains(&"88:0"), "/dev/console is the pty: {out}");
    assert!(lines.contains(&"got:typed-in"), "{out}");
    for _ in 0..500 {
        let s = env.ctrun(&["state", &id]);
        if String::from_utf8_lossy(&s.stdout).contains("\"stopped\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(env.ctrun(&["delete", &id]).status.success());
    assert_eq!(pty_masters(), 0, "no pty master left in the test process");
    env.assert_clean();
}

#[test]
fn run_without_a_console_socket_relays_the_pty() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime-console");
    let b = console_bundle(&env, "tty; stty size; exit 3", true);
    let o = env.ctrun(&["run", "--bundle", b.to_str().unwrap(), &env.id()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Through the pty's line discipline: \r\n line ends.
    assert!(out.contains("/dev/pts/0\r\n"), "{out:?}");
    assert!(out.contains("33 111\r\n"), "{out:?}");
    env.assert_clean();
}

#[test]
fn console_misuse_is_coded_and_leaves_nothing() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-runtime-console");
    let tty = console_bundle(&env, "true", true);
    let plain = console_bundle(&env, "true", false);
    let sock = env.dir.path().join("console.sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // The master would have nowhere to go.
        (
            vec!["create", "-b", tty.to_str().unwrap()],
            "ERUNTIME_CONSOLE",
        ),
        (
            vec!["run", "-d", "-b", tty.to_str().unwrap()],
            "ERUNTIME_CONSOLE",
        ),
        // A console socket without a terminal.
        (
            vec![
                "create",
                "--console-socket",
                sock.to_str().unwrap(),
                "-b",
                plain.to_str().unwrap(),
            ],
            "ERUNTIME_CONSOLE",
        ),
        // Nobody listening there.
        (
            vec![
                "create",
                "--console-socket",
                "/nonexistent/ctrtest.sock",
                "-b",
                tty.to_str().unwrap(),
            ],
            "ERUNTIME_CONSOLE",
        ),
    ];
    for (args, code) in cases {
        let id = env.id();
        let mut all = args.clone();
        all.push(&id);
        let o = env.ctrun(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(code), "{args:?}: want {code}, got {err}");
    }
    env.assert_clean();
}
