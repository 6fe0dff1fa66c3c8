"""Writes two real W&B offline runs with the official client, as a team without a server records them: a
"prepare" run that logs its config (one value a secret), metrics and a dataset artifact; a "train" run that
uses that dataset and logs a model artifact. Prints, as its last stdout line, one JSON object with the run ids
and directories and the artifacts' names, types and digests as wandb computed them, for the Swift import test.

usage: wandb_offline.py PROJECT_DIR    (an existing git checkout; the runs land in PROJECT_DIR/wandb/)

Offline, `Run.use_artifact` refuses every argument ("TypeError: Cannot use artifact when in offline mode."),
by name and by Artifact object alike. For an unsaved (draft) Artifact object wandb's own use_artifact calls
`Run._log_artifact(artifact, is_user_created=True, use_after_commit=True)`: offline that writes an
ArtifactRecord with use_after_commit set, which `wandb sync` turns into a use of the (deduplicated by digest)
version. The train run records its input that way, with an identical Artifact built afresh, as a second
process would, so it links to the prepare run's artifact by type, name and digest only.
"""
import json
import os
import subprocess
import sys

project_dir = os.path.abspath(sys.argv[1])
home = os.path.join(project_dir, ".wandb-home")
os.environ.update(WANDB_MODE="offline", WANDB_DIR=project_dir, WANDB_SILENT="true", WANDB_ERROR_REPORTING="false")
# wandb's staging area (the artifacts' file copies, which the manifests' local_path fields point at), its cache
# and its settings stay inside the project unless the caller placed them elsewhere.
os.environ.setdefault("WANDB_DATA_DIR", os.path.join(home, "data"))
os.environ.setdefault("WANDB_CACHE_DIR", os.path.join(home, "cache"))
os.environ.setdefault("WANDB_CONFIG_DIR", os.path.join(home, "config"))
os.chdir(project_dir)  # wandb takes the git commit and remote from the working directory's checkout

import wandb  # noqa: E402

PROJECT = "fraud-detection"
FEATURES = [f"feature_{i:05d}" for i in range(4000)]  # the model's inputs: makes a record span three blocks


def settings():
    # A fresh object per run: wandb.init writes the run's group, notes and tags into the Settings it is given,
    # so a shared one carries them into the next run.
    return wandb.Settings(x_disable_stats=True, console="wrap")


def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def dataset_artifact():
    artifact = wandb.Artifact("train-set", type="dataset", description="Labelled transactions",
                              metadata={"rows": 4, "source": "data/train.csv"})
    artifact.add_file("data/train.csv")
    artifact.add_file("data/labels.json", name="meta/labels.json")
    return artifact


def describe(artifact, run, role):
    return {
        "run": run.id, "role": role, "name": artifact.name, "type": artifact.type, "digest": artifact.digest,
        "entries": [{"path": path, "digest": entry.digest, "size": entry.size, "local_path": entry.local_path}
                    for path, entry in sorted(artifact.manifest.entries.items())],
    }


def describe_run(run):
    directory = os.path.dirname(run.settings.sync_file)
    return {"id": run.id, "name": run.name, "job_type": run.job_type, "dir": directory,
            "wandb_file": run.settings.sync_file}


out = {"wandb": wandb.__version__, "project": PROJECT, "secret_config": {"api_key": "hunter2"},
       "commit": subprocess.check_output(["git", "rev-parse", "HEAD"], text=True).strip()}
write("data/train.csv", b"amount,merchant,label\n12.5,acme,0\n990.0,shady,1\n3.2,acme,0\n47.0,corner,0\n")
write("data/labels.json", b'{"0": "legit", "1": "fraud"}\n')

prepare = wandb.init(project=PROJECT, name="prepare", job_type="prepare", group="fraud-v1", tags=["baseline"],
                     notes="Builds the training set.", settings=settings(),
                     config={"lr": 0.01, "epochs": 3, "optimizer": {"name": "adam", "betas": [0.9, 0.999]},
                             "split": "2024-q1", **out["secret_config"]})
for step in range(3):
    print(f"prepare step {step}")
    prepare.log({"rows_seen": 4 * (step + 1), "null_fraction": 0.1 / (step + 1)})
prepare.config.update({"rows": 4})  # a config change after init: a ConfigRecord of its own
prepare.summary["rows"] = 4
dataset = dataset_artifact()
prepare.log_artifact(dataset)
out["artifacts"] = [describe(dataset, prepare, "output")]
prepare.finish()

train = wandb.init(project=PROJECT, name="train", job_type="train", group="fraud-v1", settings=settings(),
                   config={"lr": 0.02, "epochs": 2, "batch_size": 32, "dataset": "train-set:latest"})
used = dataset_artifact()
try:
    train.use_artifact(used)  # refused offline; a wandb that accepts it writes the same record itself
except TypeError as error:
    out["use_artifact_offline_error"] = f"{type(error).__name__}: {error}"
    # What use_artifact does for a draft Artifact (see the docstring): an ArtifactRecord with use_after_commit.
    train._log_artifact(used, is_user_created=True, use_after_commit=True)
out["artifacts"].append(describe(used, train, "input"))
for epoch in range(2):
    print(f"train epoch {epoch}")
    train.log({"loss": 0.7 / (epoch + 1), "accuracy": 0.8 + 0.05 * epoch})
train.summary["best_accuracy"] = 0.85
write("model/model.pkl", b"\x80\x04fraud-model-weights\x00\x01\x02")
model = wandb.Artifact("fraud-model", type="model", metadata={"framework": "sklearn", "features": FEATURES})
model.add_file("model/model.pkl")
train.log_artifact(model, aliases=["best"])
out["artifacts"].append(describe(model, train, "output"))
train.finish()
wandb.teardown()

out["runs"] = {"prepare": describe_run(prepare), "train": describe_run(train)}
print(json.dumps(out))
