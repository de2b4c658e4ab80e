use super::*;
use std::collections::HashSet;

#[test]
fn generated_files_are_current() {
    let stale = stale(&repo_root());
    assert!(
        stale.is_empty(),
        "stale generated files (run `pnpm run codes`): {stale:?}"
    );
}

#[test]
fn codes_are_unique_prefixed_and_documented() {
    let mut seen = HashSet::new();
    for f in families() {
        for e in &f.codes {
            assert!(seen.insert(e.code), "{} is declared twice", e.code);
            assert!(
                e.code.starts_with('E')
                    && e.code
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not an E-code",
                e.code
            );
            for text in [e.meaning, e.fix] {
                assert!(!text.is_empty(), "{} needs a meaning and a fix", e.code);
                assert!(
                    !text.ends_with('.'),
                    "{}: no trailing period in {text:?}",
                    e.code
                );
                assert!(!text.contains('\n'), "{}: one line only", e.code);
            }
        }
    }
    // the per-crate prefixes
    let prefix = |krate: &str| match krate {
        "ctr-ns" => "ENS_",
        "ctr-cgroup" => "ECGROUP_",
        "ctr-seccomp" => "ESECCOMP_",
        "ctr-netns" => "ENETNS_",
        "ctr-oci" => "EOCI_",
        "ctr-runtime" => "ERUNTIME_",
        _ => "E",
    };
    for f in families() {
        for e in &f.codes {
            assert!(
                e.code.starts_with(prefix(f.krate)),
                "{} in {}",
                e.code,
                f.krate
            );
        }
    }
}

/// Quoted strings that look like codes but are not (why in the comment).
const NOT_CODES: &[&str] = &[
    // the part of `ENS_EXEC_FIFO` after its prefix, as `ns_err` in
    // crates/ctr-runtime/src/lifecycle.rs matches it after
    // `strip_prefix("ENS_")` (the full code is spelled `Code::ExecFifo`)
    "EXEC_FIFO",
];

/// The quoted string literals of `text` that are error codes: matching
/// `E[A-Z0-9]+_[A-Z0-9_]+`, or equal to a declared code (`EINTERNAL`).
fn code_literals<'a>(text: &'a str, known: &HashSet<&str>) -> Vec<(usize, &'a str)> {
    let bytes = text.as_bytes();
    let mut found = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if (q == b'"' || q == b'\'') && bytes.get(i + 1) == Some(&b'E') {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len()
                && (bytes[end].is_ascii_uppercase()
                    || bytes[end].is_ascii_digit()
                    || bytes[end] == b'_')
            {
                end += 1;
            }
            if bytes.get(end) == Some(&q) {
                let s = &text[start..end];
                // E[A-Z0-9]+_[A-Z0-9_]+ (the scan already kept to [A-Z0-9_])
                let shaped = match s[1..].find('_') {
                    Some(u) => u > 0 && s.len() > u + 2,
                    None => false,
                };
                if (shaped || known.contains(s)) && !NOT_CODES.contains(&s) {
                    let line = text[..start].matches('\n').count() + 1;
                    found.push((line, s));
                }
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn walk(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if name != "node_modules" && name != "dist" && name != "target" {
                walk(&p, ext, out);
            }
        } else if ext.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

/// The sources where a code must be spelled through its enum or the
/// generated TS constants: Rust under crates/*/src and packages/*/native/src,
/// TypeScript under packages/*/src. Test files (crates/*/tests,
/// packages/*/test, tests/) are left out on purpose: they pin the stable
/// strings users match on.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for (top, sub, ext) in [
        ("crates", "src", &[".rs"][..]),
        ("packages", "native/src", &[".rs"][..]),
        ("packages", "src", &[".ts"][..]),
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(top)) else {
            continue;
        };
        for e in rd.flatten() {
            walk(&e.path().join(sub), ext, &mut files);
        }
    }
    files.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        // the enums and the files generated from them
        // (and this crate, whose tests spell codes to test the scanner)
        !(name == "code.rs" || name == "codes.ts" || p.starts_with(root.join("crates/ctr-codes")))
    });
    files.sort();
    files
}

#[test]
fn no_code_literals_outside_the_enums() {
    let root = repo_root();
    let known: HashSet<&str> = families()
        .iter()
        .flat_map(|f| f.codes.iter().map(|e| e.code))
        .collect();
    let mut offenders = vec![];
    for path in sources(&root) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, s) in code_literals(&text, &known) {
            let rel = path.strip_prefix(&root).unwrap_or(&path);
            offenders.push(format!("{}:{line}: \"{s}\"", rel.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "{} error-code string literals outside the Code enums; spell them as \
         `Code::Variant` (Rust) or `XxxCodes.Variant` (TS), or run \
         `node scripts/codes-migrate.mjs`:\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}

#[test]
fn the_scanner_finds_codes_and_skips_others() {
    let known: HashSet<&str> = [ctr_common::Code::Internal.as_str()].into_iter().collect();
    let text =
        "a(\"ENS_EXEC\")\nb('ECGROUP_X1') \"EINTERNAL\" \"EXEC_FIFO\" 'E' \"ENOENT\" \"E_X\" \"ENS_\"";
    let got: Vec<&str> = code_literals(text, &known)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        got,
        [
            ctr_ns::Code::Exec.as_str(),
            "ECGROUP_X1",
            ctr_common::Code::Internal.as_str()
        ]
    );
}
