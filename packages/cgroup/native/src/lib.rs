//! Node-API binding of `ctr-cgroup`. No logic here: argument conversion and
//! async plumbing only (blocking cgroupfs work runs on tokio's blocking pool).
#![deny(clippy::all)]

use ctr_cgroup::events::Watcher;
use ctr_cgroup::{Backend, Cgroup, Layout, Options, RelativePaths};
use ctr_common::{catch_panic, Error};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use std::sync::{Arc, Mutex, OnceLock};

/// One mounted cgroup hierarchy.
#[napi(object)]
pub struct NativeHierarchy {
    /// 1 or 2.
    pub version: u32,
    /// Mount point.
    pub mount_point: String,
    /// Controllers in it.
    pub controllers: Vec<String>,
    /// The caller's own cgroup path in it.
    pub own_path: String,
    /// v2: the caller's own cgroup is delegated to its (non-root) uid.
    pub delegated: bool,
}

/// The host's cgroup layout.
#[napi(object)]
pub struct NativeLayout {
    /// "legacy", "hybrid" or "unified".
    pub mode: String,
    /// Mounted hierarchies.
    pub hierarchies: Vec<NativeHierarchy>,
    /// In a cgroup namespace other than pid 1's (None: unknown).
    pub cgroup_namespace: Option<bool>,
}

/// Detect the host's cgroup layout.
#[napi]
pub fn detect() -> napi::Result<NativeLayout> {
    let l = catch_panic(ctr_cgroup::detect)?;
    Ok(NativeLayout {
        mode: match l.mode {
            ctr_cgroup::Mode::Legacy => "legacy",
            ctr_cgroup::Mode::Hybrid => "hybrid",
            ctr_cgroup::Mode::Unified => "unified",
        }
        .to_string(),
        hierarchies: l
            .hierarchies
            .into_iter()
            .map(|h| NativeHierarchy {
                version: h.version as u32,
                mount_point: h.mount_point,
                controllers: h.controllers,
                own_path: h.own_path,
                delegated: h.delegated,
            })
            .collect(),
        cgroup_namespace: l.cgroup_namespace,
    })
}

/// The layout, detected once per process (the back end is picked once).
fn layout() -> Result<&'static Layout, Error> {
    static L: OnceLock<Layout> = OnceLock::new();
    if let Some(l) = L.get() {
        return Ok(l);
    }
    let l = ctr_cgroup::detect()?;
    Ok(L.get_or_init(|| l))
}

/// Back end options.
#[napi(object)]
pub struct NativeOptions {
    /// "auto", "v1", "v2" or "systemd".
    pub backend: Option<String>,
    /// Only these controllers.
    pub controllers: Option<Vec<String>>,
    /// "own-cgroup": read a relative path under the caller's cgroup (else refused).
    pub relative_to: Option<String>,
}

fn to_options(o: Option<NativeOptions>) -> Result<Options, Error> {
    let Some(o) = o else {
        return Ok(Options::default());
    };
    let backend = match o.backend.as_deref() {
        None | Some("auto") => Backend::Auto,
        Some("v1") => Backend::V1,
        Some("v2") => Backend::V2,
        Some("systemd") => Backend::Systemd,
        Some(b) => {
            return Err(Error::new(
                ctr_cgroup::Code::InvalidOption,
                format!("invalid backend {b:?} (auto, v1, v2 or systemd)"),
            )
            .with_field("backend"))
        }
    };
    let relative = match o.relative_to.as_deref() {
        None => RelativePaths::Refuse,
        Some("own-cgroup") => RelativePaths::UnderOwnCgroup,
        Some(r) => {
            return Err(Error::new(
                ctr_cgroup::Code::InvalidOption,
                format!("invalid relativeTo {r:?} (own-cgroup, or leave it out)"),
            )
            .with_field("relativeTo"))
        }
    };
    Ok(Options {
        backend,
        controllers: o.controllers,
        relative,
    })
}

use ctr_napi::blocking_js as blocking;

/// A cgroup.
#[napi]
pub struct NativeCgroup {
    inner: Arc<Cgroup>,
}

/// Create a cgroup and apply resources (OCI `linux.resources` or friendly JSON).
#[napi(ts_return_type = "Promise<NativeCgroup>")]
pub fn create<'e>(
    env: &'e Env,
    path: String,
    resources: serde_json::Value,
    options: Option<NativeOptions>,
) -> napi::Result<PromiseRaw<'e, NativeCgroup>> {
    let opts = to_options(options)?;
    env.spawn_future(async move {
        let cg = blocking(move || {
            let r = ctr_cgroup::resources::parse(&resources)?;
            Cgroup::create_on(layout()?, &path, &r, &opts)
        })
        .await?;
        Ok(NativeCgroup {
            inner: Arc::new(cg),
        })
    })
}

/// Open an existing cgroup.
#[napi(ts_return_type = "Promise<NativeCgroup>")]
pub fn open<'e>(
    env: &'e Env,
    path: String,
    options: Option<NativeOptions>,
) -> napi::Result<PromiseRaw<'e, NativeCgroup>> {
    let opts = to_options(options)?;
    env.spawn_future(async move {
        let cg = blocking(move || Cgroup::open_on(layout()?, &path, &opts)).await?;
        Ok(NativeCgroup {
            inner: Arc::new(cg),
        })
    })
}

/// Check a resources object without touching the kernel.
#[napi]
pub fn validate_resources(resources: serde_json::Value) -> napi::Result<()> {
    catch_panic(|| ctr_cgroup::resources::parse(&resources).map(|_| ()))?;
    Ok(())
}

/// Parse a size such as '5m' (-1 for max).
#[napi]
pub fn parse_size(text: String, field: String) -> napi::Result<i64> {
    Ok(ctr_cgroup::units::parse_size(&text, &field)?)
}

#[napi]
impl NativeCgroup {
    /// The path given.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.inner.path().to_string()
    }

    /// 1 or 2.
    #[napi(getter)]
    pub fn version(&self) -> u32 {
        self.inner.version() as u32
    }

    /// The systemd unit (systemd back end), e.g. `ctr-abc.scope`.
    #[napi(getter)]
    pub fn systemd_unit(&self) -> Option<String> {
        self.inner.systemd_unit().map(String::from)
    }

    /// The directories, one per hierarchy.
    #[napi(getter)]
    pub fn dirs(&self) -> Vec<String> {
        self.inner
            .dirs()
            .into_iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect()
    }

    /// Apply more limits.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn update<'e>(
        &self,
        env: &'e Env,
        resources: serde_json::Value,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move {
            blocking(move || cg.update(&ctr_cgroup::resources::parse(&resources)?)).await
        })
    }

    /// Move a process (thread = false) or one thread in.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn add<'e>(
        &self,
        env: &'e Env,
        pid: i32,
        thread: bool,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move {
            blocking(move || {
                if thread {
                    cg.add_thread(pid)
                } else {
                    cg.add_process(pid)
                }
            })
            .await
        })
    }

    /// Pids in the group.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn pids<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Vec<i32>>> {
        let cg = self.inner.clone();
        env.spawn_future(async move { blocking(move || cg.pids()).await })
    }

    /// Freeze (true) or thaw.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_frozen<'e>(&self, env: &'e Env, frozen: bool) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move {
            blocking(move || if frozen { cg.freeze() } else { cg.thaw() }).await
        })
    }

    /// Signal every process.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn kill_all<'e>(&self, env: &'e Env, signal: i32) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move { blocking(move || cg.kill_all(signal)).await })
    }

    /// Remove from every hierarchy.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'e>(&self, env: &'e Env, kill: bool) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move { blocking(move || cg.delete(kill)).await })
    }

    /// Statistics as JSON text (read off the main thread).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn stats<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, String>> {
        let cg = self.inner.clone();
        env.spawn_future(async move {
            blocking(move || {
                serde_json::to_string(&cg.stats()?)
                    .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))
            })
            .await
        })
    }

    /// Statistics as JSON text, synchronously (a few small cgroupfs reads;
    /// JSON.parse builds the object faster than property-by-property napi calls).
    #[napi]
    pub fn stats_json(&self) -> napi::Result<String> {
        let s = catch_panic(|| self.inner.stats())?;
        Ok(serde_json::to_string(&s)
            .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string()))?)
    }

    /// Read a raw file.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn read_file<'e>(
        &self,
        env: &'e Env,
        file: String,
    ) -> napi::Result<PromiseRaw<'e, String>> {
        let cg = self.inner.clone();
        env.spawn_future(async move { blocking(move || cg.read_file(&file)).await })
    }

    /// Write a raw file.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write_file<'e>(
        &self,
        env: &'e Env,
        file: String,
        value: String,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let cg = self.inner.clone();
        env.spawn_future(async move { blocking(move || cg.write_file(&file, &value)).await })
    }

    /// Start watching for events.
    #[napi]
    pub fn watch(&self) -> napi::Result<NativeWatcher> {
        let w = catch_panic(|| Watcher::new(&self.inner.manager().events()))?;
        Ok(NativeWatcher {
            inner: Mutex::new(Some(Arc::new(w))),
        })
    }
}

/// A cgroup event watcher. Its fds are released on close (once a pending
/// next() returns), not when the GC gets to this object.
#[napi]
pub struct NativeWatcher {
    inner: Mutex<Option<Arc<Watcher>>>,
}

#[napi]
impl NativeWatcher {
    /// The next batch of events, or null once closed.
    #[napi(
        ts_return_type = "Promise<Array<{ type: string; count?: number; total?: number }> | null>"
    )]
    pub fn next<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, serde_json::Value>> {
        let w = self.inner.lock().unwrap().clone();
        env.spawn_future(async move {
            let Some(w) = w else {
                return Ok(serde_json::Value::Null);
            };
            blocking(move || match w.next()? {
                Some(ev) => serde_json::to_value(ev)
                    .map_err(|e| Error::new(ctr_common::Code::Internal, e.to_string())),
                None => Ok(serde_json::Value::Null),
            })
            .await
        })
    }

    /// Stop: a pending next() resolves with null.
    #[napi]
    pub fn close(&self) {
        if let Some(w) = self.inner.lock().unwrap().take() {
            w.close();
        }
    }
}
