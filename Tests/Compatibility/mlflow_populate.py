"""Populates a real MLflow tracking server with the official client, as an ML team's history looks there: a
run with parameters (one a secret), metrics and a logged dataset; an autologged scikit-learn model registered as
a version; a second version and an alias moved between them; a stage; a fine-tune run whose input is the logged
model. Prints the ids the Swift import test checks Pedigree's records with.

usage: mlflow_populate.py TRACKING_URI    (run inside a git checkout, so the client sets code tags)
"""
import json
import os
import sys
import tempfile
import warnings

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import LoggedModelInput
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")
mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
out = {"mlflow": mlflow.__version__}

scratch = tempfile.mkdtemp()
train_csv = os.path.join(scratch, "train.csv")
frame = pd.DataFrame({"x1": np.linspace(0, 1, 40), "x2": np.linspace(1, 0, 40), "y": [0, 1] * 20})
frame.to_csv(train_csv, index=False)
dataset = mlflow.data.from_pandas(frame, source=train_csv, name="train-set")
out["dataset_digest"] = dataset.digest

mlflow.set_experiment("fraud-basic")
with mlflow.start_run(run_name="basic-run") as run:
    mlflow.log_params({"lr": 0.01, "optimizer.name": "adam", "api_key": "hunter2"})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("team", "ml")
    mlflow.log_input(dataset, context="training")
    out["basic_run"] = run.info.run_id

mlflow.set_experiment("fraud-autolog")
mlflow.sklearn.autolog(registered_model_name="fraud-skl")
with mlflow.start_run(run_name="sklearn-autolog") as run:
    mlflow.log_input(dataset, context="training")
    LogisticRegression(C=0.5, max_iter=200).fit(frame[["x1", "x2"]], frame["y"])
    out["autolog_run"] = run.info.run_id
mlflow.sklearn.autolog(disable=True)

version = client.search_model_versions("name = 'fraud-skl'")[0]
assert version.run_id == out["autolog_run"], version
second = mlflow.register_model(version.source, "fraud-skl")
client.set_registered_model_alias("fraud-skl", "champion", "1")
client.set_registered_model_alias("fraud-skl", "champion", second.version)
client.set_registered_model_alias("fraud-skl", "previous", "1")
client.transition_model_version_stage("fraud-skl", second.version, "Production")

base = client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{out['autolog_run']}'")[0]
out["base_model"] = base.model_id
tuned = client.create_run(run.info.experiment_id, run_name="fine-tune")
client.log_inputs(tuned.info.run_id, models=[LoggedModelInput(base.model_id)])
client.set_terminated(tuned.info.run_id)
out["tuned_run"] = tuned.info.run_id

print(json.dumps(out))
