//! A fake systemd for unit tests: units are directories under a temp
//! "cgroup2 mount", made on start (with the usual interface files) and
//! removed on stop; every call is recorded.

use super::props::{Property, Value};
use super::Systemd;
use crate::detect::{Hierarchy, Layout, Mode};
use crate::Code;
use ctr_common::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeSystemd {
    pub root: PathBuf,
    pub version: u32,
    pub unavailable: bool,
    /// unit -> "active" | "failed"
    pub units: Mutex<BTreeMap<String, String>>,
    pub calls: Mutex<Vec<String>>,
    pub started: Mutex<Vec<(String, Vec<Property>)>>,
}

pub const FILES: &[&str] = &[
    "cgroup.procs",
    "cgroup.kill",
    "cgroup.events",
    "cgroup.freeze",
    "memory.max",
    "memory.low",
    "memory.high",
    "memory.swap.max",
    "memory.events",
    "cpu.weight",
    "cpu.max",
    "pids.max",
    "cpuset.cpus",
    "cpuset.mems",
];

impl FakeSystemd {
    pub fn new(root: &Path) -> FakeSystemd {
        FakeSystemd {
            root: root.to_path_buf(),
            version: 252,
            ..Default::default()
        }
    }

    pub fn layout(&self) -> Layout {
        Layout {
            mode: Mode::Unified,
            hierarchies: vec![Hierarchy {
                version: 2,
                mount_point: self.root.to_string_lossy().into_owned(),
                controllers: vec![
                    "cpu".into(),
                    "memory".into(),
                    "pids".into(),
                    "cpuset".into(),
                ],
                own_path: "/".into(),
                delegated: false,
            }],
            cgroup_namespace: Some(false),
        }
    }

    fn dir_of(&self, props: &[Property], unit: &str) -> PathBuf {
        let slice = props
            .iter()
            .find_map(|(n, v)| match (n.as_str(), v) {
                ("Slice", Value::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "system.slice".into());
        let rel = super::unit::expand_slice(&slice, "Slice").unwrap();
        self.root.join(rel.trim_start_matches('/')).join(unit)
    }

    fn check(&self) -> Result<(), Error> {
        if self.unavailable {
            return Err(Error::new(Code::SystemdUnavailable, "fake: no bus")
                .with_path("/run/dbus/system_bus_socket"));
        }
        Ok(())
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn fail_unit(&self, unit: &str) {
        self.units
            .lock()
            .unwrap()
            .insert(unit.into(), "failed".into());
    }
}

impl Systemd for FakeSystemd {
    fn version(&self) -> Result<u32, Error> {
        self.check()?;
        Ok(self.version)
    }

    fn start_transient_unit(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        self.check()?;
        self.calls.lock().unwrap().push(format!("start {name}"));
        if self.units.lock().unwrap().contains_key(name) {
            return Err(Error::new(
                Code::Exists,
                format!("unit {name} already exists"),
            ));
        }
        // systemd refuses a scope without a live process
        let pids = props.iter().find_map(|(n, v)| match (n.as_str(), v) {
            ("PIDs", Value::U32s(p)) => Some(p.clone()),
            _ => None,
        });
        let Some(pids) = pids.filter(|p| !p.is_empty()) else {
            return Err(Error::new(Code::Systemd, "Scope has no PIDs. Refusing."));
        };
        for p in &pids {
            assert_eq!(
                unsafe { libc::kill(*p as i32, 0) },
                0,
                "pid {p} of the scope is not alive"
            );
        }
        let dir = self.dir_of(props, name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in FILES {
            std::fs::write(dir.join(f), "").unwrap();
        }
        std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        self.units
            .lock()
            .unwrap()
            .insert(name.into(), "active".into());
        self.started
            .lock()
            .unwrap()
            .push((name.into(), props.to_vec()));
        Ok(())
    }

    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.check()?;
        self.calls.lock().unwrap().push(format!("stop {name}"));
        let started = self
            .started
            .lock()
            .unwrap()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone());
        let mut units = self.units.lock().unwrap();
        if units.get(name).map(String::as_str) == Some("active") {
            units.remove(name);
            if let Some(p) = started {
                let _ = std::fs::remove_dir_all(self.dir_of(&p, name));
            }
        }
        Ok(())
    }

    fn reset_failed_unit(&self, name: &str) -> Result<(), Error> {
        self.check()?;
        self.calls
            .lock()
            .unwrap()
            .push(format!("reset-failed {name}"));
        let mut units = self.units.lock().unwrap();
        if units.get(name).map(String::as_str) == Some("failed") {
            units.remove(name);
        }
        Ok(())
    }
}
