import { beforeEach, describe, expect, it } from "vitest";
import { useEditor } from "./editor";
import { catalog, template } from "../test/fixtures";

const s = () => useEditor.getState();

beforeEach(() => {
  s().setCatalog(catalog);
  s().load(template());
});

describe("editor store", () => {
  it("loads a template with groups and clean history", () => {
    expect(s().graph.nodes).toHaveLength(13);
    expect(s().graph.groups.map((g) => g.id)).toEqual([
      "model_building", "data_loading", "image_formatting", "model_training", "model_finetuning",
    ]);
    expect(s().past).toHaveLength(0);
    expect(s().graph.edges.every((e) => e.id)).toBe(true);
  });

  it("adds a node with the component's defaults, a readable unique id and the group under it", () => {
    const id = s().addNode("layers.Dense", { x: 60, y: 700 });
    expect(id).toBe("dense_2");
    const node = s().graph.nodes.find((n) => n.id === id)!;
    expect(node.params).toEqual({ units: 256, activation: "relu" });
    expect(node.group).toBe("model_building");
    expect(s().selectedNodes).toEqual(["dense_2"]);
    expect(s().addNode("no.Such", { x: 0, y: 0 })).toBeNull();
    const free = s().addNode("layers.Dropout", { x: 3000, y: 3000 })!;
    expect(s().graph.nodes.find((n) => n.id === free)!.group).toBeNull();
  });

  it("connects compatible ports and refuses incompatible types", () => {
    const drop = s().addNode("layers.Dropout", { x: 3000, y: 0 })!;
    expect(s().connect({ source: "dense", sourceHandle: "output", target: drop, targetHandle: "input" }).ok).toBe(true);
    expect(s().graph.edges.some((e) => e.target === drop)).toBe(true);
    const bad = s().connect({ source: "optimizer", sourceHandle: "optimizer", target: "finetune", targetHandle: "model" });
    expect(bad).toEqual({ ok: false, reason: "incompatible", sourceType: "optimizer", targetType: "model" });
    // A trainer's model input takes a tensor or a model (the compatibility table, not equality).
    const trainer = s().addNode("training.Trainer", { x: 3000, y: 400 })!;
    expect(s().connect({ source: "train", sourceHandle: "model", target: trainer, targetHandle: "model" }).ok).toBe(true);
  });

  it("refuses a connection that would make a cycle, or a node to itself", () => {
    const v = s().connect({ source: "output", sourceHandle: "output", target: "vgg16", targetHandle: "input" });
    expect(v).toEqual({ ok: false, reason: "cycle" });
    const self = s().connect({ source: "dense", sourceHandle: "output", target: "dense", targetHandle: "input" });
    expect(self).toEqual({ ok: false, reason: "self" });
  });

  it("replaces the edge into an input that is already connected", () => {
    const d = s().addNode("layers.Dense", { x: 3000, y: 0 })!;
    s().connect({ source: "flatten", sourceHandle: "output", target: d, targetHandle: "input" });
    const v = s().connect({ source: d, sourceHandle: "output", target: "output", targetHandle: "input" });
    expect(v.ok && v.replaces?.source).toBe("dense");
    const into = s().graph.edges.filter((e) => e.target === "output" && e.targetHandle === "input");
    expect(into).toHaveLength(1);
    expect(into[0].source).toBe(d);
  });

  it("deletes the selection with its edges, and undo/redo bring it back and forth", () => {
    s().select(["flatten"]);
    s().removeSelection();
    expect(s().graph.nodes.some((n) => n.id === "flatten")).toBe(false);
    expect(s().graph.edges.some((e) => e.source === "flatten" || e.target === "flatten")).toBe(false);
    s().undo();
    expect(s().graph.nodes.some((n) => n.id === "flatten")).toBe(true);
    expect(s().graph.edges).toHaveLength(14);
    s().redo();
    expect(s().graph.nodes.some((n) => n.id === "flatten")).toBe(false);
  });

  it("edits a param, coalescing keystrokes into one undo step", () => {
    const rev = s().revision;
    s().setParam("dense", "units", 1);
    s().setParam("dense", "units", 12);
    s().setParam("dense", "units", 128);
    expect(s().graph.nodes.find((n) => n.id === "dense")!.params.units).toBe(128);
    expect(s().revision).toBe(rev + 3);
    s().undo();
    expect(s().graph.nodes.find((n) => n.id === "dense")!.params.units).toBe(256);
    s().setParam("dense", "activation", undefined);
    expect("activation" in s().graph.nodes.find((n) => n.id === "dense")!.params).toBe(false);
  });

  it("copies and pastes nodes with fresh ids and their internal edges", () => {
    s().select(["flatten", "dense"]);
    expect(s().copy()).toBe(2);
    expect(s().paste()).toBe(2);
    const ids = s().selectedNodes;
    expect(ids).toEqual(["flatten_2", "dense_2"]);
    const e = s().graph.edges.find((x) => x.source === "flatten_2");
    expect(e?.target).toBe("dense_2");
    expect(s().graph.nodes.find((n) => n.id === "dense_2")!.position).toEqual({ x: 80, y: 500 });
    s().paste();
    expect(s().graph.nodes.find((n) => n.id === "dense_3")!.position).toEqual({ x: 120, y: 540 });
  });

  it("records one undo step per drag and moves group members with their frame", () => {
    s().beginDrag();
    s().dragTo({ input: { x: 50, y: 70 } });
    s().dragTo({ input: { x: 60, y: 80 } });
    s().endDrag();
    expect(s().past).toHaveLength(1);
    s().beginDrag();
    s().moveGroup("data_loading", { x: 400, y: 20 });
    s().endDrag();
    expect(s().graph.nodes.find((n) => n.id === "dataset")!.position).toEqual({ x: 440, y: 80 });
    s().undo();
    s().undo();
    expect(s().graph.nodes.find((n) => n.id === "input")!.position).toEqual({ x: 40, y: 60 });
  });

  it("a node dragged into another group's frame joins it", () => {
    s().beginDrag();
    s().dragTo({ flatten: { x: 800, y: 100 } });
    s().endDrag();
    expect(s().graph.nodes.find((n) => n.id === "flatten")!.group).toBe("model_training");
  });

  it("lays out groups as non-overlapping frames that contain their nodes", () => {
    s().layout();
    const g = s().graph;
    for (const grp of g.groups) {
      for (const n of g.nodes.filter((x) => x.group === grp.id)) {
        expect(n.position.x).toBeGreaterThanOrEqual(grp.position.x);
        expect(n.position.y).toBeGreaterThanOrEqual(grp.position.y);
        expect(n.position.x + 240).toBeLessThanOrEqual(grp.position.x + grp.width);
        expect(n.position.y + 100).toBeLessThanOrEqual(grp.position.y + grp.height);
      }
    }
    const boxes = g.groups.map((x) => [x.position.x, x.position.y, x.position.x + x.width, x.position.y + x.height]);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
        expect(overlap).toBe(false);
      }
    s().undo();
    expect(s().graph.groups[0].height).toBe(760);
  });
});
