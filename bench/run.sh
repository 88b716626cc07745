#!/usr/bin/env bash
# Runs every Google Benchmark binary of the build and prints one Markdown table per binary.
#
#   bench/run.sh [OUT_DIR]            (default OUT_DIR: bench-results)
#
# Each BUILD_DIR/bin/*_bench writes OUT_DIR/NAME.json (Google Benchmark's JSON format), then
# analysis/bench_report.py prints the tables (time, every user counter, and ratios against the
# binary's reference benchmark: memcpy, GEMM, std::priority_queue).
#
# Environment:
#   BUILD_DIR        build directory holding bin/ (default: build)
#   BENCH_FILTER     regex passed as --benchmark_filter (default: all benchmarks)
#   BENCH_MIN_TIME   seconds per benchmark, --benchmark_min_time (default: 0.2)
#   BENCH_REPORT_ARGS extra arguments for bench_report.py, e.g. "--readme bench/README.md"
#
# Duration: most binaries take seconds; sim_round_bench takes minutes (BM_SimRound trains up to
# 1,000 nodes per round; BM_Population builds populations of up to 10,000,000 nodes, 3 GB), and so
# does scale_bench (BM_FedBuffIteration builds 10,000,000 nodes, 1.4 GB). simgrid_bench takes
# about 5 minutes (SimGrid's own runs of 10,000 workers, 45-50 s each).
# Skip them with BENCH_FILTER, e.g. BENCH_FILTER='BM_FedAvg|BM_Memcpy|BM_Tensor'. A binary
# in which the filter matches nothing writes no result and is skipped in the report.
set -euo pipefail

cd "$(dirname "$0")/.."
out_dir=${1:-bench-results}
bin_dir=${BUILD_DIR:-build}/bin
min_time=${BENCH_MIN_TIME:-0.2}
filter=${BENCH_FILTER:-}

shopt -s nullglob
benches=("$bin_dir"/*_bench)
if ((${#benches[@]} == 0)); then
  echo "error: no *_bench binary in $bin_dir (build with -DSWARM_BUILD_BENCH=ON, or set BUILD_DIR)" >&2
  exit 2
fi
mkdir -p "$out_dir"

jsons=()
for bench in "${benches[@]}"; do
  [[ -x $bench ]] || continue
  name=$(basename "$bench")
  json="$out_dir/$name.json"
  args=(--benchmark_out="$json" --benchmark_out_format=json --benchmark_min_time="$min_time")
  [[ -n $filter ]] && args+=(--benchmark_filter="$filter")
  if [[ -n $filter ]] && [[ -z $("$bench" --benchmark_list_tests --benchmark_filter="$filter" 2>/dev/null || true) ]]; then
    echo "== $name: no benchmark matches BENCH_FILTER, skipped" >&2
    rm -f "$json"
    continue
  fi
  echo "== $name" >&2
  "$bench" "${args[@]}" >&2
  jsons+=("$json")
done

if ((${#jsons[@]} == 0)); then
  echo "error: no benchmark matched BENCH_FILTER='$filter'" >&2
  exit 2
fi
# shellcheck disable=SC2086  # BENCH_REPORT_ARGS is a list of words
/usr/bin/python3 analysis/bench_report.py ${BENCH_REPORT_ARGS:-} "${jsons[@]}"
