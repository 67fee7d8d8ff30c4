import { describe, expect, it } from "vitest";
import { autoLayout } from "./layout";
import { cardPorts, NODE_H, NODE_W, nodeSize, portPoint } from "./nodeSize";
import { catalog, template } from "../test/fixtures";
import type { Graph, GraphEdge, GraphNode } from "../types";

interface Box { x: number; y: number; w: number; h: number }

function dense(id: string, group: string | null = null): GraphNode {
  return { id, type: "layers.Dense", params: {}, position: { x: 0, y: 0 }, group };
}

function wire(source: string, target: string): GraphEdge {
  return { id: `${source}-${target}`, source, sourceHandle: "output", target, targetHandle: "input" };
}

function chain(ids: string[], group: string | null = null): Pick<Graph, "nodes" | "edges"> {
  return { nodes: ids.map((id) => dense(id, group)), edges: ids.slice(1).map((id, i) => wire(ids[i], id)) };
}

function cardBoxes(graph: Graph): Map<string, Box> {
  const ports = cardPorts(graph, catalog);
  return new Map(graph.nodes.map((n) => {
    const { width, height } = nodeSize(ports.get(n.id));
    return [n.id, { x: n.position.x, y: n.position.y, w: width, h: height }];
  }));
}

function bounds(boxes: Box[]): Box {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  return { x, y, w: Math.max(...boxes.map((b) => b.x + b.w)) - x, h: Math.max(...boxes.map((b) => b.y + b.h)) - y };
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function inside(inner: Box, outer: Box): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;
}

function expectNoOverlaps(boxes: Box[]) {
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i], boxes[j]), `${i} and ${j} overlap`).toBe(false);
}

describe("node sizes", () => {
  it("gives a card with both port rows the usual height, and less without a row", () => {
    expect(nodeSize()).toEqual({ width: NODE_W, height: NODE_H });
    expect(nodeSize({ inputs: ["a"], outputs: ["b"] }).height).toBe(NODE_H);
    expect(nodeSize({ inputs: [], outputs: ["b"] }).height).toBeLessThan(NODE_H);
    expect(nodeSize({ inputs: ["a"], outputs: [] }).height).toBeLessThan(NODE_H);
  });

  it("spreads ports evenly along the top and bottom edges", () => {
    const ports = { inputs: ["model", "images", "optimizer"], outputs: ["model"] };
    expect(portPoint(ports, "in", "model")).toEqual({ x: NODE_W / 6, y: 0 });
    expect(portPoint(ports, "in", "optimizer").x).toBeCloseTo((NODE_W * 5) / 6);
    expect(portPoint(ports, "out", "model")).toEqual({ x: NODE_W / 2, y: NODE_H });
  });

  it("takes ports from the catalog, or from the edges without one", () => {
    const graph = template();
    expect(cardPorts(graph, catalog).get("train")?.inputs).toEqual(
      catalog.components.find((c) => c.id === "training.Trainer")!.inputs.map((p) => p.name));
    const fromEdges = cardPorts(graph).get("train")!;
    expect(fromEdges.inputs.sort()).toEqual(
      [...new Set(graph.edges.filter((e) => e.target === "train").map((e) => e.targetHandle))].sort());
  });
});

describe("automatic layout", () => {
  it("lays a chain of loose nodes out left to right without overlaps", async () => {
    const graph: Graph = { ...chain(["a", "b", "c", "d"]), groups: [] };
    const laidOut = await autoLayout(graph, catalog);
    const xs = ["a", "b", "c", "d"].map((id) => laidOut.nodes.find((n) => n.id === id)!.position.x);
    expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    expect(new Set(xs).size).toBe(4);
    expectNoOverlaps([...cardBoxes(laidOut).values()]);
  });

  it("stacks a group's members top to bottom inside its frame, and groups left to right", async () => {
    const first = chain(["a1", "a2", "a3"], "first");
    const second = chain(["b1", "b2"], "second");
    const graph: Graph = {
      nodes: [...second.nodes, ...first.nodes], // given out of order on purpose
      edges: [...first.edges, ...second.edges, wire("a3", "b1")],
      groups: [
        { id: "second", label: { en: "Second" }, position: { x: 0, y: 0 }, width: 10, height: 10 },
        { id: "first", label: { en: "First" }, position: { x: 500, y: 500 }, width: 10, height: 10 },
      ],
    };
    const laidOut = await autoLayout(graph, catalog);
    const boxes = cardBoxes(laidOut);
    const frame = (id: string): Box => {
      const g = laidOut.groups.find((x) => x.id === id)!;
      return { x: g.position.x, y: g.position.y, w: g.width, h: g.height };
    };
    for (const id of ["a1", "a2", "a3"]) expect(inside(boxes.get(id)!, frame("first")), id).toBe(true);
    for (const id of ["b1", "b2"]) expect(inside(boxes.get(id)!, frame("second")), id).toBe(true);
    // One column, in order: a chain in a group reads down, from output to input.
    expect(new Set(["a1", "a2", "a3"].map((id) => boxes.get(id)!.x)).size).toBe(1);
    expect(boxes.get("a1")!.y).toBeLessThan(boxes.get("a2")!.y);
    expect(boxes.get("a2")!.y).toBeLessThan(boxes.get("a3")!.y);
    expect(frame("first").x + frame("first").w).toBeLessThanOrEqual(frame("second").x);
    expectNoOverlaps([frame("first"), frame("second")]);
    expectNoOverlaps([...boxes.values()]);
  });

  it("keeps the template's groups around their members and apart from each other", async () => {
    const graph = template();
    const laidOut = await autoLayout(graph, catalog);
    const boxes = cardBoxes(laidOut);
    const frames = laidOut.groups.map((g) => ({ x: g.position.x, y: g.position.y, w: g.width, h: g.height }));
    for (const n of laidOut.nodes) {
      const g = laidOut.groups.findIndex((x) => x.id === n.group);
      if (g >= 0) expect(inside(boxes.get(n.id)!, frames[g]), n.id).toBe(true);
    }
    expectNoOverlaps(frames);
    expectNoOverlaps([...boxes.values()]);
    // Nothing else about the graph changes.
    expect(laidOut.edges).toEqual(graph.edges);
    expect(laidOut.nodes.map((n) => [n.id, n.group, n.params])).toEqual(graph.nodes.map((n) => [n.id, n.group, n.params]));
  });

  it("lays separate chains out apart and puts an unconnected node aside", async () => {
    const first = chain(["a1", "a2", "a3"]);
    const second = chain(["b1", "b2", "b3"]);
    const graph: Graph = {
      // interleaved on purpose, with the loose node among them
      nodes: [first.nodes[0], second.nodes[0], dense("loose"), first.nodes[1], second.nodes[1], first.nodes[2], second.nodes[2]],
      edges: [...first.edges, ...second.edges],
      groups: [],
    };
    const laidOut = await autoLayout(graph, catalog);
    const boxes = cardBoxes(laidOut);
    const a = bounds(["a1", "a2", "a3"].map((id) => boxes.get(id)!));
    const b = bounds(["b1", "b2", "b3"].map((id) => boxes.get(id)!));
    const loose = boxes.get("loose")!;
    expectNoOverlaps([a, b, loose]);
    // Each chain still reads left to right, and the loose node stands right of both chains.
    for (const ids of [["a1", "a2", "a3"], ["b1", "b2", "b3"]]) {
      const xs = ids.map((id) => boxes.get(id)!.x);
      expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    }
    expect(loose.x).toBeGreaterThanOrEqual(Math.max(a.x + a.w, b.x + b.w));
    // The first chain in execution order comes first (on top).
    expect(a.y + a.h).toBeLessThanOrEqual(b.y);
    expectNoOverlaps([...boxes.values()]);
  });

  it("keeps a group that connects to nothing apart from a chain", async () => {
    const loose = chain(["a", "b"]);
    const grouped = chain(["g1", "g2"], "g");
    const graph: Graph = {
      nodes: [...loose.nodes, ...grouped.nodes],
      edges: [...loose.edges, ...grouped.edges],
      groups: [{ id: "g", label: { en: "G" }, position: { x: 0, y: 0 }, width: 10, height: 10 }],
    };
    const laidOut = await autoLayout(graph, catalog);
    const boxes = cardBoxes(laidOut);
    const g = laidOut.groups[0];
    const frame = { x: g.position.x, y: g.position.y, w: g.width, h: g.height };
    expect(grouped.nodes.every((n) => inside(boxes.get(n.id)!, frame))).toBe(true);
    expectNoOverlaps([frame, bounds([boxes.get("a")!, boxes.get("b")!])]);
  });

  it("lays out many unconnected nodes in columns without overlaps", async () => {
    const graph: Graph = { nodes: Array.from({ length: 10 }, (_, i) => dense(`n${i}`)), edges: [], groups: [] };
    const laidOut = await autoLayout(graph, catalog);
    const boxes = [...cardBoxes(laidOut).values()];
    expectNoOverlaps(boxes);
    const all = bounds(boxes);
    expect(new Set(boxes.map((b) => b.x)).size).toBeGreaterThan(1); // not one endless column
    expect(all.h).toBeLessThan(10 * NODE_H);
  });

  it("keeps an empty group's size and places it apart from the rest", async () => {
    const graph: Graph = {
      ...chain(["a", "b"]),
      groups: [{ id: "empty", label: { en: "Empty" }, position: { x: 0, y: 0 }, width: 300, height: 200 }],
    };
    const laidOut = await autoLayout(graph, catalog);
    const g = laidOut.groups[0];
    expect([g.width, g.height]).toEqual([300, 200]);
    const frame = { x: g.position.x, y: g.position.y, w: g.width, h: g.height };
    expectNoOverlaps([frame, ...cardBoxes(laidOut).values()]);
  });
});
