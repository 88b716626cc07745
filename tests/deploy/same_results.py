#!/usr/bin/python3
"""Whether two results files hold the same sweep, as docs/results.md ("Sweeps and shards")
defines it, read with h5py (another reader than swarm's own):

    /usr/bin/python3 tests/deploy/same_results.py A.h5 B.h5

The same root attributes (format, format_version, the sweep record); the same run groups in
the same order (creation order); per run the same attributes except `crc32`, the same
datasets with the same types and shapes, and the same values in every column except the host
wall-clock column `wall_s` of `rounds` (the CRC-32 covers wall_s, so it differs too).
Exits 0 if so, else 1 naming the first difference.
"""

import json
import sys

import h5py
import numpy as np


def runs_in_order(f):
    names = []
    runs = f["runs"]  # held: the link iteration needs the group open
    runs.id.links.iterate(lambda name: names.append(name.decode()), idx_type=h5py.h5.INDEX_CRT_ORDER)
    return names


def differences(a_path, b_path):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for key in ("format", "format_version", "sweep_crc32"):
            if a.attrs.get(key) != b.attrs.get(key):
                yield f"root attribute {key}: {a.attrs.get(key)!r} != {b.attrs.get(key)!r}"
        if "sweep" not in a.attrs or "sweep" not in b.attrs:
            yield "a file has no sweep record"
        elif json.loads(a.attrs["sweep"]) != json.loads(b.attrs["sweep"]):
            yield f"sweep records differ: {a.attrs['sweep'][:200]} != {b.attrs['sweep'][:200]}"
        names_a, names_b = runs_in_order(a), runs_in_order(b)
        if names_a != names_b:
            yield f"runs differ or are in another order: {names_a} != {names_b}"
            return
        for name in names_a:
            ga, gb = a["runs"][name], b["runs"][name]
            attrs_a = {k: v for k, v in ga.attrs.items() if k != "crc32"}
            attrs_b = {k: v for k, v in gb.attrs.items() if k != "crc32"}
            if attrs_a.keys() != attrs_b.keys():
                yield f"{name}: attributes {sorted(attrs_a)} != {sorted(attrs_b)}"
            for k in attrs_a.keys() & attrs_b.keys():
                if attrs_a[k] != attrs_b[k]:
                    yield f"{name}: attribute {k}: {attrs_a[k]!r} != {attrs_b[k]!r}"
            if sorted(ga.keys()) != sorted(gb.keys()):
                yield f"{name}: datasets {sorted(ga.keys())} != {sorted(gb.keys())}"
                continue
            for ds in ga.keys():
                da, db = ga[ds][()], gb[ds][()]
                if da.dtype != db.dtype or da.shape != db.shape:
                    yield f"{name}/{ds}: {da.dtype} {da.shape} != {db.dtype} {db.shape}"
                    continue
                columns = [c for c in (da.dtype.names or [None]) if not (ds == "rounds" and c == "wall_s")]
                for c in columns:
                    ca, cb = (da, db) if c is None else (da[c], db[c])
                    same = np.array_equal(ca, cb, equal_nan=True) if ca.dtype.kind == "f" else np.array_equal(ca, cb)
                    if not same:
                        yield f"{name}/{ds}" + ("" if c is None else f".{c}") + ": values differ"
        if not names_a:
            yield "no runs"


def main(a_path, b_path):
    found = list(differences(a_path, b_path))
    for d in found[:20]:
        print(f"{a_path} vs {b_path}: {d}")
    if found:
        return 1
    print(f"{a_path} and {b_path}: the same sweep (wall-clock times aside)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
