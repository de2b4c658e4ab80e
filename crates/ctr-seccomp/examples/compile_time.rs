//! Time cold compiles of Docker's default profile, in CPU time of this
//! thread (wall time on a shared machine mostly measures the neighbours):
//! `cargo run --release -p ctr-seccomp --example compile_time [runs] [flat]`.
use ctr_seccomp::{compile::compile_uncached, parse_profile, CompileOptions, ResolveFor};
use std::time::Duration;

fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn main() {
    let json = include_str!("../data/docker-default.json");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let binary_tree = std::env::args().nth(2).as_deref() != Some("flat");
    let p = parse_profile(json, None, &ResolveFor::host_defaults().unwrap()).unwrap();
    let opts = CompileOptions {
        binary_tree,
        arch: None,
    };
    let first = cpu_now();
    let prog = compile_uncached(&p, &opts).unwrap();
    let first = cpu_now() - first;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = cpu_now();
            compile_uncached(&p, &opts).unwrap();
            cpu_now() - t
        })
        .collect();
    times.sort();
    println!(
        "{} cold compile, CPU: first {first:?}, median {:?}, min {:?} ({} instructions)",
        if binary_tree { "tree" } else { "flat" },
        times[runs / 2],
        times[0],
        prog.bpf.len() / 8
    );
}
