//! `linux.memoryPolicy` (runtime-spec 1.3): the NUMA policy of the
//! container's processes, `set_mempolicy(2)` made by the init (and by every
//! `exec`'d process: it is the container's policy) right before exec. Checked here, with
//! codes naming the field, before anything is made; the syscall itself is
//! made by ctr-ns from a nodemask prepared in the parent.

use ctr_common::{cpulist, Error, Result};
use ctr_ns::MemoryPolicy;
use serde_json::Value;

/// The modes and flags, as named in the spec: ctr-common's tables.
pub use ctr_common::sched::{MPOL_FLAGS as FLAGS, MPOL_MODES as MODES};

fn invalid(field: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(
        ctr_oci::Code::Invalid,
        format!("linux.memoryPolicy.{field}: {msg}"),
    )
    .with_field(format!("linux.memoryPolicy.{field}"))
}

/// A node list as the spec writes it (`"0-3,7"`): ctr-common's one
/// parser. Nodes sorted, without repeats; empty for an empty list.
pub fn parse_nodes(s: &str) -> Result<Vec<u32>> {
    let field = "linux.memoryPolicy.nodes";
    cpulist::parse_field(s, cpulist::NODE, ctr_oci::Code::Invalid, field)
}

/// Check `linux.memoryPolicy` and turn it into ctr-ns's policy.
///
/// * `mode` is required and one of [`MODES`];
/// * `nodes` is required (non-empty) for `MPOL_BIND`, `MPOL_INTERLEAVE`,
///   `MPOL_WEIGHTED_INTERLEAVE` and `MPOL_PREFERRED_MANY`, forbidden for
///   `MPOL_DEFAULT` and `MPOL_LOCAL`, optional for `MPOL_PREFERRED` (none:
///   allocate on the local node);
/// * `flags` are [`FLAGS`]; `MPOL_F_STATIC_NODES` and
///   `MPOL_F_RELATIVE_NODES` exclude each other and need nodes;
///   `MPOL_F_NUMA_BALANCING` goes only with `MPOL_BIND` or
///   `MPOL_PREFERRED_MANY` (the kernel's rules, checked early so the error
///   names the field instead of an `EINVAL` from the init).
pub fn plan(v: &Value) -> Result<MemoryPolicy> {
    let m = v.as_object().ok_or_else(|| {
        Error::new(
            ctr_oci::Code::Invalid,
            "linux.memoryPolicy: expected an object",
        )
        .with_field("linux.memoryPolicy")
    })?;
    for k in m.keys() {
        if !["mode", "nodes", "flags"].contains(&k.as_str()) {
            return Err(invalid(k, "unknown field (mode, nodes, flags)"));
        }
    }
    let mode_name = match m.get("mode") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => return Err(invalid("mode", "is required")),
        Some(_) => return Err(invalid("mode", "expected a string")),
    };
    let mode = MODES
        .iter()
        .find(|(n, _)| *n == mode_name)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            invalid(
                "mode",
                format!(
                    "unknown mode {mode_name:?} ({})",
                    MODES.map(|(n, _)| n).join(", ")
                ),
            )
        })?;
    let nodes = match m.get("nodes") {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => parse_nodes(s)?,
        Some(_) => return Err(invalid("nodes", "expected a string like \"0-3,7\"")),
    };
    let mut flags = 0;
    match m.get("flags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (i, f) in a.iter().enumerate() {
                let name = f
                    .as_str()
                    .ok_or_else(|| invalid(&format!("flags[{i}]"), "expected a string"))?;
                let bit = FLAGS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, b)| *b)
                    .ok_or_else(|| {
                        invalid(
                            &format!("flags[{i}]"),
                            format!(
                                "unknown flag {name:?} ({})",
                                FLAGS.map(|(n, _)| n).join(", ")
                            ),
                        )
                    })?;
                flags |= bit;
            }
        }
        Some(_) => return Err(invalid("flags", "expected an array of strings")),
    }
    ctr_common::sched::check_mempolicy(mode, flags, !nodes.is_empty())
        .map_err(|(k, msg)| invalid(k, msg))?;
    Ok(MemoryPolicy { mode, flags, nodes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_lists_follow_the_spec_syntax() {
        assert_eq!(parse_nodes("0-3,7").unwrap(), vec![0, 1, 2, 3, 7]);
        assert_eq!(parse_nodes("5, 1,1").unwrap(), vec![1, 5]);
        assert_eq!(parse_nodes("").unwrap(), Vec::<u32>::new());
        for bad in ["a", "1-", "-1", "3-1", "1,,2", "2048", "99999999999"] {
            let e = parse_nodes(bad).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.path.as_deref()),
                (
                    ctr_oci::Code::Invalid.as_str(),
                    Some("linux.memoryPolicy.nodes")
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn modes_flags_and_nodes_are_checked() {
        let p =
            plan(&json!({"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_STATIC_NODES"]})).unwrap();
        assert_eq!(
            p,
            MemoryPolicy {
                mode: 2,
                flags: 1 << 15,
                nodes: vec![0]
            }
        );
        assert_eq!(p.syscall_args().unwrap(), (2 | 1 << 15, vec![1]));
        let p = plan(&json!({"mode":"MPOL_INTERLEAVE","nodes":"0,65"})).unwrap();
        assert_eq!(p.syscall_args().unwrap(), (3, vec![1, 2]));
        assert_eq!(
            plan(&json!({"mode":"MPOL_DEFAULT"}))
                .unwrap()
                .syscall_args()
                .unwrap(),
            (0, vec![])
        );
        assert_eq!(
            plan(&json!({"mode":"MPOL_PREFERRED"})).unwrap().mode,
            1,
            "preferred without nodes: local"
        );
        assert_eq!(plan(&json!({"mode":"MPOL_LOCAL"})).unwrap().mode, 4);
        let cases = [
            (json!({}), "linux.memoryPolicy.mode"),
            (json!({"mode":"MPOL_NOPE"}), "linux.memoryPolicy.mode"),
            (json!({"mode":2}), "linux.memoryPolicy.mode"),
            (json!({"mode":"MPOL_BIND"}), "linux.memoryPolicy.nodes"),
            (
                json!({"mode":"MPOL_INTERLEAVE","nodes":""}),
                "linux.memoryPolicy.nodes",
            ),
            (
                json!({"mode":"MPOL_WEIGHTED_INTERLEAVE"}),
                "linux.memoryPolicy.nodes",
            ),
            (
                json!({"mode":"MPOL_PREFERRED_MANY"}),
                "linux.memoryPolicy.nodes",
            ),
            (
                json!({"mode":"MPOL_DEFAULT","nodes":"0"}),
                "linux.memoryPolicy.nodes",
            ),
            (
                json!({"mode":"MPOL_LOCAL","nodes":"0"}),
                "linux.memoryPolicy.nodes",
            ),
            (
                json!({"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_NOPE"]}),
                "linux.memoryPolicy.flags[0]",
            ),
            (
                json!({"mode":"MPOL_BIND","nodes":"0","flags":"MPOL_F_STATIC_NODES"}),
                "linux.memoryPolicy.flags",
            ),
            (
                json!({"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_STATIC_NODES","MPOL_F_RELATIVE_NODES"]}),
                "linux.memoryPolicy.flags",
            ),
            (
                json!({"mode":"MPOL_PREFERRED","flags":["MPOL_F_STATIC_NODES"]}),
                "linux.memoryPolicy.flags",
            ),
            (
                json!({"mode":"MPOL_INTERLEAVE","nodes":"0","flags":["MPOL_F_NUMA_BALANCING"]}),
                "linux.memoryPolicy.flags",
            ),
            (
                json!({"mode":"MPOL_BIND","nodes":"0","extra":1}),
                "linux.memoryPolicy.extra",
            ),
            (json!("MPOL_BIND"), "linux.memoryPolicy"),
        ];
        for (v, field) in cases {
            let e = plan(&v).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.path.as_deref()),
                (ctr_oci::Code::Invalid.as_str(), Some(field)),
                "{v}"
            );
        }
        assert!(
            plan(&json!({"mode":"MPOL_BIND","nodes":"0","flags":["MPOL_F_NUMA_BALANCING"]}))
                .is_ok()
        );
    }
}
