//! Node-API binding of `ctr-seccomp`. No logic here: argument conversion
//! and async plumbing only.
#![deny(clippy::all)]

use ctr_common::{catch_panic, Error};
use ctr_seccomp::notify::{self, Response};
use ctr_seccomp::{Arch, KernelVersion, ResolveFor};
use napi::bindgen_prelude::{BigInt, Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Seccomp support of the running kernel.
#[napi(object)]
pub struct NativeKernelSupport {
    /// Whether the kernel has seccomp.
    pub available: bool,
    /// Actions from /proc/sys/kernel/seccomp/actions_avail.
    pub actions: Vec<String>,
}

/// What seccomp support this kernel has.
#[napi]
pub fn kernel_support() -> napi::Result<NativeKernelSupport> {
    let s = catch_panic(ctr_seccomp::kernel_support)?;
    Ok(NativeKernelSupport {
        available: s.available,
        actions: s.actions,
    })
}

/// What to resolve a Docker profile for (all optional: Docker's defaults).
#[napi(object)]
pub struct NativeTarget {
    /// Bounding capabilities (CAP_*).
    pub caps: Option<Vec<String>>,
    /// Architecture (x86_64, amd64, SCMP_ARCH_X86_64, ...).
    pub arch: Option<String>,
    /// Kernel version "major.minor".
    pub kernel: Option<String>,
}

fn target(t: Option<NativeTarget>) -> Result<ResolveFor, Error> {
    let mut r = ResolveFor::host_defaults()?;
    if let Some(t) = t {
        if let Some(c) = t.caps {
            r.caps = c;
        }
        if let Some(a) = t.arch {
            r.arch = Arch::parse(&a).ok_or_else(|| {
                Error::new(
                    ctr_seccomp::Code::UnknownArch,
                    format!("unknown architecture {a:?}"),
                )
                .with_field("arch")
            })?;
        }
        if let Some(k) = t.kernel {
            r.kernel = KernelVersion::parse(&k).ok_or_else(|| {
                Error::new(
                    ctr_seccomp::Code::InvalidOption,
                    format!("invalid kernel version {k:?}"),
                )
                .with_field("kernel")
            })?;
        }
    }
    Ok(r)
}

/// Parse (and for Docker's format resolve) a profile; returns canonical
/// OCI JSON.
#[napi]
pub fn parse_profile(
    json: String,
    format: Option<String>,
    resolve: Option<NativeTarget>,
) -> napi::Result<String> {
    Ok(catch_panic(|| {
        let p = ctr_seccomp::parse_profile(&json, format.as_deref(), &target(resolve)?)?;
        Ok(p.to_oci_json().to_string())
    })?)
}

/// The built-in default profile (Docker's, resolved) as OCI JSON.
#[napi]
pub fn builtin_profile(resolve: Option<NativeTarget>) -> napi::Result<String> {
    Ok(catch_panic(|| {
        Ok(ctr_seccomp::builtin_default(&target(resolve)?)?
            .to_oci_json()
            .to_string())
    })?)
}

/// Docker's default profile JSON as shipped.
#[napi]
pub fn docker_default_json() -> String {
    ctr_seccomp::docker::DOCKER_DEFAULT_JSON.to_string()
}

/// A compiled program.
#[napi(object)]
pub struct NativeProgram {
    /// struct sock_filter[] bytes.
    pub bpf: Buffer,
    /// seccomp(2) flags.
    pub flags: u32,
    /// Skipped names.
    pub warnings: Vec<String>,
    /// Cache key.
    pub hash: String,
    /// "miss", "memory" or "disk".
    pub cache: String,
}

fn compile_oci(
    json: &str,
    binary_tree: bool,
    cache_dir: Option<&str>,
    arch: Option<String>,
) -> Result<NativeProgram, Error> {
    let p = ctr_seccomp::parse_profile(json, Some("oci"), &ResolveFor::host_defaults()?)?;
    let dir = cache_dir.map(PathBuf::from);
    let (prog, hit) = ctr_seccomp::compile(
        &p,
        &ctr_seccomp::CompileOptions { binary_tree, arch },
        dir.as_deref(),
    )?;
    Ok(NativeProgram {
        bpf: prog.bpf.clone().into(),
        flags: prog.flags,
        warnings: prog.warnings.clone(),
        hash: prog.hash.clone(),
        cache: match hit {
            ctr_seccomp::CacheHit::Miss => "miss",
            ctr_seccomp::CacheHit::Memory => "memory",
            ctr_seccomp::CacheHit::Disk => "disk",
        }
        .into(),
    })
}

/// Compile OCI JSON on the calling thread (through the cache).
#[napi]
pub fn compile_sync(
    json: String,
    binary_tree: bool,
    cache_dir: Option<String>,
    arch: Option<String>,
) -> napi::Result<NativeProgram> {
    Ok(catch_panic(|| {
        compile_oci(&json, binary_tree, cache_dir.as_deref(), arch)
    })?)
}

/// Compile OCI JSON off the main thread (through the cache).
#[napi]
pub fn compile<'e>(
    env: &'e Env,
    json: String,
    binary_tree: bool,
    cache_dir: Option<String>,
    arch: Option<String>,
) -> napi::Result<PromiseRaw<'e, NativeProgram>> {
    ctr_napi::promise(env, move || {
        compile_oci(&json, binary_tree, cache_dir.as_deref(), arch)
    })
}

/// Drop the in-memory cache.
#[napi]
pub fn clear_cache() {
    ctr_seccomp::compile::clear_memory_cache()
}

/// The linked libseccomp version.
#[napi]
pub fn libseccomp_version() -> String {
    ctr_seccomp::compile::libseccomp_version()
}

/// A call to evaluate.
#[napi(object)]
pub struct NativeCall {
    /// Name, or number as a decimal string.
    pub syscall: String,
    /// Up to six arguments.
    pub args: Vec<BigInt>,
    /// Architecture.
    pub arch: String,
}

/// An evaluation result.
#[napi(object)]
pub struct NativeVerdict {
    /// Action short name.
    pub action: String,
    /// errno or trace value.
    pub data: Option<u32>,
    /// Raw return value.
    pub ret: u32,
    /// Deciding rule index.
    pub rule: Option<u32>,
    /// Number seen by the filter.
    pub nr: i32,
    /// Name, where known.
    pub name: Option<String>,
}

fn u64_arg(b: &BigInt, i: usize) -> Result<u64, Error> {
    let (neg, v, lossless) = b.get_u64();
    if !lossless {
        return Err(Error::new(
            ctr_seccomp::Code::InvalidOption,
            "argument does not fit 64 bits",
        )
        .with_field(format!("args[{i}]")));
    }
    Ok(if neg {
        (v as i64).wrapping_neg() as u64
    } else {
        v
    })
}

/// Evaluate a call against an OCI profile by running its compiled program.
#[napi]
pub fn evaluate(json: String, binary_tree: bool, call: NativeCall) -> napi::Result<NativeVerdict> {
    Ok(catch_panic(|| {
        let p = ctr_seccomp::parse_profile(&json, Some("oci"), &ResolveFor::host_defaults()?)?;
        let (prog, _) = ctr_seccomp::compile(
            &p,
            &ctr_seccomp::CompileOptions {
                binary_tree,
                arch: None,
            },
            None,
        )?;
        if call.args.len() > 6 {
            return Err(
                Error::new(ctr_seccomp::Code::InvalidOption, "at most six arguments")
                    .with_field("args"),
            );
        }
        let mut args = [0u64; 6];
        for (i, a) in call.args.iter().enumerate() {
            args[i] = u64_arg(a, i)?;
        }
        let syscall = match call.syscall.parse::<i32>() {
            Ok(n) => ctr_seccomp::SyscallRef::Number(n),
            Err(_) => ctr_seccomp::SyscallRef::Name(call.syscall.clone()),
        };
        let v = ctr_seccomp::evaluate(
            &p,
            &prog,
            &ctr_seccomp::Call {
                syscall,
                args,
                arch: call.arch.clone(),
            },
        )?;
        Ok(NativeVerdict {
            action: v.action.short_name().into(),
            data: v.action.data(),
            ret: v.ret,
            rule: v.rule.map(|r| r as u32),
            nr: v.nr,
            name: v.name,
        })
    })?)
}

/// Disassemble program bytes.
#[napi]
pub fn disassemble(bpf: Buffer) -> napi::Result<String> {
    Ok(catch_panic(|| {
        Ok(ctr_seccomp::bpf::disassemble(&ctr_seccomp::bpf::decode(
            &bpf,
        )?))
    })?)
}

/// Every name libseccomp knows on an architecture.
#[napi]
pub fn syscall_names(arch: String) -> napi::Result<Vec<String>> {
    Ok(catch_panic(|| ctr_seccomp::syscall_names(&arch))?)
}

/// A notification request.
#[napi(object)]
pub struct NativeRequest {
    /// Cookie (u64) as a bigint.
    pub id: BigInt,
    /// Caller pid.
    pub pid: u32,
    /// Syscall number.
    pub nr: i32,
    /// Syscall name, where known.
    pub name: Option<String>,
    /// AUDIT_ARCH value.
    pub arch: u32,
    /// Architecture name (x86_64, x86, x32) where known.
    pub arch_name: Option<String>,
    /// Instruction pointer.
    pub instruction_pointer: BigInt,
    /// Arguments.
    pub args: Vec<BigInt>,
}

fn to_request(r: notify::Request) -> NativeRequest {
    let (arch_name, name) = notify::describe(&r.data);
    NativeRequest {
        id: BigInt::from(r.id),
        pid: r.pid,
        nr: r.data.nr,
        name,
        arch: r.data.arch,
        arch_name: arch_name.map(String::from),
        instruction_pointer: BigInt::from(r.data.instruction_pointer),
        args: r.data.args.iter().map(|a| BigInt::from(*a)).collect(),
    }
}

fn id_of(b: &BigInt) -> Result<u64, Error> {
    u64_arg(b, 0).map_err(|e| e.with_field("id"))
}

/// A seccomp user-notification listener fd (owned).
#[napi]
pub struct NativeListener {
    fd: Mutex<Option<Arc<AsyncFdHolder>>>,
}

struct AsyncFdHolder {
    fd: OwnedFd,
}

impl NativeListener {
    fn holder(&self) -> Result<Arc<AsyncFdHolder>, Error> {
        self.fd
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Error::new(ctr_seccomp::Code::Closed, "the listener was closed"))
    }
}

#[napi]
impl NativeListener {
    /// Take ownership of listener fd `fd`.
    #[napi(constructor)]
    pub fn new(fd: i32) -> napi::Result<Self> {
        if fd < 0 {
            return Err(Error::new(
                ctr_seccomp::Code::InvalidOption,
                format!("invalid listener fd {fd}"),
            )
            .with_field("fd")
            .into());
        }
        // SAFETY: the caller hands the fd over; we own it from now on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(NativeListener {
            fd: Mutex::new(Some(Arc::new(AsyncFdHolder { fd }))),
        })
    }

    /// The next request, or null once no filter refers to the listener
    /// any more (all its processes exited). Waits on the runtime's epoll.
    #[napi(ts_return_type = "Promise<NativeRequest | null>")]
    pub fn recv<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Option<NativeRequest>>> {
        let h = self.holder()?;
        env.spawn_future(async move {
            let dup = h.fd.try_clone().map_err(|e| {
                Error::io(
                    ctr_seccomp::Code::Notify,
                    "dup",
                    &e,
                    "duplicate the listener fd",
                )
            })?;
            // SAFETY: `dup` is an OwnedFd moved into the AsyncFd, so it stays
            // open and the same for the AsyncFd's whole life.
            let watch = unsafe { AsyncFd::register_with_interest(dup, Interest::READABLE) }
                .map_err(|e| e.into_parts().1)
                .map_err(|e| {
                    Error::io(
                        ctr_seccomp::Code::Notify,
                        "epoll_ctl",
                        &e,
                        "watch the listener fd",
                    )
                })?;
            loop {
                let mut guard = watch.readable().await.map_err(|e| {
                    Error::io(
                        ctr_seccomp::Code::Notify,
                        "epoll_wait",
                        &e,
                        "wait on the listener fd",
                    )
                })?;
                let mut pfd = libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(watch.get_ref()),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one pollfd, zero timeout.
                unsafe { libc::poll(&mut pfd, 1, 0) };
                if pfd.revents & libc::POLLIN != 0 {
                    if let Some(r) = notify::recv(watch.get_ref().as_fd())? {
                        return Ok(Some(to_request(r)));
                    }
                    continue;
                }
                if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                    return Ok(None);
                }
                guard.clear_ready();
            }
        })
    }

    /// Answer with kind "errno" (value = errno), "value" (return value) or
    /// "continue". Returns false if the request is no longer pending.
    #[napi]
    pub fn respond(&self, id: BigInt, kind: String, value: Option<BigInt>) -> napi::Result<bool> {
        Ok(catch_panic(|| {
            let h = self.holder()?;
            let id = id_of(&id)?;
            let v = match &value {
                Some(b) => {
                    let (n, lossless) = b.get_i64();
                    if !lossless {
                        return Err(Error::new(
                            ctr_seccomp::Code::InvalidOption,
                            "value does not fit 64 bits",
                        )
                        .with_field("value"));
                    }
                    n
                }
                None => 0,
            };
            let r = match kind.as_str() {
                "errno" => Response::Errno(v as i32),
                "value" => Response::Value(v),
                "continue" => Response::Continue,
                k => {
                    return Err(Error::new(
                        ctr_seccomp::Code::InvalidOption,
                        format!("unknown response kind {k:?}"),
                    )
                    .with_field("kind"))
                }
            };
            notify::respond(h.fd.as_fd(), id, r)
        })?)
    }

    /// Whether the request is still pending.
    #[napi]
    pub fn id_valid(&self, id: BigInt) -> napi::Result<bool> {
        let h = self.holder()?;
        Ok(notify::id_valid(h.fd.as_fd(), id_of(&id)?))
    }

    /// Read a C string from the caller's memory, checking the id after.
    #[napi]
    pub fn read_string(
        &self,
        id: BigInt,
        pid: u32,
        addr: BigInt,
        max: u32,
    ) -> napi::Result<String> {
        Ok(catch_panic(|| {
            let h = self.holder()?;
            let req = notify::Request {
                id: id_of(&id)?,
                pid,
                data: Default::default(),
            };
            notify::read_string(h.fd.as_fd(), &req, u64_arg(&addr, 0)?, max as usize)
        })?)
    }

    /// Close the fd (pending recv calls hold their own duplicate).
    #[napi]
    pub fn close(&self) {
        self.fd.lock().unwrap().take();
    }
}

/// OCI listenerPath: send the fd and state JSON to an agent's socket.
#[napi]
pub fn send_listener<'e>(
    env: &'e Env,
    path: String,
    fd: i32,
    state: String,
) -> napi::Result<PromiseRaw<'e, ()>> {
    // SAFETY: fd is only borrowed for the duration of the call; the
    // caller keeps it open.
    let dup = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .map_err(|e| {
            Error::io(
                ctr_seccomp::Code::Listener,
                "dup",
                &e,
                format!("duplicate fd {fd}"),
            )
        })?;
    ctr_napi::promise(env, move || {
        notify::send_listener(&path, dup.as_fd(), state.as_bytes())
    })
}

/// What an agent received.
#[napi(object)]
pub struct NativeReceived {
    /// The state JSON.
    pub state: String,
    /// The listener fd (owned by the caller now).
    pub fd: i32,
}

/// An agent's socket for the listenerPath protocol.
#[napi]
pub struct NativeAgent {
    listener: Mutex<Option<Arc<std::os::unix::net::UnixListener>>>,
    path: String,
}

#[napi]
impl NativeAgent {
    /// Bind a unix socket at `path`.
    #[napi(factory)]
    pub fn bind(path: String) -> napi::Result<Self> {
        let std_l = std::os::unix::net::UnixListener::bind(&path).map_err(|e| {
            Error::io(
                ctr_seccomp::Code::Listener,
                "bind",
                &e,
                format!("bind {path}"),
            )
            .with_path(&path)
        })?;
        std_l
            .set_nonblocking(true)
            .map_err(|e| Error::io(ctr_seccomp::Code::Listener, "fcntl", &e, "set nonblocking"))?;
        Ok(NativeAgent {
            listener: Mutex::new(Some(Arc::new(std_l))),
            path,
        })
    }

    /// Accept one runtime connection and read the state and fd.
    #[napi]
    pub fn accept<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, NativeReceived>> {
        let l =
            self.listener.lock().unwrap().clone().ok_or_else(|| {
                Error::new(ctr_seccomp::Code::Closed, "the agent socket was closed")
            })?;
        let l = l.try_clone().map_err(|e| {
            Error::io(
                ctr_seccomp::Code::Listener,
                "dup",
                &e,
                "duplicate the agent socket",
            )
        })?;
        env.spawn_future(async move {
            let l = tokio::net::UnixListener::from_std(l).map_err(|e| {
                Error::io(
                    ctr_seccomp::Code::Listener,
                    "epoll_ctl",
                    &e,
                    "watch the agent socket",
                )
            })?;
            let (sock, _) = l
                .accept()
                .await
                .map_err(|e| Error::io(ctr_seccomp::Code::Listener, "accept", &e, "accept"))?;
            let sock = sock.into_std().map_err(|e| {
                Error::io(ctr_seccomp::Code::Listener, "fcntl", &e, "convert socket")
            })?;
            sock.set_nonblocking(false)
                .map_err(|e| Error::io(ctr_seccomp::Code::Listener, "fcntl", &e, "set blocking"))?;
            let (state, fd) = ctr_napi::blocking(move || notify::recv_listener(&sock)).await?;
            Ok(NativeReceived {
                state: String::from_utf8_lossy(&state).into_owned(),
                fd: std::os::fd::IntoRawFd::into_raw_fd(fd),
            })
        })
    }

    /// Close the socket and remove its path.
    #[napi]
    pub fn close(&self) {
        if self.listener.lock().unwrap().take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
