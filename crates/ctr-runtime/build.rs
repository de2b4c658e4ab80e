//! Links `ctrun` with `ctrun-hot.ld`: the functions its usual commands run
//! (`run`, `create`, `start`, `exec`, `state`, `delete`) placed together
//! at the start of the text. A short-lived `ctrun`'s RSS is mostly its
//! text: the kernel maps a binary's page cache a large folio at a time
//! (64 KiB and up), so a function touched anywhere maps its neighbours too;
//! with the hot functions packed, `run` maps a few folios instead of most
//! of the binary (docs/performance.md). The list is made by
//! `bench/ctrun-hot-text.mjs` (a uprobe on every function); a name it lacks
//! (new code) only stays where the linker puts it.

fn main() {
    let script =
        std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("ctrun-hot.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bin=ctrun=-Wl,-T,{}", script.display());
}
