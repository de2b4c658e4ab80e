//! v1 freezer controller.

use crate::fsx::{read, write};
use crate::Code;
use ctr_common::Error;
use std::path::Path;
use std::time::{Duration, Instant};

/// Freeze (`true`) or thaw, waiting until the state settles.
pub fn set(dir: &Path, frozen: bool) -> Result<(), Error> {
    let want = if frozen { "FROZEN" } else { "THAWED" };
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        write(dir, "freezer.state", want)?;
        if read(dir, "freezer.state")?.trim() == want {
            return Ok(());
        }
        if Instant::now() > end {
            return Err(
                Error::new(Code::Freeze, format!("freezer did not reach {want}"))
                    .with_path(dir.join("freezer.state")),
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freeze_writes_state() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("freezer.state"), "THAWED\n").unwrap();
        set(d.path(), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("freezer.state")).unwrap(),
            "FROZEN"
        );
    }
}
