#!/usr/bin/env bash
# Starts one Portico container the way production runs it: host networking (every port on
# the machine's loopback), read-only root filesystem, /tmp in memory, the data volume
# <name>-data at /data, and the image's own user, entry point and HEALTHCHECK.
#
#   deploy/image/run.sh NAME [SERVICE] [VAR=value ...]
#   deploy/image/run.sh portico                                    # the whole platform, embedded
#   deploy/image/run.sh catalog-1 catalog CATALOG_PORT=18102 DATABASE_URL=postgres://… REDIS_URL=redis://…
#
# Prints the container's id. PORTICO_IMAGE picks the image (default portico:latest);
# PORTICO_RUN_OPTS adds docker run options (e.g. "-v $PWD/gateway.yaml:/etc/portico/gateway.yaml:ro").
# Stop with `docker stop NAME` (SIGTERM; the services close and exit 0); remove with `docker rm -v NAME`.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
name=$1
shift
service=()
if [ $# -gt 0 ] && [[ $1 != *=* ]]; then
  service=("$1")
  shift
fi
env=()
for pair in "$@"; do env+=(--env "$pair"); done
# shellcheck disable=SC2206 # word splitting of the extra options is intended
extra=(${PORTICO_RUN_OPTS:-})
exec docker run --detach --name "$name" --network host \
  --read-only --tmpfs /tmp:rw,noexec,nosuid,size=64m \
  --volume "$name-data:/data" \
  "${env[@]}" "${extra[@]}" \
  "${PORTICO_IMAGE:-portico:latest}" "${service[@]}"
