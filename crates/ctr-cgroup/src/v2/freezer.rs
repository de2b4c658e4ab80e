//! v2 freezer (`cgroup.freeze`, settled state in `cgroup.events`).

use crate::fsx::{keyed, read, write};
use crate::Code;
use ctr_common::Error;
use std::path::Path;
use std::time::{Duration, Instant};

/// Freeze or thaw, waiting until `cgroup.events` reports the state.
pub fn set(dir: &Path, frozen: bool) -> Result<(), Error> {
    write(dir, "cgroup.freeze", if frozen { "1" } else { "0" })?;
    let want = frozen as u64;
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let ev = read(dir, "cgroup.events")?;
        if keyed(&ev, "frozen").unwrap_or(want) == want {
            return Ok(());
        }
        if Instant::now() > end {
            return Err(Error::new(
                Code::Freeze,
                "cgroup did not settle in the requested freezer state",
            )
            .with_path(dir.join("cgroup.events")));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freeze() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.freeze"), "0").unwrap();
        std::fs::write(d.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        set(d.path(), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("cgroup.freeze")).unwrap(),
            "1"
        );
    }
}
