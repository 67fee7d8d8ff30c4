import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { useLang } from "../i18n";
import { nodeName } from "../lib/versionChanges";
import { catalog, template } from "../test/fixtures";
import type { VersionChange } from "../types";
import { fitLabel, GraphPreview } from "./Home";
import { VersionChanges } from "./VersionsDialog";

const changes: VersionChange[] = [
  { kind: "param_changed", node: { id: "dense", type: "layers.Dense", label: null }, param: "units", old: 256, new: 64 },
  { kind: "node_added", node: { id: "drop", type: "layers.Dropout", label: null } },
  { kind: "layout", nodes: 1, groups: 0 },
];

describe("a version's changes", () => {
  it("renders each item in the person's language, or the first few and a count", () => {
    useLang.getState().setLang("zh");
    const { unmount } = render(<VersionChanges changes={changes} words={{ lang: "zh", catalog }} />);
    expect(screen.getAllByTestId("version-change").map((el) => el.textContent)).toEqual([
      "「全连接层」单元数：256 → 64", "添加节点「随机失活层」", "移动了 1 个节点",
    ]);
    unmount();
    render(<VersionChanges changes={changes} words={{ lang: "zh", catalog }} max={1} />);
    expect(screen.getAllByTestId("version-change")).toHaveLength(1);
    expect(screen.getByText("另有 2 项")).toBeTruthy();
  });

  it("says when there are none", () => {
    useLang.getState().setLang("en");
    render(<VersionChanges changes={[]} words={{ lang: "en", catalog }} />);
    expect(screen.getByText("No changes")).toBeTruthy();
  });
});

describe("the version preview", () => {
  it("names every node, from its label or its component in the person's language", () => {
    const graph = template();
    const { container } = render(
      <GraphPreview graph={graph} nodeLabel={(n) => nodeName({ id: n.id, type: n.type, label: n.label ?? null }, { lang: "zh", catalog })} />,
    );
    const labels = [...container.querySelectorAll("text.pv-label title")].map((t) => t.textContent);
    expect(labels).toHaveLength(graph.nodes.length);
    expect(labels).toContain("全连接层");
  });

  it("cuts a label to the card", () => {
    expect(fitLabel("Dense", 216, 30)).toBe("Dense");
    expect(fitLabel("EfficientNet-Lite0 骨干网络", 216, 30)).toBe("EfficientNe…");
    expect(fitLabel("图像格式化图像格式化图像格式化", 216, 30)).toBe("图像格式化图…");
  });
});
