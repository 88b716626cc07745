# Shared by the Docker test scripts (sourced after lib.sh): a Docker engine that answers (one
# started here is stopped by its PID at exit), the node image, and checks on containers.
#
#   source docker_lib.sh
#
# Without an engine that answers or can be started, the script is skipped (exit 77, CTest's
# SKIP_RETURN_CODE) with the reason; with SWARM_REQUIRE_DOCKER=1 (CI) it fails instead.

root=$(cd "$here/../.." && pwd)
if [[ -n ${SWARM_DOCKER:-} ]]; then docker=$SWARM_DOCKER
elif [[ -x /usr/bin/docker ]]; then docker=/usr/bin/docker
else docker=docker; fi
export SWARM_DOCKER=$docker

# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS (a child that exited is a zombie
# until waited for: that counts as stopped).
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]] && ((SECONDS < deadline)); do
    sleep 0.05
  done
  kill -KILL "$1" 2>/dev/null || true
}

if ! dockerd_pid=$("$root/scripts/dockerd-up" --log "$dir/dockerd.log" 2>"$dir/dockerd-up.err"); then
  if [[ ${SWARM_REQUIRE_DOCKER:-0} == 1 ]]; then fail "no Docker engine (SWARM_REQUIRE_DOCKER=1): $(cat "$dir/dockerd-up.err")"; fi
  echo "SKIP: no Docker engine: $(cat "$dir/dockerd-up.err")"
  exit 77
fi
# Registered first, run last (lib.sh): containers and services go while the engine still answers.
[[ -n $dockerd_pid ]] && on_exit+=("stop_pid $dockerd_pid 30")

# The image the tests run: this build's own `swarm` packaged by scripts/build-image (rebuilt
# only when the binary changed). SWARM_TEST_PORTABLE_IMAGE=1 tests the portable build instead
# (a build of its own, minutes on 2 cores). $swarm, the coordinator, is the image's binary:
# a coordinator and nodes of one build give the numbers of an in-process run of that build.
image=swarmsim-node:ctest
swarm=$bin/swarm
if [[ ${SWARM_TEST_PORTABLE_IMAGE:-0} == 1 ]]; then
  "$root/scripts/build-image" --tag "$image" --build-dir "$bin/../image" >"$dir/build-image.log" 2>&1 ||
    fail "scripts/build-image failed: $(tail -5 "$dir/build-image.log")"
  swarm=$bin/../image/bin/swarm
else
  "$root/scripts/build-image" --tag "$image" --from "$bin/swarm" >"$dir/build-image.log" 2>&1 ||
    fail "scripts/build-image failed: $(tail -5 "$dir/build-image.log")"
fi

# containers_named PREFIX: the names of the containers (any state) whose name starts with PREFIX.
containers_named() { "$docker" ps -a --format '{{.Names}}' | grep -E "^$1" || true; }
