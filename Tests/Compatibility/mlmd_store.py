#!/usr/bin/env python3
"""Record a small, real ML Metadata (MLMD) lineage graph (SQLite file or MySQL).

Usage: python mlmd_store.py STORE.sqlite
       python mlmd_store.py mysql://USER:PASSWORD@HOST:PORT/DATABASE   (MySQL/MariaDB backend)
       python mlmd_store.py --grow STORE.sqlite   (adds an evaluation of model v2 to an existing store)

Graph written (ids are assigned by MLMD, in this order):
    Dataset /data/train.csv  --INPUT-->  Trainer#1 (train)     --OUTPUT--> Model v1
    Model v1                 --INPUT-->  Trainer#2 (fine-tune) --OUTPUT--> Model v2
Context 'pipeline-run-1' (PipelineRun) attributes all three artifacts and is
associated with both executions; its parent context is 'tiny-train' (Pipeline).
Requires: pip install ml-metadata   (tested with 1.17.1, protobuf 4.x)
"""
import hashlib
import os
import sys
from urllib.parse import urlparse

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

STRING, INT, DOUBLE = pb.STRING, pb.INT, pb.DOUBLE


def open_store(target, fresh=True):
    """Open (creating if needed) an MLMD store: an SQLite file, or a mysql:// URL."""
    cfg = pb.ConnectionConfig()
    if target.startswith("mysql://"):
        u = urlparse(target)
        cfg.mysql.host = u.hostname
        cfg.mysql.port = u.port or 3306
        cfg.mysql.user = u.username
        cfg.mysql.password = u.password or ""
        cfg.mysql.database = u.path.lstrip("/")
    else:
        if fresh and os.path.exists(target):
            os.remove(target)  # start from an empty store
        cfg.sqlite.filename_uri = target
        cfg.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(cfg)


def make_type(cls, name, **props):
    """Build an ArtifactType/ExecutionType/ContextType with declared properties."""
    t = cls(name=name)
    for key, value_type in props.items():
        t.properties[key] = value_type
    return t


def sha256_of(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


def event(kind, artifact_id, execution_id, key):
    """An Event whose path is one step {key: <input/output name>}, as KFP writes it."""
    e = pb.Event(type=kind, artifact_id=artifact_id, execution_id=execution_id)
    e.path.steps.add().key = key
    return e


def main(target):
    store = open_store(target)

    # A small real file so the dataset's digest is a genuine sha256
    # (written to ./data/train.csv, next to the SQLite file or in the cwd).
    base = os.getcwd() if target.startswith("mysql://") else os.path.dirname(os.path.abspath(target))
    data_dir = os.path.join(base, "data")
    os.makedirs(data_dir, exist_ok=True)
    csv_path = os.path.join(data_dir, "train.csv")
    with open(csv_path, "w") as f:
        f.write("x,y\n1,2\n3,4\n5,6\n")
    digest = sha256_of(csv_path)

    # ---- types -------------------------------------------------------------
    dataset_t = store.put_artifact_type(make_type(pb.ArtifactType, "Dataset", version=STRING))
    model_t = store.put_artifact_type(make_type(pb.ArtifactType, "Model", version=STRING))
    trainer_t = store.put_execution_type(make_type(pb.ExecutionType, "Trainer", lr=DOUBLE, epochs=INT))
    pipeline_t = store.put_context_type(make_type(pb.ContextType, "Pipeline"))
    run_t = store.put_context_type(make_type(pb.ContextType, "PipelineRun"))

    # ---- run 1: train ------------------------------------------------------
    dataset = pb.Artifact(type_id=dataset_t, uri="/data/train.csv", name="train-data",
                          state=pb.Artifact.LIVE)
    dataset.properties["version"].string_value = "1"
    dataset.custom_properties["digest"].string_value = digest
    [dataset_id] = store.put_artifacts([dataset])

    model1 = pb.Artifact(type_id=model_t, uri="/models/model-v1", name="model-v1",
                         state=pb.Artifact.LIVE)
    model1.properties["version"].string_value = "v1"
    model1.custom_properties["accuracy"].double_value = 0.91
    model1.custom_properties["framework"].string_value = "none"

    train = pb.Execution(type_id=trainer_t, name="train-1",
                         last_known_state=pb.Execution.COMPLETE)
    train.properties["lr"].double_value = 0.1
    train.properties["epochs"].int_value = 3
    train.custom_properties["git_commit"].string_value = "3f2c1a9e"
    train.custom_properties["dirty"].bool_value = False
    # struct_value (like KFP's "inputs" parameter map); MLMD stores it in
    # string_value as "mlmd-struct::" + base64(serialized google.protobuf.Struct).
    train.custom_properties["inputs"].struct_value.update({"lr": 0.1, "epochs": 3})

    # Contexts: the Pipeline and its run, with a run -> pipeline parent link.
    [pipeline_id] = store.put_contexts([pb.Context(type_id=pipeline_t, name="tiny-train")])
    run = pb.Context(type_id=run_t, name="pipeline-run-1")
    run.custom_properties["pipeline_name"].string_value = "tiny-train"
    [run_id] = store.put_contexts([run])
    store.put_parent_contexts([pb.ParentContext(child_id=run_id, parent_id=pipeline_id)])

    [model1_id] = store.put_artifacts([model1])
    [train_id] = store.put_executions([train])
    store.put_events([
        event(pb.Event.INPUT, dataset_id, train_id, "data"),
        event(pb.Event.OUTPUT, model1_id, train_id, "model"),
    ])

    # ---- run 2: fine-tune (model v1 -> model v2), gives a parent lineage ---
    model2 = pb.Artifact(type_id=model_t, uri="/models/model-v2", name="model-v2",
                         state=pb.Artifact.LIVE)
    model2.properties["version"].string_value = "v2"
    model2.custom_properties["accuracy"].double_value = 0.93
    model2.custom_properties["epochs_total"].int_value = 4
    # A string with a quote, double quotes, a newline, a backslash and non-ASCII,
    # to exercise SQL-dump string escaping in parsers.
    model2.custom_properties["note"].string_value = 'it\'s "v2"\nfrom C:\\tmp caf\u00e9'

    finetune = pb.Execution(type_id=trainer_t, name="finetune-1",
                            last_known_state=pb.Execution.COMPLETE)
    finetune.properties["lr"].double_value = 0.01
    finetune.properties["epochs"].int_value = 1
    finetune.custom_properties["git_commit"].string_value = "3f2c1a9e"

    [model2_id] = store.put_artifacts([model2])
    [ft_id] = store.put_executions([finetune])
    store.put_events([
        event(pb.Event.INPUT, model1_id, ft_id, "base_model"),
        event(pb.Event.OUTPUT, model2_id, ft_id, "model"),
    ])

    # Attribution = artifact in context; Association = execution in context.
    store.put_attributions_and_associations(
        [pb.Attribution(artifact_id=a, context_id=run_id)
         for a in (dataset_id, model1_id, model2_id)],
        [pb.Association(execution_id=e, context_id=run_id) for e in (train_id, ft_id)],
    )

    print(f"wrote {target}: dataset={dataset_id} model1={model1_id} model2={model2_id} "
          f"executions={train_id},{ft_id} contexts pipeline={pipeline_id} run={run_id} "
          f"digest={digest}")


def grow(target):
    """The store after one more execution: an evaluation that reads model v2 and writes metrics."""
    store = open_store(target, fresh=False)
    [model2] = [a for a in store.get_artifacts() if a.name == "model-v2"]
    evaluator_t = store.put_execution_type(make_type(pb.ExecutionType, "Evaluator"))
    metrics_t = store.put_artifact_type(make_type(pb.ArtifactType, "Metrics"))
    metrics = pb.Artifact(type_id=metrics_t, uri="/metrics/eval-1.json", name="eval-metrics", state=pb.Artifact.LIVE)
    metrics.custom_properties["auc"].double_value = 0.95
    evaluate = pb.Execution(type_id=evaluator_t, name="evaluate-1", last_known_state=pb.Execution.FAILED)
    [metrics_id] = store.put_artifacts([metrics])
    [evaluate_id] = store.put_executions([evaluate])
    store.put_events([event(pb.Event.INPUT, model2.id, evaluate_id, "model"), event(pb.Event.OUTPUT, metrics_id, evaluate_id, "metrics")])
    print(f"grew {target}: execution={evaluate_id} metrics={metrics_id}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--grow":
        grow(sys.argv[2])
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit("usage: mlmd_store.py STORE.sqlite | mysql://USER:PW@HOST:PORT/DB | --grow STORE.sqlite")
