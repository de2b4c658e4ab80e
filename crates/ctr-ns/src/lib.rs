//! Namespaces for ctr: which kinds the kernel has, and [`spawn`]ing a
//! process into new namespaces.
//!
//! # Fork safety
//! The Node process that uses this crate is multi-threaded. The child made
//! by `clone3` is a copy of one thread of it, and until it execs it may only
//! make raw system calls: no allocation, no locks, no formatting, no panics.
//! So everything the child needs is built first into a [`plan::Prepared`]
//! (C strings and pointer arrays the child only reads) and the child runs
//! [`child::child_main`], which reports a failure as a (step, errno) pair
//! over a close-on-exec pipe that the parent turns into an [`Error`].
#![deny(missing_docs)]

pub mod caps;
pub mod child;
pub mod code;
pub mod console;
pub mod detached;
pub mod exec_helper;
pub mod idmap;
pub mod kinds;
pub mod mountopt;
pub mod persist;
pub mod plan;
pub mod rootfs;
pub mod spare_net;
pub mod spawn;
pub mod spawner;
pub mod sys;
pub mod syscalls;

pub use code::Code;

pub use caps::CapNames;
pub use console::{Console, ConsoleSocket, WinSize};
pub use ctr_common::{Error, Result};
pub use idmap::{IdMap, IdMaps};
pub use kinds::{supported_namespaces, NamespaceKind};
pub use mountopt::{parse_options, MountOptions};
pub use plan::{
    cpu_set, CallerMemoryCgroup, FilesystemOptions, IoOptions, LifecycleOptions, MemoryPolicy,
    NamespaceOptions, ProcessOptions, ResourceOptions, Rlimit, SchedAttr, SecurityOptions,
    SpawnOptions, Stdio, TimeOffsets,
};
pub use rootfs::{DeviceSpec, MountSpec, RootfsSpec};
pub use spawn::{spawn, spawn_forked, Child, ExitStatus, Stage};
