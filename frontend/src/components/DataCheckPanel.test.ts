import { describe, expect, it } from "vitest";
import { dataWarningText } from "./DataCheckPanel";
import type { DataWarning } from "../types";

const leak: DataWarning = {
  code: "data_leak", node: "dataset", message: "English words from the server",
  params: { files: 4, groups: 3, examples: "train/Cat/1.jpg = validation/Cat/copy-1.jpg", exact: 2, near: 1 },
};

describe("data warnings", () => {
  it("are worded in Chinese and English from their code and params", () => {
    expect(dataWarningText(leak, "zh")).toContain("验证集/测试集中有 4 张图像在其他划分中有副本（3 组）");
    expect(dataWarningText(leak, "zh")).toContain("train/Cat/1.jpg = validation/Cat/copy-1.jpg");
    expect(dataWarningText(leak, "en")).toMatch(/^4 validation\/test image\(s\) have a copy in another split \(3 group/);
    const balance: DataWarning = { code: "class_imbalance", node: "d", message: "", params: { split: "test", counts: "cat 9, dog 2" } };
    expect(dataWarningText(balance, "zh")).toBe("测试集的类别不均衡：cat 9, dog 2");
    expect(dataWarningText(balance, "en")).toBe("the test split is unbalanced: cat 9, dog 2");
  });
});
