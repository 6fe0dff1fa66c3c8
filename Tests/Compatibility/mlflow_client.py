"""Drives a Pedigree server with the official MLflow client, as ML teams use it: fluent logging, sklearn
autolog with model registration, generic autolog, the registry through MlflowClient, searches, read-back
and deletes. Every client call must succeed (or fail exactly as MLflow's own server would); the script
asserts what the client reads back, then prints the ids the Swift test checks Pedigree's own queries with.

usage: mlflow_client.py TRACKING_URI    (run inside a git checkout, so the client sets code tags)
"""
import json
import os
import sys
import tempfile

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from sklearn.linear_model import LogisticRegression

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
client = MlflowClient()
out = {"mlflow": mlflow.__version__}


def expect_error(code, call):
    try:
        call()
    except (MlflowException, RestException) as error:
        assert error.error_code == code, f"expected {code}, got {error.error_code}: {error}"
        return
    raise AssertionError(f"expected {code}, but the call succeeded")


# -- a basic run: params, metrics with steps, tags, a dataset, files and a directory of files --------
mlflow.set_experiment("compat-basic")
scratch = tempfile.mkdtemp()
train_csv = os.path.join(scratch, "train.csv")
frame = pd.DataFrame({"x1": np.linspace(0, 1, 40), "x2": np.linspace(1, 0, 40), "y": [0, 1] * 20})
frame.to_csv(train_csv, index=False)
with mlflow.start_run(run_name="basic-run", description="compatibility suite") as run:
    mlflow.log_param("seed", 42)
    mlflow.log_params({"lr": 0.01, "optimizer.name": "adam", "optimizer.momentum": 0.9, "api_key": "hunter2"})
    for step in range(5):
        mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": 0.5 + 0.1 * step}, step=step)
    mlflow.log_metric("final_loss", 0.2)
    mlflow.set_tags({"team": "ml", "stage": "dev"})
    mlflow.log_input(mlflow.data.from_pandas(frame, source=train_csv, name="train-set"), context="training")
    notes = os.path.join(scratch, "notes.txt")
    with open(notes, "w") as f:
        f.write("hello artifact\n")
    mlflow.log_artifact(notes)
    os.makedirs(os.path.join(scratch, "config/nested"))
    with open(os.path.join(scratch, "config/nested/params.json"), "w") as f:
        json.dump({"lr": 0.01}, f)
    mlflow.log_artifacts(os.path.join(scratch, "config"), artifact_path="config")
    basic_id = run.info.run_id

fetched = client.get_run(basic_id)
assert fetched.info.status == "FINISHED", fetched.info.status
assert fetched.info.run_name == "basic-run"
assert fetched.data.params["seed"] == "42" and fetched.data.params["optimizer.name"] == "adam", fetched.data.params
assert fetched.data.params["api_key"] == "[REDACTED]", "a secret parameter must not be stored"
assert fetched.data.metrics["loss"] == 0.2 and fetched.data.metrics["acc"] == 0.9, fetched.data.metrics
assert fetched.data.tags["team"] == "ml" and fetched.data.tags["mlflow.note.content"] == "compatibility suite"
assert "mlflow.source.git.commit" in fetched.data.tags, "the client sets git tags inside a checkout"
history = client.get_metric_history(basic_id, "loss")
assert [(m.step, round(m.value, 4)) for m in history] == [(s, round(1.0 / (s + 1), 4)) for s in range(5)], history
assert sorted(f.path for f in client.list_artifacts(basic_id)) == ["config", "notes.txt"]
assert [f.path for f in client.list_artifacts(basic_id, "config/nested")] == ["config/nested/params.json"]
with open(mlflow.artifacts.download_artifacts(run_id=basic_id, artifact_path="notes.txt")) as f:
    assert f.read() == "hello artifact\n"
assert fetched.inputs.dataset_inputs[0].dataset.name == "train-set"
out["basic_run"] = basic_id

mlflow.set_experiment("compat-autolog")
# -- generic autolog (first: a flavor's own autolog settings outlast mlflow.autolog) -----------------------------------------------------------------------------------
mlflow.autolog()
features, labels = frame[["x1", "x2"]], frame["y"]
with mlflow.start_run(run_name="generic-autolog") as run:
    LogisticRegression(C=2.0).fit(features, labels)
    generic_id = run.info.run_id
mlflow.autolog(disable=True)
assert client.get_run(generic_id).data.params["C"] == "2.0"
assert client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{generic_id}'"), "no logged model"

# -- sklearn autolog, registering the model; it loads back and predicts the same ----------------------
mlflow.set_experiment("compat-autolog")
mlflow.sklearn.autolog(registered_model_name="compat-skl", disable=False)
features, labels = frame[["x1", "x2"]], frame["y"]
with mlflow.start_run(run_name="sklearn-autolog") as run:
    mlflow.log_input(mlflow.data.from_pandas(frame, source=train_csv, name="train-set"), context="training")
    model = LogisticRegression(C=0.5, max_iter=200).fit(features, labels)
    autolog_id = run.info.run_id
mlflow.sklearn.autolog(disable=True)
expected = model.predict_proba(features)
loaded = mlflow.pyfunc.load_model("models:/compat-skl/1")
predicted = loaded.predict(features)
assert np.array_equal(np.asarray(predicted), model.predict(features)), "the registered model predicts differently"
reloaded = mlflow.sklearn.load_model("models:/compat-skl/1")
assert np.allclose(reloaded.predict_proba(features), expected)
autolog_run = client.get_run(autolog_id)
assert autolog_run.data.params["C"] == "0.5" and "training_score" in autolog_run.data.metrics, autolog_run.data
version = client.get_model_version("compat-skl", "1")
assert version.run_id == autolog_id and version.status == "READY", version
out["autolog_run"] = autolog_id

# -- the registry through MlflowClient -------------------------------------------------------------------
registry = "compat-registry"
client.create_registered_model(registry, tags={"owner": "me"}, description="registry scenario")
expect_error("RESOURCE_ALREADY_EXISTS", lambda: client.create_registered_model(registry))
source = client.get_model_version("compat-skl", "1").source
v1 = client.create_model_version(registry, source, run_id=autolog_id, tags={"via": "client"}, description="first")
v2 = client.create_model_version(registry, source, run_id=autolog_id)
assert (v1.version, v2.version, v1.status) == ("1", "2", "READY"), (v1, v2)
client.set_registered_model_alias(registry, "champion", "1")
client.set_registered_model_alias(registry, "champion", "2")
client.set_registered_model_alias(registry, "tmp", "1")
assert client.get_model_version_by_alias(registry, "champion").version == "2"
client.delete_registered_model_alias(registry, "tmp")
expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version_by_alias(registry, "tmp"))
client.set_model_version_tag(registry, "1", "validated", "true")
client.delete_model_version_tag(registry, "1", "validated")
client.set_registered_model_tag(registry, "domain", "fraud")
client.delete_registered_model_tag(registry, "domain")
client.update_model_version(registry, "2", description="second")
client.update_registered_model(registry, description="updated")
client.transition_model_version_stage(registry, "1", "Staging")
client.transition_model_version_stage(registry, "2", "Production", archive_existing_versions=True)
assert client.get_model_version(registry, "2").current_stage == "Production"
latest = {v.current_stage: v.version for v in client.get_latest_versions(registry)}
assert latest == {"Staging": "1", "Production": "2"}, latest
assert [m.name for m in client.search_registered_models(filter_string=f"name = '{registry}'")] == [registry]
assert sorted(v.version for v in client.search_model_versions(f"name = '{registry}'")) == ["1", "2"]
assert client.get_model_version_download_uri(registry, "1").startswith("mlflow-artifacts:/")
assert client.get_registered_model(registry).description == "updated"
client.rename_registered_model(registry, "compat-renamed")
assert client.get_model_version("compat-renamed", "2").description == "second"
expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(registry))
out["registry"] = "compat-renamed"

# -- searches: the filter and order_by grammar -----------------------------------------------------------
mlflow.set_experiment("compat-search")
for i, (lr, loss) in enumerate([(0.1, 0.9), (0.01, 0.5), (0.001, 0.2)]):
    with mlflow.start_run(run_name=f"search-{i}"):
        mlflow.log_params({"lr": lr, "model type": "lin"})
        mlflow.log_metric("loss", loss)
        mlflow.set_tag("group", "a" if i < 2 else "b")
found = mlflow.search_runs(experiment_names=["compat-search"], filter_string="metrics.loss < 0.6 and tags.group = 'a'", output_format="list")
assert [r.info.run_name for r in found] == ["search-1"], [r.info.run_name for r in found]
ordered = mlflow.search_runs(experiment_names=["compat-search"], order_by=["metrics.loss ASC"], output_format="list")
assert [r.info.run_name for r in ordered] == ["search-2", "search-1", "search-0"]
quoted = mlflow.search_runs(experiment_names=["compat-search"], filter_string="params.`model type` = 'lin' and attributes.run_name LIKE 'search-%'", output_format="list")
assert len(quoted) == 3
in_list = mlflow.search_runs(experiment_names=["compat-search"], filter_string="params.lr IN ('0.1', '0.001')", output_format="list")
assert sorted(r.info.run_name for r in in_list) == ["search-0", "search-2"]
frame_result = mlflow.search_runs(experiment_names=["compat-search"], filter_string="metrics.loss >= 0.5")
assert len(frame_result) == 2
page = client.search_runs([found[0].info.experiment_id], max_results=2)
assert len(page) == 2 and page.token, "paging"
assert len(client.search_runs([found[0].info.experiment_id], max_results=2, page_token=page.token)) == 1
expect_error("INVALID_PARAMETER_VALUE", lambda: client.search_runs([found[0].info.experiment_id], filter_string="metrics.loss << 1"))
assert [e.name for e in client.search_experiments(filter_string="name LIKE 'compat-%'", order_by=["name"])][:2] == ["compat-autolog", "compat-basic"]

# -- deletes are tombstones: gone from listings, still in the trail --------------------------------------
doomed = client.create_run(found[0].info.experiment_id, run_name="doomed").info.run_id
client.delete_run(doomed)
assert doomed not in [r.info.run_id for r in client.search_runs([found[0].info.experiment_id])]
assert client.get_run(doomed).info.lifecycle_stage == "deleted"
client.restore_run(doomed)
client.delete_run(doomed)
scratch_experiment = client.create_experiment("compat-scratch")
client.delete_experiment(scratch_experiment)
assert "compat-scratch" not in [e.name for e in client.search_experiments()]
out["deleted_run"] = doomed

# -- the rest of the registry and experiment calls: deletes, renames, tags, model inputs ------------------
doomed_model = "compat-doomed"
client.create_registered_model(doomed_model)
client.create_model_version(doomed_model, source, run_id=autolog_id)
client.delete_model_version(doomed_model, "1")
expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_model_version(doomed_model, "1"))
client.delete_registered_model(doomed_model)
expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_registered_model(doomed_model))
renamed_experiment = client.create_experiment("compat-to-rename", tags={"k": "v"})
client.rename_experiment(renamed_experiment, "compat-renamed-experiment")
client.set_experiment_tag(renamed_experiment, "owner", "ml")
assert client.get_experiment_by_name("compat-renamed-experiment").tags == {"k": "v", "owner": "ml"}
from mlflow.entities import LoggedModelInput

tuned = client.create_run(renamed_experiment, run_name="fine-tune")
client.set_tag(tuned.info.run_id, "temporary", "x")
client.delete_tag(tuned.info.run_id, "temporary")
base_model = client.search_logged_models(experiment_ids=[autolog_run.info.experiment_id], filter_string=f"source_run_id = '{autolog_id}'")[0]
client.log_inputs(tuned.info.run_id, models=[LoggedModelInput(base_model.model_id)])
assert [m.model_id for m in client.get_run(tuned.info.run_id).inputs.model_inputs] == [base_model.model_id]
assert "temporary" not in client.get_run(tuned.info.run_id).data.tags
client.set_terminated(tuned.info.run_id)
out["tuned_run"] = tuned.info.run_id
out["base_model"] = f"model:default/{base_model.name}@{base_model.model_id}"

# -- errors the client branches on -------------------------------------------------------------------------
expect_error("RESOURCE_DOES_NOT_EXIST", lambda: client.get_run("0" * 32))
expect_error("INVALID_PARAMETER_VALUE", lambda: client.log_param(basic_id, "seed", "43"))

print(json.dumps(out))
