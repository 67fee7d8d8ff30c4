import { describe, expect, it } from "vitest";
import { catalog } from "../test/fixtures";
import type { VersionChange } from "../types";
import { describeChange, nodeName, summarizeChanges, valueText } from "./versionChanges";

const dense = { id: "dense", type: "layers.Dense", label: null };
const format = { id: "format", type: "data.ImageFormat", label: "Resize" };
const zh = { lang: "zh" as const, catalog };
const en = { lang: "en" as const, catalog };

const changes: VersionChange[] = [
  { kind: "node_added", node: { id: "drop", type: "layers.Dropout", label: null } },
  { kind: "node_removed", node: { id: "x", type: "no.Such", label: null } },
  { kind: "param_changed", node: dense, param: "units", old: 256, new: 128 },
  { kind: "param_changed", node: dense, param: "activation", old: "relu", new: "linear" },
  { kind: "param_changed", node: format, param: "channels", old: 3, new: 1 },
  { kind: "edge_added", source: { id: "in", type: "layers.Input", label: null }, source_port: "output",
    target: dense, target_port: "input" },
  { kind: "node_regrouped", node: dense, old: null, new: { id: "g", label: { en: "Model", zh: "模型" } } },
  { kind: "group_renamed", group: { id: "g", label: { en: "Head", zh: "分类头" } }, old: { en: "Model", zh: "模型" } },
  { kind: "layout", nodes: 2, groups: 1 },
  { kind: "restored", version: 3 },
  { kind: "created", nodes: 13 },
];

describe("version changes in the person's language", () => {
  it("words each typed item in Chinese, with names, titles and choices from the catalog", () => {
    expect(changes.map((c) => describeChange(c, zh))).toEqual([
      "添加节点「随机失活层」",
      "删除节点「x」",
      "「全连接层」单元数：256 → 128",
      "「全连接层」激活函数：ReLU → 线性（无激活）",
      "「Resize」通道数：3（RGB） → 1（灰度）",
      "连接「输入层」输出 → 「全连接层」输入",
      "将「全连接层」移入分组「模型」",
      "将分组「模型」重命名为「分类头」",
      "移动了 2 个节点，移动或调整了 1 个分组",
      "恢复自版本 3",
      "创建项目，共 13 个节点",
    ]);
  });

  it("and in English", () => {
    expect(describeChange(changes[0], en)).toBe('Added "Dropout"');
    expect(describeChange(changes[2], en)).toBe('Units of "Dense": 256 → 128');
    expect(describeChange(changes[5], en)).toBe('Connected "Input" Output → "Dense" Input');
    expect(describeChange({ kind: "node_renamed", node: { ...dense, label: "Head" }, old: null, new: "Head" }, en))
      .toBe('Renamed "Dense" to "Head"');
  });

  it("names a node by its label, its component, else its id", () => {
    expect(nodeName(format, zh)).toBe("Resize");
    expect(nodeName(dense, zh)).toBe("全连接层");
    expect(nodeName({ id: "n1", type: "gone.Component", label: "  " }, zh)).toBe("n1");
    expect(nodeName(dense, { lang: "zh" })).toBe("dense"); // no catalog yet
  });

  it("shows values as the form does", () => {
    expect(valueText("layers.Dense", "units", null, zh)).toBe("—");
    expect(valueText("x.Y", "flag", true, zh)).toBe("开");
    expect(valueText("x.Y", "flag", false, en)).toBe("off");
    expect(valueText("x.Y", "list", [1, 2], en)).toBe("[1, 2]");
    expect(valueText("x.Y", "long", "a".repeat(80), en)).toHaveLength(40);
  });

  it("summarizes the first few and counts the rest", () => {
    const more: VersionChange[] = [...changes.slice(0, 4), { kind: "more", count: 10 }];
    expect(summarizeChanges(more, zh, 2)).toEqual({
      lines: ["添加节点「随机失活层」", "删除节点「x」"],
      more: 12,
    });
  });
});
