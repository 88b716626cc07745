#!/usr/bin/env bash
# Time to the first round of a Docker deploy against Docker's own floor, measured in the same
# run: for each repetition, first N bare `docker run -d --network host` of the node image in
# parallel (the containers print the version and exit; removed by name right after), then
# `swarm deploy tests/deploy/containers.yaml --launcher docker --nodes N` for one round, whose
# --verbose log says when the nodes were started and registered.
#
#   bench/deploy_start.sh [N] [REPETITIONS]      (defaults 8 and 5)
#
# Needs a Docker engine (scripts/dockerd-up) and the image (scripts/build-image). Prints one
# line per repetition and the medians; the deploy's own cost is the difference.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8}
reps=${2:-5}
[[ $n =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]] || { echo "deploy_start: expected N and REPETITIONS, positive integers" >&2; exit 2; }
if [[ -n ${SWARM_DOCKER:-} ]]; then docker=$SWARM_DOCKER
elif [[ -x /usr/bin/docker ]]; then docker=/usr/bin/docker
else docker=docker; fi
swarm=${SWARM_BIN:-build/bin/swarm}
image=${SWARM_IMAGE:-swarmsim-node:latest}
"$docker" image inspect "$image" >/dev/null 2>&1 || { echo "deploy_start: no image $image (scripts/build-image)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/deploy-start-XXXXXX")
names=()
for i in $(seq 1 "$n"); do names+=("swarm-floor-$$-$i"); done
cleanup() {
  "$docker" rm -f "${names[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
floors=()
deploys=()
for r in $(seq 1 "$reps"); do
  start=$(now)
  for name in "${names[@]}"; do "$docker" run -d --pull never --network host --name "$name" "$image" --version >/dev/null & done
  wait
  floor=$(echo "$(now) - $start" | bc)
  "$docker" rm -f "${names[@]}" >/dev/null
  line=$("$swarm" deploy tests/deploy/containers.yaml --launcher docker --nodes "$n" --set "swarm.clients_per_round=$n" \
    --set swarm.rounds=1 --verbose --out "$work/run-$r.h5" 2>&1 | grep "registered in" || true)
  [[ -n $line ]] || { echo "deploy_start: the deploy of repetition $r failed" >&2; exit 1; }
  deploy=$(sed -E 's/.*registered in ([0-9.]+) s.*/\1/' <<<"$line")
  floors+=("$floor")
  deploys+=("$deploy")
  printf 'N=%s  docker floor %.2f s  deploy to first round %.2f s  (%s)\n' "$n" "$floor" "$deploy" "${line##*] }"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mf=$(median "${floors[@]}")
md=$(median "${deploys[@]}")
printf 'median: docker floor %.2f s, deploy %.2f s, deploy - floor %.2f s; goal 1 s + 0.2 s x N = %.1f s\n' \
  "$mf" "$md" "$(echo "$md - $mf" | bc)" "$(echo "1 + 0.2 * $n" | bc)"
