from __future__ import annotations

from pydantic import Field

from backend.engine import MODEL, OPTIMIZER, Component, InferError, Params, Port, Spec


class FineTuneParams(Params):
    layers: list[str] | None = Field(
        None, description="Backbone layers to unfreeze; empty uses the backbone's fine_tune_layers",
        json_schema_extra={"x-choices-from": "backbone_layers"})
    learning_rate_factor: float = Field(
        0.5, gt=0, le=1, description="Without an optimizer input: the trained model's learning rate times this")


class FineTune(Component):
    id = "training.FineTune"
    name = {"en": "Fine-tune", "zh": "模型微调"}
    description = {"en": "Unfreezes chosen backbone layers of a trained model, freezes the rest, attaches a new optimizer",
                   "zh": "解冻已训练模型中选定的骨干网络层，冻结其余层，并配置新的优化器"}
    category = "training"
    inputs = (
        Port("model", MODEL, {"en": "Trained model", "zh": "已训练模型"}),
        Port("optimizer", OPTIMIZER, {"en": "Optimizer", "zh": "优化器"}, optional=True),
    )
    outputs = (Port("model", MODEL, {"en": "Model to fine-tune", "zh": "待微调模型"}),)
    Params = FineTuneParams
    reads_deferred = True

    def infer(self, params, inputs):
        model = inputs["model"]
        names = model.info.get("backbone_layers") or []
        if not names:
            raise InferError("the model has no pretrained backbone to fine-tune", port="model")
        unknown = [n for n in (params.layers or []) if n not in names]
        if unknown:
            raise InferError(f"not layers of the backbone: {', '.join(unknown)}", code="invalid_param",
                             param="layers")
        return {"model": Spec(MODEL, model.shape, {**model.info, "optimizer": True})}

    def run(self, ctx, params, inputs):
        from ..torchkit.model import stage_name
        from ..values import OptimizerSpec, TrainedModel

        from components import registry

        from ..base import current_fine_tune_layers

        trained: TrainedModel = inputs["model"]
        trainable = set()
        for layer in trained.layers:
            if registry.get(layer.component).backbone:
                chosen = params.layers or current_fine_tune_layers(ctx, layer) or []
                trainable.update(stage_name(layer.node, n) for n in chosen)
            else:
                trainable.add(layer.node)
        optimizer = inputs.get("optimizer")
        if optimizer is None:
            base = trained.trained_with or OptimizerSpec(kind="rmsprop", learning_rate=2e-5)
            optimizer = OptimizerSpec(kind=base.kind, learning_rate=base.learning_rate * params.learning_rate_factor,
                                      options=dict(base.options))
        ctx.log(f"unfreezing {len(trainable)} stages; optimizer {optimizer.kind} "
                f"lr={optimizer.learning_rate:g}", trainable=sorted(trainable))
        model = TrainedModel(**{**trained.__dict__, "trainable": sorted(trainable), "optimizer": optimizer,
                                "history": [], "best_epoch": None, "model_file": None, "phase": "finetune",
                                "weights_in_model_file": False})
        return {"model": model}
