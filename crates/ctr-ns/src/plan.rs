//! What to spawn ([`SpawnOptions`]) and its prepared, fork-safe form
//! ([`Prepared`]) that the child reads without allocating.

use crate::kinds::NamespaceKind;
use ctr_common::Error;
use std::ffi::CString;
use std::os::fd::RawFd;

/// Where one of the child's standard streams goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// A new pipe; the parent gets the other end.
    Pipe,
    /// `/dev/null`.
    Null,
    /// This file descriptor of the parent (for inherit, the same number).
    Fd(RawFd),
}

/// Everything needed to spawn one process into namespaces.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// The program: a path, or a name looked up in the child's `PATH`.
    pub program: String,
    /// The full argument vector, `argv[0]` included.
    pub args: Vec<String>,
    /// The environment as `KEY=value` strings.
    pub env: Vec<String>,
    /// Working directory inside the child.
    pub cwd: Option<String>,
    /// Namespaces to create.
    pub namespaces: Vec<NamespaceKind>,
    /// Mount a fresh `/proc` (implies a new mount namespace, made private).
    pub mount_proc: bool,
    /// Host name to set (needs a new uts namespace).
    pub hostname: Option<String>,
    /// stdin, stdout and stderr.
    pub stdio: [Stdio; 3],
    /// Stop before exec until the parent releases the child.
    pub hold: bool,
    /// Signal delivered to the child when the spawning thread dies.
    pub parent_death_signal: Option<i32>,
    /// Start a new session (`setsid`), detaching from the terminal.
    pub new_session: bool,
    /// Set `no_new_privs` before exec (and before the seccomp filter).
    pub no_new_privileges: bool,
    /// A classic BPF seccomp program: an array of `struct sock_filter`
    /// (8 bytes each, native byte order), installed as the last setup step.
    pub seccomp: Option<Vec<u8>>,
    /// `SECCOMP_FILTER_FLAG_*` flags for `seccomp(SECCOMP_SET_MODE_FILTER)`.
    pub seccomp_flags: u32,
    /// Install the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` and hand
    /// the listener fd to the parent (see [`crate::Child::take_seccomp_listener`]).
    pub seccomp_listener: bool,
}

impl SpawnOptions {
    /// Options that run `program` with `args` and inherit stdio.
    pub fn new(program: impl Into<String>, args: Vec<String>) -> Self {
        let program = program.into();
        let args = if args.is_empty() { vec![program.clone()] } else { args };
        SpawnOptions {
            program,
            args,
            env: std::env::vars().map(|(k, v)| format!("{k}={v}")).collect(),
            cwd: None,
            namespaces: Vec::new(),
            mount_proc: false,
            hostname: None,
            stdio: [Stdio::Fd(0), Stdio::Fd(1), Stdio::Fd(2)],
            hold: false,
            parent_death_signal: None,
            new_session: false,
            no_new_privileges: false,
            seccomp: None,
            seccomp_flags: 0,
            seccomp_listener: false,
        }
    }
}

/// The spawn plan as C data: built before `clone3`, only read by the child.
pub struct Prepared {
    /// `clone3` flags for the namespaces (no other flags).
    pub ns_flags: u64,
    /// Candidate paths to `execve`, in order (PATH lookup done up front).
    pub exec_paths: Vec<CString>,
    /// Pointers into `exec_paths`, the child iterates them.
    pub exec_path_ptrs: Vec<*const libc::c_char>,
    /// argv, NULL-terminated.
    pub argv: Vec<*const libc::c_char>,
    /// envp, NULL-terminated.
    pub envp: Vec<*const libc::c_char>,
    /// Host name bytes (not NUL-terminated), if any.
    pub hostname: Option<Vec<u8>>,
    /// Working directory.
    pub cwd: Option<CString>,
    /// Mount a private `/proc`.
    pub mount_proc: bool,
    /// Wait at the gate before exec.
    pub hold: bool,
    /// Parent-death signal, 0 for none.
    pub pdeathsig: i32,
    /// setsid before exec.
    pub new_session: bool,
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    pub no_new_privs: bool,
    /// The seccomp program, if any (points into `_seccomp_filter`).
    pub seccomp: Option<libc::sock_fprog>,
    /// Flags for `seccomp(2)`, `NEW_LISTENER` included when asked.
    pub seccomp_flags: u32,
    /// The filter makes a listener fd the parent takes.
    pub seccomp_listener: bool,
    _seccomp_filter: Vec<libc::sock_filter>,
    // Owners of the strings behind argv/envp.
    _args: Vec<CString>,
    _env: Vec<CString>,
}

// The raw pointers point into vectors owned by the same struct.
unsafe impl Send for Prepared {}

fn cstring(field: &str, s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| {
        Error::new("ENS_INVALID_OPTION", format!("{field} contains a NUL byte")).with_field(field.to_string())
    })
}

/// The value of `PATH` in an environment list, or the default.
fn path_of(env: &[String]) -> &str {
    env.iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// The paths `execvp` would try for `program` under `PATH`.
pub fn exec_candidates(program: &str, env: &[String]) -> Vec<String> {
    if program.contains('/') {
        return vec![program.to_string()];
    }
    path_of(env)
        .split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| format!("{}/{program}", dir.trim_end_matches('/')))
        .collect()
}

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
/// The most instructions the kernel accepts in one filter (`BPF_MAXINSNS`).
pub const BPF_MAXINSNS: usize = 4096;

/// Decode a seccomp program given as bytes: an array of `struct
/// sock_filter { u16 code; u8 jt; u8 jf; u32 k; }` in native byte order.
pub fn parse_bpf(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, Error> {
    let bad = |what: String| Err(Error::new("ENS_INVALID_OPTION", what).with_field("seccomp"));
    if bytes.is_empty() {
        return bad("seccomp program is empty".into());
    }
    if bytes.len() % 8 != 0 {
        return bad(format!(
            "seccomp program is {} bytes, not a whole number of 8-byte sock_filter instructions",
            bytes.len()
        ));
    }
    if bytes.len() / 8 > BPF_MAXINSNS {
        return bad(format!("seccomp program has {} instructions, more than {BPF_MAXINSNS}", bytes.len() / 8));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

impl Prepared {
    /// Validate `opts` and build the C data the child needs.
    pub fn new(opts: &SpawnOptions) -> Result<Prepared, Error> {
        if opts.program.is_empty() {
            return Err(Error::new("ENS_INVALID_OPTION", "command must not be empty").with_field("command"));
        }
        let mut ns_flags = 0u64;
        for k in &opts.namespaces {
            ns_flags |= k.clone_flag();
        }
        if opts.mount_proc {
            ns_flags |= NamespaceKind::Mnt.clone_flag();
        }
        if opts.hostname.is_some() && ns_flags & NamespaceKind::Uts.clone_flag() == 0 {
            return Err(Error::new(
                "ENS_INVALID_OPTION",
                "hostname needs a new uts namespace (add 'uts' to namespaces)",
            )
            .with_field("hostname"));
        }
        let exec_paths = exec_candidates(&opts.program, &opts.env)
            .iter()
            .map(|p| cstring("command", p))
            .collect::<Result<Vec<_>, _>>()?;
        let exec_path_ptrs = exec_paths.iter().map(|p| p.as_ptr()).collect();
        let args = opts.args.iter().map(|a| cstring("args", a)).collect::<Result<Vec<_>, _>>()?;
        let env = opts.env.iter().map(|e| cstring("env", e)).collect::<Result<Vec<_>, _>>()?;
        let mut argv: Vec<_> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<_> = env.iter().map(|e| e.as_ptr()).collect();
        envp.push(std::ptr::null());
        let hostname = match &opts.hostname {
            Some(h) if h.len() > 64 || h.contains('\0') => {
                return Err(Error::new("ENS_INVALID_OPTION", "hostname must be at most 64 bytes without NUL")
                    .with_field("hostname"))
            }
            Some(h) => Some(h.as_bytes().to_vec()),
            None => None,
        };
        let cwd = opts.cwd.as_deref().map(|c| cstring("cwd", c)).transpose()?;
        let seccomp_filter = opts.seccomp.as_deref().map(parse_bpf).transpose()?;
        let mut seccomp_flags = opts.seccomp_flags;
        if seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 && !opts.seccomp_listener {
            return Err(Error::new(
                "ENS_INVALID_OPTION",
                "seccompFlags must not include SECCOMP_FILTER_FLAG_NEW_LISTENER: use seccompListener",
            )
            .with_field("seccompFlags"));
        }
        if opts.seccomp_listener {
            if seccomp_filter.is_none() {
                return Err(Error::new("ENS_INVALID_OPTION", "seccompListener needs a seccomp program")
                    .with_field("seccompListener"));
            }
            seccomp_flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        if seccomp_filter.is_none() && seccomp_flags != 0 {
            return Err(Error::new("ENS_INVALID_OPTION", "seccompFlags needs a seccomp program")
                .with_field("seccompFlags"));
        }
        Ok(Prepared {
            ns_flags,
            exec_paths,
            exec_path_ptrs,
            argv,
            envp,
            hostname,
            cwd,
            mount_proc: opts.mount_proc,
            hold: opts.hold,
            pdeathsig: opts.parent_death_signal.unwrap_or(0),
            new_session: opts.new_session,
            no_new_privs: opts.no_new_privileges,
            seccomp: seccomp_filter.as_ref().map(|f| libc::sock_fprog { len: f.len() as u16, filter: f.as_ptr() as *mut _ }),
            seccomp_flags,
            seccomp_listener: opts.seccomp_listener,
            _seccomp_filter: seccomp_filter.unwrap_or_default(),
            _args: args,
            _env: env,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lookup_follows_env_path() {
        let env = vec!["PATH=/a:/b/".to_string()];
        assert_eq!(exec_candidates("sh", &env), vec!["/a/sh", "/b/sh"]);
        assert_eq!(exec_candidates("./x", &env), vec!["./x"]);
    }

    #[test]
    fn mount_proc_implies_mount_namespace() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.mount_proc = true;
        let p = Prepared::new(&o).unwrap();
        assert_eq!(p.ns_flags, libc::CLONE_NEWNS as u64);
        assert_eq!(p.argv.len(), 2);
        assert!(p.argv[1].is_null());
    }

    #[test]
    fn hostname_needs_uts() {
        let mut o = SpawnOptions::new("true", vec![]);
        o.hostname = Some("box".into());
        assert_eq!(Prepared::new(&o).err().unwrap().path.as_deref(), Some("hostname"));
        o.namespaces.push(NamespaceKind::Uts);
        assert!(Prepared::new(&o).is_ok());
    }

    #[test]
    fn seccomp_program_is_decoded_and_checked() {
        let mut o = SpawnOptions::new("true", vec![]);
        // ret ALLOW
        let allow = [0x06u16.to_ne_bytes().as_slice(), &[0, 0], &0x7fff_0000u32.to_ne_bytes()].concat();
        o.seccomp = Some(allow.clone());
        let p = Prepared::new(&o).unwrap();
        let prog = p.seccomp.unwrap();
        assert_eq!(prog.len, 1);
        assert_eq!(unsafe { (*prog.filter).k }, 0x7fff_0000);
        o.seccomp = Some(allow[..7].to_vec());
        assert_eq!(Prepared::new(&o).err().unwrap().path.as_deref(), Some("seccomp"));
        o.seccomp = Some(vec![]);
        assert!(Prepared::new(&o).is_err());
        o.seccomp = Some(allow.repeat(BPF_MAXINSNS + 1));
        assert!(Prepared::new(&o).is_err());
        o.seccomp = Some(allow);
        o.seccomp_listener = true;
        assert_eq!(Prepared::new(&o).unwrap().seccomp_flags, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        o.seccomp = None;
        assert_eq!(Prepared::new(&o).err().unwrap().path.as_deref(), Some("seccompListener"));
        o.seccomp_listener = false;
        o.seccomp_flags = 2;
        assert_eq!(Prepared::new(&o).err().unwrap().path.as_deref(), Some("seccompFlags"));
    }

    #[test]
    fn nul_bytes_are_rejected_with_field() {
        let o = SpawnOptions::new("true", vec!["a\0b".into()]);
        let e = Prepared::new(&o).err().unwrap();
        assert_eq!(e.code, "ENS_INVALID_OPTION");
        assert_eq!(e.path.as_deref(), Some("args"));
    }
}
