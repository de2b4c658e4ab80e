//! The device cgroup rules every container gets, as with runc and crun.
//!
//! Engines rely on it: podman's config says only "deny all" in
//! `linux.resources.devices` and counts on the runtime to allow the standard
//! devices (runc's `AllowedDevices`, crun's default rules), so without them
//! `/dev/null` and `/dev/zero` answer EPERM inside the container.

use ctr_cgroup::resources::DeviceRule;
use ctr_cgroup::Resources;

/// runc's `AllowedDevices`: mknod of any node; `/dev/null`, `zero`, `full`,
/// `random`, `urandom`, `tty`, `ptmx`, the pts devices and `/dev/net/tun`.
pub fn default_allowed() -> Vec<DeviceRule> {
    let rule = |kind: char, major: Option<i64>, minor: Option<i64>, access: &str| DeviceRule { allow: true, kind, major, minor, access: access.into() };
    vec![
        rule('c', None, None, "m"),
        rule('b', None, None, "m"),
        rule('c', Some(1), Some(3), "rwm"),   // null
        rule('c', Some(1), Some(8), "rwm"),   // random
        rule('c', Some(1), Some(7), "rwm"),   // full
        rule('c', Some(5), Some(0), "rwm"),   // tty
        rule('c', Some(1), Some(5), "rwm"),   // zero
        rule('c', Some(1), Some(9), "rwm"),   // urandom
        rule('c', Some(136), None, "rwm"),    // pts
        rule('c', Some(5), Some(2), "rwm"),   // ptmx
        rule('c', Some(10), Some(200), "rwm"), // tun
    ]
}

/// Append [`default_allowed`] after the config's device rules (later rules
/// win), as runc does. A config without device rules leaves the device
/// controller alone, as before.
pub fn with_default_allowed(resources: &mut Resources) {
    if let Some(rules) = resources.devices.as_mut() {
        rules.extend(default_allowed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_after_the_config_rules_only_when_there_are_rules() {
        let mut r = Resources::default();
        with_default_allowed(&mut r);
        assert_eq!(r.devices, None);
        let deny_all = DeviceRule { allow: false, kind: 'a', major: None, minor: None, access: "rwm".into() };
        r.devices = Some(vec![deny_all.clone()]);
        with_default_allowed(&mut r);
        let d = r.devices.unwrap();
        assert_eq!(d[0], deny_all);
        assert_eq!(d.len(), 12);
        assert_eq!(d[3].v1_line(), "c 1:3 rwm");
        assert_eq!(d[9].v1_line(), "c 136:* rwm");
    }
}
