//! A network namespace made ahead, in the spawner.
//!
//! A new network namespace is most of a launch's `clone3` (~0.4 ms of the
//! kernel's time on a 2-CPU VM: the loopback device, the ipv4/ipv6 sysctl
//! tables, netfilter's per-namespace state). In a spawner a thread makes the
//! next one while the spawner serves the current request and the caller
//! goes on with `start`, so a launch finds one ready instead of waiting for
//! the kernel to make it on the way. The CPU spent is the same; what goes is
//! the wait on the launch's path.
//!
//! Only a child whose `clone3` would make the namespace in the spawner's own
//! user namespace takes one ([`eligible`]): the same thing as the clone
//! makes (a fresh namespace, owned by the same user namespace, made by the
//! same process with the same credentials, nothing in it but a `lo` that
//! is down). A child that gets a new user namespace must have its network
//! namespace owned by it and makes its own, as does every child when no
//! spare is ready.
//!
//! Nothing to find after a crash: only an fd of the spawner holds a spare
//! (the spawner dies with its caller and the kernel frees it), and the
//! maker thread goes back to the spawner's namespace after each one, so no
//! container's namespace outlives the container through it.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Condvar, Mutex};

/// Would a child cloned with `clone_flags` (in the spawner) take a spare?
/// Only if the clone makes a network namespace and no user namespace.
pub fn eligible(clone_flags: u64) -> bool {
    clone_flags & libc::CLONE_NEWNET as u64 != 0 && clone_flags & libc::CLONE_NEWUSER as u64 == 0
}

struct Spare {
    /// The one made ahead, when it is ready.
    ready: Option<OwnedFd>,
    /// A launch asked since the last one was made: make another.
    wanted: bool,
    /// The maker thread runs (or could not start, or stopped on an error:
    /// then no spare again, every child makes its own).
    started: bool,
}

static SPARE: Mutex<Spare> = Mutex::new(Spare {
    ready: None,
    wanted: false,
    started: false,
});
static WAKE: Condvar = Condvar::new();

/// The spare network namespace when one is ready, and a request for the
/// next (the first call starts the maker and returns none: a process that
/// never launches into a new network namespace never makes one).
pub fn take() -> Option<OwnedFd> {
    let mut s = SPARE.lock().unwrap_or_else(|e| e.into_inner());
    let fd = s.ready.take();
    s.wanted = true;
    if !s.started {
        s.started = true;
        let spawned = std::thread::Builder::new()
            .name("ctr-spare-net".into())
            .stack_size(64 * 1024)
            .spawn(maker);
        if spawned.is_err() {
            return fd;
        }
    }
    WAKE.notify_one();
    fd
}

/// The maker thread: one spare at a time, made when the last was taken.
fn maker() {
    let home = match open_own() {
        Some(h) => h,
        None => return,
    };
    loop {
        {
            let mut s = SPARE.lock().unwrap_or_else(|e| e.into_inner());
            while !(s.wanted && s.ready.is_none()) {
                s = WAKE.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            s.wanted = false;
        }
        match make(&home) {
            Some(fd) => SPARE.lock().unwrap_or_else(|e| e.into_inner()).ready = Some(fd),
            // Never retried: a kernel that refused once (no CAP_SYS_ADMIN,
            // a namespace limit) refuses the clone's own the same way,
            // which reports the error to the caller.
            None => return,
        }
    }
}

/// This thread's network namespace.
fn open_own() -> Option<OwnedFd> {
    let fd = unsafe {
        libc::open(
            c"/proc/thread-self/ns/net".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A new network namespace, this thread back in `home` after it (unshare
/// moves only the calling thread).
fn make(home: &OwnedFd) -> Option<OwnedFd> {
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } < 0 {
        return None;
    }
    let made = open_own();
    if unsafe { libc::setns(home.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        // Stuck in a namespace a child may get: stop making them.
        return None;
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_network_namespace_of_the_spawners_user_namespace_is_made_ahead() {
        let net = libc::CLONE_NEWNET as u64;
        let user = libc::CLONE_NEWUSER as u64;
        let pid = libc::CLONE_NEWPID as u64;
        assert!(eligible(net));
        assert!(eligible(net | pid));
        assert!(!eligible(pid));
        assert!(!eligible(0));
        assert!(!eligible(net | user));
    }

    fn ns_id(fd: &OwnedFd) -> u64 {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        st.st_ino
    }

    #[test]
    fn each_spare_is_a_new_namespace_and_the_thread_goes_back_home() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: making a network namespace needs root");
            return;
        }
        let home = open_own().unwrap();
        let a = make(&home).expect("a spare");
        let b = make(&home).expect("another");
        let here = open_own().unwrap();
        assert_ne!(ns_id(&a), ns_id(&home));
        assert_ne!(ns_id(&b), ns_id(&home));
        assert_ne!(ns_id(&a), ns_id(&b));
        assert_eq!(
            ns_id(&here),
            ns_id(&home),
            "the maker is back in its own namespace"
        );
    }
}
