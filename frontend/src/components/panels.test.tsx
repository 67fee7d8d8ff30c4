import { describe, expect, it } from "vitest";
import { act, render, screen } from "@testing-library/react";
import { ReactFlowProvider } from "@xyflow/react";
import { matches, Palette } from "./Palette";
import { RunPanel } from "./RunPanel";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
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
});
