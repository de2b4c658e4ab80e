//! misc controller (`misc.max`, same format on v1 and v2).

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Apply misc limits: `res_a 10`.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (k, v) in &r.misc {
        write(
            dir,
            "misc.max",
            &format!(
                "{k} {}",
                if *v < 0 {
                    "max".to_string()
                } else {
                    v.to_string()
                }
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn misc_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("misc.max"), "").unwrap();
        apply(d.path(), &parse(&json!({ "misc": { "sev": 3 } })).unwrap()).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("misc.max")).unwrap(),
            "sev 3"
        );
    }
}
