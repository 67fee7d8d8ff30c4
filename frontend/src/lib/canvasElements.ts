// The React Flow nodes and edges the canvas draws for the editor's graph. Each one is made
// anew only when what it shows has changed (position, size, selection, run state, issues,
// inferred shapes) and kept otherwise: React Flow then keeps its internal node, and the
// memoised cards and edges of a 2,000-node graph re-render only where an edit, a validation
// or a run changed something, instead of all of them every time.
import { Position, type Edge, type Node, type NodeHandle } from "@xyflow/react";
import { costKey, type NodeCost } from "./cost";
import { nodeSize } from "./nodeSize";
import type { NodeStatus, Progress } from "./runstate";
import type { Catalog, ComponentDesc, Graph, GraphEdge, GraphGroup, GraphNode, Issue, Validation } from "../types";

export const GROUP_PREFIX = "group:";

/** What a node card draws; everything a card needs comes in here, so it subscribes to nothing per node. */
export type CardData = {
  node: GraphNode;
  component: ComponentDesc | undefined;
  status: NodeStatus;
  issues: Issue[];
  shapes: Record<string, string>; // inferred shape label by output port
  cost?: NodeCost; // what it will cost (lib/cost.ts), from the validation
  toolbar: boolean; // the run buttons above the card: it is the one selected node
};
export type CardNode = Node<CardData, "component">;

export type FrameData = { group: GraphGroup; index: number; members: number };
export type FrameNode = Node<FrameData, "frame">;

export type EdgeData = { type: string; flowing: boolean; bad: boolean };
export type TypedEdgeType = Edge<EdgeData, "typed">;

export type Size = { width: number; height: number };

const NO_ISSUES: Issue[] = [];
const NO_SHAPES: Record<string, string> = {};
const IDLE: NodeStatus = { state: "idle" };

/** Issues of one validation by node, and the edges it blames: built once per validation, not per card. */
export interface ValidationIndex {
  issues: Map<string, Issue[]>;
  badEdges: Set<string>;
  specs: Validation["specs"];
  costs: NonNullable<Validation["costs"]>;
}

export function indexValidation(validation: Validation | null): ValidationIndex {
  const issues = new Map<string, Issue[]>();
  const badEdges = new Set<string>();
  for (const issue of validation?.issues ?? []) {
    if (issue.node) {
      const list = issues.get(issue.node);
      if (list) list.push(issue);
      else issues.set(issue.node, [issue]);
    }
    if (issue.edge) badEdges.add(issue.edge);
  }
  return { issues, badEdges, specs: validation?.specs ?? {}, costs: validation?.costs ?? {} };
}

const componentMaps = new WeakMap<Catalog, Map<string, ComponentDesc>>();

/** The catalog's component for a type, through a map made once per catalog. */
export function componentOf(catalog: Catalog | null, type: string): ComponentDesc | undefined {
  if (!catalog) return undefined;
  let map = componentMaps.get(catalog);
  if (!map) {
    map = new Map(catalog.components.map((c) => [c.id, c]));
    componentMaps.set(catalog, map);
  }
  return map.get(type);
}

export interface CardInputs {
  graph: Graph;
  catalog: Catalog | null;
  selected: ReadonlySet<string>;
  measured: ReadonlyMap<string, Size>;
  statuses: Readonly<Record<string, NodeStatus>>;
  validation: ValidationIndex;
  width: number;
}

/** The cards, each kept from ``previous`` (by node id) when nothing it draws has changed. */
export function cardNodes(inputs: CardInputs, previous: ReadonlyMap<string, CardNode>): CardNode[] {
  const { graph, catalog, selected, measured, statuses, validation, width } = inputs;
  const toolbarNode = selected.size === 1 ? [...selected][0] : null;
  return graph.nodes.map((node) => {
    const data: CardData = {
      node,
      component: componentOf(catalog, node.type),
      status: statuses[node.id] ?? IDLE,
      issues: validation.issues.get(node.id) ?? NO_ISSUES,
      shapes: shapeLabels(validation.specs[node.id]),
      cost: validation.costs[node.id],
      toolbar: node.id === toolbarNode,
    };
    const isSelected = selected.has(node.id);
    const size = measured.get(node.id);
    const estimate = size ? null : estimatedGeometry(data.component, width);
    const prev = previous.get(node.id);
    if (prev && prev.selected === isSelected && prev.measured === (size ?? estimate?.measured) &&
        sameCardData(prev.data, data)) return prev;
    const card: CardNode = { id: node.id, type: "component", position: node.position, data, selected: isSelected, width };
    return estimate ? { ...card, ...estimate } : { ...card, measured: size };
  });
}

// A handle's box as the browser lays it out (the card's size comes from lib/nodeSize.ts).
const HANDLE = 11;
const INPUT_HANDLE_Y = -10.5;
const OUTPUT_HANDLE_BELOW = 1.5; // a source handle's box starts this far above the card's bottom

interface Geometry {
  measured: Size;
  handles: NodeHandle[];
}

const NO_PORTS = { inputs: [], outputs: [] };
const geometries = new WeakMap<ComponentDesc, Geometry>();
const portless = new Map<number, Geometry>(); // cards of unknown components, by width

/**
 * Size and handles of a card not measured yet. Without them React Flow renders every node
 * just to measure it, even with only visible elements on, and fits the view to measured
 * nodes only; with them it renders only the cards in view (each measured when it first
 * comes into view) and fits the whole graph. Made once per component, so unchanged cards
 * keep equal props.
 */
function estimatedGeometry(component: ComponentDesc | undefined, width: number): Geometry {
  if (!component) {
    if (!portless.has(width)) portless.set(width, { measured: { width, height: nodeSize(NO_PORTS).height }, handles: [] });
    return portless.get(width)!;
  }
  const known = geometries.get(component);
  if (known && known.measured.width === width) return known;
  const { inputs, outputs } = component;
  const { height } = nodeSize({ inputs: inputs.map((p) => p.name), outputs: outputs.map((p) => p.name) });
  const handle = (name: string, i: number, count: number, type: "source" | "target"): NodeHandle => ({
    id: name, type, width: HANDLE, height: HANDLE,
    x: ((i + 0.5) / count) * width - HANDLE / 2,
    y: type === "target" ? INPUT_HANDLE_Y : height - OUTPUT_HANDLE_BELOW,
    position: type === "target" ? Position.Top : Position.Bottom,
  });
  const geometry = {
    measured: { width, height },
    handles: [
      ...inputs.map((p, i) => handle(p.name, i, inputs.length, "target")),
      ...outputs.map((p, i) => handle(p.name, i, outputs.length, "source")),
    ],
  };
  geometries.set(component, geometry);
  return geometry;
}

/** The group frames, behind the cards, each kept from ``previous`` when unchanged. */
export function frameNodes(graph: Graph, selected: ReadonlySet<string>, previous: ReadonlyMap<string, FrameNode>): FrameNode[] {
  const members = new Map<string, number>();
  for (const n of graph.nodes) if (n.group) members.set(n.group, (members.get(n.group) ?? 0) + 1);
  return graph.groups.map((group, index) => {
    const id = GROUP_PREFIX + group.id;
    const data: FrameData = { group, index, members: members.get(group.id) ?? 0 };
    const isSelected = selected.has(group.id);
    const prev = previous.get(id);
    if (prev && prev.selected === isSelected && prev.data.group === group && prev.data.index === index &&
        prev.data.members === data.members) return prev;
    const size = { width: group.width, height: group.height };
    return {
      id, type: "frame", position: group.position, data, width: group.width, height: group.height, measured: size,
      style: size, zIndex: -1, selected: isSelected, dragHandle: ".group-label", className: "frame-node",
    };
  });
}

export interface EdgeInputs {
  graph: Graph;
  catalog: Catalog | null;
  selected: ReadonlySet<string>;
  statuses: Readonly<Record<string, NodeStatus>>;
  validation: ValidationIndex;
  /** What a screen reader calls an edge, in the person's language (React Flow's default is English). */
  edgeLabel?: (source: string, target: string) => string;
}

/** The edges, coloured by the type their source port carries, each kept from ``previous`` when unchanged. */
export function typedEdges(inputs: EdgeInputs, previous: ReadonlyMap<string, TypedEdgeType>): TypedEdgeType[] {
  const { graph, catalog, selected, statuses, validation, edgeLabel } = inputs;
  const typeOf = new Map(graph.nodes.map((n) => [n.id, n.type]));
  return graph.edges.map((edge) => {
    const ariaLabel = edgeLabel?.(edge.source, edge.target);
    const component = componentOf(catalog, typeOf.get(edge.source) ?? "");
    const data: EdgeData = {
      type: component?.outputs.find((p) => p.name === edge.sourceHandle)?.type ?? "",
      flowing: statuses[edge.target]?.state === "running",
      bad: validation.badEdges.has(edge.id),
    };
    const isSelected = selected.has(edge.id);
    const prev = previous.get(edge.id);
    if (prev && prev.selected === isSelected && sameEdgeEnds(prev, edge) && prev.data?.type === data.type &&
        prev.data.flowing === data.flowing && prev.data.bad === data.bad && prev.ariaLabel === ariaLabel) return prev;
    return {
      id: edge.id, source: edge.source, sourceHandle: edge.sourceHandle, target: edge.target,
      targetHandle: edge.targetHandle, type: "typed", selected: isSelected, data, ...(ariaLabel ? { ariaLabel } : {}),
    };
  });
}

export function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

function shapeLabels(specs: Validation["specs"][string] | undefined): Record<string, string> {
  if (!specs) return NO_SHAPES;
  const out: Record<string, string> = {};
  for (const [port, spec] of Object.entries(specs)) if (spec.label) out[port] = spec.label;
  return out;
}

function sameCardData(a: CardData, b: CardData): boolean {
  return a.node === b.node && a.component === b.component && a.toolbar === b.toolbar &&
    sameStatus(a.status, b.status) && sameIssues(a.issues, b.issues) && sameRecord(a.shapes, b.shapes) &&
    costKey(a.cost) === costKey(b.cost);
}

export function sameStatus(a: NodeStatus, b: NodeStatus): boolean {
  return a === b || (a.state === b.state && a.message === b.message && a.code === b.code && a.why === b.why &&
    sameProgress(a.progress, b.progress));
}

function sameProgress(a: Progress | undefined, b: Progress | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.step === b.step && a.total === b.total && a.unit === b.unit && a.phase === b.phase && a.code === b.code &&
    a.epoch === b.epoch && a.split === b.split;
}

function sameIssues(a: Issue[], b: Issue[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => {
    const y = b[i];
    return x.code === y.code && x.message === y.message && x.port === y.port && x.param === y.param && x.edge === y.edge;
  }));
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function sameEdgeEnds(a: TypedEdgeType, b: GraphEdge): boolean {
  return a.source === b.source && a.sourceHandle === b.sourceHandle && a.target === b.target && a.targetHandle === b.targetHandle;
}
