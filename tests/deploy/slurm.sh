#!/usr/bin/env bash
# Issue 12 item 4: a sweep as a Slurm job array (deploy/slurm/submit-sweep) on a one-node
# Slurm that this script starts in a private folder (munged, slurmctld, slurmd, own config,
# key, ports, state and logs) and stops, by PID, whatever happens. The merged file must equal
# the sweep run on one machine (tests/deploy/same_results.py). Exits 77 (skipped) when Slurm
# or munge is not installed, or without root (slurmd runs jobs as their user).
#
#   bash tests/deploy/slurm.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

for tool in munged slurmctld slurmd sbatch squeue scontrol scancel; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (Debian: apt-get install slurm-wlm munge; scripts/bootstrap does)"
    exit 77
  fi
done
if (($(id -u) != 0)); then
  echo "SKIP: a one-node Slurm needs root (slurmd starts jobs as their user)"
  exit 77
fi

source "$here/lib.sh" "$1" slurm
jobs_submitted=()
stop_slurm() {
  local code=$?
  set +e  # every step of the cleanup runs, whatever fails
  # Jobs first (their processes are slurmd's to stop), then the daemons, by PID (lib.sh).
  if ((${#jobs_submitted[@]})) && [[ -n ${daemons_up:-} ]]; then
    scancel "${jobs_submitted[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while [[ -n $(squeue -h -j "$(IFS=,; echo "${jobs_submitted[*]}")" 2>/dev/null) ]] && ((SECONDS < deadline)); do
      sleep 0.1
    done
  fi
  # TERM, so that slurmctld stops its helper (slurmscriptd) and slurmd its steps; lib.sh's
  # cleanup then KILLs whatever of ours is left.
  local p
  for p in ${slurmd_pid:-} ${slurmctld_pid:-}; do
    kill -TERM "$p" 2>/dev/null && wait_gone "$p" 10
  done
  (exit "$code")
  cleanup
}
trap stop_slurm EXIT
# wait_gone PID SECONDS: until the process has exited (at most SECONDS).
wait_gone() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]] && ((SECONDS < deadline)); do
    sleep 0.05
  done
}

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool" "$dir/out"
chmod 711 "$dir"  # munged wants its socket reachable by all (the key stays 600)
# munge: a key of our own, and a socket in the folder.
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 600 "$dir/munge.key"
munged --foreground --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" 2>>"$dir/munged.log" &
pids+=($!)
wait_for "$dir/munged.log" "Created [0-9]+ work thread" 20

export SLURM_CONF="$dir/slurm.conf"
# Ports of our own, and the daemons talk over 127.0.0.1. Where the host name resolves to a
# loopback address, they listen only there (NoInAddrAny: slurmd, NoCtldInAddrAny: slurmctld
# bind the host name's address); elsewhere they would bind an address 127.0.0.1 does not
# reach, so they listen on every interface (on these private ports).
listen=""
if [[ $(getent hosts "$host" | awk '{print $1; exit}') == 127.* ]]; then
  listen="CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"
fi
cat >"$SLURM_CONF" <<CONF
ClusterName=swarmtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
$listen
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" >>"$dir/slurmctld.log" 2>&1 &
slurmctld_pid=$!
pids+=("$slurmctld_pid")
slurmd -D -f "$SLURM_CONF" >>"$dir/slurmd.log" 2>&1 &
slurmd_pid=$!
pids+=("$slurmd_pid")
daemons_up=1
# Until the controller answers and the node takes jobs (bounded: 30 s).
deadline=$((SECONDS + 30))
until scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -o %T 2>/dev/null | grep -Eq "^idle"; do
  ((SECONDS < deadline)) || fail "Slurm did not come up within 30 s"
  sleep 0.1
done
echo "slurm up after $SECONDS s"

# A sweep of 8 small synthetic runs, in 3 shards, merged by the dependent job. The learning
# rate 1e30 diverges: those runs are results too (swarm sweep exits 1 with them in its file),
# and must not keep the merge from running.
cat >"$dir/sweep.yaml" <<YAML
name: slurm
seed: 7
replicates: 2
swarm: {rounds: 2}
model: {hidden: [8]}
data: {dataset: synthetic, samples: 1200, features: 8, classes: 3, separation: 1.0}
population: {nodes: 4}
sweep:
  strategy.name: [fedavg, fedmedian]
  training.lr: [0.05, 1.0e30]
YAML
code=0
out=$(SWARM="$bin/swarm" timeout 120 "$root/deploy/slurm/submit-sweep" --wait "$dir/sweep.yaml" 3 "$dir/out" 2>&1) || code=$?
echo "$out"
for id in $(grep -Eo "job (array )?[0-9]+" <<<"$out" | grep -Eo "[0-9]+"); do jobs_submitted+=("$id"); done
((code == 0)) || fail "submit-sweep --wait failed (exit $code)"
((${#jobs_submitted[@]} == 2)) || fail "submit-sweep did not print two job ids"
for i in 1 2 3; do [[ -f $dir/out/part-$i.h5 ]] || fail "no part-$i.h5"; done
[[ -f $dir/out/all.h5 ]] || fail "no all.h5 after the merge job"

# The same sweep on this machine, one job at a time (the sweep's order, as merge writes it).
code=0
"$bin/swarm" sweep "$dir/sweep.yaml" --jobs 1 --threads 2 --out "$dir/plain.h5" 2>"$dir/plain.log" || code=$?
((code == 1)) && grep -q "4 run(s) stopped early" "$dir/plain.log" || fail "the plain sweep did not end as expected (exit $code)"
/usr/bin/python3 "$here/same_results.py" "$dir/out/all.h5" "$dir/plain.h5" || fail "merged file differs from the plain sweep"
# The comparison does see a difference: one shard is not the sweep.
if /usr/bin/python3 "$here/same_results.py" "$dir/out/part-1.h5" "$dir/plain.h5" >/dev/null; then
  fail "same_results.py finds a shard equal to the whole sweep"
fi
diverged=$("$bin/swarm" report "$dir/out/all.h5" | grep -c '^- .*: diverged: ' || true)
((diverged == 4)) || fail "the merged file's report lists $diverged diverged runs, expected 4"
echo "PASS: 3 shards as a Slurm job array, merged, equal the one-machine sweep ($SECONDS s)"
