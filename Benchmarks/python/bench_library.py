"""The Python library's cost on the training thread, against a baseline measured in the same run.

usage: PEDIGREE_BIN=.build/release/pedigree python Benchmarks/python/bench_library.py [--calls N] [--metrics M]

- A decorated no-op (no inputs or outputs: nothing to hash) against the same function undecorated: the time
  each call takes to return, which is all training waits for. Recording happens on the library's worker thread;
  the time until the worker has handed every run to the binary is reported too.
- `run.log_metric` against appending the same tuple to a list.
Prints one JSON object.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python", "src"))

parser = argparse.ArgumentParser()
parser.add_argument("--calls", type=int, default=50)
parser.add_argument("--metrics", type=int, default=200_000)
arguments = parser.parse_args()

scratch = tempfile.mkdtemp(prefix="pedigree-bench-python-")
os.chdir(scratch)
subprocess.run(["git", "init", "-q"], check=True)
os.environ.update(PEDIGREE_STORE=os.path.join(scratch, "pedigree.db"), PEDIGREE_HOME=os.path.join(scratch, "home"))
os.environ.pop("PEDIGREE_URL", None)

import pedigree  # noqa: E402


def noop(lr: float = 0.1, epochs: int = 3) -> float:
    return lr * epochs


tracked = pedigree.track(model="bench")(noop)


def per_call(function, calls):
    started = time.perf_counter()
    for _ in range(calls):
        function(lr=0.01)
    return (time.perf_counter() - started) / calls


baseline_call = per_call(noop, arguments.calls)
decorated_call = per_call(tracked, arguments.calls)
flush_started = time.perf_counter()
pedigree.flush(timeout=3600)
flush_seconds = time.perf_counter() - flush_started

run = pedigree.Run("bench-metrics")
plain = []
started = time.perf_counter()
for i in range(arguments.metrics):
    plain.append(("loss", 0.5, i))
baseline_metric = (time.perf_counter() - started) / arguments.metrics
started = time.perf_counter()
for i in range(arguments.metrics):
    run.log_metric("loss", 0.5, step=i)
metric_call = (time.perf_counter() - started) / arguments.metrics

recorded = subprocess.run([os.environ["PEDIGREE_BIN"], "log", "--limit", "100000"], capture_output=True, text=True).stdout.count("\n")
print(
    json.dumps(
        {
            "calls": arguments.calls,
            "decorated_call_ms": round(decorated_call * 1e3, 3),
            "undecorated_call_ms": round(baseline_call * 1e3, 6),
            "worker_ms_per_run_after_return": round((flush_seconds / arguments.calls) * 1e3, 1),
            "events_recorded": recorded,
            "log_metric_us": round(metric_call * 1e6, 3),
            "list_append_us": round(baseline_metric * 1e6, 3),
            "log_metric_ratio": round(metric_call / baseline_metric, 2),
        }
    )
)
