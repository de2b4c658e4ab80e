#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine, run as root by `npm run demo`,
# `npm test` and CI: system packages, pnpm, node modules, native and TS builds.
# Each step checks before it acts, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
APT_PACKAGES=(
  build-essential pkg-config git ca-certificates
  libseccomp-dev libcap-dev libnftables-dev
  busybox-static iproute2 nftables uidmap procps psmisc util-linux
  runc crun hyperfine gdb
  qemu-system-x86 kmod cpio xz-utils
  containerd podman conmon
  chromium  # the docs site's browser test (tests/docs-browser.test.ts)
)

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing apt packages (${missing[*]}); run this script as root"; exit 1
  fi
  log "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # containerd and podman ship services (containerd.service, podman.socket,
  # podman-restart.service): never let their maintainer scripts start or
  # restart a daemon here. Tests run private instances (tests/clients.test.ts);
  # policy-rc.d answering 101 makes invoke-rc.d / deb-systemd-invoke skip
  # every start, whether or not systemd runs. An existing policy is kept.
  policy=/usr/sbin/policy-rc.d own_policy=
  if [ ! -e "$policy" ]; then
    own_policy=1
    printf '#!/bin/sh\n# ctr scripts/setup.sh: no service starts during package installs\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then rm -f "$policy"; trap - EXIT; fi
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm@$PNPM_VERSION"
  npm i -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

# Skip what is current: a step whose inputs hash to the value in its stamp
# under .cache/ (written when it last succeeded) and whose outputs exist is
# not run again. Inputs are the files git sees (tracked or new, not ignored),
# so a fresh clone, an edit, a checkout or a pull all count as a change.
# CTR_SETUP_FORCE=1 runs every step.
inputs_hash() {
  git ls-files -co --exclude-standard -- "$@" 2>/dev/null | grep -v -E '^packages/[^/]+/(test/|README)' | sort \
    | xargs -d '\n' sha256sum 2>/dev/null | sha256sum | cut -d' ' -f1
}
is_current() { # stamp-name hash output...
  local stamp=".cache/$1.stamp" hash=$2; shift 2
  [ -z "${CTR_SETUP_FORCE:-}" ] && [ -d .git -o -f .git ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] || return 1
  for out in "$@"; do [ -e "$out" ] || return 1; done
}
mark_current() { mkdir -p .cache && echo "$2" > ".cache/$1.stamp"; }

install_hash=$(inputs_hash pnpm-lock.yaml pnpm-workspace.yaml package.json 'packages/*/package.json' docs/examples/package.json)
if ! is_current pnpm-install "$install_hash" node_modules/.modules.yaml; then
  pnpm install --frozen-lockfile --reporter=silent
  mark_current pnpm-install "$install_hash"
fi

# The busybox rootfs used by demos, tests and benchmarks.
bash scripts/make-rootfs.sh
# ... and as an OCI image archive for containerd and podman (tests/clients.test.ts).
node scripts/make-oci-image.mjs >/dev/null

# The native addons, ctrun and the TypeScript builds: two minutes even when
# nothing changed (cargo and tsc check everything), so skipped when current.
build_hash=$(inputs_hash crates packages Cargo.toml Cargo.lock .cargo tsconfig.base.json lerna.json scripts/build-ts.mjs pnpm-lock.yaml)
build_outputs=(packages/runtime/bin/ctrun packages/*/dist/index.cjs packages/*/native/index.js)
if is_current build "$build_hash" "${build_outputs[@]}"; then
  log "build is current (.cache/build.stamp)"
else
  pnpm run -s build
  mark_current build "$build_hash"
fi

# `ctrun` on PATH, for engines (containerd, podman) and people.
if [ "$(id -u)" = 0 ] && [ -x packages/runtime/bin/ctrun ]; then
  ln -sf "$PWD/packages/runtime/bin/ctrun" /usr/local/bin/ctrun
fi
