"""The Python library against the real `pedigree` binary ($PEDIGREE_BIN) and a real `pedigree serve`.

Each training script runs in a process of its own, as training does, so what is recorded is what the library
hands over by the time the process exits."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

BINARY = os.environ.get("PEDIGREE_BIN", "")
SOURCE = str(Path(__file__).resolve().parent.parent / "src")

pytestmark = pytest.mark.skipif(not BINARY or not os.access(BINARY, os.X_OK), reason="set PEDIGREE_BIN to the built pedigree binary")


class Project:
    """A git repository with training data, its own store and spool."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "data").mkdir()
        (root / "data" / "train.csv").write_text("amount,label\n10,0\n99,1\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PEDIGREE_")}
        self.env.update(
            PEDIGREE_BIN=BINARY,
            PEDIGREE_STORE=str(root / "store" / "pedigree.db"),
            PEDIGREE_HOME=str(root / "home"),
            PYTHONPATH=SOURCE + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=ml@example.com", "-c", "user.name=ML", "commit", "-qm", "data"]):
            subprocess.run(["git", *command], cwd=root, check=True)

    def python(self, code: str, name: str = "train.py", **env: str) -> subprocess.CompletedProcess:
        script = self.root / name
        script.write_text(textwrap.dedent(code))
        return subprocess.run([sys.executable, name], cwd=self.root, env={**self.env, **env}, capture_output=True, text=True, timeout=600)

    def pedigree(self, *arguments: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([BINARY, *arguments], cwd=self.root, env={**self.env, **env}, capture_output=True, text=True, timeout=600)

    def show(self, ref: str) -> Dict[str, Any]:
        shown = self.pedigree("show", ref, "--json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    def run_events(self) -> List[Dict[str, Any]]:
        log = self.pedigree("log", "--json")
        assert log.returncode == 0, log.stderr
        return [entry["event"] for entry in json.loads(log.stdout)["events"] if "run" in entry["event"]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def last_json(result: subprocess.CompletedProcess) -> Any:
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def sha256sum(path: Path) -> str:
    return "sha256:" + subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


TRAIN = """
    import dataclasses, json, os, random
    import numpy
    import pedigree

    @dataclasses.dataclass
    class Optimizer:
        name: str = "adam"
        betas: tuple = (0.9, 0.999)

    @dataclasses.dataclass
    class Config:
        lr: float = 0.1
        optimizer: Optimizer = dataclasses.field(default_factory=Optimizer)
        api_key: str = "hunter2"

    @pedigree.track(model="fraud", inputs={"train": "data/train.csv"}, outputs=["out/model.bin"])
    def train(cfg: Config, epochs: int = 3, pedigree_run=None) -> float:
        random.seed(7)
        numpy.random.seed(11)
        os.makedirs("out", exist_ok=True)
        with open("out/model.bin", "w") as f:
            f.write("weights lr=%s epochs=%d" % (cfg.lr, epochs))
        for step in range(epochs):
            pedigree_run.log_metric("loss", 1.0 / (step + 1), step=step)
        return 0.93

    auc = train(Config(lr=0.05))
    print(json.dumps({"auc": auc, "run": pedigree.Run.__name__}))
"""


def test_a_decorated_call_is_a_run_with_its_arguments_data_digests_seeds_metrics_and_model(project: Project) -> None:
    result = last_json(project.python(TRAIN))
    assert result["auc"] == 0.93, "the function's result is unchanged"
    [event] = [e for e in project.run_events() if e["run"].get("status") == "COMPLETE"]
    run = project.show(f"run:{event['run']['id']}")
    assert run["status"] == "COMPLETE"
    assert run["hyperparameters"]["cfg"] == {"lr": 0.05, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "api_key": "[REDACTED]"}
    assert run["hyperparameters"]["epochs"] == 3, "defaults are bound too"
    assert "hunter2" not in project.pedigree("log", "--json").stdout, "the secret is in no event"
    [train] = [u for u in run["upstream"] if u.get("role") == "train"]
    assert train["digest"] == sha256sum(project.root / "data" / "train.csv")
    [model] = [d for d in run["downstream"] if d["kind"] == "model"]
    assert model["name"] == "fraud" and model["digest"] == sha256sum(project.root / "out" / "model.bin")
    assert run["environment"]["seeds"] == {"random": 7, "numpy": 11}, run["environment"].get("seeds")
    assert run["environment"]["packages"]["numpy"], "numpy as the process loaded it"
    assert run["environment"]["os"] and len(run["environment"]["packages"]) > 20, "and everything pedigree run captures"
    assert run["metrics"]["loss"] == pytest.approx(1 / 3)
    assert [step for step, _ in run["facets"]["metricSeries"]["loss"]] == [0, 1, 2], "each value at its step"
    assert run["code"]["commit"] == subprocess.run(["git", "rev-parse", "HEAD"], cwd=project.root, capture_output=True, text=True).stdout.strip()


def test_an_exception_records_fail_with_its_type_and_message_and_is_raised_unchanged(project: Project) -> None:
    result = last_json(
        project.python(
            """
            import json, traceback
            import pedigree

            class DataError(ValueError):
                pass

            @pedigree.track(model="fraud")
            def train(rows: int):
                raise DataError(f"only {rows} rows")

            try:
                train(3)
            except DataError as error:
                frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
                print(json.dumps({"type": type(error).__name__, "message": str(error), "raised_in": frames[-1]}))
            """
        )
    )
    assert result == {"type": "DataError", "message": "only 3 rows", "raised_in": "train"}, "the same exception, from where it was raised"
    [event] = [e for e in project.run_events() if e["run"].get("status") == "FAIL"]
    run = project.show(f"run:{event['run']['id']}")
    assert run["status"] == "FAIL"
    assert run["facets"]["error"] == {"type": "DataError", "message": "only 3 rows"}
    assert run["hyperparameters"]["rows"] == 3


def test_a_failure_inside_pedigree_never_replaces_the_trainings_exception(project: Project) -> None:
    result = last_json(
        project.python(
            """
            import json
            import pedigree

            class Unprintable:
                def __str__(self):
                    raise RuntimeError("a metric key that cannot be written")

            @pedigree.track(model="fraud")
            def train(pedigree_run=None):
                pedigree_run.log_metric(Unprintable(), 1.0)
                raise KeyError("rows")

            try:
                train()
            except KeyError as error:
                print(json.dumps({"caught": repr(error)}))
            """
        )
    )
    assert result == {"caught": "KeyError('rows')"}, "the training's own exception, not pedigree's"


def test_without_the_binary_training_runs_unchanged_and_says_so_once(project: Project) -> None:
    missing = str(project.root / "no-such-pedigree")
    ran = project.python(TRAIN, PEDIGREE_BIN=missing)
    assert last_json(ran)["auc"] == 0.93
    warnings = [line for line in ran.stderr.splitlines() if line.startswith("pedigree:")]
    assert len(warnings) == 1 and "no-such-pedigree" in warnings[0], ran.stderr


def test_async_functions_and_a_clean_sys_exit_complete_their_runs(project: Project) -> None:
    ran = project.python(
        """
        import asyncio, sys
        import pedigree

        @pedigree.track(job="serve-eval")
        async def evaluate(batches: int) -> int:
            await asyncio.sleep(0)
            return batches

        assert asyncio.run(evaluate(4)) == 4
        with pedigree.run(job="script"):
            sys.exit(0)
        """
    )
    assert ran.returncode == 0, ran.stderr
    runs = {e["run"]["job"]: e["run"] for e in project.run_events() if e["run"].get("status") in ("COMPLETE", "FAIL")}
    assert runs["serve-eval"]["status"] == "COMPLETE" and runs["serve-eval"]["hyperparameters"]["batches"] == 4
    assert runs["script"]["status"] == "COMPLETE", "sys.exit(0) ends the run cleanly"


def test_argparse_namespaces_dicts_paths_and_enums_are_recorded_as_json(project: Project) -> None:
    last_json(
        project.python(
            """
            import argparse, enum, json, pathlib
            import pedigree

            class Mode(enum.Enum):
                FAST = "fast"

            @pedigree.track(job="prepare")
            def prepare(args, extra: dict, out: pathlib.Path, mode: Mode = Mode.FAST, tags=frozenset({"b", "a"})):
                return None

            args = argparse.ArgumentParser()
            args.add_argument("--rows", type=int, default=100)
            args.add_argument("--db-password", default="hunter2")
            prepare(args.parse_args([]), {"nested": {"k": [1, 2]}}, pathlib.Path("out/data"))
            print(json.dumps({}))
            """
        )
    )
    [event] = [e for e in project.run_events() if e["run"].get("status") == "COMPLETE"]
    run = project.show(f"run:{event['run']['id']}")
    assert run["job"] == "prepare"
    assert run["hyperparameters"]["args"] == {"rows": 100, "db_password": "[REDACTED]"}
    assert run["hyperparameters"]["extra"] == {"nested": {"k": [1, 2]}}
    assert run["hyperparameters"]["out"] == "out/data" and run["hyperparameters"]["mode"] == "fast"
    assert run["hyperparameters"]["tags"] == ["a", "b"]


def test_pydantic_models_and_omegaconf_configs_are_recorded_as_nested_json(project: Project) -> None:
    pytest.importorskip("pydantic")
    pytest.importorskip("omegaconf")
    last_json(
        project.python(
            """
            import json
            import pedigree
            import pydantic
            from omegaconf import OmegaConf

            class Optimizer(pydantic.BaseModel):
                name: str = "sgd"
                momentum: float = 0.9

            @pedigree.track(job="tune")
            def tune(optimizer: Optimizer, cfg):
                return None

            tune(Optimizer(), OmegaConf.create({"model": {"layers": 4}, "width": "${model.layers}"}))
            print(json.dumps({}))
            """
        )
    )
    [event] = [e for e in project.run_events() if e["run"].get("status") == "COMPLETE"]
    run = project.show(f"run:{event['run']['id']}")
    assert run["hyperparameters"]["optimizer"] == {"name": "sgd", "momentum": 0.9}
    assert run["hyperparameters"]["cfg"] == {"model": {"layers": 4}, "width": 4}, "interpolations resolved"


def test_a_second_run_that_loads_the_first_ones_model_has_it_as_its_parent_by_digest(project: Project) -> None:
    last_json(project.python(TRAIN))
    last_json(
        project.python(
            """
            import json
            import pedigree

            with pedigree.run(model="fraud-tuned") as run:
                with open("out/model.bin") as f:
                    weights = f.read()
                run.use("out/model.bin")
                run.log_params({"base_size": len(weights)})
                with open("out/tuned.bin", "w") as f:
                    f.write(weights + " tuned")
                run.produce("out/tuned.bin", kind="model")
            print(json.dumps({"run": run.id}))
            """,
            name="tune.py",
        )
    )
    tuned = project.show("model:default/fraud-tuned")
    upstream = project.show(tuned["generatedBy"]["run"])["upstream"]
    [base] = [u for u in upstream if u.get("role") == "base-model"]
    assert base["ref"].startswith("model:default/fraud@") and base["digest"] == sha256sum(project.root / "out" / "model.bin")


def test_with_the_server_down_the_run_is_spooled_training_is_unchanged_and_sync_delivers_it(project: Project) -> None:
    port = free_port()
    down = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    result = last_json(project.python(TRAIN, PEDIGREE_URL=down))
    assert result["auc"] == 0.93
    assert time.monotonic() - started < 120
    spooled = [p for p in (project.root / "home" / "spool").rglob("*") if p.is_file()]
    assert spooled, "the run's events wait in the spool"
    assert project.pedigree("sync", PEDIGREE_URL=down).returncode == 5, "still pending while the server is down"
    with server(project, port):
        synced = project.pedigree("sync", PEDIGREE_URL=down)
        assert synced.returncode == 0, synced.stderr
        runs = [e for e in project.run_events() if e["run"].get("status") == "COMPLETE"]
        assert len(runs) == 1, "delivered once, into the server's store"
        assert project.show(f"run:{runs[0]['run']['id']}")["hyperparameters"]["epochs"] == 3


def test_through_a_running_server_the_run_is_recorded_there(project: Project) -> None:
    port = free_port()
    with server(project, port):
        last_json(project.python(TRAIN, PEDIGREE_URL=f"http://127.0.0.1:{port}"))
        statuses = sorted(e["run"].get("status", "") for e in project.run_events())
        assert statuses == ["COMPLETE", "START"], statuses


def test_inside_pedigree_run_the_library_adds_to_that_run(project: Project) -> None:
    (project.root / "train.py").write_text(textwrap.dedent(TRAIN))
    wrapped = project.pedigree("run", "--model", "fraud", "--input", "train=data/train.csv", "--output", "out/model.bin", "--", sys.executable, "train.py")
    assert wrapped.returncode == 0, wrapped.stderr
    ids = {e["run"]["id"] for e in project.run_events()}
    assert len(ids) == 1, f"one run, not two: {ids}"
    run = project.show(f"run:{ids.pop()}")
    assert run["status"] == "COMPLETE"
    assert run["hyperparameters"]["cfg"]["lr"] == 0.05, "the call's arguments joined the wrapper's run"
    assert run["environment"]["seeds"]["numpy"] == 11
    assert run["environment"]["os"] and run["environment"]["packages"]["numpy"], "the wrapper's environment, with the seeds added"
    assert run["metrics"]["loss"] == pytest.approx(1 / 3), "metrics through the wrapper's metrics file"


def test_from_pretrained_of_a_local_model_is_its_base_model(project: Project) -> None:
    pytest.importorskip("torch", reason="needs torch and transformers, which the test environment does not install (about 1 GB)")
    pytest.importorskip("transformers")
    last_json(
        project.python(
            """
            import json
            import pedigree
            from transformers import BertConfig, BertModel

            BertModel(BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8, vocab_size=32)).save_pretrained("tiny")

            with pedigree.run(model="tuned"):
                BertModel.from_pretrained("tiny")
            print(json.dumps({}))
            """
        )
    )
    [event] = [e for e in project.run_events() if e["run"].get("status") == "COMPLETE"]
    assert any(u.get("role") == "base-model" for u in project.show(f"run:{event['run']['id']}")["upstream"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class server:
    """A real `pedigree serve` on the project's store, for the length of a `with` block."""

    def __init__(self, project: Project, port: int) -> None:
        self.project, self.port = project, port

    def __enter__(self) -> "server":
        log = open(self.project.root / f"serve-{self.port}.log", "w")
        self.process = subprocess.Popen([BINARY, "serve", "--port", str(self.port)], cwd=self.project.root, env=self.project.env, stdout=log, stderr=log)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pedigree serve did not start")

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
