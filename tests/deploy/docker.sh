#!/usr/bin/env bash
# Nodes in Docker containers (swarm deploy --launcher docker), on this machine's engine:
#   1. end to end: 3 containers with limits, the run learns with the very numbers of an
#      in-process run, the containers have the limits and mounts asked for while they run, and
#      none is left afterwards;
#   2. a container killed (docker kill) mid-round: the node is declared dead, the round goes
#      on with the others, the run completes and learns;
#   3. docker stop of a node: its agent handles SIGTERM as PID 1 and exits 0; then Ctrl-C
#      during the run: the deploy exits non-zero and removes its containers;
#   4. nodes whose memory limit is too small to start: the run fails at once (not after the
#      registration timeout) saying so, and removes its containers.
# Skipped (exit 77) without a Docker engine, unless SWARM_REQUIRE_DOCKER=1.
#
#   tests/deploy/docker.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" docker
source "$here/docker_lib.sh"

# deploy NAME ARGS...: swarm deploy of containers.yaml in the background; its PID in $deploy
# and its containers' name prefix in $prefix (stopped and removed at exit, whatever happens).
deploy() {
  local name=$1
  shift
  "$swarm" deploy "$here/containers.yaml" --launcher docker --set "backend_options.image=$image" \
    --heartbeat-ms 100 --dead-after-ms 600 --verbose "$@" >"$dir/$name.out" 2>"$dir/$name.log" &
  deploy=$!
  prefix="swarm-$deploy-node-"
  # At exit (run in reverse): the deploy still running is stopped as Ctrl-C would, so that it
  # removes its containers and folder itself; what it left is then removed by name.
  on_exit+=("containers_named $prefix | xargs -r $docker rm -f >/dev/null" "stop_pid $deploy 30")
}

# 1. End to end, with limits: node 0 gets 1 CPU and 256 MiB, nodes 1 and 2 half a CPU and 512 MiB.
deploy e2e --set 'backend_options.cpus="1,0.5,0.5"' --set 'backend_options.memory="256m,512m,512m"'
wait_for "$dir/e2e.out" "^ +1 " 60
[[ $(containers_named "$prefix" | wc -l) == 3 ]] || fail "expected 3 containers named $prefix*, found: $(containers_named "$prefix")"
for i in 0 1 2; do
  "$docker" inspect --format '{{.HostConfig.NetworkMode}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}' \
    "$prefix$i" >"$dir/inspect-$i" || fail "cannot inspect container $prefix$i"
done
read -r net ro cpus memory mounts < "$dir/inspect-0"
[[ $net == host && $ro == true && $cpus == 1000000000 && $memory == 268435456 ]] ||
  fail "node 0's container: network $net, read-only $ro, NanoCpus $cpus, memory $memory; expected host, true, 1e9, 256 MiB"
read -r _ _ cpus memory _ < "$dir/inspect-1"
[[ $cpus == 500000000 && $memory == 536870912 ]] || fail "node 1's container: NanoCpus $cpus, memory $memory; expected 5e8, 512 MiB"
# Each node reports the cores its container allows (1 for --cpus 1 and 0.5), not the machine's.
if (($(nproc) > 1)); then
  for i in 0 1 2; do
    grep -q "node $i registered (1 cores" "$dir/e2e.log" || fail "node $i did not report 1 core: $(grep "node $i registered" "$dir/e2e.log")"
  done
fi
for m in /data:false /keys/server.key:false /keys/node.key_secret:false; do
  grep -q -- "$m" "$dir/inspect-0" || fail "node 0's container lacks the read-only mount $m: $(cat "$dir/inspect-0")"
done
code=0
wait_exit "$deploy" 120 || code=$?
((code == 0)) || fail "the docker deploy exited with $code"
while read -r round used lost; do
  [[ $used == 3 && $lost == 0 ]] || fail "round $round used $used updates and lost $lost; expected 3 and 0"
done < <(round_figures "$dir/e2e.out")
[[ $(round_figures "$dir/e2e.out" | wc -l) == 5 ]] || fail "expected 5 rounds"
# The very numbers of an in-process run of the same binary: the nodes trained on their mounted
# shards with the coordinator's kernel (OPENBLAS_CORETYPE passed on when set).
"$swarm" run "$here/containers.yaml" --backend inprocess >"$dir/inprocess.out" 2>&1 || fail "the in-process run failed"
diff <(round_numbers "$dir/e2e.out") <(round_numbers "$dir/inprocess.out") >"$dir/numbers.diff" ||
  fail "the containers' rounds differ from the in-process run's: $(cat "$dir/numbers.diff")"
accuracy=$(grep -Eo "final accuracy [0-9.]+" "$dir/e2e.out" | awk '{print $3}')
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "final accuracy $accuracy; expected > 0.5 (chance 0.25)"
[[ -z $(containers_named "$prefix") ]] || fail "containers left after the run: $(containers_named "$prefix")"
echo "ok: 3 containers with their limits, the numbers of an in-process run, final accuracy $accuracy, none left"

# 2. Node 1's container killed mid-round 3 (iteration 2), once its node started the instance.
# Node 1 gets a fifth of a CPU, so that its instance outlasts the time docker takes to notice
# the start in the log and to kill the container (each a request to the daemon).
deploy kill --set backend_options.cpus=2,0.2,2
wait_for "$dir/kill.out" "^ +1 " 60
deadline=$((SECONDS + 60))
until "$docker" logs "${prefix}1" 2>&1 | grep -Eq "running instance [0-9]+ \(task 'worker', iteration 2\)"; do
  ((SECONDS < deadline)) || fail "node 1 did not start round 3 within 60 s"
  sleep 0.02  # polling the container's log: the wait ends on the line
done
"$docker" kill "${prefix}1" >/dev/null
wait_for "$dir/kill.log" "node 1 is dead: (silent for|its connection closed)" 20
wait_for "$dir/kill.out" "^ +3 " 30
read -r _ used lost < <(round_figures "$dir/kill.out" | awk '$1 == 3')
[[ $used == 2 && $lost == 1 ]] || fail "round 3 used $used updates and lost $lost instances; expected 2 and 1"
code=0
wait_exit "$deploy" 120 || code=$?
((code == 0)) || fail "the deploy with a killed container exited with $code"
accuracy=$(grep -Eo "final accuracy [0-9.]+" "$dir/kill.out" | awk '{print $3}')
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "final accuracy $accuracy after the kill; expected > 0.5"
[[ -z $(containers_named "$prefix") ]] || fail "containers left after the run: $(containers_named "$prefix")"
echo "ok: a container killed mid-round 3 was survived (2 updates used, 1 lost), final accuracy $accuracy"

# 3. docker stop of a node after the first round: the agent, PID 1 of its container, handles
# SIGTERM and exits 0 (ignored, docker would kill it after the 60 s grace: 137). Then Ctrl-C:
# the deploy stops in good order and removes its containers.
deploy interrupt
wait_for "$dir/interrupt.out" "^ +1 " 60
"$docker" stop -t 60 "${prefix}2" >/dev/null
stopped=$("$docker" inspect --format '{{.State.ExitCode}}' "${prefix}2")
[[ $stopped == 0 ]] || fail "docker stop ended node 2's container with $stopped; expected 0 (SIGTERM handled)"
kill -INT "$deploy"
code=0
wait_exit "$deploy" 60 || code=$?
((code != 0)) || fail "an interrupted deploy exited with 0"
[[ -z $(containers_named "$prefix") ]] || fail "containers left after Ctrl-C: $(containers_named "$prefix")"
echo "ok: docker stop ended a node with 0; Ctrl-C ended the deploy with $code and removed its containers"

# 4. 6 MiB per node: the containers are killed out of memory before their nodes register.
deploy oom --set backend_options.memory=6m --set backend_options.register_timeout_s=600
code=0
wait_exit "$deploy" 120 || code=$?
((code != 0)) || fail "a deploy whose nodes cannot start exited with 0"
grep -Eq "container ${prefix}[0-9] exited with 137 \(killed out of memory" "$dir/oom.log" ||
  fail "no message naming a container killed out of memory: $(tail -3 "$dir/oom.log")"
[[ -z $(containers_named "$prefix") ]] || fail "containers left after the failed start: $(containers_named "$prefix")"
echo "ok: nodes killed out of memory at start failed the run at once ($code), none left"
