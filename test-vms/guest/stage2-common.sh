# What both stage 2 scripts share (sourced, not run): guest/stage2.sh (PID 1
# of the v1/v2/hybrid guests) and guest/stage2-systemd.sh (the systemd
# profile's service). Set `stage` (the name `say` prints) and define `off`
# (how this guest powers off) before sourcing. Read from the project share
# at every boot, like the stage 2 scripts: no cache (initramfs, systemd
# root) holds it.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
console=/dev/ttyS0
say() { echo "ctr-vm $stage: $*" > "$console"; }
fatal() { say "FATAL: $*"; off; }

for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ctr.project=*) project=${arg#ctr.project=} ;;
    ctr.run=*) run=${arg#ctr.run=} ;;
    ctr.profile=*) profile=${arg#ctr.profile=} ;;
    ctr.kver=*) kver=${arg#ctr.kver=} ;;
    ctr.modules=*) modules=${arg#ctr.modules=} ;;
    ctr.debug=*) debug=${arg#ctr.debug=} ;;
  esac
done

# the guest kernel's modules (from the same Debian package) so modprobe
# and the kernel's module autoloading (veth, bridge, nf_tables...) work
bind_modules() {
  if [ -n "$modules" ] && [ -d "$modules/$kver" ]; then
    mkdir -p "/lib/modules/$kver" && mount --bind "$modules/$kver" "/lib/modules/$kver" || say "cannot bind the modules"
  fi
}

# run_command MESSAGE: say MESSAGE and run the command file test-vms/vm
# wrote, its output on the second serial port; sets `rc` (its status) and
# `catpid` (the copier of its output, still alive if a process the command
# leaked holds the pipe).
run_command() {
  [ -f "$run/cmd.sh" ] || fatal "no command file $run/cmd.sh"
  stty -F /dev/ttyS1 raw -echo 2>/dev/null
  say "$1"
  # through a pipe, so the command's stdout is not a tty (no colours, no tty
  # quirks); wait for the command only: a process it leaked may hold the pipe
  mkfifo /run/ctr-vm-out
  cat /run/ctr-vm-out > /dev/ttyS1 &
  catpid=$!
  bash "$run/cmd.sh" < /dev/null > /run/ctr-vm-out 2>&1 &
  wait $!
  rc=$?
  for _ in $(seq 30); do kill -0 "$catpid" 2>/dev/null || break; sleep 0.1; done
}

# the status where test-vms/vm waits for it (written whole: renamed into place)
write_status() {
  echo "$rc" > "$run/status.tmp" && mv "$run/status.tmp" "$run/status"
  say "command exited with status $rc"
}
