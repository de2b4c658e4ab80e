//! Seccomp notify (`SCMP_ACT_NOTIFY`): hand the filter's listener fd to the
//! agent at `linux.seccomp.listenerPath` with the container process state
//! (config-linux.md "The Container Process State"), as runc does: one
//! connection, one `sendmsg` carrying the JSON and the fd as `SCM_RIGHTS`,
//! then our copy of the fd is closed.

use crate::plan::SeccompListener;
use crate::Code;
use ctr_common::{Error, Result};
use ctr_ns::Child;
use std::os::fd::AsFd;

/// The container process state: `state` is the runtime.md state of the
/// container, `pid` the process the filter belongs to.
pub fn process_state(l: &SeccompListener, pid: i32, state: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "ociVersion": ctr_oci::OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": pid,
        "state": state,
    });
    if let Some(m) = &l.metadata {
        v["metadata"] = m.clone().into();
    }
    v
}

/// After [`ctr_ns::Stage::SeccompListener`]: take the listener fd from
/// `child` and send it with `state` to the agent. The caller kills the
/// child on error. Errors are `ERUNTIME_SECCOMP_LISTENER` with the socket
/// path and the errno of the failed `connect`/`sendmsg`.
pub fn send(child: &Child, l: &SeccompListener, state: &serde_json::Value) -> Result<()> {
    let fd = child.take_seccomp_listener().ok_or_else(|| {
        Error::new(
            Code::SeccompListener,
            "the container init reported a seccomp listener but none was taken",
        )
    })?;
    let msg = state.to_string();
    let r = ctr_seccomp::notify::send_listener(&l.path, fd.as_fd(), msg.as_bytes());
    // Our copy goes now: the agent holds the only one besides the filter's.
    drop(fd);
    r.map_err(|e| Error {
        code: Code::SeccompListener.into(),
        message: format!("linux.seccomp.listenerPath: {}", e.message),
        path: Some(l.path.clone()),
        ..e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_state_has_the_spec_fields() {
        let st = crate::hooks::state_value("c1", 42, "creating", "/b", &Default::default());
        let l = SeccompListener {
            path: "/run/a.sock".into(),
            metadata: Some("MKNOD=/dev/null".into()),
        };
        let v = process_state(&l, 43, st.clone());
        assert_eq!(v["ociVersion"], ctr_oci::OCI_VERSION);
        assert_eq!(v["fds"], serde_json::json!(["seccompFd"]));
        assert_eq!(
            (v["pid"].as_i64(), v["metadata"].as_str()),
            (Some(43), Some("MKNOD=/dev/null"))
        );
        assert_eq!(v["state"], st);
        assert_eq!(v["state"]["status"], "creating");
        let v = process_state(
            &SeccompListener {
                metadata: None,
                ..l
            },
            43,
            st,
        );
        assert!(
            v.get("metadata").is_none(),
            "no listenerMetadata, no metadata"
        );
    }
}
