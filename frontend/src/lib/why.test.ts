import { describe, expect, it } from "vitest";
import type { NodeWhy, RunEvent } from "../types";
import { rawNames } from "./issues";
import { nodeStatus, reduceRun } from "./runstate";
import { whyLong, whyShort } from "./why";

const why = (over: Partial<NodeWhy>): NodeWhy => ({
  node: "dense", runs: true, reason: "new", changes: [], origin: null, previous: null, needed: true, memory: false, evicted: null, ...over,
});

describe("why it ran, in words", () => {
  it("names the param that changed, old -> new, in both languages", () => {
    const w = why({ reason: "changed", changes: [
      { what: "param", param: "units", node: null, port: null, old: 128, new: 256 },
      { what: "upstream", param: null, node: "flatten", port: "input", old: "k1", new: "k2" }] });
    expect(whyShort(w, "dense", "en", rawNames)).toBe("“units” 128 → 256 +1");
    expect(whyLong(w, "dense", "en", rawNames)).toBe("“units” 128 → 256; upstream “flatten” changed");
    expect(whyLong(w, "dense", "zh", rawNames)).toBe("“units” 128 → 256；上游“flatten”已变");
  });

  it("says which run a cached result came from, and a forced or new node", () => {
    const cached = why({ runs: false, reason: "cached", origin: { key: "k", run_id: "abc123", ts: 0, project: null } });
    expect(whyShort(cached, "dense", "en", rawNames)).toBe("from run abc123");
    expect(whyShort(cached, "dense", "zh", rawNames)).toBe("来自运行 abc123");
    expect(whyLong({ ...cached, needed: false }, "dense", "en", rawNames)).toContain("not needed");
    expect(whyShort(why({ reason: "forced" }), "dense", "zh", rawNames)).toBe("强制运行（运行此节点）");
    expect(whyShort(why({}), "dense", "en", rawNames)).toBe("new: never ran here");
  });

  it("says when the cache's budget removed a result, in both languages", () => {
    const ts = new Date(2026, 10, 30, 16, 20).getTime() / 1000;
    const w = why({ reason: "evicted", evicted: ts });
    expect(whyShort(w, "dense", "en", rawNames)).toBe("removed to keep the cache within its budget: made again");
    expect(whyLong(w, "dense", "en", rawNames)).toBe(
      "its stored result was removed 11-30 16:20 to keep the cache within its budget: made again");
    expect(whyLong(w, "dense", "zh", rawNames)).toBe("11-30 16:20 缓存超出容量上限，已存结果被清除：重新生成");
    expect(whyShort(w, "dense", "zh", rawNames)).toBe("缓存超出容量上限时已被清除：重新生成");
  });

  it("travels from run.started to the node's status while it shows that run's result", () => {
    const w = why({ node: "train" });
    const events = [
      { type: "run.started", run_id: "r", seq: 1, ts: 0, plan: ["train"], cached: [], worker: null, why: { train: w } },
      { type: "node.started", run_id: "r", seq: 2, ts: 0, node: "train" },
    ] as unknown as RunEvent[];
    const view = reduceRun("r", events);
    expect(view.why.train).toBe(w);
    expect(nodeStatus("train", view, {}, undefined, undefined).why).toBe(w);
    expect(nodeStatus("other", view, {}, undefined, undefined).why).toBeUndefined();
  });
});
