#!/usr/bin/env bash
# Builds a real Kubernetes control plane for tests into $BIN_DIR, once:
#   - kube-apiserver and kubectl from k8s.io/kubernetes (wrapper module scripts/kube/apiserver)
#   - etcd from go.etcd.io/etcd/server/v3 (wrapper module scripts/kube/etcd)
# `go install k8s.io/kubernetes/cmd/...@v1.36.3` does not work: k8s.io/kubernetes pins its
# staging modules (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 with local replaces. The
# wrapper replaces each one by its published release; its go.mod/go.sum are committed, so
# this is a plain `go build` (module proxy only). The versions come from the wrappers' go.mod.
# Each binary has a stamp with its version and the sha256 of its wrapper's go.mod (and
# main.go); a second run with nothing changed is a no-op.
# Cost on a fresh machine (2 cores): ~6 min for kube-apiserver + kubectl, ~1 min for etcd.
set -euo pipefail

BIN_DIR="${BIN_DIR:-$HOME/.cache/promiseflow/bin}"
KUBE_DIR="$(cd "$(dirname "$0")" && pwd)/kube"

log() { printf '[install-kube] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# version_in GOMOD MODULE: the version GOMOD requires MODULE at (single-line or block form).
version_in() {
  sed -nE "s#^[[:space:]]*(require[[:space:]]+)?$2[[:space:]]+(v[^[:space:]]+).*#\\2#p" "$1" | head -n 1
}
# stamp_of NAME VERSION DIR: what the stamp of NAME must say for the wrapper in DIR.
stamp_of() {
  local sum
  sum=$(cd "$3" && for f in go.mod main.go; do [ ! -f "$f" ] || cat "$f"; done | sha256sum | cut -c1-16)
  printf '%s %s wrapper=%s\n' "$1" "$2" "$sum"
}
fresh() { # NAME EXPECTED-STAMP
  [ -x "$BIN_DIR/$1" ] && [ "$(cat "$BIN_DIR/.$1.version" 2>/dev/null)" = "$2" ]
}

APISERVER_DIR="$KUBE_DIR/apiserver"
ETCD_DIR="$KUBE_DIR/etcd"
KUBE_VERSION=$(version_in "$APISERVER_DIR/go.mod" 'k8s\.io/kubernetes')
ETCD_VERSION=$(version_in "$ETCD_DIR/go.mod" 'go\.etcd\.io/etcd/server/v3')
[ -n "$KUBE_VERSION" ] || die "no k8s.io/kubernetes version in $APISERVER_DIR/go.mod"
[ -n "$ETCD_VERSION" ] || die "no go.etcd.io/etcd/server/v3 version in $ETCD_DIR/go.mod"

APISERVER_STAMP=$(stamp_of kube-apiserver "k8s.io/kubernetes@$KUBE_VERSION" "$APISERVER_DIR")
KUBECTL_STAMP=$(stamp_of kubectl "k8s.io/kubernetes@$KUBE_VERSION" "$APISERVER_DIR")
ETCD_STAMP=$(stamp_of etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$ETCD_DIR")

mkdir -p "$BIN_DIR"
if fresh kube-apiserver "$APISERVER_STAMP" && fresh kubectl "$KUBECTL_STAMP" && fresh etcd "$ETCD_STAMP"; then
  exit 0
fi
command -v go >/dev/null || die "Go is needed to build kube-apiserver, kubectl and etcd"

# Build into a temp dir next to the binaries and rename into place, so an interrupted build
# never leaves a half-written binary that the stamp check would trust.
tmp="$(mktemp -d "$BIN_DIR/.install-kube.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
NICE=()
command -v nice >/dev/null && NICE=(nice -n 10)
export CGO_ENABLED=0 GOWORK=off

gobuild() { # DIR LDFLAGS PACKAGE...
  local dir="$1" ldflags="$2"
  shift 2
  (cd "$dir" && "${NICE[@]}" go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp/" "$@") >&2
}
install_bin() { # NAME STAMP
  mv -f "$tmp/$1" "$BIN_DIR/$1"
  echo "$2" >"$BIN_DIR/.$1.version"
}

if ! fresh etcd "$ETCD_STAMP"; then
  log "building etcd $ETCD_VERSION (once, about a minute; cached in $BIN_DIR)"
  start=$(date +%s)
  gobuild "$ETCD_DIR" "-s -w" . # the binary is named after the module path's last element: etcd
  install_bin etcd "$ETCD_STAMP"
  log "etcd ready in $(($(date +%s) - start))s: $BIN_DIR/etcd"
fi

if ! fresh kube-apiserver "$APISERVER_STAMP" || ! fresh kubectl "$KUBECTL_STAMP"; then
  log "building kube-apiserver and kubectl $KUBE_VERSION (once, several minutes; cached in $BIN_DIR)"
  start=$(date +%s)
  # Without these, /version and `kubectl version` report v0.0.0-master.
  major=${KUBE_VERSION#v}; major=${major%%.*}
  minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  gobuild "$APISERVER_DIR" "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  install_bin kube-apiserver "$APISERVER_STAMP"
  install_bin kubectl "$KUBECTL_STAMP"
  log "kube-apiserver and kubectl ready in $(($(date +%s) - start))s: $BIN_DIR/kube-apiserver, $BIN_DIR/kubectl"
fi
