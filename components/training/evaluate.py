from __future__ import annotations

from typing import Literal

from backend.engine import IMAGES, MODEL, REPORT, Component, InferError, ParamField, Params, Port, Spec

SPLITS = Literal["test", "validation", "train"]


class EvaluateParams(Params):
    split: SPLITS = ParamField("test", title={"en": "Split", "zh": "数据划分"},
                               description={"en": "Which split to evaluate on", "zh": "在哪个数据划分上评估"},
                               choices={"test": {"en": "Test", "zh": "测试集"},
                                        "validation": {"en": "Validation", "zh": "验证集"},
                                        "train": {"en": "Training", "zh": "训练集"}})
    samples: int = ParamField(8, ge=0, le=64, title={"en": "Sample images", "zh": "示例图像数"},
                              description={"en": "How many images to show with their predictions",
                                           "zh": "展示多少张图像及其预测结果"})


class Evaluate(Component):
    id = "training.Evaluate"
    name = {"en": "Evaluate", "zh": "模型评估"}
    description = {"en": "Loss, accuracy and confusion matrix on a split (test by default)",
                   "zh": "在一个数据划分（默认测试集）上计算损失、准确率和混淆矩阵"}
    category = "training"
    version = 2  # 2: the report names the dataset root its sample paths are relative to
    inputs = (
        Port("model", MODEL, {"en": "Trained model", "zh": "已训练模型"}),
        Port("images", IMAGES, {"en": "Images", "zh": "图像"}),
    )
    outputs = (Port("report", REPORT, {"en": "Report", "zh": "评估报告"}),)
    Params = EvaluateParams
    persist = True

    def infer(self, params, inputs):
        model, images = inputs["model"], inputs["images"]
        expected = tuple(model.info.get("input_shape") or ())
        if expected and tuple(images.shape) != expected:
            raise InferError(f"the images are {images.describe()} but the model's input is "
                             f"{'x'.join(map(str, expected))}", port="images")
        return {"report": Spec(REPORT, info={"split": params.split})}

    def run(self, ctx, params, inputs):
        from ..torchkit.model import configure_threads, model_from_trained, pick_device
        from ..torchkit.train import chosen_precision, _pixels, evaluate, inference_batch, load_images
        from ..values import EvaluationReport

        configure_threads(ctx.settings.threads)
        device = pick_device(ctx.settings.device)
        trained, fmt = inputs["model"], inputs["images"]
        images, labels = load_images(ctx, fmt, params.split)
        model = model_from_trained(trained)
        ctx.progress(0, 1, unit="split", phase=f"evaluate {params.split}", code="evaluate", split=params.split)
        # chosen as a trainer chooses (measured on a GPU), on a batch of the size it evaluates in
        batch = inference_batch(device, _pixels(images))
        precision = chosen_precision(ctx, model, images[:batch], device).precision
        res = evaluate(model, trained, images, labels, device, precision, batch=batch)
        probs = res["probs"]
        pred = probs.argmax(1)
        k = len(trained.classes)
        confusion = [[0] * k for _ in range(k)]
        for t, p in zip(labels.tolist(), pred.tolist()):
            confusion[t][p] += 1
        import json
        from pathlib import Path

        files = json.loads((ctx.artifact_dir(fmt.cache_key) / f"{params.split}.json").read_text())["files"]
        samples = [{"path": files[i], "label": trained.classes[int(labels[i])],
                    "predicted": trained.classes[int(pred[i])], "probability": float(probs[i, pred[i]])}
                   for i in range(min(params.samples, len(files)))]
        ctx.log(f"{params.split} accuracy {res['accuracy']:.4f}, loss {res['loss']:.4f}", code="evaluated",
                params={"split": params.split, "accuracy": res["accuracy"], "loss": res["loss"]})
        return {"report": EvaluationReport(split=params.split, loss=res["loss"], accuracy=res["accuracy"],
                                           classes=list(trained.classes), confusion=confusion, samples=samples,
                                           root=str(Path(fmt.dataset.root).resolve()))}
