//! Node-API binding of `ctr-netns`. No logic here.
#![deny(clippy::all)]

use napi_derive::napi;

/// The caller's network namespace.
#[napi(object)]
pub struct NativeCurrentNetns {
    /// Inode of /proc/self/ns/net.
    pub inode: i64,
    /// Interface names.
    pub links: Vec<String>,
}

/// Describe the caller's network namespace.
#[napi]
pub fn current() -> napi::Result<NativeCurrentNetns> {
    let n = ctr_common::catch_panic(ctr_netns::current)?;
    Ok(NativeCurrentNetns { inode: n.inode as i64, links: n.links })
}
