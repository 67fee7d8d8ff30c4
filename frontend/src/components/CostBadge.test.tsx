import { describe, expect, it } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { CostChip } from "./CostBadge";
import { Inspector } from "./Inspector";
import { cardNodes, indexValidation } from "../lib/canvasElements";
import { bytes, count, duration, type NodeCost } from "../lib/cost";
import { useEditor } from "../store/editor";
import { useLang } from "../i18n";
import { catalog, template } from "../test/fixtures";
import type { Validation } from "../types";

// What the server says for the offline template's first trainer (backend/engine/cost.py), with
// 2,000 training and 1,000 validation images known and a 1 GiB GPU.
const trainer: NodeCost = {
  model: { params: 11563521, trainable: 8192513, flops: 197547424, activation_bytes: 46779920, batch_size: 20,
    batch_from: "train", stages: 22 },
  training: { images: { train: 2000, validation: 1000, test: 1000 }, feature_cache: true, feature_stage: "flatten",
    feature_bytes_per_image: 128000, feature_cache_bytes: 384000000, epoch_seconds: 28.7, feature_seconds: 9.5,
    speed: { train_flops_per_s: 2e9, feature_flops_per_s: 6e10, source: "default", samples: 0, worker: "local/cpu" },
    memory_bytes: 495814748, gpu_memory_bytes: 268435456 },
  warnings: [{ code: "gpu_memory_exceeded", message: "train: needs about 0.5 GiB ...", params: { need_gib: 0.5, have_gib: 0.3 } }],
};
const dense: NodeCost = {
  model: { params: 11563264, trainable: 8192256, flops: 197547168, activation_bytes: 46779840, batch_size: 20,
    batch_from: "train", stages: 21 },
  warnings: [],
};

function validation(costs: Record<string, NodeCost>): Validation {
  return { ok: true, issues: [], specs: {}, keys: {}, cached: {}, costs } as Validation;
}

describe("cost figures", () => {
  it("formats counts, bytes and durations", () => {
    expect(count(11563521)).toBe("11.6M");
    expect(count(15346630656)).toBe("15.3G");
    expect(count(512)).toBe("512");
    expect(bytes(384000000)).toBe("366 MB");
    expect(duration(28.7, "en")).toBe("29 s");
    expect(duration(600, "zh")).toBe("10 分钟");
  });

  it("shows weights and FLOPs on a layer's card, the time per epoch and a warning on a trainer's", () => {
    useLang.getState().setLang("en");
    const { rerender } = render(<CostChip cost={dense} lang="en" />);
    expect(screen.getByTestId("node-cost").textContent).toBe("11.6M weights · 198M FLOPs");
    rerender(<CostChip cost={dense} lang="zh" />);
    expect(screen.getByTestId("node-cost").textContent).toBe("11.6M 参数 · 198M FLOPs");
    rerender(<CostChip cost={trainer} lang="zh" />);
    const chip = screen.getByTestId("node-cost");
    expect(chip.textContent).toBe("约 29 秒/轮");
    expect(chip.dataset.warning).toBe("gpu_memory_exceeded");
    expect(chip.title).toContain("约需 0.5 GiB 显存，而工作进程的 GPU 只有 0.3 GiB");
  });

  it("lists every figure in the inspector, in the person's language", () => {
    useEditor.getState().setCatalog(catalog);
    useEditor.getState().load(template());
    useEditor.getState().select(["train"]);
    useEditor.getState().setValidation(validation({ train: trainer, dense }), 1);
    useLang.getState().setLang("en");
    render(<Inspector />);
    const section = screen.getByTestId("inspector-cost");
    expect(section.textContent).toContain("What it will cost");
    expect(screen.getByTestId("cost-params").textContent).toContain("11,563,521 (8,192,513 trainable)");
    expect(screen.getByTestId("cost-flops").textContent).toContain("198M FLOPs");
    expect(screen.getByTestId("cost-activations").textContent).toContain("batch of 20 (the batch size of train)");
    expect(screen.getByTestId("cost-cache").textContent).toContain("366 MB: 3,000 feature maps × 125 KB after flatten");
    expect(screen.getByTestId("cost-epoch").textContent).toContain("about 29 s");
    expect(screen.getByTestId("cost-epoch").textContent).toContain("estimate from a default figure for a CPU");
    expect(screen.getByTestId("cost-memory").textContent).toContain("about 473 MB of the worker's 256 MB");
    expect(screen.getByTestId("cost-warning").dataset.code).toBe("gpu_memory_exceeded");
    act(() => useLang.getState().setLang("zh"));
    expect(screen.getByTestId("inspector-cost").textContent).toContain("开销估算");
    expect(screen.getByTestId("cost-params").textContent).toContain("11,563,521（可训练 8,192,513）");
    expect(screen.getByTestId("cost-epoch").textContent).toContain("估算值，依据 CPU 的默认速度");
    // measured: the worker and how many measurements
    act(() => useEditor.getState().setValidation(validation({ train: { ...trainer, training: { ...trainer.training!,
      speed: { ...trainer.training!.speed!, source: "measured", samples: 3 } } } }), 2));
    expect(screen.getByTestId("cost-epoch").textContent).toContain("此工作进程实测的速度（本机 CPU，3 次测量）");
  });

  it("gives a card its cost, and a new card only when the cost it shows changes", () => {
    const graph = template();
    const inputs = { graph, catalog, selected: new Set<string>(), measured: new Map(), statuses: {}, width: 240 };
    const first = cardNodes({ ...inputs, validation: indexValidation(validation({ dense })) }, new Map());
    const card = first.find((c) => c.id === "dense")!;
    expect(card.data.cost?.model?.params).toBe(11563264);
    const previous = new Map(first.map((c) => [c.id, c]));
    const same = cardNodes({ ...inputs, validation: indexValidation(validation({ dense: structuredClone(dense) })) }, previous);
    expect(same.find((c) => c.id === "dense")).toBe(card);
    const changed = { ...dense, model: { ...dense.model!, batch_size: 64, activation_bytes: 1, trainable: 5 } };
    const after = cardNodes({ ...inputs, validation: indexValidation(validation({ dense: changed })) }, previous);
    expect(after.find((c) => c.id === "dense")).not.toBe(card);
  });
});
