//! The profile model: the OCI `linux.seccomp` object, parsed from JSON with
//! errors that name the JSON path of the field at fault.

use crate::Code;
use crate::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// What the filter does with a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Action {
    /// Let it through.
    Allow,
    /// Fail it with this errno.
    Errno(u32),
    /// Kill the calling thread (`SCMP_ACT_KILL`, `SCMP_ACT_KILL_THREAD`).
    KillThread,
    /// Kill the whole process.
    KillProcess,
    /// Send SIGSYS to the caller.
    Trap,
    /// Notify a ptrace tracer with this message value.
    Trace(u32),
    /// Allow it and log it.
    Log,
    /// Hand it to a user-space supervisor through the listener fd.
    Notify,
}

impl Action {
    /// Parse an OCI action name; `errno_ret` is the rule's `errnoRet`
    /// (or the profile's `defaultErrnoRet`), EPERM when absent.
    pub fn parse(name: &str, errno_ret: Option<u32>) -> Option<Action> {
        let ret = errno_ret.unwrap_or(libc::EPERM as u32);
        Some(match name {
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_ERRNO" => Action::Errno(ret),
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            "SCMP_ACT_TRACE" => Action::Trace(ret),
            "SCMP_ACT_LOG" => Action::Log,
            "SCMP_ACT_NOTIFY" => Action::Notify,
            _ => return None,
        })
    }

    /// The OCI name of the action.
    pub fn oci_name(&self) -> &'static str {
        match self {
            Action::Allow => "SCMP_ACT_ALLOW",
            Action::Errno(_) => "SCMP_ACT_ERRNO",
            Action::KillThread => "SCMP_ACT_KILL_THREAD",
            Action::KillProcess => "SCMP_ACT_KILL_PROCESS",
            Action::Trap => "SCMP_ACT_TRAP",
            Action::Trace(_) => "SCMP_ACT_TRACE",
            Action::Log => "SCMP_ACT_LOG",
            Action::Notify => "SCMP_ACT_NOTIFY",
        }
    }

    /// The short name used by the JS API (`allow`, `errno`, `kill_thread`...).
    pub fn short_name(&self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Errno(_) => "errno",
            Action::KillThread => "kill_thread",
            Action::KillProcess => "kill_process",
            Action::Trap => "trap",
            Action::Trace(_) => "trace",
            Action::Log => "log",
            Action::Notify => "notify",
        }
    }

    /// The errno or trace value the action carries.
    pub fn data(&self) -> Option<u32> {
        match self {
            Action::Errno(n) | Action::Trace(n) => Some(*n),
            _ => None,
        }
    }
}

/// A comparison operator of an argument condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Op {
    /// `!=`
    #[serde(rename = "SCMP_CMP_NE")]
    Ne,
    /// `<`
    #[serde(rename = "SCMP_CMP_LT")]
    Lt,
    /// `<=`
    #[serde(rename = "SCMP_CMP_LE")]
    Le,
    /// `==`
    #[serde(rename = "SCMP_CMP_EQ")]
    Eq,
    /// `>=`
    #[serde(rename = "SCMP_CMP_GE")]
    Ge,
    /// `>`
    #[serde(rename = "SCMP_CMP_GT")]
    Gt,
    /// `(arg & value) == valueTwo`
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEq,
}

impl Op {
    /// Parse an OCI operator name.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "SCMP_CMP_NE" => Op::Ne,
            "SCMP_CMP_LT" => Op::Lt,
            "SCMP_CMP_LE" => Op::Le,
            "SCMP_CMP_EQ" => Op::Eq,
            "SCMP_CMP_GE" => Op::Ge,
            "SCMP_CMP_GT" => Op::Gt,
            "SCMP_CMP_MASKED_EQ" => Op::MaskedEq,
            _ => return None,
        })
    }

    /// Whether `arg` satisfies the condition (64-bit compare, as libseccomp).
    pub fn test(&self, arg: u64, value: u64, value_two: u64) -> bool {
        match self {
            Op::Ne => arg != value,
            Op::Lt => arg < value,
            Op::Le => arg <= value,
            Op::Eq => arg == value,
            Op::Ge => arg >= value,
            Op::Gt => arg > value,
            Op::MaskedEq => arg & value == value_two,
        }
    }
}

/// One condition on a system call argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgCondition {
    /// Argument index, 0 to 5.
    pub index: u32,
    /// Value compared with (the mask for `SCMP_CMP_MASKED_EQ`).
    pub value: u64,
    /// Second value (the datum for `SCMP_CMP_MASKED_EQ`).
    pub value_two: u64,
    /// The operator.
    pub op: Op,
}

/// A rule: these names get this action when all conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyscallRule {
    /// System call names.
    pub names: Vec<String>,
    /// What happens.
    pub action: Action,
    /// Conditions, all of which must hold (see [`crate::compile`] for
    /// repeated indexes, which runc ORs).
    pub args: Vec<ArgCondition>,
}

/// Architectures in OCI spelling, as libseccomp knows them.
pub const ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// Filter flags (OCI spelling) and their `seccomp(2)` flag bits.
pub const FLAGS: &[(&str, u32)] = &[
    ("SECCOMP_FILTER_FLAG_TSYNC", 1),
    ("SECCOMP_FILTER_FLAG_LOG", 2),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4),
    ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 32),
];

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: set when the profile has notify rules.
pub const FLAG_NEW_LISTENER: u32 = 8;

/// The OCI `linux.seccomp` object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Action for calls no rule matches.
    pub default_action: Action,
    /// Architectures (OCI names) the filter accepts besides the native one.
    pub architectures: Vec<String>,
    /// Filter flags (OCI names).
    pub flags: Vec<String>,
    /// Unix socket of a seccomp agent to send the listener fd to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    /// Opaque data passed to the agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    /// Rules, in order.
    pub syscalls: Vec<SyscallRule>,
}

impl Profile {
    /// The `seccomp(2)` flag bits of this profile, with NEW_LISTENER when
    /// a rule (or the default) notifies.
    pub fn flag_bits(&self) -> u32 {
        let mut bits = 0;
        for f in &self.flags {
            if let Some((_, b)) = FLAGS.iter().find(|(n, _)| n == f) {
                bits |= b;
            }
        }
        if self.has_notify() {
            bits |= FLAG_NEW_LISTENER;
        }
        bits
    }

    /// Whether any action is `notify`.
    pub fn has_notify(&self) -> bool {
        self.default_action == Action::Notify
            || self.syscalls.iter().any(|r| r.action == Action::Notify)
    }

    /// The profile as OCI JSON (the canonical form hashed by the cache).
    pub fn to_oci_json(&self) -> Value {
        let action_json = |a: &Action, o: &mut Map<String, Value>, key: &str, errno_key: &str| {
            o.insert(key.into(), Value::from(a.oci_name()));
            if let Some(n) = a.data() {
                o.insert(errno_key.into(), Value::from(n));
            }
        };
        let mut root = Map::new();
        action_json(
            &self.default_action,
            &mut root,
            "defaultAction",
            "defaultErrnoRet",
        );
        if !self.architectures.is_empty() {
            root.insert(
                "architectures".into(),
                Value::from(self.architectures.clone()),
            );
        }
        if !self.flags.is_empty() {
            root.insert("flags".into(), Value::from(self.flags.clone()));
        }
        if let Some(p) = &self.listener_path {
            root.insert("listenerPath".into(), Value::from(p.clone()));
        }
        if let Some(m) = &self.listener_metadata {
            root.insert("listenerMetadata".into(), Value::from(m.clone()));
        }
        let rules = self
            .syscalls
            .iter()
            .map(|r| {
                let mut o = Map::new();
                o.insert("names".into(), Value::from(r.names.clone()));
                action_json(&r.action, &mut o, "action", "errnoRet");
                if !r.args.is_empty() {
                    o.insert(
                        "args".into(),
                        serde_json::to_value(&r.args).unwrap_or(Value::Null),
                    );
                }
                Value::Object(o)
            })
            .collect::<Vec<_>>();
        root.insert("syscalls".into(), Value::Array(rules));
        Value::Object(root)
    }
}

pub(crate) fn invalid(code: &str, path: &str, msg: impl Into<String>) -> Error {
    let msg = msg.into();
    let message = if path.is_empty() {
        msg
    } else {
        format!("{path}: {msg}")
    };
    Error::new(code, message).with_field(if path.is_empty() {
        "$".to_string()
    } else {
        path.to_string()
    })
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

pub(crate) fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        invalid(
            Code::InvalidType.as_str(),
            path,
            format!("must be an object, not {}", type_name(v)),
        )
    })
}

pub(crate) fn opt_str<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    base: &str,
) -> Result<Option<&'a str>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(invalid(
            Code::InvalidType.as_str(),
            &join(base, key),
            format!("must be a string, not {}", type_name(v)),
        )),
    }
}

pub(crate) fn opt_u64(
    o: &Map<String, Value>,
    key: &str,
    base: &str,
    max: u64,
) -> Result<Option<u64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(x) if x <= max => Ok(Some(x)),
            _ => Err(invalid(
                Code::InvalidValue.as_str(),
                &join(base, key),
                format!("must be an integer from 0 to {max}, not {n}"),
            )),
        },
        Some(v) => Err(invalid(
            Code::InvalidType.as_str(),
            &join(base, key),
            format!("must be a number, not {}", type_name(v)),
        )),
    }
}

pub(crate) fn opt_str_list(
    o: &Map<String, Value>,
    key: &str,
    base: &str,
) -> Result<Option<Vec<String>>> {
    let path = join(base, key);
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(String::from).ok_or_else(|| {
                    invalid(
                        Code::InvalidType.as_str(),
                        &format!("{path}[{i}]"),
                        format!("must be a string, not {}", type_name(v)),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(invalid(
            Code::InvalidType.as_str(),
            &path,
            format!("must be an array, not {}", type_name(v)),
        )),
    }
}

pub(crate) fn parse_action(
    o: &Map<String, Value>,
    key: &str,
    errno_key: &str,
    base: &str,
    fallback_errno: Option<u32>,
) -> Result<Action> {
    let name = opt_str(o, key, base)?
        .ok_or_else(|| invalid(Code::MissingField.as_str(), &join(base, key), "is required"))?;
    let errno = opt_u64(o, errno_key, base, u16::MAX as u64)?
        .map(|n| n as u32)
        .or(fallback_errno);
    Action::parse(name, errno).ok_or_else(|| {
        invalid(
            Code::UnknownAction.as_str(),
            &join(base, key),
            format!("unknown action {name:?}"),
        )
    })
}

pub(crate) fn parse_args(o: &Map<String, Value>, base: &str) -> Result<Vec<ArgCondition>> {
    let path = join(base, "args");
    let list = match o.get("args") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(invalid(
                Code::InvalidType.as_str(),
                &path,
                format!("must be an array, not {}", type_name(v)),
            ))
        }
    };
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let ap = format!("{path}[{i}]");
        let ao = as_object(a, &ap)?;
        let index = opt_u64(ao, "index", &ap, u32::MAX as u64)?.ok_or_else(|| {
            invalid(
                Code::MissingField.as_str(),
                &join(&ap, "index"),
                "is required",
            )
        })?;
        if index > 5 {
            return Err(invalid(
                Code::InvalidArgIndex.as_str(),
                &join(&ap, "index"),
                format!("argument index must be 0 to 5, not {index}"),
            ));
        }
        let value = opt_u64(ao, "value", &ap, u64::MAX)?.ok_or_else(|| {
            invalid(
                Code::MissingField.as_str(),
                &join(&ap, "value"),
                "is required",
            )
        })?;
        let value_two = opt_u64(ao, "valueTwo", &ap, u64::MAX)?.unwrap_or(0);
        let op_name = opt_str(ao, "op", &ap)?
            .ok_or_else(|| invalid(Code::MissingField.as_str(), &join(&ap, "op"), "is required"))?;
        let op = Op::parse(op_name).ok_or_else(|| {
            invalid(
                Code::UnknownOperator.as_str(),
                &join(&ap, "op"),
                format!("unknown operator {op_name:?}"),
            )
        })?;
        out.push(ArgCondition {
            index: index as u32,
            value,
            value_two,
            op,
        });
    }
    Ok(out)
}

pub(crate) fn parse_names(o: &Map<String, Value>, base: &str) -> Result<Vec<String>> {
    let names = opt_str_list(o, "names", base)?;
    let names = match (names, opt_str(o, "name", base)?) {
        (Some(n), _) => n,
        (None, Some(one)) => vec![one.to_string()],
        (None, None) => {
            return Err(invalid(
                Code::MissingField.as_str(),
                &join(base, "names"),
                "is required",
            ))
        }
    };
    if names.is_empty() {
        return Err(invalid(
            Code::EmptyNames.as_str(),
            &join(base, "names"),
            "must name at least one system call",
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(invalid(
                Code::EmptyNames.as_str(),
                &format!("{}[{i}]", join(base, "names")),
                "must not be empty",
            ));
        }
    }
    Ok(names)
}

pub(crate) fn check_arches(list: &[String], path: &str) -> Result<()> {
    for (i, a) in list.iter().enumerate() {
        if !ARCHES.contains(&a.as_str()) {
            return Err(invalid(
                Code::UnknownArch.as_str(),
                &format!("{path}[{i}]"),
                format!("unknown architecture {a:?}"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_flags(list: &[String], path: &str) -> Result<()> {
    for (i, f) in list.iter().enumerate() {
        if !FLAGS.iter().any(|(n, _)| n == f) {
            return Err(invalid(
                Code::UnknownFlag.as_str(),
                &format!("{path}[{i}]"),
                format!("unknown flag {f:?}"),
            ));
        }
    }
    Ok(())
}

/// Parse the OCI `linux.seccomp` object.
pub fn parse_oci(v: &Value) -> Result<Profile> {
    let o = as_object(v, "")?;
    parse_profile(
        o,
        |o| {
            let architectures = opt_str_list(o, "architectures", "")?.unwrap_or_default();
            check_arches(&architectures, "architectures")?;
            Ok(architectures)
        },
        |_, _| Ok(true),
    )
}

/// Parse a profile object of either format (OCI's, Docker's): the fields
/// both share, checked in one order. `architectures` reads the format's own
/// architecture fields; `applies` checks a rule object's further fields
/// (after its names, action and arguments) and says whether the rule is
/// kept. A rule's `SCMP_ACT_ERRNO` without `errnoRet` returns `EPERM`
/// (runc): `defaultErrnoRet` only applies to the default.
pub(crate) fn parse_profile(
    o: &Map<String, Value>,
    architectures: impl FnOnce(&Map<String, Value>) -> Result<Vec<String>>,
    mut applies: impl FnMut(&Map<String, Value>, &str) -> Result<bool>,
) -> Result<Profile> {
    let default_action = parse_action(o, "defaultAction", "defaultErrnoRet", "", None)?;
    let architectures = architectures(o)?;
    let flags = opt_str_list(o, "flags", "")?.unwrap_or_default();
    check_flags(&flags, "flags")?;
    let listener_path = opt_str(o, "listenerPath", "")?.map(String::from);
    let listener_metadata = opt_str(o, "listenerMetadata", "")?.map(String::from);
    let mut syscalls = Vec::new();
    match o.get("syscalls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, r) in list.iter().enumerate() {
                let base = format!("syscalls[{i}]");
                let ro = as_object(r, &base)?;
                // Validate everything, even rules that do not apply here.
                let names = parse_names(ro, &base)?;
                let action = parse_action(ro, "action", "errnoRet", &base, None)?;
                let args = parse_args(ro, &base)?;
                if applies(ro, &base)? {
                    syscalls.push(SyscallRule {
                        names,
                        action,
                        args,
                    });
                }
            }
        }
        Some(v) => {
            return Err(invalid(
                Code::InvalidType.as_str(),
                "syscalls",
                format!("must be an array, not {}", type_name(v)),
            ))
        }
    }
    if default_action == Action::Notify {
        return Err(invalid(
            Code::InvalidValue.as_str(),
            "defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default action",
        ));
    }
    Ok(Profile {
        default_action,
        architectures,
        flags,
        listener_path,
        listener_metadata,
        syscalls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> Error {
        parse_oci(&v).unwrap_err()
    }

    #[test]
    fn parses_every_field() {
        let p = parse_oci(&json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "listenerPath": "/run/agent.sock", "listenerMetadata": "meta",
            "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
                {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
                 "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 255, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]}
            ]
        }))
        .unwrap();
        assert_eq!(p.default_action, Action::Errno(38));
        assert_eq!(p.syscalls[2].action, Action::Errno(5));
        assert_eq!(
            p.syscalls[2].args[1],
            ArgCondition {
                index: 1,
                value: 255,
                value_two: 1,
                op: Op::MaskedEq
            }
        );
        assert_eq!(p.flag_bits(), 2 | FLAG_NEW_LISTENER);
        // round trip through the canonical JSON
        assert_eq!(parse_oci(&p.to_oci_json()).unwrap(), p);
    }

    #[test]
    fn errors_name_json_paths() {
        let e = err(json!({"defaultAction": "SCMP_ACT_NOPE"}));
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::UnknownAction.as_str(), Some("defaultAction"))
        );
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW"}, {"names": [], "action": "SCMP_ACT_ALLOW"}]}),
        );
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::EmptyNames.as_str(), Some("syscalls[1].names"))
        );
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}),
        );
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (
                Code::InvalidArgIndex.as_str(),
                Some("syscalls[0].args[0].index")
            )
        );
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}, {}, {}, {"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "=="}]}]}),
        );
        assert_eq!(e.path.as_deref(), Some("syscalls[0].names"));
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "=="}]}]}),
        );
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (
                Code::UnknownOperator.as_str(),
                Some("syscalls[0].args[0].op")
            )
        );
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a", 3], "action": "SCMP_ACT_ALLOW"}]}),
        );
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::InvalidType.as_str(), Some("syscalls[0].names[1]"))
        );
        let e = err(
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}),
        );
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::UnknownArch.as_str(), Some("architectures[1]"))
        );
        let e = err(json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"]}));
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::UnknownFlag.as_str(), Some("flags[0]"))
        );
        let e = err(json!({"defaultAction": 1}));
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::InvalidType.as_str(), Some("defaultAction"))
        );
        let e = err(json!([]));
        assert_eq!(
            (e.code.as_str(), e.path.as_deref()),
            (Code::InvalidType.as_str(), Some("$"))
        );
    }
}
