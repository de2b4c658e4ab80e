//! The exec helper: a static program in a sealed memfd that the child
//! execs as its last step, which then execs the container's program.
//!
//! Why (the runc CVE-2019-5736 class): the spawned child is a fork of the
//! runtime (`ctrun`) or of `node` (the in-process API). Were it to `execve`
//! the container's program directly, the kernel would resolve a
//! `#!/proc/self/exe` script, or the program's ELF interpreter, while
//! `/proc/self/exe` is still the *host's* binary, and run that binary under
//! the rootfs' hostile `ld.so`, which can then reopen it for writing. Here
//! the child execs [`helper_fd`] instead (`execveat(fd, "", ..,
//! AT_EMPTY_PATH)`), so from then on `/proc/self/exe` is a sealed memfd
//! (`F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL`) holding a
//! static program without libc or interpreter (`helper/ctr-exec.c`); nothing
//! of the rootfs is loaded before the program's own `execve`, and there is
//! no host file to write to.
//!
//! Cost: one memfd per process (made on first use and kept, a few KB,
//! charged to the caller's cgroup, never the container's), and one extra
//! `execve` of a static binary per spawn (tens of microseconds).
//!
//! The memfd is close-on-exec: it is open in the child only until the
//! helper runs, never in the container.
use crate::Code;
use ctr_common::Error;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

/// The helper program (built by `build.rs` from `helper/ctr-exec.c`).
pub const HELPER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ctr-exec"));

/// `argv[0]` the helper requires (anything else exits 126).
pub const MARKER: &std::ffi::CStr = c"ctr-exec:1";

const MFD_CLOEXEC: libc::c_uint = 0x1;
const MFD_ALLOW_SEALING: libc::c_uint = 0x2;
/// Linux 6.3: asks for an executable memfd where `vm.memfd_noexec` would
/// otherwise make it non-executable; older kernels refuse it (EINVAL).
const MFD_EXEC: libc::c_uint = 0x10;
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

static HELPER_FD: OnceLock<Result<OwnedFd, Error>> = OnceLock::new();

/// The sealed memfd of the helper, made once per process and cached.
pub fn helper_fd() -> Result<RawFd, Error> {
    match HELPER_FD.get_or_init(make_sealed) {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(e.clone()),
    }
}

fn make_sealed() -> Result<OwnedFd, Error> {
    sealed_copy(c"ctr-exec", HELPER)
}

/// A sealed, close-on-exec, executable memfd holding `bytes` (the exec
/// helper here; the spawner's program in [`crate::spawner`]).
pub fn sealed_copy(name: &std::ffi::CStr, bytes: &[u8]) -> Result<OwnedFd, Error> {
    let mut fd = unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            name.as_ptr(),
            MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC,
        )
    };
    if fd < 0 && crate::sys::errno() == libc::EINVAL {
        fd = unsafe {
            libc::syscall(
                libc::SYS_memfd_create,
                name.as_ptr(),
                MFD_CLOEXEC | MFD_ALLOW_SEALING,
            )
        };
    }
    if fd < 0 {
        return Err(Error::last_os(
            Code::ExecHelper,
            "memfd_create",
            "create the exec helper memfd",
        ));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let mut done = 0;
    while done < bytes.len() {
        let n = unsafe {
            libc::write(
                fd.as_raw_fd(),
                bytes[done..].as_ptr().cast(),
                bytes.len() - done,
            )
        };
        if n < 0 {
            if crate::sys::errno() == libc::EINTR {
                continue;
            }
            return Err(Error::last_os(
                Code::ExecHelper,
                "write",
                "write the exec helper memfd",
            ));
        }
        done += n as usize;
    }
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(Error::last_os(
            Code::ExecHelper,
            "fcntl",
            "seal the exec helper memfd",
        ));
    }
    Ok(fd)
}

/// The helper's "FIFO,PROC,GATE,MEMCG,INDEX" argument (see
/// `helper/ctr-exec.c`): a buffer in the plan, "-1,-1,-1,-1,0" (no gates)
/// unless the child, exec'ing the helper early, writes its fd numbers in
/// (no allocation there). MEMCG is the container's memory cgroup `tasks`
/// file the helper moves into (see [`crate::CallerMemoryCgroup`]), INDEX
/// its index among the child's cgroup joins, for an error report.
pub struct Gates(std::cell::UnsafeCell<[u8; Gates::LEN]>);

impl Gates {
    const LEN: usize = 64;
    const NONE: &'static [u8] = b"-1,-1,-1,-1,0\0";

    /// The NUL-terminated argument, for the helper's argv.
    pub fn as_ptr(&self) -> *const libc::c_char {
        self.0.get().cast()
    }

    /// Write "FIFO,PROC,GATE,MEMCG,INDEX" (-1 for no fd) in, NUL-terminated.
    ///
    /// # Safety
    /// Only in the child before it execs the helper: nothing else reads or
    /// writes the buffer then (the parent is waiting for the exec with a
    /// vfork-style clone, and has its own copy otherwise).
    pub unsafe fn set(&self, fifo: RawFd, proc: RawFd, gate: RawFd, memcg: RawFd, index: u32) {
        let buf = &mut *self.0.get();
        let mut at = 0;
        for (i, n) in [
            fifo as i64,
            proc as i64,
            gate as i64,
            memcg as i64,
            index as i64,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                buf[at] = b',';
                at += 1;
            }
            at += crate::syscalls::write_decimal(&mut buf[at..], n);
        }
        buf[at] = 0;
    }
}

impl Default for Gates {
    fn default() -> Self {
        let mut buf = [0u8; Gates::LEN];
        buf[..Gates::NONE.len()].copy_from_slice(Gates::NONE);
        Gates(std::cell::UnsafeCell::new(buf))
    }
}

/// The helper's argv for a spawn: marker, status fd, gates, candidates, "",
/// argv. Built in the parent; `storage` keeps the strings alive.
pub fn helper_argv(
    status_fd: RawFd,
    gates: *const libc::c_char,
    candidates: &[*const libc::c_char],
    argv: &[*const libc::c_char],
    storage: &mut Vec<std::ffi::CString>,
) -> Vec<*const libc::c_char> {
    storage.clear();
    storage.push(std::ffi::CString::new(status_fd.to_string()).expect("digits"));
    let mut v = Vec::with_capacity(candidates.len() + argv.len() + 4);
    v.push(MARKER.as_ptr());
    v.push(storage[0].as_ptr());
    v.push(gates);
    v.extend_from_slice(candidates);
    v.push(c"".as_ptr());
    // argv is NULL-terminated already.
    v.extend(argv.iter().copied().filter(|p| !p.is_null()));
    v.push(std::ptr::null());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_are_written_in_place_as_the_helper_reads_them() {
        let g = Gates::default();
        let read = |g: &Gates| {
            unsafe { std::ffi::CStr::from_ptr(g.as_ptr()) }
                .to_bytes()
                .to_vec()
        };
        assert_eq!(read(&g), b"-1,-1,-1,-1,0");
        unsafe { g.set(67, 68, -1, -1, 0) };
        assert_eq!(read(&g), b"67,68,-1,-1,0");
        unsafe { g.set(-1, -1, 4, 70, 3) };
        assert_eq!(read(&g), b"-1,-1,4,70,3");
        unsafe { g.set(i32::MAX, i32::MAX, i32::MAX, i32::MAX, u32::MAX) };
        assert_eq!(
            read(&g),
            format!("{0},{0},{0},{0},{1}", i32::MAX, u32::MAX).as_bytes()
        );
    }

    /// The step and message numbers `helper/ctr-exec.c` reports with are
    /// the child's.
    #[test]
    fn the_helper_reports_with_the_childs_numbers() {
        use crate::child::Step;
        let src = include_str!("../helper/ctr-exec.c");
        let define = |name: &str| -> u32 {
            let line = src
                .lines()
                .find(|l| l.starts_with(&format!("#define {name} ")))
                .unwrap_or_else(|| panic!("no #define {name}"));
            line.split_whitespace().nth(2).unwrap().parse().unwrap()
        };
        assert_eq!(define("STEP_GATE"), Step::Gate as u32);
        assert_eq!(define("STEP_EXEC"), Step::Exec as u32);
        assert_eq!(define("STEP_DUMPABLE"), Step::Dumpable as u32);
        assert_eq!(define("STEP_EXEC_FIFO"), Step::ExecFifo as u32);
        assert_eq!(define("STEP_CGROUP_JOIN"), Step::CgroupJoin as u32);
        assert_eq!(define("MSG_HELD"), crate::child::MSG_HELD);
        assert_eq!(define("MSG_ERROR"), crate::child::MSG_ERROR);
        assert_eq!(define("MSG_EXEC_FIFO"), crate::child::MSG_EXEC_FIFO);
    }

    #[test]
    fn the_helper_is_static_and_small() {
        assert_eq!(&HELPER[..4], b"\x7fELF");
        assert!(HELPER.len() < 64 * 1024, "helper is {} bytes", HELPER.len());
        // No PT_INTERP (type 3) among the program headers: nothing is loaded
        // from the rootfs before the program's own execve.
        let phoff = u64::from_ne_bytes(HELPER[0x20..0x28].try_into().unwrap()) as usize;
        let phentsize = u16::from_ne_bytes(HELPER[0x36..0x38].try_into().unwrap()) as usize;
        let phnum = u16::from_ne_bytes(HELPER[0x38..0x3a].try_into().unwrap()) as usize;
        for i in 0..phnum {
            let t = u32::from_ne_bytes(
                HELPER[phoff + i * phentsize..phoff + i * phentsize + 4]
                    .try_into()
                    .unwrap(),
            );
            assert_ne!(t, 3, "the helper has an ELF interpreter");
        }
    }

    #[test]
    fn the_memfd_is_sealed_cached_and_close_on_exec() {
        let fd = helper_fd().unwrap();
        assert_eq!(fd, helper_fd().unwrap());
        let seals = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
        assert_eq!(seals & SEALS, SEALS);
        assert_ne!(
            unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC,
            0
        );
        // Writing is refused, even through a new open of the file.
        let path = format!("/proc/self/fd/{fd}");
        let f = std::fs::OpenOptions::new().write(true).open(&path);
        if let Ok(mut f) = f {
            use std::io::Write;
            assert!(f.write_all(b"x").is_err());
        }
    }

    #[test]
    fn message_numbers_match_the_c_helper() {
        assert_eq!(crate::child::MSG_ERROR, 2);
        assert_eq!(crate::child::Step::Exec as u32, 11);
    }
}
