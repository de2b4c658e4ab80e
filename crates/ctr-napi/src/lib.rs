//! What every ctr Node-API binding shares, so that each binding
//! (`packages/*/native`) is only argument conversion over its crate, as
//! oxc's napi crates are:
//!
//! * [`blocking`] / [`blocking_js`] / [`promise`]: run blocking Rust work on tokio's blocking
//!   pool, never on Node's main thread, with panics turned into coded
//!   errors (`EINTERNAL`); [`uv_promise`]: the same on libuv's thread pool
//!   (fewer thread wakeups for a short call);
//! * [`wait_child`] / [`wait_pidfd`]: wait for a process through its pidfd
//!   on the runtime's epoll (no thread blocked per wait);
//! * [`ExitInfo`]: the one shape of "how a process ended" every package
//!   returns;
//! * [`stdio_from_js`] / [`stdio_to_js`]: stdio as the TS layers hand it
//!   over (`-1` pipe, `-2` /dev/null, an fd) and back (raw fds, `-1`);
//! * [`Registry`] and [`children`]: the processes this Node process spawned
//!   and must reap, in one typed registry;
//! * error mapping: a [`ctr_common::Error`] becomes a JS `Error` whose
//!   message carries the error as JSON after [`ctr_common::JS_ERROR_PREFIX`];
//!   `@ctr/common`'s `withNativeErrors` turns it back into the package's
//!   error class with `code`, `path`, `errno` and `syscall`.
#![deny(missing_docs)]

use ctr_common::{catch_panic, Error, Result};
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::hash::Hash;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub use ctr_common::JS_ERROR_PREFIX;

/// Run `f` off Node's main thread (on tokio's worker, or its blocking pool); a panic in
/// `f` becomes an `EINTERNAL` error instead of unwinding into Node.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    // On a multi-thread runtime (napi-rs's), run `f` on this worker and let
    // tokio move the worker's other tasks elsewhere: no hand-off to a
    // blocking-pool thread and back (two wakeups per call, each of which may
    // wait for a CPU under load).
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        return tokio::task::block_in_place(move || catch_panic(f));
    }
    tokio::task::spawn_blocking(move || catch_panic(f))
        .await
        .map_err(|e| {
            Error::new(
                ctr_common::Code::Internal,
                format!("blocking task failed: {e}"),
            )
        })?
}

/// [`blocking`] for an `async` block handed to `Env::spawn_future`
/// (whose error type is `napi::Error`).
pub async fn blocking_js<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> napi::Result<T> {
    Ok(blocking(f).await?)
}

/// A promise of [`blocking`]`(f)`, for a `#[napi]` function to return.
pub fn promise<'e, T, F>(env: &'e Env, f: F) -> napi::Result<PromiseRaw<'e, T>>
where
    T: ToNapiValue + Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    env.spawn_future(async move { Ok(blocking(f).await?) })
}

/// Whether [`uv_promise`] uses libuv's thread pool (the default) or, with
/// `CTR_NAPI_POOL=tokio` in the environment, [`promise`]'s tokio worker
/// (read once; for comparing the two).
fn uv_pool() -> bool {
    static UV: OnceLock<bool> = OnceLock::new();
    *UV.get_or_init(|| std::env::var("CTR_NAPI_POOL").map_or(true, |v| v != "tokio"))
}

/// How many of libuv's pool threads [`uv_promise`] may hold at once: half
/// of the pool (`UV_THREADPOOL_SIZE`, 4 by default), so Node's own `fs`,
/// `dns` and `zlib` work always has threads left, even while our calls wait
/// (a hook runs up to its timeout inside create or start).
fn uv_share() -> usize {
    static SHARE: OnceLock<usize> = OnceLock::new();
    *SHARE.get_or_init(|| {
        let size = std::env::var("UV_THREADPOOL_SIZE")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(4);
        (size / 2).max(1)
    })
}

/// Calls of [`uv_promise`] queued or running on libuv's pool.
static UV_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One blocking call as napi async work: `compute` runs on a libuv
/// thread-pool thread, the promise settles on the main thread.
struct UvWork<T> {
    f: Option<Box<dyn FnOnce() -> Result<T> + Send>>,
}

impl<T> napi::Task for UvWork<T>
where
    T: ToNapiValue + napi::bindgen_prelude::TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<T> {
        let f = self
            .f
            .take()
            .ok_or_else(|| napi::Error::from_reason("native work ran twice"))?;
        let r = catch_panic(f);
        UV_IN_FLIGHT.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        Ok(r?)
    }

    fn resolve(&mut self, _env: Env, out: T) -> napi::Result<T> {
        Ok(out)
    }
}

/// A promise of `f()` run on libuv's thread pool (napi async work), a
/// panic turned into `EINTERNAL` as in [`blocking`]. For short calls made
/// once or twice per container (start, delete): the main thread queues the
/// work and libuv's thread wakes it once when done, where [`promise`]'s
/// tokio hand-offs wake three or four threads per call (the worker, the
/// thread `block_in_place` hands the worker's core to, and the ones tokio
/// wakes to look for work). libuv's pool has 4 threads by default
/// (`UV_THREADPOOL_SIZE`), shared with Node's `fs`: keep long or
/// unbounded waits off it.
pub fn uv_promise<'e, T, F>(env: &'e Env, f: F) -> napi::Result<PromiseRaw<'e, T>>
where
    T: ToNapiValue + napi::bindgen_prelude::TypeName + Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    use std::sync::atomic::Ordering;
    let share = uv_share();
    let taken = uv_pool()
        && UV_IN_FLIGHT
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < share).then_some(n + 1)
            })
            .is_ok();
    if !taken {
        return promise(env, f);
    }
    match env.spawn(UvWork {
        f: Some(Box::new(f)),
    }) {
        Ok(work) => Ok(work.promise_object()),
        Err(e) => {
            UV_IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
            Err(e)
        }
    }
}

/// How a process ended. Both fields are null when the process was not a
/// child of this one (it ended, but its status went to its own parent).
#[napi(object)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitInfo {
    /// Exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Signal number, if it was killed by one.
    pub signal: Option<i32>,
}

impl From<ctr_ns::ExitStatus> for ExitInfo {
    fn from(st: ctr_ns::ExitStatus) -> Self {
        ExitInfo {
            exit_code: st.code,
            signal: st.signal,
        }
    }
}

/// Watch `pidfd` (moved in) on the runtime's epoll.
fn watch<C: Into<String> + Copy>(pidfd: OwnedFd, code: C) -> Result<AsyncFd<OwnedFd>> {
    // SAFETY: the OwnedFd moves into the AsyncFd, so it stays open and the
    // same fd for the AsyncFd's whole life.
    unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) }
        .map_err(|e| Error::io(code, "epoll_ctl", &e.into_parts().1, "watch pidfd"))
}

/// Resolves when the process behind `pidfd` has ended (the pidfd became
/// readable). Does not reap: for processes that are not our children.
pub async fn wait_pidfd<C: Into<String> + Copy>(pidfd: OwnedFd, code: C) -> Result<()> {
    let w = watch(pidfd, code)?;
    let _ready = w
        .readable()
        .await
        .map_err(|e| Error::io(code, "epoll_wait", &e, "wait for pidfd"))?;
    Ok(())
}

/// Resolves with how `child` ended, and reaps it. Errors carry `code`
/// (the binding's `*_WAIT` code).
pub async fn wait_child<C: Into<String> + Copy>(
    child: &ctr_ns::Child,
    code: C,
) -> Result<ExitInfo> {
    let dup = child
        .pidfd
        .try_clone()
        .map_err(|e| Error::io(code, "dup", &e, "duplicate pidfd"))?;
    let w = watch(dup, code)?;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(st.into());
        }
        let mut guard = w
            .readable()
            .await
            .map_err(|e| Error::io(code, "epoll_wait", &e, "wait for pidfd"))?;
        guard.clear_ready();
    }
}

/// Stdio as the TS layers pass it (`-1` a pipe, `-2` /dev/null, else an
/// fd of ours), three entries; errors carry `code` and name `field`.
pub fn stdio_from_js<C: Into<String> + Copy>(
    list: &[i32],
    code: C,
    field: &str,
) -> Result<[ctr_ns::Stdio; 3]> {
    if list.len() != 3 {
        return Err(Error::new(code, format!("{field} must have three entries")).with_field(field));
    }
    let mut stdio = [ctr_ns::Stdio::Null; 3];
    for (i, v) in list.iter().enumerate() {
        stdio[i] = match *v {
            -1 => ctr_ns::Stdio::Pipe,
            -2 => ctr_ns::Stdio::Null,
            fd if fd >= 0 => ctr_ns::Stdio::Fd(fd),
            _ => {
                return Err(Error::new(code, format!("invalid {field} entry"))
                    .with_field(format!("{field}[{i}]")))
            }
        };
    }
    Ok(stdio)
}

/// Take `child`'s parent ends of piped stdio as raw fds (`-1` where none);
/// the JS side owns them from now on.
pub fn stdio_to_js(child: &ctr_ns::Child) -> Vec<i32> {
    child
        .take_stdio()
        .into_iter()
        .map(|f| f.map(|f| f.into_raw_fd()).unwrap_or(-1))
        .collect()
}

/// A process-wide map of shared values, safe to reach from any thread.
pub struct Registry<K, V> {
    map: OnceLock<Mutex<HashMap<K, Arc<V>>>>,
}

impl<K: Eq + Hash, V> Registry<K, V> {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Self {
        Registry {
            map: OnceLock::new(),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<V>>> {
        // A panic while holding the lock leaves the map itself intact.
        self.map
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Keep `value` under `key` (replacing any earlier one).
    pub fn insert(&self, key: K, value: V) -> Arc<V> {
        let v = Arc::new(value);
        self.map().insert(key, v.clone());
        v
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.map().get(key).cloned()
    }

    /// Forget `key`, returning its value.
    pub fn remove(&self, key: &K) -> Option<Arc<V>> {
        self.map().remove(key)
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash, V> Default for Registry<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Which of our children a [`children`] entry is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChildKey {
    /// The init of a container we created, by state root and id.
    Init {
        /// The state root (`--root`).
        root: String,
        /// The container id.
        id: String,
    },
    /// A process we exec'd into a container, by host pid.
    Exec {
        /// Its host pid.
        pid: i32,
    },
}

/// The processes this Node process spawned and has not reaped yet (it is
/// their parent: only it learns their exit status).
pub fn children() -> &'static Registry<ChildKey, ctr_ns::Child> {
    static CHILDREN: Registry<ChildKey, ctr_ns::Child> = Registry::new();
    &CHILDREN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdio_entries_map_and_name_the_field() {
        let s = stdio_from_js(&[-1, -2, 5], "X", "stdio").unwrap();
        assert!(matches!(s[0], ctr_ns::Stdio::Pipe));
        assert!(matches!(s[1], ctr_ns::Stdio::Null));
        assert!(matches!(s[2], ctr_ns::Stdio::Fd(5)));
        let e = stdio_from_js(&[-1, -7, 0], "X", "stdio").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("stdio[1]"));
        let e = stdio_from_js(&[-1], "X", "stdio").unwrap_err();
        assert_eq!(e.path.as_deref(), Some("stdio"));
        assert_eq!(e.message, "stdio must have three entries");
    }

    #[test]
    fn registry_keeps_typed_keys_apart() {
        let r: Registry<ChildKey, u32> = Registry::new();
        let init = ChildKey::Init {
            root: "/run/x".into(),
            id: "a".into(),
        };
        r.insert(init.clone(), 1);
        r.insert(ChildKey::Exec { pid: 7 }, 2);
        assert_eq!(r.get(&init).as_deref(), Some(&1));
        assert_eq!(r.remove(&ChildKey::Exec { pid: 7 }).as_deref(), Some(&2));
        assert_eq!(r.len(), 1);
        assert!(r.get(&ChildKey::Exec { pid: 7 }).is_none());
    }

    #[test]
    fn blocking_turns_panics_into_coded_errors() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let e = rt
            .block_on(blocking(|| -> Result<()> { panic!("boom") }))
            .unwrap_err();
        assert_eq!(e.code, ctr_common::Code::Internal.as_str());
        assert!(e.message.contains("boom"));
        assert_eq!(rt.block_on(blocking(|| Ok(3))).unwrap(), 3);
    }

    #[test]
    fn wait_pidfd_resolves_when_a_process_ends() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        // a child of the test process: it exits at once; the pidfd turns
        // readable (the zombie is reaped by Command's wait below)
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id() as i32;
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            println!("skipped: pidfd_open is not available here");
            let _ = c.wait();
            return;
        }
        let pidfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        rt.block_on(wait_pidfd(pidfd, "X")).unwrap();
        assert!(c.wait().unwrap().success());
    }
}
