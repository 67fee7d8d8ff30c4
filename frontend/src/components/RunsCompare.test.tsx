import { describe, expect, it } from "vitest";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { useLang } from "../i18n";
import { queryKeys } from "../lib/queries";
import { useEditor } from "../store/editor";
import { catalog, template } from "../test/fixtures";
import { columnNames, compareKeys, duration, overlaySeries, RunsCompare, tableColumns } from "./RunsCompare";
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

  it("names a column's node as its card does, in the person's language, the id in its tooltip", () => {
    const graph = template();
    graph.nodes.find((n) => n.id === "evaluate")!.label = "Test set";
    useEditor.setState({ graph });
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    client.setQueryData(queryKeys.catalog, catalog);
    client.setQueryData(compareKeys.table(1), [{
      ...row("r1", ["train", "train_finetuned"], ["evaluate"]),
      status: "done", created_at: new Date().toISOString(), graph_version: 2, seconds: 12, resumed_from: null, error: null,
    }]);
    const columns = () => screen.getAllByTestId("run-column").map((th) => [th.firstChild?.textContent, th.title]);
    useLang.getState().setLang("zh");
    const { rerender } = render(<QueryClientProvider client={client}><RunsCompare projectId={1} onClose={() => {}} /></QueryClientProvider>);
    // two unlabelled trainers share their component's name: their ids tell them apart
    expect(columns()).toEqual([
      ["模型训练 (train)", "train"], ["模型训练 (train_finetuned)", "train_finetuned"], ["Test set", "evaluate"]]);
    useLang.getState().setLang("en");
    rerender(<QueryClientProvider client={client}><RunsCompare projectId={1} onClose={() => {}} /></QueryClientProvider>);
    expect(columns()[0]).toEqual(["Trainer (train)", "train"]);
  });

  it("adds no id to a title only one column has, and keeps the id of a node no longer in the graph", () => {
    const nodes = template().nodes;
    expect(columnNames(["train", "evaluate", "gone"], nodes, catalog, "en"))
      .toEqual({ train: "Trainer", evaluate: "Evaluate", gone: "gone" });
  });
});
