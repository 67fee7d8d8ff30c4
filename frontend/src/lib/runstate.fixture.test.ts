// The editor's reducer against the server's, on the same recorded runs (tests/fixtures/events,
// re-recorded by tests/fixtures/record.py from real runs): each node's state, key, time and
// output summaries, each curve, the run's status and error must be what the server reduced.
import { describe, expect, it } from "vitest";
import recorded from "../../../tests/fixtures/events/template_run.json";
import type { RunEvent, RunSummary } from "../types";
import { reduceRun, type MetricPoint, type RunView } from "./runstate";

interface RecordedRun {
  run_id: string;
  events: RunEvent[];
  summary: RunSummary;
}

const runs = (recorded as unknown as { runs: RecordedRun[] }).runs;

/** The editor's view in the server summary's shape (its curves as {epoch, metrics}). */
function asServerSummary(view: RunView) {
  const metrics = (points: MetricPoint[]) => points.map(({ epoch, ...values }) => ({ epoch, metrics: values }));
  return {
    status: view.status,
    plan: view.plan,
    cached: view.cached,
    why: view.why,
    last_seq: view.lastSeq,
    active: view.active,
    nodes: Object.fromEntries(Object.entries(view.nodes).map(([id, n]) => [id, {
      state: n.state, key: n.key ?? null, seconds: n.seconds ?? null, summary: n.summary ?? null,
      code: n.code ?? null, message: n.message ?? null, progress: n.progress ?? null,
    }])),
    metrics: Object.fromEntries(Object.entries(view.metrics).map(([id, points]) => [id, metrics(points)])),
    error: view.error ?? null,
  };
}

describe("reduceRun on recorded runs", () => {
  it("has the recorded runs to check", () => {
    expect(runs.length).toBe(2);
    expect(runs[0].events.length).toBeGreaterThan(20);
  });

  for (const [i, run] of runs.entries()) {
    it(`reduces recorded run ${i + 1} as the server does`, () => {
      const { run_id: _id, worker: _worker, seconds: _seconds, ...summary } = run.summary; // the view has none
      expect(asServerSummary(reduceRun(run.run_id, run.events))).toEqual(summary);
    });
  }
});
