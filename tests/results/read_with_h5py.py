#!/usr/bin/python3
"""Issue 9 item 18: a results file as researchers read it, with h5py and pandas.

    /usr/bin/python3 tests/results/read_with_h5py.py FILE.h5

FILE.h5 is the sample sweep of results_tests '[sample]' (strategy x partition.alpha x 3
replicates). Checks what docs/results.md promises: attributes come back as str, point values
typed (numbers as numbers), run groups indexable by the names a user writes by hand, and the
tables readable by pandas with their string columns decoded as documented.
"""

import json
import sys

import h5py
import pandas as pd


def main(path):
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "swarmsim-results", f.attrs["format"]
        assert isinstance(f.attrs["format"], str), type(f.attrs["format"])
        assert int(f.attrs["format_version"]) == 2
        runs = f["runs"]
        assert len(runs) == 18, len(runs)
        # Written by hand, no escapes.
        g = runs["strategy=fedavg,partition.alpha=0.1,rep0"]
        for key in ("name", "scenario", "version", "point", "outcome", "outcome_message"):
            assert isinstance(g.attrs[key], str), (key, type(g.attrs[key]))
        assert g.attrs["name"] == "strategy=fedavg,partition.alpha=0.1,rep0"
        assert g.attrs["outcome"] == "complete"
        point = json.loads(g.attrs["point"])
        assert point == {"strategy": "fedavg", "partition.alpha": 0.1}, point
        assert isinstance(point["partition.alpha"], float) and isinstance(point["strategy"], str)
        assert int(g.attrs["replicate"]) == 0 and int(g.attrs["complete"]) == 1
        for name, run in runs.items():
            assert run.attrs["name"] == name, (name, run.attrs["name"])

        rounds = pd.DataFrame(g["rounds"][()])
        assert len(rounds) == 40 and rounds["round"].tolist() == list(range(1, 41))
        assert rounds["accuracy"].dtype.kind == "f" and rounds["bytes_up"].dtype.kind == "u"
        nodes = pd.DataFrame(g["nodes"][()])
        # String columns of a table come back as bytes (h5py reads compound members so);
        # docs/results.md shows this decoding.
        assert isinstance(nodes["profile"][0], bytes), type(nodes["profile"][0])
        nodes["profile"] = nodes["profile"].str.decode("utf-8")
        assert set(nodes["profile"]) == {"phone", "laptop"}, set(nodes["profile"])
        assert g["final_model"].dtype == "float32" and g["final_model"].shape == (100,)
    print("h5py reads", path, "as documented")


if __name__ == "__main__":
    main(sys.argv[1])
