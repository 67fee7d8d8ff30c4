// How a project's runs compare: a run table (status, graph version, duration, each trainer's best
// epoch and each evaluation's accuracy, as W&B's and MLflow's run tables show them); ticking two
// or more runs overlays their curves (one metric of one trainer, a colour per run) and lists what
// differs in each run's graph from the first one ticked (the baseline), worded as the version
// history words changes.
import { useMemo, useState } from "react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { api } from "../api";
import { nodeTitle, useLang, useT, type MessageKey } from "../i18n";
import { useCatalog } from "../lib/queries";
import type { ChangeWords } from "../lib/versionChanges";
import { useEditor } from "../store/editor";
import type { Catalog, GraphNode, Lang, RunSummary, VersionChange } from "../types";
import { Icon, relativeTime } from "./common";
import { LineChart, type Series } from "./LineChart";
import { VersionChanges } from "./VersionsDialog";

type RunRow = Awaited<ReturnType<typeof api.runTable>>[number];

export const compareKeys = {
  table: (projectId: number) => ["project", projectId, "run-table"] as const,
  summary: (runId: string) => ["run", runId, "summary"] as const,
  changes: (runId: string, against: string) => ["run", runId, "changes", against] as const,
};

const COLORS = ["#5b7cff", "#2fbf71", "#f5b55e", "#ef5b7a", "#a06bff", "#2ec4b6", "#d9d96a", "#ff8f5b"];
const METRICS = ["val_accuracy", "val_loss", "accuracy", "loss"];
const ACTIVE = new Set(["queued", "running"]);

const WORDS: Record<Lang, Record<string, string>> = {
  en: {
    title: "Runs", open: "Runs", hint: "Tick two or more runs to overlay their curves and see what differs",
    run: "Run", status: "Status", version: "Version", duration: "Duration", best: "best", test: "accuracy",
    none: "No runs yet: run the graph first", baseline: "baseline", against: "against the baseline",
    same: "same graph as the baseline", noVersion: "unsaved", trainer: "Trainer", metric: "Metric",
    curves: "Curves", changes: "What differs", epoch: "epoch", cached: "from the cache", close: "Close",
    noCurves: "These runs have no curves for this trainer", resumed: "resumes {id}", clear: "Clear selection", selected: "{n} selected",
    val_accuracy: "validation accuracy", val_loss: "validation loss", accuracy: "accuracy", loss: "loss",
  },
  zh: {
    title: "运行记录", open: "运行记录", hint: "勾选两个或更多运行，叠加它们的曲线并查看差异",
    run: "运行", status: "状态", version: "版本", duration: "用时", best: "最佳", test: "准确率",
    none: "还没有运行：请先运行图", baseline: "基准", against: "相对基准",
    same: "与基准的图相同", noVersion: "未保存", trainer: "训练节点", metric: "指标",
    curves: "曲线", changes: "差异", epoch: "轮", cached: "来自缓存", close: "关闭",
    noCurves: "所选运行没有此训练节点的曲线", resumed: "续自 {id}", clear: "清除选择", selected: "已选 {n} 个",
    val_accuracy: "验证准确率", val_loss: "验证损失", accuracy: "准确率", loss: "损失",
  },
};

function useWords() {
  const lang = useLang((s) => s.lang);
  return (key: string, vars?: Record<string, unknown>) =>
    (WORDS[lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k: string) => String(vars?.[k] ?? ""));
}

/** Seconds as the person reads a run's length: 42.0 s, 3 min 05 s, 1 h 02 min. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${String(Math.round(seconds - m * 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

const metricValue = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(2);

/** The trainers and evaluations any of the runs has, in the order they first appear. */
export function tableColumns(rows: RunRow[]): { trainers: string[]; evaluations: string[] } {
  const trainers = new Set<string>();
  const evaluations = new Set<string>();
  for (const row of [...rows].reverse()) {
    row.trainers.forEach((tr) => trainers.add(tr.node));
    row.evaluations.forEach((e) => evaluations.add(e.node));
  }
  return { trainers: [...trainers], evaluations: [...evaluations] };
}

/** Each column's node by the title its card shows (its label, else its component's name in the
 * person's language); a node the open graph no longer has, by its id. Columns that would share a
 * title (two unlabelled trainers) add their ids, so each column stays told apart. */
export function columnNames(ids: string[], nodes: GraphNode[], catalog: Catalog | null | undefined,
  lang: Lang): Record<string, string> {
  const title = (id: string) => {
    const node = nodes.find((n) => n.id === id);
    return nodeTitle(node?.label, node && catalog?.components.find((c) => c.id === node.type), lang, id);
  };
  const titles = ids.map(title);
  const shared = (name: string) => titles.filter((t) => t === name).length > 1;
  return Object.fromEntries(ids.map((id, i) => [id, titles[i] !== id && shared(titles[i]) ? `${titles[i]} (${id})` : titles[i]]));
}

/** One series per run: ``metric`` of ``node`` by epoch. */
export function overlaySeries(runs: { id: string; label: string; summary?: RunSummary }[], node: string,
  metric: string): Series[] {
  return runs.map((run, i) => ({
    name: run.label,
    color: COLORS[i % COLORS.length],
    points: (run.summary?.metrics[node] ?? []).flatMap((p) => {
      const y = p.metrics[metric];
      return typeof y === "number" ? [{ x: p.epoch, y }] : [];
    }),
  }));
}

const shortId = (id: string) => id.slice(0, 6);

/** The toolbar's button, and the dialog it opens: one line in the editor. */
export function RunsCompareButton({ projectId }: { projectId: number }) {
  const w = useWords();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button className="btn btn-ghost" data-testid="runs-compare-open" onClick={() => setOpen(true)}>
        <Icon name="clock" /> {w("open")}
      </button>
      {open && <RunsCompare projectId={projectId} onClose={() => setOpen(false)} />}
    </>
  );
}

export function RunsCompare({ projectId, onClose }: { projectId: number; onClose: () => void }) {
  const t = useT();
  const w = useWords();
  const lang = useLang((s) => s.lang);
  const catalog = useCatalog().data;
  const words: ChangeWords = { lang, catalog };
  const table = useQuery({
    queryKey: compareKeys.table(projectId),
    queryFn: () => api.runTable(projectId),
    // while a run goes on, its row keeps up (its duration and best epoch change)
    refetchInterval: (q) => (q.state.data?.some((r) => ACTIVE.has(r.status)) ? 3000 : false),
  });
  const rows = useMemo(() => table.data ?? [], [table.data]);
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const { trainers, evaluations } = useMemo(() => tableColumns(rows), [rows]);
  const nodes = useEditor((s) => s.graph.nodes);
  const names = useMemo(() => columnNames([...trainers, ...evaluations], nodes, catalog, lang),
    [trainers, evaluations, nodes, catalog, lang]);
  const graphNodes = (id: string) => names[id] ?? id;

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal modal-wide runs-compare" data-testid="runs-compare" onClick={(e) => e.stopPropagation()}>
        <div className="modal-head">
          <Icon name="clock" /> <span>{w("title")}</span>
          <span className="muted small runs-hint">{w("hint")}</span>
          <span className="spacer" />
          <button className="btn btn-ghost btn-icon" onClick={onClose} aria-label={w("close")}><Icon name="x" /></button>
        </div>
        <div className="modal-body runs-compare-body">
          {table.error && <div className="field-error">{table.error.message}</div>}
          {table.isLoading && <div className="muted pad">{t("editor.loading")}</div>}
          {!table.isLoading && rows.length === 0 && !table.error && <div className="muted pad">{w("none")}</div>}
          {rows.length > 0 && (
            <div className="run-table-wrap">
              <table className="run-table" data-testid="run-table">
                <thead>
                  <tr>
                    <th />
                    <th>{w("run")}</th>
                    <th>{w("status")}</th>
                    <th>{w("version")}</th>
                    <th className="num">{w("duration")}</th>
                    {trainers.map((node) => (
                      <th key={node} className="num" colSpan={2} title={node} data-testid="run-column">
                        {graphNodes(node)} <span className="muted">· {w("best")}</span>
                      </th>
                    ))}
                    {evaluations.map((node) => (
                      <th key={node} className="num" title={node} data-testid="run-column">{graphNodes(node)}</th>
                    ))}
                  </tr>
                  <tr className="sub">
                    <th colSpan={5} />
                    {trainers.map((node) => [
                      <th key={`${node}-a`} className="num">{w("val_accuracy")}</th>,
                      <th key={`${node}-l`} className="num">{w("val_loss")}</th>,
                    ])}
                    {evaluations.map((node) => <th key={node} className="num">{w("test")}</th>)}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => {
                    const at = picked.indexOf(row.id);
                    return (
                      <tr key={row.id} data-testid="run-row" data-run={row.id} data-status={row.status}
                        className={at >= 0 ? "picked" : ""} onClick={() => toggle(row.id)}>
                        <td>
                          <input type="checkbox" checked={at >= 0} data-testid="run-pick" aria-label={shortId(row.id)}
                            onChange={() => toggle(row.id)} onClick={(e) => e.stopPropagation()}
                            style={at >= 0 ? { accentColor: COLORS[at % COLORS.length] } : undefined} />
                        </td>
                        <td>
                          <span className="mono">{shortId(row.id)}</span>{" "}
                          <span className="muted small">{relativeTime(row.created_at, lang)}</span>
                          {at === 0 && picked.length > 1 && <span className="chip chip-best">{w("baseline")}</span>}
                        </td>
                        <td>
                          <span className={`chip run-status-${row.status}`} title={row.error?.message ?? undefined}>
                            {t(`run.status.${row.status}` as MessageKey)}
                          </span>
                          {row.resumed_from && <span className="muted small" title={row.resumed_from}> ↻ {w("resumed", { id: shortId(row.resumed_from) })}</span>}
                        </td>
                        <td className="mono">{row.graph_version ? `v${row.graph_version}` : <span className="muted">{w("noVersion")}</span>}</td>
                        <td className="num mono">{duration(row.seconds)}</td>
                        {trainers.map((node) => {
                          const tr = row.trainers.find((x) => x.node === node);
                          const title = tr ? `${w("epoch")} ${tr.best_epoch ?? "–"} / ${tr.epochs}${tr.cached ? ` · ${w("cached")}` : ""}` : undefined;
                          return [
                            <td key={`${node}-a`} className="num mono" title={title} data-testid="best-val-accuracy">
                              {metricValue(tr?.metrics.val_accuracy)}
                              {tr?.best_epoch ? <span className="muted small"> @{tr.best_epoch}</span> : null}
                            </td>,
                            <td key={`${node}-l`} className="num mono" title={title}>{metricValue(tr?.metrics.val_loss)}</td>,
                          ];
                        })}
                        {evaluations.map((node) => (
                          <td key={node} className="num mono">
                            {metricValue(row.evaluations.find((e) => e.node === node)?.accuracy)}
                          </td>
                        ))}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {picked.length >= 2 && (
            <CompareRuns runs={picked.map((id) => rows.find((r) => r.id === id)).filter((r): r is RunRow => !!r)}
              trainers={trainers} nodeLabel={graphNodes} words={words} />
          )}
        </div>
        <div className="modal-foot">
          {picked.length > 0 && <span className="muted small foot-note">{w("selected", { n: picked.length })}</span>}
          {picked.length > 0 && <button className="btn" onClick={() => setPicked([])}>{w("clear")}</button>}
          <button className="btn" onClick={onClose}>{w("close")}</button>
        </div>
      </div>
    </div>
  );
}

function CompareRuns({ runs, trainers, nodeLabel, words }: {
  runs: RunRow[]; trainers: string[]; nodeLabel: (id: string) => string; words: ChangeWords;
}) {
  const w = useWords();
  const summaries = useQueries({
    queries: runs.map((run) => ({
      queryKey: compareKeys.summary(run.id),
      queryFn: () => api.runSummary(run.id),
      refetchInterval: ACTIVE.has(run.status) ? 3000 : (false as const),
    })),
  });
  const [baseline, ...others] = runs;
  const changes = useQueries({
    queries: others.map((run) => ({
      queryKey: compareKeys.changes(run.id, baseline.id),
      queryFn: () => api.runChanges(run.id, baseline.id),
      staleTime: Infinity, // a stored run's graph never changes
    })),
  });
  const withCurves = trainers.filter((node) => runs.some((r) => r.trainers.some((tr) => tr.node === node)));
  const [node, setNode] = useState<string | null>(null);
  const trainer = node && withCurves.includes(node) ? node : withCurves[withCurves.length - 1] ?? null;
  const [metric, setMetric] = useState("val_accuracy");
  const label = (run: RunRow) => `${shortId(run.id)}${run.graph_version ? ` v${run.graph_version}` : ""}`;
  const series = trainer
    ? overlaySeries(runs.map((run, i) => ({ id: run.id, label: label(run), summary: summaries[i]?.data })), trainer, metric)
    : [];
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const isLoss = metric.endsWith("loss");

  return (
    <div className="runs-compare-detail" data-testid="runs-compare-detail">
      <section className="compare-curves">
        <div className="compare-controls">
          <span className="compare-heading">{w("curves")}</span>
          <label className="small">
            {w("trainer")}{" "}
            <select value={trainer ?? ""} data-testid="compare-trainer" onChange={(e) => setNode(e.target.value)}>
              {withCurves.map((n) => <option key={n} value={n}>{nodeLabel(n)}</option>)}
            </select>
          </label>
          <label className="small">
            {w("metric")}{" "}
            <select value={metric} data-testid="compare-metric" onChange={(e) => setMetric(e.target.value)}>
              {METRICS.map((m) => <option key={m} value={m}>{w(m)}</option>)}
            </select>
          </label>
        </div>
        {trainer && points > 0 ? (
          <LineChart series={series} title={`${nodeLabel(trainer)} · ${w(metric)}`} height={230}
            yMin={isLoss ? undefined : 0} yMax={isLoss ? undefined : 1} testId="compare-chart" />
        ) : (
          <div className="muted small pad">{summaries.some((s) => s.isLoading) ? "…" : w("noCurves")}</div>
        )}
      </section>
      <section className="compare-changes" data-testid="compare-changes">
        <div className="compare-heading">{w("changes")}</div>
        <div className="small muted">
          <span className="compare-swatch" style={{ background: COLORS[0] }} />
          {w("baseline")}: <span className="mono">{label(baseline)}</span>
        </div>
        {others.map((run, i) => {
          const list = changes[i]?.data as VersionChange[] | undefined;
          const error = changes[i]?.error;
          return (
            <div key={run.id} className="compare-run-changes" data-testid="compare-run-changes" data-run={run.id}>
              <div className="small">
                <span className="compare-swatch" style={{ background: COLORS[(i + 1) % COLORS.length] }} />
                <span className="mono">{label(run)}</span> <span className="muted">{w("against")}</span>
              </div>
              <div className="version-changes small">
                {error ? <span className="field-error">{error.message}</span>
                  : list === undefined ? <span className="muted">…</span>
                    : list.length === 0 ? <span className="version-change muted">{w("same")}</span>
                      : <VersionChanges changes={list} words={words} />}
              </div>
            </div>
          );
        })}
      </section>
    </div>
  );
}
