// The run panel: live curves per trainer (phases side by side on shared scales), the log,
// evaluation results, trained models (download, try on an image) and the issues list.
import { useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, ApiError } from "../api";
import { loc, translate, useLang, useT } from "../i18n";
import { fitGrid } from "../lib/gallery";
import { issueDetail, issueLead, issueNames, type IssueNames } from "../lib/issues";
import { cancelText, failureText, knownFailure, logText, metricName, progressText, type Failure } from "../lib/messages";
import {
  evalReports, offeredModels, progressFraction, type EvalReport, type MetricPoint, type OfferedModel, type RunView, workerText,
} from "../lib/runstate";
import { useRunArtifacts } from "../lib/queries";
import { useEditor } from "../store/editor";
import { latestView, orderedViews, useRuns } from "../store/runs";
import { useUi, type PanelTab } from "../store/ui";
import type { Issue, Lang, Prediction, Run, RunEvent } from "../types";
import { Icon } from "./common";
import { ResultsContext, useStatus } from "./context";
import { LineChart } from "./LineChart";
import { WhyPanel } from "./WhyPanel";

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

interface Curve {
  points: MetricPoint[];
  runId: string;
  /** The epoch whose weights the trainer keeps, as the trainer said (never recomputed here). */
  best?: number;
  /** The epoch after which early stopping ended the training, if it did. */
  stopped?: number;
  /** Fixed augmentation variants per training image in the trainer's feature cache, if any. */
  variants?: number;
}

/** The freshest curve of a node: the latest run that has one, with that run's kept epoch. */
function curvesByNode(views: RunView[]): Record<string, Curve> {
  const out: Record<string, Curve> = {};
  for (const v of views)
    for (const [node, pts] of Object.entries(v.metrics)) if (pts.length) out[node] = { points: pts, runId: v.runId, best: v.best[node], stopped: v.stopped?.[node],
      variants: v.variants?.[node] };
  return out;
}

function phaseLabel(phase: string, t: ReturnType<typeof useT>): string {
  if (phase === "train") return t("panel.phase.train");
  if (phase === "finetune") return t("panel.phase.finetune");
  return phase;
}

function TrainerCard({ node, points, best, stopped, variants, lossMax }: {
  node: string; points: MetricPoint[]; best?: number; stopped?: number; variants?: number; lossMax: number;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const gnode = useEditor((s) => s.graph.nodes.find((n) => n.id === node));
  const comp = useEditor((s) => s.catalog?.components.find((c) => c.id === gnode?.type));
  const status = useStatus(node);
  const epochs = typeof gnode?.params?.epochs === "number" ? (gnode.params.epochs as number) : undefined;
  const fraction = progressFraction(status.progress);
  const phase = Object.values(useContext(ResultsContext)[node]?.summary ?? {}).find((s) => s.kind === "model")?.phase;
  const bestAcc = points.find((p) => p.epoch === best)?.val_accuracy;
  return (
    <div className="trainer-card" data-testid="trainer-card" data-node={node}>
      <div className="trainer-head">
        <span className="trainer-name">{gnode?.label || (comp ? loc(comp.name, lang) : node)}</span>
        <span className="mono muted small">{node}</span>
        {phase && <span className="chip chip-phase">{phaseLabel(phase, t)}</span>}
        <span className="spacer" />
        {status.state === "running" && (
          <span className="trainer-progress">
            <span className="small" data-testid="trainer-phase">{progressText(status.progress, lang)}</span>
            <span className="progress inline"><span className="progress-bar" style={{ width: `${(fraction ?? 0) * 100}%` }} /></span>
          </span>
        )}
        <span className="legend-inline">
          <span className="lg"><i style={{ background: C_TRAIN }} />{t("panel.train")}</span>
          <span className="lg"><i className="dashed" style={{ borderColor: C_VAL }} />{t("panel.val")}</span>
        </span>
        {best !== undefined && (
          <span className="chip chip-best" data-testid="best-chip" data-epoch={best} title={t("panel.bestHint")}>
            {t("panel.best", { e: best })}{typeof bestAcc === "number" ? ` · ${bestAcc.toFixed(3)}` : ""}
          </span>
        )}
        {variants !== undefined && (
          <span className="chip chip-variants" data-testid="variants-chip" data-variants={variants} title={t("panel.variantsHint")}>
            {t("panel.variants", { n: variants })}
          </span>
        )}
        {stopped !== undefined && (
          <span className="chip chip-stopped" data-testid="stopped-chip" data-epoch={stopped} title={t("panel.stoppedHint")}>
            {t("panel.stopped", { e: stopped })}
          </span>
        )}
      </div>
      <div className="trainer-charts">
        <LineChart
          testId={`chart-loss-${node}`}
          legend={false}
          title={t("panel.loss")}
          xMax={epochs}
          yMin={0}
          yMax={lossMax}
          marker={best}
          stopMarker={stopped}
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
          marker={best}
          stopMarker={stopped}
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
      {order.map((id) => <TrainerCard key={id} node={id} points={curves[id].points} best={curves[id].best}
        stopped={curves[id].stopped} variants={curves[id].variants} lossMax={lossMax} />)}
    </div>
  );
}

/** A failure as the log and the banner say it: the code's sentence, or the server's code and words. */
function failureLine(f: Failure, lang: Lang, names: IssueNames): string {
  return knownFailure(f.code) ? failureText(f, lang, names) : `${f.code ? `${f.code}: ` : ""}${f.message ?? ""}`;
}

function eventLine(e: RunEvent, t: ReturnType<typeof useT>, lang: Lang, names: IssueNames): { level: string; text: ReactNode } | null {
  const seconds = (s: number | undefined, digits: number) => Number(s ?? 0).toFixed(digits);
  switch (e.type) {
    case "run.queued": return { level: "muted", text: t("log.runQueued") };
    case "run.started": {
      const cached = e.cached?.length ? t("log.cached", { nodes: e.cached.join(", ") }) : "";
      const plan = e.plan?.length ? t("log.plan", { nodes: e.plan.join(", ") }) : "";
      return { level: "info", text: t("log.runStarted", { where: workerText(e.worker, t), plan, cached }) };
    }
    case "run.finished":
      return { level: "ok", text: e.seconds ? t("log.runFinishedIn", { s: seconds(e.seconds, 1) }) : t("log.runFinished") };
    case "run.failed": return { level: "error", text: t("log.runFailed", { msg: failureLine(e, lang, names) }) };
    // said from the node, not the message ("cancelled during train"): the words are the editor's
    case "run.cancelled": return { level: "warning", text: cancelText(e.node, lang, names) };
    case "node.started": return { level: "info", text: t("log.nodeStarted") };
    case "node.cached": return { level: "ok", text: t("log.nodeCached") };
    case "node.finished": return { level: "ok", text: t("log.nodeFinished", { s: seconds(e.seconds, 2) }) };
    case "node.failed": return { level: "error", text: failureLine(e, lang, names) };
    case "node.metrics": {
      const metrics = Object.entries(e.metrics ?? {}).map(([k, v]) => `${metricName(k, lang)} ${Number(v).toFixed(4)}`).join("  ");
      return { level: "metric", text: t("log.epoch", { epoch: e.epoch, metrics }) };
    }
    case "node.log": {
      const cache = e.cache?.cache;
      return {
        level: e.level ?? "info",
        text: (
          <>
            {cache && <span className="chip chip-cache">{t(cache === "images" ? "log.cache.images" : "log.cache.features")}</span>}
            {logText(e, lang, names)}
          </>
        ),
      };
    }
    default: return null;
  }
}

function Log({ view }: { view: RunView | null }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const names = useMemo(() => issueNames(graph, catalog, lang, true), [graph, catalog, lang]);
  const events = useRuns((s) => (view ? s.events[view.runId] : undefined));
  if (!view || !events) return <div className="empty-note">{t("panel.noRun")}</div>;
  const lines = events.map((e) => ({ e, line: eventLine(e, t, lang, names) })).filter((x) => x.line);
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

/** The sample photos as a grid sized to the box it has: every photo in view without scrolling. */
function SampleGrid({ count, children }: { count: number; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(([entry]) =>
      setSize({ width: Math.floor(entry.contentRect.width), height: Math.floor(entry.contentRect.height) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const fit = fitGrid(count, size.width, size.height, { aspect: 0.78 }); // 4:3 photos and their borders
  return (
    <div ref={box} className={`samples ${fit.tile < 96 ? "compact" : ""}`} data-testid="samples" data-columns={fit.columns}
      style={{ gridTemplateColumns: `repeat(${fit.columns}, ${fit.tile}px)` }}>
      {children}
    </div>
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
              <SampleGrid count={report.samples?.length ?? 0}>
                {(report.samples ?? []).map((s, i) => <SampleTile key={`${runId}-${i}`} runId={runId} node={node} index={i} sample={s} />)}
              </SampleGrid>
            </div>
          </div>
        );
      })}
    </div>
  );
}

/** A chosen file as the browser decodes it: its object URL, or null when it is no image it can show. */
function decodedPreview(file: File): Promise<string | null> {
  const url = URL.createObjectURL(file);
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(url);
    img.onerror = () => {
      URL.revokeObjectURL(url);
      resolve(null);
    };
    img.src = url;
  });
}

function TryModel({ runId, node, testSuffix = "" }: { runId: string; node: string; testSuffix?: string }) {
  const t = useT();
  const [preview, setPreview] = useState<string | null>(null);
  const [result, setResult] = useState<Prediction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setPreview(null);
    setResult(null);
    setError(null);
    setBusy(true);
    // The preview shows only once the photo decodes here: never a broken image.
    const [shown, answer] = await Promise.all([
      decodedPreview(file),
      api.predict(runId, node, file).then((r) => ({ ok: r }), (e: unknown) => ({ err: e })),
    ]);
    setBusy(false);
    if ("ok" in answer) {
      setPreview(shown);
      setResult(answer.ok);
      return;
    }
    if (shown) URL.revokeObjectURL(shown);
    const err = answer.err;
    const code = err instanceof ApiError ? err.code : null;
    setError(code === "not_an_image" ? t("panel.notAnImage", { name: file.name })
      : code === "model_evicted" || code === "artifact_missing" ? t("panel.modelGone")
      : t("panel.predictFailed", { msg: err instanceof Error ? err.message : String(err) }));
  };
  const probs = result?.probabilities && !Array.isArray(result.probabilities) ? Object.entries(result.probabilities) : [];
  return (
    <div className="try-model">
      <label className="btn btn-small">
        <Icon name="upload" size={13} /> {t("panel.choose")}
        <input type="file" accept="image/*" hidden data-testid={`predict-file-${node}${testSuffix}`}
          onChange={(e) => {
            void onFile(e.target.files?.[0]);
            e.target.value = ""; // the same file again is a new choice
          }} />
      </label>
      {preview && <img className="try-preview" src={preview} alt="" data-testid="predict-preview" />}
      {busy && <span className="muted small">…</span>}
      {error && <div className="predict-error" role="alert" data-testid="predict-error"><Icon name="warn" size={13} /> {error}</div>}
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

/** When a run ended (or began): what the Model tab names a run's model by, with its id. */
function runTime(runs: Run[], runId: string, lang: string): string {
  const run = runs.find((r) => String(r.id) === runId);
  const iso = run?.finished_at ?? run?.started_at ?? run?.created_at;
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en", { dateStyle: "short", timeStyle: "medium" });
}

function ModelCard({ model, runs }: { model: OfferedModel; runs: Run[] }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const suffix = model.partial ? "-partial" : "";
  const valAcc = model.best?.val_accuracy;
  // its file may be gone since the run (the cache's budget removed it): said instead of a dead link
  const artifacts = useRunArtifacts(model.runId).data;
  const gone = artifacts?.some((a) => a.node === model.node && a.kind === "model" && !a.present) ?? false;
  return (
    <div className={`model-card ${model.partial ? "partial" : ""}`} data-testid="model-card" data-node={model.node}
      data-run={model.runId} data-epoch={model.epoch ?? ""} data-partial={model.partial ? "true" : "false"}>
      <div className="model-head">
        <span className="trainer-name">{model.node}</span>
        {model.partial && <span className="chip chip-partial" title={t("panel.modelPartialHint")}>{t("panel.modelPartial")}</span>}
        {model.phase && <span className="chip chip-phase">{phaseLabel(model.phase, t)}</span>}
        {model.classes && <span className="chip">{model.classes.join(" / ")}</span>}
        <span className="spacer" />
        {!gone && (
          <>
            <a className="btn btn-small" href={api.modelUrl(model.runId, model.node)} download data-testid={`download-${model.node}${suffix}`}>
              <Icon name="download" size={13} /> {t("panel.download")}
            </a>
            <a className="btn btn-small" href={api.onnxUrl(model.runId, model.node)} download title={t("panel.downloadOnnxHint")}
              data-testid={`download-onnx-${model.node}${suffix}`}>
              <Icon name="download" size={13} /> {t("panel.downloadOnnx")}
            </a>
          </>
        )}
      </div>
      <div className="model-origin small" data-testid="model-origin">
        <span className="mono">{t("panel.modelRun", { id: model.runId, time: runTime(runs, model.runId, lang) })}</span>
        {model.fromCache && <span className="muted"> · {t("panel.modelFromCache")}</span>}
        {model.epoch !== null && <span> · <b data-testid="model-epoch">{t("panel.modelEpoch", { e: model.epoch, n: model.epochs })}</b></span>}
        {typeof valAcc === "number" && <span className="muted"> · {t("panel.modelValAcc", { v: valAcc.toFixed(3) })}</span>}
      </div>
      {gone ? (
        <div className="predict-error" data-testid={`model-gone-${model.node}${suffix}`}><Icon name="warn" size={13} /> {t("panel.modelGone")}</div>
      ) : (
        <>
          <div className="section-label">{t("panel.tryImage")}</div>
          <TryModel runId={model.runId} node={model.node} testSuffix={suffix} />
        </>
      )}
    </div>
  );
}

function Models() {
  const t = useT();
  const runs = useRuns((s) => s.runs);
  const views = useRuns((s) => s.views);
  const graphNodes = useEditor((s) => s.graph.nodes);
  const models = useMemo(() => {
    const rank = new Map(graphNodes.map((n, i) => [n.id, i]));
    // graph order; within a node, as offeredModels gives them (newest first)
    return offeredModels(orderedViews({ runs, views })).map((m, i) => ({ m, i }))
      .sort((a, b) => (rank.get(a.m.node) ?? 1e9) - (rank.get(b.m.node) ?? 1e9) || a.i - b.i).map(({ m }) => m);
  }, [runs, views, graphNodes]);
  if (!models.length) return <div className="empty-note">{t("panel.noModel")}</div>;
  return (
    <div className="models" data-testid="models">
      {models.map((m) => <ModelCard key={`${m.node}-${m.runId}-${m.partial}`} model={m} runs={runs} />)}
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
            {/* the server's own words go with their code; a detail worded here needs none */}
            <span className="issue-msg">{!issueDetail(i, lang).localized && <span className="issue-code">{i.code}</span>} {issueDetail(i, lang).text}</span>
          </span>
        </button>
      ))}
    </div>
  );
}

/** Why the latest run stopped, in the person's language (the code's sentence, or the server's words). */
function RunError({ error, cancelled }: { error: NonNullable<RunView["error"]>; cancelled: boolean }) {
  const lang = useLang((s) => s.lang);
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const names = useMemo(() => issueNames(graph, catalog, lang, true), [graph, catalog, lang]);
  const node = error.node ? `${names.node(error.node)}${lang === "zh" ? "：" : ": "}` : "";
  // the node that failed has changed since (its key did): the error is kept, marked out of date
  const nodeState = useStatus(error.node ?? "").state;
  const t = useT();
  const outdated = !cancelled && !!error.node && nodeState !== "failed";
  return (
    <div className={`run-error ${outdated ? "outdated" : ""}`} data-testid="run-error" data-code={error.code ?? ""}
      data-outdated={outdated ? "true" : undefined}>
      <Icon name="warn" size={13} /> {cancelled ? cancelText(error.node, lang, names) : `${node}${failureLine(error, lang, names)}`}
      {outdated && <span className="run-error-outdated"> ({t("panel.errorOutdated")})</span>}
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
  const resume = useRuns((s) => s.resume);
  const resumedFrom = useRuns((s) => s.runs.find((r) => String(r.id) === s.latestRunId)?.resumed_from ?? null);
  const toast = useUi((s) => s.toast);
  const issues = useEditor((s) => s.validation?.issues.length ?? 0);
  const tabs: [PanelTab, string][] = [
    ["curves", t("panel.curves")], ["log", t("panel.log")], ["eval", t("panel.eval")], ["model", t("panel.model")],
    ["issues", `${t("panel.issues")}${issues ? ` (${issues})` : ""}`], ["why", t("panel.why")],
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
            {resumedFrom && <span className="muted small" data-testid="run-resumed-from"> · {t("run.resumedFrom", { id: resumedFrom })}</span>}
          </span>
        )}
        {view && ["failed", "interrupted", "cancelled"].includes(view.status) && (
          // continues from the trainers' last completed epochs: a new run, linked to this one
          <button className="btn btn-small" data-testid="panel-resume" title={t("run.resumeTitle")}
            onClick={() => void resume(view.runId).catch((e) => toast((l) => translate(l, "run.resumeFailed", { msg: (e as Error).message }), "error"))}>
            <Icon name="play" size={12} /> {t("run.resume")}
          </button>
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
        <div className={`run-panel-body tab-${tab}`}>
          {view?.error && tab !== "issues" && (
            <RunError error={view.error} cancelled={view.status === "cancelled"} />
          )}
          {tab === "curves" && <Curves />}
          {tab === "log" && <Log view={view} />}
          {tab === "eval" && <Evaluation />}
          {tab === "model" && <Models />}
          {tab === "issues" && <Issues />}
          {tab === "why" && <WhyPanel view={view} />}
        </div>
      )}
    </section>
  );
}
