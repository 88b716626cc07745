#!/usr/bin/env bash
# Real nodes under faults, on loopback: a second connection with an identity in use is
# refused; a node killed (kill -9) and one frozen (kill -STOP) mid-round are declared dead,
# their instances come back lost and the round goes on with the others; the killed node,
# restarted, and the frozen one, woken, rejoin and are placed again; the run completes.
#
#   tests/deploy/faults.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" faults

make_keys 4
# 10 rounds, not the file's 6: with rounds of 0.3 s (a quiet machine) the woken node rejoined
# after round 6 had started; 4 more rounds leave the rejoins 1.2 s or more. 30 epochs, not 15:
# an instance of 0.15-0.4 s (the faster GEMM kernels) could end before the signal reached it.
"$bin/swarm" coordinator "$here/scenario.yaml" --set swarm.rounds=10 --set training.epochs=30 --verbose --bind tcp://127.0.0.1:0 --keys "$dir/keys" --allow "$dir/allow" \
  --shards "$dir/shards" --heartbeat-ms 100 --dead-after-ms 600 --out "$dir/faults.h5" \
  >"$dir/coordinator.out" 2>"$dir/coordinator.log" &
coordinator=$!
pids+=("$coordinator")
endpoint=$(endpoint_of "$dir/coordinator.log")
for i in 0 1 2 3; do
  start_node "$i"
  declare "node_$i=$node_pid"
done
wait_for "$dir/coordinator.out" "^ +1 " 60

# Node 0's identity (its key and shard) again, while node 0 is connected.
start_node 0 "$dir/duplicate.log"
duplicate=$node_pid
wait_for "$dir/coordinator.log" "refused node 0: node id 0 is in use by another connection" 20
wait_for "$dir/duplicate.log" "refused by the coordinator" 20
kill "$duplicate"
wait_exit "$duplicate" 10 || true

# Mid-round 3 (iteration 2): node 1 killed, node 2 frozen, once both started their instances
# (back to back: waiting for node 1 to exit first gave node 2's instance time to end).
wait_for "$dir/node-1.log" "running instance [0-9]+ \(task 'worker', iteration 2\)" 60
wait_for "$dir/node-2.log" "running instance [0-9]+ \(task 'worker', iteration 2\)" 60
kill -KILL "$node_1"
kill -STOP "$node_2"
wait_exit "$node_1" 10 || true
wait_for "$dir/coordinator.log" "node 1 is dead: (silent for|its connection closed)" 20
wait_for "$dir/coordinator.log" "node 2 is dead: silent for [0-9]+ ms" 20
wait_for "$dir/coordinator.out" "^ +3 " 30
read -r _ used lost < <(round_figures "$dir/coordinator.out" | awk '$1 == 3')
[[ $used == 2 && $lost == 2 ]] || fail "round 3 used $used updates and lost $lost instances; expected 2 and 2"

# Node 1 restarted, node 2 woken: both rejoin.
start_node 1 "$dir/node-1-restarted.log"
kill -CONT "$node_2"
wait_for "$dir/coordinator.log" "node 1 rejoined" 20
wait_for "$dir/coordinator.log" "node 2 rejoined" 20

code=0
wait_exit "$coordinator" 120 || code=$?
((code == 0)) || fail "the coordinator exited with $code"
read -r _ used lost < <(round_figures "$dir/coordinator.out" | awk '$1 == 10')
[[ $used == 4 && $lost == 0 ]] || fail "round 10 used $used updates and lost $lost instances; expected 4 and 0"
grep -q "final accuracy" "$dir/coordinator.out" || fail "no summary line"
accuracy=$(grep -Eo "final accuracy [0-9.]+" "$dir/coordinator.out" | awk '{print $3}')
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "final accuracy $accuracy; expected > 0.5 (chance 0.25)"

# The nodes leave on the coordinator's bye; the loss is in the results file.
for p in "$node_0" "$node_2" "$node_3" "$node_pid"; do wait_exit "$p" 20 || fail "node process $p exited with $?"; done
"$bin/swarm" report "$dir/faults.h5" >"$dir/report.out" 2>&1 || fail "swarm report failed on the results"
echo "ok: duplicate refused; killed and frozen nodes survived and rejoined; final accuracy $accuracy"
