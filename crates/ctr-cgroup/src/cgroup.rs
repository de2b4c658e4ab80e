//! [`Cgroup`]: the object users hold.

use crate::detect::{detect, Layout};
use crate::manager::{self, manager_for, Manager, Options};
use crate::resources::Resources;
use crate::stats::Stats;
use crate::systemd::{self, Scope, Systemd};
use crate::Code;
use ctr_common::Error;
use std::path::PathBuf;
use std::sync::Arc;

/// A cgroup on every hierarchy of the host that its back end uses.
pub struct Cgroup {
    path: String,
    mgr: Box<dyn Manager>,
    /// Parent directories `create` made on the way to the cgroup.
    made_parents: Vec<PathBuf>,
    /// The systemd scope this cgroup is (systemd back end).
    scope: Option<Scope>,
}

impl std::fmt::Debug for Cgroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cgroup")
            .field("path", &self.path)
            .field("dirs", &self.mgr.dirs())
            .finish()
    }
}

impl Cgroup {
    /// Create the cgroup at `path` (absolute from the hierarchy root, or
    /// relative to the caller's cgroup) and apply `resources`. Fails with
    /// `ECGROUP_EXISTS` if it exists; a failed create leaves no directory.
    pub fn create(path: &str, resources: &Resources, opts: &Options) -> Result<Cgroup, Error> {
        Self::create_on(&detect()?, path, resources, opts)
    }

    /// [`Cgroup::create`] on a given layout.
    pub fn create_on(
        layout: &Layout,
        path: &str,
        resources: &Resources,
        opts: &Options,
    ) -> Result<Cgroup, Error> {
        if opts.backend == manager::Backend::Systemd {
            return Self::create_scope_on(systemd::system_bus(), layout, path, resources);
        }
        let mgr = manager_for(layout, path, opts)?;
        let dirs = mgr.dirs();
        // No existence check first: the leaf's mkdir fails with EEXIST in
        // whichever hierarchy has it, and `create` removes what it made
        // before returning (one statx per hierarchy saved per create).
        let made_parents = mgr
            .create(resources)
            .map_err(|e| {
                if e.code == Code::Exists.as_str() {
                    Error {
                        message: format!("cgroup {path} already exists"),
                        ..e
                    }
                } else {
                    e
                }
            })?
            .into_iter()
            .filter(|d| !dirs.contains(d))
            .collect();
        Ok(Cgroup {
            path: path.to_string(),
            mgr,
            made_parents,
            scope: None,
        })
    }

    /// Create the cgroup as the systemd scope `path` (`slice:prefix:name`)
    /// through `bus` (see [`crate::systemd`]). A placeholder process holds
    /// the scope until the first [`Cgroup::add_process`] or
    /// [`Cgroup::release_placeholder`].
    pub fn create_scope_on(
        bus: Arc<dyn Systemd>,
        layout: &Layout,
        path: &str,
        resources: &Resources,
    ) -> Result<Cgroup, Error> {
        let (scope, mgr) = systemd::start(bus, layout, path, resources)?;
        Ok(Cgroup {
            path: path.to_string(),
            mgr: Box::new(mgr),
            made_parents: Vec::new(),
            scope: Some(scope),
        })
    }

    /// [`Cgroup::open_on`] for a systemd scope, acting through `bus`.
    pub fn open_scope_on(
        bus: Arc<dyn Systemd>,
        layout: &Layout,
        path: &str,
    ) -> Result<Cgroup, Error> {
        let (mgr, unit) = systemd::manager_for(layout, path, "path")?;
        if !mgr.dir.is_dir() {
            return Err(
                Error::new(Code::NotFound, format!("cgroup {path} does not exist"))
                    .with_path(&mgr.dir)
                    .with_errno(libc::ENOENT),
            );
        }
        Ok(Cgroup {
            path: path.to_string(),
            mgr: Box::new(mgr),
            made_parents: Vec::new(),
            scope: Some(Scope::opened(unit, bus)),
        })
    }

    /// The systemd unit this cgroup is (systemd back end), e.g. `ctr-abc.scope`.
    pub fn systemd_unit(&self) -> Option<&str> {
        self.scope.as_ref().map(Scope::unit)
    }

    /// A systemd scope is held by a placeholder process until a real one
    /// is in it: let it go (the container's init was cloned in). No-op for
    /// other back ends.
    pub fn release_placeholder(&self) {
        if let Some(s) = &self.scope {
            s.release_placeholder();
        }
    }

    /// Open an existing cgroup (`ECGROUP_NOT_FOUND` when it exists in no
    /// hierarchy). On v1, hierarchies where it is missing are left out.
    /// A cached layout that no longer finds it is detected again once.
    pub fn open(path: &str, opts: &Options) -> Result<Cgroup, Error> {
        match Self::open_on(&detect()?, path, opts) {
            Err(e) if e.code == Code::NotFound.as_str() => {
                crate::detect::forget_layout();
                Self::open_on(&detect()?, path, opts)
            }
            r => r,
        }
    }

    /// The parent directories a [`Cgroup::create`] of `path` would make
    /// (those missing now), in every hierarchy, parents first: recorded by a
    /// caller before it creates, so that a crash in between leaves nothing
    /// it cannot find (see [`remove_made_parents`]).
    pub fn planned_parents(path: &str, opts: &Options) -> Result<Vec<PathBuf>, Error> {
        Self::planned_parents_on(&detect()?, path, opts)
    }

    /// [`Cgroup::planned_parents`] on a given layout.
    pub fn planned_parents_on(
        layout: &Layout,
        path: &str,
        opts: &Options,
    ) -> Result<Vec<PathBuf>, Error> {
        if opts.backend == manager::Backend::Systemd {
            // systemd makes (and removes) the slices
            systemd::manager_for(layout, path, "path")?;
            return Ok(Vec::new());
        }
        let roots: Vec<&std::path::Path> = layout
            .hierarchies
            .iter()
            .map(|h| std::path::Path::new(h.mount_point.as_str()))
            .collect();
        Ok(manager::missing_parents_below(
            manager_for(layout, path, opts)?.as_ref(),
            &roots,
        ))
    }

    /// [`Cgroup::open`] on a given layout.
    pub fn open_on(layout: &Layout, path: &str, opts: &Options) -> Result<Cgroup, Error> {
        if opts.backend == manager::Backend::Systemd {
            return Self::open_scope_on(systemd::system_bus(), layout, path);
        }
        let mut mgr = manager_for(layout, path, opts)?;
        let dirs = mgr.dirs();
        if !dirs.iter().any(|d| d.is_dir()) {
            return Err(
                Error::new(Code::NotFound, format!("cgroup {path} does not exist"))
                    .with_path(&dirs[0])
                    .with_errno(libc::ENOENT),
            );
        }
        mgr.retain_existing();
        Ok(Cgroup {
            path: path.to_string(),
            mgr,
            made_parents: Vec::new(),
            scope: None,
        })
    }

    /// Remove the cgroup `path` when it is empty everywhere, with one `rmdir`
    /// per hierarchy and nothing else (no existence checks, no kill): the
    /// delete of a container whose init was reaped. True when that removed
    /// it; false, having removed at most the empty directories, when a
    /// hierarchy refused (a process or a child left: `EBUSY`), when nothing
    /// was found (a stale cached layout), or for the systemd back end: then
    /// [`Cgroup::open`] and [`Cgroup::delete`] do the rest.
    pub fn remove_if_empty(path: &str, opts: &Options) -> Result<bool, Error> {
        if opts.backend == manager::Backend::Systemd {
            return Ok(false);
        }
        let mgr = manager_for(&detect()?, path, opts)?;
        let mut removed = false;
        for d in mgr.dirs() {
            match std::fs::remove_dir(&d) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return Ok(false),
            }
        }
        Ok(removed)
    }

    /// The path given at create/open.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// 1 or 2: the back end in use.
    pub fn version(&self) -> u8 {
        self.mgr.version()
    }

    /// The directories of this cgroup, one per hierarchy.
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.mgr.dirs()
    }

    /// The back end.
    pub fn manager(&self) -> &dyn Manager {
        self.mgr.as_ref()
    }

    /// Apply (more) limits.
    pub fn update(&self, r: &Resources) -> Result<(), Error> {
        self.mgr.apply(r)
    }

    /// Move a process in (all its threads).
    pub fn add_process(&self, pid: i32) -> Result<(), Error> {
        check_pid(pid)?;
        self.mgr.add(pid, false)?;
        self.release_placeholder();
        Ok(())
    }

    /// Move one thread in.
    pub fn add_thread(&self, tid: i32) -> Result<(), Error> {
        check_pid(tid)?;
        self.mgr.add(tid, true)
    }

    /// Pids directly in this cgroup (union over hierarchies).
    pub fn pids(&self) -> Result<Vec<i32>, Error> {
        let mut out = Vec::new();
        for d in self.mgr.dirs() {
            if let Some(t) = crate::fsx::read_opt(&d, "cgroup.procs") {
                out.extend(crate::fsx::pid_list(&t));
            } else if !d.is_dir() {
                return Err(Error::new(
                    Code::NotFound,
                    format!("cgroup {} does not exist", self.path),
                )
                .with_path(&d)
                .with_errno(libc::ENOENT));
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Freeze every process.
    pub fn freeze(&self) -> Result<(), Error> {
        self.mgr.set_frozen(true)
    }

    /// Thaw.
    pub fn thaw(&self) -> Result<(), Error> {
        self.mgr.set_frozen(false)
    }

    /// Signal every process of the subtree; with SIGKILL, until empty.
    pub fn kill_all(&self, signal: i32) -> Result<(), Error> {
        manager::kill_all(self.mgr.as_ref(), signal)
    }

    /// Remove the cgroup and its children from every hierarchy, then the
    /// parents this handle's `create` made (those still empty).
    pub fn delete(&self, kill: bool) -> Result<(), Error> {
        if let Some(scope) = &self.scope {
            return self.delete_scope(scope, kill);
        }
        manager::remove_all(self.mgr.as_ref(), kill)?;
        remove_made_parents(&self.made_parents);
        Ok(())
    }

    /// A scope: its processes killed (or, without `kill`, refused while
    /// any is left), the unit stopped and reset, then whatever directory
    /// systemd left (a delegated subtree) removed.
    fn delete_scope(&self, scope: &Scope, kill: bool) -> Result<(), Error> {
        scope.release_placeholder();
        let m = self.mgr.as_ref();
        if manager::exists(m) {
            if kill {
                manager::kill_all(m, libc::SIGKILL)?;
            } else if !self.pids()?.is_empty() {
                // the same EBUSY refusal as for any cgroup in use
                manager::remove_all(m, false)?;
            }
        }
        scope.remove()?;
        if manager::exists(m) {
            manager::remove_all(m, kill)?;
        }
        Ok(())
    }

    /// The parent directories `create` made on the way to this cgroup
    /// (`/a/b` for a new `/a/b/c` where `/a` existed), parents first; empty
    /// for an opened cgroup. Keep them to undo the create from another
    /// process: see [`remove_made_parents`].
    pub fn made_parents(&self) -> &[PathBuf] {
        &self.made_parents
    }

    /// Normalised statistics.
    pub fn stats(&self) -> Result<Stats, Error> {
        let s = self.mgr.stats()?;
        // Every file missing: the cgroup is gone (checked after, so the
        // common case costs no extra stat calls).
        if s == Stats::default() && !manager::exists(self.mgr.as_ref()) {
            return Err(Error::new(
                Code::NotFound,
                format!("cgroup {} does not exist", self.path),
            )
            .with_path(&self.mgr.dirs()[0])
            .with_errno(libc::ENOENT));
        }
        Ok(s)
    }

    /// Read a raw file (`memory.stat`).
    pub fn read_file(&self, file: &str) -> Result<String, Error> {
        manager::read_file(self.mgr.as_ref(), file)
    }

    /// Write a raw file.
    pub fn write_file(&self, file: &str, value: &str) -> Result<(), Error> {
        manager::write_file(self.mgr.as_ref(), file, value)
    }
}

/// Remove the parents a create made (see [`Cgroup::made_parents`]), deepest
/// first, after their cgroup was deleted. One another cgroup still uses is
/// not empty and stays (`rmdir` refuses it).
pub fn remove_made_parents(made: &[PathBuf]) {
    manager::undo(made)
}

fn check_pid(pid: i32) -> Result<(), Error> {
    if pid <= 0 {
        return Err(Error::new(Code::InvalidValue, format!("invalid pid {pid}")).with_field("pid"));
    }
    Ok(())
}
