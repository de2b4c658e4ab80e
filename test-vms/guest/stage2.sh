#!/bin/bash
# Stage 2, PID 1 of a test-vms guest (runs the host's own bash from the
# read-only 9p root with a tmpfs overlay). Mounts the usual API file
# systems, lays out cgroups for the profile, runs the command written by
# test-vms/vm with its output on the second serial port (/dev/ttyS1), writes
# the exit status into the run folder and powers off.
off() {
  sync
  echo 1 > /proc/sys/kernel/sysrq
  echo o > /proc/sysrq-trigger
  sleep 10 2>/dev/null # may fail once the 9p root is gone
  exit 1 # panics PID 1: qemu stops thanks to panic=-1 and -no-reboot
}
stage=stage2
# read whole before the project share is moved below
. "${BASH_SOURCE[0]%/*}/stage2-common.sh" || off

# the project share is mounted at its host path; keep it visible when that
# path lies under a folder covered below (a clone in /tmp, /run...)
mkdir -p /.ctr-project
mount --move "$project" /.ctr-project || fatal "cannot move the project share"

mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts || fatal "devpts"
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm || fatal "/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fatal "/tmp"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run || fatal "/run"
mkdir -p /run/lock /run/netns
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || { ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr; }
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

mkdir -p "$project" && mount --move /.ctr-project "$project" || fatal "cannot mount the project share back at $project"
rmdir /.ctr-project

bind_modules

hostname "ctr-vm-$profile"
echo "ctr-vm-$profile" > /etc/hostname
ip link set lo up || say "cannot bring lo up"

mount_v1() { # every controller listed in $@ on its own v1 hierarchy
  local c
  for c in "$@"; do
    mkdir -p "/sys/fs/cgroup/$c"
    mount -t cgroup -o "rw,nosuid,nodev,noexec,relatime,$c" cgroup "/sys/fs/cgroup/$c" || fatal "cannot mount v1 $c"
  done
  mkdir -p /sys/fs/cgroup/systemd
  mount -t cgroup -o rw,nosuid,nodev,noexec,relatime,none,name=systemd cgroup /sys/fs/cgroup/systemd || fatal "cannot mount name=systemd"
}
all_v1() { awk '!/^#/ && $4 == 1 { print $1 }' /proc/cgroups; }

case "$profile" in
  v2)
    mount -t cgroup2 -o rw,nosuid,nodev,noexec,relatime,nsdelegate cgroup2 /sys/fs/cgroup || fatal "cannot mount cgroup2"
    for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
      echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || say "cannot enable $c in the root subtree_control"
    done
    ;;
  v1)
    mount -t tmpfs -o rw,nosuid,nodev,noexec,mode=755 tmpfs /sys/fs/cgroup || fatal "tmpfs on /sys/fs/cgroup"
    mount_v1 $(all_v1)
    ;;
  hybrid)
    # like the CI hosts: these v1 hierarchies, the rest left to cgroup2 at unified/
    mount -t tmpfs -o rw,nosuid,nodev,noexec,mode=755 tmpfs /sys/fs/cgroup || fatal "tmpfs on /sys/fs/cgroup"
    mount_v1 ${CTR_VM_HYBRID_V1:-cpu cpuacct cpuset memory devices freezer blkio pids}
    mkdir -p /sys/fs/cgroup/unified
    mount -t cgroup2 -o rw,nosuid,nodev,noexec,relatime cgroup2 /sys/fs/cgroup/unified || fatal "cannot mount cgroup2 at unified/"
    ;;
  *) fatal "unknown profile '$profile'" ;;
esac

[ "$debug" = shell ] && { say "debug shell (exit to run the command)"; setsid -c bash -i <"$console" >"$console" 2>&1; }

# a crashing test process prints its backtrace into the output (needs gdb)
if command -v gdb >/dev/null 2>&1; then
  echo "|$project/test-vms/guest/core-report.sh %P %s %E" > /proc/sys/kernel/core_pattern || say "cannot set core_pattern"
fi

run_command "running the command"
if kill -0 "$catpid" 2>/dev/null; then
  left=$(for p in /proc/[0-9]*; do
    n=${p#/proc/}
    { [ "$n" = 1 ] || [ "$n" = "$catpid" ] || [ "$n" = "$BASHPID" ]; } && continue
    c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) && [ -n "$c" ] && printf '%s %s; ' "$n" "$c"
  done)
  say "processes the command left running (killed): $left"
fi
kill -9 -1 2>/dev/null
write_status
off
