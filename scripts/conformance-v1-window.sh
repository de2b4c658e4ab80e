#!/bin/sh
# Run a command with the v1 hierarchies crun 1.8.1 wants on a hybrid host
# (hugetlb, net_cls+net_prio, perf_event), in a private mount namespace only:
#   unshare --mount --propagation private sh scripts/conformance-v1-window.sh CMD...
# (scripts/conformance.mjs --v1-hierarchies does that). /sys/fs/cgroup gets a
# private tmpfs; the host's cgroup mounts are moved onto it (moved, not
# covered: a covered mount stays in mountinfo and a runtime would see its
# hierarchy twice) and the three hierarchies are mounted next to them.
# Binding a controller to a v1 hierarchy is kernel-wide while it lasts (hugetlb
# leaves cgroup2 meanwhile); at the end each hierarchy is emptied of the
# suite's leftovers and unmounted once its cgroups are freed, which is when the
# kernel releases it (an unmounted hierarchy with a child cgroup, dying ones
# included, would stay for good). Nothing of the host changes for good.
set -u
if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null; then
  echo "hugetlb is enabled in /sys/fs/cgroup/unified/cgroup.subtree_control (left by someone): it cannot be bound to a v1 hierarchy" >&2
  exit 1
fi
B=$(mktemp -d /tmp/ctr-conformance-cg-XXXXXX)
for d in /sys/fs/cgroup/*/; do n=$(basename "$d"); mkdir "$B/$n"; mount --move "/sys/fs/cgroup/$n" "$B/$n" || exit 1; done
mount -t tmpfs -o mode=755 ctr-conformance-cgroup /sys/fs/cgroup || exit 1
for d in "$B"/*/; do n=$(basename "$d"); mkdir "/sys/fs/cgroup/$n"; mount --move "$B/$n" "/sys/fs/cgroup/$n"; rmdir "$B/$n"; done
rmdir "$B"
added=
for c in hugetlb net_cls,net_prio perf_event; do
  mkdir "/sys/fs/cgroup/$c"
  if mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; then added="$added $c"; else echo "could not mount the $c hierarchy" >&2; fi
done
ln -s net_cls,net_prio /sys/fs/cgroup/net_cls
ln -s net_cls,net_prio /sys/fs/cgroup/net_prio
"$@"
status=$?
# The suite's own leftovers (cgrouptest, testdir), if empty.
for h in /sys/fs/cgroup/*/; do
  for n in cgrouptest testdir; do [ -d "$h$n" ] && find "$h$n" -depth -type d -exec rmdir {} \; 2>/dev/null; done
done
for c in $added; do
  first=${c%%,*}
  for i in $(seq 100); do [ "$(awk -v c="$first" '$1 == c { print $3 }' /proc/cgroups)" = 1 ] && break; sleep 0.1; done
  umount "/sys/fs/cgroup/$c"
done
# A hierarchy the kernel still holds (a container's mount namespace kept it
# past our unmount): mount it again, remove what is empty, unmount.
for c in $added; do
  first=${c%%,*}
  for try in 1 2 3 4 5; do
    [ "$(awk -v c="$first" '$1 == c { print $2 }' /proc/cgroups)" = 0 ] && break
    d=$(mktemp -d /tmp/ctr-conformance-release-XXXXXX)
    if mount -t cgroup -o "$c" cgroup "$d"; then
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
      for i in $(seq 100); do [ "$(awk -v c="$first" '$1 == c { print $3 }' /proc/cgroups)" = 1 ] && break; sleep 0.1; done
      umount "$d"
    fi
    rmdir "$d"; sleep 0.5
  done
  [ "$(awk -v c="$first" '$1 == c { print $2 }' /proc/cgroups)" = 0 ] || echo "warning: the $c hierarchy is still held by the kernel" >&2
done
exit $status
