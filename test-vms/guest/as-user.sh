#!/bin/bash
# In the systemd guest: run a command as the unprivileged user `ctr`
# (uid 1000, subordinate ids 100000-165535 in /etc/subuid and /etc/subgid)
# inside its systemd user session: lingering is enabled so user@1000.service
# (the user's systemd, its D-Bus session bus and its delegated cgroup
# /user.slice/user-1000.slice/user@1000.service) runs, and the command gets
# XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS as a login would.
#
#   test-vms/vm systemd -- test-vms/guest/as-user.sh id
#   test-vms/vm systemd -- test-vms/guest/as-user.sh systemctl --user status
#
# The command runs in a transient unit of the user's manager (systemd-run
# --user --scope), so its cgroup is in the user's delegated subtree.
set -euo pipefail
user=${CTR_VM_USER:-ctr}
uid=$(id -u "$user")
loginctl enable-linger "$user"
for _ in $(seq 100); do
  systemctl is-active --quiet "user@$uid.service" && [ -S "/run/user/$uid/bus" ] && break
  sleep 0.2
done
systemctl is-active --quiet "user@$uid.service" || { echo "as-user.sh: user@$uid.service did not start" >&2; exit 125; }
exec setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups \
  env -i PATH="$PATH" HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
  XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" \
  ${CTR_VM_PROFILE:+CTR_VM_PROFILE=$CTR_VM_PROFILE} \
  systemd-run --user --scope --quiet --collect -- "$@"
