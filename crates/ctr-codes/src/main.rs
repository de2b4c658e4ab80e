//! `ctr-codes [--check]`: write the generated error-code files, or with
//! `--check` exit 1 naming the ones that are stale.

fn main() {
    let root = ctr_codes::repo_root();
    let check = std::env::args().any(|a| a == "--check");
    if check {
        let stale = ctr_codes::stale(&root);
        if stale.is_empty() {
            return;
        }
        for p in &stale {
            eprintln!("ctr-codes: {} is stale: run `pnpm run codes`", p.display());
        }
        std::process::exit(1);
    }
    for (path, text) in ctr_codes::generated(&root) {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            println!("ctr-codes: wrote {}", path.display());
        }
    }
}
