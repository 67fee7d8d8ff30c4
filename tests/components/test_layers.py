import pytest
import torch

import components
from backend.engine import TENSOR, InferError, Spec


def _infer(cid, params, in_shape=None):
    comp = components.registry.get(cid)
    p = comp.Params.model_validate(params)
    inputs = {"input": Spec(TENSOR, in_shape)} if in_shape else {}
    return comp, p, comp.infer(p, inputs)["output"].shape


def _forward(comp, p, in_shape, batch=2):
    modules = comp.build(p, in_shape)
    x = torch.rand(batch, *in_shape) if len(in_shape) == 1 else torch.rand(batch, in_shape[2], *in_shape[:2])
    for _, m in modules:
        x = m(x)
    return x


def test_input_infer():
    _, _, shape = _infer("layers.Input", {"height": 150, "width": 120, "channels": 3})
    assert shape == (150, 120, 3)


def test_flatten_infer_and_run():
    comp, p, shape = _infer("layers.Flatten", {}, (4, 4, 512))
    assert shape == (8192,)
    assert _forward(comp, p, (4, 4, 512)).shape == (2, 8192)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softmax", "tanh", "linear"])
def test_dense_infer_and_run(activation):
    comp, p, shape = _infer("layers.Dense", {"units": 5, "activation": activation}, (8192,))
    assert shape == (5,)
    out = _forward(comp, p, (8192,))
    assert out.shape == (2, 5)
    if activation == "softmax":
        assert torch.allclose(out.sum(1), torch.ones(2))


def test_dense_needs_a_vector():
    with pytest.raises(InferError, match="Flatten"):
        _infer("layers.Dense", {}, (4, 4, 512))


def test_dropout_infer_and_run():
    comp, p, shape = _infer("layers.Dropout", {"rate": 0.5}, (256,))
    assert shape == (256,)
    module = comp.build(p, (256,))[0][1]
    module.train()
    assert (module(torch.ones(1, 256)) == 0).any()
    module.eval()
    assert torch.equal(module(torch.ones(1, 256)), torch.ones(1, 256))


def test_component_descriptions_have_both_languages_and_schemas():
    for comp in components.registry.all():
        d = comp.describe()
        assert d["name"]["en"] and d["name"]["zh"], comp.id
        assert d["params_schema"]["type"] == "object"
        assert isinstance(d["defaults"], dict)
