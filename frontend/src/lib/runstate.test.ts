import { describe, expect, it } from "vitest";
import { lastResults, mergeEvents, nodeStatus, offeredModels, reduceRun, upToDate, workerText } from "./runstate";
import { translate, type Key } from "../i18n";
import type { RunEvent, WorkerInfo } from "../types";

let seq = 0;
// Short events for the unit cases (fields the reducer does not read are left out); the
// recorded run in tests/fixtures/events checks the whole shape against the server's reducer.
const ev = (type: RunEvent["type"], extra: Record<string, unknown> = {}): RunEvent =>
  ({ run_id: "r1", seq: ++seq, ts: 1, type, ...extra }) as RunEvent;
const worker = (w: Partial<WorkerInfo> & Pick<WorkerInfo, "kind">): WorkerInfo =>
  ({ gpus: [], node_id: null, node_ip: null, note: null, pid: null, ...w });

function trainingRun(): RunEvent[] {
  seq = 0;
  return [
    ev("run.queued"),
    ev("run.started", { plan: ["input", "dense", "train"], cached: ["input"] }),
    ev("node.cached", { node: "input", key: "k-input", summary: {} }),
    ev("node.started", { node: "dense" }),
    ev("node.finished", { node: "dense", key: "k-dense", seconds: 0.1, summary: {} }),
    ev("node.started", { node: "train" }),
    ev("node.progress", { node: "train", step: 1, total: 4, unit: "batch", phase: "epoch 1/3" }),
    ev("node.metrics", { node: "train", epoch: 1, metrics: { loss: 0.7, accuracy: 0.5, val_loss: 0.69, val_accuracy: 0.55 } }),
    ev("node.progress", { node: "train", step: 2, total: 4, unit: "batch", phase: "epoch 2/3" }),
    ev("node.metrics", { node: "train", epoch: 2, metrics: { loss: 0.6, accuracy: 0.6, val_loss: 0.65, val_accuracy: 0.6 } }),
  ];
}

describe("run state", () => {
  it("derives queued, running with progress, cached and done from the events", () => {
    const view = reduceRun("r1", trainingRun(), "running");
    expect(view.status).toBe("running");
    expect(view.active).toBe(true);
    expect(view.nodes.input.state).toBe("cached");
    expect(view.nodes.dense).toMatchObject({ state: "done", key: "k-dense" });
    expect(view.nodes.train.state).toBe("running");
    expect(view.nodes.train.progress).toMatchObject({ step: 2, total: 4, phase: "epoch 2/3" });
    expect(view.metrics.train.map((p) => p.epoch)).toEqual([1, 2]);
    expect(view.lastSeq).toBe(10);
    expect(view.cached).toEqual(["input"]);
  });

  it("shows queued nodes before they start and drops the mark when the run ends early", () => {
    seq = 0;
    const events = [ev("run.queued"), ev("run.started", { plan: ["a", "b"], cached: [] }), ev("node.started", { node: "a" })];
    const view = reduceRun("r1", events);
    expect(view.nodes.b.state).toBe("queued");
    const ended = reduceRun("r1", [...events, ev("run.cancelled", { message: "by user" })]);
    expect(ended.status).toBe("cancelled");
    expect(ended.nodes.b).toBeUndefined();
    expect(ended.nodes.a.state).toBe("cancelled");
  });

  it("keeps a failure's message on the node", () => {
    seq = 0;
    const view = reduceRun("r1", [
      ev("run.started", { plan: ["a"] }), ev("node.started", { node: "a" }),
      ev("node.failed", { node: "a", code: "dataset_empty", message: "no images in /x" }),
      ev("run.failed", { code: "node_failed", message: "a failed", node: "a" }),
    ]);
    expect(view.status).toBe("failed");
    expect(view.nodes.a).toMatchObject({ state: "failed", code: "dataset_empty", message: "no images in /x" });
    expect(view.error?.node).toBe("a");
  });

  it("takes the curve of a cached trainer from its summary's history", () => {
    seq = 0;
    const history = [{ loss: 0.7, accuracy: 0.5, val_loss: 0.7, val_accuracy: 0.5 }, { loss: 0.6, accuracy: 0.6, val_loss: 0.6, val_accuracy: 0.7 }];
    const view = reduceRun("r2", [ev("node.cached", { node: "train", key: "k", summary: { model: { kind: "model", history, best_epoch: 2 } } }), ev("run.finished")]);
    expect(view.metrics.train).toEqual([{ ...history[0], epoch: 1 }, { ...history[1], epoch: 2 }]);
  });

  it("merges replayed events without duplicates, in seq order", () => {
    const events = trainingRun();
    const merged = mergeEvents(events.slice(0, 6), events.slice(4));
    expect(merged.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(mergeEvents(events, [events[2]]).length).toBe(events.length);
    const twice = mergeEvents(mergeEvents([], events), events);
    expect(reduceRun("r1", twice).metrics.train).toHaveLength(2);
  });

  it("marks a node out of date when its cache key differs from its last result's key", () => {
    const done = reduceRun("r1", [...trainingRun(), ev("node.finished", { node: "train", key: "k-train" }), ev("run.finished")]);
    const results = lastResults([done]);
    expect(nodeStatus("dense", done, results, { dense: "k-dense" }, {}).state).toBe("done");
    expect(nodeStatus("input", done, results, { input: "k-input" }, {}).state).toBe("cached");
    expect(nodeStatus("dense", done, results, { dense: "k-other" }, {}).state).toBe("stale");
    expect(nodeStatus("flatten", done, results, { flatten: "k" }, {}).state).toBe("idle");
    expect(nodeStatus("flatten", done, results, { flatten: "k" }, { flatten: true }).state).toBe("cached");
    // Without keys (the graph has issues) the last result stands.
    expect(nodeStatus("dense", done, results, {}, {}).state).toBe("done");
  });

  it("shows a result kept from an earlier run as from the cache", () => {
    const first = reduceRun("r1", [...trainingRun(), ev("node.finished", { node: "train", key: "k-train" }), ev("run.finished")]);
    seq = 200;
    const second = reduceRun("r2", [ev("run.started", { plan: [], cached: ["train"] }),
      ev("node.cached", { node: "train", key: "k-train" }), ev("run.finished")]);
    const results = lastResults([first, second]);
    const keys = { dense: "k-dense", train: "k-train" };
    expect(nodeStatus("train", second, results, keys, {}).state).toBe("cached");
    expect(nodeStatus("dense", second, results, keys, {}).state).toBe("cached");
    expect(nodeStatus("dense", first, lastResults([first]), keys, {}).state).toBe("done");
  });

  it("lets a later run's result replace an earlier one", () => {
    const first = reduceRun("r1", [...trainingRun(), ev("run.finished")]);
    seq = 100;
    const second = reduceRun("r2", [ev("node.cached", { node: "dense", key: "k-dense2" }), ev("run.finished")]);
    const results = lastResults([first, second]);
    expect(results.dense).toMatchObject({ key: "k-dense2", runId: "r2", cached: true });
    expect(results.input.runId).toBe("r1");
  });

  it("shows an active run's running state over an older result", () => {
    const active = reduceRun("r1", trainingRun(), "running");
    const results = lastResults([active]);
    const st = nodeStatus("train", active, results, { train: "x" }, {});
    expect(st.state).toBe("running");
    expect(st.progress?.step).toBe(2);
  });

  it("uses the run record's status when the run ended without a terminal event", () => {
    seq = 0;
    const view = reduceRun("r1", [ev("run.started", { plan: ["a"] }), ev("node.started", { node: "a" })], "interrupted");
    expect(view.status).toBe("interrupted");
    expect(view.active).toBe(false);
    expect(view.nodes.a.state).toBe("failed");
  });

  it("says which worker took a run", () => {
    const en = (key: Key, vars?: Record<string, unknown>) => translate("en", key, vars);
    const zh = (key: Key, vars?: Record<string, unknown>) => translate("zh", key, vars);
    const ray = worker({ kind: "ray", node_id: "bec4e3882eefb3ca2369", node_ip: "10.0.0.7", pid: 7, gpus: ["0"] });
    expect(workerText(ray, en)).toBe("on Ray node 10.0.0.7 (bec4e3882eef, GPU 0)");
    expect(workerText(ray, zh)).toBe("在 Ray 节点 10.0.0.7（bec4e3882eef, GPU 0）上");
    expect(workerText(worker({ kind: "local", pid: 42 }), en)).toBe("on the embedded worker (pid 42)");
    expect(workerText(worker({ kind: "server" }), en)).toBe("from the cache, no worker needed");
    expect(workerText(undefined, en)).toBe("");
  });
});

describe("the trainer's kept epoch, as the trainer says it", () => {
  const metrics = (epoch: number, val_accuracy: number, val_loss: number, best_epoch: number | null) =>
    ev("node.metrics", { node: "train", epoch, best_epoch, metrics: { loss: 0.5, accuracy: 0.5, val_loss, val_accuracy } });

  it("follows each epoch's best_epoch, not a recomputation from the curve", () => {
    seq = 0;
    // epochs 1 and 2 tie on val_accuracy; the trainer keeps 2 (its lower val_loss breaks the tie)
    const live = reduceRun("r1", [ev("run.started", { plan: ["train"] }), ev("node.started", { node: "train" }),
      metrics(1, 0.75, 0.6, 1), metrics(2, 0.75, 0.5, 2)], "running");
    expect(live.best.train).toBe(2);
  });

  it("takes the model summary's best_epoch once the trainer is done, and a cached one's", () => {
    seq = 0;
    const model = { kind: "model", epochs: 15, best_epoch: 14, history: [], model_file: "/m.pt", classes: ["cat", "dog"] };
    const done = reduceRun("r1", [ev("run.started", { plan: ["train"] }), ev("node.started", { node: "train" }),
      metrics(1, 0.9, 0.2, 1), ev("node.finished", { node: "train", key: "k", summary: { model } }), ev("run.finished")]);
    expect(done.best.train).toBe(14);
    seq = 0;
    const cached = reduceRun("r2", [ev("node.cached", { node: "train", key: "k", summary: { model } }), ev("run.finished")]);
    expect(cached.best.train).toBe(14);
  });

  it("marks where early stopping ended a trainer, live and from its summary", () => {
    seq = 0;
    const stop = ev("node.metrics", { node: "train", epoch: 3, best_epoch: 1, stopped_early: true,
      metrics: { loss: 0.5, accuracy: 0.5, val_loss: 0.7, val_accuracy: 0.7 } });
    const live = reduceRun("r1", [ev("run.started", { plan: ["train"] }), metrics(1, 0.8, 0.5, 1), metrics(2, 0.7, 0.6, 1), stop], "running");
    expect(live.stopped?.train).toBe(3);
    seq = 0;
    const model = { kind: "model", epochs: 3, best_epoch: 1, stopped_epoch: 3, history: [], model_file: "/m.pt", classes: ["cat", "dog"] };
    const cached = reduceRun("r2", [ev("node.cached", { node: "train", key: "k", summary: { model } }), ev("run.finished")]);
    expect(cached.stopped?.train).toBe(3);
    expect(reduceRun("r3", trainingRun(), "running").stopped?.train).toBeUndefined();
  });

  it("shows no kept epoch for events that do not say it", () => {
    const view = reduceRun("r1", trainingRun(), "running");
    expect(view.best.train).toBeUndefined();
  });
});

describe("the models offered", () => {
  const model = (best_epoch: number, epochs: number, file: string) =>
    ({ kind: "model", epochs, best_epoch, history: [], model_file: file, classes: ["cat", "dog"], phase: "train",
      best: { val_accuracy: 0.8 } });

  function finished(runId: string, start: number): ReturnType<typeof reduceRun> {
    seq = start;
    return reduceRun(runId, [ev("run.started", { plan: ["train"] }), ev("node.started", { node: "train" }),
      ev("node.finished", { node: "train", key: "k1", summary: { model: model(2, 3, "/k1/model.pt") } }), ev("run.finished")]);
  }

  function cancelled(runId: string, start: number): ReturnType<typeof reduceRun> {
    seq = start;
    return reduceRun(runId, [ev("run.started", { plan: ["train"] }), ev("node.started", { node: "train" }),
      ev("node.log", { node: "train", level: "warning", message: "cancelled: saved", model: model(4, 4, "/k2/cancelled-epoch4.pt") }),
      ev("run.cancelled", { node: "train", message: "cancelled during train" })]);
  }

  it("keeps a cancelled trainer's saved model on the node", () => {
    const view = cancelled("r2", 0);
    expect(view.nodes.train.state).toBe("cancelled");
    expect(view.nodes.train.summary?.model).toMatchObject({ best_epoch: 4, model_file: "/k2/cancelled-epoch4.pt" });
    expect(lastResults([view]).train).toBeUndefined(); // not a result: the node still needs to run
  });

  it("offers the finished model and a newer cancelled run's partial one, each named by run and epoch", () => {
    const offered = offeredModels([finished("r1", 0), cancelled("r2", 100)]);
    expect(offered.map((m) => [m.runId, m.partial, m.epoch, m.epochs, m.fromCache])).toEqual([
      ["r2", true, 4, 4, false], ["r1", false, 2, 3, false],
    ]);
  });

  it("drops a partial model once a later run finishes the trainer", () => {
    const offered = offeredModels([cancelled("r1", 0), finished("r2", 100)]);
    expect(offered.map((m) => [m.runId, m.partial])).toEqual([["r2", false]]);
  });

  it("names the run that trained a model served from the cache later, when it is loaded", () => {
    seq = 200;
    const served = reduceRun("r3", [ev("node.cached", { node: "train", key: "k1", summary: { model: model(2, 3, "/k1/model.pt") } }),
      ev("run.finished")]);
    expect(offeredModels([finished("r1", 0), served]).map((m) => [m.runId, m.fromCache])).toEqual([["r1", false]]);
    expect(offeredModels([served]).map((m) => [m.runId, m.fromCache])).toEqual([["r3", true]]);
  });
});

describe("nodes a run did not need", () => {
  const edges = [
    { source: "dataset", target: "format" }, { source: "format", target: "train" }, { source: "input", target: "dense" },
    { source: "dense", target: "train" }, { source: "train", target: "evaluate" }, { source: "format", target: "evaluate" },
  ];

  it("are up to date when a stored result downstream covers them", () => {
    const cached = upToDate(edges, { dataset: false, format: false, input: false, dense: false, train: true, evaluate: false });
    expect(cached).toEqual({ train: true, format: true, dataset: true, dense: true, input: true });
    expect(upToDate(edges, undefined)).toEqual({});
  });

  it("show as from the cache beside a cached trainer, not as not run", () => {
    seq = 0;
    const second = reduceRun("r2", [ev("run.started", { plan: [], cached: ["train"] }),
      ev("node.cached", { node: "train", key: "k-train" }), ev("run.finished")]);
    const results = lastResults([second]);
    const keys = { dataset: "k-d", format: "k-f", input: "k-i", dense: "k-de", train: "k-train", evaluate: "k-e" };
    const cachedNow = upToDate(edges, { train: true });
    for (const id of ["dataset", "format", "input", "dense", "train"])
      expect(nodeStatus(id, second, results, keys, cachedNow).state).toBe("cached");
    expect(nodeStatus("evaluate", second, results, keys, cachedNow).state).toBe("idle");
    // without a stored result downstream they are not run
    expect(nodeStatus("dense", second, results, keys, upToDate(edges, { train: false })).state).toBe("idle");
  });

  it("are up to date, not out of date, when their current key is covered again", () => {
    const done = reduceRun("r1", [...trainingRun(), ev("node.finished", { node: "train", key: "k-train" }), ev("run.finished")]);
    const results = lastResults([done]);
    expect(nodeStatus("dense", done, results, { dense: "k-back" }, {}).state).toBe("stale");
    expect(nodeStatus("dense", done, results, { dense: "k-back" }, { dense: true }).state).toBe("cached");
  });
});

describe("a failed node", () => {
  const failedRun = () => {
    seq = 0;
    return reduceRun("r1", [
      ev("run.started", { plan: ["dataset"], cached: [] }),
      ev("node.started", { node: "dataset" }),
      ev("node.failed", { node: "dataset", code: "dataset_empty", message: "no cats-vs-dogs images", params: {}, key: "k-old" }),
      ev("run.failed", { node: "dataset", code: "dataset_empty", message: "no cats-vs-dogs images", params: {} }),
    ]);
  };

  it("keeps its error while the node is what failed", () => {
    const view = failedRun();
    expect(view.nodes.dataset).toMatchObject({ state: "failed", key: "k-old" });
    expect(nodeStatus("dataset", view, {}, { dataset: "k-old" }, {})).toMatchObject({ state: "failed", code: "dataset_empty" });
    // no key to compare with (the graph has issues now): the error stays
    expect(nodeStatus("dataset", view, {}, undefined, {}).state).toBe("failed");
    expect(nodeStatus("dataset", view, {}, {}, {}).state).toBe("failed");
  });

  it("is out of date, without its error, once its params (so its key) changed", () => {
    const status = nodeStatus("dataset", failedRun(), {}, { dataset: "k-new" }, {});
    expect(status.state).toBe("stale");
    expect(status.message).toBeUndefined();
    expect(nodeStatus("dataset", failedRun(), {}, { dataset: "k-new" }, { dataset: true }).state).toBe("cached");
  });
});

describe("a failed node without keys to compare", () => {
  it("is out of date when the editor saw it change", () => {
    seq = 0;
    const view = reduceRun("r1", [
      ev("run.started", { plan: ["dataset"], cached: [] }),
      ev("node.failed", { node: "dataset", code: "dataset_empty", message: "m", params: {}, key: "k-old" }),
      ev("run.failed", { node: "dataset", code: "dataset_empty", message: "m", params: {} }),
    ]);
    expect(nodeStatus("dataset", view, {}, {}, {}, true).state).toBe("stale");
    expect(nodeStatus("dataset", view, {}, {}, {}, false).state).toBe("failed");
  });
});
