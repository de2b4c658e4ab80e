//! Raw spawn + wait of `/bin/true` from Rust (no Node), for comparison
//! with bench/ns-spawn.mjs: `cargo run --release -p ctr-ns --example spawn_bench`.
use ctr_ns::{spawn, NamespaceKind, SpawnOptions, Stdio};
use std::time::Instant;

fn main() {
    let n = 300;
    for (name, ns) in [
        ("none", vec![]),
        (
            "pid,mnt,uts,ipc,net",
            vec![
                NamespaceKind::Pid,
                NamespaceKind::Mnt,
                NamespaceKind::Uts,
                NamespaceKind::Ipc,
                NamespaceKind::Net,
            ],
        ),
    ] {
        let mut o = SpawnOptions::new("/bin/true", vec![]);
        o.io.stdio = [Stdio::Null, Stdio::Null, Stdio::Null];
        o.namespaces.create = ns;
        let mut t: Vec<f64> = (0..n)
            .map(|_| {
                let s = Instant::now();
                let c = spawn(&o).unwrap();
                c.wait_stage().unwrap();
                c.wait().unwrap();
                s.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{name:24} median {:.3} ms", t[n / 2]);
    }
}
