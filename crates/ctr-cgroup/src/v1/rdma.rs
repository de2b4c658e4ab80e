//! rdma controller (`rdma.max`, same format on v1 and v2).

use crate::fsx::write;
use crate::resources::Resources;
use ctr_common::Error;
use std::path::Path;

/// Apply rdma limits: `mlx4_0 hca_handle=2 hca_object=2000`.
pub fn apply(dir: &Path, r: &Resources) -> Result<(), Error> {
    for (dev, (h, o)) in &r.rdma {
        let mut line = dev.clone();
        if let Some(h) = h {
            line += &format!(" hca_handle={h}");
        }
        if let Some(o) = o {
            line += &format!(" hca_object={o}");
        }
        write(dir, "rdma.max", &line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse;
    use serde_json::json;

    #[test]
    fn rdma_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("rdma.max"), "").unwrap();
        apply(
            d.path(),
            &parse(&json!({ "rdma": { "mlx4_0": { "hcaHandles": 2, "hcaObjects": 2000 } } }))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("rdma.max")).unwrap(),
            "mlx4_0 hca_handle=2 hca_object=2000"
        );
    }
}
