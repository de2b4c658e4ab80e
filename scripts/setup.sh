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
  mmdebstrap  # the systemd test VM's root file system (test-vms/vm systemd builds it once into test-vms/cache)
  containerd podman conmon
  containernetworking-plugins  # CNI bridge/host-local/loopback for the CRI tier (tests/cri/)
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

# crictl (cri-tools), the kubelet's stand-in in the CRI tier (tests/cri/):
# built with Go from the module proxy, pinned, into .cache/crictl/bin;
# skipped when that version is built. Without Go the tier skips, saying so.
CRICTL_VERSION=v1.34.0
if ! is_current crictl "$CRICTL_VERSION" .cache/crictl/bin/crictl; then
  go=$(command -v go || true)
  [ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
  if [ -n "$go" ]; then
    log "building crictl $CRICTL_VERSION into .cache/crictl/bin"
    GOBIN="$PWD/.cache/crictl/bin" GOFLAGS=-trimpath GOTOOLCHAIN=local "$go" install \
      -ldflags "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
      "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
    mark_current crictl "$CRICTL_VERSION"
  else
    log "go not found: crictl not built (the CRI tier, tests/cri/, will skip)"
  fi
fi

# --- npm distribution (scripts/release/, tests/release/) ---------------------
# Repo-local release tools under .cache/release-tools, each skipped when the
# pinned version is there:
# - zig and cargo-zigbuild (PyPI) link the addons and ctrun against the glibc
#   floor of scripts/platforms.mjs (the build below uses them when present);
# - verdaccio (npm, locked in scripts/release/verdaccio) is the throwaway
#   registry of `npm run release:dry`.
RELEASE_TOOLS=.cache/release-tools
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
zig_stamp="ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
if [ "$(cat "$RELEASE_TOOLS/.zig-stamp" 2>/dev/null || true)" != "$zig_stamp" ] || [ ! -x "$RELEASE_TOOLS/bin/cargo-zigbuild" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    [ "$(id -u)" = 0 ] || { log "python3-venv missing; run this script as root"; exit 1; }
    log "installing python3-venv"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  fi
  log "installing $zig_stamp into $RELEASE_TOOLS"
  python3 -m venv "$RELEASE_TOOLS"
  "$RELEASE_TOOLS/bin/pip" install -q --disable-pip-version-check $zig_stamp
  echo "$zig_stamp" > "$RELEASE_TOOLS/.zig-stamp"
fi
if ! cmp -s scripts/release/verdaccio/package-lock.json "$RELEASE_TOOLS/verdaccio/package-lock.json" \
  || [ ! -e "$RELEASE_TOOLS/verdaccio/node_modules/verdaccio/package.json" ]; then
  log "installing verdaccio into $RELEASE_TOOLS/verdaccio"
  rm -rf "$RELEASE_TOOLS/verdaccio" && mkdir -p "$RELEASE_TOOLS/verdaccio"
  cp scripts/release/verdaccio/package.json scripts/release/verdaccio/package-lock.json "$RELEASE_TOOLS/verdaccio/"
  (cd "$RELEASE_TOOLS/verdaccio" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# --- end npm distribution ----------------------------------------------------

# The native addons, ctrun and the TypeScript builds: two minutes even when
# nothing changed (cargo and tsc check everything), so skipped when current.
# The zig toolchain in use is an input too (it sets the glibc floor of the binaries).
build_hash=$(inputs_hash crates packages Cargo.toml Cargo.lock .cargo tsconfig.base.json lerna.json scripts/build-ts.mjs scripts/build-native.mjs scripts/platforms.mjs pnpm-lock.yaml)-$(cat "$RELEASE_TOOLS/.zig-stamp" 2>/dev/null || true)
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
