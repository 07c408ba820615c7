#!/usr/bin/env bash
# Builds Portico's image from this repository, on a machine with Docker and nothing to pull
# images from. Three steps:
#   1. the build stage's base: Debian bookworm (debootstrap) with the Node 24 that the lockfile
#      pins (from the npm registry), made once and kept under a tag that names both;
#   2. the production dependencies, installed here by this machine's npm (its registry, proxy
#      and certificates) from the lockfile into deploy/image/.deps, redone when a manifest changes;
#   3. `docker build` of deploy/Dockerfile.
#
#   deploy/image/build.sh              # prints the image's tag, e.g. portico:3f2a9c1d0e4b
#   PORTICO_IMAGE=portico:dev deploy/image/build.sh
#
# Environment: PORTICO_IMAGE (tag to build; default portico:<commit>[-dirty]; portico:latest
# is tagged too), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/../.."

node_version=$(sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\(.*\)".*/\1/p' package-lock.json | head -1)
[ -n "$node_version" ] || { echo "build: no node version in package-lock.json" >&2; exit 1; }
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
builder="portico-builder:bookworm-node${node_version}-${arch}"
log() { echo "build: $*" >&2; }

if ! docker image inspect "$builder" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "build: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  log "making $builder: debootstrap of Debian bookworm (about a minute or two)"
  debootstrap --variant=minbase bookworm "$work/root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$work"/root/var/cache/apt/* "$work"/root/var/lib/apt/lists/* "$work"/root/usr/share/{doc,man,info,locale}/*
  log "adding Node $node_version from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-$arch@$node_version" >/dev/null)
  mkdir -p "$work/root/usr/local"
  tar -xzf "$work"/node-linux-"$arch"-*.tgz -C "$work/root/usr/local" --strip-components=1 package/bin/node
  tar -C "$work/root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    - "$builder" >/dev/null
  rm -rf "$work"
  trap - EXIT
fi

# Production dependencies only (no Node-24 package, Biome, TypeScript or test browser driver),
# laid out as the repository is: the root's node_modules and any a workspace keeps for itself.
deps=deploy/image/.deps
manifests=(package.json package-lock.json packages/*/package.json services/*/package.json bench/package.json)
stamp=$(cat "${manifests[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$deps/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "installing production dependencies into $deps"
  rm -rf "$deps"
  mkdir -p "$deps"
  cp --parents "${manifests[@]}" "$deps/"
  (cd "$deps" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -f "$deps"/package.json "$deps"/package-lock.json "$deps"/{packages,services}/*/package.json "$deps"/bench/package.json
  rm -f "$deps"/node_modules/@portico/bench
  rmdir "$deps"/bench 2>/dev/null || true
  echo "$stamp" >"$deps/.stamp"
fi

if [ -z "${PORTICO_IMAGE:-}" ]; then
  rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
  [ -z "$(git status --porcelain 2>/dev/null)" ] || rev="$rev-dirty"
  PORTICO_IMAGE="portico:$rev"
fi
log "building $PORTICO_IMAGE from deploy/Dockerfile on $builder"
# The classic builder: Debian's docker.io has no buildx. Host networking lets npm reach the registry.
DOCKER_BUILDKIT=0 docker build --network host --build-arg "BUILDER=$builder" \
  -f deploy/Dockerfile -t "$PORTICO_IMAGE" -t portico:latest . >&2
log "$PORTICO_IMAGE: $(docker image inspect -f '{{.Size}}' "$PORTICO_IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
echo "$PORTICO_IMAGE"
