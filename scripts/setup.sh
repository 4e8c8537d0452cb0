#!/usr/bin/env bash
# Installs everything Promiseflow needs on a fresh machine, reusing what is cached:
#   - npm packages (when node_modules is missing or older than package-lock.json)
#   - the Temporal CLI (dev server + Web UI), built from Go modules into ~/.cache/promiseflow/bin
#   - MinIO (S3 state store server), built the same way
#   - etcd, kube-apiserver and kubectl (scripts/install-kube.sh), built the same way
#   - Debian packages the engine runs (bubblewrap; podman and busybox-static for the container
#     pipeline runner and the examples' images) and chromium (the Temporal Web test), with
#     apt-get when missing
#   - the examples' pipeline images (scripts/build-images.sh), rebuilt only when changed
# Safe to run again: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR="${PROMISEFLOW_CACHE_DIR:-$HOME/.cache/promiseflow}"
BIN_DIR="$CACHE_DIR/bin"
TEMPORAL_CLI_VERSION="v1.5.1"
mkdir -p "$BIN_DIR"

log() { printf '[setup] %s\n' "$*" >&2; }

# node-gyp builds better-sqlite3 from source when no prebuilt binary can be downloaded;
# point it at the system's Node headers so it needs no download either.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_version.h ]; then
  export npm_config_nodedir=/usr
fi

# better-sqlite3's native build is the slow part of an install (node-gyp, minutes on two
# cores): build it once per version and Node ABI and keep the binary in the cache.
install_npm_packages() {
  log "installing npm packages"
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages out of
  # the lock file, and `npm ci` then refuses it. Versions still come from the lock.
  npm install --no-fund --no-audit --ignore-scripts >&2
  local version abi cached
  version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
  abi=$(node -p "process.versions.modules + '-' + process.platform + '-' + process.arch")
  cached="$CACHE_DIR/better-sqlite3/$version-node$abi/better_sqlite3.node"
  if [ -f "$cached" ]; then
    mkdir -p node_modules/better-sqlite3/build/Release
    cp "$cached" node_modules/better-sqlite3/build/Release/better_sqlite3.node
  else
    log "building better-sqlite3 $version (once; cached in $CACHE_DIR/better-sqlite3)"
    npm rebuild better-sqlite3 >&2
    mkdir -p "$(dirname "$cached")"
    cp node_modules/better-sqlite3/build/Release/better_sqlite3.node "$cached"
  fi
  npm rebuild esbuild >&2
  node -e "new (require('better-sqlite3'))(':memory:').close()" ||
    { log "better-sqlite3 does not load; remove $cached and run again"; exit 1; }
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  install_npm_packages
fi

go_install() { # name module@version
  local name="$1" module="$2" stamp="$BIN_DIR/.$1.version"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "Go is needed to build $name ($module)"; exit 1; }
  log "building $name from $module (once; cached in $BIN_DIR)"
  GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "$module" >&2
  echo "$module" >"$stamp"
}

go_install temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"

if [ -f scripts/install-minio.sh ]; then
  BIN_DIR="$BIN_DIR" bash scripts/install-minio.sh
fi

# etcd, kube-apiserver and kubectl (the cluster mode and its tests), built the same way.
BIN_DIR="$BIN_DIR" bash scripts/install-kube.sh

# Debian packages, installed only when their command is missing (root, non-interactive):
#   bwrap (bubblewrap) sandboxes each local pipeline container (src/pipelines/sandbox.ts).
apt_install() { # command package [what needs it]
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "warning: $1 is missing; install the $2 package (${3:-pipelines cannot run without it})"
    return 0
  fi
  log "installing $2 (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "$2" >&2
}
apt_install bwrap bubblewrap
#   podman runs each pipeline container as an OCI container (PROMISEFLOW_PIPELINE_RUNNER=container).
apt_install podman podman
#   busybox-static is what the examples' images are made of (a static binary runs FROM scratch).
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  apt_install busybox-static-is-missing busybox-static
fi
#   chromium: Debian's browser, which the Temporal Web test drives headless through
#   playwright-core (test/integration/temporal-web.test.ts); no browser is downloaded.
apt_install chromium chromium "the Temporal Web test needs it"

# One quirk of some VMs (cgroup v1 with the hugetlb controller left on the v2 hierarchy):
# crun refuses every container ("cgroups in hybrid mode not supported"). Mounting hugetlb as
# a v1 hierarchy fixes it; done only in exactly that case, and only once per boot.
fix_hybrid_hugetlb() {
  local controllers=/sys/fs/cgroup/unified/cgroup.controllers
  [ "$(id -u)" = 0 ] && command -v podman >/dev/null || return 0
  [ -r "$controllers" ] && grep -qw hugetlb "$controllers" || return 0
  mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null && return 0
  log "mounting the hugetlb cgroup controller as v1 (hybrid cgroups; podman needs it)"
  mkdir -p /sys/fs/cgroup/hugetlb &&
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb ||
    log "warning: could not mount the hugetlb cgroup; container pipelines may not start"
}
fix_hybrid_hugetlb

if command -v podman >/dev/null; then
  bash scripts/build-images.sh || log "warning: the examples' pipeline images were not built"
fi

# The local pipeline runner mounts each run's directory on /kratix inside the container's
# sandbox; the mount point has to exist on the host (it stays empty).
if [ ! -d /kratix ]; then
  mkdir -p /kratix 2>/dev/null || log "warning: cannot create /kratix (run as root or create it once)"
fi
log "ready: temporal=$BIN_DIR/temporal"
