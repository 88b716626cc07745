#!/usr/bin/python3
"""Markdown summary of swarmsim results files (the table of `swarm report`).

    /usr/bin/python3 analysis/summary.py FILE.h5 [FILE2.h5 ...] [--target A]

One row per sweep point (runs grouped by their `point`, replicates aggregated), sorted by point:
the point's values, replicates, final accuracy mean ± sample std, best accuracy mean, rounds
and time to the target accuracy (mean over the replicates that reached it, "n/m reached"; only
with --target > 0), MB moved (mean), failures (mean failed + lost instances) and the noise
multiplier when a run has one. With several files a `file` column tells them apart.

Also a module: plot_results.py uses load_runs() and point_sort_key(). The file layout is
documented in docs/results.md.
"""

import argparse
import json
import math
import os
import statistics
import sys

FORMAT = "swarmsim-results"
FORMAT_VERSION = 2  # version 1 (swarm 0.1) is read too: same layout, no checksums
ROUND_COLUMNS = ("round", "t_start_s", "t_end_s", "accuracy", "bytes_up", "bytes_down", "failed",
                 "lost_crash", "lost_transfer", "lost_offline", "lost_deadline", "lost_overcommit")
LOST_COLUMNS = ("failed", "lost_crash", "lost_transfer", "lost_offline", "lost_deadline", "lost_overcommit")


class ResultsError(Exception):
    """A file that is missing or not a swarmsim results file; the message names it."""


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _point_text(value):
    """A sweep point value as `swarm report` shows it: strings as they are, numbers (stored as
    numbers since format_version 2) in their shortest form."""
    return value if isinstance(value, str) else json.dumps(value)


def load_runs(path):
    """Every complete run of a results file, as dicts: file, name, point (dict of str),
    replicate, seed, noise_multiplier, outcome, outcome_message, rounds (a pandas DataFrame,
    one row per round). Checksums are not verified here: `swarm report` does."""
    import h5py  # imported here so that --help works without it
    import pandas as pd

    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ResultsError(f"{path}: not a file")
    if not h5py.is_hdf5(path):
        raise ResultsError(f"{path}: not an HDF5 file")
    runs = []
    try:
        with h5py.File(path, "r") as f:
            if _text(f.attrs.get("format", "")) != FORMAT:
                raise ResultsError(f"{path}: not a swarmsim results file (no format='{FORMAT}' attribute)")
            version = int(f.attrs.get("format_version", 0))
            if not 1 <= version <= FORMAT_VERSION:
                raise ResultsError(f"{path}: format_version {version} is not supported (this script reads "
                                   f"{FORMAT_VERSION})")
            if not isinstance(f.get("runs"), h5py.Group):
                raise ResultsError(f"{path}: not a swarmsim results file (no group /runs)")
            for link, group in f["runs"].items():
                if not isinstance(group, h5py.Group) or int(group.attrs.get("complete", 0)) != 1:
                    continue
                rounds = group.get("rounds")
                if not isinstance(rounds, h5py.Dataset) or rounds.dtype.names is None or \
                        any(c not in rounds.dtype.names for c in ROUND_COLUMNS):
                    raise ResultsError(f"{path}: /runs/{link}/rounds is not a round table")
                runs.append({
                    "file": path,
                    "name": _text(group.attrs.get("name", link)),
                    "point": {str(k): _point_text(v) for k, v in json.loads(_text(group.attrs["point"])).items()},
                    "replicate": int(group.attrs["replicate"]),
                    "seed": int(group.attrs["seed"]),
                    "noise_multiplier": float(group.attrs.get("noise_multiplier", 0.0)),
                    "outcome": _text(group.attrs.get("outcome", "complete")),
                    "outcome_message": _text(group.attrs.get("outcome_message", "")),
                    "rounds": pd.DataFrame(rounds[()]),
                })
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise ResultsError(f"{path}: not a readable swarmsim results file ({e})") from e
    return runs


def _value_key(value):
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def point_sort_key(point):
    """Sorts points by key, then value, numbers as numbers (as `swarm report` does)."""
    return [(k, _value_key(v)) for k, v in sorted(point.items())]


def point_label(point):
    return ", ".join(f"{k}={v}" for k, v in sorted(point.items())) or "(none)"


def time_to_target(rounds, target):
    """(rounds run, seconds since the first round started) when accuracy first reached target,
    or None."""
    reached = rounds.index[rounds["accuracy"] >= target]
    if len(reached) == 0:
        return None
    i = rounds.index.get_loc(reached[0])
    return i + 1, float(rounds["t_end_s"].iloc[i] - rounds["t_start_s"].iloc[0])


def summarize(runs, target=0.0, by_file=False):
    """One dict per point, sorted, with the figures of report_table."""
    groups = {}
    for run in runs:
        key = (run["file"] if by_file else "", json.dumps(run["point"], sort_keys=True))
        groups.setdefault(key, []).append(run)
    rows = []
    for (file, _), members in groups.items():
        final, best, rounds_to, time_to, megabytes, failures, noise = [], [], [], [], [], [], []
        outcomes = {}
        for run in members:
            r = run["rounds"]
            final.append(float(r["accuracy"].iloc[-1]) if len(r) else 0.0)
            best.append(max(0.0, float(r["accuracy"].max())) if len(r) else 0.0)
            megabytes.append(float(r["bytes_up"].astype(float).sum() + r["bytes_down"].astype(float).sum()) / 1e6)
            failures.append(float(sum(r[c].sum() for c in LOST_COLUMNS)))
            noise.append(run["noise_multiplier"])
            outcomes[run["outcome"]] = outcomes.get(run["outcome"], 0) + 1
            hit = time_to_target(r, target) if target > 0 and len(r) else None
            if hit:
                rounds_to.append(hit[0])
                time_to.append(hit[1])
        nan = float("nan")
        rows.append({
            "file": file,
            "point": members[0]["point"],
            "replicates": len(members),
            "final_mean": statistics.fmean(final),
            "final_std": statistics.stdev(final) if len(final) > 1 else 0.0,
            "best_mean": statistics.fmean(best),
            "reached": len(rounds_to),
            "rounds_to_target": statistics.fmean(rounds_to) if rounds_to else nan,
            "time_to_target": statistics.fmean(time_to) if time_to else nan,
            "megabytes": statistics.fmean(megabytes),
            "failures": statistics.fmean(failures),
            "noise_multiplier": statistics.fmean(noise),
            "outcomes": dict(sorted(outcomes.items())),
            "incomplete": [(run["name"], run["outcome"], run["outcome_message"]) for run in members
                           if run["outcome"] != "complete"],
        })
    rows.sort(key=lambda row: (row["file"], point_sort_key(row["point"])))
    return rows


def markdown(rows, target=0.0, by_file=False):
    keys = sorted({k for row in rows for k in row["point"]})
    noisy = any(row["noise_multiplier"] != 0 for row in rows)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    header = (["file"] if by_file else []) + ([esc(k) for k in keys] or ["point"])
    label_columns = len(header)
    header += ["replicates", "final accuracy", "best accuracy"]
    if target > 0:
        header += [f"rounds to {target:.2f}", f"time to {target:.2f} (s)"]
    incomplete = [run for row in rows for run in row["incomplete"]]
    header += ["MB moved", "failures"] + (["noise multiplier"] if noisy else []) + (["outcomes"] if incomplete else [])
    lines = ["| " + " | ".join(header) + " |",
             "|" + "".join(" --- |" if i < label_columns else " ---: |" for i in range(len(header)))]
    for row in rows:
        cells = [esc(os.path.basename(row["file"]))] if by_file else []
        cells += [esc(row["point"].get(k, "-")) for k in keys] or ["(none)"]
        cells += [str(row["replicates"]), f"{row['final_mean']:.4f} ± {row['final_std']:.4f}",
                  f"{row['best_mean']:.4f}"]
        if target > 0:
            reached = f" ({row['reached']}/{row['replicates']} reached)"
            cells.append((f"{row['rounds_to_target']:.1f}" if row["reached"] else "-") + reached)
            cells.append(f"{row['time_to_target']:.1f}" if row["reached"] else "-")
        cells += [f"{row['megabytes']:.1f}", f"{row['failures']:.1f}"]
        if noisy:
            cells.append("%.3g" % row["noise_multiplier"])
        if incomplete:
            cells.append(", ".join(f"{n} {outcome}" for outcome, n in row["outcomes"].items()))
        lines.append("| " + " | ".join(cells) + " |")
    if incomplete:
        lines += ["", "Runs that did not complete:"]
        lines += [f"- {name}: {outcome}" + (f": {message}" if message else "") for name, outcome, message in incomplete]
    return "\n".join(lines) + "\n"


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load_all(paths):
    """Every complete run of `paths`; exits with a message (code 2) on a bad file or no run."""
    runs = []
    try:
        for path in paths:
            runs += load_runs(path)
    except ResultsError as e:
        fail(str(e))
    if not runs:
        fail(", ".join(paths) + ": no complete run")
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description="Markdown summary of swarmsim results files, one row per "
                                                 "sweep point (the table of `swarm report`).")
    parser.add_argument("files", nargs="+", metavar="FILE.h5", help="results files written by swarm run/sweep")
    parser.add_argument("--target", type=float, default=0.0,
                        help="accuracy for the rounds/time-to-target columns (default 0: no such columns)")
    args = parser.parse_args(argv)
    if not 0 <= args.target <= 1:
        fail(f"--target {args.target}: expected an accuracy in [0, 1]")
    runs = load_all(args.files)
    by_file = len(args.files) > 1
    sys.stdout.write(markdown(summarize(runs, args.target, by_file), args.target, by_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
