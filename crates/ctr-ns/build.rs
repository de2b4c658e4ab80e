//! Builds `helper/ctr-exec.c`, the static exec helper the child runs from a
//! sealed memfd before the container's program (see `src/exec_helper.rs`):
//! no libc, no ELF interpreter, a few hundred bytes.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "helper/ctr-exec.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ctr-exec");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-static",
            "-nostdlib",
            "-Os",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-pie",
            "-no-pie",
            "-ffreestanding",
            "-Wall",
            "-Werror",
            "-Wl,--build-id=none",
            "-Wl,-z,noexecstack",
            "-s",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("ctr-ns: cannot run {cc} to build {src}: {e}"));
    assert!(status.success(), "ctr-ns: {cc} failed to build {src}");
}
