//! Cgroups for ctr: one API over v1, v2 and hybrid hosts.
//!
//! * [`detect`] reads `/proc/self/mountinfo` and `/proc/self/cgroup` to
//!   learn the host's layout.
//! * [`Cgroup`] creates, opens, limits, freezes, kills and deletes a
//!   cgroup through a [`Manager`] back end picked once from the layout:
//!   [`manager::V1Manager`] on legacy and hybrid hosts (on hybrid hosts it
//!   keeps a matching directory in the cgroup2 hierarchy too),
//!   [`manager::V2Manager`] on unified ones.
//! * [`Resources`] are parsed from the OCI `linux.resources` JSON (or
//!   friendlier spellings with units); each controller is one file under
//!   [`v1`] or [`v2`].
//! * [`systemd`]: the systemd driver ([`Backend::Systemd`]): the cgroup as
//!   a transient scope unit made over D-Bus.
//! * [`Stats`] have one shape on both versions; [`events`] delivers OOM and
//!   populated/empty changes without polling where the kernel can notify.
#![deny(missing_docs)]

pub mod cgroup;
pub mod code;
pub mod detect;
pub mod events;
pub mod fsx;
pub mod manager;
pub mod path;
pub mod resources;
pub mod stats;
pub mod systemd;
pub mod units;
pub mod v1;
pub mod v2;

pub use code::Code;

pub use cgroup::{remove_made_parents, Cgroup};
pub use ctr_common::{Error, Result};
pub use detect::{detect, detect_uncached, forget_layout, Hierarchy, Layout, Mode};
pub use manager::{Backend, Manager, Options};
pub use path::RelativePaths;
pub use resources::Resources;
pub use stats::Stats;
