from __future__ import annotations

from typing import Literal

from backend.engine import (IMAGES, MODEL, OPTIMIZER, TENSOR, TRAINABLE, Component, InferError, ParamField, Params,
                            Port, Spec)

LossChoice = Literal["auto", "binary_crossentropy", "categorical_crossentropy"]


class TrainerParams(Params):
    batch_size: int = ParamField(20, ge=1, le=4096, title={"en": "Batch size", "zh": "批大小"},
                                 description={"en": "Images per training step", "zh": "每个训练步使用的图像数"})
    epochs: int = ParamField(10, ge=1, le=1000, title={"en": "Epochs", "zh": "训练轮数"},
                             description={"en": "Passes over the training split", "zh": "遍历训练集的次数"})
    loss: LossChoice = ParamField(
        "auto", title={"en": "Loss", "zh": "损失函数"},
        description={"en": "Auto: binary cross-entropy for one output, categorical cross-entropy for N",
                     "zh": "自动：单个输出用二元交叉熵，多个输出用多类交叉熵"},
        choices={"auto": {"en": "Auto", "zh": "自动"},
                 "binary_crossentropy": {"en": "Binary cross-entropy", "zh": "二元交叉熵"},
                 "categorical_crossentropy": {"en": "Categorical cross-entropy", "zh": "多类交叉熵"}})
    seed: int = ParamField(42, ge=0, title={"en": "Seed", "zh": "随机种子"},
                           description={"en": "Seed for weight initialisation and shuffling",
                                        "zh": "权重初始化与打乱顺序所用的随机种子"})
    feature_cache: bool = ParamField(
        True, title={"en": "Feature cache", "zh": "特征缓存"},
        description={"en": "Compute the frozen front of the model once and train the rest on it",
                     "zh": "冻结的前部网络只计算一次，其余部分在其输出上训练"})
    keep_best: bool = ParamField(
        True, title={"en": "Keep the best weights", "zh": "保留最佳权重"},
        description={"en": "Keep the weights of the epoch with the best validation accuracy",
                     "zh": "保留验证准确率最高的那一轮的权重"})
    monitor: Literal["val_loss", "val_accuracy"] = ParamField(
        "val_loss", title={"en": "Monitor", "zh": "监控指标"},
        description={"en": "The metric early stopping and the learning-rate reduction watch",
                     "zh": "提前停止与学习率衰减所监控的指标"},
        choices={"val_loss": {"en": "Validation loss", "zh": "验证损失"},
                 "val_accuracy": {"en": "Validation accuracy", "zh": "验证准确率"}})
    min_delta: float = ParamField(
        0.0, ge=0, title={"en": "Minimum change", "zh": "最小改进量"},
        description={"en": "A smaller change of the monitored metric counts as no improvement",
                     "zh": "监控指标的变化小于此值时不算改进"})
    early_stopping_patience: int = ParamField(
        0, ge=0, le=1000, title={"en": "Early stopping patience", "zh": "提前停止耐心值"},
        description={"en": "Stop after this many epochs without improvement (0: off)",
                     "zh": "连续这么多轮没有改进就停止训练（0：关闭）"})
    reduce_lr_patience: int = ParamField(
        0, ge=0, le=1000, title={"en": "Reduce learning rate: patience", "zh": "学习率衰减耐心值"},
        description={"en": "Multiply the learning rate by the factor after this many epochs without "
                           "improvement (0: off)",
                     "zh": "连续这么多轮没有改进就把学习率乘以衰减系数（0：关闭）"})
    reduce_lr_factor: float = ParamField(
        0.1, gt=0, lt=1, title={"en": "Reduce learning rate: factor", "zh": "学习率衰减系数"},
        description={"en": "The new learning rate is the old one times this",
                     "zh": "新学习率等于旧学习率乘以此系数"})
    min_lr: float = ParamField(
        0.0, ge=0, title={"en": "Minimum learning rate", "zh": "最小学习率"},
        description={"en": "The learning rate is never reduced below this", "zh": "学习率不会降到此值以下"})


def resolve_loss(loss: str, units: int) -> str:
    if loss != "auto":
        return loss
    return "binary_crossentropy" if units == 1 else "categorical_crossentropy"


class Trainer(Component):
    id = "training.Trainer"
    name = {"en": "Trainer", "zh": "模型训练"}
    description = {"en": "Trains a model on formatted images, validating every epoch",
                   "zh": "在格式化的图像上训练模型，每轮验证"}
    category = "training"
    inputs = (
        Port("model", TRAINABLE, {"en": "Model", "zh": "模型"}),
        Port("images", IMAGES, {"en": "Images", "zh": "图像"}),
        Port("optimizer", OPTIMIZER, {"en": "Optimizer", "zh": "优化器"}, optional=True),
    )
    outputs = (Port("model", MODEL, {"en": "Trained model", "zh": "训练后的模型"}),)
    Params = TrainerParams
    persist = True

    def infer(self, params, inputs):
        model, images = inputs["model"], inputs["images"]
        if "optimizer" not in inputs and not model.info.get("optimizer"):
            raise InferError("connect an optimizer (or train a model prepared by a fine-tune step)",
                             code="missing_input", port="optimizer")
        input_shape = tuple(model.info.get("input_shape") or ())
        if input_shape and tuple(images.shape) != input_shape:
            raise InferError(f"the images are {'x'.join(map(str, images.shape))} but the model's input is "
                             f"{'x'.join(map(str, input_shape))}", port="images")
        out = tuple(model.shape or ())
        classes = images.info.get("classes") or []
        if len(out) != 1:
            raise InferError(f"the model's output must be a vector (add Flatten and Dense), got "
                             f"{'x'.join(map(str, out))}", port="model")
        loss = resolve_loss(params.loss, out[0])
        if loss == "binary_crossentropy" and out[0] != 1:
            raise InferError(f"binary cross-entropy needs one output unit, the model has {out[0]}",
                             code="invalid_param", param="loss")
        if loss == "binary_crossentropy" and len(classes) > 2:
            raise InferError(f"binary cross-entropy tells two classes apart, the images have {len(classes)}: "
                             f"end the model with Dense({len(classes)}, softmax)", port="model")
        if loss == "categorical_crossentropy" and classes and out[0] != len(classes):
            raise InferError(f"the model has {out[0]} outputs for {len(classes)} classes", port="model")
        info = {k: v for k, v in model.info.items() if k != "optimizer"}
        info.update({"classes": classes, "loss": loss})
        return {"model": Spec(MODEL, out, info)}

    def run(self, ctx, params, inputs):
        import torch

        from ..torchkit.model import StagedModel, configure_threads, model_from_trained, model_provenance, \
            pick_device, save_model_file
        from ..torchkit.train import FitConfig, fit, remove_checkpoints
        from ..torchkit.callbacks import CallbackConfig
        from ..values import SymbolicTensor, TrainedModel

        configure_threads(ctx.settings.threads)
        device = pick_device(ctx.settings.device)
        source, fmt = inputs["model"], inputs["images"]
        torch.manual_seed(params.seed)
        if isinstance(source, SymbolicTensor):
            model = StagedModel(source.layers)
            trainable = [n for n in model.stage_names() if n not in model.initially_frozen]
            template = TrainedModel(layers=source.layers, state={}, classes=fmt.dataset.classes,
                                    input_shape=source.layers[0].in_shape if source.layers else source.shape,
                                    output_shape=tuple(source.shape), trainable=trainable,
                                    loss=resolve_loss(params.loss, source.shape[0]))
            optimizer = inputs.get("optimizer")
        else:
            model = model_from_trained(source)
            template = TrainedModel(**{**source.__dict__, "loss": resolve_loss(params.loss, source.output_shape[0])})
            trainable = list(source.trainable)
            optimizer = inputs.get("optimizer") or source.optimizer
        model.set_trainable(set(trainable))
        ctx.log(f"training {len(model.trainable_stages())} of {len(model.stage_names())} stages on {device}",
                trainable=model.trainable_stages(), device=str(device), code="training_stages",
                params={"trainable": len(model.trainable_stages()), "stages": len(model.stage_names()),
                        "device": str(device)})
        cfg = FitConfig(batch_size=params.batch_size, epochs=params.epochs, loss=template.loss, seed=params.seed,
                        feature_cache=params.feature_cache, keep_best=params.keep_best,
                        callbacks=CallbackConfig(monitor=params.monitor, min_delta=params.min_delta,
                                                 early_stopping_patience=params.early_stopping_patience,
                                                 reduce_lr_patience=params.reduce_lr_patience,
                                                 reduce_lr_factor=params.reduce_lr_factor, min_lr=params.min_lr))
        trained = fit(ctx, model, fmt, optimizer, cfg, device, template,
                      keep_points=self._fine_tune_points(ctx, model, template.layers))
        trained.model_file = str(save_model_file(ctx.artifact_dir() / "model.pt", trained,
                                                 provenance=model_provenance(ctx, trained)))
        trained.weights_in_model_file = True  # the stored result refers to this file for them
        remove_checkpoints(ctx)   # the model is made: nothing is left to resume
        return {"model": trained}

    @staticmethod
    def _fine_tune_points(ctx, model, layers) -> tuple[int, ...]:
        """Where a later fine-tuning of each backbone will start (its stages before that stay frozen)."""
        from ..base import current_fine_tune_layers
        from ..torchkit.model import stage_name

        names = model.stage_names()
        points = []
        for layer in layers:
            chosen = current_fine_tune_layers(ctx, layer) or []
            idx = [names.index(stage_name(layer.node, n)) for n in chosen if stage_name(layer.node, n) in names]
            if idx:
                points.append(min(idx))
        return tuple(points)
