#!/usr/bin/python3
"""Plots of swarmsim results files.

    /usr/bin/python3 analysis/plot_results.py FILE.h5 [FILE2.h5 ...] --out DIR [--target 0.8]

Writes three PNGs into DIR, one line or bar per sweep point (replicates aggregated; with several
files, per file and point):
  accuracy_vs_round.png  test accuracy after each round: mean over replicates, shaded min-max
  accuracy_vs_time.png   the same against time since the first round started (virtual seconds
                         in simulation, wall seconds on real nodes); replicates are interpolated
                         onto a common time grid, a finished replicate keeps its last accuracy
  time_to_target.png     time to first reach --target: mean over the replicates that reached it,
                         whiskers min-max, "n/m" replicates reached above each bar
"""

import argparse
import os
import sys

from summary import fail, load_all, point_label, point_sort_key, time_to_target


def groups_of(runs, by_file):
    """[(label, [runs])], sorted by (file, point)."""
    groups = {}
    for run in runs:
        key = (run["file"] if by_file else "", tuple(sorted(run["point"].items())))
        groups.setdefault(key, []).append(run)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], point_sort_key(dict(kv[0][1]))))
    out = []
    for (file, point), members in ordered:
        label = point_label(dict(point)) if point else "run"
        if by_file:
            stem = os.path.splitext(os.path.basename(file))[0]
            label = stem if not point else f"{stem}: {label}"
        out.append((label, members))
    return out


def band(ax, x, ys, label, color):
    import numpy as np
    ys = np.asarray(ys, dtype=float)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN columns
            mean, lo, hi = np.nanmean(ys, axis=0), np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
    n = len(ys)
    ax.plot(x, mean, label=f"{label} (n={n})" if n > 1 else label, color=color, linewidth=1.6)
    if n > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, linewidth=0)


def plot_accuracy_vs_round(groups, path):
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for i, (label, runs) in enumerate(groups):
        rounds = max(len(run["rounds"]) for run in runs)
        if rounds == 0:
            continue
        ys = np.full((len(runs), rounds), np.nan)
        for j, run in enumerate(runs):
            acc = run["rounds"]["accuracy"].to_numpy(dtype=float)
            ys[j, :len(acc)] = acc
        band(ax, np.arange(1, rounds + 1), ys, label, colors(i % colors.N))
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy per round (mean over replicates, band: min-max)")
    finish(fig, ax, path)


def plot_accuracy_vs_time(groups, path):
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for i, (label, runs) in enumerate(groups):
        curves = []
        for run in runs:
            r = run["rounds"]
            if len(r):
                t = (r["t_end_s"] - r["t_start_s"].iloc[0]).to_numpy(dtype=float)
                curves.append((t, r["accuracy"].to_numpy(dtype=float)))
        if not curves:
            continue
        grid = np.linspace(0.0, max(t[-1] for t, _ in curves), 300)
        # Unknown before a replicate's first round ends; held at its last value after it ends.
        ys = [np.interp(grid, t, acc, left=np.nan, right=acc[-1]) for t, acc in curves]
        band(ax, grid, ys, label, colors(i % colors.N))
    ax.set_xlabel("time since the first round started (s; virtual in simulation)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy over time (mean over replicates, band: min-max)")
    finish(fig, ax, path)


def plot_time_to_target(groups, target, path):
    import matplotlib.pyplot as plt
    import numpy as np
    labels, means, lows, highs, notes = [], [], [], [], []
    for label, runs in groups:
        times = [hit[1] for hit in (time_to_target(run["rounds"], target) for run in runs if len(run["rounds"]))
                 if hit]
        labels.append(label)
        means.append(np.mean(times) if times else np.nan)
        lows.append(np.mean(times) - min(times) if times else 0.0)
        highs.append(max(times) - np.mean(times) if times else 0.0)
        notes.append(f"{len(times)}/{len(runs)}")
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels) + 2), 5.5))
    x = np.arange(len(labels))
    heights = np.nan_to_num(means, nan=0.0)
    ax.bar(x, heights, color="tab:blue", alpha=0.8, yerr=[lows, highs], capsize=4, ecolor="0.3")
    tops = heights + np.asarray(highs)
    top = max(tops.max() if len(tops) else 0, 1e-9)
    for xi, y, note, m in zip(x, tops, notes, means):
        text = note + (" reached" if not np.isnan(m) else " reached:\nno bar")
        ax.text(xi, y + 0.02 * top, text, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center",
                       fontsize=8)
    ax.set_ylabel("time to target (s; virtual in simulation)")
    ax.set_title(f"Time to accuracy {target:.2f}\n(mean over the replicates that reached it; whiskers: min-max)",
                 fontsize=11)
    ax.set_ylim(0, top * 1.15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def finish(fig, ax, path):
    import matplotlib.pyplot as plt
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    handles, _ = ax.get_legend_handles_labels()
    if len(handles) > 6:
        # Many series (a 16-point sweep): the legend goes beside the axes, in columns, where it
        # cannot cover the curves; the figure widens to hold it.
        columns = 1 if len(handles) <= 12 else 2
        fig.set_size_inches(8 + 3.2 * columns, max(5, 0.22 * len(handles) / columns + 1))
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, ncol=columns)
    elif handles:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Plot accuracy per round, accuracy over time and time to a "
                                                 "target accuracy from swarmsim results files.")
    parser.add_argument("files", nargs="+", metavar="FILE.h5", help="results files written by swarm run/sweep")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the PNGs (created if missing)")
    parser.add_argument("--target", type=float, default=0.8, help="target accuracy of time_to_target.png "
                                                                  "(default 0.8)")
    args = parser.parse_args(argv)
    if not 0 < args.target <= 1:
        fail(f"--target {args.target}: expected an accuracy in (0, 1]")
    runs = load_all(args.files)

    import matplotlib
    matplotlib.use("Agg")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        fail(f"--out {args.out}: {e.strerror}")
    groups = groups_of(runs, by_file=len(args.files) > 1)
    written = [os.path.join(args.out, name) for name in
               ("accuracy_vs_round.png", "accuracy_vs_time.png", "time_to_target.png")]
    plot_accuracy_vs_round(groups, written[0])
    plot_accuracy_vs_time(groups, written[1])
    plot_time_to_target(groups, args.target, written[2])
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
