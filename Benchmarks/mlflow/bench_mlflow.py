"""The same MLflow client workload against `pedigree serve` and against a stock `mlflow server` (SQLite
backend, artifact proxying on), both started here, side by side in one run.

Workloads through the official client (MlflowClient, one keep-alive HTTP session):
  single   log_metric, one call per metric
  batch    log_batch of 1,000 metrics per call
  autolog  a full sklearn autolog training with model registration (start_run … fit … end_run)
and the same two requests from a thin driver (http.client, one keep-alive connection, the client's request bodies
serialised in advance), which measures the servers rather than the Python client: on this machine the client
itself spends ~1.8 ms per log_metric call and ~20 ms per 1,000-metric batch before a byte is sent.

usage: bench_mlflow.py PEDIGREE_BINARY [--single N] [--batches N] [--trainings N] [--json FILE]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from sklearn.linear_model import LogisticRegression


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/2.0/mlflow/experiments/get?experiment_id=0", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not come up")


def start_pedigree(binary, work):
    port = free_port()
    log = open(os.path.join(work, "pedigree.log"), "w")
    process = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--store", os.path.join(work, "pedigree.db"), "--artifacts", os.path.join(work, "pedigree-artifacts")],
        stdout=log, stderr=log, env={**os.environ, "PEDIGREE_HOME": os.path.join(work, "home"), "PEDIGREE_LOG_LEVEL": "warning"})
    url = f"http://127.0.0.1:{port}"
    wait_ready(url)
    return process, url


def start_mlflow(work):
    port = free_port()
    log = open(os.path.join(work, "mlflow.log"), "w")
    mlflow_cli = os.path.join(os.path.dirname(sys.executable), "mlflow")
    process = subprocess.Popen(
        [mlflow_cli, "server", "--host", "127.0.0.1", "--port", str(port), "--backend-store-uri", f"sqlite:///{work}/mlflow.db",
         "--artifacts-destination", os.path.join(work, "mlflow-artifacts")],
        stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url)
    return process, url


def raw_driver(url, run_id, single, batches):
    """The client's exact requests, sent back to back over one keep-alive connection."""
    import http.client
    from urllib.parse import urlparse
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port)
    headers = {"Content-Type": "application/json"}
    now = int(time.time() * 1000)

    def post(path, body):
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status

    bodies = [json.dumps({"run_id": run_id, "key": "raw", "value": 1.0 / (i + 1), "timestamp": now, "step": i}) for i in range(single)]
    start = time.perf_counter()
    for body in bodies:
        post("/api/2.0/mlflow/runs/log-metric", body)
    single_seconds = time.perf_counter() - start
    batch_bodies = [
        json.dumps({"run_id": run_id, "metrics": [{"key": "rawbatch", "value": float(i), "timestamp": now, "step": b * 1000 + i} for i in range(1000)]})
        for b in range(batches)
    ]
    start = time.perf_counter()
    for body in batch_bodies:
        post("/api/2.0/mlflow/runs/log-batch", body)
    batch_seconds = time.perf_counter() - start
    connection.close()
    return single / single_seconds, batches / batch_seconds


def workload(url, single, batches, trainings, label):
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    experiment = client.create_experiment(f"bench-{label}-{time.time_ns()}")
    run_id = client.create_run(experiment).info.run_id
    client.log_metric(run_id, "warmup", 0.0)

    start = time.perf_counter()
    for i in range(single):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    single_seconds = time.perf_counter() - start

    now = int(time.time() * 1000)
    start = time.perf_counter()
    for b in range(batches):
        client.log_batch(run_id, metrics=[Metric("batch", float(i), now, b * 1000 + i) for i in range(1000)])
    batch_seconds = time.perf_counter() - start

    frame = pd.DataFrame({"x1": np.linspace(0, 1, 200), "x2": np.linspace(1, 0, 200), "y": [0, 1] * 100})
    mlflow.set_experiment(experiment_id=experiment)
    mlflow.sklearn.autolog(registered_model_name=f"bench-{label}", silent=True)
    start = time.perf_counter()
    for _ in range(trainings):
        with mlflow.start_run():
            LogisticRegression(max_iter=200).fit(frame[["x1", "x2"]], frame["y"])
    autolog_seconds = time.perf_counter() - start
    mlflow.sklearn.autolog(disable=True)

    raw_single, raw_batch = raw_driver(url, client.create_run(experiment).info.run_id, single, batches)

    return {
        "raw_single_per_s": raw_single, "raw_batch_per_s": raw_batch,
        "single_calls": single, "single_per_s": single / single_seconds,
        "batch_calls": batches, "batch_per_s": batches / batch_seconds, "batch_metrics_per_s": batches * 1000 / batch_seconds,
        "trainings": trainings, "autolog_s_per_training": autolog_seconds / trainings,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pedigree")
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--reference-single", type=int, default=200, help="single calls against the reference server (it is slow)")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--trainings", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    work = tempfile.mkdtemp(prefix="pedigree-mlflow-bench-")
    results = {}
    try:
        process, url = start_mlflow(work)
        try:
            results["mlflow"] = workload(url, args.reference_single, args.batches, args.trainings, "mlflow")
        finally:
            process.terminate()
            process.wait()
        process, url = start_pedigree(args.pedigree, work)
        try:
            results["pedigree"] = workload(url, args.single, args.batches, args.trainings, "pedigree")
        finally:
            process.terminate()
            process.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    p, m = results["pedigree"], results["mlflow"]
    rows = [
        ("official client: log_metric calls/s", p["single_per_s"], m["single_per_s"], "≥ 100×"),
        ("official client: log_batch (1,000 metrics) calls/s", p["batch_per_s"], m["batch_per_s"], "≥ 10×"),
        ("thin driver: log-metric requests/s", p["raw_single_per_s"], m["raw_single_per_s"], "≥ 100×"),
        ("thin driver: log-batch (1,000 metrics) requests/s", p["raw_batch_per_s"], m["raw_batch_per_s"], "≥ 10×"),
        ("sklearn autolog training, s each", p["autolog_s_per_training"], m["autolog_s_per_training"], ""),
    ]
    print(f"mlflow {mlflow.__version__}; pedigree {args.single} single calls, reference {args.reference_single}; "
          f"{args.batches} batches; {args.trainings} trainings")
    print(f"| workload | pedigree | mlflow server | ratio | target |\n|---|---|---|---|---|")
    for name, ours, theirs, target in rows:
        ratio = theirs / ours if "s each" in name else ours / theirs
        print(f"| {name} | {ours:,.1f} | {theirs:,.1f} | {ratio:.1f}× | {target} |" if "s each" not in name
              else f"| {name} | {ours:.3f} | {theirs:.3f} | {ratio:.1f}× faster | {target} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
