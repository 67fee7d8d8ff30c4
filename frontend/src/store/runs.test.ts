import { beforeEach, describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../types";

const apiMock = vi.hoisted(() => ({
  runs: vi.fn(),
  events: vi.fn(),
  run: vi.fn(),
  startRun: vi.fn(),
  cancelRun: vi.fn(),
  resumeRun: vi.fn(),
}));
vi.mock("../api", () => ({ api: apiMock, wsUrl: (p: string) => `ws://test${p}` }));

import { useRuns } from "./runs";
import { setWebSocketClass } from "../lib/socket";

/** The browser's WebSocket as the server side of the test drives it (partysocket reconnects it). */
class FakeSocket extends EventTarget {
  static all: FakeSocket[] = [];
  readyState = 0; // CONNECTING
  binaryType = "blob";
  closed = false;
  constructor(public url: string) {
    super();
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  send(events: RunEvent[]) {
    for (const e of events) this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(e) }));
  }
  sendBurst(events: RunEvent[]) {
    // the server sends what arrives together as one message, a JSON array
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(events) }));
  }
  drop() {
    this.readyState = 3;
    this.closed = true;
    this.dispatchEvent(new Event("close"));
  }
  close() {
    this.readyState = 3;
    this.closed = true;
  }
}

/** Let the pending connections happen (partysocket connects on a timer, even the first time). */
const connect = () => vi.advanceTimersByTimeAsync(0);

const ev = (seq: number, type: RunEvent["type"], extra: Record<string, unknown> = {}): RunEvent =>
  ({ run_id: "abc", seq, ts: 0, type, ...extra }) as RunEvent;
const run = (status: string) => ({ id: "abc", project_id: 1, status, targets: ["train"], mode: "to", created_at: "2024-01-01T00:00:00" });

beforeEach(() => {
  FakeSocket.all = [];
  setWebSocketClass(FakeSocket as unknown as typeof WebSocket);
  vi.useFakeTimers();
  for (const f of Object.values(apiMock)) f.mockReset();
  useRuns.getState().reset(1);
});

describe("runs store", () => {
  it("starts a run and follows its events live", async () => {
    apiMock.startRun.mockResolvedValue(run("queued"));
    await useRuns.getState().start(["train"], "to", null);
    expect(apiMock.startRun).toHaveBeenCalledWith(1, ["train"], "to", null);
    await connect();
    const sock = FakeSocket.all[0];
    expect(sock.url).toBe("ws://test/api/ws/runs/abc?after=0");
    sock.open();
    expect(useRuns.getState().connection).toBe("live");
    sock.send([ev(1, "run.queued"), ev(2, "run.started", { plan: ["train"] }), ev(3, "node.started", { node: "train" }),
      ev(4, "node.metrics", { node: "train", epoch: 1, metrics: { loss: 1 } })]);
    const view = useRuns.getState().views.abc;
    expect(view.nodes.train.state).toBe("running");
    expect(view.metrics.train).toHaveLength(1);
  });

  it("resumes a failed run as a new run, which it follows", async () => {
    apiMock.resumeRun.mockResolvedValue({ ...run("queued"), id: "def", resumed_from: "abc", auto_resumes: 0 });
    await useRuns.getState().resume("abc");
    expect(apiMock.resumeRun).toHaveBeenCalledWith("abc");
    expect(useRuns.getState().latestRunId).toBe("def");
    expect(useRuns.getState().runs.map((r) => r.resumed_from)).toEqual(["abc"]);
    await connect();
    expect(FakeSocket.all[0].url).toBe("ws://test/api/ws/runs/def?after=0");
  });

  it("resumes after the last seen seq when the connection drops, without duplicates", async () => {
    apiMock.startRun.mockResolvedValue(run("queued"));
    await useRuns.getState().start(["train"], "to", null);
    await connect();
    const first = FakeSocket.all[0];
    first.open();
    first.send([ev(1, "run.queued"), ev(2, "run.started", { plan: ["train"] }), ev(3, "node.started", { node: "train" }),
      ev(4, "node.metrics", { node: "train", epoch: 1, metrics: { loss: 1 } })]);
    first.drop();
    expect(useRuns.getState().connection).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(2000);
    expect(FakeSocket.all).toHaveLength(2);
    const second = FakeSocket.all[1];
    expect(second.url).toBe("ws://test/api/ws/runs/abc?after=4");
    second.open();
    expect(useRuns.getState().connection).toBe("live");
    // an event seen twice (e.g. a burst the server had sent as the connection dropped) counts once
    second.send([ev(4, "node.metrics", { node: "train", epoch: 1, metrics: { loss: 1 } }),
      ev(5, "node.metrics", { node: "train", epoch: 2, metrics: { loss: 0.8 } }),
      ev(6, "node.metrics", { node: "train", epoch: 3, metrics: { loss: 0.7 } })]);
    const state = useRuns.getState();
    expect(state.events.abc.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(state.views.abc.metrics.train.map((p) => p.epoch)).toEqual([1, 2, 3]);
    apiMock.run.mockResolvedValue(run("finished"));
    second.send([ev(7, "node.finished", { node: "train", key: "k" }), ev(8, "run.finished")]);
    await vi.advanceTimersByTimeAsync(10);
    expect(useRuns.getState().views.abc.status).toBe("finished");
    expect(second.closed).toBe(true);
    expect(useRuns.getState().connection).toBe("idle");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeSocket.all).toHaveLength(2); // a finished run's stream does not reconnect
  });

  it("on opening a project replays the recent runs and follows the one still running", async () => {
    apiMock.runs.mockResolvedValue([{ ...run("finished"), id: "old", created_at: "2024-01-01T00:00:00" },
      { ...run("running"), created_at: "2024-01-02T00:00:00" }]);
    apiMock.events.mockImplementation(async (id: string) =>
      id === "old" ? [{ ...ev(1, "node.finished", { node: "dense", key: "k1" }), run_id: "old" }, { ...ev(2, "run.finished"), run_id: "old" }]
        : [ev(1, "run.queued"), ev(2, "run.started", { plan: ["train"] }), ev(3, "node.started", { node: "train" })]);
    await useRuns.getState().loadProject(1);
    await connect();
    const s = useRuns.getState();
    expect(s.latestRunId).toBe("abc");
    expect(s.views.old.status).toBe("finished");
    expect(s.views.abc.nodes.train.state).toBe("running");
    const urls = FakeSocket.all.map((x) => x.url);
    expect(urls).toEqual(["ws://test/api/ws/runs/abc?after=3", "ws://test/api/ws/projects/1"]);
  });

  it("follows a run that another client started, learnt from the project stream", async () => {
    apiMock.runs.mockResolvedValue([]);
    await useRuns.getState().loadProject(1);
    await connect();
    const project = FakeSocket.all[0];
    expect(project.url).toBe("ws://test/api/ws/projects/1");
    apiMock.run.mockResolvedValue({ ...run("queued"), id: "fromcli" });
    project.open();
    project.send([{ ...ev(1, "run.queued"), run_id: "fromcli" }]);
    await vi.advanceTimersByTimeAsync(1);
    await connect();
    expect(useRuns.getState().latestRunId).toBe("fromcli");
    expect(FakeSocket.all[1].url).toBe("ws://test/api/ws/runs/fromcli?after=0");
  });

  it("takes a burst of events sent as one array message, on both streams", async () => {
    apiMock.startRun.mockResolvedValue(run("queued"));
    await useRuns.getState().start(["train"], "to", null);
    await connect();
    const sock = FakeSocket.all[0];
    sock.open();
    sock.sendBurst([ev(1, "run.queued"), ev(2, "run.started", { plan: ["train"] }), ev(3, "node.started", { node: "train" }),
      ev(4, "node.metrics", { node: "train", epoch: 1, metrics: { loss: 0.5, accuracy: 0.8, val_loss: 0.6, val_accuracy: 0.7 } })]);
    const view = useRuns.getState().views.abc;
    expect(view.nodes.train.state).toBe("running");
    expect(view.metrics.train.length).toBe(1);

    apiMock.runs.mockResolvedValue([]);
    await useRuns.getState().loadProject(1);
    await connect();
    const project = FakeSocket.all.find((x) => x.url.endsWith("/api/ws/projects/1"))!;
    apiMock.run.mockResolvedValue({ ...run("queued"), id: "other" });
    project.open();
    project.sendBurst([{ ...ev(1, "run.queued"), run_id: "other" }, { ...ev(2, "run.started"), run_id: "other" }]);
    await vi.advanceTimersByTimeAsync(1);
    expect(useRuns.getState().latestRunId).toBe("other");
  });
});
