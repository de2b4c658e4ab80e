#!/bin/bash
# Stage 2 of the systemd profile: a oneshot service (ctr-vm-run.service)
# under systemd as PID 1, copied to /etc/ctr-vm/stage2.sh by guest/init.
# Runs the command written by test-vms/vm with its output on the second
# serial port (/dev/ttyS1), writes the exit status into the run folder and
# powers off. systemd mounted the API file systems and cgroup2 (pure v2)
# and manages /sys/fs/cgroup: the command runs in this service's cgroup
# (/system.slice/ctr-vm-run.service), as a daemon's child would.
off() {
  sync
  # no unit is left to stop cleanly: power off at once
  systemctl --force --force poweroff
  sleep 10
  echo o > /proc/sysrq-trigger
}
stage=stage2-systemd
# the shared part, from the project share (run from /etc/ctr-vm, this
# script finds it through the kernel command line)
project=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^ctr\.project=//p')
. "$project/test-vms/guest/stage2-common.sh" || off

bind_modules
hostname "ctr-vm-$profile"
mkdir -p /run/netns
ip link set lo up || say "cannot bring lo up"

run_command "running the command (systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), $(systemctl is-system-running 2>/dev/null))"
write_status
off
