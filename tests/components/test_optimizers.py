"""Each optimizer component builds its own torch optimizer from the spec it made."""
import pytest
import torch
from pydantic import ValidationError

import components
from backend.engine import NodeError
from components.optimizers.base import build_optimizer
from components.torchkit.optim import RMSprop as FastRMSprop
from components.values import OptimizerSpec


def _weights():
    return [torch.nn.Parameter(torch.zeros(3))]


def _spec(component_id: str, **params) -> OptimizerSpec:
    comp = components.registry.get(component_id)
    return comp.spec(comp.Params(**params))


def test_the_spec_holds_every_option_with_its_defaults():
    spec = _spec("optimizers.Adam", learning_rate=0.01)
    assert spec.kind == "adam" and spec.learning_rate == 0.01
    assert spec.options == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "weight_decay": 0.0}


@pytest.mark.parametrize("component_id, torch_class, group", [
    ("optimizers.Adam", torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.999), "eps": 1e-7, "weight_decay": 0.0}),
    ("optimizers.SGD", torch.optim.SGD, {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
    ("optimizers.RMSprop", FastRMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-7, "momentum": 0.0}),
])
def test_each_component_builds_its_torch_optimizer(component_id, torch_class, group):
    params = {"learning_rate": 0.01, **({"beta_1": 0.8} if component_id == "optimizers.Adam" else {})}
    optimizer = build_optimizer(_spec(component_id, **params), _weights())
    assert type(optimizer) is torch_class
    assert {k: optimizer.param_groups[0][k] for k in group} == group


def test_a_spec_without_options_takes_the_component_defaults():
    # a spec stored before its options were all written out
    optimizer = build_optimizer(OptimizerSpec(kind="adam", learning_rate=0.5), _weights())
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.999) and optimizer.param_groups[0]["eps"] == 1e-7


def test_an_unknown_kind_is_a_node_error():
    with pytest.raises(NodeError, match="unknown optimizer kind"):
        build_optimizer(OptimizerSpec(kind="lion", learning_rate=0.1), _weights())


def test_nesterov_needs_momentum():
    with pytest.raises(ValidationError, match="Nesterov"):
        components.registry.get("optimizers.SGD").Params(nesterov=True)
    assert build_optimizer(_spec("optimizers.SGD", nesterov=True, momentum=0.9), _weights()).param_groups[0]["nesterov"]


def test_fine_tune_without_an_optimizer_scales_the_one_the_model_was_trained_with():
    from components.values import TrainedModel

    finetune = components.registry.get("training.FineTune")

    class Ctx:
        def log(self, *a, **k):
            pass

    def tuned(trained_with):
        model = TrainedModel(layers=[], state={}, classes=["a", "b"], input_shape=(8, 8, 3), output_shape=(1,),
                             trainable=[], trained_with=trained_with)
        out = finetune.run(Ctx(), finetune.Params(learning_rate_factor=0.1), {"model": model})
        return out["model"].optimizer

    adam = tuned(_spec("optimizers.Adam", learning_rate=1e-3, beta_1=0.8))
    assert adam.kind == "adam" and adam.learning_rate == pytest.approx(1e-4) and adam.options["beta_1"] == 0.8
    # a model that does not say: RMSprop with its defaults
    default = tuned(None)
    assert default.kind == "rmsprop" and default.learning_rate == pytest.approx(2e-6)
    assert default.options == {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7}
