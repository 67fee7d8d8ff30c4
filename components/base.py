"""Shared shape of layer components: a symbolic tensor in, a symbolic tensor out."""
from __future__ import annotations

from typing import Any, ClassVar

from backend.engine import TENSOR, Component, InferError, Port, Spec

from .values import LayerSpec, SymbolicTensor

TENSOR_IN = Port("input", TENSOR, {"en": "Input", "zh": "输入"})
TENSOR_OUT = Port("output", TENSOR, {"en": "Output", "zh": "输出"})


class LayerComponent(Component):
    """A layer: ``out_shape`` at edit time, ``build`` (torch modules) at train time."""

    category = "layers"
    inputs = (TENSOR_IN,)
    outputs = (TENSOR_OUT,)
    # Backbones expose named stages that can be frozen and unfrozen one by one.
    backbone: ClassVar[bool] = False

    def out_shape(self, params: Any, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def out_info(self, params: Any) -> dict[str, Any]:
        return {}

    def infer(self, params, inputs):
        in_spec = inputs["input"]
        shape = self.out_shape(params, tuple(in_spec.shape))
        info = dict(in_spec.info)
        info.update(self.out_info(params))
        return {"output": Spec(TENSOR, shape, info)}

    def run(self, ctx, params, inputs):
        source: SymbolicTensor = inputs["input"]
        shape = self.out_shape(params, tuple(source.shape))
        layer = LayerSpec(node=ctx.node_id, component=self.id, version=self.version,
                          params=params.model_dump(mode="json"), in_shape=tuple(source.shape),
                          out_shape=shape)
        return {"output": SymbolicTensor(shape=shape, layers=[*source.layers, layer])}

    def build(self, params: Any, in_shape: tuple[int, ...]) -> list[tuple[str, Any]]:
        """Torch modules for this layer as (stage name, module); '' names the layer itself."""
        raise NotImplementedError

    def stage_costs(self, params: Any, in_shape: tuple[int, ...]) -> list[Any]:
        """Each stage's weights, multiply-adds and output size per image (``backend.engine.cost``
        StageCost, see components/costs.py), from shapes alone: the editor shows them."""
        raise NotImplementedError

    def frozen_stages(self, params: Any) -> set[str]:
        """Stage names that do not train in the first phase."""
        return set()


def current_fine_tune_layers(ctx, layer: LayerSpec) -> list[str] | None:
    """A backbone layer's fine_tune_layers as its node says now (the param is deferred, so the
    value stored with a cached model may be older); None for layers that have none."""
    chosen = layer.params.get("fine_tune_layers")
    if chosen is not None and ctx.node_type(layer.node) == layer.component:
        chosen = ctx.deferred(layer.node).get("fine_tune_layers", chosen)
    return chosen


def require_rank(in_shape: tuple[int, ...], rank: int, what: str) -> None:
    if len(in_shape) != rank:
        shape = "x".join(map(str, in_shape))
        raise InferError(f"{what} needs a {'HxWxC image tensor' if rank == 3 else f'rank-{rank} tensor'}, "
                         f"got {shape}", port="input")
