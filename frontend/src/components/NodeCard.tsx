// One component on the canvas: typed ports (coloured by type), its state, progress and issues.
// Everything it draws comes in its data (see lib/canvasElements), so a card re-renders only
// when its own node, state, issues or shapes change, not when any other node does.
import { memo, useMemo, type CSSProperties } from "react";
import { Handle, NodeToolbar, Position, type NodeProps } from "@xyflow/react";
import { loc, nodeTitle, translate, useLang, useT } from "../i18n";
import type { CardNode } from "../lib/canvasElements";
import { issueLead, issueNames, issueText, type IssueNames } from "../lib/issues";
import { failureText, progressText } from "../lib/messages";
import { progressFraction } from "../lib/runstate";
import { whyLong, whyShort } from "../lib/why";
import { choiceLabel, enumTitles } from "../lib/schema";
import { useEditor } from "../store/editor";
import type { Catalog, ComponentDesc, Issue, Lang, PortDesc } from "../types";
import { useActions } from "./context";
import { categoryColor, Icon, portColor } from "./common";
import { CostChip } from "./CostBadge";

export const STATE_ICON: Record<string, string> = {
  idle: "", stale: "clock", queued: "clock", running: "spark", cached: "cache", done: "check", failed: "warn", cancelled: "x",
};

function paramSummary(comp: ComponentDesc | undefined, params: Record<string, unknown>, lang: Lang): string {
  const parts: string[] = [];
  for (const [name, prop] of Object.entries(comp?.params_schema?.properties ?? {})) {
    const v = name in params ? params[name] : comp?.defaults?.[name];
    const titles = enumTitles(prop);
    if (typeof v === "number") parts.push(String(v));
    else if (typeof v === "string" && titles) parts.push(choiceLabel({ choiceTitles: titles }, v, lang)); // a choice's label
    else if (typeof v === "string" && v.length <= 14 && !v.includes("/")) parts.push(v);
    if (parts.length >= 3) break;
  }
  return parts.join(" · ");
}

function portLabel(p: PortDesc, lang: Lang): string {
  return loc(p.label as never, lang) || p.name;
}

const typeNameCache = new WeakMap<Catalog, Partial<Record<Lang, Record<string, string>>>>();

/** Port type names in a language, made once per catalog and language rather than per card. */
function portTypeNames(catalog: Catalog | null, lang: Lang): Record<string, string> {
  if (!catalog) return {};
  const byLang = typeNameCache.get(catalog) ?? {};
  typeNameCache.set(catalog, byLang);
  byLang[lang] ??= Object.fromEntries(Object.entries(catalog.port_types).map(([k, v]) => [k, loc(v, lang)]));
  return byLang[lang];
}

function issuesTitle(issues: Issue[], lang: Lang, names: IssueNames): string {
  return issues.map((i) => issueText(i, lang, names)).join("\n");
}

export function StatePill({ state, lang }: { state: string; lang: Lang }) {
  return (
    <span className={`state-pill state-${state}`} data-testid="node-state" data-state={state}>
      {STATE_ICON[state] && <Icon name={STATE_ICON[state]} size={11} />}
      {translate(lang, `state.${state}` as never)}
    </span>
  );
}

function Ports({ ports, side, issues, shapes, lang, typeNames }: {
  ports: PortDesc[]; side: "in" | "out"; issues: Issue[]; shapes?: Record<string, string | undefined>;
  lang: Lang; typeNames: Record<string, string>;
}) {
  return (
    <div className={`ports ports-${side}`}>
      {ports.map((p, i) => {
        const left = `${((i + 0.5) / ports.length) * 100}%`;
        const bad = issues.some((x) => x.port === p.name);
        const style = { left, "--port": portColor(p.type) } as CSSProperties;
        return (
          <div key={p.name} className={`port ${bad ? "port-bad" : ""}`} style={{ left }} data-testid={`port-${side}-${p.name}`}>
            <Handle
              id={p.name}
              type={side === "in" ? "target" : "source"}
              position={side === "in" ? Position.Top : Position.Bottom}
              className={`handle handle-${p.type} ${bad ? "handle-bad" : ""} ${p.optional ? "handle-optional" : ""}`}
              style={style}
              title={`${portLabel(p, lang)} · ${typeNames[p.type] ?? p.type}${p.optional ? translate(lang, "port.optional") : ""}`}
            />
            <span className="port-label">
              {portLabel(p, lang)}
              {side === "out" && shapes?.[p.name] && <span className="shape-chip" data-testid="port-shape">{shapes[p.name]}</span>}
            </span>
          </div>
        );
      })}
    </div>
  );
}

/**
 * The run buttons beside the one selected card; mounted only there, since each toolbar follows
 * the viewport. A narrow column on the card's right edge: cards show their ports and labels on
 * the top and bottom edges and group labels sit above the first card, so nothing is hidden there.
 */
function RunToolbar({ id }: { id: string }) {
  const t = useT();
  const actions = useActions();
  return (
    <NodeToolbar isVisible position={Position.Right} align="center" offset={6} className="node-toolbar">
      <button className="tb-btn" data-testid="run-node" onClick={() => actions.run([id], "node")} title={t("node.run")}>
        <Icon name="play" size={13} />
      </button>
      <button className="tb-btn primary" data-testid="run-to" onClick={() => actions.run([id], "to")} title={t("node.runTo")}
        aria-label={t("node.runTo")}>
        <Icon name="playTo" size={13} />
      </button>
      <button className="tb-btn" data-testid="run-all-node" onClick={() => actions.run([], "all")} title={t("node.runAll")}>
        <Icon name="playAll" size={13} />
      </button>
      <button className="tb-btn" data-testid="preview-run" onClick={() => actions.preview?.([id], "to")} title={t("node.preview")}
        aria-label={t("node.preview")}>
        <Icon name="search" size={13} />
      </button>
    </NodeToolbar>
  );
}

export const NodeCard = memo(function NodeCard({ id, data, selected }: NodeProps<CardNode>) {
  const lang = useLang((s) => s.lang);
  const catalog = useEditor((s) => s.catalog);
  const { node, component: comp, status, issues, shapes, toolbar } = data;
  // Issues and failures on a card only name this node, so the names need only it (not the whole graph).
  const failed = status.state === "failed" && !!status.message;
  // why it ran, on the card only when it tells something: "new: never ran here" is every card's
  // reason after a first run (the why tab still lists it), and the params say more
  const why = status.why?.reason === "new" ? undefined : status.why;
  const names = useMemo(() => issues.length || failed || why ? issueNames({ nodes: [node], edges: [], groups: [] }, catalog, lang, true) : null,
    [issues, failed, why, node, catalog, lang]);
  const typeNames = portTypeNames(catalog, lang);
  const color = categoryColor(comp?.category ?? node.type.split(".")[0]);
  const fraction = progressFraction(status.progress);
  const running = status.state === "running";
  return (
    <div
      className={`node-card state-${status.state} ${selected ? "selected" : ""} ${issues.length ? "has-issues" : ""} ${comp ? "" : "unknown"}`}
      style={{ "--cat": color } as CSSProperties}
      data-testid="node-card"
      data-node={id}
      data-state={status.state}
      title={names && issues.length ? issuesTitle(issues, lang, names) : undefined}
    >
      {toolbar && <RunToolbar id={id} />}
      {comp && comp.inputs.length > 0 && (
        <Ports ports={comp.inputs} side="in" issues={issues} lang={lang} typeNames={typeNames} />
      )}
      <div className="node-head">
        <span className="cat-dot" />
        <span className="node-title">{nodeTitle(node.label, comp, lang, node.type)}</span>
        {issues.length > 0 && (
          <span className="issue-badge" data-testid="node-issue-badge"><Icon name="warn" size={11} />{issues.length}</span>
        )}
        <StatePill state={status.state} lang={lang} />
      </div>
      <div className="node-sub">
        {names && issues.length ? (
          <span className="node-issue" data-testid="node-issue" data-code={issues[0].code}>{issueLead(issues[0], lang, names)}</span>
        ) : running ? (
          <span className="phase" data-testid="node-phase">{progressText(status.progress, lang)}</span>
        ) : failed ? (
          <span className="fail-msg" data-testid="node-fail" data-code={status.code ?? ""}
            title={failureText({ ...status, node: id }, lang, names ?? undefined)}>
            {failureText({ ...status, node: id }, lang, names ?? undefined)}
          </span>
        ) : (
          <>
            <span className="node-id">{id}</span>
            {why && names ? (
              // why it ran, or which run its cached result came from (lib/why); the params are in the inspector
              <span className={`node-why ${why.runs ? "why-ran" : "why-cached"}`} data-testid="node-why"
                data-reason={why.reason} title={whyLong(why, id, lang, names)}>{whyShort(why, id, lang, names)}</span>
            ) : (
              <span className="node-params">{paramSummary(comp, node.params, lang)}</span>
            )}
            <CostChip cost={data.cost} lang={lang} />
          </>
        )}
      </div>
      {running && (
        <div className="progress" data-testid="node-progress" data-fraction={fraction ?? ""}>
          <div className={`progress-bar ${fraction === null ? "indeterminate" : ""}`}
            style={{ width: fraction === null ? "40%" : `${fraction * 100}%` }} />
        </div>
      )}
      {comp && comp.outputs.length > 0 && (
        <Ports ports={comp.outputs} side="out" issues={issues} shapes={shapes} lang={lang} typeNames={typeNames} />
      )}
    </div>
  );
});
