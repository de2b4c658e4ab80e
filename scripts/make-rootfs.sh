#!/usr/bin/env bash
# Assemble the busybox rootfs used by demos, tests and benchmarks from
# Debian's busybox-static (no image registry is reachable). Idempotent:
# rebuilt only when the busybox binary changes.
# Output: .cache/rootfs/busybox (override with CTR_ROOTFS_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${CTR_ROOTFS_DIR:-$PWD/.cache/rootfs/busybox}
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-rootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
stamp="$out/.ctr-rootfs-stamp"
want="$(sha256sum "$bb" | cut -d' ' -f1) v1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,run,var/tmp}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$tmp/$(dirname "$applet")"
  ln -sf /bin/busybox "$tmp/$applet"
done
cat > "$tmp/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$tmp/etc/group" <<GROUP
root:x:0:
nogroup:x:65534:
GROUP
echo ctr > "$tmp/etc/hostname"
: > "$tmp/etc/resolv.conf"
echo "$want" > "$tmp/.ctr-rootfs-stamp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
echo "[setup] busybox rootfs at $out" >&2
