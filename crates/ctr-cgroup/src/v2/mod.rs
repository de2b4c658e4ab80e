//! cgroup v2 controllers: one file each. pids, rdma and misc use the same
//! files as v1 and are shared from [`crate::v1`].

pub mod cpu;
pub mod cpuset;
pub mod devices;
pub mod freezer;
pub mod hugetlb;
pub mod io;
pub mod memory;
pub mod unified;
pub use crate::v1::{misc, pids, rdma};
