#!/bin/bash
# Stage 2 of the systemd profile: a oneshot service (ctr-vm-run.service)
# under systemd as PID 1, copied to /etc/ctr-vm/stage2.sh by guest/init.
# Runs the command written by test-vms/vm with its output on the second
# serial port (/dev/ttyS1), writes the exit status into the run folder and
# powers off. systemd mounted the API file systems and cgroup2 (pure v2)
# and manages /sys/fs/cgroup: the command runs in this service's cgroup
# (/system.slice/ctr-vm-run.service), as a daemon's child would.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
console=/dev/ttyS0
say() { echo "ctr-vm stage2-systemd: $*" > "$console"; }

for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ctr.project=*) project=${arg#ctr.project=} ;;
    ctr.run=*) run=${arg#ctr.run=} ;;
    ctr.profile=*) profile=${arg#ctr.profile=} ;;
    ctr.kver=*) kver=${arg#ctr.kver=} ;;
    ctr.modules=*) modules=${arg#ctr.modules=} ;;
  esac
done

off() {
  sync
  # no unit is left to stop cleanly: power off at once
  systemctl --force --force poweroff
  sleep 10
  echo o > /proc/sysrq-trigger
}

if [ -n "$modules" ] && [ -d "$modules/$kver" ]; then
  mkdir -p "/lib/modules/$kver" && mount --bind "$modules/$kver" "/lib/modules/$kver" || say "cannot bind the modules"
fi
hostname "ctr-vm-$profile"
mkdir -p /run/netns
ip link set lo up || say "cannot bring lo up"

[ -f "$run/cmd.sh" ] || { say "FATAL: no command file $run/cmd.sh"; off; }
stty -F /dev/ttyS1 raw -echo 2>/dev/null
say "running the command (systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), $(systemctl is-system-running 2>/dev/null))"
mkfifo /run/ctr-vm-out
cat /run/ctr-vm-out > /dev/ttyS1 &
catpid=$!
bash "$run/cmd.sh" < /dev/null > /run/ctr-vm-out 2>&1 &
wait $!
rc=$?
for _ in $(seq 30); do kill -0 "$catpid" 2>/dev/null || break; sleep 0.1; done
echo "$rc" > "$run/status.tmp" && mv "$run/status.tmp" "$run/status"
say "command exited with status $rc"
off
