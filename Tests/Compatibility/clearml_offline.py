#!/usr/bin/env python3
"""Produce a real ClearML *offline session* for importer tests.

Usage:
    python clearml_offline.py OUTPUT_DIR [--repo REPO_DIR] [--inject-input-model]
                                                 [--offline-api VERSION]

What it does
------------
1. Creates a tiny git repository (default: OUTPUT_DIR/repo) with a committed
   ``train.py`` and a remote ``origin``, then appends an *uncommitted* line to
   ``train.py`` so that ClearML captures a non-empty ``script.diff``.
   Author/committer identity and dates are fixed, so the commit hash is stable.
2. Runs that ``train.py`` with the same Python interpreter, in a sandboxed
   environment:
     * ``HOME=OUTPUT_DIR/home``, ``CLEARML_CONFIG_FILE=OUTPUT_DIR/home/clearml.conf``
                                        -> only our tiny config is used (see CLEARML_CONF)
     * ``CLEARML_CACHE_DIR=OUTPUT_DIR/cache``
                                        -> the session lands in
                                           OUTPUT_DIR/cache/offline/<task_id>/
                                           and OUTPUT_DIR/cache/offline/<task_id>.zip
     * ``CLEARML_OFFLINE_MODE=1``      -> no server is ever contacted
                                           (``--offline-api`` overrides the value)
   ``train.py`` itself also calls ``Task.set_offline(True)`` (belt and braces).
3. Prints the session folder and zip path (also written to
   OUTPUT_DIR/session.txt as two lines: folder, zip).

Not deterministic (by ClearML design): the task id (``offline-<uuid4 hex>``),
the output-model id, timestamps, and the absolute paths embedded in task.json.
"""
import argparse
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# The training script that is committed into the git repo and executed.
# It is written to disk verbatim; it exercises every feature the importer
# should understand (hyper-params, configuration, scalars, console log,
# artifact, output model; input model is attempted, see below).
TRAIN_PY = textwrap.dedent(
    '''\
    """Toy 'fraud' training script run under ClearML offline mode."""
    import os
    from pathlib import Path

    from clearml import InputModel, OutputModel, Task

    work = Path(os.environ["CLEARML_SAMPLE_WORK"])  # scratch dir for input files

    Task.set_offline(True)
    task = Task.init(
        project_name="fraud",
        task_name="train-fraud",
        # keep the session small/predictable: no framework auto-hooks
        auto_connect_frameworks=False,
        auto_resource_monitoring=False,
    )

    # --- hyper-parameters -------------------------------------------------
    # NOTE: set_parameters() REPLACES all hyper-params (offline too), so it is
    # called first; connect() afterwards adds the "General" and "data" sections.
    task.set_parameters({"Args/batch_size": 32, "Args/optimizer": "sgd"})
    params = task.connect({"lr": 0.1, "epochs": 3, "api_key": "hunter2-clearml"})  # section "General"
    data_cfg = task.connect({"path": "data/train.csv", "rows": 4, "shuffle": True},
                            name="data")                       # section "data"

    # --- configuration object (task.configuration, not hyperparams) ------
    task.connect_configuration({"layers": [16, 8], "dropout": 0.2}, name="model_config",
                               description="network definition")

    # --- scalars ----------------------------------------------------------
    logger = task.get_logger()
    for i in range(params["epochs"]):
        logger.report_scalar("loss", "train", value=1.0 / (i + 1), iteration=i)
        logger.report_scalar("loss", "val", value=1.5 / (i + 1), iteration=i)
    logger.report_single_value("best_val_loss", 0.5)  # summary scalar
    logger.report_text("training finished")            # -> log.jsonl

    # --- artifact ---------------------------------------------------------
    csv = work / "train.csv"
    csv.write_text("amount,label\\n10.0,0\\n9999.5,1\\n3.2,0\\n120.0,0\\n")
    task.upload_artifact("train-data", artifact_object=str(csv), wait_on_upload=True)

    # --- input model ------------------------------------------------------
    base = work / "base.bin"
    base.write_bytes(b"base-weights\\n")
    # NOTE: InputModel.import_model() queries the server (models.get_all) and
    # fails in offline mode (Session.send() returns None -> AttributeError).
    # Task.set_input_model() needs the server as well. So a genuine offline
    # session never carries an input model; we record the failure and go on.
    try:
        input_model = InputModel.import_model(weights_url=base.as_uri(), name="base")
        task.connect(input_model)
    except Exception as ex:  # expected in offline mode
        print(f"INPUT_MODEL_UNSUPPORTED_OFFLINE: {type(ex).__name__}: {ex}")
        if os.environ.get("CLEARML_SAMPLE_INJECT_INPUT_MODEL") == "1":
            # Opt-in, SYNTHETIC: offline sessions use the API-2.9 task schema,
            # where Task.set_input_model() stores the input model id in
            # execution.model (API >= 2.13 would use models.input instead).
            # Write that field via private API so importers can be tested.
            task.data.execution.model = "offline-input-model-base"
            task._edit(execution=task.data.execution)

    # --- output model -----------------------------------------------------
    weights = work / "model.bin"
    weights.write_bytes(b"trained-weights\\n")
    output_model = OutputModel(task=task, framework="PyTorch", name="fraud-model")
    try:
        output_model.update_weights(weights_filename=str(weights), auto_delete_file=False)
    except AttributeError as ex:
        # clearml 2.1.x bug: update_weights() first checks `self.published`,
        # which in offline mode hits DummyModel.locked (missing attribute).
        # The very next thing update_weights() would do offline is this call,
        # so the on-disk result is identical to a working update_weights().
        print(f"OUTPUT_MODEL_UPDATE_WEIGHTS_BUG: {type(ex).__name__}: {ex}")
        output_model._update_weights_offline(weights_filename=str(weights))

    print("OFFLINE_FOLDER=" + str(task.get_offline_mode_folder()))
    task.close()
    '''
)

# Fixed git identity/dates => stable commit hash.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Sample Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Sample Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1",
}


# Private clearml.conf (pointed to by CLEARML_CONFIG_FILE, also at $HOME).
# vcs_repo_detect_async=false: detect repo/diff/requirements synchronously in
#   Task.init. The default async thread runs `git` via subprocess while ClearML
#   forks its reporter process; the fork inherits Popen's exec-status pipe and
#   the detection thread can hang until Task.close() gives up after 300 s,
#   leaving script.* EMPTY. Sync detection makes the output reliable.
# report_use_subprocess=false: report from a thread, not a forked process.
CLEARML_CONF = textwrap.dedent(
    """\
    sdk {
        development {
            vcs_repo_detect_async: false
            report_use_subprocess: false
        }
    }
    """
)


def git(repo: Path, *args: str, env: dict) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)


def make_repo(repo: Path, env: dict) -> None:
    """Fresh repo: commit train.py on branch 'main', then leave a local edit."""
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "remote", "add", "origin", "https://github.com/example/fraud-detection.git", env=env)
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "requirements.txt").write_text("clearml\n")
    git(repo, "add", "train.py", "requirements.txt", env=env)
    git(repo, "commit", "-q", "-m", "initial training script", env=env)
    # uncommitted change -> script.diff
    with open(repo / "train.py", "a") as f:
        f.write("# local tweak: not committed yet\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output_dir", type=Path)
    ap.add_argument("--repo", type=Path, default=None, help="git repo location (default OUTPUT_DIR/repo)")
    ap.add_argument("--inject-input-model", action="store_true",
                    help="SYNTHETIC: also write execution.model into task.json via private API "
                         "(a real offline session cannot contain input models)")
    ap.add_argument("--offline-api", default="1",
                    help="value for CLEARML_OFFLINE_MODE; '1' = default task schema (API 2.9), "
                         "a version such as '2.23' makes ClearML use that schema offline")
    args = ap.parse_args()

    out = args.output_dir.resolve()
    repo = (args.repo or out / "repo").resolve()
    home, cache, work = out / "home", out / "cache", out / "work"
    for d in (cache, work):  # start clean so there is exactly one session
        shutil.rmtree(d, ignore_errors=True)
    for d in (home, cache, work):
        d.mkdir(parents=True, exist_ok=True)

    (home / "clearml.conf").write_text(CLEARML_CONF)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_", "GIT_"))}
    env.update(GIT_ENV)
    env.update(
        HOME=str(home),
        CLEARML_CONFIG_FILE=str(home / "clearml.conf"),
        CLEARML_CACHE_DIR=str(cache),
        CLEARML_OFFLINE_MODE=args.offline_api,
        CLEARML_SAMPLE_WORK=str(work),
        PYTHONHASHSEED="0",
        TZ="UTC",
    )
    if args.inject_input_model:
        env["CLEARML_SAMPLE_INJECT_INPUT_MODEL"] = "1"
    make_repo(repo, env)

    proc = subprocess.run([sys.executable, "train.py"], cwd=repo, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        return proc.returncode

    sessions = sorted(p for p in (cache / "offline").iterdir() if p.is_dir())
    if len(sessions) != 1:
        print(f"expected one session folder, found {sessions}", file=sys.stderr)
        return 1
    folder = sessions[0]
    zip_path = folder.with_name(folder.name + ".zip")
    (out / "session.txt").write_text(f"{folder}\n{zip_path}\n")
    print(f"session folder: {folder}\nsession zip:    {zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
