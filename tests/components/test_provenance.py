"""A model file carries its story (graph, node, keys, data, metrics), and exports to ONNX."""
import json
import sys

import numpy as np
import pytest
import torch

from backend.engine.provenance import NotAModelFile, read_model_file
from tests.conftest import SHARED_DATA, make_image_folder, tiny_graph


def _trained_file(runner, tmp_path):
    root = make_image_folder(tmp_path / "pets", per_class=6)
    graph = tiny_graph(root, epochs=2)
    status, events, ex = runner.run(graph, ["train"])
    assert status == "finished"
    finished = next(e for e in events if e["type"] == "node.finished" and e["node"] == "train")
    return graph, finished, ex


def test_a_saved_model_carries_its_graph_node_keys_data_and_metrics(runner, tmp_path):
    import components
    from components.torchkit.model import load_model_file

    graph, finished, ex = _trained_file(runner, tmp_path)
    model_file = finished["summary"]["model"]["model_file"]
    assert "torch" in sys.modules   # (this test process has it: the reader below does not use it)
    info = read_model_file(model_file)
    prov = info.provenance
    assert prov is not None and prov.node == "train" and prov.component == "training.Trainer"
    assert [n["id"] for n in prov.graph["nodes"]] == [n["id"] for n in graph["nodes"]]
    assert prov.graph["edges"] and prov.components["training.Trainer"] == components.registry.get(
        "training.Trainer").version
    # the node's key and the key of everything it depends on, and nothing else
    assert prov.key == finished["key"] == ex.plan.keys["train"]
    assert set(prov.keys) == {"input", "flatten", "dense", "output", "dataset", "format", "optimizer", "train"}
    dataset = components.registry.get("data.CatsVsDogs")
    fingerprint = dataset.fingerprint(ex.validation.params["dataset"])
    assert prov.dataset_fingerprint == fingerprint == prov.fingerprints["dataset"]
    history = finished["summary"]["model"]["history"]
    best = finished["summary"]["model"]["best_epoch"]
    assert prov.epoch == best and prov.epochs == 2
    assert prov.metrics == pytest.approx({k: v for k, v in history[best - 1].items() if k != "epoch"})
    assert info.classes == ["cat", "dog"] and info.input_shape == [32, 32, 3] and info.parameters > 0
    # the file still loads to predict, and the trained value round-trips what a later node needs
    _, trained = load_model_file(model_file)
    assert trained.trainable and trained.trained_with is not None and trained.trained_with.kind


def test_an_old_file_without_provenance_still_loads_and_other_files_are_refused(tmp_path):
    from components.torchkit.model import load_model_file

    old = _model_file(tmp_path, 1, backbone=False, size=16)   # saved outside a run: no provenance
    payload = torch.load(old, weights_only=True)
    assert "provenance" not in payload
    for key in ("provenance", "trainable", "phase", "optimizer", "trained_with"):
        payload.pop(key, None)
    torch.save(payload, old)   # as files were saved before provenance and the trained value's extras
    info = read_model_file(old)
    assert info.provenance is None and info.classes == ["cat", "dog"] and info.parameters == 16 * 16 * 3 + 1
    model, loaded = load_model_file(old)
    assert loaded.classes == ["cat", "dog"] and loaded.trainable == [] and loaded.trained_with is None
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2)}, other)
    jpeg = make_image_folder(tmp_path / "pets", per_class=1) / "Cat" / "0.jpg"
    for bad in (other, b"hello, not a model", jpeg.read_bytes(), jpeg):
        with pytest.raises(NotAModelFile):
            read_model_file(bad)


def _photos(count: int = 3) -> list:
    base = SHARED_DATA / "PetImages"
    if not base.is_dir():
        pytest.skip("../shared/data/cats_vs_dogs is absent")
    return sorted((base / "Cat").glob("*.jpg"))[:count] + sorted((base / "Dog").glob("*.jpg"))[:count]


def _model_file(tmp_path, units: int, backbone: bool, size: int = 64):
    """[EfficientNet-Lite0 with its ImageNet weights (batch normalization to fold) ->] Flatten ->
    a random Dense head of logits."""
    import components
    from components.torchkit.model import StagedModel, save_model_file
    from components.values import LayerSpec, TrainedModel

    layers, feat = [], (size, size, 3)
    if backbone:
        comp = components.registry.get("backbones.EfficientNetLite0")
        bparams = comp.Params(weights="imagenet")
        feat = comp.out_shape(bparams, (size, size, 3))
        layers.append(LayerSpec("backbone", comp.id, comp.version, bparams.model_dump(mode="json"),
                                (size, size, 3), feat))
    flat = (feat[0] * feat[1] * feat[2],)
    layers += [LayerSpec("flatten", "layers.Flatten", 1, {}, feat, flat),
               LayerSpec("out", "layers.Dense", 1, {"units": units, "activation": "linear"}, flat, (units,))]
    torch.manual_seed(units)
    model = StagedModel(layers)
    with torch.no_grad():   # a head that gives spread-out probabilities
        for p in model.get_submodule("out").parameters():
            p.mul_(20 if backbone else 3)
    trained = TrainedModel(layers=layers, state=model.state_dict(), classes=["cat", "dog"],
                           input_shape=(size, size, 3), output_shape=(units,), trainable=["out"],
                           history=[{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.6, "val_accuracy": 0.7}],
                           best_epoch=1)
    return save_model_file(tmp_path / f"m{units}.pt", trained)


@pytest.mark.parametrize("units, backbone", [(2, True), (1, False)])
def test_onnx_export_matches_torch_probabilities_on_real_photos(tmp_path, units, backbone):
    import onnx
    import onnxruntime as ort

    from backend.predict import predict_paths
    from components.torchkit.exchange import export_onnx
    from components.torchkit.images import format_image

    photos = _photos()
    model_file = _model_file(tmp_path, units, backbone)
    out = tmp_path / "m.onnx"
    export_onnx(model_file, out)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["classes"]) == ["cat", "dog"]
    assert json.loads(meta["input_size"]) == {"height": 64, "width": 64, "channels": 3}
    norm = json.loads(meta["normalization"])
    assert norm["input_range"] == [0, 1]
    assert [n["stage"] for n in norm["in_model"]] == (["backbone:normalize"] if backbone else [])
    assert json.loads(meta["output"])["activation"] == ("sigmoid" if units == 1 else "softmax")

    expected = np.array([[row["probabilities"][c] for c in ("cat", "dog")] for row in predict_paths(model_file, photos)])
    images = np.stack([format_image(p, 64, 64, 3) for p in photos]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(["probabilities"], {"image": images})
    assert got.shape == (len(photos), 2)
    assert np.abs(got - expected).max() < 1e-4
    assert expected[:, 1].std() > 0.01   # not a constant answer that would match anything
