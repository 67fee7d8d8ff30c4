// Pure functions that turn a run's events into what the editor shows: node states,
// progress, curves, the log and the evaluation report. Reloading replays the same events,
// so the same picture comes back. `reduceRun` mirrors the server's reducer
// (backend/engine/reduce.py); both are tested on the same recorded run
// (tests/fixtures/events/template_run.json).
import type { Key } from "../i18n";
import type { EvaluationSummary, ModelSummary, NodeSummary, NodeWhy, RunEvent, RunStatus, WorkerInfo } from "../types";

export type NodeState = "idle" | "stale" | "queued" | "running" | "cached" | "done" | "failed" | "cancelled";

export interface Progress {
  step: number;
  total?: number | null;
  unit?: string;
  phase?: string | null; // the English words (older events have only these)
  code?: string | null; // what is being done (scan, decode, features, epoch, evaluate): lib/messages words it
  split?: string | null;
  epoch?: number | null;
  epochs?: number | null;
}

/** The params of a failure's code (lib/messages words it). */
export type MessageParams = Record<string, unknown>;

export interface NodeRun {
  state: "queued" | "running" | "cached" | "done" | "failed" | "cancelled";
  progress?: Progress;
  message?: string;
  code?: string;
  params?: MessageParams;
  key?: string;
  seconds?: number;
  summary?: Record<string, NodeSummary>;
}

/** One epoch of a curve: the epoch number and each metric (null where it was not finite). */
export interface MetricPoint {
  epoch: number;
  [metric: string]: number | null;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  plan: string[];
  cached: string[];
  /** Why each node ran or came from the cache (run.started's `why`, see lib/why). */
  why: Record<string, NodeWhy>;
  nodes: Record<string, NodeRun>;
  metrics: Record<string, MetricPoint[]>;
  /** Each trainer's kept epoch, as the trainer says it: the latest node.metrics' best_epoch, then
   * its model summary's best_epoch once it is done or cached. Never recomputed from the curve. */
  best: Record<string, number>;
  /** The epoch after which early stopping ended a trainer (node.metrics' stopped_early, then its
   * model summary's stopped_epoch); absent when it ran every epoch. */
  stopped?: Record<string, number>;
  /** How many fixed augmentation variants of each training image a trainer's feature cache holds
   * (its node.log that sums them up); absent without fixed augmentation. */
  variants?: Record<string, number>;
  error?: { code?: string; message?: string; node?: string | null; params?: MessageParams };
  lastSeq: number;
  active: boolean;
}

export function isActive(status: RunStatus): boolean {
  return status === "queued" || status === "running";
}

/** Sorts by seq and drops duplicates (a replay after a reconnect may overlap). */
export function mergeEvents(existing: RunEvent[], incoming: RunEvent[]): RunEvent[] {
  if (!incoming.length) return existing;
  const last = existing.length ? existing[existing.length - 1].seq : 0;
  if (incoming.every((e, i) => e.seq > last && (i === 0 || e.seq > incoming[i - 1].seq))) return [...existing, ...incoming];
  const bySeq = new Map<number, RunEvent>();
  for (const e of existing) bySeq.set(e.seq, e);
  for (const e of incoming) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function modelOf(summary: Record<string, NodeSummary> | undefined): ModelSummary | undefined {
  return Object.values(summary ?? {}).find((s): s is ModelSummary => s.kind === "model");
}

function evaluationOf(summary: Record<string, NodeSummary> | undefined): EvaluationSummary | undefined {
  return Object.values(summary ?? {}).find((s): s is EvaluationSummary => s.kind === "evaluation");
}

/** A trained model's stored history: one metrics object per epoch (epoch numbers implied by order). */
export function historyFromSummary(summary: Record<string, NodeSummary> | undefined): MetricPoint[] | undefined {
  const history = modelOf(summary)?.history;
  if (!history?.length) return undefined;
  return history.map((h, i) => ({ ...definedMetrics(h), epoch: i + 1 }));
}

function definedMetrics(h: ModelSummary["history"][number]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(h)) if (typeof v === "number" || v === null) out[k] = v;
  return out;
}

/** Who took a run, from run.started's ``worker``: the embedded worker, a Ray node, or the
 * server itself when every target was already stored. ``tr`` is the editor's translate. */
export function workerText(worker: WorkerInfo | null | undefined,
                           tr: (key: Key, vars?: Record<string, unknown>) => string): string {
  if (!worker) return "";
  if (worker.kind === "server") return tr("log.worker.server");
  if (worker.kind === "ray") {
    const gpus = worker.gpus?.length ? `, GPU ${worker.gpus.join(",")}` : "";
    return tr("log.worker.ray", { ip: worker.node_ip ?? "?", node: String(worker.node_id ?? "").slice(0, 12), gpus });
  }
  return tr("log.worker.local", { pid: worker.pid ?? "?" });
}

/** The epoch whose weights a trained model keeps (its summary's best_epoch), as the node's best. */
function keptEpoch(view: RunView, node: string, summary: Record<string, NodeSummary> | undefined) {
  const epoch = modelOf(summary)?.best_epoch;
  if (typeof epoch === "number") view.best[node] = epoch;
  const stopped = modelOf(summary)?.stopped_epoch;
  if (typeof stopped === "number") (view.stopped ??= {})[node] = stopped;
}

export function reduceRun(runId: string, events: RunEvent[], recordStatus?: RunStatus): RunView {
  const view: RunView = {
    runId, status: recordStatus && !isActive(recordStatus) ? recordStatus : "queued", plan: [], cached: [], why: {},
    nodes: {}, metrics: {}, best: {}, lastSeq: 0, active: true,
  };
  let terminal: RunStatus | null = null;
  for (const e of events) {
    view.lastSeq = Math.max(view.lastSeq, e.seq);
    const node = "node" in e ? e.node ?? undefined : undefined;
    switch (e.type) {
      case "run.queued":
        break;
      case "run.started":
        view.plan = e.plan ?? [];
        view.cached = e.cached ?? [];
        view.why = e.why ?? {};
        for (const id of view.plan) if (!view.nodes[id]) view.nodes[id] = { state: "queued" };
        break;
      case "node.started":
        if (node) view.nodes[node] = { state: "running" };
        break;
      case "node.progress":
        if (node) {
          const cur = view.nodes[node] ?? { state: "running" };
          view.nodes[node] = {
            ...cur, state: "running",
            progress: { step: e.step, total: e.total, unit: e.unit, phase: e.phase, code: e.code, split: e.split,
              epoch: e.epoch, epochs: e.epochs },
          };
        }
        break;
      case "node.metrics":
        if (node) {
          const pts = (view.metrics[node] ??= []);
          const point: MetricPoint = { ...e.metrics, epoch: e.epoch };
          const at = pts.findIndex((p) => p.epoch === e.epoch);
          if (at >= 0) pts[at] = point;
          else pts.push(point);
          if (typeof e.best_epoch === "number") view.best[node] = e.best_epoch;
          if (e.stopped_early) (view.stopped ??= {})[node] = e.epoch;
        }
        break;
      case "node.log":
        // A trainer cut short by a cancel saved its last completed epoch: that model is its output.
        if (node && e.model) view.nodes[node] = { ...(view.nodes[node] ?? { state: "running" }), summary: { model: e.model } };
        if (node && typeof e.cache?.variants === "number") (view.variants ??= {})[node] = e.cache.variants;
        break;
      case "node.cached":
        if (node) {
          view.nodes[node] = { state: "cached", key: e.key, summary: e.summary };
          const hist = historyFromSummary(e.summary);
          if (hist && !view.metrics[node]?.length) view.metrics[node] = hist;
          keptEpoch(view, node, e.summary);
        }
        break;
      case "node.finished":
        if (node) {
          view.nodes[node] = { state: "done", key: e.key, seconds: e.seconds, summary: e.summary };
          const hist = historyFromSummary(e.summary);
          if (hist && !view.metrics[node]?.length) view.metrics[node] = hist;
          keptEpoch(view, node, e.summary);
        }
        break;
      case "node.failed":
        if (node) view.nodes[node] = { ...(view.nodes[node] ?? {}), state: "failed", code: e.code, message: e.message, params: e.params,
          key: e.key ?? undefined };
        break;
      case "run.finished":
        terminal = "finished";
        break;
      case "run.failed":
        terminal = e.code === "interrupted" ? "interrupted" : "failed";
        view.error = { code: e.code, message: e.message, node: e.node, params: e.params };
        break;
      case "run.cancelled":
        terminal = "cancelled";
        view.error = { message: e.message, node: e.node };
        break;
    }
    if (!terminal && e.type !== "run.queued" && view.status === "queued") view.status = "running";
  }
  if (terminal) view.status = terminal;
  else if (recordStatus && !isActive(recordStatus)) view.status = recordStatus; // e.g. interrupted by a restart
  view.active = isActive(view.status);
  if (!view.active) {
    // Nodes that never got to run lose their "queued" mark; one cut short is cancelled or failed.
    for (const [id, n] of Object.entries(view.nodes)) {
      if (n.state === "queued") delete view.nodes[id];
      else if (n.state === "running")
        view.nodes[id] = { ...n, state: view.status === "cancelled" ? "cancelled" : "failed",
          ...(n.message ? {} : { message: view.error?.message, code: view.error?.code, params: view.error?.params }) };
    }
  }
  for (const pts of Object.values(view.metrics)) pts.sort((a, b) => a.epoch - b.epoch);
  return view;
}

export interface NodeResult {
  key: string;
  runId: string;
  cached: boolean;
  summary?: Record<string, NodeSummary>;
}

/** The last result of every node over runs given oldest first. */
export function lastResults(views: RunView[]): Record<string, NodeResult> {
  const out: Record<string, NodeResult> = {};
  for (const v of views)
    for (const [id, n] of Object.entries(v.nodes))
      if ((n.state === "done" || n.state === "cached") && n.key)
        out[id] = { key: n.key, runId: v.runId, cached: n.state === "cached", summary: n.summary };
  return out;
}

export interface NodeStatus {
  state: NodeState;
  progress?: Progress;
  message?: string; // why it failed, in English; `code` and `params` let lib/messages word it
  code?: string;
  params?: MessageParams;
  /** Why it runs or came from the cache in the latest run (lib/why words it). */
  why?: NodeWhy;
}

/**
 * Which nodes are up to date in the cache, from validation's per-node `cached` flags (computed
 * for the current cache keys): a node whose result is stored, and every node that feeds one,
 * since a cache key covers all its ancestors. A run that needs a stored trainer's model does not
 * run the nodes before it, so they are up to date rather than "not run".
 */
export function upToDate(edges: { source: string; target: string }[],
                         cached: Record<string, boolean> | undefined): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (!cached) return out;
  const sources = new Map<string, string[]>();
  for (const e of edges) sources.set(e.target, [...(sources.get(e.target) ?? []), e.source]);
  const todo = Object.keys(cached).filter((id) => cached[id]);
  while (todo.length) {
    const id = todo.pop()!;
    if (out[id]) continue;
    out[id] = true;
    todo.push(...(sources.get(id) ?? []));
  }
  return out;
}

/**
 * What a node shows. Active states of the latest run come first; otherwise the node's last
 * result: "out of date" when its current cache key (from validation) differs from that result's
 * and the cache holds nothing for the current key, "done" when the latest run computed it, "from
 * cache" when its result comes from the cache (served from it in the latest run, kept there from
 * an earlier run, or covered by a stored result downstream: `cachedNow`, see `upToDate`).
 * A failure is out of date once the node's key differs from the one it failed under, or when
 * `changed` (the editor saw the node change without a key to compare: see useNodeStatuses).
 */
export function nodeStatus(
  id: string,
  latest: RunView | null,
  results: Record<string, NodeResult>,
  keys: Record<string, string> | undefined,
  cachedNow: Record<string, boolean> | undefined,
  changed = false,
): NodeStatus {
  const status = baseStatus(id, latest, results, keys, cachedNow, changed);
  // the latest run's reason, while the node shows what that run did with it
  const why = latest?.why?.[id];
  const fromLatest = latest?.nodes[id] && ["queued", "running", "done", "cached"].includes(status.state);
  return why && fromLatest ? { ...status, why } : status;
}

function baseStatus(
  id: string,
  latest: RunView | null,
  results: Record<string, NodeResult>,
  keys: Record<string, string> | undefined,
  cachedNow: Record<string, boolean> | undefined,
  changed = false,
): NodeStatus {
  const inRun = latest?.nodes[id];
  if (inRun && (inRun.state === "queued" || inRun.state === "running"))
    return { state: inRun.state, progress: inRun.progress };
  const result = results[id];
  const key = keys?.[id];
  if (inRun && (inRun.state === "failed" || inRun.state === "cancelled")) {
    if (result && key && key === result.key) return { state: "cached" };
    // failed under another key than the node has now (its params, inputs or data changed since),
    // or `changed` as far as the editor can tell without keys: that error no longer applies
    if (inRun.state === "failed" && (changed || (inRun.key && key && key !== inRun.key)))
      return { state: cachedNow?.[id] ? "cached" : "stale" };
    return { state: inRun.state, message: inRun.message, code: inRun.code, params: inRun.params };
  }
  if (result) {
    if (key && key !== result.key) return { state: cachedNow?.[id] ? "cached" : "stale" };
    // "done" when the latest run computed it; otherwise its result is served from the cache.
    const computedNow = inRun?.state === "done" && inRun.key === result.key;
    return { state: computedNow ? "done" : "cached" };
  }
  if (cachedNow?.[id]) return { state: "cached" };
  return { state: "idle" };
}

export function progressFraction(p?: Progress): number | null {
  if (!p || !p.total) return null;
  return Math.max(0, Math.min(1, p.step / p.total));
}

/** An Evaluate node's report: loss, accuracy and confusion matrix on its own split. */
export type EvalReport = EvaluationSummary;

export function evalReports(results: Record<string, NodeResult>): { node: string; runId: string; report: EvalReport }[] {
  const out: { node: string; runId: string; report: EvalReport }[] = [];
  for (const [node, r] of Object.entries(results)) {
    const report = evaluationOf(r.summary);
    if (report) out.push({ node, runId: r.runId, report });
  }
  return out;
}

/** A model the editor offers to download and try, named by the run that made it and the epoch of its weights. */
export interface OfferedModel {
  node: string;
  /** The run whose model file this is (download and predict through it). */
  runId: string;
  /** Served from the cache in `runId`; the run that trained it is not among the runs loaded. */
  fromCache: boolean;
  /** The last completed epoch a trainer saved when its run was cancelled, not a finished training. */
  partial: boolean;
  /** The epoch whose weights the file holds, of `epochs` trained. */
  epoch: number | null;
  epochs: number;
  classes?: string[];
  best?: ModelSummary["best"];
  phase?: string;
}

function offered(node: string, runId: string, m: ModelSummary, partial: boolean, fromCache: boolean): OfferedModel {
  return { node, runId, fromCache, partial, epoch: m.best_epoch ?? null, epochs: m.epochs, classes: m.classes,
    best: m.best, phase: m.phase };
}

/**
 * The models to offer, over runs given oldest first: each trainer's current result (named by
 * the run that trained it when that run is loaded, else by the run that served it from the
 * cache), and the partial model of a cancelled run newer than that result; newest first per node.
 */
export function offeredModels(views: RunView[]): OfferedModel[] {
  const results = lastResults(views);
  const order = new Map(views.map((v, i) => [v.runId, i]));
  const out: OfferedModel[] = [];
  const nodes = new Set<string>();
  for (const v of views) for (const id of Object.keys(v.nodes)) nodes.add(id);
  for (const node of nodes) {
    const result = results[node];
    const model = modelOf(result?.summary);
    const current = model?.model_file ? model : undefined; // a fine-tune step's output is not trained yet
    let at = -1;
    if (result && current) {
      const trainedIn = views.find((v) => v.nodes[node]?.state === "done" && v.nodes[node]?.key === result.key);
      at = order.get(result.runId) ?? -1;
      out.push(offered(node, trainedIn?.runId ?? result.runId, current, false, !trainedIn));
    }
    for (let i = views.length - 1; i > at; i--) {
      const n = views[i].nodes[node];
      const partial = n?.state === "cancelled" ? modelOf(n.summary) : undefined;
      if (partial?.model_file) {
        out.splice(out.length - (current ? 1 : 0), 0, offered(node, views[i].runId, partial, true, false));
        break;
      }
    }
  }
  return out;
}
