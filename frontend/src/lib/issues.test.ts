import { describe, expect, it } from "vitest";
import { issueDetail, issueLead, issueNames, issueText, rawNames } from "./issues";
import { catalog, template } from "../test/fixtures";
import type { Issue, Lang } from "../types";

const CODES: Issue[] = [
  { code: "unknown_component", node: "x", message: "x: unknown component 'layers.Nope'" },
  { code: "duplicate_node", node: "dense", message: "two nodes share the id 'dense'" },
  { code: "missing_node", node: "ghost", edge: "e1", message: "edge e1 references a node that does not exist: 'ghost'" },
  { code: "unknown_port", node: "dense", port: "bogus", message: "dense: no input port 'bogus'" },
  { code: "missing_input", node: "train", port: "images", message: "train: required input 'images' is not connected" },
  { code: "multiple_inputs", node: "train", port: "images", message: "train.images already has an input" },
  { code: "incompatible_types", node: "train", port: "images", message: "train.images expects formatted images, but dataset.dataset gives image dataset" },
  { code: "invalid_param", node: "dense", param: "units", message: "dense: parameter 'units': Input should be greater than or equal to 1" },
  { code: "cycle", node: "flatten", message: "flatten is on a cycle: a node cannot depend on its own output" },
  { code: "shape_mismatch", node: "evaluate", port: "images", message: "evaluate: the images are 64x64x3 but the model's input is 150x150x3" },
  { code: "unknown_target", node: "nowhere", message: "no node with id 'nowhere' to run" },
];

describe("issue texts", () => {
  it("has a lead in both languages for every engine code, naming the node and port or param", () => {
    for (const lang of ["en", "zh"] as Lang[]) {
      for (const issue of CODES) {
        const lead = issueLead(issue, lang);
        expect(lead, `${lang} ${issue.code}`).toContain(`“${issue.node}”`);
        if (issue.port) expect(lead, `${lang} ${issue.code}`).toContain(`“${issue.port}”`);
        if (issue.param) expect(lead, `${lang} ${issue.code}`).toContain(`“${issue.param}”`);
        // A translated sentence, not the fallback.
        expect(lead).not.toMatch(/Problem at|有问题/);
        if (lang === "zh") expect(lead).toMatch(/[\u4e00-\u9fff]/);
      }
    }
    const leads = (lang: Lang) => new Set(CODES.map((i) => issueLead({ ...i, node: "n", port: "p", param: "q" }, lang)));
    expect(leads("en").size).toBe(CODES.length); // one sentence per code
    expect(leads("zh").size).toBe(CODES.length);
  });

  it("reads naturally in Chinese and English", () => {
    const missing = CODES.find((i) => i.code === "missing_input")!;
    expect(issueLead(missing, "zh")).toBe("“train” 的必需输入 “images” 未连接");
    expect(issueLead(missing, "en")).toBe("Required input “images” of “train” is not connected");
  });

  it("follows the lead with the server's own message, unchanged", () => {
    const issue = CODES.find((i) => i.code === "invalid_param")!;
    expect(issueText(issue, "zh")).toBe(`“dense” 的参数 “units” 无效：${issue.message}`);
    expect(issueText(issue, "en")).toBe(`Parameter “units” of “dense” is not valid: ${issue.message}`);
  });

  it("words pydantic's error types in Chinese from their context, and keeps the server's words in English", () => {
    const issue = (type: string, ctx: Record<string, unknown> = {}): Issue => ({
      code: "invalid_param", node: "dense", param: "units", message: "dense: parameter 'units': pydantic's words",
      params: { type, ...ctx },
    });
    expect(issueDetail(issue("greater_than_equal", { ge: 1 }), "zh")).toEqual({ text: "必须大于或等于 1", localized: true });
    expect(issueText(issue("greater_than_equal", { ge: 1 }), "zh")).toBe("“dense” 的参数 “units” 无效：必须大于或等于 1");
    expect(issueDetail(issue("less_than", { lt: 1 }), "zh").text).toBe("必须小于 1");
    expect(issueDetail(issue("greater_than", { gt: 0 }), "zh").text).toBe("必须大于 0");
    expect(issueDetail(issue("less_than_equal", { le: 4096 }), "zh").text).toBe("必须小于或等于 4096");
    expect(issueDetail(issue("int_parsing"), "zh").text).toBe("必须是整数");
    expect(issueDetail(issue("missing"), "zh").text).toBe("缺少此参数");
    expect(issueDetail(issue("extra_forbidden"), "zh").text).toBe("此组件没有这个参数");
    expect(issueDetail(issue("literal_error", { expected: "'test', 'validation' or 'train'" }), "zh").text)
      .toBe("必须是以下之一：'test', 'validation'、'train'");
    // English keeps pydantic's own sentence; an unknown type keeps the server's words in Chinese too
    expect(issueDetail(issue("greater_than_equal", { ge: 1 }), "en")).toEqual({ text: issue("x").message, localized: false });
    expect(issueDetail(issue("some_new_type"), "zh").localized).toBe(false);
  });

  it("uses display names from the graph and the catalog when it has them", () => {
    const graph = template();
    graph.nodes.find((n) => n.id === "dense")!.label = "Hidden";
    const zh = issueNames(graph, catalog, "zh");
    expect(issueLead(CODES.find((i) => i.code === "missing_input")!, "zh", zh)).toBe("“模型训练 (train)” 的必需输入 “图像 (images)” 未连接");
    expect(issueLead(CODES.find((i) => i.code === "invalid_param")!, "zh", zh)).toBe("“Hidden (dense)” 的参数 “单元数 (units)” 无效");
    const en = issueNames(graph, catalog, "en");
    expect(issueLead(CODES.find((i) => i.code === "missing_input")!, "en", en)).toBe("Required input “Images (images)” of “Trainer (train)” is not connected");
    expect(issueLead(CODES.find((i) => i.code === "invalid_param")!, "zh", issueNames(graph, catalog, "zh", true))).toBe("“Hidden” 的参数 “单元数” 无效");
    // A node or port the graph does not have keeps its id.
    expect(issueLead(CODES.find((i) => i.code === "unknown_port")!, "en", en)).toBe("Node “Hidden (dense)” has no port “bogus”");
    expect(issueLead(CODES.find((i) => i.code === "missing_node")!, "zh", zh)).toBe("连线指向不存在的节点 “ghost”");
  });

  it("falls back to a generic lead for codes it does not know and for issues without a node", () => {
    const other: Issue = { code: "dataset_empty", node: "dataset", param: "root", message: "no images" };
    expect(issueLead(other, "zh", rawNames)).toBe("“dataset” 的参数 “root” 有问题");
    expect(issueLead(other, "en")).toBe("Problem at “dataset”, parameter “root”");
    expect(issueText({ code: "cycle", message: "a cycle" }, "zh")).toBe("图中有问题：a cycle");
    expect(issueText({ code: "weird", message: "" }, "en")).toBe("Problem in the graph");
  });
});

describe("missing files", () => {
  const missing: Issue = {
    code: "path_not_found", node: "dataset", param: "root",
    message: "dataset: root 'data/does_not_exist' was not found: no such folder in the data roots (/srv/data, /home/a/data)",
    params: { value: "data/does_not_exist", roots: ["/srv/data", "/home/a/data"] },
  };
  const weights: Issue = {
    code: "weights_missing", node: "vgg16", param: "weights", message: "vgg16: VGG16 ImageNet weights not found.",
    params: { path: "/root/.cache/torch/hub/checkpoints/vgg16-397923af.pth", file: "vgg16-397923af.pth",
      url: "https://download.pytorch.org/models/vgg16-397923af.pth" },
  };

  it("names the path as typed and the data roots searched, in both languages", () => {
    expect(issueLead(missing, "zh")).toBe("找不到 “data/does_not_exist”（“dataset” 的 “root”）");
    expect(issueLead(missing, "en")).toBe("Not found: “data/does_not_exist” (“root” of “dataset”)");
    expect(issueDetail(missing, "zh")).toEqual({ localized: true,
      text: "已在这些数据根目录中查找：/srv/data、/home/a/data。请把文件夹放到某个数据根目录下，或修改路径。" });
    expect(issueDetail(missing, "en").text).toContain("data roots: /srv/data, /home/a/data");
    expect(issueText(missing, "zh")).not.toContain("/srv/data/data/does_not_exist");
  });

  it("names the weight file expected and where it belongs", () => {
    expect(issueLead(weights, "zh")).toBe("“vgg16” 缺少预训练权重 vgg16-397923af.pth");
    const zh = issueDetail(weights, "zh").text;
    expect(zh).toContain("/root/.cache/torch/hub/checkpoints/vgg16-397923af.pth");
    expect(zh).toContain("不会自动下载");
    expect(issueDetail(weights, "en").text).toContain("https://download.pytorch.org/models/vgg16-397923af.pth");
    const pkg: Issue = { code: "weights_missing", node: "b", param: "weights", message: "m", params: { package: "p-model" } };
    expect(issueDetail(pkg, "zh").text).toBe("请安装包含这些权重的包：pip install p-model");
  });
});
