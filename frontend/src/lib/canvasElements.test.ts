import { describe, expect, it } from "vitest";
import type { Catalog, Graph, Validation } from "../types";
import { byId, cardNodes, indexValidation, typedEdges, type CardInputs } from "./canvasElements";

const catalog: Catalog = {
  components: [
    { id: "layers.Input", version: 1, name: { en: "Input" }, description: {}, category: "layers", inputs: [],
      outputs: [{ name: "output", type: "tensor", label: {}, optional: false }], params_schema: {}, defaults: {} },
    { id: "layers.Flatten", version: 1, name: { en: "Flatten" }, description: {}, category: "layers", inputs: [{ name: "input", type: "tensor", label: {}, optional: false }],
      outputs: [{ name: "output", type: "tensor", label: {}, optional: false }], params_schema: {}, defaults: {} },
  ],
  categories: {}, port_types: {}, compatible: {},
};

const graph: Graph = {
  nodes: [
    { id: "a", type: "layers.Input", params: {}, position: { x: 0, y: 0 } },
    { id: "b", type: "layers.Flatten", params: {}, position: { x: 0, y: 140 } },
  ],
  edges: [{ id: "a.output->b.input", source: "a", sourceHandle: "output", target: "b", targetHandle: "input" }],
  groups: [],
};

function inputs(over: Partial<CardInputs> = {}): CardInputs {
  return { graph, catalog, selected: new Set(), measured: new Map(), statuses: {}, validation: indexValidation(null), width: 240, ...over };
}

describe("canvas elements", () => {
  it("keeps every card whose node, state and issues did not change", () => {
    const first = cardNodes(inputs(), new Map());
    const moved = { ...graph, nodes: [graph.nodes[0], { ...graph.nodes[1], position: { x: 10, y: 150 } }] };
    const second = cardNodes(inputs({ graph: moved }), byId(first));
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1].position).toEqual({ x: 10, y: 150 });
  });

  it("gives the one selected card the toolbar, and a card with issues its issues", () => {
    const validation: Validation = {
      ok: false, issues: [{ code: "missing_input", message: "m", node: "b", port: "input" }], specs: {}, keys: {}, cached: {},
    };
    const cards = cardNodes(inputs({ selected: new Set(["a"]), validation: indexValidation(validation) }), new Map());
    expect(cards.map((c) => c.data.toolbar)).toEqual([true, false]);
    expect(cards[1].data.issues.map((i) => i.code)).toEqual(["missing_input"]);
    expect(cards[0].data.issues).toEqual([]);
  });

  it("places unmeasured cards' handles so React Flow need not render them to draw edges", () => {
    const [input, flatten] = cardNodes(inputs(), new Map());
    expect(input.handles?.map((h) => [h.id, h.type])).toEqual([["output", "source"]]);
    expect(flatten.handles?.map((h) => [h.id, h.type])).toEqual([["input", "target"], ["output", "source"]]);
    expect(flatten.measured!.height).toBeGreaterThan(input.measured!.height!);
    const measured = cardNodes(inputs({ measured: new Map([["a", { width: 240, height: 71 }]]) }), new Map());
    expect(measured[0].handles).toBeUndefined();
    expect(measured[0].measured).toEqual({ width: 240, height: 71 });
  });

  it("colours edges by their source port's type and marks the ones validation blames", () => {
    const validation: Validation = {
      ok: false, issues: [{ code: "bad_edge", message: "m", edge: "a.output->b.input" }], specs: {}, keys: {}, cached: {},
    };
    const first = typedEdges({ graph, catalog, selected: new Set(), statuses: {}, validation: indexValidation(null) }, new Map());
    expect(first[0].data).toEqual({ type: "tensor", flowing: false, bad: false });
    const same = typedEdges({ graph, catalog, selected: new Set(), statuses: {}, validation: indexValidation(null) }, byId(first));
    expect(same[0]).toBe(first[0]);
    const blamed = typedEdges({ graph, catalog, selected: new Set(), statuses: { b: { state: "running" } },
      validation: indexValidation(validation) }, byId(first));
    expect(blamed[0].data).toEqual({ type: "tensor", flowing: true, bad: true });
  });
});
