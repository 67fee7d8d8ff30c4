"""The editor's cost figures against torch's own: the weights of the modules the components
build (exactly, trainable ones too, in both training phases) and their multiply-adds
(torch's FlopCounterMode counts a multiply-add as two FLOPs)."""
import copy

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import components
from backend.engine import Graph, validate
from backend.engine.cost import graph_costs
from backend.engine.templates import find_template
from components.torchkit.model import StagedModel
from components.values import LayerSpec

REGISTRY = components.registry


def _template(name: str) -> dict:
    doc = copy.deepcopy(find_template(name)["graph"])
    for node in doc["nodes"]:
        if node["type"].startswith("backbones."):
            node["params"]["weights"] = "none"   # the shapes and counts only: no weight file read
    return doc


def _chain(doc: dict, last: str) -> list[LayerSpec]:
    """The layer specs from the Input to ``last``, as running the layers would make them."""
    v = validate(Graph.model_validate(doc), REGISTRY)
    by_id = {n["id"]: n for n in doc["nodes"]}
    into = {e["target"]: e["source"] for e in doc["edges"] if e["targetHandle"] == "input"}
    chain, nid = [], last
    while nid in into:
        src = into[nid]
        comp = REGISTRY.get(by_id[nid]["type"])
        chain.append(LayerSpec(node=nid, component=comp.id, version=comp.version,
                               params=v.params[nid].model_dump(mode="json"),
                               in_shape=v.specs[src]["output"].shape, out_shape=v.specs[nid]["output"].shape))
        nid = src
    return chain[::-1]


def _built(chain: list[LayerSpec]) -> StagedModel:
    with torch.device("meta"):   # shapes only: no memory, no weight initialisation
        return StagedModel(chain)


def _costs(doc: dict):
    g = Graph.model_validate(doc)
    v = validate(g, REGISTRY)
    assert v.issues == []
    return graph_costs(g, v, REGISTRY)


def _torch_macs(model: torch.nn.Module, shape: tuple[int, ...]) -> int:
    h, w, c = shape
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():   # on the meta device: shapes only, nothing computed
        model.eval()(torch.zeros(1, c, h, w, device="meta"))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("template,last", [("model_optimization_finetuning", "output"),
                                           ("model_optimization_finetuning_offline", "output")])
def test_parameters_and_flops_match_torch(template, last):
    doc = _template(template)
    costs = _costs(doc)
    model = _built(_chain(doc, last))
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for n, m in model.named_children() if n not in model.initially_frozen
                    for p in m.parameters())
    assert costs[last].model.params == params
    assert costs[last].model.trainable == trainable
    assert costs["train"].model.trainable == trainable
    assert costs[last].model.flops == _torch_macs(model, (150, 150, 3))
    # each layer node shows the model that ends there
    first = _chain(doc, last)[0].node
    backbone = _built(_chain(doc, first))
    assert costs[first].model.params == sum(p.numel() for p in backbone.parameters())
    assert costs[first].model.trainable == 0   # a feature extractor trains nothing


@pytest.mark.parametrize("template", ["model_optimization_finetuning", "model_optimization_finetuning_offline"])
def test_fine_tuning_trains_the_chosen_layers_and_the_head(template):
    doc = _template(template)
    costs = _costs(doc)
    chain = _chain(doc, "output")
    model = _built(chain)
    backbone = chain[0]
    chosen = {f"{backbone.node}:{n}" for n in backbone.params["fine_tune_layers"]}
    model.set_trainable(chosen | {layer.node for layer in chain[1:]})
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert costs["finetune"].model.trainable == trainable
    assert costs["train_finetuned"].model.trainable == trainable
    assert costs["train"].model.trainable < trainable


def test_unfreezing_the_backbone_makes_all_of_it_trainable():
    doc = _template("model_optimization_finetuning")
    next(n for n in doc["nodes"] if n["id"] == "vgg16")["params"]["feature_extractor"] = False
    costs = _costs(doc)
    assert costs["output"].model.trainable == costs["output"].model.params
    assert costs["train"].training.feature_cache is False   # nothing frozen to cache


def test_vgg16_at_224_is_15_5_gflops():
    doc = {"nodes": [{"id": "in", "type": "layers.Input", "params": {"height": 224, "width": 224}},
                     {"id": "vgg", "type": "backbones.VGG16", "params": {"weights": "none"}}],
           "edges": [{"source": "in", "sourceHandle": "output", "target": "vgg", "targetHandle": "input"}]}
    cost = _costs(doc)["vgg"].model
    assert abs(cost.flops - 15.5e9) / 15.5e9 < 0.02, cost.flops
    assert cost.params == 14_714_688   # Keras' VGG16(include_top=False)
    model = _built(_chain(doc, "vgg"))
    assert cost.flops == _torch_macs(model, (224, 224, 3))


@pytest.mark.parametrize("size", [(224, 224), (97, 131)])
def test_efficientnet_lite0_counts_at_odd_sizes(size):
    doc = {"nodes": [{"id": "in", "type": "layers.Input", "params": {"height": size[0], "width": size[1]}},
                     {"id": "b", "type": "backbones.EfficientNetLite0", "params": {"weights": "none"}}],
           "edges": [{"source": "in", "sourceHandle": "output", "target": "b", "targetHandle": "input"}]}
    cost = _costs(doc)["b"].model
    model = _built(_chain(doc, "b"))
    assert cost.params == sum(p.numel() for p in model.parameters())
    assert cost.flops == _torch_macs(model, (*size, 3))
    if size == (224, 224):   # the paper's figure: 0.4 G multiply-adds
        assert 0.38e9 < cost.flops < 0.42e9
