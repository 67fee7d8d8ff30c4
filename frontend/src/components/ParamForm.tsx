// The one generic parameter form: every field comes from the component's JSON schema.
import { useEffect, useState } from "react";
import { loc, translate } from "../i18n";
import { checkValue, choiceLabel, effectiveValue, fieldsFromSchema, parseNumberInput, type FieldDesc, type FieldProblem } from "../lib/schema";
import type { JsonSchema, Lang } from "../types";
import { Icon } from "./common";
import { DatasetUpload } from "./DatasetUpload";

export interface ParamFormProps {
  schema: JsonSchema | undefined;
  values: Record<string, unknown>;
  onChange: (name: string, value: unknown) => void; // undefined resets to the default
  lang: Lang;
  issues?: Record<string, string>; // server issues by param name
  choicesFor?: (field: FieldDesc) => string[] | undefined; // x-choices-from
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function problemText(p: FieldProblem, lang: Lang): string {
  if (p.code === "notNumber") return translate(lang, "form.notNumber");
  if (p.code === "notInteger") return translate(lang, "form.notInteger");
  if (p.code !== "tooSmall" && p.code !== "tooBig") return "";
  return translate(lang, p.code === "tooSmall" ? "form.tooSmall" : "form.tooBig", { op: p.op, v: p.limit });
}

/** A field's default as the form shows values: a choice by its label, a switch as on / off. */
function defaultText(f: FieldDesc, lang: Lang): string {
  if (f.default === null) return translate(lang, "form.null");
  if (f.kind === "enum") return choiceLabel(f, f.default, lang);
  if (typeof f.default === "boolean") return translate(lang, f.default ? "form.on" : "form.off");
  return JSON.stringify(f.default);
}

function boundsText(f: FieldDesc, lang: Lang): string {
  const parts: string[] = [];
  if (f.minimum !== undefined) parts.push(translate(lang, "form.min", { v: f.minimum }));
  if (f.exclusiveMinimum !== undefined) parts.push(translate(lang, "form.gt", { v: f.exclusiveMinimum }));
  if (f.maximum !== undefined) parts.push(translate(lang, "form.max", { v: f.maximum }));
  if (f.exclusiveMaximum !== undefined) parts.push(translate(lang, "form.lt", { v: f.exclusiveMaximum }));
  return parts.join("  ");
}

function NumberField({ field, value, onChange, invalid, onProblem }: {
  field: FieldDesc; value: unknown; onChange: (v: unknown) => void; invalid: boolean;
  onProblem: (p: FieldProblem | null) => void;
}) {
  const shown = value === null || value === undefined ? "" : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => {
    // Follow outside changes (undo, another node) unless the text already means this value.
    const parsed = parseNumberInput(text, field);
    if (!same(parsed, value ?? null) || (typeof parsed === "string" && shown !== text)) setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      className={`input mono ${invalid ? "invalid" : ""}`}
      type="text"
      inputMode="decimal"
      data-testid={`param-${field.name}`}
      value={text}
      placeholder={field.nullable ? "—" : undefined}
      onChange={(e) => {
        setText(e.target.value);
        const parsed = parseNumberInput(e.target.value, field);
        if (typeof parsed === "string") {
          onProblem({ code: "notNumber" });
          return;
        }
        onProblem(null);
        onChange(parsed);
      }}
    />
  );
}

function Switch({ checked, onChange, name }: { checked: boolean; onChange: (v: boolean) => void; name: string }) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      data-testid={`param-${name}`}
      className={`switch ${checked ? "on" : ""}`}
      onClick={() => onChange(!checked)}
    >
      <span className="knob" />
    </button>
  );
}

function EnumField({ field, value, onChange, lang }: {
  field: FieldDesc; value: unknown; onChange: (v: unknown) => void; lang: Lang;
}) {
  const choices = field.choices ?? [];
  const label = (c: unknown) => choiceLabel(field, c, lang); // the component's label for the value
  const segmented = choices.length <= 3 && choices.every((c) => label(c).length <= (lang === "zh" ? 6 : 12));
  if (segmented && !field.nullable)
    return (
      <div className="segmented" data-testid={`param-${field.name}`} role="radiogroup">
        {choices.map((c) => (
          <button key={String(c)} type="button" role="radio" aria-checked={same(c, value)} data-value={String(c)}
            className={same(c, value) ? "active" : ""} onClick={() => onChange(c)}>
            {label(c)}
          </button>
        ))}
      </div>
    );
  const index = choices.findIndex((c) => same(c, value));
  return (
    <select
      className="input"
      data-testid={`param-${field.name}`}
      value={index >= 0 ? String(index) : value === null ? "null" : ""}
      onChange={(e) => onChange(e.target.value === "null" ? null : choices[Number(e.target.value)])}
    >
      {index < 0 && value !== null && <option value="">{String(value ?? "")}</option>}
      {field.nullable && <option value="null">—</option>}
      {choices.map((c, i) => <option key={String(c)} value={String(i)} data-value={String(c)}>{label(c)}</option>)}
    </select>
  );
}

function MultiField({ field, value, onChange, choices, lang }: {
  field: FieldDesc; value: unknown; onChange: (v: unknown) => void; choices: string[] | undefined; lang: Lang;
}) {
  const selected = Array.isArray(value) ? (value as unknown[]).map(String) : [];
  if (!choices || !choices.length)
    return <div className="muted small" data-testid={`param-${field.name}`}>{translate(lang, "form.noChoices")}</div>;
  const set = (next: string[]) => onChange(next.length === 0 && field.nullable ? null : choices.filter((c) => next.includes(c)));
  const toggle = (c: string) => set(selected.includes(c) ? selected.filter((x) => x !== c) : [...selected, c]);
  return (
    <div className="multi" data-testid={`param-${field.name}`}>
      <div className="multi-head">
        <span className="muted small">{translate(lang, "form.selected", { n: selected.length })}</span>
        <button type="button" className="link" onClick={() => set([...choices])}>{translate(lang, "form.all")}</button>
        <button type="button" className="link" onClick={() => set([])}>{translate(lang, "form.none")}</button>
      </div>
      <div className="chips">
        {choices.map((c) => (
          <button key={c} type="button" role="checkbox" aria-checked={selected.includes(c)}
            className={`chip-toggle ${selected.includes(c) ? "on" : ""}`} data-choice={c} onClick={() => toggle(c)}>
            {c}
          </button>
        ))}
      </div>
      {selected.some((s) => !choices.includes(s)) && (
        <div className="field-error small">{selected.filter((s) => !choices.includes(s)).join(", ")} ?</div>
      )}
    </div>
  );
}

function TextField({ field, value, onChange, multiline }: {
  field: FieldDesc; value: unknown; onChange: (v: unknown) => void; multiline?: boolean;
}) {
  const shown = field.kind === "json" ? (value === undefined ? "" : JSON.stringify(value)) :
    field.kind === "list" ? (Array.isArray(value) ? value.join(", ") : "") : value == null ? "" : String(value);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState(false);
  useEffect(() => setText(shown), [shown]);
  const commit = (raw: string) => {
    setText(raw);
    if (field.kind === "json") {
      try {
        onChange(raw.trim() === "" ? (field.nullable ? null : undefined) : JSON.parse(raw));
        setBad(false);
      } catch {
        setBad(true);
      }
      return;
    }
    if (field.kind === "list") {
      const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
      onChange(field.itemKind === "string" ? items : items.map(Number));
      return;
    }
    onChange(raw === "" && field.nullable ? null : raw);
  };
  const props = {
    className: `input ${bad ? "invalid" : ""} ${field.kind !== "string" ? "mono" : ""}`,
    "data-testid": `param-${field.name}`,
    value: text,
    placeholder: field.nullable ? "—" : undefined,
    spellCheck: false,
  };
  return multiline ? <textarea rows={3} {...props} onChange={(e) => commit(e.target.value)} /> :
    <input type="text" {...props} onChange={(e) => commit(e.target.value)} />;
}

export function ParamForm({ schema, values, onChange, lang, issues = {}, choicesFor }: ParamFormProps) {
  const fields = fieldsFromSchema(schema);
  const [problems, setProblems] = useState<Record<string, FieldProblem | null>>({});
  if (!fields.length) return <div className="muted small">{translate(lang, "inspector.noParams")}</div>;
  return (
    <div className="param-form" data-testid="param-form">
      {fields.map((f) => {
        const value = effectiveValue(f, values);
        const local = problems[f.name] ?? checkValue(f, value);
        const serverIssue = issues[f.name];
        const error = local ? problemText(local, lang) : serverIssue ?? null; // the server's words stay in the issues list
        const isDefault = same(value, f.default) || (f.default === undefined && !(f.name in values));
        const set = (v: unknown) => onChange(f.name, v);
        const choices = f.kind === "multi" ? (f.choicesFrom ? choicesFor?.(f) : (f.choices as string[] | undefined)?.map(String)) : undefined;
        const bounds = f.kind === "integer" || f.kind === "number" ? boundsText(f, lang) : "";
        const help = loc(f.description, lang);
        return (
          <div key={f.name} className={`field field-${f.kind} ${error ? "has-error" : ""}`} data-testid={`field-${f.name}`}>
            <div className="field-head">
              <label className="field-label" title={f.name}>{loc(f.title, lang) || f.name}</label>
              {f.deferred && <span className="tag" title={translate(lang, "inspector.deferred")}>⧗</span>}
              {f.kind === "boolean" && (
                <Switch name={f.name} checked={Boolean(value)} onChange={set} />
              )}
              {!isDefault && f.default !== undefined && (
                <button type="button" className="btn btn-ghost btn-icon reset" title={translate(lang, "form.default", { v: defaultText(f, lang) })}
                  data-testid={`reset-${f.name}`} onClick={() => { setProblems((p) => ({ ...p, [f.name]: null })); onChange(f.name, undefined); }}>
                  <Icon name="undo" size={12} />
                </button>
              )}
            </div>
            {(f.kind === "integer" || f.kind === "number") && (
              <NumberField field={f} value={value} onChange={set} invalid={Boolean(error)}
                onProblem={(p) => setProblems((prev) => ({ ...prev, [f.name]: p }))} />
            )}
            {f.kind === "enum" && <EnumField field={f} value={value} onChange={set} lang={lang} />}
            {f.kind === "multi" && <MultiField field={f} value={value} onChange={set} choices={choices} lang={lang} />}
            {(f.kind === "string" || f.kind === "list") && <TextField field={f} value={value} onChange={set} />}
            {f.picker === "datasets" && <DatasetUpload value={value} onChange={set} />}
            {f.kind === "json" && <TextField field={f} value={value} onChange={set} multiline />}
            {(help || bounds) && (
              <div className="field-help">
                {help}
                {bounds && <span className="bounds">{bounds}</span>}
              </div>
            )}
            {f.kind === "multi" && f.choicesFrom && choices?.length ? (
              <div className="field-help">{translate(lang, "form.choicesFromInput")}</div>
            ) : null}
            {error && <div className="field-error" data-testid={`error-${f.name}`}><Icon name="warn" size={12} /> {error}</div>}
          </div>
        );
      })}
    </div>
  );
}
