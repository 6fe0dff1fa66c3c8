#!/usr/bin/env python3
"""Compile a small, real KFP v2 pipeline to IR YAML (PipelineSpec).

Usage: python kfp_pipeline.py OUTPUT.yaml [--nested]

--nested compiles the same steps with prepare inside a sub-pipeline (a pipeline used as a component), whose
output the outer train task consumes.

Pipeline shape:
    importer (gs://bucket/raw.csv, Dataset) -> prepare -> train
Pipeline parameters: lr (float, default 0.1), rows (int, default 100).
Requires: pip install kfp   (tested with 2.17.3)
"""
import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def prepare(raw: Input[Dataset], rows: int, out: Output[Dataset]):
    """Copy the first `rows` lines of the raw dataset."""
    with open(raw.path) as src, open(out.path, "w") as dst:
        for i, line in enumerate(src):
            if i >= rows:
                break
            dst.write(line)
    out.metadata["rows"] = rows


@dsl.component(base_image="python:3.11")
def train(data: Input[Dataset], lr: float, model: Output[Model], metrics: Output[Metrics]):
    """Pretend to train; write a model file and log a metric."""
    with open(model.path, "w") as f:
        f.write(f"model trained on {data.uri} with lr={lr}\n")
    model.metadata["framework"] = "none"
    metrics.log_metric("accuracy", 0.9)


@dsl.pipeline(name="tiny-train", description="importer -> prepare -> train")
def tiny_train(lr: float = 0.1, rows: int = 100):
    # The importer is a built-in step that registers an existing URI as an artifact.
    raw = dsl.importer(
        artifact_uri="gs://bucket/raw.csv",
        artifact_class=dsl.Dataset,
        reimport=False,
    )
    prep = prepare(raw=raw.output, rows=rows)
    train(data=prep.outputs["out"], lr=lr)


@dsl.pipeline(name="prepare-stage")
def prepare_stage(raw: Input[Dataset], rows: int) -> Dataset:
    prep = prepare(raw=raw, rows=rows)
    return prep.outputs["out"]


@dsl.pipeline(name="tiny-train-nested", description="importer -> (sub-pipeline: prepare) -> train")
def tiny_train_nested(lr: float = 0.1, rows: int = 100):
    raw = dsl.importer(artifact_uri="gs://bucket/raw.csv", artifact_class=dsl.Dataset, reimport=False)
    stage = prepare_stage(raw=raw.output, rows=rows)
    train(data=stage.output, lr=lr)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--nested"]):
        sys.exit("usage: kfp_pipeline.py OUTPUT.yaml [--nested]")
    pipeline = tiny_train_nested if sys.argv[2:] == ["--nested"] else tiny_train
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=sys.argv[1])
    print("wrote", sys.argv[1])
