"""A trained model knows whether it outputs logits and turns outputs into probabilities."""
import pytest
import torch

from components.values import LayerSpec, TrainedModel


def _model(activation: str, units: int) -> TrainedModel:
    dense = LayerSpec(node="out", component="layers.Dense", version=1,
                      params={"units": units, "activation": activation}, in_shape=(4,), out_shape=(units,))
    return TrainedModel(layers=[dense], state={}, classes=[str(i) for i in range(max(units, 2))],
                        input_shape=(8, 8, 3), output_shape=(units,), trainable=[])


@pytest.mark.parametrize("activation, logits", [("linear", True), ("sigmoid", False), ("softmax", False),
                                                ("relu", False)])
def test_from_logits_means_a_last_dense_without_activation(activation, logits):
    assert _model(activation, 1).from_logits is logits


def test_a_model_ending_in_another_layer_does_not_output_logits():
    dropout = LayerSpec(node="d", component="layers.Dropout", version=1, params={"rate": 0.5}, in_shape=(2,),
                        out_shape=(2,))
    model = _model("linear", 2)
    model.layers = [*model.layers, dropout]
    assert not model.from_logits


def test_binary_outputs_become_two_columns():
    logits = torch.tensor([[0.0], [2.0]])
    probs = _model("linear", 1).probabilities(logits)
    assert probs.shape == (2, 2)
    assert torch.allclose(probs[:, 1], torch.sigmoid(logits[:, 0])) and torch.allclose(probs.sum(1), torch.ones(2))
    assert torch.allclose(_model("sigmoid", 1).probabilities(torch.tensor([[0.25]])), torch.tensor([[0.75, 0.25]]))


def test_several_classes_take_a_softmax_of_logits_and_keep_probabilities():
    out = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.allclose(_model("linear", 3).probabilities(out), torch.softmax(out, 1))
    softmaxed = torch.softmax(out, 1)
    assert torch.equal(_model("softmax", 3).probabilities(softmaxed), softmaxed)
