"""Run settings: made from the studio's Settings (its environment), carried with the prepared
run as JSON, and read by components from their context."""
import pytest
from pydantic import ValidationError

import components
from backend.engine import RunSettings
from backend.runs import PreparedRun, RunService
from backend.settings import Settings
from backend.store.artifacts import FileResultStore
from tests.conftest import tiny_graph


def test_settings_give_the_run_settings(tmp_path):
    run = Settings(home=tmp_path, device="cpu", threads=2, amp="bf16").run_settings()
    assert run == RunSettings(device="cpu", threads=2, amp="bf16")


def test_the_environment_variables_still_reach_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ABACUS_DEVICE", "cuda:1")
    monkeypatch.setenv("ABACUS_THREADS", "3")
    monkeypatch.setenv("ABACUS_AMP", "bf16")
    assert Settings(home=tmp_path).run_settings() == RunSettings(device="cuda:1", threads=3, amp="bf16")


@pytest.mark.parametrize("switch, amp", [("1", "auto"), ("0", "off"), ("auto", "auto"), ("off", "off")])
def test_abacus_amp_keeps_its_old_switch_values(tmp_path, monkeypatch, switch, amp):
    monkeypatch.setenv("ABACUS_AMP", switch)
    assert Settings(home=tmp_path).run_settings().amp == amp


@pytest.mark.parametrize("field, value", [("device", "gpu"), ("device", "cuda:x"), ("threads", -1), ("amp", "fp16")])
def test_bad_run_settings_are_refused(field, value):
    with pytest.raises(ValidationError):
        RunSettings(**{field: value})


def test_the_prepared_run_carries_them_across_a_process_boundary_as_json(tmp_path):
    settings = RunSettings(device="cpu", threads=1, amp="off")
    service = RunService(components.registry, FileResultStore(tmp_path / "cache"), worker_settings=settings)
    prepared = service.prepare(tiny_graph(tmp_path / "pets", epochs=1), ["optimizer"], run_id="r1")
    wire = prepared.model_dump(mode="json")
    assert wire["settings"] == {"device": "cpu", "threads": 1, "amp": "off", "progress_interval_s": 0.0}
    assert PreparedRun.model_validate(wire).settings == settings


def test_a_worker_sets_its_own_pace_and_threads():
    from backend.worker.execution import PROGRESS_INTERVAL_S, _settings_here

    run = PreparedRun(run_id="r", graph={}, targets=[], settings=RunSettings(device="cpu", threads=8, amp="off"))
    assert _settings_here(run, None) == RunSettings(device="cpu", threads=8, amp="off",
                                                    progress_interval_s=PROGRESS_INTERVAL_S)
    assert _settings_here(run, 2).threads == 2   # a Ray actor's reserved CPUs
