#!/usr/bin/env bash
# The MLflow client workload against `pedigree serve` and a stock `mlflow server`, side by side.
# Uses scripts/test's virtual environment (it has mlflow and scikit-learn); builds pedigree in release mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product pedigree
exec .venv-tests/bin/python Benchmarks/mlflow/bench_mlflow.py .build/release/pedigree "$@"
