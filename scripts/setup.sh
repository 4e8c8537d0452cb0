#!/usr/bin/env bash
# Installs everything Promiseflow needs on a fresh machine, reusing what is cached:
#   - npm packages (when node_modules is missing or older than package-lock.json)
#   - the Temporal CLI (dev server + Web UI), built from Go modules into ~/.cache/promiseflow/bin
#   - MinIO (S3 state store server), built the same way
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

# The local pipeline runner bind-mounts a private /kratix in each container's own mount
# namespace; the mount point has to exist.
if [ ! -d /kratix ]; then
  mkdir -p /kratix 2>/dev/null || log "warning: cannot create /kratix (run as root or create it once)"
fi
log "ready: temporal=$BIN_DIR/temporal"
