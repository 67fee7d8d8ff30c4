from __future__ import annotations

from backend.engine import MODEL, OPTIMIZER, Component, InferError, ParamField, Params, Port, Spec


class FineTuneParams(Params):
    layers: list[str] | None = ParamField(
        None, title={"en": "Layers to unfreeze", "zh": "解冻的层"},
        description={"en": "Backbone layers to unfreeze; empty uses the backbone's fine_tune_layers",
                     "zh": "要解冻的骨干网络层；留空则使用骨干网络的“微调层”"},
        json_schema_extra={"x-choices-from": "backbone_layers"})
    learning_rate_factor: float = ParamField(
        0.5, gt=0, le=1, title={"en": "Learning rate factor", "zh": "学习率系数"},
        description={"en": "Without an optimizer input: the trained model's learning rate times this",
                     "zh": "未连接优化器时：已训练模型的学习率乘以此系数"})


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
        from ..optimizers.rmsprop import RMSprop, RMSpropParams
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
            # the optimizer it was trained with, at a smaller learning rate (RMSprop's defaults
            # for a model that does not say)
            base = trained.trained_with or RMSprop().spec(RMSpropParams())
            optimizer = OptimizerSpec(kind=base.kind, learning_rate=base.learning_rate * params.learning_rate_factor,
                                      options=dict(base.options))
        ctx.log(f"unfreezing {len(trainable)} stages; optimizer {optimizer.kind} "
                f"lr={optimizer.learning_rate:g}", trainable=sorted(trainable), code="unfreezing",
                params={"count": len(trainable), "optimizer": optimizer.kind,
                        "learning_rate": f"{optimizer.learning_rate:g}"})
        model = TrainedModel(**{**trained.__dict__, "trainable": sorted(trainable), "optimizer": optimizer,
                                "history": [], "best_epoch": None, "model_file": None, "phase": "finetune", "stopped_epoch": None,
                                "weights_in_model_file": False})
        return {"model": model}
