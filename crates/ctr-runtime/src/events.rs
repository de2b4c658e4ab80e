//! `events`: runc's event stream of a container, one JSON object a line:
//! `{"type":"stats","id":ID,"data":{...}}` in runc's `types.Stats` shape
//! (cpu, cpuset, memory, pids, blkio, hugetlb, PSI on cgroup v2, the
//! interfaces of the container's own network namespace, and an empty
//! `intel_rdt`: no RDT here) from @ctr/cgroup's statistics, and
//! `{"type":"oom","id":ID}` when the kernel reports an OOM situation in the
//! container's cgroup (@ctr/cgroup's event watcher: eventfd on v1,
//! `memory.events` on v2). Without `--stats` it runs until the container's
//! init exits.

use crate::state::{live_status, Status, Store};
use crate::util;
use crate::Code;
use ctr_cgroup::stats::Stats;
use ctr_common::{Error, Result};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One runc event line.
pub fn event_line(kind: &str, id: &str, data: Option<Value>) -> String {
    let mut v = json!({ "type": kind, "id": id });
    if let Some(d) = data {
        v["data"] = d;
    }
    v.to_string()
}

/// Insert `v` under `k` unless it is zero (Go's `omitempty`).
fn put_nz(m: &mut Map<String, Value>, k: &str, v: Option<u64>) {
    if let Some(x) = v.filter(|x| *x != 0) {
        m.insert(k.into(), x.into());
    }
}

fn memory_entry(
    limit: Option<u64>,
    usage: Option<u64>,
    max: Option<u64>,
    failcnt: Option<u64>,
) -> Value {
    // runc reports an unlimited limit as the kernel's huge number; 0 here
    // when the file is absent.
    let mut m = Map::new();
    m.insert("limit".into(), limit.unwrap_or(u64::MAX).into());
    put_nz(&mut m, "usage", usage);
    put_nz(&mut m, "max", max);
    m.insert("failcnt".into(), failcnt.unwrap_or(0).into());
    Value::Object(m)
}

/// @ctr/cgroup statistics in runc's `types.Stats` shape (times in
/// nanoseconds; `raw` is the cgroup's `memory.stat`, when given).
pub fn runc_stats(s: &Stats, raw_memory: Option<&str>) -> Value {
    let ns = |us: Option<u64>| us.map(|v| v.saturating_mul(1000));
    let mut usage = Map::new();
    put_nz(&mut usage, "total", ns(s.cpu.usage_usec));
    usage.insert("kernel".into(), ns(s.cpu.system_usec).unwrap_or(0).into());
    usage.insert("user".into(), ns(s.cpu.user_usec).unwrap_or(0).into());
    let mut throttling = Map::new();
    put_nz(&mut throttling, "periods", s.cpu.nr_periods);
    put_nz(&mut throttling, "throttledPeriods", s.cpu.nr_throttled);
    put_nz(&mut throttling, "throttledTime", ns(s.cpu.throttled_usec));

    let m = &s.memory;
    let mut memory = Map::new();
    put_nz(&mut memory, "cache", m.cache);
    memory.insert(
        "usage".into(),
        memory_entry(m.limit, m.current, m.peak, m.failcnt),
    );
    memory.insert("swap".into(), memory_entry(None, m.swap, None, None));
    if let Some(text) = raw_memory {
        let raw: Map<String, Value> = ctr_cgroup::fsx::flat_keyed(text)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        if !raw.is_empty() {
            memory.insert("raw".into(), Value::Object(raw));
        }
    }

    let mut pids = Map::new();
    put_nz(&mut pids, "current", s.pids.current);
    put_nz(&mut pids, "limit", s.pids.limit);

    let entry = |d: &ctr_cgroup::stats::IoDeviceStats, op: &str, v: u64| json!({ "major": d.major, "minor": d.minor, "op": op, "value": v });
    let bytes: Vec<Value> =
        s.io.iter()
            .flat_map(|d| {
                [
                    entry(d, "Read", d.read_bytes),
                    entry(d, "Write", d.write_bytes),
                ]
            })
            .collect();
    let ops: Vec<Value> =
        s.io.iter()
            .flat_map(|d| [entry(d, "Read", d.read_ops), entry(d, "Write", d.write_ops)])
            .collect();
    let mut blkio = Map::new();
    if !bytes.is_empty() {
        blkio.insert("ioServiceBytesRecursive".into(), bytes.into());
        blkio.insert("ioServicedRecursive".into(), ops.into());
    }

    let hugetlb: Map<String, Value> = s
        .hugetlb
        .iter()
        .map(|(size, h)| {
            let mut e = Map::new();
            put_nz(&mut e, "usage", Some(h.current));
            put_nz(&mut e, "max", h.peak);
            e.insert("failcnt".into(), h.failcnt.unwrap_or(0).into());
            (size.clone(), Value::Object(e))
        })
        .collect();

    json!({
        "cpu": { "usage": usage, "throttling": throttling },
        "memory": memory,
        "pids": pids,
        "blkio": blkio,
        "hugetlb": hugetlb,
    })
}

/// Options of [`events`].
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Print one stats event and return (`--stats`).
    pub stats_only: bool,
    /// Time between stats events (`--interval`, default 5 s).
    pub interval: Duration,
}

impl Default for EventsOptions {
    fn default() -> Self {
        EventsOptions {
            stats_only: false,
            interval: Duration::from_secs(5),
        }
    }
}

fn open_cgroup(store: &Store, id: &str) -> Result<(crate::state::Saved, ctr_cgroup::Cgroup)> {
    let saved = store.read(id)?;
    if live_status(&store.root.join(id), &saved) == Status::Stopped {
        return Err(Error::new(
            Code::NotRunning,
            format!("container with id {id} is not running"),
        ));
    }
    let p = saved
        .cgroup_path
        .clone()
        .ok_or_else(|| Error::new(Code::NoCgroup, format!("container {id:?} has no cgroup")))?;
    let cg = ctr_cgroup::Cgroup::open(&p, &crate::plan::cgroup_options(&saved))?;
    Ok((saved, cg))
}

/// The current statistics of container `id` in runc's shape.
pub fn stats(store: &Store, id: &str) -> Result<Value> {
    let (saved, cg) = open_cgroup(store, id)?;
    container_stats(&cg, saved.pid)
}

/// Everything `events` reports of a container whose init is `pid`: the
/// cgroup statistics, plus what runc adds from files @ctr/cgroup's `Stats`
/// leaves out (per-cpu usage and cpuset on v1, PSI on v2) and from the
/// init's network namespace. A file a layout lacks just leaves its field out.
fn container_stats(cg: &ctr_cgroup::Cgroup, pid: i32) -> Result<Value> {
    let s = cg.stats()?;
    let raw = cg.read_file("memory.stat").ok();
    let mut v = runc_stats(&s, raw.as_deref());
    let read = |f: &str| cg.read_file(f).ok();
    if let Some(percpu) = read("cpuacct.usage_percpu") {
        let per: Vec<u64> = percpu
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if !per.is_empty() {
            v["cpu"]["usage"]["percpu"] = per.into();
        }
    }
    v["cpuset"] = cpuset_stats(&read);
    for (ctrl, key) in [("cpu", "cpu"), ("memory", "memory"), ("io", "blkio")] {
        if let Some(psi) = read(&format!("{ctrl}.pressure")).and_then(|t| psi_stats(&t)) {
            v[key]["psi"] = psi;
        }
    }
    v["intel_rdt"] = json!({});
    v["network_interfaces"] = own_net_ns_interfaces(pid);
    Ok(v)
}

/// A kernel cpu or node list (`0-3,8`) as numbers (none if the kernel
/// wrote something else).
fn parse_list(s: &str) -> Vec<u32> {
    ctr_common::cpulist::parse(s, ctr_common::cpulist::CPUSET).unwrap_or_default()
}

/// runc's `cpuset` entry: the effective cpus and memory nodes (v2's
/// `*.effective`, v1's `effective_*`), and v1's flags.
fn cpuset_stats(read: &dyn Fn(&str) -> Option<String>) -> Value {
    let mut m = Map::new();
    let list = |files: [&str; 3]| {
        files
            .iter()
            .find_map(|f| read(f))
            .map(|t| parse_list(&t))
            .filter(|l| !l.is_empty())
    };
    if let Some(c) = list([
        "cpuset.cpus.effective",
        "cpuset.effective_cpus",
        "cpuset.cpus",
    ]) {
        m.insert("cpus".into(), c.into());
    }
    if let Some(n) = list([
        "cpuset.mems.effective",
        "cpuset.effective_mems",
        "cpuset.mems",
    ]) {
        m.insert("mems".into(), n.into());
    }
    for (file, key) in [
        ("cpuset.cpu_exclusive", "cpu_exclusive"),
        ("cpuset.mem_hardwall", "mem_hardwall"),
        ("cpuset.mem_exclusive", "mem_exclusive"),
        ("cpuset.memory_migrate", "memory_migrate"),
        ("cpuset.memory_spread_page", "memory_spread_page"),
        ("cpuset.memory_spread_slab", "memory_spread_slab"),
        ("cpuset.memory_pressure", "memory_pressure"),
        ("cpuset.sched_load_balance", "sched_load_balance"),
        (
            "cpuset.sched_relax_domain_level",
            "sched_relax_domain_level",
        ),
    ] {
        if let Some(n) = read(file).and_then(|t| t.trim().parse::<i64>().ok()) {
            m.insert(key.into(), n.into());
        }
    }
    Value::Object(m)
}

/// A `*.pressure` file (`some avg10=.. avg60=.. avg300=.. total=..`, and a
/// `full` line) as runc's `PSIStats`.
fn psi_stats(text: &str) -> Option<Value> {
    let mut m = Map::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(kind @ ("some" | "full")) = words.next() else {
            continue;
        };
        let mut d = Map::new();
        for kv in words {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let n: Value = if k == "total" {
                v.parse::<u64>().ok()?.into()
            } else {
                v.parse::<f64>().ok()?.into()
            };
            d.insert(k.into(), n);
        }
        m.insert(kind.into(), Value::Object(d));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// `/proc/net/dev` as runc's `NetworkInterface` list (its Go field names),
/// loopback left out.
fn net_dev_interfaces(text: &str) -> Vec<Value> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            let n: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if name == "lo" || n.len() < 12 {
                return None;
            }
            Some(json!({
                "Name": name,
                "RxBytes": n[0], "RxPackets": n[1], "RxErrors": n[2], "RxDropped": n[3],
                "TxBytes": n[8], "TxPackets": n[9], "TxErrors": n[10], "TxDropped": n[11],
            }))
        })
        .collect()
}

/// The interfaces of the init's network namespace, when it is not ours
/// (runc reports the veths it made; a container sharing the host's network
/// reports none, as there).
fn own_net_ns_interfaces(pid: i32) -> Value {
    let ns = |p: &str| {
        std::fs::metadata(p)
            .ok()
            .map(|m| std::os::linux::fs::MetadataExt::st_ino(&m))
    };
    let theirs = ns(&format!("/proc/{pid}/ns/net"));
    if theirs.is_none() || theirs == ns("/proc/self/ns/net") {
        return Value::Null;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/net/dev")) {
        Ok(text) => net_dev_interfaces(&text).into(),
        Err(_) => Value::Null,
    }
}

/// Write container `id`'s events to `out` as runc does: with
/// `stats_only` one stats line; else a stats line every interval and an
/// `oom` line as each OOM happens, until the init exits.
pub fn events(
    store: &Store,
    id: &str,
    o: &EventsOptions,
    out: Arc<Mutex<dyn Write + Send>>,
) -> Result<()> {
    if o.interval.is_zero() {
        return Err(Error::new(
            Code::Usage,
            "--interval: duration interval must be greater than 0",
        )
        .with_field("interval"));
    }
    let (saved, cg) = open_cgroup(store, id)?;
    let emit = |line: String| -> Result<()> {
        let mut w = out.lock().unwrap();
        writeln!(w, "{line}")
            .and_then(|_| w.flush())
            .map_err(|e| Error::io(Code::Events, "write", &e, "write an event"))
    };
    let stats_line = |cg: &ctr_cgroup::Cgroup| -> Result<String> {
        Ok(event_line(
            "stats",
            id,
            Some(container_stats(cg, saved.pid)?),
        ))
    };
    if o.stats_only {
        return emit(stats_line(&cg)?);
    }
    let pidfd = util::pidfd_open(saved.pid).map_err(|_| {
        Error::new(
            Code::NotRunning,
            format!("container with id {id} is not running"),
        )
    })?;
    if !util::alive(saved.pid, saved.init_start_time) {
        return Err(Error::new(
            Code::NotRunning,
            format!("container with id {id} is not running"),
        ));
    }
    let watcher = Arc::new(ctr_cgroup::events::Watcher::new(&cg.manager().events())?);
    let w2 = watcher.clone();
    let out2 = out.clone();
    let id2 = id.to_string();
    let thread = std::thread::spawn(move || {
        while let Ok(Some(batch)) = w2.next() {
            for _ in batch.iter().filter(|e| e.kind == "oom") {
                let mut w = out2.lock().unwrap();
                let _ = writeln!(w, "{}", event_line("oom", &id2, None)).and_then(|_| w.flush());
            }
        }
    });
    let r = (|| -> Result<()> {
        let mut next = Instant::now() + o.interval;
        loop {
            let left = next
                .saturating_duration_since(Instant::now())
                .as_millis()
                .min(i32::MAX as u128) as i32;
            let ready = util::poll_in(&[pidfd.as_raw_fd()], left)
                .map_err(|e| Error::io(Code::Events, "poll", &e, "wait for the init"))?;
            if ready[0] {
                return Ok(());
            }
            if Instant::now() >= next {
                match stats_line(&cg) {
                    Ok(line) => emit(line)?,
                    Err(e) if e.code == ctr_cgroup::Code::NotFound.as_str() => return Ok(()),
                    Err(e) => return Err(e),
                }
                next += o.interval;
            }
        }
    })();
    watcher.close();
    let _ = thread.join();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctr_cgroup::stats::*;

    #[test]
    fn stats_take_runc_shape() {
        let mut s = Stats {
            cpu: CpuStats {
                usage_usec: Some(5),
                user_usec: Some(3),
                system_usec: Some(2),
                nr_periods: Some(0),
                ..Default::default()
            },
            memory: MemoryStats {
                current: Some(4096),
                peak: Some(8192),
                limit: Some(1 << 20),
                cache: Some(0),
                failcnt: Some(1),
                ..Default::default()
            },
            pids: PidsStats {
                current: Some(2),
                limit: None,
            },
            io: vec![IoDeviceStats {
                major: 8,
                minor: 0,
                read_bytes: 10,
                write_bytes: 20,
                read_ops: 1,
                write_ops: 2,
            }],
            ..Default::default()
        };
        s.hugetlb.insert(
            "2MB".into(),
            HugetlbStats {
                current: 0,
                peak: None,
                limit: None,
                failcnt: Some(0),
            },
        );
        let v = runc_stats(&s, Some("cache 0\nrss 4096\n"));
        assert_eq!(
            v["cpu"]["usage"],
            json!({"total": 5000, "kernel": 2000, "user": 3000})
        );
        assert_eq!(
            v["cpu"]["throttling"],
            json!({}),
            "zeros are omitted, as Go's omitempty"
        );
        assert_eq!(
            v["memory"]["usage"],
            json!({"limit": 1048576, "usage": 4096, "max": 8192, "failcnt": 1})
        );
        assert_eq!(v["memory"]["raw"]["rss"], 4096);
        assert!(v["memory"].get("cache").is_none());
        assert_eq!(v["pids"], json!({"current": 2}));
        assert_eq!(
            v["blkio"]["ioServiceBytesRecursive"][1],
            json!({"major": 8, "minor": 0, "op": "Write", "value": 20})
        );
        assert_eq!(v["hugetlb"]["2MB"], json!({"failcnt": 0}));
        let line = event_line("stats", "c1", Some(v));
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (back["type"].as_str(), back["id"].as_str()),
            (Some("stats"), Some("c1"))
        );
        assert_eq!(event_line("oom", "c1", None), r#"{"id":"c1","type":"oom"}"#);
    }

    #[test]
    fn cpuset_psi_and_interfaces_parse_as_runc_reports_them() {
        assert_eq!(parse_list("0-3,8\n"), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse_list(""), Vec::<u32>::new());
        let files = |f: &str| match f {
            "cpuset.effective_cpus" => Some("0-1\n".to_string()),
            "cpuset.effective_mems" => Some("0\n".to_string()),
            "cpuset.mem_hardwall" => Some("1\n".to_string()),
            "cpuset.sched_relax_domain_level" => Some("-1\n".to_string()),
            _ => None,
        };
        assert_eq!(
            cpuset_stats(&files),
            json!({"cpus": [0, 1], "mems": [0], "mem_hardwall": 1, "sched_relax_domain_level": -1})
        );
        let psi = psi_stats("some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n").unwrap();
        assert_eq!(psi["some"]["avg10"], 1.5);
        assert_eq!(psi["some"]["total"], 1234);
        assert_eq!(psi["full"]["total"], 7);
        assert!(psi_stats("").is_none());
        let dev = "Inter-|   Receive |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n  eth0: 100 3 1 2 0 0 0 0 200 4 5 6 0 0 0 0\n";
        assert_eq!(
            net_dev_interfaces(dev),
            vec![
                json!({"Name": "eth0", "RxBytes": 100, "RxPackets": 3, "RxErrors": 1, "RxDropped": 2, "TxBytes": 200, "TxPackets": 4, "TxErrors": 5, "TxDropped": 6})
            ]
        );
    }
}
