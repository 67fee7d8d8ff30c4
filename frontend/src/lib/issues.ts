// Validation issues in the person's language. The server's message stays English (it is the
// engine's, shared with the command line); the editor leads it with a sentence per issue
// `code` in the UI language that names the node, port or param, then shows the server's detail.
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

type Parts = { node: string; port: string; param: string; hasNode: boolean; hasPort: boolean; hasParam: boolean };
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
  };
  const lead = LEADS[lang][issue.code];
  if (lead && issue.node) return lead(parts);
  return issue.node ? FALLBACK[lang].node(parts) : FALLBACK[lang].graph(parts);
}

/** The lead, then the server's detail message: one line for tooltips and compact places. */
export function issueText(issue: Issue, lang: Lang, names: IssueNames = rawNames): string {
  const lead = issueLead(issue, lang, names);
  return issue.message ? `${lead}${lang === "zh" ? "：" : ": "}${issue.message}` : lead;
}
