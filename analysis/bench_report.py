#!/usr/bin/python3
"""Markdown tables of Google Benchmark JSON outputs (written by bench/run.sh).

    /usr/bin/python3 analysis/bench_report.py OUT_DIR/*.json [--readme bench/README.md]

One table per file (per benchmark binary): benchmark name, wall time per iteration, every user
counter, and, for a benchmark that has a reference in the same binary, the ratio of each
rate (counter ending in /s; bytes/s alone when shared) it shares with the reference
(benchmark / reference), or of the reference's time over
its time when they share no counter. A reference is a benchmark whose name contains
"Reference", "Memcpy" or "PriorityQueue" / "priority_queue" (case-insensitive); it serves the
benchmarks whose argument suffix ends with its own (BM_Strategy/fedavg/10 -> BM_Memcpy/10;
BM_ToTensor/tensor_200k -> BM_MemcpyReference/tensor_200k).

With --readme FILE the tables replace the text between the lines `<!-- bench:begin -->` and
`<!-- bench:end -->` of FILE (written to a temporary file, then renamed over FILE); without both
markers the script prints an error and exits 2, leaving FILE as it was.
"""

import argparse
import json
import os
import sys
import tempfile

BEGIN_MARKER = "<!-- bench:begin -->"
END_MARKER = "<!-- bench:end -->"
REFERENCE_TOKENS = ("reference", "memcpy", "priorityqueue")
TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Keys of a benchmark entry that are not user counters.
STANDARD_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
    "aggregate_name", "aggregate_unit", "label", "error_occurred", "error_message",
    "bytes_per_second", "items_per_second",
}


class ReportError(Exception):
    pass


def is_reference(name):
    flat = name.split("/")[0].lower().replace("_", "")
    return any(token in flat for token in REFERENCE_TOKENS)


def arg_suffix(name):
    """The components of a benchmark name after the function name, as a list."""
    return name.split("/")[1:]


def find_reference(name, references):
    """The reference whose argument suffix ends the benchmark's own (longest first)."""
    suffix = arg_suffix(name)
    best = None
    for ref in references:
        ref_suffix = arg_suffix(ref["name"])
        if ref_suffix and suffix[len(suffix) - len(ref_suffix):] == ref_suffix:
            if best is None or len(ref_suffix) > len(arg_suffix(best["name"])):
                best = ref
    if best is None and len(references) == 1 and not arg_suffix(references[0]["name"]):
        best = references[0]
    return best


def load_benchmarks(path):
    """The runs of one JSON file: one entry per benchmark name (the mean when repeated)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ReportError(f"{path}: cannot read Google Benchmark JSON: {e}") from e
    if "benchmarks" not in doc:
        raise ReportError(f"{path}: no 'benchmarks' list (not a --benchmark_out JSON file?)")
    runs = {}
    means = {}
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "mean":
                means[b.get("run_name", b["name"])] = b
            continue
        runs.setdefault(b.get("run_name", b["name"]), b)
    for name, b in means.items():
        runs[name] = dict(b, name=name)
    for name, b in runs.items():
        b["name"] = name
    return list(runs.values())


def counters(bench):
    return {k: v for k, v in bench.items() if k not in STANDARD_KEYS and isinstance(v, (int, float))}


def format_time(bench):
    ns = bench["real_time"] * TIME_UNIT_NS.get(bench.get("time_unit", "ns"), 1.0)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def format_value(value, counter):
    """Rates (counters ending in /s) get SI prefixes: 21.9 GB/s, 24.9 GFLOP/s, 27.4k items/s."""
    if counter.endswith("/s"):
        unit = counter[:-2]
        for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0)):
            if abs(value) >= scale or scale == 1.0:
                number = f"{value / scale:.3g}"
                if unit == "bytes":
                    return f"{number} {prefix}B/s"
                if unit == "FLOP":
                    return f"{number} {prefix}FLOP/s"
                return f"{number}{prefix} {unit}/s"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def table(path, benches):
    title = os.path.splitext(os.path.basename(path))[0]
    references = [b for b in benches if is_reference(b["name"])]
    names = []
    for b in benches:
        for c in counters(b):
            if c not in names:
                names.append(c)
    ratio_names = []
    pairs = {}
    for b in benches:
        if is_reference(b["name"]):
            continue
        ref = find_reference(b["name"], references)
        if ref is None:
            continue
        # Ratios of rates only; bytes/s alone when both bytes/s and items/s are shared.
        shared = [c for c in counters(b)
                  if c.endswith("/s") and c in counters(ref) and counters(ref)[c]]
        if "bytes/s" in shared:
            shared = ["bytes/s"]
        pairs[b["name"]] = (ref, shared)
        for c in shared or ["speed"]:
            if c not in ratio_names:
                ratio_names.append(c)
    header = ["benchmark", "time"] + names
    if pairs:
        header += ["reference"] + [f"{c} ratio" for c in ratio_names]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "| --- | " + " | ".join("---:" for _ in header[1:]) + " |"]
    for b in benches:
        row = [f"`{b['name']}`", format_time(b)]
        bc = counters(b)
        row += [format_value(bc[c], c) if c in bc else "" for c in names]
        if pairs:
            if b["name"] in pairs:
                ref, shared = pairs[b["name"]]
                row.append(f"`{ref['name']}`")
                rc = counters(ref)
                for c in ratio_names:
                    if c in shared:
                        row.append(f"{bc[c] / rc[c]:.3g}")
                    elif c == "speed" and not shared:
                        row.append(f"{ref['real_time'] / b['real_time']:.3g}" if b["real_time"] else "")
                    else:
                        row.append("")
            else:
                row += [""] * (1 + len(ratio_names))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def report(paths):
    parts = []
    for path in paths:
        benches = load_benchmarks(path)
        if benches:
            parts.append(table(path, benches))
    return "\n".join(parts)


def replace_between_markers(readme, text):
    try:
        with open(readme, encoding="utf-8") as f:
            content = f.read()
    except OSError as e:
        raise ReportError(f"{readme}: {e}") from e
    begin = content.find(BEGIN_MARKER)
    end = content.find(END_MARKER, begin + len(BEGIN_MARKER)) if begin >= 0 else -1
    if begin < 0 or end < 0:
        raise ReportError(f"{readme}: markers '{BEGIN_MARKER}' and '{END_MARKER}' not found "
                          "(both are needed, in that order); file left unchanged")
    head = content[:begin + len(BEGIN_MARKER)]
    updated = head + "\n\n" + text.rstrip("\n") + "\n\n" + content[end:]
    directory = os.path.dirname(os.path.abspath(readme))
    fd, tmp = tempfile.mkstemp(prefix=".bench_report.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(updated)
        os.chmod(tmp, os.stat(readme).st_mode & 0o7777)
        os.replace(tmp, readme)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="Google Benchmark JSON files (--benchmark_out)")
    parser.add_argument("--readme", help="replace the text between the bench markers of this file")
    args = parser.parse_args(argv)
    try:
        text = report(args.files)
        if args.readme:
            replace_between_markers(args.readme, text)
            print(f"updated {args.readme}", file=sys.stderr)
        print(text, end="")
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
