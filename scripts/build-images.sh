#!/usr/bin/env bash
# Builds the examples' pipeline images with podman, locally, as examples/images.yaml names them:
#   localhost/promiseflow-examples/shell:v1   FROM scratch + Debian's static busybox
#   one image per `program:` entry            the shell image + that program as ENTRYPOINT
# An image is rebuilt only when its inputs (busybox, the program, the Containerfile) changed:
# each carries their digest in the label io.promiseflow.source-digest.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[build-images] %s\n' "$*" >&2; }

BUSYBOX="${PROMISEFLOW_BUSYBOX:-/bin/busybox}"
command -v podman >/dev/null || { log "podman is not installed (scripts/setup.sh installs it)"; exit 1; }
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list >/dev/null 2>&1 ||
  { log "$BUSYBOX is not a busybox (install busybox-static)"; exit 1; }
# A dynamically linked busybox would not run in an image that has no libc.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  log "$BUSYBOX is dynamically linked; install busybox-static"; exit 1
fi

SHELL_IMAGE=localhost/promiseflow-examples/shell:v1
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT

current_digest() { podman image inspect --format '{{ index .Labels "io.promiseflow.source-digest" }}' "$1" 2>/dev/null || true; }

build() { # image containerfile context digest [build args...]
  local image="$1" file="$2" context="$3" digest="$4"
  shift 4
  if [ "$(current_digest "$image")" = "$digest" ]; then
    return 0
  fi
  log "building $image"
  podman build --quiet --pull=never --label "io.promiseflow.source-digest=$digest" \
    --file "$file" --tag "$image" "$@" "$context" >/dev/null
}

# The shell image: busybox and one link per applet, so scripts find awk, sed, cut... on PATH.
mkdir -p "$CONTEXT/shell/rootfs/bin" "$CONTEXT/shell/rootfs/tmp"
cp "$BUSYBOX" "$CONTEXT/shell/rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$CONTEXT/shell/rootfs/bin/$applet"
done
chmod 1777 "$CONTEXT/shell/rootfs/tmp"
shell_digest=$(cat "$BUSYBOX" examples/images/shell.Containerfile | sha256sum | cut -c1-16)
build "$SHELL_IMAGE" examples/images/shell.Containerfile "$CONTEXT/shell" "$shell_digest"

# One image per table entry with a program; the table is YAML, read with the project's parser.
node -e '
  const YAML = require("yaml");
  const fs = require("fs");
  const table = YAML.parse(fs.readFileSync("examples/images.yaml", "utf8")).images;
  for (const entry of Object.values(table))
    if (entry.program && entry.image) console.log(entry.image + " examples/" + entry.program);
' | sort -u | while read -r image program; do
  dir="$CONTEXT/$(echo "$image" | tr '/:' '__')"
  mkdir -p "$dir"
  cp "$program" "$dir/program"
  chmod 0755 "$dir/program"
  digest=$(cat "$program" examples/images/pipeline.Containerfile | sha256sum | cut -c1-16)-$shell_digest
  build "$image" examples/images/pipeline.Containerfile "$dir" "$digest" --build-arg "SHELL_IMAGE=$SHELL_IMAGE"
done
log "ready: $(podman images --noheading --filter reference='localhost/promiseflow-examples/*' | wc -l) images"
