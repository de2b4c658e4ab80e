//! cgroup v1 controllers: one file each, every one applying its part of
//! [`crate::Resources`] to a directory and reading its statistics.

pub mod blkio;
pub mod cpu;
pub mod cpuacct;
pub mod cpuset;
pub mod devices;
pub mod freezer;
pub mod hugetlb;
pub mod memory;
pub mod misc;
pub mod net;
pub mod pids;
pub mod rdma;
