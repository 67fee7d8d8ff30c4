// What changed in a saved version, worded in the person's language from the server's typed
// items (VersionPublic.changes): node names from their labels or the component catalog, parameter
// titles and choices from each component's schema, port names from its ports.
import { loc, nodeTitle, paramTitle, translate, type MessageKey } from "../i18n";
import type { Catalog, ComponentDesc, Lang, NodeRef, VersionChange } from "../types";
import { choiceLabel, describeField } from "./schema";

export interface ChangeWords {
  lang: Lang;
  catalog?: Catalog | null;
}

const MAX_VALUE = 40;

function component(words: ChangeWords, type: string): ComponentDesc | undefined {
  return words.catalog?.components.find((c) => c.id === type);
}

/** A node as the person knows it: its own label, else its component's name, else its id. */
export function nodeName(ref: NodeRef, words: ChangeWords): string {
  return nodeTitle(ref.label, component(words, ref.type), words.lang, ref.id);
}

function portName(ref: NodeRef, port: string, side: "inputs" | "outputs", words: ChangeWords): string {
  const desc = component(words, ref.type)?.[side].find((p) => p.name === port);
  return (desc && loc(desc.label, words.lang)) || port;
}

function groupName(label: Record<string, string> | undefined, id: string, lang: Lang): string {
  return loc(label, lang) || id;
}

function clip(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** A parameter's value as the form shows it: a choice's label, yes/no, a list's items. */
export function valueText(type: string, param: string, value: unknown, words: ChangeWords): string {
  const schema = component(words, type)?.params_schema;
  const prop = schema?.properties?.[param];
  const field = prop && schema ? describeField(param, prop, schema) : undefined;
  const one = (v: unknown): string => {
    if (v === null || v === undefined) return "—";
    if (typeof v === "boolean") return translate(words.lang, v ? "change.true" : "change.false");
    if (field?.choiceTitles && (typeof v === "string" || typeof v === "number")) return choiceLabel(field, v, words.lang);
    if (typeof v === "string") return v === "" ? "“”" : v;
    if (typeof v === "number") return String(v);
    return JSON.stringify(v);
  };
  return clip(Array.isArray(value) ? `[${value.map(one).join(", ")}]` : one(value));
}

function paramName(type: string, param: string, words: ChangeWords): string {
  return paramTitle(param, component(words, type)?.params_schema.properties?.[param], words.lang);
}

/** One change as a sentence in the person's language. */
export function describeChange(change: VersionChange, words: ChangeWords): string {
  const t = (key: MessageKey, vars?: Record<string, unknown>) => translate(words.lang, key, vars);
  const node = (ref: NodeRef) => nodeName(ref, words);
  switch (change.kind) {
    case "created":
      return t("change.created", { n: change.nodes });
    case "restored":
      return t("change.restored", { v: change.version });
    case "node_added":
      return t("change.nodeAdded", { node: node(change.node) });
    case "node_removed":
      return t("change.nodeRemoved", { node: node(change.node) });
    case "node_renamed": {
      const comp = component(words, change.node.type);
      const plain = (comp ? loc(comp.name, words.lang) : "") || change.node.id;
      return t("change.nodeRenamed", { old: change.old || plain, new: change.new || plain });
    }
    case "param_changed":
      return t("change.param", {
        node: node(change.node),
        param: paramName(change.node.type, change.param, words),
        old: valueText(change.node.type, change.param, change.old, words),
        new: valueText(change.node.type, change.param, change.new, words),
      });
    case "node_regrouped": {
      const old = change.old && groupName(change.old.label, change.old.id, words.lang);
      const now = change.new && groupName(change.new.label, change.new.id, words.lang);
      if (old && now) return t("change.regrouped", { node: node(change.node), old, new: now });
      return now ? t("change.groupedIn", { node: node(change.node), group: now })
        : t("change.groupedOut", { node: node(change.node), group: old ?? "" });
    }
    case "edge_added":
    case "edge_removed":
      return t(change.kind === "edge_added" ? "change.edgeAdded" : "change.edgeRemoved", {
        source: node(change.source),
        sourcePort: portName(change.source, change.source_port, "outputs", words),
        target: node(change.target),
        targetPort: portName(change.target, change.target_port, "inputs", words),
      });
    case "group_added":
      return t("change.groupAdded", { group: groupName(change.group.label, change.group.id, words.lang) });
    case "group_removed":
      return t("change.groupRemoved", { group: groupName(change.group.label, change.group.id, words.lang) });
    case "group_renamed":
      return t("change.groupRenamed", {
        old: groupName(change.old, change.group.id, words.lang),
        new: groupName(change.group.label, change.group.id, words.lang),
      });
    case "layout":
      return [
        change.nodes ? t("change.layoutNodes", { n: change.nodes }) : "",
        change.groups ? t("change.layoutGroups", { n: change.groups }) : "",
      ].filter(Boolean).join(words.lang === "zh" ? "，" : "; ");
    case "more":
      return t("change.more", { n: change.count });
    default:
      return "";
  }
}

/** The first `max` changes as sentences and how many more there are (a "more" item counts its own). */
export function summarizeChanges(changes: VersionChange[], words: ChangeWords, max = 3): { lines: string[]; more: number } {
  const listed = changes.filter((c) => c.kind !== "more");
  const beyond = changes.reduce((n, c) => n + (c.kind === "more" ? c.count : 0), 0);
  return {
    lines: listed.slice(0, max).map((c) => describeChange(c, words)),
    more: Math.max(0, listed.length - max) + beyond,
  };
}
