#!/usr/bin/python3
"""FedAvg in plain PyTorch against swarmsim's in-process backend on the same workload.

    /usr/bin/python3 bench/compare/torch_fedavg.py [--rounds N] [--batch B ...] [--threads T ...]

Workload (swarmsim's reference configuration): MLP 784-200-200-10 with ReLU, softmax
cross-entropy, local SGD lr 0.05 momentum 0.9 (fresh momentum every round), 1 local epoch, 100
clients x 600 Fashion-MNIST training samples, 10 clients sampled per round, FedAvg weighted by
sample count, test accuracy on the 10,000 test images after every round (swarmsim evaluates
every round too, inside its round time). Both sides train on the same partition: swarmsim's IID
split of the 60,000 images for the seed, written by `swarm partition` and read here.

The PyTorch side is written as a competent user would: the data is read once from
/usr/share/datasets/fashion-mnist/*.gz (gzip + numpy.frombuffer, scaled to [0, 1]) and
pre-sliced into one tensor per client; mini-batches index those tensors with a torch
permutation; torch.set_num_threads(T). Only the rounds are timed (not loading).

The swarmsim side runs `BUILD_DIR/bin/swarm run --backend inprocess ...` with the same keys and
parses its summary line. Prints one table: side, threads, batch, rounds/s, final accuracy, and
swarmsim rounds/s / PyTorch rounds/s.

Needs python3-torch (Debian: `apt-get install python3-torch libopenblas0-pthread`); exits 2
without it. Debian's torch calls the system BLAS through the alternatives: without
libopenblas0-pthread it falls back to the reference BLAS (~3.5 vs ~30 GFLOP/s on the project
machine), which makes PyTorch look ~5-10x slower than it is. Optional; not part of CI.
"""

import argparse
import csv
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
CLIENTS = 100
SAMPLES_PER_CLIENT = 600
CLIENTS_PER_ROUND = 10
HIDDEN = (200, 200)
LR = 0.05
MOMENTUM = 0.9
SUMMARY = re.compile(r"^# (\d+) rounds in ([0-9.]+) s wall \(([0-9.]+) rounds/s.*final accuracy ([0-9.]+)")


def require_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: PyTorch is not installed for /usr/bin/python3. On Debian:\n"
              "  apt-get install python3-torch libopenblas0-pthread\n"
              "(libopenblas0-pthread: without it Debian's torch uses the slow reference BLAS)",
              file=sys.stderr)
        sys.exit(2)
    return torch


def blas_report(torch):
    """Prints which BLAS torch uses; warns when Debian's OpenBLAS is missing."""
    config = torch.__config__.show()
    blas_lines = [line.strip() for line in config.splitlines() if re.search(r"BLAS|LAPACK|MKL", line)]
    print("torch", torch.__version__, "| build:", "; ".join(blas_lines) or "(no BLAS line in torch.__config__.show())")
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "libopenblas0-pthread"],
                             capture_output=True, text=True, check=False)
    except FileNotFoundError:
        print("dpkg-query not found (not Debian?): cannot check libopenblas0-pthread")
        return
    installed = out.returncode == 0 and "install ok installed" in out.stdout
    print("libopenblas0-pthread:", out.stdout.split()[-1] if installed else "NOT installed")
    if not installed:
        print("warning: without libopenblas0-pthread Debian's torch falls back to the reference BLAS "
              "(~3.5 vs ~30 GFLOP/s); install it for a fair comparison", file=sys.stderr)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def swarm_exe(build_dir):
    exe = os.path.join(build_dir, "bin", "swarm")
    if not os.path.exists(exe):
        sys.exit(f"error: {exe} not found (build swarmsim, or set BUILD_DIR)")
    return exe


def scenario_flags(seed):
    """The `--set` flags that make swarmsim's scenario the reference configuration."""
    return ["--set", f"population.nodes={CLIENTS}",
            "--set", "data.partition=iid",
            "--set", f"swarm.clients_per_round={CLIENTS_PER_ROUND}",
            "--set", "model.hidden=[" + ",".join(map(str, HIDDEN)) + "]",
            "--set", f"training.lr={LR}", "--set", f"training.momentum={MOMENTUM}",
            "--set", "training.epochs=1", "--seed", str(seed)]


def write_partition(build_dir, seed, path):
    """Has `swarm partition` write swarmsim's split of the training set for `seed` to `path`."""
    cmd = [swarm_exe(build_dir), "partition", "-o", path] + scenario_flags(seed)
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {out.returncode}:\n{out.stderr}")


def read_partition(path):
    """{client: [sample index, ...]} from a `swarm partition` CSV."""
    clients = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            clients.setdefault(int(row["node"]), []).append(int(row["sample"]))
    if sorted(clients) != list(range(CLIENTS)):
        sys.exit(f"error: {path}: expected clients 0..{CLIENTS - 1}, got {len(clients)} clients")
    return [clients[c] for c in range(CLIENTS)]


def load_data(torch, partition_csv):
    """Per-client (x, y) tensors, sliced once along swarmsim's partition, and the test set."""
    def images(name):
        a = read_idx(os.path.join(DATA_DIR, name))
        return torch.from_numpy(a.reshape(a.shape[0], -1).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(DATA_DIR, name)).astype(np.int64))

    x, y = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    xt, yt = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    clients = []
    for samples in read_partition(partition_csv):
        idx = torch.tensor(samples, dtype=torch.int64)
        clients.append((x[idx].contiguous(), y[idx].contiguous()))
    return clients, (xt, yt)


def make_model(torch):
    """The MLP, initialised as swarmsim initialises it (He-uniform weights, zero biases)
    rather than with torch.nn.Linear's default, so that both sides start alike."""
    layers, width = [], 784
    for h in HIDDEN + (10,):
        linear = torch.nn.Linear(width, h)
        torch.nn.init.kaiming_uniform_(linear.weight, nonlinearity="relu")  # bound sqrt(6 / fan_in)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.ReLU()]
        width = h
    return torch.nn.Sequential(*layers[:-1])


def run_torch(torch, clients, test, rounds, batch, threads, seed):
    """(rounds/s, final accuracy) of `rounds` FedAvg rounds."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    vec = torch.nn.utils.parameters_to_vector
    global_model = make_model(torch)
    local = make_model(torch)
    global_vec = vec(global_model.parameters()).detach().clone()
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = test
    accuracy = 0.0
    start = time.perf_counter()
    for _ in range(rounds):
        chosen = torch.randperm(CLIENTS, generator=gen)[:CLIENTS_PER_ROUND].tolist()
        total = torch.zeros_like(global_vec)
        weight_sum = 0
        for c in chosen:
            x, y = clients[c]
            # vector_to_parameters makes the parameters views of the vector it is given: hand
            # it a copy, or training this client would move the global model itself and the
            # next client would start where this one ended (sequential SGD, not FedAvg).
            torch.nn.utils.vector_to_parameters(global_vec.clone(), local.parameters())
            opt = torch.optim.SGD(local.parameters(), lr=LR, momentum=MOMENTUM)
            order = torch.randperm(x.shape[0], generator=gen)
            for i in range(0, x.shape[0], batch):
                b = order[i:i + batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(local(x[b]), y[b]).backward()
                opt.step()
            with torch.no_grad():
                total.add_(vec(local.parameters()), alpha=float(x.shape[0]))
            weight_sum += x.shape[0]
        global_vec = total / weight_sum
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(global_vec.clone(), global_model.parameters())
            accuracy = (global_model(xt).argmax(1) == yt).float().mean().item()
    elapsed = time.perf_counter() - start
    return rounds / elapsed, accuracy


def torch_configs(threads):
    """(torch intra-op threads, OpenBLAS threads) pairs worth trying with `threads` cores.

    OpenBLAS (libopenblas0-pthread) keeps its own thread pool, which torch.set_num_threads does
    not resize; with both pools at 2 threads on 2 cores they spin against each other (a
    batch-64 round ran 3x slower than on one thread). A competent user would try the
    splits, so every one is run and the best kept."""
    if threads == 1:
        return [(1, 1)]
    return [(1, threads), (threads, 1), (threads, threads)]


def run_torch_child(rounds, batch, config, seed, partition_csv):
    """run_torch in a fresh process with `config` = (torch threads, OpenBLAS threads). The
    pools are sized when the libraries load, hence one process per configuration."""
    torch_threads, blas_threads = config
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(blas_threads), OMP_NUM_THREADS=str(torch_threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--rounds", str(rounds),
           "--batch", str(batch), "--threads", str(torch_threads), "--seed", str(seed),
           "--partition", partition_csv]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"error: PyTorch run failed ({' '.join(cmd)}):\n{out.stderr}")
    rate, acc = out.stdout.split()[-2:]
    return float(rate), float(acc)


def run_swarmsim(build_dir, rounds, batch, threads, seed):
    """(rounds/s, final accuracy) parsed from `swarm run`'s summary line."""
    cmd = [swarm_exe(build_dir), "run", "--backend", "inprocess"] + scenario_flags(seed) + [
        "--set", f"training.batch_size={batch}", "--set", f"swarm.rounds={rounds}",
        "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {out.returncode}:\n{out.stderr}")
    for line in reversed((out.stdout + out.stderr).splitlines()):
        m = SUMMARY.match(line.strip())
        if m:
            return float(m.group(3)), float(m.group(4))
    sys.exit(f"error: no summary line ('# N rounds in X s wall (R rounds/s ...') in the output of "
             f"{' '.join(cmd)}:\n{out.stdout[-2000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="FedAvg rounds per run (default 20)")
    parser.add_argument("--batch", type=int, nargs="+", default=[10, 64], help="batch sizes (default 10 64)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per row, the best kept (default 3)")
    parser.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", "build"),
                        help="swarmsim build directory (default: $BUILD_DIR or build)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--partition", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    torch = require_torch()
    if not os.path.exists(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz")):
        sys.exit(f"error: Fashion-MNIST not found in {DATA_DIR}")
    if args.worker:
        clients, test = load_data(torch, args.partition)
        rate, acc = run_torch(torch, clients, test, args.rounds, args.batch[0], args.threads[0], args.seed)
        print(f"{rate} {acc}")
        return 0
    blas_report(torch)
    tmp = tempfile.TemporaryDirectory(prefix="torch_fedavg_")
    partition_csv = os.path.join(tmp.name, "partition.csv")
    write_partition(args.build_dir, args.seed, partition_csv)

    rows = []
    for batch in args.batch:
        for threads in args.threads:
            # Best of --repeat runs on each side: the machine's noise only ever slows a run.
            t_rate, t_acc, t_config = 0.0, 0.0, None
            for config in torch_configs(threads):
                for _ in range(args.repeat):
                    rate, acc = run_torch_child(args.rounds, batch, config, args.seed, partition_csv)
                    if rate > t_rate:
                        t_rate, t_acc, t_config = rate, acc, config
            s_rate, s_acc = 0.0, 0.0
            for _ in range(args.repeat):
                rate, acc = run_swarmsim(args.build_dir, args.rounds, batch, threads, args.seed)
                if rate > s_rate:
                    s_rate, s_acc = rate, acc
            rows.append((f"PyTorch (torch {t_config[0]}, OpenBLAS {t_config[1]})", threads, batch, t_rate, t_acc, ""))
            rows.append(("swarmsim", threads, batch, s_rate, s_acc, f"{s_rate / t_rate:.2f}"))
            print(f"batch {batch}, {threads} thread(s): PyTorch {t_rate:.3f} rounds/s, "
                  f"swarmsim {s_rate:.3f} rounds/s", file=sys.stderr)

    print(f"\n{args.rounds} FedAvg rounds, {CLIENTS_PER_ROUND} of {CLIENTS} clients x {SAMPLES_PER_CLIENT} "
          f"samples, MLP 784-{'-'.join(map(str, HIDDEN))}-10, test accuracy every round; "
          f"best of {args.repeat} runs per row\n")
    print("| side | threads | batch | rounds/s | final accuracy | swarmsim / PyTorch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for side, threads, batch, rate, acc, ratio in rows:
        print(f"| {side} | {threads} | {batch} | {rate:.3f} | {acc:.4f} | {ratio} |")
    # swarmsim on all the thread counts asked against PyTorch's best row, per batch size.
    for batch in args.batch:
        best_torch = max(r[3] for r in rows if r[2] == batch and r[0].startswith("PyTorch"))
        best_swarm = max(r[3] for r in rows if r[2] == batch and r[0] == "swarmsim")
        print(f"\nbatch {batch}: swarmsim's best / PyTorch's best = {best_swarm / best_torch:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
