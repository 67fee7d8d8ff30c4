import type { EvaluationSummary } from "../types";
import { describe, expect, it } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { ReactFlowProvider } from "@xyflow/react";
import { matches, Palette } from "./Palette";
import { RunPanel } from "./RunPanel";
import { ResultsContext } from "./context";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import { useRuns } from "../store/runs";
import { useLang } from "../i18n";
import { catalog, template } from "../test/fixtures";

const dense = catalog.components.find((c) => c.id === "layers.Dense")!;

describe("palette search", () => {
  it("matches either language, the id and the category", () => {
    expect(matches(dense, catalog, "dense")).toBe(true);
    expect(matches(dense, catalog, "全连接")).toBe(true);
    expect(matches(dense, catalog, "网络层")).toBe(true);
    expect(matches(dense, catalog, "layers.dense")).toBe(true);
    expect(matches(dense, catalog, "优化器")).toBe(false);
  });

  it("lists the matching components under their category", () => {
    useLang.getState().setLang("zh");
    useEditor.getState().setCatalog(catalog);
    render(<ReactFlowProvider><Palette /></ReactFlowProvider>);
    expect(screen.getAllByTestId("palette-item")).toHaveLength(catalog.components.length);
    act(() => {
      const input = screen.getByTestId("palette-search") as HTMLInputElement;
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
      setter.call(input, "优化器");
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const ids = screen.getAllByTestId("palette-item").map((el) => el.dataset.component);
    expect(ids).toEqual(expect.arrayContaining(["optimizers.RMSprop", "optimizers.Adam", "optimizers.SGD"]));
    expect(ids).not.toContain("layers.Dense");
  });
});

describe("run panel", () => {
  it("renders the issues tab before any validation (a stable empty list, no render loop)", () => {
    useEditor.getState().setCatalog(catalog);
    useEditor.getState().load(template());
    useUi.getState().openPanel("issues");
    useLang.getState().setLang("en");
    render(<RunPanel />);
    expect(screen.getByText("The graph has no issues.")).toBeTruthy();
    act(() => useEditor.getState().setValidation({ ok: false, issues: [{ code: "missing_input", message: "train needs images", node: "train", port: "images" }], specs: {}, keys: {}, cached: {} }, 1));
    expect(screen.getByTestId("issue-row").textContent).toContain("train.images");
  });

  it("leads each issue with a sentence in the UI language, then the server's message", () => {
    useEditor.getState().setCatalog(catalog);
    useEditor.getState().load(template());
    useUi.getState().openPanel("issues");
    useLang.getState().setLang("zh");
    const message = "train: required input 'images' is not connected";
    render(<RunPanel />);
    act(() => useEditor.getState().setValidation({ ok: false, issues: [{ code: "missing_input", message, node: "train", port: "images" }], specs: {}, keys: {}, cached: {} }, 1));
    const row = screen.getByTestId("issue-row");
    expect(row.querySelector(".issue-lead")!.textContent).toBe("“模型训练 (train)” 的必需输入 “图像 (images)” 未连接");
    expect(row.querySelector(".issue-msg")!.textContent).toContain(message);
    act(() => useLang.getState().setLang("en"));
    expect(screen.getByTestId("issue-row").querySelector(".issue-lead")!.textContent)
      .toBe("Required input “Images (images)” of “Trainer (train)” is not connected");
  });

  it("offers to resume a failed or interrupted run, and says which run a resumed one continues", () => {
    useLang.getState().setLang("en");
    const base = { project_id: 1, targets: ["train"], mode: "to" as const, created_at: "2024-01-01T00:00:00", auto_resumes: 0 };
    useRuns.setState({ latestRunId: "aa" });
    useRuns.getState().upsertRun({ ...base, id: "aa", status: "interrupted" });
    render(<RunPanel />);
    expect(screen.getByTestId("panel-resume").textContent).toContain("Resume");
    act(() => {
      useRuns.getState().upsertRun({ ...base, id: "bb", status: "running", resumed_from: "aa" });
      useRuns.setState({ latestRunId: "bb" });
    });
    expect(screen.queryByTestId("panel-resume")).toBeNull();
    expect(screen.getByTestId("run-resumed-from").textContent).toContain("resumes #aa");
    act(() => useRuns.getState().reset(null));
  });

  it("shows evaluation samples as images from the server, right ones green and wrong ones red", () => {
    useEditor.getState().setCatalog(catalog);
    useEditor.getState().load(template());
    useUi.getState().openPanel("eval");
    useLang.getState().setLang("en");
    const report: EvaluationSummary = {
      kind: "evaluation", split: "validation",
      accuracy: 0.5, loss: 0.7, classes: ["cat", "dog"], confusion: [[1, 0], [1, 0]], root: "/data/pets",
      samples: [
        { path: "Cat/1.jpg", label: "cat", predicted: "cat", probability: 0.91 },
        { path: "Dog/2.jpg", label: "dog", predicted: "cat", probability: 0.62 },
      ],
    };
    render(
      <ResultsContext.Provider value={{ evaluate: { key: "k", runId: "ab12", cached: false, summary: { report } } }}>
        <RunPanel />
      </ResultsContext.Provider>,
    );
    const tiles = screen.getAllByTestId("eval-sample");
    expect(tiles).toHaveLength(2);
    expect(tiles.map((t) => t.querySelector("img")!.getAttribute("src")))
      .toEqual(["/api/runs/ab12/samples/evaluate/0", "/api/runs/ab12/samples/evaluate/1"]);
    expect(tiles[0].className).toContain("ok");
    expect(tiles[0].dataset.correct).toBe("true");
    expect(tiles[1].className).toContain("bad");
    expect(tiles[1].dataset.correct).toBe("false");
    expect(tiles[1].textContent).toContain("cat 62%");
    expect(tiles[1].querySelector(".sample-actual")!.textContent).toBe("actual dog");
    // An image that cannot be loaded falls back to the placeholder tile.
    act(() => { tiles[1].querySelector("img")!.dispatchEvent(new Event("error")); });
    expect(screen.getAllByTestId("eval-sample")[1].querySelector("img")).toBeNull();
    expect(screen.getAllByTestId("eval-sample")[1].querySelector(".sample-ph")!.textContent).toContain("2.jpg");
  });
});
