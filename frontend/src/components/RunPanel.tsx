// The run panel: live curves per trainer (phases side by side on shared scales), the log,
// evaluation results, trained models (download, try on an image) and the issues list.
import { useContext, useMemo, useState, type ReactNode } from "react";
import { api } from "../api";
import { loc, useLang, useT } from "../i18n";
import { issueLead, issueNames } from "../lib/issues";
import { evalReports, progressFraction, trainedModels, type EvalReport, type MetricPoint, type RunView, workerText } from "../lib/runstate";
import { useEditor } from "../store/editor";
import { latestView, orderedViews, useRuns } from "../store/runs";
import { useUi, type PanelTab } from "../store/ui";
import type { Issue, Prediction, RunEvent } from "../types";
import { Icon } from "./common";
import { ResultsContext, useStatus } from "./context";
import { LineChart } from "./LineChart";

const NO_ISSUES: Issue[] = []; // a stable empty list: zustand selectors must not return fresh objects
const C_TRAIN = "#5aa9ff";
const C_VAL = "#ff9f43";

function pick(points: MetricPoint[], key: string): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (const p of points) {
    const y = p[key];
    if (typeof y === "number") out.push({ x: p.epoch, y });
  }
  return out;
}

/** The epoch with the best validation accuracy (the one a trainer keeps). */
function bestPoint(points: MetricPoint[]): { epoch: number; accuracy: number } | null {
  let best: { epoch: number; accuracy: number } | null = null;
  for (const p of points) {
    const acc = p.val_accuracy;
    if (typeof acc === "number" && (!best || acc > best.accuracy)) best = { epoch: p.epoch, accuracy: acc };
  }
  return best;
}

/** The freshest curve of a node: the latest run that has one. */
function curvesByNode(views: RunView[]): Record<string, { points: MetricPoint[]; runId: string }> {
  const out: Record<string, { points: MetricPoint[]; runId: string }> = {};
  for (const v of views) for (const [node, pts] of Object.entries(v.metrics)) if (pts.length) out[node] = { points: pts, runId: v.runId };
  return out;
}

function phaseLabel(phase: string, t: ReturnType<typeof useT>): string {
  if (phase === "train") return t("panel.phase.train");
  if (phase === "finetune") return t("panel.phase.finetune");
  return phase;
}

function TrainerCard({ node, points, lossMax }: { node: string; points: MetricPoint[]; lossMax: number }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const gnode = useEditor((s) => s.graph.nodes.find((n) => n.id === node));
  const comp = useEditor((s) => s.catalog?.components.find((c) => c.id === gnode?.type));
  const status = useStatus(node);
  const epochs = typeof gnode?.params?.epochs === "number" ? (gnode.params.epochs as number) : undefined;
  const fraction = progressFraction(status.progress);
  const phase = Object.values(useContext(ResultsContext)[node]?.summary ?? {}).find((s) => s.kind === "model")?.phase;
  const best = bestPoint(points);
  return (
    <div className="trainer-card" data-testid="trainer-card" data-node={node}>
      <div className="trainer-head">
        <span className="trainer-name">{gnode?.label || (comp ? loc(comp.name, lang) : node)}</span>
        <span className="mono muted small">{node}</span>
        {phase && <span className="chip chip-phase">{phaseLabel(phase, t)}</span>}
        <span className="spacer" />
        {status.state === "running" && (
          <span className="trainer-progress">
            <span className="small">{status.progress?.phase}</span>
            <span className="progress inline"><span className="progress-bar" style={{ width: `${(fraction ?? 0) * 100}%` }} /></span>
          </span>
        )}
        <span className="legend-inline">
          <span className="lg"><i style={{ background: C_TRAIN }} />{t("panel.train")}</span>
          <span className="lg"><i className="dashed" style={{ borderColor: C_VAL }} />{t("panel.val")}</span>
        </span>
        {best && <span className="chip" data-testid="best-chip" title="val_accuracy">{t("panel.best", { e: best.epoch })} · {best.accuracy.toFixed(3)}</span>}
      </div>
      <div className="trainer-charts">
        <LineChart
          testId={`chart-loss-${node}`}
          legend={false}
          title={t("panel.loss")}
          xMax={epochs}
          yMin={0}
          yMax={lossMax}
          series={[
            { name: t("panel.train"), color: C_TRAIN, points: pick(points, "loss") },
            { name: t("panel.val"), color: C_VAL, dashed: true, points: pick(points, "val_loss") },
          ]}
        />
        <LineChart
          testId={`chart-acc-${node}`}
          legend={false}
          title={t("panel.accuracy")}
          xMax={epochs}
          yMin={0}
          yMax={1}
          series={[
            { name: t("panel.train"), color: C_TRAIN, points: pick(points, "accuracy") },
            { name: t("panel.val"), color: C_VAL, dashed: true, points: pick(points, "val_accuracy") },
          ]}
        />
      </div>
    </div>
  );
}

function Curves() {
  const t = useT();
  const runs = useRuns((s) => s.runs);
  const views = useRuns((s) => s.views);
  const graphNodes = useEditor((s) => s.graph.nodes);
  const ordered = useMemo(() => orderedViews({ runs, views }), [runs, views]);
  const curves = useMemo(() => curvesByNode(ordered), [ordered]);
  const order = graphNodes.map((n) => n.id).filter((id) => curves[id]);
  if (!order.length) return <div className="empty-note">{t("panel.noCurves")}</div>;
  const lossMax = Math.max(0.5, ...order.flatMap((id) => curves[id].points.flatMap((p) => [p.loss ?? 0, p.val_loss ?? 0]))) * 1.05;
  return (
    <div className="trainers" data-testid="curves">
      {order.map((id) => <TrainerCard key={id} node={id} points={curves[id].points} lossMax={lossMax} />)}
    </div>
  );
}

function eventLine(e: RunEvent, t: ReturnType<typeof useT>): { level: string; text: ReactNode } | null {
  switch (e.type) {
    case "run.queued": return { level: "muted", text: "run queued" };
    case "run.started": {
      const cached = e.cached?.length ? t("log.cached", { nodes: e.cached.join(", ") }) : "";
      const plan = e.plan?.length ? t("log.plan", { nodes: e.plan.join(", ") }) : "";
      return { level: "info", text: t("log.runStarted", { where: workerText(e.worker, t), plan, cached }) };
    }
    case "run.finished": return { level: "ok", text: `run finished${e.seconds ? ` in ${Number(e.seconds).toFixed(1)}s` : ""}` };
    case "run.failed": return { level: "error", text: `run failed: ${e.code}: ${e.message}` };
    case "run.cancelled": return { level: "warning", text: `run cancelled ${e.message ?? ""}` };
    case "node.started": return { level: "info", text: "started" };
    case "node.cached": return { level: "ok", text: "from cache" };
    case "node.finished": return { level: "ok", text: `finished in ${Number(e.seconds ?? 0).toFixed(2)}s` };
    case "node.failed": return { level: "error", text: `${e.code}: ${e.message}` };
    case "node.metrics":
      return { level: "metric", text: `epoch ${e.epoch}: ` + Object.entries(e.metrics ?? {}).map(([k, v]) => `${k} ${Number(v).toFixed(4)}`).join("  ") };
    case "node.log": {
      const cache = e.data?.cache;
      return {
        level: e.level ?? "info",
        text: (
          <>
            {cache && <span className="chip chip-cache">{String(cache)} cache</span>}
            {e.message}
          </>
        ),
      };
    }
    default: return null;
  }
}

function Log({ view }: { view: RunView | null }) {
  const t = useT();
  const events = useRuns((s) => (view ? s.events[view.runId] : undefined));
  if (!view || !events) return <div className="empty-note">{t("panel.noRun")}</div>;
  const lines = events.map((e) => ({ e, line: eventLine(e, t) })).filter((x) => x.line);
  return (
    <div className="log" data-testid="log">
      {lines.map(({ e, line }) => (
        <div key={e.seq} className={`log-line log-${line!.level}`}>
          <span className="log-time mono">{new Date(e.ts * 1000).toLocaleTimeString()}</span>
          <span className="log-node mono">{"node" in e ? e.node ?? "" : ""}</span>
          <span className="log-text">{line!.text}</span>
        </div>
      ))}
    </div>
  );
}

/** One evaluation sample: the image from the server (a placeholder until or unless it loads). */
export function SampleTile({ runId, node, index, sample }: {
  runId: string; node: string; index: number; sample: NonNullable<EvalReport["samples"]>[number];
}) {
  const t = useT();
  const [failed, setFailed] = useState(false);
  const ok = sample.label === sample.predicted;
  const name = sample.path.split(/[\\/]/).pop() ?? sample.path;
  const prob = `${(sample.probability * 100).toFixed(0)}%`;
  return (
    <figure className={`sample ${ok ? "ok" : "bad"}`} data-testid="eval-sample" data-correct={ok ? "true" : "false"}
      title={`${sample.path}\n${t("panel.sampleTitle", { label: sample.label, predicted: sample.predicted, p: prob })}`}>
      {failed ? (
        <div className="sample-ph"><span className="glyph">{sample.label.slice(0, 1).toUpperCase()}</span>{name}</div>
      ) : (
        <img src={api.sampleUrl(runId, node, index)} alt={name} loading="lazy" onError={() => setFailed(true)} />
      )}
      <span className={`sample-mark ${ok ? "ok" : "bad"}`} aria-label={ok ? t("panel.correct") : t("panel.wrong")}>{ok ? "✓" : "✗"}</span>
      <figcaption>
        <span className="sample-pred"><span className={ok ? "ok" : "bad"}>{sample.predicted}</span> {prob}</span>
        <span className="sample-actual muted">{t("panel.actualShort")} {sample.label}</span>
      </figcaption>
    </figure>
  );
}

/** A split's name in the user's language (the report says which split it measured). */
function splitName(split: string, t: ReturnType<typeof useT>): string {
  if (split === "test") return t("split.test");
  if (split === "validation") return t("split.validation");
  if (split === "train") return t("split.train");
  return split;
}

function Evaluation() {
  const t = useT();
  const results = useContext(ResultsContext);
  const reports = evalReports(results);
  if (!reports.length) return <div className="empty-note">{t("panel.noEval")}</div>;
  return (
    <div className="evals" data-testid="evaluation">
      {reports.map(({ node, runId, report }) => {
        const classes = report.classes ?? [];
        const confusion = report.confusion ?? [];
        const maxCell = Math.max(1, ...confusion.flat());
        return (
          <div key={node} className="eval-card">
            <div className="eval-stats">
              <div className="stat"><div className="muted small">{t("panel.splitAcc", { split: splitName(report.split, t) })}</div><div className="stat-big" data-testid="test-accuracy" data-split={report.split}>{((report.accuracy ?? 0) * 100).toFixed(1)}%</div></div>
              <div className="stat"><div className="muted small">{t("panel.splitLoss", { split: splitName(report.split, t) })}</div><div className="stat-big">{(report.loss ?? 0).toFixed(3)}</div></div>
              <div className="muted small mono">{node}</div>
            </div>
            <div className="confusion-wrap">
              <div className="section-label">{t("panel.confusion")}</div>
              <table className="confusion" data-testid="confusion">
                <thead>
                  <tr><th className="muted small">{t("panel.actual")}{" \\ "}{t("panel.predicted")}</th>{classes.map((c) => <th key={c}>{c}</th>)}</tr>
                </thead>
                <tbody>
                  {confusion.map((row, i) => (
                    <tr key={i}>
                      <th>{classes[i]}</th>
                      {row.map((v, j) => (
                        <td key={j} style={{ background: `rgba(${i === j ? "47,191,113" : "255,92,122"},${0.12 + (0.6 * v) / maxCell})` }}>{v}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="samples-wrap">
              <div className="section-label">{t("panel.samples")}</div>
              <div className="samples">
                {(report.samples ?? []).map((s, i) => <SampleTile key={`${runId}-${i}`} runId={runId} node={node} index={i} sample={s} />)}
              </div>
            </div>
          </div>
        );
      })}
    </div>
  );
}

function TryModel({ runId, node }: { runId: string; node: string }) {
  const t = useT();
  const toast = useUi((s) => s.toast);
  const [preview, setPreview] = useState<string | null>(null);
  const [result, setResult] = useState<Prediction | null>(null);
  const [busy, setBusy] = useState(false);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setPreview(URL.createObjectURL(file));
    setResult(null);
    setBusy(true);
    try {
      setResult(await api.predict(runId, node, file));
    } catch (e) {
      toast((e as Error).message, "error");
    } finally {
      setBusy(false);
    }
  };
  const probs = result?.probabilities && !Array.isArray(result.probabilities) ? Object.entries(result.probabilities) : [];
  return (
    <div className="try-model">
      <label className="btn btn-small">
        <Icon name="upload" size={13} /> {t("panel.choose")}
        <input type="file" accept="image/*" hidden data-testid={`predict-file-${node}`} onChange={(e) => void onFile(e.target.files?.[0])} />
      </label>
      {preview && <img className="try-preview" src={preview} alt="" />}
      {busy && <span className="muted small">…</span>}
      {result && (
        <div className="prediction" data-testid="prediction">
          <div className="pred-main">{t("panel.prediction", { c: result.class, p: `${(result.probability * 100).toFixed(1)}%` })}</div>
          {probs.map(([c, p]) => (
            <div key={c} className="prob-row"><span>{c}</span><span className="progress inline"><span className="progress-bar" style={{ width: `${p * 100}%` }} /></span><span className="mono small">{(p * 100).toFixed(1)}%</span></div>
          ))}
        </div>
      )}
    </div>
  );
}

function Models() {
  const t = useT();
  const results = useContext(ResultsContext);
  const models = trainedModels(results);
  if (!models.length) return <div className="empty-note">{t("panel.noModel")}</div>;
  return (
    <div className="models" data-testid="models">
      {models.map((m) => (
        <div key={m.node} className="model-card">
          <div className="model-head">
            <span className="trainer-name">{m.node}</span>
            {m.classes && <span className="chip">{m.classes.join(" / ")}</span>}
            {typeof m.best?.val_accuracy === "number" && <span className="chip">val acc {m.best.val_accuracy.toFixed(3)}</span>}
            <span className="spacer" />
            <a className="btn btn-small" href={api.modelUrl(m.runId, m.node)} download data-testid={`download-${m.node}`}>
              <Icon name="download" size={13} /> {t("panel.download")}
            </a>
          </div>
          <div className="section-label">{t("panel.tryImage")}</div>
          <TryModel runId={m.runId} node={m.node} />
        </div>
      ))}
    </div>
  );
}

function Issues() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const issues = useEditor((s) => s.validation?.issues ?? NO_ISSUES);
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const names = useMemo(() => issueNames(graph, catalog, lang), [graph, catalog, lang]);
  const focusNode = useUi((s) => s.focusNode);
  if (!issues.length) return <div className="empty-note ok"><Icon name="check" /> {t("panel.issuesNone")}</div>;
  return (
    <div className="issues-list" data-testid="issues-list">
      {issues.map((i, k) => (
        <button key={k} className="issue-row" data-testid="issue-row" data-node={i.node ?? ""} onClick={() => i.node && focusNode(i.node)}>
          <Icon name="warn" size={13} />
          <span className="mono issue-where">{i.node ?? t("panel.graph")}{i.port || i.param ? `.${i.port || i.param}` : ""}</span>
          <span className="issue-text">
            <span className="issue-lead" data-code={i.code}>{issueLead(i, lang, names)}</span>
            <span className="issue-msg"><span className="issue-code">{i.code}</span> {i.message}</span>
          </span>
        </button>
      ))}
    </div>
  );
}

export function RunPanel() {
  const t = useT();
  const open = useUi((s) => s.panelOpen);
  const tab = useUi((s) => s.panelTab);
  const openPanel = useUi((s) => s.openPanel);
  const setOpen = useUi((s) => s.setPanelOpen);
  const view = useRuns(latestView);
  const connection = useRuns((s) => s.connection);
  const cancel = useRuns((s) => s.cancel);
  const issues = useEditor((s) => s.validation?.issues.length ?? 0);
  const tabs: [PanelTab, string][] = [
    ["curves", t("panel.curves")], ["log", t("panel.log")], ["eval", t("panel.eval")], ["model", t("panel.model")],
    ["issues", `${t("panel.issues")}${issues ? ` (${issues})` : ""}`],
  ];
  return (
    <section className={`run-panel ${open ? "open" : "closed"}`} data-testid="run-panel">
      <div className="run-panel-head">
        <div className="tabs" role="tablist">
          {tabs.map(([id, label]) => (
            <button key={id} role="tab" aria-selected={open && tab === id} data-testid={`tab-${id}`}
              className={`tab ${open && tab === id ? "active" : ""} ${id === "issues" && issues ? "warn" : ""}`} onClick={() => openPanel(id)}>
              {label}
            </button>
          ))}
        </div>
        <span className="spacer" />
        {view && (
          <span className={`run-status run-${view.status}`} data-testid="run-status" data-status={view.status}>
            <span className="run-dot" />
            {t("run.label", { id: view.runId })} · {t(`run.status.${view.status}` as never)}
            {view.active && <span className="muted small"> · {connection === "reconnecting" ? t("run.reconnecting") : t("run.live")}</span>}
            {view.cached.length > 0 && <span className="muted small"> · {t("run.cachedNodes", { n: view.cached.length })}</span>}
          </span>
        )}
        {view?.active && (
          <button className="btn btn-small btn-danger" data-testid="panel-cancel" onClick={() => void cancel()}>
            <Icon name="stop" size={12} /> {t("editor.cancel")}
          </button>
        )}
        <button className="btn btn-ghost btn-icon" onClick={() => setOpen(!open)} title={open ? t("panel.collapse") : t("panel.expand")}>
          <Icon name={open ? "chevronDown" : "chevronUp"} />
        </button>
      </div>
      {open && (
        <div className="run-panel-body">
          {view?.error && tab !== "issues" && (
            <div className="run-error" data-testid="run-error"><Icon name="warn" size={13} /> {view.error.node ? `${view.error.node}: ` : ""}{view.error.message}</div>
          )}
          {tab === "curves" && <Curves />}
          {tab === "log" && <Log view={view} />}
          {tab === "eval" && <Evaluation />}
          {tab === "model" && <Models />}
          {tab === "issues" && <Issues />}
        </div>
      )}
    </section>
  );
}
