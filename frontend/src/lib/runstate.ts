// Pure functions that turn a run's events into what the editor shows: node states,
// progress, curves, the log and the evaluation report. Reloading replays the same events,
// so the same picture comes back.
import type { Key } from "../i18n";
import type { RunEvent, RunStatus } from "../types";

export type NodeState = "idle" | "stale" | "queued" | "running" | "cached" | "done" | "failed" | "cancelled";

export interface Progress {
  step: number;
  total?: number | null;
  unit?: string;
  phase?: string | null;
}

export interface NodeRun {
  state: "queued" | "running" | "cached" | "done" | "failed" | "cancelled";
  progress?: Progress;
  message?: string;
  code?: string;
  key?: string;
  seconds?: number;
  summary?: Record<string, unknown>;
}

export interface MetricPoint {
  epoch: number;
  [metric: string]: number;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  plan: string[];
  cached: string[];
  nodes: Record<string, NodeRun>;
  metrics: Record<string, MetricPoint[]>;
  error?: { code?: string; message?: string; node?: string | null };
  lastSeq: number;
  active: boolean;
}

const TERMINAL: Record<string, RunStatus> = {
  "run.finished": "finished",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
};

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

/** A trained model's stored history: one metrics object per epoch (epoch numbers implied by order). */
export function historyFromSummary(summary: Record<string, unknown> | undefined): MetricPoint[] | undefined {
  const model = summary?.model as { history?: Record<string, number>[] } | undefined;
  if (!model?.history || !Array.isArray(model.history) || !model.history.length) return undefined;
  return model.history.map((h, i) => ({ ...h, epoch: typeof h.epoch === "number" ? h.epoch : i + 1 }));
}

/** Who took a run, from run.started's ``worker``: the embedded worker, a Ray node, or the
 * server itself when every target was already stored. ``tr`` is the editor's translate. */
export function workerText(worker: Record<string, unknown> | null | undefined,
                           tr: (key: Key, vars?: Record<string, unknown>) => string): string {
  if (!worker) return "";
  if (worker.kind === "server") return tr("log.worker.server");
  if (worker.kind === "ray") {
    const gpus = Array.isArray(worker.gpus) && worker.gpus.length ? `, GPU ${worker.gpus.join(",")}` : "";
    return tr("log.worker.ray", { ip: worker.node_ip ?? "?", node: String(worker.node_id ?? "").slice(0, 12), gpus });
  }
  return tr("log.worker.local", { pid: worker.pid ?? "?" });
}

export function reduceRun(runId: string, events: RunEvent[], recordStatus?: RunStatus): RunView {
  const view: RunView = {
    runId, status: recordStatus && !isActive(recordStatus) ? recordStatus : "queued", plan: [], cached: [],
    nodes: {}, metrics: {}, lastSeq: 0, active: true,
  };
  let terminal: RunStatus | null = null;
  for (const e of events) {
    view.lastSeq = Math.max(view.lastSeq, e.seq);
    const node = e.node ?? undefined;
    switch (e.type) {
      case "run.queued":
        break;
      case "run.started":
        view.plan = e.plan ?? [];
        view.cached = e.cached ?? [];
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
            progress: { step: e.step, total: e.total, unit: e.unit, phase: e.phase },
          };
        }
        break;
      case "node.metrics":
        if (node) {
          const pts = (view.metrics[node] ??= []);
          const point = { epoch: e.epoch, ...(e.metrics ?? {}) } as MetricPoint;
          const at = pts.findIndex((p) => p.epoch === e.epoch);
          if (at >= 0) pts[at] = point;
          else pts.push(point);
        }
        break;
      case "node.cached":
        if (node) {
          view.nodes[node] = { state: "cached", key: e.key, summary: e.summary };
          const hist = historyFromSummary(e.summary);
          if (hist && !view.metrics[node]?.length) view.metrics[node] = hist;
        }
        break;
      case "node.finished":
        if (node) {
          view.nodes[node] = { state: "done", key: e.key, seconds: e.seconds, summary: e.summary };
          const hist = historyFromSummary(e.summary);
          if (hist && !view.metrics[node]?.length) view.metrics[node] = hist;
        }
        break;
      case "node.failed":
        if (node) view.nodes[node] = { ...(view.nodes[node] ?? {}), state: "failed", code: e.code, message: e.message };
        break;
      default:
        if (TERMINAL[e.type]) {
          terminal = TERMINAL[e.type];
          if (e.type !== "run.finished") view.error = { code: e.code, message: e.message, node: e.node };
        }
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
          message: n.message ?? view.error?.message };
    }
  }
  for (const pts of Object.values(view.metrics)) pts.sort((a, b) => a.epoch - b.epoch);
  return view;
}

export interface NodeResult {
  key: string;
  runId: string;
  cached: boolean;
  summary?: Record<string, unknown>;
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
  message?: string;
}

/**
 * What a node shows. Active states of the latest run come first; otherwise the node's last
 * result: "out of date" when its current cache key (from validation) differs from that result's,
 * "done" when the latest run computed it, "from cache" when its result comes from the cache
 * (served from it in the latest run, or kept there from an earlier run).
 */
export function nodeStatus(
  id: string,
  latest: RunView | null,
  results: Record<string, NodeResult>,
  keys: Record<string, string> | undefined,
  cachedNow: Record<string, boolean> | undefined,
): NodeStatus {
  const inRun = latest?.nodes[id];
  if (inRun && (inRun.state === "queued" || inRun.state === "running"))
    return { state: inRun.state, progress: inRun.progress };
  const result = results[id];
  const key = keys?.[id];
  if (inRun && (inRun.state === "failed" || inRun.state === "cancelled")) {
    if (result && key && key === result.key) return { state: "cached" };
    return { state: inRun.state, message: inRun.message };
  }
  if (result) {
    if (key && key !== result.key) return { state: "stale" };
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

export interface EvalReport {
  test_accuracy?: number;
  test_loss?: number;
  confusion?: number[][];
  classes?: string[];
  samples?: { path: string; label: string; predicted: string; probability: number; url?: string }[];
  root?: string; // the dataset folder the sample paths are relative to (Evaluate v2)
}

export function evalReports(results: Record<string, NodeResult>): { node: string; runId: string; report: EvalReport }[] {
  const out: { node: string; runId: string; report: EvalReport }[] = [];
  for (const [node, r] of Object.entries(results)) {
    const report = r.summary?.report as EvalReport | undefined;
    if (report) out.push({ node, runId: r.runId, report });
  }
  return out;
}

export interface TrainedModel {
  node: string;
  runId: string;
  classes?: string[];
  best?: Record<string, number>;
  bestEpoch?: number;
  phase?: string;
}

export function trainedModels(results: Record<string, NodeResult>): TrainedModel[] {
  const out: TrainedModel[] = [];
  for (const [node, r] of Object.entries(results)) {
    const m = r.summary?.model as
      | { classes?: string[]; best?: Record<string, number>; best_epoch?: number; phase?: string; model_file?: string }
      | undefined;
    if (m?.model_file) // a trained model on disk (a fine-tune step's output is not trained yet)
      out.push({ node, runId: r.runId, classes: m.classes, best: m.best, bestEpoch: m.best_epoch, phase: m.phase });
  }
  return out;
}
