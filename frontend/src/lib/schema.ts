// Turns a component's pydantic JSON schema into field descriptions for the generic form.
import type { JsonSchema, Lang, Localized } from "../types";

export type FieldKind = "integer" | "number" | "string" | "boolean" | "enum" | "multi" | "list" | "json";

export interface FieldDesc {
  name: string;
  kind: FieldKind;
  title?: Localized;
  description?: Localized;
  default?: unknown;
  nullable: boolean;
  choices?: unknown[]; // for enum and multi
  choiceTitles?: Record<string, Localized>; // x-enum-titles / x-enum-titles-zh: each choice's label, by its value as text
  choicesFrom?: string; // x-choices-from: read choices from the input's inferred spec info
  picker?: string; // x-picker: the form offers a picker next to the text ("datasets": uploaded datasets)
  deferred: boolean; // x-deferred: a later stage reads it
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  itemKind?: "integer" | "number" | "string";
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; i < 8 && s.$ref; i++) {
    const name = s.$ref.split("/").pop()!;
    const target = root.$defs?.[name] ?? (root as { definitions?: Record<string, JsonSchema> }).definitions?.[name];
    if (!target) break;
    const { $ref: _ref, ...rest } = s; // eslint-disable-line @typescript-eslint/no-unused-vars
    s = { ...target, ...rest };
  }
  if (s.allOf && s.allOf.length === 1) {
    const { allOf, ...rest } = s;
    s = { ...resolve(allOf[0], root), ...rest };
  }
  return s;
}

/** A schema's title or description in both languages: English under the standard key,
 * Chinese under `x-title-zh` / `x-description-zh` (see `ParamField` in the engine). */
export function schemaText(s: JsonSchema, key: "title" | "description"): Localized | undefined {
  const en = s[key];
  const zh = s[`x-${key}-zh`];
  if (en === undefined && typeof zh !== "string") return undefined;
  return { en, zh: typeof zh === "string" ? zh : undefined };
}

/** The labels of an enum's values in both languages (`x-enum-titles`, `x-enum-titles-zh`: maps
 * from the value as text), when the component gives them. */
export function enumTitles(s: JsonSchema): Record<string, Localized> | undefined {
  const en = s["x-enum-titles"] as Record<string, string> | undefined;
  const zh = s["x-enum-titles-zh"] as Record<string, string> | undefined;
  if (!en && !zh) return undefined;
  const out: Record<string, Localized> = {};
  for (const k of new Set([...Object.keys(en ?? {}), ...Object.keys(zh ?? {})])) out[k] = { en: en?.[k], zh: zh?.[k] };
  return out;
}

/** A choice as the person reads it: its label in their language, else the value itself. */
export function choiceLabel(field: Pick<FieldDesc, "choiceTitles">, value: unknown, lang: Lang): string {
  const t = field.choiceTitles?.[String(value)];
  return (t && (t[lang] || t.en || t.zh)) || String(value);
}

function isNull(s: JsonSchema): boolean {
  return s.type === "null" || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === "null");
}

function scalarKind(t: unknown): "integer" | "number" | "string" | "boolean" | undefined {
  if (t === "integer" || t === "number" || t === "string" || t === "boolean") return t;
  return undefined;
}

export function describeField(name: string, raw: JsonSchema, root: JsonSchema): FieldDesc {
  const outer = resolve(raw, root);
  let inner = outer;
  let nullable = false;
  const alternatives = outer.anyOf ?? outer.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((a) => !isNull(a));
    nullable = nonNull.length < alternatives.length;
    inner = nonNull.length === 1 ? { ...resolve(nonNull[0], root) } : { type: "json" };
  } else if (Array.isArray(outer.type)) {
    nullable = outer.type.includes("null");
    const rest = outer.type.filter((t) => t !== "null");
    inner = { ...outer, type: rest.length === 1 ? rest[0] : "json" };
  }
  const base: FieldDesc = {
    name,
    kind: "json",
    title: schemaText(outer, "title") ?? schemaText(inner, "title"),
    description: schemaText(outer, "description") ?? schemaText(inner, "description"),
    default: outer.default,
    nullable,
    deferred: Boolean(outer["x-deferred"] ?? inner["x-deferred"]),
    choicesFrom: (outer["x-choices-from"] ?? inner["x-choices-from"]) as string | undefined,
    picker: (outer["x-picker"] ?? inner["x-picker"]) as string | undefined,
    choiceTitles: enumTitles(outer) ?? enumTitles(inner),
  };
  const bounds = {
    minimum: inner.minimum,
    maximum: inner.maximum,
    exclusiveMinimum: inner.exclusiveMinimum,
    exclusiveMaximum: inner.exclusiveMaximum,
  };
  if (inner.enum) return { ...base, kind: "enum", choices: inner.enum };
  if (inner.const !== undefined) return { ...base, kind: "enum", choices: [inner.const] };
  const t = Array.isArray(inner.type) ? inner.type[0] : inner.type;
  if (t === "boolean") return { ...base, kind: "boolean" };
  if (t === "integer" || t === "number") return { ...base, kind: t, ...bounds };
  if (t === "string") return { ...base, kind: "string" };
  if (t === "array") {
    const items = resolve(inner.items ?? {}, root);
    const itemAlts = items.anyOf ?? items.oneOf;
    const choices = items.enum ?? (itemAlts && itemAlts.every((a) => a.const !== undefined) ? itemAlts.map((a) => a.const) : undefined);
    if (choices || base.choicesFrom) return { ...base, kind: "multi", choices };
    const itemKind = scalarKind(items.type);
    if (itemKind && itemKind !== "boolean") return { ...base, kind: "list", itemKind };
    return { ...base, kind: "json" };
  }
  return base;
}

export function fieldsFromSchema(schema: JsonSchema | undefined): FieldDesc[] {
  if (!schema?.properties) return [];
  return Object.entries(schema.properties).map(([name, s]) => describeField(name, s, schema));
}

export type FieldProblem =
  | { code: "notNumber" | "notInteger" }
  | { code: "tooSmall" | "tooBig"; op: string; limit: number };

/** A hint shown beside the field; the server's validation stays the authority. */
export function checkValue(field: FieldDesc, value: unknown): FieldProblem | null {
  if (field.kind !== "integer" && field.kind !== "number") return null;
  if (value === null || value === undefined) return null;
  if (typeof value !== "number" || Number.isNaN(value)) return { code: "notNumber" };
  if (field.kind === "integer" && !Number.isInteger(value)) return { code: "notInteger" };
  if (field.minimum !== undefined && value < field.minimum) return { code: "tooSmall", op: "≥", limit: field.minimum };
  if (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum)
    return { code: "tooSmall", op: ">", limit: field.exclusiveMinimum };
  if (field.maximum !== undefined && value > field.maximum) return { code: "tooBig", op: "≤", limit: field.maximum };
  if (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum)
    return { code: "tooBig", op: "<", limit: field.exclusiveMaximum };
  return null;
}

/** Parses what a person typed into a number field: a number, null for empty nullable, or the raw text. */
export function parseNumberInput(text: string, field: FieldDesc): number | string | null {
  const trimmed = text.trim();
  if (trimmed === "") return field.nullable ? null : text;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : text;
}

/** A step for number inputs that suits the bounds and the default (1e-5 for a learning rate). */
export function stepFor(field: FieldDesc): number | "any" {
  if (field.kind === "integer") return 1;
  return "any";
}

/** The current value of every field: the node's param, else the schema default. */
export function effectiveValue(field: FieldDesc, params: Record<string, unknown>): unknown {
  return Object.prototype.hasOwnProperty.call(params, field.name) ? params[field.name] : field.default;
}
