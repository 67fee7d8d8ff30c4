"""The offline template on real photos, small enough for CI (the full run is in bench/)."""
import json
import subprocess
import sys

import pytest

from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "PetImages").is_dir(), reason=f"no photos at {SHARED_DATA}")


def test_offline_template_on_real_photos(tmp_path):
    cmd = [sys.executable, "-m", "backend.cli", "run", "model_optimization_finetuning_offline",
           "--set", f"dataset.root={SHARED_DATA}", "--set", "dataset.max_per_class=150",
           "--set", "train.epochs=3", "--set", "train_finetuned.epochs=2",
           "--to", "evaluate", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    nodes = json.loads(res.stdout)["nodes"]   # a RunSummary
    assert nodes["train"]["summary"]["model"]["best"]["val_accuracy"] >= 0.85
    assert nodes["train_finetuned"]["summary"]["model"]["best"]["val_accuracy"] >= 0.85
    assert nodes["evaluate"]["summary"]["report"]["accuracy"] >= 0.8
    model_file = nodes["train_finetuned"]["summary"]["model"]["model_file"]
    predict = subprocess.run([sys.executable, "-m", "backend.cli", "predict", model_file,
                              str(SHARED_DATA / "PetImages" / "Cat"), "--json"], capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in predict.stdout.splitlines()]
    assert len(rows) == 2000
    assert sum(r["class"] == "cat" for r in rows) / len(rows) >= 0.85
