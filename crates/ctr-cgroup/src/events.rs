//! Cgroup events without polling where the kernel notifies:
//!
//! * cgroup2 (unified hosts, and the matching cgroup2 directory on hybrid
//!   hosts): inotify on `cgroup.events` (populated, frozen) and
//!   `memory.events` (oom, oom_kill, high, max).
//! * v1 memory: an eventfd registered on `memory.oom_control` through
//!   `cgroup.event_control`; on wake-up `oom_kill` is re-read.
//! * pure v1 has no emptiness notification without a release agent, so
//!   there (only) `cgroup.procs` is checked twice a second.
//!
//! [`Watcher::next`] blocks (call it off the main thread); [`Watcher::close`]
//! wakes it up to return `None`.

use crate::fsx::{keyed, read_opt};
use crate::manager::{subtree_pids, EventSpec};
use crate::Code;
use ctr_common::Error;
use serde::Serialize;
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Mutex;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// `oom`, `oom_kill`, `populated`, `empty`, `frozen`, `thawed`, `high`, `max`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For counters: how many happened since the last event (>= 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The counter's total so far, for counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Default)]
struct State {
    populated: Option<bool>,
    frozen: Option<bool>,
    counters: BTreeMap<String, u64>,
    v1_oom_kill: u64,
    v1_alive: bool,
    /// After a v1 OOM notification: re-read `oom_kill` until then (the
    /// kernel notifies before the killer has picked its victim).
    recheck_until: Option<std::time::Instant>,
}

/// Watches one cgroup.
pub struct Watcher {
    spec: EventSpec,
    inotify: Option<OwnedFd>,
    oom_efd: Option<OwnedFd>,
    _oom_control: Option<std::fs::File>,
    stop: OwnedFd,
    state: Mutex<State>,
}

fn eventfd() -> Result<OwnedFd, Error> {
    // SAFETY: plain syscall; the fd is owned below.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(Error::last_os(Code::Events, "eventfd", "create eventfd"));
    }
    // SAFETY: fd is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn drain(fd: &OwnedFd) -> u64 {
    let mut total = 0u64;
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return total;
        }
        if n == 8 {
            total += u64::from_ne_bytes(buf[..8].try_into().unwrap());
        }
    }
}

const V2_COUNTERS: &[&str] = &["oom", "oom_kill", "high", "max"];

impl Watcher {
    /// Start watching what `spec` names.
    pub fn new(spec: &EventSpec) -> Result<Watcher, Error> {
        let stop = eventfd()?;
        let mut inotify = None;
        if let Some(dir) = &spec.v2_dir {
            // SAFETY: plain syscall.
            let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
            if fd < 0 {
                return Err(Error::last_os(
                    Code::Events,
                    "inotify_init1",
                    "create inotify",
                ));
            }
            // SAFETY: fd is new and ours.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            for f in ["cgroup.events", "memory.events"] {
                let p = dir.join(f);
                if !p.exists() {
                    continue;
                }
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: c is a valid C string.
                if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) }
                    < 0
                {
                    return Err(Error::last_os(
                        Code::Events,
                        "inotify_add_watch",
                        format!("watch {}", p.display()),
                    )
                    .with_path(&p));
                }
            }
            inotify = Some(fd);
        }
        let (mut oom_efd, mut oom_control) = (None, None);
        if let Some(dir) = &spec.v1_memory {
            let p = dir.join("memory.oom_control");
            let f = std::fs::File::open(&p).map_err(|e| {
                Error::io(Code::Events, "open", &e, format!("open {}", p.display())).with_path(&p)
            })?;
            let efd = eventfd()?;
            crate::fsx::write(
                dir,
                "cgroup.event_control",
                &format!("{} {}", efd.as_raw_fd(), f.as_raw_fd()),
            )
            .map_err(|e| Error {
                code: Code::Events.into(),
                ..e
            })?;
            oom_efd = Some(efd);
            oom_control = Some(f);
        }
        let w = Watcher {
            spec: spec.clone(),
            inotify,
            oom_efd,
            _oom_control: oom_control,
            stop,
            state: Mutex::new(State::default()),
        };
        {
            let mut st = w.state.lock().unwrap();
            st.v1_alive = w.oom_efd.is_some();
            let _ = w.collect_v2(&mut st);
            st.v1_oom_kill = w.v1_oom_kill().unwrap_or(0);
            if !w.spec.poll_empty.is_empty() {
                st.populated = Some(!subtree_pids(&w.spec.poll_empty).is_empty());
            }
        }
        Ok(w)
    }

    fn v1_oom_kill(&self) -> Option<u64> {
        let t = read_opt(self.spec.v1_memory.as_ref()?, "memory.oom_control")?;
        keyed(&t, "oom_kill")
    }

    /// Re-read the v2 files; the events that changed.
    fn collect_v2(&self, st: &mut State) -> Vec<Event> {
        let mut out = Vec::new();
        let Some(dir) = &self.spec.v2_dir else {
            return out;
        };
        if let Some(t) = read_opt(dir, "cgroup.events") {
            if let Some(p) = keyed(&t, "populated").map(|v| v == 1) {
                if st.populated.is_some_and(|old| old != p) {
                    out.push(Event {
                        kind: if p { "populated" } else { "empty" }.into(),
                        count: None,
                        total: None,
                    });
                }
                st.populated = Some(p);
            }
            if let Some(f) = keyed(&t, "frozen").map(|v| v == 1) {
                if st.frozen.is_some_and(|old| old != f) {
                    out.push(Event {
                        kind: if f { "frozen" } else { "thawed" }.into(),
                        count: None,
                        total: None,
                    });
                }
                st.frozen = Some(f);
            }
        }
        if let Some(t) = read_opt(dir, "memory.events") {
            let first = st.counters.is_empty();
            for k in V2_COUNTERS {
                let Some(v) = keyed(&t, k) else { continue };
                let old = st.counters.insert(k.to_string(), v).unwrap_or(0);
                if !first && v > old {
                    out.push(Event {
                        kind: k.to_string(),
                        count: Some(v - old),
                        total: Some(v),
                    });
                }
            }
        }
        out
    }

    /// Wait for the next events. `None` once closed.
    pub fn next(&self) -> Result<Option<Vec<Event>>, Error> {
        loop {
            let mut fds = vec![libc::pollfd {
                fd: self.stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            if let Some(i) = &self.inotify {
                fds.push(libc::pollfd {
                    fd: i.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let v1_alive = self.state.lock().unwrap().v1_alive;
            if let (Some(e), true) = (&self.oom_efd, v1_alive) {
                fds.push(libc::pollfd {
                    fd: e.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let recheck = self.state.lock().unwrap().recheck_until;
            let timeout = match recheck {
                Some(_) => 20,
                None if self.spec.poll_empty.is_empty() => -1,
                None => 500,
            };
            // SAFETY: fds is a valid array of pollfd.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n < 0 {
                let errno = std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO);
                if errno == libc::EINTR {
                    continue;
                }
                return Err(Error::sys(
                    Code::Events,
                    "poll",
                    errno,
                    "wait for cgroup events",
                ));
            }
            if fds[0].revents != 0 {
                return Ok(None);
            }
            let mut st = self.state.lock().unwrap();
            let mut out = Vec::new();
            if let Some(i) = &self.inotify {
                drain(i);
                out.extend(self.collect_v2(&mut st));
            }
            if let Some(e) = &self.oom_efd {
                if st.v1_alive && drain(e) > 0 {
                    let alive = self.spec.v1_memory.as_ref().is_some_and(|d| d.is_dir());
                    if !alive {
                        // The kernel signals the eventfd when the cgroup goes away.
                        st.v1_alive = false;
                    } else {
                        out.push(Event {
                            kind: "oom".into(),
                            count: Some(1),
                            total: None,
                        });
                        st.recheck_until =
                            Some(std::time::Instant::now() + std::time::Duration::from_secs(2));
                    }
                }
            }
            if let Some(until) = st.recheck_until {
                let k = self.v1_oom_kill().unwrap_or(st.v1_oom_kill);
                if k > st.v1_oom_kill {
                    out.push(Event {
                        kind: "oom_kill".into(),
                        count: Some(k - st.v1_oom_kill),
                        total: Some(k),
                    });
                    st.v1_oom_kill = k;
                    st.recheck_until = None;
                } else if std::time::Instant::now() > until {
                    st.recheck_until = None;
                }
            }
            if !self.spec.poll_empty.is_empty() {
                // v1 oom kills can be recorded just after the eventfd fired.
                if let Some(k) = self.v1_oom_kill() {
                    if k > st.v1_oom_kill {
                        out.push(Event {
                            kind: "oom_kill".into(),
                            count: Some(k - st.v1_oom_kill),
                            total: Some(k),
                        });
                        st.v1_oom_kill = k;
                    }
                }
                let p = !subtree_pids(&self.spec.poll_empty).is_empty();
                if st.populated.is_some_and(|old| old != p) {
                    out.push(Event {
                        kind: if p { "populated" } else { "empty" }.into(),
                        count: None,
                        total: None,
                    });
                }
                st.populated = Some(p);
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }

    /// Make a pending and every later [`Watcher::next`] return `None`.
    pub fn close(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64.
        unsafe { libc::write(self.stop.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// The directories watched (for diagnostics).
    pub fn watched(&self) -> Vec<PathBuf> {
        self.spec
            .v2_dir
            .iter()
            .chain(self.spec.v1_memory.iter())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_fixture_events_via_inotify() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        std::fs::write(
            d.path().join("memory.events"),
            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        )
        .unwrap();
        let w = std::sync::Arc::new(
            Watcher::new(&EventSpec {
                v2_dir: Some(d.path().into()),
                ..Default::default()
            })
            .unwrap(),
        );
        std::fs::write(
            d.path().join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        let ev = w.next().unwrap().unwrap();
        let kinds: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, vec!["oom", "oom_kill", "max"]);
        assert_eq!(ev[1].total, Some(1));
        std::fs::write(d.path().join("cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        assert_eq!(w.next().unwrap().unwrap()[0].kind, "empty");
        let w2 = w.clone();
        let t = std::thread::spawn(move || w2.next().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        w.close();
        assert_eq!(t.join().unwrap(), None);
    }
}
