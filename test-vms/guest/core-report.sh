#!/bin/sh
# core_pattern pipe of the test-vms guests (set by stage2.sh): when a test
# process crashes (SIGILL, SIGABRT, SIGBUS, SIGSEGV) its backtrace goes to
# the command's output, so a crash seen once in CI can be read afterwards.
# Other core signals (SIGSYS from seccomp tests, SIGQUIT...) are dropped
# without reading the core. Args: pid, signal, executable path with '!'
# for '/' (%P %s %E).
pid=$1 sig=$2 exe=$(printf '%s' "$3" | tr '!' '/')
case "$sig" in 4|6|7|11) ;; *) exit 0 ;; esac
core=/tmp/ctr-core.$pid
cat > "$core"
{
  echo "=== test-vms: pid $pid ($exe) crashed with signal $sig; its backtrace:"
  gdb -batch -nx -ex 'bt 60' -ex 'info sharedlibrary' -ex 'thread apply all bt 12' "$exe" "$core" 2>&1 | head -300
  echo "=== end of the backtrace of pid $pid"
} > /dev/ttyS1
rm -f "$core"
