#!/usr/bin/env bash
# Nodes as Docker Swarm mode jobs (swarm deploy --launcher swarm-mode) on a one-machine swarm:
# 3 nodes with limits, the run learns, each node's service had the limits, placement constraint
# and read-only mounts asked for, and no service or container of the run is left afterwards. The swarm is made here
# (docker swarm init --advertise-addr 127.0.0.1) and left at the end only when it was made
# here; a swarm that existed before is used and left alone. Skipped (exit 77) without a Docker
# engine, unless SWARM_REQUIRE_DOCKER=1.
#
#   tests/deploy/swarm_mode.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" swarm-mode
source "$here/docker_lib.sh"

state=$("$docker" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')
case $state in
  "inactive "*)
    "$docker" swarm init --advertise-addr 127.0.0.1 >"$dir/swarm-init.log" 2>&1 || fail "docker swarm init: $(cat "$dir/swarm-init.log")"
    on_exit+=("$docker swarm leave --force >/dev/null 2>&1") ;;
  "active true") ;;
  *) fail "this Docker engine is in a swarm it does not manage ($state): cannot test swarm mode here" ;;
esac

"$swarm" deploy "$here/containers.yaml" --launcher swarm-mode --set "backend_options.image=$image" \
  --set backend_options.cpus=1 --set backend_options.memory=512m --set backend_options.constraints=node.role==manager \
  --heartbeat-ms 100 --verbose \
  >"$dir/swarm.out" 2>"$dir/swarm.log" &
deploy=$!
prefix="swarm-$deploy-node-"
services_named() { "$docker" service ls --format '{{.Name}}' | grep -E "^$prefix" || true; }
# At exit (run in reverse): the deploy, if still running, stopped as Ctrl-C would (it removes
# its services and folder), then what it left removed by name.
on_exit+=("services_named | xargs -r $docker service rm >/dev/null" "stop_pid $deploy 30")

wait_for "$dir/swarm.out" "^ +1 " 90
[[ $(services_named | wc -l) == 3 ]] || fail "expected 3 services named $prefix*, found: $(services_named)"
"$docker" service inspect --format '{{.Spec.Mode.ReplicatedJob.MaxConcurrent}} {{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}} {{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}} {{.Spec.TaskTemplate.ContainerSpec.ReadOnly}} {{range .Spec.TaskTemplate.Placement.Constraints}}{{.}}{{end}} {{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Target}}:{{.ReadOnly}} {{end}}' \
  "${prefix}0" >"$dir/inspect" || fail "cannot inspect service ${prefix}0"
read -r jobs cpus memory ro placement mounts < "$dir/inspect"
[[ $jobs == 1 && $cpus == 1000000000 && $memory == 536870912 && $ro == true && $placement == node.role==manager ]] ||
  fail "service ${prefix}0: max concurrent $jobs, NanoCPUs $cpus, memory $memory, read-only $ro, constraint $placement; expected 1, 1e9, 512 MiB, true, node.role==manager"
for m in /data:true /keys/server.key:true /keys/node.key_secret:true; do
  grep -q -- "$m" "$dir/inspect" || fail "service ${prefix}0 lacks the read-only mount $m: $(cat "$dir/inspect")"
done

code=0
wait_exit "$deploy" 120 || code=$?
((code == 0)) || fail "the swarm-mode deploy exited with $code"
[[ $(round_figures "$dir/swarm.out" | awk '$2 == 3 && $3 == 0' | wc -l) == 5 ]] ||
  fail "expected 5 rounds using 3 updates each: $(round_figures "$dir/swarm.out")"
accuracy=$(grep -Eo "final accuracy [0-9.]+" "$dir/swarm.out" | awk '{print $3}')
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "final accuracy $accuracy; expected > 0.5 (chance 0.25)"
[[ -z $(services_named) ]] || fail "services left after the run: $(services_named)"
left=$("$docker" ps -a --format '{{.Label "com.docker.swarm.service.name"}}' | grep -E "^$prefix" || true)
[[ -z $left ]] || fail "containers of the run's services left: $left"
echo "ok: 3 swarm-mode jobs with their limits, final accuracy $accuracy, none left"
