#!/usr/bin/env bash
# Builds the MinIO server (S3 state store for tests, demo and bench) from Go modules into
# $BIN_DIR, once. MinIO publishes no semver tags, so we pin the pseudo-version of a RELEASE
# tag the Go module proxy serves: RELEASE.2025-09-07T16-13-09Z (commit 07c3a429bfed). Later
# release tags are not on the proxy; this one has no `replace` directives, so go install works.
set -euo pipefail

BIN_DIR="${BIN_DIR:-$HOME/.cache/promiseflow/bin}"
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20250907161309-07c3a429bfed" # RELEASE.2025-09-07T16-13-09Z
STAMP="$BIN_DIR/.minio.version"

log() { printf '[install-minio] %s\n' "$*" >&2; }

mkdir -p "$BIN_DIR"
if [ -x "$BIN_DIR/minio" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$MINIO_MODULE@$MINIO_VERSION" ]; then
  exit 0
fi
command -v go >/dev/null || { log "Go is needed to build MinIO ($MINIO_MODULE@$MINIO_VERSION)"; exit 1; }

log "building minio $MINIO_VERSION (once, takes several minutes; cached in $BIN_DIR)"
start=$(date +%s)
# Build into a temp dir and move into place, so an interrupted build never leaves a
# half-written binary that the stamp check would trust.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "$MINIO_MODULE@$MINIO_VERSION" >&2
mv -f "$tmp/minio" "$BIN_DIR/minio"
echo "$MINIO_MODULE@$MINIO_VERSION" >"$STAMP"
log "minio ready in $(( $(date +%s) - start ))s: $BIN_DIR/minio"
