"""The trainer's precision, chosen per device: measured with real torch passes on the CPU."""
import torch
import torch.nn as nn

from backend.settings import Settings
from components.torchkit.precision import choose, measure
from tests.conftest import of_type, tiny_graph

CPU = torch.device("cpu")


class Counted(nn.Module):
    """A small real convolutional stage that counts its forward passes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.BatchNorm2d(8)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.norm(self.conv(x))


def _convs(times: dict[str, int]):
    conv = nn.Conv2d(3, 16, 3, padding=1)
    x = torch.rand(8, 3, 64, 64)

    @torch.no_grad()
    def run(precision: str) -> None:
        for _ in range(times[precision]):
            conv(x)
    return run


def test_measure_keeps_the_faster_candidate_whichever_comes_first():
    for times, fastest in (({"float32": 8, "bfloat16": 1}, "bfloat16"), ({"float32": 1, "bfloat16": 8}, "float32")):
        choice = measure(_convs(times), list(times))
        assert choice.precision == fastest and choice.how == "measured"
        assert set(choice.timings) == {"float32", "bfloat16"}
        slow = next(p for p in times if p != fastest)
        assert choice.timings[slow] > 2 * choice.timings[fastest]
        assert fastest in choice.reason


def test_settings_name_the_precision_without_measuring():
    stage, cache = Counted(), {}
    sample = torch.rand(4, 3, 16, 16)
    auto = choose(CPU, "auto", [stage], sample, cache=cache)
    assert (auto.precision, auto.how, auto.timings) == ("float32", "cpu default", {})
    assert choose(CPU, "off", [stage], sample, cache=cache).precision == "float32"
    bf16 = choose(CPU, "bf16", [stage], sample, cache=cache)
    assert (bf16.precision, bf16.how, bf16.timings_text()) == ("bfloat16", "setting", "")
    assert stage.calls == 0 and cache == {}


def test_measure_setting_times_both_on_the_cpu_once_per_model_and_batch():
    stage, cache = Counted(), {}
    stage.train()
    before = stage.norm.running_mean.clone()
    sample = torch.rand(4, 3, 16, 16)
    choice = choose(CPU, "measure", [stage], sample, cache=cache)
    assert choice.how == "measured" and choice.precision in ("float32", "bfloat16")
    assert set(choice.timings) == {"float32", "bfloat16"}
    text = choice.timings_text()
    assert text.startswith("float32 ") and ", bfloat16 " in text and text.endswith(" ms")
    assert stage.calls == 2 * (1 + 3)   # each candidate: a warm-up and three timed passes
    # timed in inference mode, then back in training mode with its statistics untouched
    assert stage.training and stage.norm.training and torch.equal(stage.norm.running_mean, before)

    assert choose(CPU, "measure", [stage], sample.clone(), cache=cache) is choice   # a warm worker: no new pass
    assert stage.calls == 8
    choose(CPU, "measure", [stage], torch.rand(2, 3, 16, 16), cache=cache)   # another batch size: measured
    assert stage.calls == 16 and len(cache) == 2


def test_a_trainer_says_which_precision_it_measured_and_computes_its_features_in_it(tmp_path, image_folder,
                                                                                     studio_run):
    graph = tiny_graph(image_folder, epochs=1, backbone=True, cache=True)
    status, events = studio_run(tmp_path / "cache", graph, ["train"],
                                settings=Settings(home=tmp_path, device="cpu", amp="measure"))
    assert status == "finished"
    chosen = [e for e in of_type(events, "node.log", "train") if e["code"] == "precision_chosen"]
    assert len(chosen) == 1
    params = chosen[0]["params"]
    assert params["how"] == "measured" and params["device"] == "cpu"
    assert params["precision"] in ("float32", "bfloat16")
    assert "float32 " in params["timings"] and "bfloat16 " in params["timings"]
    feats = [e["cache"] for e in events if e["type"] == "node.log" and (e["cache"] or {}).get("cache") == "features"]
    assert feats and all(f["precision"] == params["precision"] for f in feats)


def test_an_evaluation_chooses_its_precision_as_a_trainer_does(tmp_path, image_folder, studio_run):
    status, events = studio_run(tmp_path / "cache", tiny_graph(image_folder, epochs=1), ["evaluate"],
                                settings=Settings(home=tmp_path, device="cpu", amp="measure"))
    assert status == "finished"
    chosen = {e["node"]: e["params"] for e in events if e["type"] == "node.log" and e["code"] == "precision_chosen"}
    assert set(chosen) == {"train", "evaluate"}
    assert chosen["evaluate"]["how"] == "measured" and "bfloat16 " in chosen["evaluate"]["timings"]
    report = next(e for e in events if e["type"] == "node.finished" and e["node"] == "evaluate")
    assert 0 <= report["summary"]["report"]["accuracy"] <= 1


def test_a_trainer_on_the_cpu_keeps_float32_by_default(tmp_path, image_folder, studio_run):
    status, events = studio_run(tmp_path / "cache", tiny_graph(image_folder, epochs=1), ["train"],
                                settings=Settings(home=tmp_path, device="cpu"))
    assert status == "finished"
    chosen = [e["params"] for e in of_type(events, "node.log", "train") if e["code"] == "precision_chosen"]
    assert chosen == [{"precision": "float32", "device": "cpu", "how": "cpu default", "timings": ""}]


def test_a_near_tie_keeps_float32():
    """bf16 must be clearly faster (10 %) to be chosen: timings that wander near a tie would
    otherwise change the precision, and with it the feature cache, from one worker to the next."""
    import time

    def run(ms: dict[str, float]):
        return lambda precision: time.sleep(ms[precision] / 1000)

    near = measure(run({"float32": 20.0, "bfloat16": 19.0}), ["float32", "bfloat16"])
    assert near.precision == "float32" and "kept" in near.reason
    clear = measure(run({"float32": 20.0, "bfloat16": 12.0}), ["float32", "bfloat16"])
    assert clear.precision == "bfloat16"
