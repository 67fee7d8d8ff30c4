import pytest
import torch
import torchvision

import components
from backend.engine import TENSOR, NodeError, Spec
from components.backbones.efficientnet_lite0 import LITE0_NAMES
from components.backbones.vgg16 import VGG16_NAMES


def _comp(cid, **params):
    comp = components.registry.get(cid)
    return comp, comp.Params.model_validate(params)


def _run(stages, in_shape, upto=None):
    x = torch.rand(1, in_shape[2], in_shape[0], in_shape[1])
    with torch.no_grad():
        for name, m in stages:
            m.eval()
            x = m(x)
            if name == upto:
                break
    return tuple(x.shape[2:]) + (x.shape[1],)


def test_vgg16_layers_have_keras_names():
    assert VGG16_NAMES[0] == "block1_conv1" and VGG16_NAMES[-1] == "block5_pool"
    assert len(VGG16_NAMES) == 18 and "block4_pool" in VGG16_NAMES
    comp, p = _comp("backbones.VGG16", weights="none")
    names = [n for n, _ in comp.build(p, (64, 64, 3))]
    assert names == ["normalize", *VGG16_NAMES]
    schema = comp.Params.model_json_schema()
    assert "block5_conv1" in schema["properties"]["fine_tune_layers"]["items"]["enum"]


def test_vgg16_infer_matches_torch():
    comp, p = _comp("backbones.VGG16", weights="none")
    assert comp.infer(p, {"input": Spec(TENSOR, (150, 150, 3))})["output"].shape == (4, 4, 512)
    assert comp.out_shape(p, (150, 150, 3), upto="block4_pool") == (9, 9, 512)
    stages = comp.build(p, (150, 150, 3))
    assert _run(stages, (150, 150, 3)) == (4, 4, 512)
    assert _run(stages, (150, 150, 3), upto="block4_pool") == (9, 9, 512)


def test_vgg16_imagenet_weights_missing_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    comp, p = _comp("backbones.VGG16")
    with pytest.raises(NodeError) as err:
        comp.build(p, (64, 64, 3))
    assert "vgg16-397923af.pth" in str(err.value) and str(tmp_path / "torch") in str(err.value)
    assert err.value.code == "weights_missing"


def test_vgg16_loads_torchvision_weights_from_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    reference = torchvision.models.vgg16(weights=None).features
    target = tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth"
    target.parent.mkdir(parents=True)
    torch.save({f"features.{k}": v for k, v in reference.state_dict().items()}, target)
    comp, p = _comp("backbones.VGG16")
    stages = dict(comp.build(p, (64, 64, 3)))
    assert torch.equal(stages["block1_conv1"][0].weight, reference[0].weight)
    assert torch.equal(stages["block5_conv3"][0].bias, reference[28].bias)
    x = torch.rand(1, 3, 64, 64)
    ours = x
    for m in stages.values():
        ours = m(ours)
    theirs = reference(stages["normalize"](x))
    assert torch.allclose(ours, theirs, atol=1e-5)
    # the same file given explicitly
    comp, p = _comp("backbones.VGG16", weights="file", weights_file=str(target))
    assert torch.equal(dict(comp.build(p, (64, 64, 3)))["block3_conv2"][0].weight, reference[12].weight)


def test_weight_file_that_is_not_vgg16(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"something": torch.zeros(1)}, bad)
    comp, p = _comp("backbones.VGG16", weights="file", weights_file=str(bad))
    with pytest.raises(NodeError, match="block1_conv1"):
        comp.build(p, (64, 64, 3))
    comp, p = _comp("backbones.VGG16", weights="file", weights_file=str(tmp_path / "absent.pth"))
    with pytest.raises(NodeError, match="not found"):
        comp.build(p, (64, 64, 3))


def test_efficientnet_lite0_names_shapes_and_offline_weights():
    comp, p = _comp("backbones.EfficientNetLite0")
    assert comp.infer(p, {"input": Spec(TENSOR, (150, 150, 3))})["output"].shape == (5, 5, 1280)
    stages = comp.build(p, (150, 150, 3))
    assert [n for n, _ in stages] == ["normalize", *LITE0_NAMES]
    assert _run(stages, (150, 150, 3)) == (5, 5, 1280)
    assert _run(stages, (150, 150, 3), upto="block6d") == comp.out_shape(p, (150, 150, 3), upto="block6d")
    random_stages = comp.build(comp.Params.model_validate({"weights": "none"}), (150, 150, 3))
    assert not torch.equal(dict(stages)["stem"].conv.weight, dict(random_stages)["stem"].conv.weight)


def test_backbones_freeze_everything_as_feature_extractors():
    for cid in ("backbones.VGG16", "backbones.EfficientNetLite0"):
        comp, p = _comp(cid)
        assert set(comp.layer_names) <= comp.frozen_stages(p)
        comp, p = _comp(cid, feature_extractor=False)
        assert comp.frozen_stages(p) == {"normalize"}


def test_batchnorm_folding_keeps_the_outputs():
    from components.torchkit.model import fused_for_inference

    comp, p = _comp("backbones.EfficientNetLite0")
    net = torch.nn.Sequential(*[m for _, m in comp.build(p, (64, 64, 3))]).eval()
    fused = fused_for_inference(net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())   # the original is untouched
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(x), fused(x), atol=1e-4, rtol=1e-4)


def test_weight_files_are_read_once_per_process_until_they_change(tmp_path):
    """A worker (or Ray actor) keeps loaded backbone weights warm between runs."""
    import os

    from components.backbones.common import cached_state

    path = tmp_path / "w.pt"
    path.write_bytes(b"one")
    reads = []

    def load(p):
        reads.append(p)
        return {"data": p.read_bytes()}

    assert cached_state(path, load) == {"data": b"one"}
    assert cached_state(path, load) is cached_state(path, load)
    assert len(reads) == 1
    path.write_bytes(b"two!")
    os.utime(path, ns=(1, 1))
    assert cached_state(path, load) == {"data": b"two!"} and len(reads) == 2
