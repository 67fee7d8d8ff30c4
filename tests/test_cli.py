import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_image_folder, tiny_graph

ABACUS = [sys.executable, "-m", "backend.cli"]


def _abacus(*args, cwd=None, env_home=None):
    env = {**os.environ, "ABACUS_HOME": str(env_home)} if env_home else None
    return subprocess.run([*ABACUS, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_validate_template_and_broken_graph(tmp_path):
    ok = _abacus("validate", "模型优化与微调")
    assert ok.returncode == 0, ok.stderr
    broken = {"nodes": [{"id": "d", "type": "layers.Dense", "params": {"units": -1}}], "edges": []}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    res = _abacus("validate", path)
    assert res.returncode == 1
    assert "invalid_param [units]" in res.stderr and "missing_input [input]" in res.stderr
    path.write_text("{ not json")
    res = _abacus("validate", path)
    assert res.returncode != 0 and "not a valid graph" in res.stderr
    res = _abacus("validate", "model_optimization_finetuning", "--set", "nonode.x=1")
    assert res.returncode != 0 and "no node 'nonode'" in res.stderr


def test_run_json_summary_out_dir_cache_and_predict(tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=10)
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(tiny_graph(root, epochs=2)))
    out = tmp_path / "out"
    res = _abacus("run", graph, "--to", "evaluate", "--out", out, "--json", "--set", "train.epochs=3",
                  env_home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)   # the run's events reduced to a RunSummary
    assert summary["status"] == "finished"
    train = summary["nodes"]["train"]
    assert train["state"] == "done"
    assert [p["epoch"] for p in summary["metrics"]["train"]] == [1, 2, 3]
    assert all("val_accuracy" in p["metrics"] for p in summary["metrics"]["train"])
    model = train["summary"]["model"]
    assert model["kind"] == "model" and model["epochs"] == 3 and model["best"]["val_accuracy"] is not None
    assert Path(model["model_file"]) == (out / "train.pt").resolve() and (out / "train.pt").exists()
    report = summary["nodes"]["evaluate"]["summary"]["report"]
    assert report["kind"] == "evaluation" and report["split"] == "test" and 0 <= report["accuracy"] <= 1
    assert "epoch 1" in res.stderr  # progress and metrics on stderr
    # what the run taught, on stderr: each trainer's best validation accuracy and the test accuracy
    assert f"result: train best val_accuracy {model['best']['val_accuracy']:.4f}" in res.stderr
    assert f"result: evaluate test accuracy {report['accuracy']:.4f}" in res.stderr
    again = json.loads(_abacus("run", graph, "--to", "train", "--json", "--set", "train.epochs=3",
                               env_home=tmp_path / "home").stdout)
    assert again["nodes"]["train"]["state"] == "cached"
    assert again["metrics"]["train"] == summary["metrics"]["train"]

    (root / "broken.jpg").write_bytes(b"nope")
    res = _abacus("predict", out / "train.pt", root / "Cat" / "0.jpg", root / "broken.jpg", root / "Dog", "--json")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 2 + 10
    assert rows[0]["path"].endswith("0.jpg") and rows[0]["class"] in ("cat", "dog") and 0.5 <= rows[0]["probability"] <= 1
    assert "error" in rows[1]
    res = _abacus("predict", graph, root / "Cat" / "0.jpg")
    assert res.returncode == 2 and "not" in res.stderr

    # the model file tells its story: the graph, the node, the cache keys, the data and the metrics
    res = _abacus("inspect", out / "train.pt", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    prov = info["provenance"]
    assert prov["node"] == "train" and prov["component"] == "training.Trainer"
    assert [n["id"] for n in prov["graph"]["nodes"]] == [n["id"] for n in json.loads(graph.read_text())["nodes"]]
    assert prov["graph"]["nodes"][7]["params"]["epochs"] == 3   # as it ran (--set)
    assert prov["keys"] == {n: summary["nodes"][n]["key"] for n in prov["keys"]}
    assert set(prov["keys"]) == {"input", "flatten", "dense", "output", "dataset", "format", "optimizer", "train"}
    assert prov["metrics"] and all(model["best"][k] == v for k, v in prov["metrics"].items())
    assert prov["epoch"] == model["best_epoch"] and prov["epochs"] == 3 and prov["dataset_fingerprint"]
    text = _abacus("inspect", out / "train.pt")
    assert text.returncode == 0 and "training.Trainer" in text.stdout and prov["keys"]["train"] in text.stdout
    assert _abacus("inspect", graph).returncode == 2

    # ... and exports to ONNX, whose probabilities are the model's own
    import numpy as np
    import onnx
    import onnxruntime as ort

    from components.torchkit.images import format_image

    res = _abacus("export", out / "train.pt", "--onnx", tmp_path / "train.onnx")
    assert res.returncode == 0, res.stderr
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "train.onnx")).metadata_props}
    assert json.loads(meta["classes"]) == ["cat", "dog"] and json.loads(meta["abacus.provenance"])["node"] == "train"
    session = ort.InferenceSession(str(tmp_path / "train.onnx"), providers=["CPUExecutionProvider"])
    dogs = sorted((root / "Dog").glob("*.jpg"), key=lambda p: int(p.stem))
    x = np.stack([format_image(p, 32, 32, 3) for p in dogs]).astype(np.float32).transpose(0, 3, 1, 2) / 255
    (probs,) = session.run(None, {"image": x})
    assert np.abs(probs[:, 1] - [r["probabilities"]["dog"] for r in rows[2:]]).max() < 1e-4


def test_run_refuses_an_invalid_graph(tmp_path):
    res = _abacus("run", "model_optimization_finetuning", "--set", "dense.units=0", "--to", "train")
    assert res.returncode == 1 and "dense" in res.stderr and "units" in res.stderr


def test_progress_bar_rate_counts_only_the_steps_it_saw_done():
    """The first progress event of a phase arrives with steps already done (events are
    throttled at the source): the bar must not show them as done in no time."""
    import re
    import time

    from backend.cli import _Bars
    from backend.engine import events as ev

    def progress(step):
        return ev.NodeProgress(node="train", phase="decode train", step=step, total=2000, unit="image")

    bars = _Bars(quiet=False)
    bars.event(progress(100))
    assert "?image/s" in str(bars.bar)  # no rate yet: nothing seen being done
    time.sleep(0.25)
    bars.event(progress(200))
    bars.bar.smoothing = 0  # the average rate over what the bar saw
    shown = re.search(r"([\d.]+)image/s", str(bars.bar))
    assert shown and float(shown.group(1)) < 100 / 0.25 * 1.2, str(bars.bar)
    assert bars.bar.n == 200
    bars.close()


def test_the_ray_executor_needs_a_cluster_that_answers(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # nothing listens there once closed
    served = _abacus("serve", "--port", 0, "--executor", "ray", "--ray-address", f"127.0.0.1:{port}",
                     env_home=tmp_path)
    assert served.returncode != 0
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in served.stderr
    image_root = make_image_folder(tmp_path / "pets")
    path = tmp_path / "g.json"
    path.write_text(json.dumps(tiny_graph(image_root, epochs=1)))
    ran = _abacus("run", path, "--to", "train", "--executor", "ray", env_home=tmp_path)
    assert ran.returncode != 0 and "--ray-address" in ran.stderr


def test_run_resume_continues_a_cancelled_training_from_its_checkpoint(tmp_path):
    import signal

    root = make_image_folder(tmp_path / "pets", per_class=8)
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(tiny_graph(root, epochs=4)))
    args = [*ABACUS, "run", graph, "--to", "train", "--cache-dir", tmp_path / "cache"]
    env = {**os.environ, "ABACUS_HOME": str(tmp_path / "home"), "ABACUS_TRAIN_STEP_DELAY_S": "0.3"}
    proc = subprocess.Popen(list(map(str, args)), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env)
    try:
        for line in proc.stderr:   # Ctrl-C once the second epoch is done
            if line.startswith("train epoch 2:"):
                proc.send_signal(signal.SIGINT)
                break
        proc.stderr.read()
        assert proc.wait(60) == 130
    finally:
        proc.kill()
        proc.wait()
    del env["ABACUS_TRAIN_STEP_DELAY_S"]
    res = subprocess.run(list(map(str, [*args, "--resume", "--json"])), capture_output=True, text=True, env=env,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert [p["epoch"] for p in summary["metrics"]["train"]] == [1, 2, 3, 4]
    import re

    # the epochs done before Ctrl-C (2, or 3 when it came late) are printed first, then the rest trained
    done = int(re.search(r"resumed from the checkpoint of epoch (\d) of 4", res.stderr).group(1))
    assert 2 <= done < 4
    assert all(f"train epoch {e} (from the checkpoint):" in res.stderr for e in range(1, done + 1))
    assert all(f"train epoch {e}:" in res.stderr for e in range(done + 1, 5))


def test_the_cache_budget_after_a_run_and_abacus_cache(tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=6)
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(tiny_graph(root)))
    env = {**os.environ, "ABACUS_HOME": str(tmp_path / "home"), "ABACUS_CACHE_KEEP_RECENT_S": "0"}

    def abacus(*args, **extra):
        return subprocess.run([*ABACUS, *map(str, args)], capture_output=True, text=True, timeout=600,
                              env={**env, **extra})

    res = abacus("run", graph, "--to", "train", "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert "cache:" not in res.stderr   # within the default budget (20 GB)
    shown = json.loads(abacus("cache", "--json").stdout)
    assert shown["entries"] >= 3 and shown["models"] == 1 and shown["max_bytes"] == 20 * 2**30

    # a tiny budget: after the next run everything goes, the trained model last; what --out copied stays
    res = abacus("run", graph, "--to", "train", "--set", "train.epochs=2", "--out", tmp_path / "out2",
                 ABACUS_CACHE_MAX_GB="0.000001")
    assert res.returncode == 0, res.stderr
    assert "cache: over its size limit: removed" in res.stderr and "trained models" in res.stderr
    assert (tmp_path / "out2" / "train.pt").is_file()
    assert json.loads(abacus("cache", "--json").stdout)["entries"] == 0
    plan = abacus("plan", graph, "--to", "train", "--set", "train.epochs=2")
    assert plan.returncode == 0, plan.stderr
    assert "train: runs: its stored result was removed" in plan.stdout and "budget" in plan.stdout

    # abacus cache prune applies a budget given on the command line
    assert abacus("run", graph, "--to", "dataset").returncode == 0
    text = abacus("cache")
    assert text.returncode == 0 and "entries" in text.stdout and "budget 20.0 GB" in text.stdout
    pruned = json.loads(abacus("cache", "prune", "--max-gb", "0.000001", "--json").stdout)
    assert pruned["removed"] >= 1 and pruned["bytes_after"] == 0
    assert abacus("cache", "prune", "--max-gb", "-1").returncode != 0
