//! The OCI mount extensions on the busybox bundle: recursive attributes
//! (`rro`), `tmpcopyup` and id-mapped binds (`idmap`, container maps).
//! Each test works on its own copy of the rootfs and its own temp dirs
//! (ids `ctrtest-mountext-<pid>-<n>`), asserts what the container sees,
//! and checks that nothing (state, process, mount) is left.
mod common;
use common::*;
use std::ffi::CString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A copy of the busybox rootfs in the test's temp dir, with /mnt.
fn own_rootfs(env: &Env) -> PathBuf {
    let r = env.dir.path().join("rootfs");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(rootfs())
        .arg(&r)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir_all(r.join("mnt")).unwrap();
    r
}

/// Host mounts of ours (under the test's temp dir).
fn mounts_under(dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&d))
        .map(String::from)
        .collect()
}

/// A tmpfs mounted on the host for the test's bind source, unmounted on drop.
struct HostTmpfs(PathBuf);
impl HostTmpfs {
    fn new(at: &Path) -> HostTmpfs {
        std::fs::create_dir_all(at).unwrap();
        let p = CString::new(at.to_str().unwrap()).unwrap();
        let r = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                p.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"size=1m".as_ptr().cast(),
            )
        };
        assert_eq!(r, 0, "mount a tmpfs on {}", at.display());
        HostTmpfs(at.to_path_buf())
    }
}
impl Drop for HostTmpfs {
    fn drop(&mut self) {
        let p = CString::new(self.0.to_str().unwrap()).unwrap();
        unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) };
    }
}

fn run_in(env: &Env, script: &str, patch: serde_json::Value) -> (i32, String, String) {
    let b = env.bundle(&["sh", "-c", script], patch);
    let o = env.ctrun(&["run", "-b", b.to_str().unwrap(), &env.id()]);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn rro_makes_submounts_read_only_where_ro_does_not() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-mountext");
    let root = own_rootfs(&env);
    let src = env.dir.path().join("src");
    let sub = HostTmpfs::new(&src.join("sub"));
    let script = "touch /mnt/top 2>&1; echo top=$?; touch /mnt/sub/file 2>&1; echo sub=$?; grep -c ' /mnt/sub ro,' /proc/self/mountinfo";
    for (opt, sub_writable) in [("rro", false), ("ro", true)] {
        let patch = serde_json::json!({ "root": { "path": root }, "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
            { "destination": "/mnt", "type": "bind", "source": src, "options": ["rbind", opt] }
        ] });
        let (code, out, err) = run_in(&env, script, patch);
        assert!(
            out.contains("top=1"),
            "{opt}: the bind itself is read-only: {out}{err}"
        );
        assert!(out.contains("Read-only file system"), "{opt}: EROFS: {out}");
        if sub_writable {
            assert!(
                out.contains("sub=0\n0\n"),
                "{opt}: the submount stays writable: {out}{err}"
            );
            assert_eq!(code, 1, "grep -c found no read-only submount");
        } else {
            assert!(
                out.contains("sub=1\n1\n"),
                "{opt}: the submount is read-only too: {out}{err}"
            );
            assert_eq!(code, 0);
        }
    }
    assert!(
        src.join("sub/file").exists() && !src.join("top").exists(),
        "writes went where expected"
    );
    drop(sub);
    env.assert_clean();
    assert!(
        mounts_under(env.dir.path()).is_empty(),
        "mounts left: {:?}",
        mounts_under(env.dir.path())
    );
}

#[test]
fn tmpcopyup_fills_the_tmpfs_with_what_it_covers() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-mountext");
    let root = own_rootfs(&env);
    let etc = root.join("etc");
    // Things worth keeping: an owner, a mode, a symlink, a subdirectory,
    // an old mtime.
    std::fs::write(etc.join("secret"), "s3cret\n").unwrap();
    std::os::unix::fs::chown(etc.join("secret"), Some(12), Some(34)).unwrap();
    std::fs::set_permissions(etc.join("secret"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("passwd", etc.join("pw-link")).unwrap();
    std::fs::create_dir(etc.join("conf.d")).unwrap();
    std::fs::write(etc.join("conf.d/a.conf"), "a=1\n").unwrap();
    let old = filetime(etc.join("conf.d/a.conf"), 1_000_000_000);
    let before = listing(&etc);
    let script = "grep ' /etc ' /proc/self/mountinfo | grep -c 'tmpfs tmpfs'; stat -c '%n %u %g %a %Y' /etc/secret /etc/conf.d/a.conf; \
        readlink /etc/pw-link; cat /etc/secret /etc/conf.d/a.conf; head -1 /etc/passwd; \
        echo new > /etc/new && cat /etc/new && echo more >> /etc/passwd && echo wrote; ls /etc | tr '\\n' ' '";
    let patch = serde_json::json!({ "root": { "path": root, "readonly": true }, "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc" },
        { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] },
        { "destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "tmpcopyup"] }
    ] });
    let (code, out, err) = run_in(&env, script, patch);
    assert_eq!(code, 0, "{out}{err}");
    let want = format!(
        "1\n/etc/secret 12 34 640 {}\n/etc/conf.d/a.conf 0 0 644 {old}\npasswd\ns3cret\na=1\nroot:x:0:0:root:/root:/bin/sh\nnew\nwrote\n",
        std::fs::metadata(etc.join("secret")).unwrap().mtime()
    );
    assert!(out.starts_with(&want), "got:\n{out}\nwant:\n{want}{err}");
    let inside: Vec<&str> = out.lines().last().unwrap().split_whitespace().collect();
    let mut expect: Vec<String> = before
        .iter()
        .map(|(n, ..)| n.clone())
        .filter(|n| !n.contains('/'))
        .collect();
    expect.push("new".into());
    expect.sort();
    assert_eq!(inside, expect, "the tmpfs holds the copy plus the new file");
    // The rootfs is untouched.
    assert_eq!(listing(&etc), before, "the host's /etc changed");
    env.assert_clean();
    assert!(
        mounts_under(env.dir.path()).is_empty(),
        "mounts left: {:?}",
        mounts_under(env.dir.path())
    );
}

fn filetime(p: PathBuf, secs: i64) -> i64 {
    let c = CString::new(p.to_str().unwrap()).unwrap();
    let ts = [
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
    ];
    assert_eq!(
        unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), ts.as_ptr(), 0) },
        0
    );
    secs
}

/// (relative path, mode, uid, gid, size, mtime) of everything under `d`.
fn listing(d: &Path) -> Vec<(String, u32, u32, u32, u64, i64)> {
    let mut out = vec![];
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            out.push((
                e.path()
                    .strip_prefix(d)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                m.mode(),
                m.uid(),
                m.gid(),
                m.size(),
                m.mtime(),
            ));
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The kernel refused the id map for the file system (say 9p or an
/// overlay on it in a test VM): a stated skip, not a pass.
fn idmap_unsupported(err: &str) -> bool {
    if err.contains("does not support id-mapped mounts")
        || err.contains("mount_setattr needs Linux")
    {
        eprintln!("skipped: id-mapped mounts unsupported here: {err}");
        return true;
    }
    false
}

#[test]
fn idmap_bind_shows_mapped_owners() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-mountext");
    let root = own_rootfs(&env);
    let src = env.dir.path().join("ids");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a"), "a").unwrap();
    std::fs::write(src.join("b"), "b").unwrap();
    std::os::unix::fs::chown(src.join("b"), Some(5), Some(7)).unwrap();
    std::os::unix::fs::chown(src.join("a"), Some(0), Some(0)).unwrap();
    let base = serde_json::json!([
        { "destination": "/proc", "type": "proc", "source": "proc" },
        { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] }
    ]);
    // Explicit maps, no user namespace: on-disk 0..10 shows as 1000.. / 2000..
    let mut mounts = base.clone();
    mounts.as_array_mut().unwrap().push(serde_json::json!({
        "destination": "/mnt", "type": "bind", "source": src, "options": ["bind", "idmap"],
        "uidMappings": [{ "containerID": 0, "hostID": 1000, "size": 10 }],
        "gidMappings": [{ "containerID": 0, "hostID": 2000, "size": 10 }]
    }));
    let (code, out, err) = run_in(
        &env,
        "stat -c '%n %u %g' /mnt/a /mnt/b",
        serde_json::json!({ "root": { "path": root }, "mounts": mounts }),
    );
    if code != 0 && idmap_unsupported(&err) {
        env.assert_clean();
        return;
    }
    assert_eq!(
        (code, out.as_str()),
        (0, "/mnt/a 1000 2000\n/mnt/b 1005 2007\n"),
        "{err}"
    );

    // No maps of its own in a user-namespaced container: the container's
    // maps, so the on-disk owners show as they are on the host.
    let mut mounts = base.clone();
    mounts.as_array_mut().unwrap().push(serde_json::json!({ "destination": "/mnt", "type": "bind", "source": src, "options": ["rbind", "idmap"] }));
    mounts.as_array_mut().unwrap().push(serde_json::json!({ "destination": "/plain", "type": "bind", "source": src, "options": ["rbind"] }));
    std::fs::create_dir_all(root.join("plain")).unwrap();
    let patch = serde_json::json!({ "root": { "path": root }, "mounts": mounts, "linux": {
        "namespaces": [{ "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "network" }, { "type": "user" }],
        "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
        "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }]
    } });
    let (code, out, err) = run_in(
        &env,
        "stat -c '%n %u %g' /mnt/a /mnt/b /plain/a; echo x > /mnt/c && echo wrote",
        patch,
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "/mnt/a 0 0\n/mnt/b 5 7\n/plain/a 65534 65534\nwrote\n"),
        "{err}"
    );
    // Written as container root through the mapped mount: root on disk.
    let c = std::fs::metadata(src.join("c")).unwrap();
    assert_eq!((c.uid(), c.gid()), (0, 0));
    // The host's view is unchanged.
    let b = std::fs::metadata(src.join("b")).unwrap();
    assert_eq!((b.uid(), b.gid()), (5, 7));
    env.assert_clean();
    assert!(
        mounts_under(env.dir.path()).is_empty(),
        "mounts left: {:?}",
        mounts_under(env.dir.path())
    );
}

#[test]
fn mount_extension_errors_are_coded() {
    if !ready() {
        return;
    }
    let env = Env::new("ctrtest-mountext");
    let root = own_rootfs(&env);
    // idmap on a tmpfs source-less mount: refused before anything is made.
    let patch = serde_json::json!({ "root": { "path": root }, "mounts": [
        { "destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"] }
    ] });
    let (code, _, err) = run_in(&env, "true", patch);
    assert_ne!(code, 0);
    assert!(
        err.contains("ERUNTIME_UNSUPPORTED") || err.contains("mounts[0].options"),
        "{err}"
    );
    // A bad tmpfs option under tmpcopyup names the option.
    let patch = serde_json::json!({ "root": { "path": root }, "mounts": [
        { "destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuchopt=1"] }
    ] });
    let (code, _, err) = run_in(&env, "true", patch);
    assert_ne!(code, 0);
    assert!(err.contains("nosuchopt"), "{err}");
    env.assert_clean();
    assert!(
        mounts_under(env.dir.path()).is_empty(),
        "mounts left: {:?}",
        mounts_under(env.dir.path())
    );
}
