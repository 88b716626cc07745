# Shared by the real-node test scripts (sourced): a private folder, the processes the script
# starts (stopped by PID at exit, whatever happens), and waits on log lines with a deadline.
#
#   source lib.sh BIN_DIR NAME

bin=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/swarm-$2-XXXXXX")
pids=()
# Commands run at exit after the processes are killed, the last registered first (containers
# before the daemon that runs them).
on_exit=()

cleanup() {
  local code=$?
  for p in "${pids[@]}"; do
    kill -CONT "$p" 2>/dev/null || true  # a frozen process cannot act on the KILL before it is woken
    kill -KILL "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ((h = ${#on_exit[@]} - 1; h >= 0; h--)); do eval "${on_exit[h]}" || true; done
  if ((code != 0)); then
    for f in "$dir"/*.log "$dir"/*.out; do
      [[ -f $f ]] && { echo "--- $f"; tail -25 "$f"; }
    done
  fi
  rm -rf "$dir"
  exit "$code"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches REGEX (grep -E), at most SECONDS.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "no line matching '$2' in $(basename "$1") within $3 s"
    sleep 0.02  # polling the log: the wait ends on the line, not on the time
  done
}

# wait_exit PID SECONDS: until the process exits, at most SECONDS; returns its exit code.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    if [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; then break; fi
    ((SECONDS < deadline)) || fail "process $1 still runs after $2 s"
    sleep 0.02
  done
  local code=0
  wait "$1" || code=$?
  return "$code"
}

# Keys for a coordinator and nodes 0..N-1 in $dir/keys, their public keys in $dir/allow.
make_keys() {
  "$bin/swarm" keys server --dir "$dir/keys" >/dev/null
  mkdir -p "$dir/allow"
  for ((i = 0; i < $1; i++)); do
    "$bin/swarm" keys "node-$i" --dir "$dir/keys" >/dev/null
    cp "$dir/keys/node-$i.key" "$dir/allow/"
  done
}

# start_node ID [LOG]: a node agent with node ID's key and shard; its PID in $node_pid.
start_node() {
  "$bin/swarm" node --connect "$endpoint" --server-key "$dir/keys/server.key" --key "$dir/keys/node-$1.key_secret" \
    --data "$dir/shards/node-$1" --dead-after-ms 600 --verbose >"${2:-$dir/node-$1.log}" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
}

# The endpoint a coordinator logged it listens on.
endpoint_of() {
  wait_for "$1" "coordinator listening on tcp://" 30
  grep -Eo "listening on tcp://[0-9.]+:[0-9]+" "$1" | head -1 | sed 's/listening on //'
}

# "round used lost" of a run's round lines, one per line.
round_figures() { awk '/^ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+ / {print $1, $5, $7}' "$1"; }
# "round accuracy loss used" of a run's round lines: what equal runs share.
round_numbers() { awk '/^ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+ / {print $1, $3, $4, $5}' "$1"; }
