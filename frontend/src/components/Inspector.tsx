// The right-hand panel: the selected node's generated parameter form, ports with inferred shapes, issues and result.
import { useCallback, useMemo, type CSSProperties } from "react";
import { loc, useLang, useT, type Key } from "../i18n";
import type { EvaluationSummary, ModelSummary } from "../types";
import { issueDetail, issueLead, issueNames, issueText } from "../lib/issues";
import { failureText, metricName } from "../lib/messages";
import type { FieldDesc } from "../lib/schema";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import { ParamForm } from "./ParamForm";
import { WeightsStatus } from "./WeightsStatus";
import { DataCheckPanel } from "./DataCheckPanel";
import { StatePill } from "./NodeCard";
import { categoryColor, Icon, portColor } from "./common";
import { CostSection } from "./CostBadge";
import { useActions, useStatus } from "./context";
import { useContext } from "react";
import { ResultsContext } from "./context";

function fmt(n: unknown, digits = 3): string {
  return typeof n === "number" ? n.toFixed(digits) : String(n ?? "");
}

function NodeInspector({ id }: { id: string }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const node = useEditor((s) => s.graph.nodes.find((n) => n.id === id));
  const edges = useEditor((s) => s.graph.edges);
  const catalog = useEditor((s) => s.catalog);
  const validation = useEditor((s) => s.validation);
  const setParam = useEditor((s) => s.setParam);
  const setLabel = useEditor((s) => s.setLabel);
  const status = useStatus(id);
  const result = useContext(ResultsContext)[id];
  const actions = useActions();
  const openPanel = useUi((s) => s.openPanel);

  const choicesFor = useCallback(
    (f: FieldDesc): string[] | undefined => {
      if (!f.choicesFrom) return undefined;
      for (const e of edges) {
        if (e.target !== id) continue;
        const info = validation?.specs?.[e.source]?.[e.sourceHandle]?.info;
        const list = info?.[f.choicesFrom];
        if (Array.isArray(list)) return list.map(String);
      }
      return undefined;
    },
    [edges, id, validation],
  );

  const names = useMemo(() => issueNames(node ? { nodes: [node], edges: [], groups: [] } : null, catalog, lang),
    [node, catalog, lang]);

  if (!node) return null;
  const comp = catalog?.components.find((c) => c.id === node.type);
  const issues = validation?.issues.filter((i) => i.node === id) ?? [];
  const paramIssues = Object.fromEntries(issues.filter((i) => i.param).map((i) => [i.param!, issueText(i, lang, names)]));
  const specs = validation?.specs?.[id] ?? {};
  const inSpec = (port: string) => {
    const e = edges.find((x) => x.target === id && x.targetHandle === port);
    return e ? { from: `${e.source}.${e.sourceHandle}`, spec: validation?.specs?.[e.source]?.[e.sourceHandle] } : null;
  };
  const outputs = Object.values(result?.summary ?? {});
  const model = outputs.find((s): s is ModelSummary => s.kind === "model");
  const report = outputs.find((s): s is EvaluationSummary => s.kind === "evaluation");

  return (
    <div className="inspector-node" data-testid="inspector" data-node={id}>
      <div className="insp-head" style={{ "--cat": categoryColor(comp?.category ?? "") } as CSSProperties}>
        <span className="cat-bar" />
        <div className="insp-title">
          <div className="insp-name">{comp ? loc(comp.name, lang) : node.type}</div>
          <div className="insp-type mono">{node.type} · v{comp?.version ?? "?"}</div>
        </div>
        <StatePill state={status.state} lang={lang} />
      </div>
      {comp?.description && loc(comp.description, lang) && <p className="insp-desc">{loc(comp.description, lang)}</p>}
      <div className="insp-actions">
        <button className="btn btn-small" onClick={() => actions.run([id], "node")}><Icon name="play" size={12} />{t("node.run")}</button>
        <button className="btn btn-small btn-primary" data-testid="inspector-run-to" onClick={() => actions.run([id], "to")}>
          <Icon name="playTo" size={12} />{t("node.runTo")}
        </button>
      </div>
      {status.state === "failed" && status.message && (
        <div className="insp-fail" data-code={status.code ?? ""}><Icon name="warn" size={13} /> {failureText({ ...status, node: id }, lang, names)}</div>
      )}
      <div className="insp-row">
        <label>{t("inspector.id")}</label><span className="mono">{id}</span>
      </div>
      <div className="insp-row">
        <label>{t("inspector.label")}</label>
        <input className="input" value={node.label ?? ""} placeholder={comp ? loc(comp.name, lang) : ""}
          onChange={(e) => setLabel(id, e.target.value)} />
      </div>
      {issues.length > 0 && (
        <div className="insp-section">
          <div className="section-label">{t("inspector.issues")}</div>
          {issues.map((i, k) => {
            const detail = issueDetail(i, lang);
            return (
              <div key={k} className="issue-item" data-testid="inspector-issue">
                <Icon name="warn" size={13} />
                <div>
                  <div className="issue-lead" data-code={i.code}>{issueLead(i, lang, names)}</div>
                  {/* the server's own words go with their code; a detail worded here needs none */}
                  <div className="issue-detail">{!detail.localized && <span className="issue-code">{i.code}</span>} {detail.text}</div>
                </div>
              </div>
            );
          })}
        </div>
      )}
      {comp?.category === "data" && <DataCheckPanel id={id} />}
      {comp?.category === "backbones" && (
        <WeightsStatus componentId={node.type} choice={node.params.weights ?? comp.defaults.weights} />
      )}
      <div className="insp-section">
        <div className="section-label">{t("inspector.title")}</div>
        <ParamForm
          schema={comp?.params_schema}
          values={node.params}
          onChange={(name, value) => setParam(id, name, value)}
          lang={lang}
          issues={paramIssues}
          choicesFor={choicesFor}
        />
      </div>
      <CostSection cost={validation?.costs?.[id]} lang={lang} />
      {comp && (comp.inputs.length > 0 || comp.outputs.length > 0) && (
        <div className="insp-section">
          <div className="section-label">{t("inspector.ports")}</div>
          {comp.inputs.map((p) => {
            const src = inSpec(p.name);
            return (
              <div key={"i" + p.name} className={`port-row ${issues.some((i) => i.port === p.name) ? "bad" : ""}`}>
                <span className="dot" style={{ background: portColor(p.type) }} />
                <span className="port-name">{loc(p.label as never, lang) || p.name}</span>
                <span className="muted small">{loc(catalog?.port_types?.[p.type], lang)}</span>
                <span className="spacer" />
                <span className="mono small">{src ? src.spec?.label ?? src.from : p.optional ? "—" : "∅"}</span>
              </div>
            );
          })}
          {comp.outputs.map((p) => (
            <div key={"o" + p.name} className="port-row out">
              <span className="dot" style={{ background: portColor(p.type) }} />
              <span className="port-name">→ {loc(p.label as never, lang) || p.name}</span>
              <span className="muted small">{loc(catalog?.port_types?.[p.type], lang)}</span>
              <span className="spacer" />
              <span className="mono small shape" data-testid={`spec-${p.name}`}>{specs[p.name]?.label ?? ""}</span>
            </div>
          ))}
        </div>
      )}
      {(model?.best || report) && (
        <div className="insp-section">
          <div className="section-label">{t("inspector.result")}</div>
          {model?.best && (
            <div className="result-grid" onClick={() => openPanel("curves")}>
              {Object.entries(model.best).map(([k, v]) => (
                <div key={k}><div className="muted small">{metricName(k, lang)}</div><div className="big mono">{fmt(v)}</div></div>
              ))}
              <div><div className="muted small">{t("panel.best", { e: model.best_epoch ?? "?" })}</div></div>
            </div>
          )}
          {report && (
            <div className="result-grid" onClick={() => openPanel("eval")}>
              <div><div className="muted small">{t("panel.splitAcc", { split: t(`split.${report.split}` as Key) })}</div><div className="big mono">{fmt(report.accuracy)}</div></div>
              <div><div className="muted small">{t("panel.splitLoss", { split: t(`split.${report.split}` as Key) })}</div><div className="big mono">{fmt(report.loss)}</div></div>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export function Inspector() {
  const t = useT();
  const selected = useEditor((s) => s.selectedNodes);
  const graph = useEditor((s) => s.graph);
  const removeSelection = useEditor((s) => s.removeSelection);
  return (
    <aside className="inspector" data-testid="inspector-panel">
      {selected.length === 1 ? (
        <NodeInspector id={selected[0]} />
      ) : selected.length > 1 ? (
        <div className="insp-empty">
          <div className="panel-title">{t("inspector.multi", { n: selected.length })}</div>
          <button className="btn btn-danger btn-small" onClick={removeSelection}><Icon name="trash" size={13} />{t("node.delete")}</button>
        </div>
      ) : (
        <div className="insp-empty">
          <div className="panel-title">{t("inspector.title")}</div>
          <p className="muted">{t("inspector.empty")}</p>
          <p className="muted small">{t("inspector.counts", { nodes: graph.nodes.length, edges: graph.edges.length, groups: graph.groups.length })}</p>
          <p className="muted small shortcuts">{t("shortcuts")}</p>
        </div>
      )}
    </aside>
  );
}
