// Runs of the open project: their events (replayed, then live over a reconnecting websocket
// that resumes after the last seen seq when the connection drops) and the views derived from them.
import { create } from "zustand";
import { api, wsUrl } from "../api";
import type { Graph, Run, RunEvent, RunMode } from "../types";
import { isActive, mergeEvents, reduceRun, type RunView } from "../lib/runstate";
import { openStream, type LiveStream } from "../lib/socket";

const HISTORY_RUNS = 6; // older runs' results still tell which nodes are up to date

// The streams of the runs being followed, by run id.
const live = new Map<string, LiveStream>();
// The project's own stream: it tells about runs started elsewhere (another tab, the CLI, a script).
let projectStream: LiveStream | null = null;

export type Connection = "idle" | "live" | "reconnecting";

export interface RunsState {
  projectId: number | null;
  runs: Run[];
  events: Record<string, RunEvent[]>;
  views: Record<string, RunView>;
  latestRunId: string | null;
  connection: Connection;
  reset: (projectId: number | null) => void;
  loadProject: (projectId: number) => Promise<void>;
  start: (targets: string[], mode: RunMode, graph: Graph | null) => Promise<Run>;
  cancel: () => Promise<void>;
  /** A new run continuing a failed, interrupted or cancelled one from its trainers' checkpoints. */
  resume: (runId: string) => Promise<Run>;
  ingest: (runId: string, events: RunEvent[]) => void;
  upsertRun: (run: Run) => void;
  follow: (runId: string) => void;
  watchProject: (projectId: number) => void;
}

/** A websocket message holds one event (an object) or a burst of them in order (an array). */
function eventsOf(msg: MessageEvent): RunEvent[] {
  let data: unknown;
  try {
    data = JSON.parse(String(msg.data));
  } catch {
    return [];
  }
  return ((Array.isArray(data) ? data : [data]) as RunEvent[]).filter((e) => e && typeof e === "object");
}

function sortRuns(runs: Run[]): Run[] {
  return [...runs].sort((a, b) => {
    const t = String(a.created_at ?? "").localeCompare(String(b.created_at ?? ""));
    return t !== 0 ? t : Number(a.id) - Number(b.id);
  });
}

function stopProjectStream() {
  projectStream?.close();
  projectStream = null;
}

function stopAll() {
  stopProjectStream();
  for (const stream of live.values()) stream.close();
  live.clear();
}

export const useRuns = create<RunsState>((set, get) => ({
  projectId: null,
  runs: [],
  events: {},
  views: {},
  latestRunId: null,
  connection: "idle",

  reset: (projectId) => {
    stopAll();
    set({ projectId, runs: [], events: {}, views: {}, latestRunId: null, connection: "idle" });
  },

  loadProject: async (projectId) => {
    get().reset(projectId);
    const runs = sortRuns(await api.runs(projectId));
    if (get().projectId !== projectId) return;
    const recent = runs.slice(-HISTORY_RUNS);
    set({ runs, latestRunId: recent.length ? String(recent[recent.length - 1].id) : null });
    await Promise.all(
      recent.map(async (r) => {
        const events = await api.events(r.id, 0).catch(() => []);
        if (get().projectId === projectId) get().ingest(String(r.id), events);
      }),
    );
    for (const r of recent) if (isActive(r.status) && get().views[String(r.id)]?.active !== false) get().follow(String(r.id));
    get().watchProject(projectId);
  },

  watchProject: (projectId) => {
    stopProjectStream();
    const noticeRun = (event: RunEvent) => {
      const runId = event?.run_id !== undefined ? String(event.run_id) : null;
      if (!runId || get().projectId !== projectId || get().runs.some((r) => String(r.id) === runId)) return;
      // A run this page did not start: show it and follow it like our own.
      api.run(runId).then((run) => {
        if (get().projectId !== projectId || get().runs.some((r) => String(r.id) === runId)) return;
        get().upsertRun(run);
        set({ latestRunId: runId });
        if (isActive(run.status)) get().follow(runId);
        else void api.events(runId, 0).then((events) => get().ingest(runId, events));
      }, () => undefined);
    };
    projectStream = openStream(() => wsUrl(`/api/ws/projects/${projectId}`), {
      onMessage: (msg) => {
        for (const event of eventsOf(msg)) noticeRun(event);
      },
    });
  },

  upsertRun: (run) =>
    set((s) => {
      const id = String(run.id);
      const runs = sortRuns([...s.runs.filter((r) => String(r.id) !== id), run]);
      const views = { ...s.views, [id]: reduceRun(id, s.events[id] ?? [], run.status) };
      return { runs, views };
    }),

  ingest: (runId, incoming) =>
    set((s) => {
      const events = mergeEvents(s.events[runId] ?? [], incoming);
      const record = s.runs.find((r) => String(r.id) === runId);
      return {
        events: { ...s.events, [runId]: events },
        views: { ...s.views, [runId]: reduceRun(runId, events, record?.status) },
      };
    }),

  start: async (targets, mode, graph) => {
    const projectId = get().projectId;
    if (projectId == null) throw new Error("no project open");
    const run = await api.startRun(projectId, targets, mode, graph);
    const id = String(run.id);
    get().upsertRun(run);
    set({ latestRunId: id });
    get().follow(id);
    return run;
  },

  cancel: async () => {
    const id = get().latestRunId;
    if (!id) return;
    const run = await api.cancelRun(id);
    if (run && run.id !== undefined) get().upsertRun(run);
  },

  resume: async (runId) => {
    const run = await api.resumeRun(runId);
    const id = String(run.id);
    get().upsertRun(run);
    set({ latestRunId: id });
    get().follow(id);
    return run;
  },

  follow: (runId) => {
    if (live.has(runId)) return;
    // Asked again before every (re)connection: the server replays what came after the last seen
    // event, so nothing is lost or repeated. After its terminal event the run's stream ends.
    const url = () => wsUrl(`/api/ws/runs/${runId}?after=${get().views[runId]?.lastSeq ?? 0}`);

    const finish = async () => {
      live.get(runId)?.close();
      live.delete(runId);
      if (live.size === 0) set({ connection: "idle" });
      try {
        get().upsertRun(await api.run(runId));
      } catch {
        /* the view already has the terminal event */
      }
    };

    live.set(runId, openStream(url, {
      onOpen: () => set({ connection: "live" }),
      onDrop: () => set({ connection: "reconnecting" }),
      // the server closed for good (the run is over, or no such run): stop following it
      onEnd: () => void finish(),
      onMessage: (msg) => {
        const events = eventsOf(msg).filter((e) => typeof e.seq === "number" && typeof e.type === "string");
        if (!events.length) return;
        get().ingest(runId, events);
        if (!get().views[runId]?.active) void finish();
      },
    }));
  },
}));

export function latestView(s: RunsState): RunView | null {
  return s.latestRunId ? s.views[s.latestRunId] ?? null : null;
}

/** Views oldest first (for lastResults). */
export function orderedViews(s: Pick<RunsState, "runs" | "views">): RunView[] {
  return s.runs.map((r) => s.views[String(r.id)]).filter((v): v is RunView => Boolean(v));
}
