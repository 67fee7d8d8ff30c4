"""Running graphs for real: caching, run-to / run-node, deferred params, cancellation, the worker."""
import copy
import time

import pytest

from backend.engine.events import WorkerInfo

import components
from backend.runs import RunRejected, RunService
from backend.store.artifacts import FileResultStore
from backend.worker.local import LocalWorker
from components.torchkit.model import load_model_file
from tests.conftest import Runner, of_type, tiny_graph


def _set(graph, node, **params):
    graph = copy.deepcopy(graph)
    next(n for n in graph["nodes"] if n["id"] == node)["params"].update(params)
    return graph


def test_second_run_comes_from_the_cache(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=1)
    status, first, _ = runner.run(graph, ["train"])
    assert status == "finished" and of_type(first, "node.finished", "train")
    status, second, _ = runner.run(graph, ["train"])
    assert status == "finished"
    assert of_type(second, "node.cached", "train") and not of_type(second, "node.started")
    started = second[0]
    assert started["type"] == "run.started" and started["plan"] == [] and "train" in started["cached"]


def test_results_survive_a_new_process(tmp_path, image_folder):
    graph = tiny_graph(image_folder, epochs=1)
    Runner(tmp_path / "cache").run(graph, ["train"])
    status, events, ex = Runner(tmp_path / "cache").run(graph, ["evaluate"])   # nothing in memory
    assert status == "finished"
    assert of_type(events, "node.cached", "train") and of_type(events, "node.finished", "evaluate")
    assert not of_type(events, "node.started", "train")


def test_run_node_reruns_only_that_node(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=1)
    runner.run(graph, ["evaluate"])
    status, events, _ = runner.run(graph, ["evaluate"], mode="node")
    assert status == "finished"
    assert [e["node"] for e in of_type(events, "node.started")] == ["evaluate"]
    assert of_type(events, "node.cached", "train")


def test_changing_fine_tune_layers_keeps_the_first_training(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=1, backbone=True)
    status, events, _ = runner.run(graph, ["train_finetuned"])
    assert status == "finished" and of_type(events, "node.finished", "train")
    changed = _set(graph, "backbone", fine_tune_layers=["block7a", "top"])
    status, events, ex = runner.run(changed, ["train_finetuned"])
    assert status == "finished"
    assert of_type(events, "node.cached", "train"), "the first training must come from the cache"
    assert of_type(events, "node.finished", "finetune") and of_type(events, "node.finished", "train_finetuned")
    assert "backbone:block7a" in ex.results["train_finetuned"]["model"].trainable
    changed = _set(changed, "train_finetuned", epochs=2)
    status, events, _ = runner.run(changed, ["train_finetuned"])
    assert not of_type(events, "node.started", "train") and of_type(events, "node.cached", "finetune")
    assert len(of_type(events, "node.metrics", "train_finetuned")) == 2


def test_cancel_stops_within_a_batch_and_keeps_the_last_epoch(runner, image_folder):
    graph = tiny_graph(image_folder, epochs=50)

    def cancel_after(events):   # cancel in the middle of the third epoch
        return any(e["type"] == "node.progress" and e.get("phase") == "epoch 3/50" and e["step"] == 2 for e in events)

    status, events, _ = runner.run(graph, ["train"], cancel_after=cancel_after)
    assert status == "cancelled"
    assert events[-1]["type"] == "run.cancelled" and events[-1]["node"] == "train"
    progress = of_type(events, "node.progress", "train")
    assert progress[-1]["phase"] == "epoch 3/50" and progress[-1]["step"] <= 3
    saved = [e for e in of_type(events, "node.log", "train") if "model_file" in e["data"]]
    assert saved and saved[0]["data"]["epoch"] == 2
    model, trained = load_model_file(saved[0]["data"]["model_file"])
    assert len(trained.history) == 2
    # the line carries the saved model's summary: what the server offers for download
    assert saved[0]["model"]["model_file"] == saved[0]["data"]["model_file"]
    assert saved[0]["model"]["best_epoch"] == saved[0]["model"]["epochs"] == 2
    assert [e["best_epoch"] is not None for e in of_type(events, "node.metrics", "train")] == [True, True]
    status, events, _ = runner.run(graph, ["train"])          # nothing half-done was cached
    assert not of_type(events, "node.cached", "train")


def test_images_that_fail_to_decode_are_skipped(runner, image_folder):
    # passes the dataset's quick check (a valid header) but its data is cut off
    good = (image_folder / "Dog" / "0.jpg").read_bytes()
    (image_folder / "Dog" / "500.jpg").write_bytes(good[: len(good) // 3])
    status, events, ex = runner.run(tiny_graph(image_folder, epochs=1), ["train"])
    assert status == "finished"


def test_a_failing_node_names_itself(runner, tmp_path):
    graph = tiny_graph(tmp_path / "missing", epochs=1)
    status, events, _ = runner.run(graph, ["train"])
    assert status == "failed"
    failed = of_type(events, "node.failed")[0]
    assert failed["node"] == "dataset" and failed["code"] == "dataset_missing"
    assert events[-1]["type"] == "run.failed"
    # the editor words the code itself: the params name the folder and the param at fault
    for event in (failed, events[-1]):
        assert event["params"] == {"param": "root", "path": str(tmp_path / "missing")}


def test_what_a_person_reads_travels_as_codes_with_params(runner, image_folder):
    """Progress, log lines and failures carry a stable code and the values their sentence names,
    next to the English words the command line prints; the editor says them in Chinese."""
    status, events, _ = runner.run(tiny_graph(image_folder, epochs=2), ["evaluate"])
    assert status == "finished"
    epochs = [e for e in of_type(events, "node.progress", "train") if e["code"] == "epoch"]
    assert epochs and {(e["epoch"], e["epochs"]) for e in epochs} == {(1, 2), (2, 2)}
    assert all(e["phase"] == f"epoch {e['epoch']}/2" for e in epochs)      # the CLI's words are unchanged
    assert {e["split"] for e in of_type(events, "node.progress") if e["code"] == "decode"} >= {"train", "validation"}
    logs = {e["code"]: e for e in of_type(events, "node.log") if e["code"]}
    assert logs["dataset_split"]["params"]["count"] == sum(logs["dataset_split"]["params"][s]
                                                            for s in ("train", "validation", "test"))
    evaluated = logs["evaluated"]["params"]
    assert evaluated["split"] == "test" and 0 <= evaluated["accuracy"] <= 1 and evaluated["loss"] >= 0
    assert logs["training_stages"]["params"]["device"] == "cpu"


def test_worker_process_runs_and_cancels(tmp_path, image_folder):
    service = RunService(components.registry, FileResultStore(tmp_path / "cache"))
    worker = LocalWorker(tmp_path / "cache")
    try:
        events = list(worker.run(service.prepare(tiny_graph(image_folder, epochs=1), ["train"], run_id="r1")))
        assert events[-1].type == "run.finished"   # typed events, whatever the transport
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].worker == WorkerInfo(kind="local", pid=worker.pid)
        assert worker.pid != __import__("os").getpid()
        worker.submit(service.prepare(tiny_graph(image_folder, epochs=200), ["train"], "node", run_id="r2"))
        seen = []
        for batch in worker.events("r2"):
            for e in batch:
                seen.append(e)
                if e.type == "node.metrics":
                    worker.cancel("r2")
        assert seen[-1].type == "run.cancelled"
        assert len([e for e in seen if e.type == "node.metrics"]) <= 2
        with pytest.raises(RunRejected) as info:
            service.prepare({"nodes": [{"id": "x", "type": "nope"}]}, ["x"], run_id="r3")
        assert info.value.issues[0]["node"] == "x"
    finally:
        worker.close()
    assert not worker.alive()
