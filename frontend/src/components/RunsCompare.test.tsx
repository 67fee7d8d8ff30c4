import { describe, expect, it } from "vitest";
import { duration, overlaySeries, tableColumns } from "./RunsCompare";
import type { RunSummary } from "../types";

const row = (id: string, trainers: string[], evaluations: string[] = []) => ({
  id, trainers: trainers.map((node) => ({ node, epochs: 2, best_epoch: 1, metrics: {}, cached: false })),
  evaluations: evaluations.map((node) => ({ node, split: "test", accuracy: 0.9, loss: 0.2 })),
}) as unknown as Parameters<typeof tableColumns>[0][number];

describe("RunsCompare", () => {
  it("words durations", () => {
    expect(duration(4.42)).toBe("4.4 s");
    expect(duration(185)).toBe("3 min 05 s");
    expect(duration(3725)).toBe("1 h 02 min");
    expect(duration(null)).toBe("–");
  });

  it("lists the trainers and evaluations of every run, oldest run's first", () => {
    const rows = [row("b", ["train", "train_finetuned"], ["evaluate"]), row("a", ["train"])];
    expect(tableColumns(rows)).toEqual({ trainers: ["train", "train_finetuned"], evaluations: ["evaluate"] });
  });

  it("makes one series per run of a trainer's metric, skipping epochs without it", () => {
    const summary = (values: (number | null)[]) => ({
      metrics: { train: values.map((v, i) => ({ epoch: i + 1, metrics: { val_loss: v } })) },
    }) as unknown as RunSummary;
    const series = overlaySeries([
      { id: "a", label: "a v1", summary: summary([0.5, 0.4]) },
      { id: "b", label: "b v2", summary: summary([0.6, null, 0.3]) },
      { id: "c", label: "c v3" },
    ], "train", "val_loss");
    expect(series.map((s) => s.points)).toEqual([
      [{ x: 1, y: 0.5 }, { x: 2, y: 0.4 }], [{ x: 1, y: 0.6 }, { x: 3, y: 0.3 }], []]);
    expect(new Set(series.map((s) => s.color)).size).toBe(3);
  });
});
