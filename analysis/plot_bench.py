#!/usr/bin/python3
"""Plot of simulated FL rounds per second against nodes per round (sim_round_bench).

    /usr/bin/python3 analysis/plot_bench.py OUT_DIR/sim_round_bench.json [--out DIR]

Reads the BM_SimRound/per_round:N/threads:T entries of a Google Benchmark JSON file (written by
bench/run.sh or `sim_round_bench --benchmark_out=FILE --benchmark_out_format=json`) and writes
DIR/sim_rounds.png (default DIR: the JSON file's folder): rounds/s (the benchmark's counter) on
a log scale against nodes per round, one line per thread count. Exits 2 when the file has no
BM_SimRound entry.
"""

import argparse
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import ReportError, load_benchmarks  # noqa: E402

NAME = re.compile(r"^BM_SimRound/per_round:(\d+)/threads:(\d+)")


def sim_rounds(path):
    """{threads: [(nodes per round, rounds/s)]} sorted by nodes per round."""
    lines = {}
    for b in load_benchmarks(path):
        m = NAME.match(b["name"])
        if not m or "rounds/s" not in b:
            continue
        lines.setdefault(int(m.group(2)), []).append((int(m.group(1)), float(b["rounds/s"])))
    return {t: sorted(points) for t, points in sorted(lines.items())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", help="sim_round_bench JSON output")
    parser.add_argument("--out", help="output folder (default: the JSON file's folder)")
    args = parser.parse_args(argv)
    try:
        lines = sim_rounds(args.json)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not lines:
        print(f"error: {args.json}: no BM_SimRound/per_round:N/threads:T entry with a rounds/s counter",
              file=sys.stderr)
        return 2
    out_dir = args.out or os.path.dirname(os.path.abspath(args.json))
    os.makedirs(out_dir, exist_ok=True)

    fig, ax = plt.subplots(figsize=(6, 4))
    for threads, points in lines.items():
        xs = [n for n, _ in points]
        ys = [r for _, r in points]
        ax.plot(xs, ys, marker="o", label=f"{threads} thread{'s' if threads > 1 else ''}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("nodes per round")
    ax.set_ylabel("rounds/s (wall clock)")
    ax.set_title("Simulated FedAvg rounds\n(MLP 784-200-200-10, 600 samples per node)", fontsize=10)
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "sim_rounds.png")
    fig.savefig(path, dpi=120)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
