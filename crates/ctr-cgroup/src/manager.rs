//! The [`Manager`] trait and its v1 (with the hybrid extension) and v2
//! back ends, picked once from the detected [`Layout`].

use crate::detect::{Layout, Mode};
use crate::fsx::{pid_list, read, read_opt, write};
use crate::path::{check, resolve, RelativePaths};
use crate::resources::Resources;
use crate::stats::Stats;
use crate::Code;
use crate::{v1, v2};
use ctr_common::Error;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Controllers this crate knows.
pub const KNOWN_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "io",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
];

/// How long `delete({ kill: true })` and `killAll` wait for tasks to drain.
const DRAIN: Duration = Duration::from_secs(5);
/// How long `delete()` without kill waits for exiting tasks to leave.
const DRAIN_NO_KILL: Duration = Duration::from_secs(1);

/// What a back end watches for events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSpec {
    /// cgroup2 directory with `cgroup.events` (and maybe `memory.events`).
    pub v2_dir: Option<PathBuf>,
    /// v1 memory directory (eventfd on `memory.oom_control`).
    pub v1_memory: Option<PathBuf>,
    /// Directories whose `cgroup.procs` are checked for emptiness when no
    /// kernel notification exists (pure v1).
    pub poll_empty: Vec<PathBuf>,
}

/// One kernel surface: a cgroup on some hierarchy layout.
pub trait Manager: Send + Sync {
    /// 1 (v1 or hybrid) or 2.
    fn version(&self) -> u8;
    /// Every directory this cgroup has, one per hierarchy.
    fn dirs(&self) -> Vec<PathBuf>;
    /// Make the directories (and missing parents); undo on failure. Returns
    /// every directory it made, parents first.
    fn create(&self, r: &Resources) -> Result<Vec<PathBuf>, Error>;
    /// Apply limits.
    fn apply(&self, r: &Resources) -> Result<(), Error>;
    /// Move a process (or a thread, `thread = true`) in.
    fn add(&self, pid: i32, thread: bool) -> Result<(), Error>;
    /// Freeze or thaw.
    fn set_frozen(&self, frozen: bool) -> Result<(), Error>;
    /// Statistics.
    fn stats(&self) -> Result<Stats, Error>;
    /// The directory holding a raw file such as `memory.stat`.
    fn dir_for(&self, file: &str) -> Result<PathBuf, Error>;
    /// What to watch for events.
    fn events(&self) -> EventSpec;
    /// The cgroup2 dir with `cgroup.kill`, if any.
    fn kill_file_dir(&self) -> Option<PathBuf>;
    /// The freezer to use before signalling on v1.
    fn has_freezer(&self) -> bool;
    /// Forget directories that do not exist (after open).
    fn retain_existing(&mut self) {}
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// mkdir every missing directory from `root` (exclusive) to `dir`; returns
/// those made, in order. `init` runs on each new directory.
fn mkdirs(
    root: &Path,
    dir: &Path,
    made: &mut Vec<PathBuf>,
    init: &dyn Fn(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let mut cur = root.to_path_buf();
    let n = rel.components().count();
    for (i, c) in rel.components().enumerate() {
        cur.push(c);
        match std::fs::create_dir(&cur) {
            Ok(()) => {
                made.push(cur.clone());
                init(&cur)?;
            }
            // The leaf must be ours: never adopt a cgroup someone else made meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && i + 1 == n => {
                return Err(Error::io(
                    Code::Exists,
                    "mkdir",
                    &e,
                    format!("mkdir {}", cur.display()),
                )
                .with_path(&cur));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::io(
                    Code::Create,
                    "mkdir",
                    &e,
                    format!("mkdir {}", cur.display()),
                )
                .with_path(&cur))
            }
        }
    }
    Ok(())
}

/// Run `make`, which records each directory it creates in the list it is
/// given: the list on success, and on failure every one of them removed
/// (deepest first) before the error is returned.
fn creating(
    make: impl FnOnce(&mut Vec<PathBuf>) -> Result<(), Error>,
) -> Result<Vec<PathBuf>, Error> {
    let mut made = Vec::new();
    match make(&mut made) {
        Ok(()) => Ok(made),
        Err(e) => {
            undo(&made);
            Err(e)
        }
    }
}

/// Remove directories made by a failed create, newest first (also the
/// parents a create made, once their cgroup is deleted: an `rmdir` fails
/// harmlessly on one another cgroup still uses).
pub(crate) fn undo(made: &[PathBuf]) {
    for d in made.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// Enable `want` controllers (those available) in `cgroup.subtree_control`
/// on the way from `root` down to the parent of `dir`, but only in the
/// directories this crate made (`made`): a cgroup it did not create (the
/// hierarchy root above all, shared by the whole host) is never changed,
/// and what it enables goes away with the directories it made. A
/// controller of `required` that an existing ancestor does not pass down
/// is refused as `ECGROUP_UNSUPPORTED` naming that ancestor; the others of
/// `want` are merely not enabled.
fn enable_v2(
    root: &Path,
    dir: &Path,
    want: &[String],
    required: &[String],
    made: &[PathBuf],
) -> Result<(), Error> {
    if want.is_empty() && required.is_empty() {
        return Ok(());
    }
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let mut cur = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        let avail = read_opt(&cur, "cgroup.controllers").unwrap_or_default();
        let enabled = read_opt(&cur, "cgroup.subtree_control").unwrap_or_default();
        let has = |list: &str, w: &str| list.split_whitespace().any(|a| a == w);
        let missing: Vec<&String> = want
            .iter()
            .chain(required.iter())
            .filter(|w| !has(&enabled, w))
            .collect();
        let ours = made.iter().any(|m| m == &cur);
        if let Some(r) = missing
            .iter()
            .find(|w| required.contains(w) && (!ours || !has(&avail, w)))
        {
            let file = cur.join("cgroup.subtree_control");
            let why = if ours {
                "is not available there"
            } else {
                "is not enabled there, and ctr changes subtree_control only in cgroups it created"
            };
            return Err(Error::new(
                Code::Unsupported,
                format!(
                    "the {r} controller is needed but {} does not pass it down: it {why}",
                    file.display()
                ),
            )
            .with_field(field_of(r)));
        }
        if ours {
            let mut add: Vec<String> = Vec::new();
            for w in missing.iter().filter(|w| has(&avail, w)) {
                if !add.iter().any(|a| a[1..] == ***w) {
                    add.push(format!("+{w}"));
                }
            }
            if !add.is_empty() {
                write(&cur, "cgroup.subtree_control", &add.join(" "))?;
            }
        }
        if i + 1 == comps.len() {
            break;
        }
        cur.push(c);
    }
    Ok(())
}

/// The OCI field that needs a controller (for errors).
fn field_of(ctrl: &str) -> String {
    match ctrl {
        "hugetlb" => "hugepageLimits",
        "io" => "blockIO",
        "cpuset" | "cpu" => "cpu",
        other => other,
    }
    .to_string()
}

/// The cgroup2 controllers the limits of `r` cannot do without.
fn required_v2(r: &Resources) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &r.cpu {
        if c.cpus.is_some() || c.mems.is_some() {
            out.push("cpuset");
        }
        if c.shares.is_some()
            || c.weight.is_some()
            || c.quota.is_some()
            || c.period.is_some()
            || c.burst.is_some()
            || c.idle.is_some()
        {
            out.push("cpu");
        }
    }
    if r.memory.is_some() {
        out.push("memory");
    }
    if r.pids.is_some() {
        out.push("pids");
    }
    if r.block_io.is_some() {
        out.push("io");
    }
    if !r.hugepages.is_empty() {
        out.push("hugetlb");
    }
    if !r.rdma.is_empty() {
        out.push("rdma");
    }
    if !r.misc.is_empty() {
        out.push("misc");
    }
    out.into_iter().map(String::from).collect()
}

/// Where a cgroup's directories will go: the parent directories `path`
/// needs that do not exist yet (parents first), which a create would make.
/// Lets a caller record them before creating anything.
pub fn missing_parents(m: &dyn Manager) -> Vec<PathBuf> {
    missing_parents_below(m, &[])
}

/// [`missing_parents`] knowing the hierarchies' mount points (`roots`),
/// which exist: an ancestor that is one is not looked up (a cgroup made at
/// a hierarchy's top, the usual case, costs no `statx` per hierarchy).
pub fn missing_parents_below(m: &dyn Manager, roots: &[&Path]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in m.dirs() {
        let mut anc: Vec<PathBuf> = d
            .ancestors()
            .skip(1)
            .take_while(|a| !roots.contains(a) && !a.is_dir())
            .map(Path::to_path_buf)
            .collect();
        anc.reverse();
        out.extend(anc);
    }
    out
}

/// Every directory of the subtree under `dir`, children before parents.
pub fn subtree_post_order(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    walk(&e.path(), out);
                }
            }
        }
        out.push(d.to_path_buf());
    }
    walk(dir, &mut out);
    out
}

/// Pids in the whole subtree of `dirs`.
pub fn subtree_pids(dirs: &[PathBuf]) -> Vec<i32> {
    let mut pids: Vec<i32> = dirs
        .iter()
        .flat_map(|d| subtree_post_order(d))
        .filter_map(|d| read_opt(&d, "cgroup.procs"))
        .flat_map(|t| pid_list(&t))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The v1 back end; on hybrid hosts it also keeps a matching directory in
/// the cgroup2 hierarchy (for `cgroup.kill`, `cgroup.events`, and
/// controllers that only the cgroup2 mount has, such as hugetlb here).
pub struct V1Manager {
    /// (controllers, mount point, directory) per hierarchy.
    pub hier: Vec<(Vec<String>, PathBuf, PathBuf)>,
    /// (mount point, directory, controllers it holds) in the cgroup2 hierarchy.
    pub unified: Option<(PathBuf, PathBuf, Vec<String>)>,
}

impl V1Manager {
    fn dir_of(&self, ctrl: &str) -> Option<&Path> {
        self.hier
            .iter()
            .find(|(c, ..)| c.iter().any(|x| x == ctrl))
            .map(|(_, _, d)| d.as_path())
    }

    fn v2_only(&self, ctrl: &str) -> Option<&Path> {
        if self.dir_of(ctrl).is_some() {
            return None;
        }
        self.unified
            .as_ref()
            .filter(|(_, _, c)| c.iter().any(|x| x == ctrl))
            .map(|(_, d, _)| d.as_path())
    }

    fn unified_wants(&self, r: &Resources) -> Vec<String> {
        let mut w = vec![];
        if !r.hugepages.is_empty() && self.dir_of("hugetlb").is_none() {
            w.push("hugetlb".to_string());
        }
        w
    }
}

impl Manager for V1Manager {
    fn version(&self) -> u8 {
        1
    }

    fn dirs(&self) -> Vec<PathBuf> {
        let mut d: Vec<PathBuf> = self.hier.iter().map(|(_, _, d)| d.clone()).collect();
        if let Some((_, u, _)) = &self.unified {
            d.push(u.clone());
        }
        d
    }

    fn create(&self, r: &Resources) -> Result<Vec<PathBuf>, Error> {
        creating(|made| {
            for (ctrls, mp, dir) in &self.hier {
                let cpuset = ctrls.iter().any(|c| c == "cpuset");
                mkdirs(mp, dir, made, &|d| {
                    if cpuset {
                        v1::cpuset::init(d, mp)
                    } else {
                        Ok(())
                    }
                })?;
            }
            if let Some((mp, dir, _)) = &self.unified {
                mkdirs(mp, dir, made, &|_| Ok(()))?;
                let wants = self.unified_wants(r);
                enable_v2(mp, dir, &[], &wants, made)?;
            }
            self.apply(r)
        })
    }

    fn apply(&self, r: &Resources) -> Result<(), Error> {
        let need = |ctrl: &str, used: bool| -> Result<Option<&Path>, Error> {
            if !used {
                return Ok(None);
            }
            self.dir_of(ctrl).map(Some).ok_or_else(|| {
                Error::new(
                    Code::Unsupported,
                    format!("the {ctrl} controller is not mounted (or not selected) on this host"),
                )
                .with_field(ctrl.to_string())
            })
        };
        let cpu = r.cpu.as_ref();
        let cpu_used = cpu.is_some_and(|c| {
            c.shares.is_some()
                || c.weight.is_some()
                || c.quota.is_some()
                || c.period.is_some()
                || c.burst.is_some()
                || c.idle.is_some()
                || c.realtime_period.is_some()
                || c.realtime_runtime.is_some()
        });
        let cpuset_used = cpu.is_some_and(|c| c.cpus.is_some() || c.mems.is_some());
        if let Some(d) = need("cpuset", cpuset_used)? {
            v1::cpuset::apply(d, r)?;
        }
        if let Some(d) = need("cpu", cpu_used)? {
            v1::cpu::apply(d, r)?;
        }
        if let Some(d) = need("memory", r.memory.is_some())? {
            v1::memory::apply(d, r)?;
        }
        if let Some(d) = need("pids", r.pids.is_some())? {
            v1::pids::apply(d, r)?;
        }
        if let Some(d) = need("blkio", r.block_io.is_some())? {
            v1::blkio::apply(d, r)?;
        }
        if !r.hugepages.is_empty() {
            if let Some(d) = self.v2_only("hugetlb") {
                // Enabled at create (in directories it made) or refused there.
                enable_v2(
                    &self.unified.as_ref().unwrap().0,
                    d,
                    &[],
                    &["hugetlb".to_string()],
                    &[],
                )?;
                v2::hugetlb::apply(d, r)?;
            } else if let Some(d) = need("hugetlb", true)? {
                v1::hugetlb::apply(d, r)?;
            }
        }
        if r.devices.is_some() {
            match (self.dir_of("devices"), &self.unified) {
                (Some(d), _) => v1::devices::apply(d, r)?,
                (None, Some((_, u, _))) => v2::devices::apply(u, r)?,
                _ => {
                    return Err(Error::new(
                        Code::Unsupported,
                        "the devices controller is not mounted on this host",
                    )
                    .with_field("devices"))
                }
            }
        }
        if let Some(d) = need("rdma", !r.rdma.is_empty())? {
            v1::rdma::apply(d, r)?;
        }
        // Named by the OCI field: hosts often boot without these hierarchies.
        let (cls, prio) = r.network.as_ref().map(|n| n.uses()).unwrap_or_default();
        let net = |ctrl: &str, used: bool, field: &str| -> Result<Option<&Path>, Error> {
            need(ctrl, used).map_err(|e| Error {
                message: format!("{field}: the {ctrl} controller is not mounted on this host"),
                path: Some(field.to_string()),
                ..e
            })
        };
        if let Some(d) = net("net_cls", cls, "network.classID")? {
            v1::net::apply_cls(d, r)?;
        }
        if let Some(d) = net("net_prio", prio, "network.priorities")? {
            v1::net::apply_prio(d, r)?;
        }
        if !r.misc.is_empty() {
            match (self.dir_of("misc"), self.v2_only("misc")) {
                (Some(d), _) | (None, Some(d)) => v1::misc::apply(d, r)?,
                _ => {
                    return Err(Error::new(
                        Code::Unsupported,
                        "the misc controller is not available on this host",
                    )
                    .with_field("misc"))
                }
            }
        }
        if !r.unified.is_empty() {
            match &self.unified {
                Some((_, u, _)) => v2::unified::apply(u, r)?,
                None => {
                    return Err(Error::new(
                        Code::Unsupported,
                        "unified: raw cgroup v2 files need a cgroup2 hierarchy",
                    )
                    .with_field("unified"))
                }
            }
        }
        Ok(())
    }

    fn add(&self, pid: i32, thread: bool) -> Result<(), Error> {
        let file = if thread { "tasks" } else { "cgroup.procs" };
        for (_, _, d) in &self.hier {
            write(d, file, &pid.to_string())?;
        }
        if let Some((_, u, _)) = &self.unified {
            write(
                u,
                if thread {
                    "cgroup.threads"
                } else {
                    "cgroup.procs"
                },
                &pid.to_string(),
            )
            .or_else(|e| {
                // A lone thread cannot move in a domain cgroup2 tree; the v1
                // hierarchies carry its limits.
                if thread && e.errno == Some(libc::EOPNOTSUPP) {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        }
        Ok(())
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), Error> {
        if let Some(d) = self.dir_of("freezer") {
            return v1::freezer::set(d, frozen);
        }
        if let Some((_, u, _)) = &self.unified {
            return v2::freezer::set(u, frozen);
        }
        Err(Error::new(
            Code::Unsupported,
            "no freezer: the freezer controller is not mounted and there is no cgroup2 hierarchy",
        ))
    }

    fn stats(&self) -> Result<Stats, Error> {
        let mut s = Stats::default();
        if let Some(d) = self.dir_of("memory") {
            v1::memory::stats(d, &mut s);
        }
        if let Some(d) = self.dir_of("cpuacct") {
            v1::cpuacct::stats(d, &mut s);
        }
        if let Some(d) = self.dir_of("cpu") {
            v1::cpu::stats(d, &mut s);
        }
        if let Some(d) = self.dir_of("pids") {
            v1::pids::stats(d, &mut s);
        }
        if let Some(d) = self.dir_of("blkio") {
            v1::blkio::stats(d, &mut s);
        }
        if let Some(d) = self.dir_of("hugetlb") {
            v1::hugetlb::stats(d, &mut s);
        } else if let Some(d) = self.v2_only("hugetlb") {
            v2::hugetlb::stats(d, &mut s);
        }
        Ok(s)
    }

    fn dir_for(&self, file: &str) -> Result<PathBuf, Error> {
        let ctrl = file.split('.').next().unwrap_or("");
        let unified = self.unified.as_ref().map(|(_, u, _)| u);
        let v1 = self.dir_of(ctrl).map(Path::to_path_buf).or_else(|| {
            matches!(ctrl, "cgroup" | "tasks" | "notify_on_release")
                .then(|| self.hier.first().map(|(_, _, d)| d.clone()))
                .flatten()
        });
        // A file only the cgroup2 directory has (cgroup.events, *.pressure,
        // hugetlb here) is read there on hybrid hosts.
        match (v1, unified) {
            (Some(d), Some(u)) if !d.join(file).exists() && u.join(file).exists() => Ok(u.clone()),
            (Some(d), _) => Ok(d),
            (None, Some(u)) => Ok(u.clone()),
            (None, None) => Err(Error::new(
                Code::UnknownController,
                format!("no hierarchy of this cgroup has the controller of {file:?}"),
            )
            .with_field(file.to_string())),
        }
    }

    fn events(&self) -> EventSpec {
        EventSpec {
            v2_dir: self.unified.as_ref().map(|(_, u, _)| u.clone()),
            v1_memory: self.dir_of("memory").map(Path::to_path_buf),
            poll_empty: if self.unified.is_none() {
                self.hier
                    .iter()
                    .map(|(_, _, d)| d.clone())
                    .take(1)
                    .collect()
            } else {
                vec![]
            },
        }
    }

    fn kill_file_dir(&self) -> Option<PathBuf> {
        self.unified
            .as_ref()
            .map(|(_, u, _)| u.clone())
            .filter(|u| u.join("cgroup.kill").exists())
    }

    fn has_freezer(&self) -> bool {
        self.dir_of("freezer").is_some()
    }

    fn retain_existing(&mut self) {
        self.hier.retain(|(_, _, d)| d.is_dir());
        if self.unified.as_ref().is_some_and(|(_, d, _)| !d.is_dir()) {
            self.unified = None;
        }
    }
}

/// The cgroup v2 back end.
pub struct V2Manager {
    /// Mount point of the cgroup2 hierarchy.
    pub root: PathBuf,
    /// This cgroup's directory.
    pub dir: PathBuf,
    /// Controllers to enable on the way down (None: all available).
    pub controllers: Option<Vec<String>>,
    /// The host is hybrid: the cgroup2 root is shared with v1.
    pub hybrid: bool,
}

impl V2Manager {
    fn wanted(&self, r: &Resources) -> Vec<String> {
        match &self.controllers {
            Some(c) => c.clone(),
            None => {
                let avail = read_opt(&self.root, "cgroup.controllers").unwrap_or_default();
                let mut w: Vec<String> = avail.split_whitespace().map(String::from).collect();
                // On a hybrid host the cgroup2 root is shared with v1: only
                // enable what this cgroup's limits need there.
                if self.hybrid {
                    w.retain(|c| c == "hugetlb" && !r.hugepages.is_empty());
                }
                w
            }
        }
    }
}

impl Manager for V2Manager {
    fn version(&self) -> u8 {
        2
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }

    fn create(&self, r: &Resources) -> Result<Vec<PathBuf>, Error> {
        creating(|made| {
            mkdirs(&self.root, &self.dir, made, &|_| Ok(()))?;
            let required: Vec<String> = required_v2(r)
                .into_iter()
                .filter(|c| self.controllers.as_ref().is_none_or(|cs| cs.contains(c)))
                .collect();
            enable_v2(&self.root, &self.dir, &self.wanted(r), &required, made)?;
            self.apply(r)
        })
    }

    fn apply(&self, r: &Resources) -> Result<(), Error> {
        let d = &self.dir;
        if let Some(n) = &r.network {
            let field = if n.class_id.is_some() {
                "network.classID"
            } else {
                "network.priorities"
            };
            return Err(Error::new(
                Code::Unsupported,
                format!("{field}: cgroup v2 has no net_cls or net_prio controller"),
            )
            .with_field(field));
        }
        if !r.hugepages.is_empty() {
            // Enabled at create (in directories it made) or refused there.
            enable_v2(&self.root, d, &[], &["hugetlb".to_string()], &[])?;
        }
        v2::cpuset::apply(d, r)?;
        v2::cpu::apply(d, r)?;
        v2::memory::apply(d, r)?;
        v2::pids::apply(d, r)?;
        v2::io::apply(d, r)?;
        v2::hugetlb::apply(d, r)?;
        v2::devices::apply(d, r)?;
        v2::rdma::apply(d, r)?;
        v2::misc::apply(d, r)?;
        v2::unified::apply(d, r)
    }

    fn add(&self, pid: i32, thread: bool) -> Result<(), Error> {
        write(&self.dir, if thread { "cgroup.threads" } else { "cgroup.procs" }, &pid.to_string()).map_err(|e| {
            if thread && e.errno == Some(libc::EOPNOTSUPP) {
                Error { code: Code::Unsupported.into(), message: format!("{} (a single thread can only move within a threaded subtree: write \"threaded\" to cgroup.type)", e.message), ..e }
            } else {
                e
            }
        })
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), Error> {
        v2::freezer::set(&self.dir, frozen)
    }

    fn stats(&self) -> Result<Stats, Error> {
        let mut s = Stats::default();
        v2::memory::stats(&self.dir, &mut s);
        v2::cpu::stats(&self.dir, &mut s);
        v2::pids::stats(&self.dir, &mut s);
        v2::io::stats(&self.dir, &mut s);
        v2::hugetlb::stats(&self.dir, &mut s);
        Ok(s)
    }

    fn dir_for(&self, _file: &str) -> Result<PathBuf, Error> {
        Ok(self.dir.clone())
    }

    fn events(&self) -> EventSpec {
        EventSpec {
            v2_dir: Some(self.dir.clone()),
            v1_memory: None,
            poll_empty: vec![],
        }
    }

    fn kill_file_dir(&self) -> Option<PathBuf> {
        Some(self.dir.clone()).filter(|d| d.join("cgroup.kill").exists())
    }

    fn has_freezer(&self) -> bool {
        false
    }
}

/// Which back end to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// From the detected layout: v1 on legacy and hybrid hosts, v2 on unified.
    Auto,
    /// The v1 hierarchies (plus the cgroup2 one on hybrid hosts).
    V1,
    /// Only the cgroup2 hierarchy (on hybrid hosts: `/sys/fs/cgroup/unified`).
    V2,
    /// A transient scope made by systemd over D-Bus (the path is
    /// `slice:prefix:name`; unified hosts only): see [`crate::systemd`].
    Systemd,
}

/// Options for [`open_manager`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Back end choice.
    pub backend: Backend,
    /// Only these controllers (v1: hierarchies holding any of them; v2:
    /// controllers enabled). None: all.
    pub controllers: Option<Vec<String>>,
    /// How a relative path is read (default: refused; see [`crate::path`]).
    pub relative: RelativePaths,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::Auto,
            controllers: None,
            relative: RelativePaths::Refuse,
        }
    }
}

impl Options {
    /// The default options, reading a relative path under the caller's
    /// own cgroup: the runtime's reading of OCI's relative `cgroupsPath`
    /// (runc's cgroupfs driver does the same).
    pub fn relative_to_own_cgroup() -> Options {
        Options {
            relative: RelativePaths::UnderOwnCgroup,
            ..Options::default()
        }
    }
}

/// Build the manager for `path` on `layout`.
pub fn manager_for(layout: &Layout, path: &str, opts: &Options) -> Result<Box<dyn Manager>, Error> {
    if opts.backend == Backend::Systemd {
        return Ok(Box::new(
            crate::systemd::manager_for(layout, path, "path")?.0,
        ));
    }
    let (absolute, parts) = check(path, opts.relative)?;
    if let Some(cs) = &opts.controllers {
        for c in cs {
            if !KNOWN_CONTROLLERS.contains(&c.as_str()) {
                return Err(Error::new(
                    Code::UnknownController,
                    format!("unknown controller {c:?}"),
                )
                .with_field(c.clone()));
            }
        }
    }
    let v2h = layout.hierarchies.iter().find(|h| h.version == 2);
    let use_v2 = match opts.backend {
        Backend::Auto => layout.mode == Mode::Unified,
        Backend::V1 => false,
        Backend::V2 => true,
        Backend::Systemd => unreachable!("handled above"),
    };
    if use_v2 {
        let h =
            v2h.ok_or_else(|| Error::new(Code::NotMounted, "no cgroup2 hierarchy is mounted"))?;
        let root = PathBuf::from(&h.mount_point);
        let dir = PathBuf::from(format!(
            "{}{}",
            h.mount_point.trim_end_matches('/'),
            resolve(&h.own_path, absolute, &parts)
        ));
        if let Some(cs) = &opts.controllers {
            for c in cs {
                if !h.controllers.contains(c) {
                    return Err(Error::new(
                        Code::Unsupported,
                        format!("controller {c:?} is not available in the cgroup2 hierarchy"),
                    )
                    .with_path(root.join("cgroup.controllers")));
                }
            }
        }
        return Ok(Box::new(V2Manager {
            root,
            dir,
            controllers: opts.controllers.clone(),
            hybrid: layout.mode == Mode::Hybrid,
        }));
    }
    let mut hier = Vec::new();
    for h in layout.hierarchies.iter().filter(|h| h.version == 1) {
        let ctrls: Vec<String> = h
            .controllers
            .iter()
            .filter(|c| !c.starts_with("name="))
            .cloned()
            .collect();
        if ctrls.is_empty() {
            continue;
        }
        if let Some(want) = &opts.controllers {
            if !ctrls.iter().any(|c| want.contains(c)) {
                continue;
            }
        }
        let dir = PathBuf::from(format!(
            "{}{}",
            h.mount_point.trim_end_matches('/'),
            resolve(&h.own_path, absolute, &parts)
        ));
        hier.push((ctrls, PathBuf::from(&h.mount_point), dir));
    }
    if let Some(want) = &opts.controllers {
        for c in want {
            let in_v1 = hier.iter().any(|(cs, ..)| cs.contains(c));
            let in_v2 = v2h.is_some_and(|h| h.controllers.contains(c));
            if !in_v1 && !in_v2 {
                return Err(Error::new(
                    Code::Unsupported,
                    format!("controller {c:?} is not mounted on this host"),
                )
                .with_field(c.clone()));
            }
        }
    }
    let unified = match (layout.mode, v2h) {
        (Mode::Hybrid, Some(h)) => Some((
            PathBuf::from(&h.mount_point),
            PathBuf::from(format!(
                "{}{}",
                h.mount_point.trim_end_matches('/'),
                resolve(&h.own_path, absolute, &parts)
            )),
            h.controllers.clone(),
        )),
        _ => None,
    };
    if hier.is_empty() && unified.is_none() {
        return Err(Error::new(Code::NotMounted, "no cgroup hierarchy to use"));
    }
    Ok(Box::new(V1Manager { hier, unified }))
}

/// Remove every directory of the cgroup (children first), retrying while
/// tasks drain. `kill` first kills every process in it.
pub fn remove_all(m: &dyn Manager, kill: bool) -> Result<(), Error> {
    // The common case, a container whose init was reaped (its pid namespace
    // took every other process with it): the cgroup is empty and has no
    // children, and one rmdir per hierarchy removes it, without a kill or
    // reading cgroup.procs everywhere. The kernel refuses the rmdir (EBUSY)
    // of a cgroup that still has a process or a child: then the full path.
    if rmdir_if_empty(m) {
        return Ok(());
    }
    if kill {
        kill_all(m, libc::SIGKILL)?;
        // Emptied by the kill: again one rmdir per hierarchy, no walk.
        if rmdir_if_empty(m) {
            return Ok(());
        }
    }
    let end = Instant::now() + if kill { DRAIN } else { DRAIN_NO_KILL };
    for top in m.dirs() {
        for d in subtree_post_order(&top) {
            loop {
                match std::fs::remove_dir(&d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if errno_of(&e) == libc::EBUSY && Instant::now() < end => {
                        if kill {
                            let _ = kill_all(m, libc::SIGKILL);
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => {
                        let code = if errno_of(&e) == libc::EBUSY {
                            Code::Busy.as_str()
                        } else {
                            Code::Delete.as_str()
                        };
                        let what = if code == Code::Busy.as_str() {
                            format!(
                                "rmdir {} (it still has processes; pass kill: true)",
                                d.display()
                            )
                        } else {
                            format!("rmdir {}", d.display())
                        };
                        return Err(Error::io(code, "rmdir", &e, what).with_path(&d));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Remove every directory of the cgroup with one rmdir each; false at the
/// first one the kernel refuses (left for the caller's full removal).
fn rmdir_if_empty(m: &dyn Manager) -> bool {
    m.dirs().iter().all(|d| match std::fs::remove_dir(d) {
        Ok(()) => true,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    })
}

/// Signal every process of the cgroup and its descendants. With SIGKILL,
/// wait until the group is empty: `cgroup.kill` where the cgroup2
/// hierarchy has it, else freeze (v1 freezer), kill each pid, thaw, until
/// no process is left.
pub fn kill_all(m: &dyn Manager, sig: i32) -> Result<(), Error> {
    let dirs = m.dirs();
    if sig != libc::SIGKILL {
        for pid in subtree_pids(&dirs) {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(pid, sig) };
        }
        return Ok(());
    }
    if let Some(u) = m.kill_file_dir() {
        // A cgroup2 directory already removed has no process left to kill.
        match write(&u, "cgroup.kill", "1") {
            Err(e) if e.errno == Some(libc::ENOENT) && !u.exists() => {}
            r => r?,
        }
    }
    let end = Instant::now() + DRAIN;
    for round in 0.. {
        let pids = subtree_pids(&dirs);
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() > end {
            return Err(Error::new(
                Code::Busy,
                format!("processes still in the cgroup after kill: {pids:?}"),
            )
            .with_path(&dirs[0]));
        }
        // First round: plain SIGKILL (a task waiting under a v1 OOM with the
        // killer disabled dies at once but would not freeze). Later rounds
        // freeze first, so forks cannot outrun the kills.
        let freeze = round > 0 && m.has_freezer();
        if freeze {
            let _ = m.set_frozen(true);
        }
        // Frozen, the group is read again: no fork can escape this round's kill.
        let pids = if freeze { subtree_pids(&dirs) } else { pids };
        // A pidfd per process, opened before its kill: the signal cannot
        // reach a reused pid, and the wait below ends when these very
        // processes have exited (they leave the cgroup before their pidfd
        // turns readable), instead of a fixed sleep between rounds.
        let fds: Vec<(i32, Option<OwnedFd>)> = pids
            .iter()
            .enumerate()
            .map(|(i, &pid)| {
                let fd = (i < MAX_PIDFDS)
                    .then(|| ctr_common::proc::pidfd_open(pid).ok())
                    .flatten();
                (pid, fd)
            })
            .collect();
        for (pid, fd) in &fds {
            let sent = fd.as_ref().is_some_and(|fd| {
                ctr_common::proc::pidfd_send_signal(fd.as_raw_fd(), libc::SIGKILL).is_ok()
            });
            if !sent {
                // SAFETY: as above.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
        }
        if freeze {
            let _ = m.set_frozen(false);
        }
        let waited: Vec<RawFd> = fds
            .iter()
            .filter_map(|(_, fd)| fd.as_ref().map(|fd| fd.as_raw_fd()))
            .collect();
        // Every process was waited for: the next round only confirms
        // (or finds a fork that raced the read of cgroup.procs).
        if waited.len() < pids.len()
            || !wait_exited(
                &waited,
                end.saturating_duration_since(Instant::now())
                    .min(ROUND_WAIT),
            )
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(())
}

/// At most this many pidfds are open per kill round (the rest are killed by
/// pid and waited for with a short sleep, the next round finds them again).
const MAX_PIDFDS: usize = 256;
/// How long one kill round waits for its processes to exit before it looks
/// again (a process stuck in an uninterruptible sleep must not stop the
/// next round's kill of a fork).
const ROUND_WAIT: Duration = Duration::from_millis(50);

/// Wait until every pidfd is readable (its process exited), at most
/// `timeout`; false if some process was still alive then.
fn wait_exited(fds: &[RawFd], timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    let mut pending = fds.to_vec();
    while !pending.is_empty() {
        let left = end.saturating_duration_since(Instant::now());
        match ctr_common::poll::readable(&pending, Some(left)) {
            Ok(ready) if ready.contains(&true) => {
                let mut exited = ready.into_iter();
                pending.retain(|_| !exited.next().unwrap_or(false));
            }
            _ => return false,
        }
    }
    true
}

/// Whether any directory of the cgroup exists.
pub fn exists(m: &dyn Manager) -> bool {
    m.dirs().iter().any(|d| d.is_dir())
}

/// Read a raw file of the cgroup.
pub fn read_file(m: &dyn Manager, file: &str) -> Result<String, Error> {
    check_file(file)?;
    read(&m.dir_for(file)?, file)
}

/// Write a raw file of the cgroup.
pub fn write_file(m: &dyn Manager, file: &str, value: &str) -> Result<(), Error> {
    check_file(file)?;
    write(&m.dir_for(file)?, file, value)
}

fn check_file(file: &str) -> Result<(), Error> {
    if file.is_empty() || file.contains('/') || file.starts_with('.') {
        return Err(Error::new(
            Code::InvalidPath,
            format!("invalid cgroup file name {file:?}"),
        )
        .with_field(file.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::layout_from;
    use crate::resources::parse;
    use serde_json::json;

    /// The kill rounds' wait: true once every pidfd's process has exited,
    /// false at the timeout while one still runs.
    #[test]
    fn wait_exited_ends_at_the_exit_or_the_timeout() {
        let mut child = match std::process::Command::new("sleep").arg("30").spawn() {
            Ok(c) => c,
            Err(e) => {
                println!("skipped: cannot spawn sleep: {e}");
                return;
            }
        };
        let pid = child.id() as i32;
        let fd = match ctr_common::proc::pidfd_open(pid) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                println!("skipped: no pidfd_open here: {e}");
                return;
            }
        };
        assert!(!wait_exited(&[fd.as_raw_fd()], Duration::from_millis(30)));
        ctr_common::proc::pidfd_send_signal(fd.as_raw_fd(), libc::SIGKILL).unwrap();
        assert!(wait_exited(&[fd.as_raw_fd()], Duration::from_secs(10)));
        // Exited but not reaped yet: the pidfd stays readable.
        assert!(wait_exited(&[fd.as_raw_fd()], Duration::ZERO));
        let st = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&st),
            Some(libc::SIGKILL)
        );
        assert!(wait_exited(&[], Duration::ZERO));
    }

    const HYBRID: &str = "\
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
";

    #[test]
    fn picks_backends_and_paths() {
        let l = layout_from(
            HYBRID,
            "4:memory:/user\n3:cpu,cpuacct:/\n1:name=systemd:/x\n0::/\n",
            |_| Some("hugetlb".into()),
        );
        assert_eq!(
            manager_for(&l, "job", &Options::default())
                .err()
                .unwrap()
                .code,
            Code::RelativePath.as_str()
        );
        let m = manager_for(&l, "job", &Options::relative_to_own_cgroup()).unwrap();
        assert_eq!(m.version(), 1);
        assert_eq!(
            m.dirs(),
            vec![
                PathBuf::from("/sys/fs/cgroup/memory/user/job"),
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/job"),
                PathBuf::from("/sys/fs/cgroup/unified/job"),
            ]
        );
        let m = manager_for(
            &l,
            "/job",
            &Options {
                backend: Backend::V2,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(m.dirs(), vec![PathBuf::from("/sys/fs/cgroup/unified/job")]);
        let m = manager_for(
            &l,
            "/a",
            &Options {
                backend: Backend::Auto,
                controllers: Some(vec!["memory".into()]),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(m.dirs()[0], PathBuf::from("/sys/fs/cgroup/memory/a"));
        assert_eq!(m.dirs().len(), 2);
        let e = manager_for(
            &l,
            "/a",
            &Options {
                backend: Backend::Auto,
                controllers: Some(vec!["bogus".into()]),
                ..Options::default()
            },
        )
        .err()
        .unwrap();
        assert_eq!(e.code, Code::UnknownController.as_str());
        assert_eq!(
            manager_for(&l, "../x", &Options::default())
                .err()
                .unwrap()
                .code,
            Code::InvalidPath.as_str()
        );
    }

    #[test]
    fn raw_files_come_from_the_right_hierarchy() {
        let t = tempfile::tempdir().unwrap();
        let (mem, cpu, uni) = (
            t.path().join("memory"),
            t.path().join("cpu"),
            t.path().join("unified"),
        );
        for d in [&mem, &cpu, &uni] {
            std::fs::create_dir(d).unwrap();
        }
        crate::fsx::fixture(&mem, &[("memory.stat", ""), ("cgroup.procs", "")]);
        crate::fsx::fixture(&cpu, &[("cpu.shares", ""), ("cgroup.procs", "")]);
        crate::fsx::fixture(
            &uni,
            &[
                ("cgroup.events", ""),
                ("memory.pressure", ""),
                ("hugetlb.2MB.max", ""),
            ],
        );
        let m = V1Manager {
            hier: vec![
                (vec!["cpu".into()], t.path().into(), cpu.clone()),
                (vec!["memory".into()], t.path().into(), mem.clone()),
            ],
            unified: Some((t.path().into(), uni.clone(), vec!["hugetlb".into()])),
        };
        assert_eq!(m.dir_for("memory.stat").unwrap(), mem);
        assert_eq!(m.dir_for("cpu.shares").unwrap(), cpu);
        assert_eq!(m.dir_for("cgroup.procs").unwrap(), cpu);
        assert_eq!(m.dir_for("cgroup.events").unwrap(), uni);
        assert_eq!(m.dir_for("memory.pressure").unwrap(), uni);
        assert_eq!(m.dir_for("hugetlb.2MB.max").unwrap(), uni);
        let lone = V1Manager {
            hier: vec![(vec!["cpu".into()], t.path().into(), cpu)],
            unified: None,
        };
        assert_eq!(
            lone.dir_for("memory.stat").unwrap_err().code,
            Code::UnknownController.as_str()
        );
    }

    #[test]
    fn v2_create_apply_and_undo_in_a_fixture_tree() {
        // A fake cgroup2 root: mkdir makes plain dirs, so the controller
        // files are made by the init of each test step.
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), "memory pids").unwrap();
        std::fs::write(root.path().join("cgroup.subtree_control"), "").unwrap();
        let m = V2Manager {
            root: root.path().into(),
            dir: root.path().join("a/b"),
            controllers: Some(vec!["memory".into(), "pids".into()]),
            hybrid: false,
        };
        // memory.max does not exist in a plain dir: apply fails, create undoes.
        let e = m
            .create(&parse(&json!({ "memory": { "max": "5m" } })).unwrap())
            .unwrap_err();
        assert_eq!(e.code, Code::Unsupported.as_str());
        assert!(
            !root.path().join("a").exists(),
            "failed create left a directory"
        );
        // The hierarchy root was not made by this crate: never written.
        assert_eq!(
            std::fs::read_to_string(root.path().join("cgroup.subtree_control")).unwrap(),
            ""
        );
        assert!(
            e.message.contains("cgroup.subtree_control"),
            "{}",
            e.message
        );
        m.create(&Resources::default()).unwrap();
        assert!(root.path().join("a/b").is_dir());
        std::fs::write(root.path().join("a/b/memory.max"), "").unwrap();
        m.apply(&parse(&json!({ "memory": { "max": "1m" } })).unwrap())
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("a/b/memory.max")).unwrap(),
            "1048576"
        );
        std::fs::remove_file(root.path().join("a/b/memory.max")).unwrap();
        std::fs::create_dir(root.path().join("a/b/child")).unwrap();
        remove_all(&m, false).unwrap();
        assert!(!root.path().join("a/b").exists());
    }

    #[test]
    fn subtree_control_is_written_only_in_directories_made_here() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("cgroup.controllers"), "memory pids hugetlb").unwrap();
        std::fs::write(r.join("cgroup.subtree_control"), "memory").unwrap();
        std::fs::create_dir(r.join("a")).unwrap();
        std::fs::write(r.join("a/cgroup.controllers"), "memory").unwrap();
        std::fs::write(r.join("a/cgroup.subtree_control"), "").unwrap();
        let want = vec!["memory".to_string(), "pids".to_string()];
        // `a` is ours: memory goes on there; the root keeps what it had.
        enable_v2(r, &r.join("a/b"), &want, &[], &[r.join("a")]).unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("cgroup.subtree_control")).unwrap(),
            "memory"
        );
        assert_eq!(
            std::fs::read_to_string(r.join("a/cgroup.subtree_control")).unwrap(),
            "+memory"
        );
        // hugetlb is needed but the root (not ours) does not pass it down: refused, nothing written.
        std::fs::write(r.join("a/cgroup.subtree_control"), "").unwrap();
        let e = enable_v2(
            r,
            &r.join("a/b"),
            &[],
            &["hugetlb".to_string()],
            &[r.join("a")],
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::Unsupported.as_str(), Some("hugepageLimits"))
        );
        assert!(
            e.message.contains("only in cgroups it created"),
            "{}",
            e.message
        );
        assert_eq!(
            std::fs::read_to_string(r.join("cgroup.subtree_control")).unwrap(),
            "memory"
        );
        assert_eq!(
            std::fs::read_to_string(r.join("a/cgroup.subtree_control")).unwrap(),
            ""
        );
    }
}
