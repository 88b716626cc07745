#!/usr/bin/env bash
# The coordinator killed (kill -9) mid-run and started again with --resume: the nodes
# reconnect to it, the run goes on from its last checkpoint and ends with the very same
# per-round numbers as an uninterrupted in-process run; the checkpoint is removed at the end.
#
#   tests/deploy/resume.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" resume

"$bin/swarm" run "$here/scenario.yaml" --backend inprocess >"$dir/inprocess.out" 2>"$dir/inprocess.log"

make_keys 4
start_coordinator() {  # start_coordinator BIND OUT [FLAGS...]
  local bind=$1 out=$2
  shift 2
  "$bin/swarm" coordinator "$here/scenario.yaml" --verbose --bind "$bind" --keys "$dir/keys" --allow "$dir/allow" \
    --shards "$dir/shards" --heartbeat-ms 100 --dead-after-ms 600 --out "$dir/run.h5" "$@" \
    >"$dir/$out.out" 2>"$dir/$out.log" &
  coordinator=$!
  pids+=("$coordinator")
}
start_coordinator tcp://127.0.0.1:0 first
endpoint=$(endpoint_of "$dir/first.log")
for i in 0 1 2 3; do start_node "$i"; done

wait_for "$dir/first.out" "^ +3 " 60
kill -KILL "$coordinator"
wait_exit "$coordinator" 10 || true
[[ -f $dir/run.h5.checkpoint ]] || fail "no checkpoint run.h5.checkpoint after the coordinator was killed"
[[ ! -f $dir/run.h5 ]] || fail "a results file was written by a run that did not end"

# Without --resume, a run refuses to overwrite the checkpoint of an interrupted one.
code=0
"$bin/swarm" coordinator "$here/scenario.yaml" --bind tcp://127.0.0.1:0 --keys "$dir/keys" --allow "$dir/allow" \
  --out "$dir/run.h5" >"$dir/refused.out" 2>"$dir/refused.log" || code=$?
((code == 2)) || fail "a run over a leftover checkpoint exited with $code; expected 2"
grep -q -- "--resume" "$dir/refused.log" || fail "the refusal does not mention --resume: $(cat "$dir/refused.log")"

start_coordinator "$endpoint" second --resume
code=0
wait_exit "$coordinator" 120 || code=$?
((code == 0)) || fail "the resumed coordinator exited with $code"
grep -Eq "^# resumed from .*run.h5.checkpoint after round [1-9]" "$dir/second.out" || fail "no '# resumed from' line"
[[ ! -f $dir/run.h5.checkpoint ]] || fail "the checkpoint is left after the run completed"
[[ -f $dir/run.h5 ]] || fail "no results file"

expected=$(round_numbers "$dir/inprocess.out")
got=$(round_numbers "$dir/second.out")
[[ $(wc -l <<<"$expected") == 6 ]] || fail "the in-process run printed $(wc -l <<<"$expected") rounds; expected 6"
[[ $got == "$expected" ]] || fail "$(printf 'the resumed run differs from the in-process one:\n%s\n--- expected\n%s' "$got" "$expected")"
"$bin/swarm" report "$dir/run.h5" >"$dir/report.out" 2>&1 || fail "swarm report failed on the resumed run's results"
echo "ok: resumed after round $(grep -Eo 'after round [0-9]+' "$dir/second.out" | awk '{print $3}'), same 6 rounds as in-process"
