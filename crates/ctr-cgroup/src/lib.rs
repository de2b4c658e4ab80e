//! Cgroups for ctr: one API over v1, v2 and hybrid hosts.
//!
//! [`detect`] reads `/proc/self/mountinfo` and `/proc/self/cgroup` to learn
//! the host's layout: which hierarchies are mounted where, which
//! controllers each one holds, and the caller's own cgroup in each.
#![deny(missing_docs)]

pub mod detect;

pub use ctr_common::{Error, Result};
pub use detect::{detect, Hierarchy, Layout, Mode};
