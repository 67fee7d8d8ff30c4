"""The studio's settings reach components through the run context, not the environment."""
import pytest
import torch

from backend.settings import Settings
from components.torchkit.model import pick_device
from components.torchkit.train import amp_dtype
from tests.conftest import of_type, tiny_graph


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_device_and_threads_from_settings_reach_the_trainer(tmp_path, image_folder, studio_run, torch_threads,
                                                            monkeypatch):
    monkeypatch.setenv("ABACUS_THREADS", "5")   # the settings given win over the environment's
    torch.set_num_threads(2)
    settings = Settings(home=tmp_path, device="cpu", threads=1)
    status, events = studio_run(tmp_path / "cache", tiny_graph(image_folder, epochs=1), ["train"], settings=settings)
    assert status == "finished"
    assert torch.get_num_threads() == 1
    started = [e for e in of_type(events, "node.log", "train") if e["message"].startswith("training")]
    assert started and started[0]["data"]["device"] == "cpu"


def test_threads_0_uses_every_core(tmp_path, image_folder, studio_run, torch_threads):
    import os

    torch.set_num_threads(1)
    status, _ = studio_run(tmp_path / "cache", tiny_graph(image_folder, epochs=1), ["train"],
                           settings=Settings(home=tmp_path, device="cpu", threads=0))
    assert status == "finished"
    assert torch.get_num_threads() == (os.cpu_count() or 1)


def test_pick_device_reads_only_its_argument(monkeypatch):
    monkeypatch.setenv("ABACUS_DEVICE", "cuda:3")
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_amp_setting_chooses_the_precision(monkeypatch):
    monkeypatch.setenv("ABACUS_AMP", "bf16")   # read through Settings only, never here
    cpu = torch.device("cpu")
    assert amp_dtype(cpu) == "float32"
    assert amp_dtype(cpu, "auto") == "float32"
    assert amp_dtype(cpu, "bf16") == "bfloat16"
    assert amp_dtype(cpu, "off") == "float32"
