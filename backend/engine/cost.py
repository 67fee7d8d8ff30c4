"""What a graph will cost, known while editing: parameters, multiply-adds, activation memory,
a trainer's feature cache, its time per epoch and whether it fits the worker's GPU.

Pure Python, from the shapes validation inferred: each layer component describes its stages
(``stage_costs``: parameters, multiply-adds and output size per image, worked out from the
shapes), so the server never builds a torch module to count. Tests check the figures against
torch's own (``sum(p.numel())`` and ``FlopCounterMode``).

FLOPs follow the convention of model papers: one multiply-add is one FLOP (VGG16 at 224 px
is "15.5 GFLOPs"); torch's ``FlopCounterMode`` counts each as two. Only convolutions and
matrix products are counted, as torch's counter does (activations, pooling and batch
normalization are a few percent at most).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal

from pydantic import BaseModel, Field, JsonValue

from .graph import Graph
from .validate import Validation

FLOAT_BYTES = 4
DEFAULT_BATCH = 32
# State each optimizer keeps per trainable weight (RMSprop: the average square; Adam: two
# moments; SGD: a momentum buffer when momentum is on).
OPTIMIZER_STATE = {"rmsprop": 1, "adam": 2, "sgd": 1}


@dataclass(frozen=True)
class StageCost:
    """One stage of a layer as the torch model will have it (``StagedModel`` stage names)."""

    name: str            # the stage's suffix: '' for the layer itself, a backbone's layer name
    params: int          # weights (torch's ``sum(p.numel())`` of the stage's module)
    macs: int            # multiply-adds of one image's forward pass
    out_elements: int    # the stage's output for one image
    stochastic: bool = False  # dropout: its output differs between passes (ends a cacheable prefix)


# -- what the API sends --------------------------------------------------------------------
class ModelCost(BaseModel):
    """The model that ends at a node (from its Input), as it will train there."""

    params: int = Field(description="weights of the whole model")
    trainable: int = Field(description="weights that train in this phase (frozen layers left out)")
    flops: int = Field(description="multiply-adds of one image's forward pass, counted as papers count FLOPs "
                                   "(VGG16 at 224 px: 15.5 G); torch's FlopCounterMode counts each as two")
    activation_bytes: int = Field(description="float32 outputs of every stage for one batch: what the forward pass "
                                              "keeps for the backward pass (a layer's inner buffers not counted)")
    batch_size: int
    batch_from: str | None = Field(None, description="the trainer whose batch size is used; None: the default 32")
    stages: int = Field(description="torch stages of the model")


class SpeedFigure(BaseModel):
    """A worker's speed, measured in earlier runs or a default figure."""

    train_flops_per_s: float = Field(description="multiply-adds a second while training (forward, backward, update)")
    feature_flops_per_s: float = Field(description="multiply-adds a second in a frozen front's feature pass")
    source: Literal["measured", "default"]
    samples: int = Field(0, description="trainer epochs and feature passes it was measured on")
    worker: str = Field("", description="the worker it belongs to, e.g. local/cpu")


class TrainingCost(BaseModel):
    """What a trainer will cost: its feature cache, its time, its GPU memory."""

    images: dict[str, int] | None = Field(None, description="images per split (from the stored dataset), if known")
    feature_cache: bool = Field(description="whether the frozen front's outputs are cached")
    feature_stage: str | None = Field(None, description="the stage whose output is cached")
    feature_bytes_per_image: int = 0
    feature_cache_bytes: int | None = Field(None, description="the cache on disk: training + validation images "
                                                              "x feature size x 4 bytes")
    epoch_seconds: float | None = Field(None, description="estimated time of one epoch (training and validation)")
    feature_seconds: float | None = Field(None, description="estimated time of the one feature pass, before epoch 1")
    speed: SpeedFigure | None = None
    memory_bytes: int = Field(description="estimated GPU memory: weights, gradients, optimizer state, one batch's "
                                          "activations and the splits kept on the device")
    gpu_memory_bytes: int | None = Field(None, description="the worker's GPU memory, when it reports one")


class CostWarning(BaseModel):
    code: Literal["gpu_memory_exceeded"]
    message: str
    params: dict[str, JsonValue] = Field(default_factory=dict)


class NodeCost(BaseModel):
    model: ModelCost | None = None
    training: TrainingCost | None = None
    warnings: list[CostWarning] = Field(default_factory=list)


# -- the chain of layers that makes a model --------------------------------------------------
@dataclass(frozen=True)
class _Stage:
    node: str
    backbone: bool
    cost: StageCost
    first_phase: bool   # trains in the first phase (its layer does not freeze it)


@dataclass
class _Model:
    """The stages from the Input to a node, linked back (a chain of n layers costs O(n), not
    O(n^2)), with the totals a layer node shows; ``trainable`` replaces the first-phase rule
    once a fine-tune step chose other layers."""

    parent: "_Model | None"
    own: tuple[_Stage, ...]
    params: int = 0
    trainable_params: int = 0
    macs: int = 0
    out_elements: int = 0
    count: int = 0   # stages
    trainable: frozenset[tuple[str, str]] | None = None   # (node, stage suffix)

    @functools.cached_property
    def stages(self) -> list[_Stage]:
        parts, m = [], self
        while m is not None:
            parts.append(m.own)
            m = m.parent
        return [s for part in reversed(parts) for s in part]

    def is_trainable(self, s: _Stage) -> bool:
        chosen = s.first_phase if self.trainable is None else (s.node, s.cost.name) in self.trainable
        return chosen and s.cost.params > 0


@functools.lru_cache(maxsize=4096)
def _stage_costs(component: Any, params_json: str, in_shape: tuple[int, ...]) -> tuple[StageCost, ...]:
    params = component.Params.model_validate_json(params_json)
    return tuple(component.stage_costs(params, in_shape))


class _Chains:
    """Each node's model, followed back along its ``input``/``model`` ports (memoised)."""

    def __init__(self, v: Validation, components: dict[str, Any]):
        self.v, self.components = v, components
        self.memo: dict[str, _Model | None] = {}

    def source(self, nid: str, port: str) -> str | None:
        src = self.v.inputs.get(nid, {}).get(port)
        return src[0] if src else None

    def model(self, nid: str) -> _Model | None:
        if nid not in self.memo:
            self.memo[nid] = None   # a cycle ends here
            self.memo[nid] = self._model(nid)
        return self.memo[nid]

    def _model(self, nid: str) -> _Model | None:
        comp, params = self.components.get(nid), self.v.params.get(nid)
        if comp is None or params is None or nid not in self.v.specs:
            return None
        if comp.id == "layers.Input":
            return _Model(None, ())
        if hasattr(comp, "stage_costs"):
            return self._layer(nid, comp, params)
        if comp.id == "training.FineTune":
            return self._fine_tuned(nid, params)
        src = self.source(nid, "model")   # a trainer (or anything that passes a model on)
        return self.model(src) if src else None

    def _layer(self, nid: str, comp: Any, params: Any) -> _Model | None:
        src = self.source(nid, "input")
        upstream = self.model(src) if src else None
        in_spec = self.v.specs.get(src or "", {}).get(self.v.inputs[nid]["input"][1]) if src else None
        if upstream is None or in_spec is None or in_spec.shape is None:
            return None
        try:
            costs = _stage_costs(comp, params.model_dump_json(), tuple(in_spec.shape))
        except NotImplementedError:   # a layer that does not describe its stages: no figures after it
            return None
        frozen = comp.frozen_stages(params)
        own = tuple(_Stage(nid, comp.backbone, c, c.name not in frozen) for c in costs)
        m = _Model(upstream, own, trainable=upstream.trainable)
        m.params = upstream.params + sum(c.params for c in costs)
        m.trainable_params = upstream.trainable_params + sum(s.cost.params for s in own if m.is_trainable(s))
        m.macs = upstream.macs + sum(c.macs for c in costs)
        m.out_elements = upstream.out_elements + sum(c.out_elements for c in costs)
        m.count = upstream.count + len(own)
        return m

    def _fine_tuned(self, nid: str, params: Any) -> _Model | None:
        """The backbones' chosen layers (the node's, else each backbone's fine_tune_layers) and
        every layer that is not a backbone train; the rest of the backbones is frozen."""
        src = self.source(nid, "model")
        trained = self.model(src) if src else None
        if trained is None:
            return None
        trainable: set[tuple[str, str]] = set()
        stages = trained.stages
        for s in stages:
            if not s.backbone:
                trainable.add((s.node, s.cost.name))
                continue
            chosen = params.layers or getattr(self.v.params.get(s.node), "fine_tune_layers", None) or []
            if s.cost.name in chosen:
                trainable.add((s.node, s.cost.name))
        m = _Model(None, tuple(stages), trained.params, 0, trained.macs, trained.out_elements, len(stages),
                   frozenset(trainable))
        m.trainable_params = sum(s.cost.params for s in stages if m.is_trainable(s))
        return m


# -- the figures ------------------------------------------------------------------------------
def _frozen_prefix(m: _Model) -> int:
    """Leading stages with nothing to train that give the same output every time
    (``torchkit.model.frozen_prefix_length``): 0 when they hold no weights."""
    n, weighty = 0, False
    for s in m.stages:
        if m.is_trainable(s) or s.cost.stochastic:
            break
        weighty = weighty or s.cost.params > 0
        n += 1
    return n if weighty else 0


def _model_cost(m: _Model, batch: int, batch_from: str | None) -> ModelCost:
    return ModelCost(params=m.params, trainable=m.trainable_params, flops=m.macs,
                     activation_bytes=batch * FLOAT_BYTES * m.out_elements,
                     batch_size=batch, batch_from=batch_from, stages=m.count)


@dataclass(frozen=True)
class EpochWork:
    """A trainer's work in multiply-adds: each epoch's, and the one feature pass before it."""

    epoch_macs: int
    feature_macs: int
    prefix: int            # stages computed once (0: none cached)
    prefix_macs: int       # the cached stages' multiply-adds per image
    train_macs_per_image: int = 0   # one training image's forward and backward pass


def epoch_work(m: _Model, cached: bool, n_train: int, n_val: int) -> EpochWork:
    """Each epoch runs the stages after the cached prefix forward on every image, and backward
    (about twice the forward: the gradients of the inputs and of the weights) from the first
    trainable stage on, for the training images; the validation images go forward only."""
    prefix = _frozen_prefix(m) if cached else 0
    running = m.stages[prefix:]
    first = next((i for i, s in enumerate(running) if m.is_trainable(s)), len(running))
    forward = sum(s.cost.macs for s in running)
    backward = 2 * sum(s.cost.macs for s in running[first:])
    prefix_macs = sum(s.cost.macs for s in m.stages[:prefix])
    return EpochWork(n_train * (forward + backward) + n_val * forward, (n_train + n_val) * prefix_macs, prefix,
                     prefix_macs, forward + backward)


def _caches_features(params: Any, images_info: dict[str, Any]) -> bool:
    """The trainer's rule (``torchkit.train``): on unless turned off or the images are randomly
    augmented (fixed augmentation variants keep it on)."""
    return bool(params.feature_cache) and (images_info.get("augmentation", "none") == "none"
                                           or bool(images_info.get("variants")))


def _training_cost(nid: str, params: Any, m: _Model, images_info: dict[str, Any], sizes: dict[str, int] | None,
                   optimizer: str | None, speed: SpeedFigure | None, gpu_memory: int | None) -> TrainingCost:
    cached = _caches_features(params, images_info)
    n_train, n_val = (sizes.get("train", 0), sizes.get("validation", 0)) if sizes else (0, 0)
    work = epoch_work(m, cached, n_train, n_val)
    variants = max(1, int(images_info.get("variants") or 0)) if cached else 1
    if variants > 1:   # each fixed variant of each training image goes through the prefix once
        work = replace(work, feature_macs=(n_train * variants + n_val) * work.prefix_macs)
    prefix = work.prefix
    feature_elements = m.stages[prefix - 1].cost.out_elements if prefix else 0
    stage = None
    if prefix:
        s = m.stages[prefix - 1]
        stage = f"{s.node}:{s.cost.name}" if s.cost.name else s.node
    out = TrainingCost(images=sizes, feature_cache=bool(prefix), feature_stage=stage,
                       feature_bytes_per_image=feature_elements * FLOAT_BYTES,
                       memory_bytes=_memory_bytes(m, prefix, params.batch_size, optimizer, n_train * variants + n_val,
                                                  feature_elements))
    if sizes is not None:
        out.feature_cache_bytes = (n_train * variants + n_val) * feature_elements * FLOAT_BYTES if prefix else None
        if speed is not None:
            out.speed = speed
            out.epoch_seconds = round(work.epoch_macs / speed.train_flops_per_s, 1)
            out.feature_seconds = round(work.feature_macs / speed.feature_flops_per_s, 1) if prefix else None
    out.gpu_memory_bytes = gpu_memory
    return out


def _memory_bytes(m: _Model, prefix: int, batch: int, optimizer: str | None, images: int,
                  feature_elements: int) -> int:
    """Weights, gradients and optimizer state of the trainable weights, one batch's stage
    outputs after the cached prefix, and the cached features kept on the device (the trainer
    keeps a split there when it fits)."""
    weights = sum(s.cost.params for s in m.stages)
    trainable = sum(s.cost.params for s in m.stages if m.is_trainable(s))
    state = OPTIMIZER_STATE.get(optimizer or "rmsprop", 2)
    activations = batch * sum(s.cost.out_elements for s in m.stages[prefix:])
    return FLOAT_BYTES * (weights + trainable * (1 + state) + activations + images * feature_elements)


def gpu_warning(nid: str, need: int, have: int | None) -> CostWarning | None:
    """A warning with the numbers when the estimate does not fit the worker's GPU memory."""
    if have is None or need <= have:
        return None
    gib = 2 ** 30
    return CostWarning(code="gpu_memory_exceeded",
                       message=f"{nid}: needs about {need / gib:.1f} GiB of GPU memory, the worker's GPU has "
                               f"{have / gib:.1f} GiB: lower the batch size or the image size, or freeze more layers",
                       params={"need_gib": round(need / gib, 1), "have_gib": round(have / gib, 1)})


def _batches(v: Validation, components: dict[str, Any]) -> dict[str, tuple[int, str | None]]:
    """Each node's batch size: a trainer's own, else that of a trainer downstream (one pass,
    last node first), else the default."""
    successors: dict[str, list[str]] = {}
    for target, ports in v.inputs.items():
        for src, _port in ports.values():
            successors.setdefault(src, []).append(target)
    out: dict[str, tuple[int, str | None]] = {}
    for nid in reversed(v.order):
        comp = components.get(nid)
        if comp is not None and comp.id == "training.Trainer" and nid in v.params:
            out[nid] = (v.params[nid].batch_size, nid)
            continue
        found = (out[n] for n in successors.get(nid, ()) if n in out and out[n][1] is not None)
        out[nid] = next(found, (DEFAULT_BATCH, None))
    return out


def _setup(graph: Graph, v: Validation, registry: Any) -> tuple[dict[str, Any], _Chains]:
    components = {n.id: c for n in graph.nodes if (c := registry.get(n.type)) is not None}
    return components, _Chains(v, components)


def trainer_work(graph: Graph, v: Validation, registry: Any, nid: str, n_train: int, n_val: int) -> EpochWork | None:
    """A trainer's work (what a measured epoch is divided by to give a speed); None when the
    node is not a trainer whose model is known."""
    components, chains = _setup(graph, v, registry)
    comp, params = components.get(nid), v.params.get(nid)
    m = chains.model(nid) if comp is not None and comp.id == "training.Trainer" and params is not None else None
    if m is None or not m.count:
        return None
    images_src = chains.source(nid, "images")
    images_spec = v.specs.get(images_src or "", {}).get("images")
    return epoch_work(m, _caches_features(params, images_spec.info if images_spec else {}), n_train, n_val)


def graph_costs(graph: Graph, v: Validation, registry: Any, *, sizes: Callable[[str], dict[str, int] | None] = lambda nid: None,
                speed: SpeedFigure | None = None, gpu_memory: int | None = None) -> dict[str, NodeCost]:
    """Every model node's and trainer's costs. ``sizes(trainer)``: the images per split the
    trainer will see (from stored results), None while unknown; ``speed``: the worker's speed
    (measured, or a default); ``gpu_memory``: bytes, when the worker has a GPU."""
    components, chains = _setup(graph, v, registry)
    batches = _batches(v, components)
    out: dict[str, NodeCost] = {}
    for nid in v.order:
        comp = components.get(nid)
        if comp is None or comp.id == "layers.Input":
            continue
        m = chains.model(nid)
        if m is None or not m.count:
            continue
        if comp.id == "training.Trainer":
            params = v.params[nid]
            cost = NodeCost(model=_model_cost(m, params.batch_size, nid))
            images_src = chains.source(nid, "images")
            images_spec = v.specs.get(images_src or "", {}).get("images")
            opt_src = chains.source(nid, "optimizer")
            optimizer = (v.specs.get(opt_src, {}).get("optimizer").info.get("kind")  # type: ignore[union-attr]
                         if opt_src and v.specs.get(opt_src, {}).get("optimizer") else None)
            cost.training = _training_cost(nid, params, m, images_spec.info if images_spec else {}, sizes(nid),
                                           optimizer, speed, gpu_memory)
            warning = gpu_warning(nid, cost.training.memory_bytes, gpu_memory)
            if warning:
                cost.warnings.append(warning)
        elif hasattr(comp, "stage_costs") or comp.id == "training.FineTune":
            batch, source = batches[nid]
            cost = NodeCost(model=_model_cost(m, batch, source))
        else:
            continue
        out[nid] = cost
    return out


# -- speed measured in earlier runs ----------------------------------------------------------
# Figures used before a worker has trained anything (labelled "default" in the editor), in
# multiply-adds a second, from bench/README.md. CPU: this project's 2-core machine, the offline
# template on all photos (3,000 images through EfficientNet-Lite0 at 150 px, 0.19 G each, in
# 33 s; the Dense 32,000 -> 256 head's loop at 590 images/s, 24.6 M each). GPU: one H200, VGG16's
# head loop at 8,700 images/s (6.3 M each); its feature pass was not measured apart, so that
# figure is a round guess for a large GPU in TF32.
DEFAULT_SPEED = {"cpu": SpeedFigure(train_flops_per_s=14e9, feature_flops_per_s=17e9, source="default",
                                    worker="cpu"),
                 "gpu": SpeedFigure(train_flops_per_s=55e9, feature_flops_per_s=10e12, source="default",
                                    worker="gpu")}


@dataclass(frozen=True)
class SpeedSample:
    """One trainer's measured work in an earlier run."""

    worker: str
    train_macs: int = 0
    train_seconds: float = 0.0
    feature_macs: int = 0
    feature_seconds: float = 0.0


def weighted_median(pairs: list[tuple[float, float]]) -> float:
    """The median of (value, weight) pairs: the value at half of the total weight (between two
    values, their mean), so equal weights give the plain median."""
    pairs = sorted(pairs)
    half, seen = sum(w for _, w in pairs) / 2, 0.0
    for i, (value, weight) in enumerate(pairs):
        seen += weight
        if seen > half:
            return value
        if seen == half and i + 1 < len(pairs):
            return (value + pairs[i + 1][0]) / 2
    return pairs[-1][0]


def combine_samples(samples: list[SpeedSample], worker: str) -> SpeedFigure | None:
    """The worker's speed: the median rate over its samples, each weighted by the seconds it
    measured (a quick run on a few images, whose fixed costs make it look slow, counts for
    little against a real one), each kind measured separately; the default figure stands in
    for a kind never measured."""
    mine = [s for s in samples if s.worker == worker]
    train = [(s.train_macs / s.train_seconds, s.train_seconds) for s in mine if s.train_seconds > 0 and s.train_macs > 0]
    feature = [(s.feature_macs / s.feature_seconds, s.feature_seconds) for s in mine
               if s.feature_seconds > 0 and s.feature_macs > 0]
    if not train and not feature:
        return None
    default = DEFAULT_SPEED["gpu" if worker.endswith("gpu") else "cpu"]
    return SpeedFigure(train_flops_per_s=weighted_median(train) if train else default.train_flops_per_s,
                       feature_flops_per_s=weighted_median(feature) if feature else default.feature_flops_per_s,
                       source="measured", samples=len(train) + len(feature), worker=worker)

