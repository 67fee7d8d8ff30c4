// Why a node ran or came from the cache, in the person's language: the reason a run (or a dry
// run, "what will run") gives for each node (backend/engine/why.py), with the param that changed
// (old -> new), the upstream node, the data, the component version, or the run its cached result
// came from and when.
import type { Lang, NodeWhy, WhyChange } from "../types";
import type { IssueNames } from "./issues";

const q = (s: string) => `“${s}”`;

function value(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v.length > 40 ? `${v.slice(0, 37)}…` : v;
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/** When a result was made: MM-DD HH:MM, local time. */
export function whenText(ts: number | null | undefined): string {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** One changed ingredient of the node's cache key. */
export function changeText(c: WhyChange, node: string, lang: Lang, names: IssueNames): string {
  const zh = lang === "zh";
  switch (c.what) {
    case "param": {
      const owner = c.node ?? node;
      const param = q(names.param(owner, c.param ?? ""));
      const of = c.node ? (zh ? `${q(names.node(c.node))}的` : `${q(names.node(c.node))} `) : "";
      return `${of}${param} ${value(c.old)} → ${value(c.new)}`;
    }
    case "upstream": {
      const up = q(c.node ? names.node(c.node) : c.port ?? "");
      return zh ? `上游${up}已变` : `upstream ${up} changed`;
    }
    case "input": {
      const port = q(names.port(node, c.port ?? ""));
      return zh ? `输入${port}改接了` : `input ${port} reconnected`;
    }
    case "data":
      return zh ? "数据文件有新增或改动" : "new or changed data files";
    case "version":
      return zh ? `组件版本 ${value(c.old)} → ${value(c.new)}` : `component version ${value(c.old)} → ${value(c.new)}`;
    default:
      return zh ? "换了组件" : "another component";
  }
}

const REASON: Record<Lang, Record<string, string>> = {
  en: {
    new: "new: never ran here", forced: "forced: run this node", changed: "its cache key changed",
    not_stored: "kept in memory only: made again", missing: "its stored result is gone: made again",
    evicted: "removed to keep the cache within its budget: made again", resumed: "resumed from its checkpoint",
  },
  zh: {
    new: "新节点：此前未运行", forced: "强制运行（运行此节点）", changed: "缓存键已变",
    not_stored: "结果只存于内存：重新生成", missing: "已存结果不在了：重新生成", resumed: "从检查点继续",
    evicted: "缓存超出容量上限时已被清除：重新生成",
  },
};

/** Where a cached result came from: "from run abc · 11-30 16:20". */
function originText(why: NodeWhy, lang: Lang, short = false): string {
  const o = why.origin;
  if (!o?.run_id) return lang === "zh" ? "来自缓存" : "from the cache";
  const when = whenText(o.ts);
  const id = short ? o.run_id.slice(0, 8) : o.run_id; // a card has room for a short id; the panel names it whole
  return lang === "zh" ? `来自运行 ${id}${when ? ` · ${when}` : ""}` : `from run ${id}${when ? ` · ${when}` : ""}`;
}

/** The reason in one line (a card's line): the first change, and how many more. */
export function whyShort(why: NodeWhy, node: string, lang: Lang, names: IssueNames): string {
  if (!why.runs) return originText(why, lang, true);
  if (why.reason === "changed" && why.changes.length) {
    const more = why.changes.length - 1;
    return changeText(why.changes[0], node, lang, names) + (more > 0 ? (lang === "zh" ? ` 等 ${more + 1} 项` : ` +${more}`) : "");
  }
  return REASON[lang][why.reason] ?? why.reason;
}

/** The whole reason (a tooltip, the run panel): every change. */
export function whyLong(why: NodeWhy, node: string, lang: Lang, names: IssueNames): string {
  if (!why.runs) {
    const notNeeded = why.needed ? "" : lang === "zh" ? "（本次运行不需要它，已是最新）" : " (not needed by this run: up to date)";
    // a node the run needs, served from the worker's memory (a node it did not need is up to date either way)
    const memory = why.memory && why.needed ? (lang === "zh" ? "（在工作进程的内存中）" : " (in the worker's memory)") : "";
    return originText(why, lang) + memory + notNeeded;
  }
  if (why.reason === "changed" && why.changes.length)
    return why.changes.map((c) => changeText(c, node, lang, names)).join(lang === "zh" ? "；" : "; ");
  if (why.reason === "evicted" && why.evicted) {
    const when = whenText(why.evicted);
    return lang === "zh"
      ? `${when} 缓存超出容量上限，已存结果被清除：重新生成`
      : `its stored result was removed ${when} to keep the cache within its budget: made again`;
  }
  return REASON[lang][why.reason] ?? why.reason;
}

/** "ran" / "runs" / "cached" lead of a reason line. */
export function whyVerb(why: NodeWhy, lang: Lang, future = false): string {
  if (!why.runs) return lang === "zh" ? "缓存" : "cached";
  if (future) return lang === "zh" ? "将运行" : "will run";
  return lang === "zh" ? "运行" : "ran";
}
