//! The cost of the exec helper (see `ctr_ns::exec_helper`): fork + exec of
//! a static program directly, and through the sealed helper memfd (one
//! extra `execve` of a few-KB static binary), plus the one-time cost of
//! making the memfd. Used by `bench/exec-protection.mjs`.
//!
//! `cargo run --release -p ctr-ns --example exec_helper_bench -- [runs] [program]`
use std::ffi::CString;
use std::time::Instant;

fn spawn_once(
    via_helper: Option<(i32, &[*const libc::c_char])>,
    path: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> f64 {
    let t = Instant::now();
    // SAFETY: single-threaded example; the child only execs or exits.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            match via_helper {
                Some((fd, hargv)) => {
                    libc::syscall(
                        libc::SYS_execveat,
                        fd,
                        c"".as_ptr(),
                        hargv.as_ptr(),
                        envp.as_ptr(),
                        libc::AT_EMPTY_PATH,
                    );
                }
                None => {
                    libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                }
            }
            libc::_exit(127);
        }
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        assert!(
            libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0,
            "child failed: {st:#x}"
        );
    }
    t.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);
    let program = args.next().unwrap_or_else(|| "/bin/true".into());
    let path = CString::new(program.clone()).unwrap();
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];

    let t = Instant::now();
    let fd = ctr_ns::exec_helper::helper_fd().expect("helper memfd");
    let make_ms = t.elapsed().as_secs_f64() * 1000.0;

    // The helper reports a failed exec on this pipe (a real spawn's status pipe).
    let mut pipe = [0; 2];
    unsafe { libc::pipe(pipe.as_mut_ptr()) };
    let mut storage = Vec::new();
    let cands = [path.as_ptr()];
    let hargv = ctr_ns::exec_helper::helper_argv(
        pipe[1],
        c"-1,-1,-1".as_ptr(),
        &cands,
        &argv,
        &mut storage,
    );

    let mut direct = Vec::with_capacity(runs);
    let mut helper = Vec::with_capacity(runs);
    // Interleaved, so both see the same machine load.
    for _ in 0..runs {
        direct.push(spawn_once(None, &path, &argv, &envp));
        helper.push(spawn_once(Some((fd, &hargv)), &path, &argv, &envp));
    }
    let (d, h) = (median(direct), median(helper));
    println!(
        "exec helper: {} bytes, sealed memfd made once in {make_ms:.3} ms",
        ctr_ns::exec_helper::HELPER.len()
    );
    println!("fork+exec {program}: direct median {d:.3} ms, through the helper {h:.3} ms, added {:.3} ms per spawn ({runs} runs each)", h - d);
}
