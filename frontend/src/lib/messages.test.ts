import { describe, expect, it } from "vitest";
import { cancelText, failureText, flowAriaLabels, knownFailure, logText, metricName, progressText } from "./messages";
import { issueNames } from "./issues";
import { catalog, template } from "../test/fixtures";
import type { Lang } from "../types";

const CJK = /[\u4e00-\u9fff]/;
/** Latin words of 3+ letters: what a Chinese sentence must not carry besides names and values. */
const latinWords = (s: string) => s.match(/[A-Za-z]{3,}/g) ?? [];

describe("progress text", () => {
  it("words a trainer's epoch and batches from the structured fields", () => {
    const p = { step: 3, total: 3, unit: "batch", phase: "epoch 28/80", code: "epoch", epoch: 28, epochs: 80 };
    expect(progressText(p, "zh")).toBe("第 28/80 轮 · 3/3 批");
    expect(progressText(p, "en")).toBe("epoch 28/80 · 3/3 batches");
  });

  it("names the split being decoded, computed or evaluated", () => {
    expect(progressText({ step: 10, total: 40, unit: "image", code: "decode", split: "validation" }, "zh")).toBe("解码验证集图像 · 10/40 张");
    expect(progressText({ step: 10, total: 40, unit: "image", code: "features", split: "train" }, "zh")).toBe("计算训练集特征 · 10/40 张");
    expect(progressText({ step: 0, total: 1, unit: "split", code: "evaluate", split: "test" }, "zh")).toBe("在测试集上评估");
    expect(progressText({ step: 0, total: 1, unit: "split", code: "evaluate", split: "test" }, "en")).toBe("evaluating on test");
    expect(progressText({ step: 200, total: 4000, unit: "file", code: "scan" }, "zh")).toBe("扫描数据目录 · 200/4000 个文件");
  });

  it("keeps an older event's English phase when it has no code", () => {
    expect(progressText({ step: 2, total: 4, unit: "batch", phase: "epoch 2/3" }, "zh")).toBe("epoch 2/3 · 2/4 batch");
    expect(progressText(undefined, "zh")).toBe("");
  });
});

describe("log lines", () => {
  const lines: [string, Record<string, unknown>][] = [
    ["images_decoded", { count: 24, split: "train", seconds: 0.4, mb: 1 }],
    ["images_undecodable", { count: 2, split: "test" }],
    ["images_unreadable", { count: 3 }],
    ["features_reused", { split: "validation", shape: "1280x5x5", stage: "top", mb: 2 }],
    ["features_built", { split: "train", shape: "1280x5x5", stage: "top", mb: 2, seconds: 1.5, also_kept: "" }],
    ["feature_cache_off_augmentation", {}],
    ["feature_cache_disabled", {}],
    ["cancelled_weights_saved", { epoch: 3, path: "/home/var/cache/ab/cancelled-epoch3.pt" }],
    ["best_weights_restored", { epoch: 4, val_accuracy: 0.9375 }],
    ["evaluated", { split: "test", accuracy: 0.875, loss: 0.31234 }],
    ["training_stages", { trainable: 3, stages: 13, device: "cpu" }],
    ["unfreezing", { count: 4, optimizer: "rmsprop", learning_rate: "1e-05" }],
    ["dataset_split", { count: 32, train: 16, validation: 8, test: 8 }],
    ["cache_corrupt", {}],
    ["training_resumed", { epoch: 2, epochs: 5 }],
    ["no_checkpoint", {}],
    ["checkpoint_unusable", { reason: "checkpoint-epoch0002.pt does not load" }],
    ["features_built", { split: "train", shape: "1280x5x5", stage: "top", mb: 2, seconds: 1.5, also_kept: "", variant: "zoom_centre_hflip" }],
    ["features_reused", { split: "train", shape: "1280x5x5", stage: "top", mb: 2, variant: "hflip" }],
    ["feature_variants", { variants: 4, names: "plain, hflip, zoom_centre, zoom_centre_hflip", count: 2000, mb: 977, seconds: 31.5 }],
    ["lr_reduced", { epoch: 3, learning_rate: "1e-06", monitor: "val_loss", patience: 2 }],
    ["stopped_early", { epoch: 4, epochs: 10, monitor: "val_accuracy", patience: 2 }],
  ];

  it("words every code the components log in Chinese, with its params", () => {
    for (const [code, params] of lines) {
      const zh = logText({ code, params, message: "english words here", node: "train" }, "zh");
      expect(zh, code).toMatch(CJK);
      expect(zh, code).not.toContain("english");
      // Latin left only for proper names and values: devices, stage names, optimizers, paths
      for (const w of latinWords(zh)) expect(["CPU", "top", "rmsprop", "home", "var", "cache", "cancelled", "epoch"], `${code}: ${w}`).toContain(w);
    }
    expect(logText({ code: "evaluated", params: { split: "test", accuracy: 0.875, loss: 0.31234 }, message: "" }, "zh"))
      .toBe("测试集准确率 0.8750，损失 0.3123");
    expect(logText({ code: "training_stages", params: { trainable: 3, stages: 13, device: "cuda:0" }, message: "" }, "zh"))
      .toBe("在 GPU 0 上训练 13 个阶段中的 3 个");
  });

  it("names the fixed augmentation variants and the monitored metric in the person's language", () => {
    expect(logText({ code: "feature_variants", params: { variants: 2, names: "plain, hflip", count: 10, mb: 1, seconds: 2 }, message: "" }, "zh"))
      .toBe("固定数据增强：10 张训练图像各 2 个变体（原图、水平翻转）已存入特征缓存，1 MB，特征计算用时 2.0 秒");
    expect(logText({ code: "stopped_early", params: { epoch: 4, epochs: 10, monitor: "val_accuracy", patience: 2 }, message: "" }, "en"))
      .toBe("stopped early after epoch 4 of 10: validation accuracy has not improved for 2 epoch(s)");
  });

  it("words the chosen precision without English words in Chinese", () => {
    const params = { precision: "bfloat16", device: "cuda:0", how: "measured", timings: "float32 6.1 ms, bfloat16 4.2 ms" };
    expect(logText({ code: "precision_chosen", params, message: "" }, "zh"))
      .toBe("在 GPU 0 上以 bf16 精度运行（实测选定：32 位浮点 6.1 ms, bf16 4.2 ms）");
    expect(logText({ code: "precision_chosen", params: { ...params, precision: "float32", device: "cpu", how: "cpu default", timings: "" }, message: "" }, "zh"))
      .toBe("在 CPU 上以 32 位浮点 精度运行（CPU 默认）");
  });

  it("has an English sentence for each code too", () => {
    for (const [code, params] of lines) expect(logText({ code, params, message: "x" }, "en"), code).not.toBe("x");
  });

  it("falls back to the English message for a code it does not know, or none", () => {
    expect(logText({ code: "something_new", params: {}, message: "a new line" }, "zh")).toBe("a new line");
    expect(logText({ code: null, message: "plain line" }, "zh")).toBe("plain line");
  });
});

describe("failures and cancels", () => {
  it("words the engine's and the worker's codes, naming the node", () => {
    expect(failureText({ code: "worker_died", node: "train", message: "the worker process died" }, "zh")).toBe("工作进程在运行train时退出");
    const names = issueNames(template(), catalog, "zh", true);
    expect(failureText({ code: "worker_died", node: "train", message: "" }, "zh", names)).toBe("工作进程在运行模型训练时退出");
    expect(failureText({ code: "split_empty", params: { split: "validation" }, message: "" }, "zh")).toBe("验证集中没有可读取的图像");
    expect(failureText({ code: "dataset_missing", params: { path: "/data/pets" }, message: "" }, "zh")).toBe("找不到数据目录：/data/pets");
  });

  it("leads a free-form detail with its sentence, and names the param", () => {
    const names = issueNames(template(), catalog, "zh", true);
    expect(failureText({ code: "runtime_error", message: "ValueError: boom" }, "zh")).toBe("运行出错：ValueError: boom");
    expect(failureText({ code: "invalid_param", node: "vgg16", params: { param: "weights_file" }, message: "empty" }, "zh", names))
      .toBe("参数“权重文件”无效：empty");
  });

  it("keeps the English message for a code it does not know", () => {
    expect(knownFailure("made_up")).toBe(false);
    expect(failureText({ code: "made_up", message: "something broke" }, "zh")).toBe("something broke");
    expect(knownFailure("storage_full")).toBe(true);
  });

  it("says a cancel once (never “run cancelled cancelled during train”)", () => {
    expect(cancelText("train", "en")).toBe("run cancelled during train");
    expect(cancelText("train", "zh")).toBe("运行已取消（正在运行train）");
    expect(cancelText(null, "zh")).toBe("运行已取消");
  });
});

describe("names of metrics and React Flow's controls", () => {
  it("names the metrics", () => {
    expect(metricName("val_accuracy", "zh")).toBe("验证准确率");
    expect(metricName("val_accuracy", "en")).toBe("validation accuracy");
    expect(metricName("f1", "zh")).toBe("f1");
  });

  it("gives every label React Flow shows in both languages", () => {
    for (const lang of ["zh", "en"] as Lang[]) {
      const labels = flowAriaLabels(lang);
      expect(Object.keys(labels).sort()).toEqual([
        "controls.ariaLabel", "controls.fitView.ariaLabel", "controls.interactive.ariaLabel", "controls.zoomIn.ariaLabel",
        "controls.zoomOut.ariaLabel", "edge.a11yDescription.default", "handle.ariaLabel", "minimap.ariaLabel",
        "node.a11yDescription.ariaLiveMessage", "node.a11yDescription.default", "node.a11yDescription.keyboardDisabled",
      ]);
    }
    const zh = flowAriaLabels("zh");
    expect(zh["controls.zoomIn.ariaLabel"]).toBe("放大");
    expect(zh["controls.fitView.ariaLabel"]).toBe("适应视图");
    expect(zh["node.a11yDescription.ariaLiveMessage"]!({ direction: "left", x: 10, y: 20 })).toBe("已将选中的节点向左移动。新位置：x 10，y 20");
    expect(flowAriaLabels("en")["controls.zoomOut.ariaLabel"]).toBe("Zoom out");
  });
});
