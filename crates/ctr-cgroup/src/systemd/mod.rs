//! The systemd cgroup driver: a cgroup made as a transient scope unit
//! through systemd's D-Bus API, as runc (`--systemd-cgroup`,
//! `libcontainer/cgroups/systemd`) and crun (`cgroup-systemd.c`) do, so
//! that systemd, which owns the cgroup tree on most hosts, knows it.
//!
//! * [`unit`]: `slice:prefix:name` to the unit name and its cgroup.
//! * [`props`]: limits as unit properties (MemoryMax, CPUWeight, ...).
//! * [`Systemd`]: the D-Bus surface used (one trait, so tests use a fake);
//!   [`dbus::DbusSystemd`] is the real one.
//! * [`placeholder`]: the process that holds a new scope until the
//!   container's init is cloned into it.
//!
//! A scope is started with `Delegate=yes` and `DefaultDependencies=no`;
//! after its job finished, every limit is also written to the scope's
//! cgroup files (what systemd cannot express, and the exact values of what
//! it rounds), as runc does. Deleting stops the unit and resets it if it
//! failed (an OOM kill fails a scope), so nothing is left listed.
//! cgroup v2 (unified) hosts only.

pub mod dbus;
pub mod placeholder;
pub mod props;
pub mod unit;

use crate::detect::{Layout, Mode};
use crate::manager::V2Manager;
use crate::resources::Resources;
use crate::Code;
use ctr_common::Error;
use placeholder::Placeholder;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the driver asks of systemd (the `org.freedesktop.systemd1.Manager`
/// methods it calls). Each call blocks until systemd answered; starting and
/// stopping wait for the job to finish (its `JobRemoved` signal).
pub trait Systemd: Send + Sync {
    /// systemd's version number (`252` for "252.22-1~deb12u1").
    fn version(&self) -> Result<u32, Error>;
    /// StartTransientUnit(`name`, "fail", `props`) and wait for its job;
    /// `ECGROUP_EXISTS` when the unit exists.
    fn start_transient_unit(&self, name: &str, props: &[props::Property]) -> Result<(), Error>;
    /// StopUnit(`name`, "replace") and wait for its job; a unit systemd
    /// does not know is fine.
    fn stop_unit(&self, name: &str) -> Result<(), Error>;
    /// ResetFailedUnit(`name`); a unit systemd does not know is fine.
    fn reset_failed_unit(&self, name: &str) -> Result<(), Error>;
}

/// systemd over the system bus.
pub fn system_bus() -> Arc<dyn Systemd> {
    Arc::new(dbus::DbusSystemd::new())
}

/// The scope a [`crate::Cgroup`] stands for.
pub struct Scope {
    unit: String,
    bus: Arc<dyn Systemd>,
    placeholder: Mutex<Option<Placeholder>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("unit", &self.unit).finish()
    }
}

impl Scope {
    /// An existing scope (found by its path) to act on.
    pub fn opened(unit: String, bus: Arc<dyn Systemd>) -> Scope {
        Scope {
            unit,
            bus,
            placeholder: Mutex::new(None),
        }
    }

    /// The unit name, e.g. `ctr-abc.scope`.
    pub fn unit(&self) -> &str {
        &self.unit
    }

    /// Let the placeholder go once a real process is in the scope (an
    /// empty scope is stopped by systemd at once).
    pub fn release_placeholder(&self) {
        self.placeholder.lock().unwrap().take();
    }

    /// Stop the unit (its processes die) and clear a failed state: the
    /// unit is gone from `systemctl list-units` afterwards.
    pub fn remove(&self) -> Result<(), Error> {
        self.release_placeholder();
        remove_unit_with(self.bus.as_ref(), &self.unit)
    }
}

/// Stop `unit` and reset it if it failed; a unit systemd no longer knows
/// is fine (what `delete` does for a container whose scope is gone).
pub fn remove_unit_with(bus: &dyn Systemd, unit: &str) -> Result<(), Error> {
    bus.stop_unit(unit)?;
    bus.reset_failed_unit(unit)
}

/// [`remove_unit_with`] over the system bus.
pub fn remove_unit(unit: &str) -> Result<(), Error> {
    remove_unit_with(system_bus().as_ref(), unit)
}

/// The v2 back end for the scope of `path` (`slice:prefix:name`) on
/// `layout`, and its unit name. `field` names the path in errors.
pub fn manager_for(layout: &Layout, path: &str, field: &str) -> Result<(V2Manager, String), Error> {
    let u = unit::parse(path, field)?;
    let h = layout
        .hierarchies
        .iter()
        .find(|h| h.version == 2)
        .filter(|_| layout.mode == Mode::Unified)
        .ok_or_else(|| {
            Error::new(
                Code::Unsupported,
                "the systemd cgroup driver needs a cgroup v2 (unified) host: this one is not",
            )
            .with_field(field.to_string())
        })?;
    let root = PathBuf::from(&h.mount_point);
    let dir = PathBuf::from(format!(
        "{}{}",
        h.mount_point.trim_end_matches('/'),
        u.cgroup
    ));
    Ok((
        V2Manager {
            root,
            dir,
            controllers: None,
            hybrid: false,
        },
        u.unit,
    ))
}

/// Start the scope for `path` with `r` as unit properties and in its
/// files. Holds a placeholder process until [`Scope::release_placeholder`]
/// (the caller puts its own process in first). A failure stops the unit:
/// nothing is left.
pub fn start(
    bus: Arc<dyn Systemd>,
    layout: &Layout,
    path: &str,
    r: &Resources,
) -> Result<(Scope, V2Manager), Error> {
    let (mgr, unit) = manager_for(layout, path, "path")?;
    if mgr.dir.exists() {
        return Err(
            Error::new(Code::Exists, format!("cgroup {path} already exists"))
                .with_path(&mgr.dir)
                .with_errno(libc::EEXIST),
        );
    }
    let version = bus.version()?;
    let holder = Placeholder::spawn()?;
    let slice = unit::parse(path, "path")?.slice;
    let props = props::scope_properties(
        &format!("ctr container {unit}"),
        &slice,
        &[holder.pid() as u32],
        r,
        version,
    );
    match bus.start_transient_unit(&unit, &props) {
        Ok(()) => {}
        // A failed scope of that name (an OOM-killed one never deleted)
        // still counts as existing: reset it and try once more, as runc does.
        Err(e) if e.code == Code::Exists.as_str() => {
            bus.reset_failed_unit(&unit)?;
            bus.start_transient_unit(&unit, &props)?;
        }
        Err(e) => return Err(e),
    }
    let scope = Scope {
        unit,
        bus,
        placeholder: Mutex::new(Some(holder)),
    };
    let applied = if mgr.dir.is_dir() {
        crate::manager::Manager::apply(&mgr, r)
    } else {
        Err(Error::new(
            Code::Systemd,
            format!(
                "systemd started {} but its cgroup {} does not exist",
                scope.unit,
                mgr.dir.display()
            ),
        )
        .with_path(&mgr.dir))
    };
    if let Err(e) = applied {
        let _ = scope.remove();
        let _ = std::fs::remove_dir(&mgr.dir);
        return Err(e);
    }
    Ok((scope, mgr))
}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
mod tests {
    use super::fake::FakeSystemd;
    use super::props::Value;
    use crate::resources::parse;
    use crate::Cgroup;
    use crate::Code;
    use serde_json::json;
    use std::sync::Arc;

    fn fake() -> (tempfile::TempDir, Arc<FakeSystemd>) {
        let d = tempfile::tempdir().unwrap();
        let f = Arc::new(FakeSystemd::new(d.path()));
        (d, f)
    }

    #[test]
    fn create_starts_a_scope_and_writes_the_files_delete_stops_it() {
        let (d, f) = fake();
        let r = parse(&json!({ "memory": { "limit": 5242880 }, "pids": { "limit": 20 }, "cpu": { "weight": 50 } })).unwrap();
        let cg =
            Cgroup::create_scope_on(f.clone(), &f.layout(), "system.slice:ctr:t1", &r).unwrap();
        assert_eq!(cg.systemd_unit(), Some("ctr-t1.scope"));
        let dir = d.path().join("system.slice/ctr-t1.scope");
        assert_eq!(cg.dirs(), vec![dir.clone()]);
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.max")).unwrap(),
            "5242880"
        );
        assert_eq!(std::fs::read_to_string(dir.join("pids.max")).unwrap(), "20");
        let started = f.started.lock().unwrap().clone();
        let (name, props) = &started[0];
        assert_eq!(name, "ctr-t1.scope");
        let get = |n: &str| props.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("MemoryMax"), Some(Value::U64(5242880)));
        assert_eq!(get("TasksMax"), Some(Value::U64(20)));
        assert_eq!(get("Delegate"), Some(Value::Bool(true)));
        assert_eq!(get("Slice"), Some(Value::Str("system.slice".into())));
        // the placeholder holds the scope until a process is in it
        let Some(Value::U32s(pids)) = get("PIDs") else {
            panic!("no PIDs")
        };
        let holder = pids[0] as i32;
        assert_eq!(unsafe { libc::kill(holder, 0) }, 0);
        cg.release_placeholder();
        assert_ne!(unsafe { libc::kill(holder, 0) }, 0);
        cg.delete(true).unwrap();
        assert!(!dir.exists());
        assert_eq!(
            f.calls(),
            vec![
                "start ctr-t1.scope",
                "stop ctr-t1.scope",
                "reset-failed ctr-t1.scope"
            ]
        );
        assert!(f.units.lock().unwrap().is_empty());
    }

    #[test]
    fn open_finds_the_scope_and_delete_stops_it() {
        let (d, f) = fake();
        let cg = Cgroup::create_scope_on(
            f.clone(),
            &f.layout(),
            "machine-a.slice::t2",
            &Default::default(),
        )
        .unwrap();
        assert!(d
            .path()
            .join("machine.slice/machine-a.slice/t2.scope")
            .is_dir());
        let opened = Cgroup::open_scope_on(f.clone(), &f.layout(), "machine-a.slice::t2").unwrap();
        assert_eq!(opened.systemd_unit(), Some("t2.scope"));
        drop(cg); // the placeholder goes with the handle that made it
        opened.delete(true).unwrap();
        assert!(!d
            .path()
            .join("machine.slice/machine-a.slice/t2.scope")
            .exists());
        let e = Cgroup::open_scope_on(f.clone(), &f.layout(), "machine-a.slice::t2").unwrap_err();
        assert_eq!(e.code, Code::NotFound.as_str());
    }

    #[test]
    fn a_failed_unit_of_that_name_is_reset_and_started_again() {
        let (_d, f) = fake();
        f.fail_unit("ctr-t3.scope");
        let cg = Cgroup::create_scope_on(
            f.clone(),
            &f.layout(),
            "system.slice:ctr:t3",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(
            f.calls(),
            vec![
                "start ctr-t3.scope",
                "reset-failed ctr-t3.scope",
                "start ctr-t3.scope"
            ]
        );
        cg.delete(true).unwrap();
    }

    #[test]
    fn no_systemd_is_a_coded_error_naming_the_socket_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let f = Arc::new(FakeSystemd {
            unavailable: true,
            ..FakeSystemd::new(d.path())
        });
        let e = Cgroup::create_scope_on(
            f.clone(),
            &f.layout(),
            "system.slice:ctr:t4",
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::SystemdUnavailable.as_str());
        assert_eq!(e.path.as_deref(), Some("/run/dbus/system_bus_socket"));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_paths_and_layouts_are_refused_before_systemd_is_asked() {
        let (_d, f) = fake();
        let e =
            Cgroup::create_scope_on(f.clone(), &f.layout(), "/not/systemd", &Default::default())
                .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::InvalidPath.as_str(), Some("path"))
        );
        let mut hybrid = f.layout();
        hybrid.mode = crate::Mode::Hybrid;
        let e = Cgroup::create_scope_on(
            f.clone(),
            &hybrid,
            "system.slice:ctr:t5",
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
        assert!(f.calls().is_empty());
    }

    #[test]
    fn a_limit_the_files_refuse_stops_the_unit() {
        let (d, f) = fake();
        // no such interface file in the fake scope: the write fails
        let r = parse(&json!({ "unified": { "io.max": "8:0 rbps=1" } })).unwrap();
        let e =
            Cgroup::create_scope_on(f.clone(), &f.layout(), "system.slice:ctr:t6", &r).unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str(), "{e:?}");
        assert!(!d.path().join("system.slice/ctr-t6.scope").exists());
        assert_eq!(
            f.calls(),
            vec![
                "start ctr-t6.scope",
                "stop ctr-t6.scope",
                "reset-failed ctr-t6.scope"
            ]
        );
    }
}
