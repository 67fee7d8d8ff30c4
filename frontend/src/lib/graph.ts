// Graph helpers the editor needs at edit time: port lookup, the connection check, ids.
import type { Catalog, ComponentDesc, Graph, GraphEdge, PortDesc } from "../types";

export interface ConnectionRequest {
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export type ConnectionVerdict =
  | { ok: true; replaces?: GraphEdge }
  | { ok: false; reason: "self" | "unknown" | "direction" | "cycle" }
  | { ok: false; reason: "incompatible"; sourceType: string; targetType: string };

export function componentIndex(catalog: Catalog | null): Map<string, ComponentDesc> {
  const map = new Map<string, ComponentDesc>();
  for (const c of catalog?.components ?? []) map.set(c.id, c);
  return map;
}

export function findPort(
  graph: Graph, catalog: Catalog | null, nodeId: string, port: string, side: "in" | "out",
): PortDesc | undefined {
  const node = graph.nodes.find((n) => n.id === nodeId);
  if (!node) return undefined;
  const comp = catalog?.components.find((c) => c.id === node.type);
  return (side === "in" ? comp?.inputs : comp?.outputs)?.find((p) => p.name === port);
}

/** Whether ``target`` can already reach ``source`` (then source -> target would close a cycle). */
export function reaches(graph: Graph, from: string, to: string): boolean {
  if (from === to) return true;
  const out = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (!out.has(e.source)) out.set(e.source, []);
    out.get(e.source)!.push(e.target);
  }
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const next of out.get(cur) ?? []) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}

export function compatible(catalog: Catalog | null, sourceType: string, targetType: string): boolean {
  const allowed = catalog?.compatible?.[targetType];
  if (!allowed) return sourceType === targetType;
  return allowed.includes(sourceType);
}

/** The editor's connection rule: the server's compatibility table, no cycles, one edge per input. */
export function checkConnection(graph: Graph, catalog: Catalog | null, c: ConnectionRequest): ConnectionVerdict {
  if (c.source === c.target) return { ok: false, reason: "self" };
  const out = findPort(graph, catalog, c.source, c.sourceHandle, "out");
  const inp = findPort(graph, catalog, c.target, c.targetHandle, "in");
  if (!out || !inp) {
    // Dragged from an input to an output (React Flow swaps them in loose mode) or a port vanished.
    if (findPort(graph, catalog, c.source, c.sourceHandle, "in") || findPort(graph, catalog, c.target, c.targetHandle, "out"))
      return { ok: false, reason: "direction" };
    return { ok: false, reason: "unknown" };
  }
  if (!compatible(catalog, out.type, inp.type))
    return { ok: false, reason: "incompatible", sourceType: out.type, targetType: inp.type };
  if (reaches(graph, c.target, c.source)) return { ok: false, reason: "cycle" };
  const replaces = graph.edges.find((e) => e.target === c.target && e.targetHandle === c.targetHandle);
  if (replaces && replaces.source === c.source && replaces.sourceHandle === c.sourceHandle) return { ok: true, replaces };
  return { ok: true, replaces };
}

export function edgeId(c: ConnectionRequest): string {
  return `${c.source}.${c.sourceHandle}->${c.target}.${c.targetHandle}`;
}

/** Edges as the editor holds them: one saved or sent without an id gets the id `edgeId` gives. */
export function withEdgeIds<E extends ConnectionRequest & { id?: string | null }>(edges: E[]): (E & { id: string })[] {
  return edges.map((e) => ({ ...e, id: e.id || edgeId(e) }));
}

/** A readable, unique node id from a component id: layers.Dense -> dense, dense_2, ... */
export function newNodeId(graph: Graph, componentId: string, taken: Set<string> = new Set()): string {
  const base = (componentId.split(".").pop() || "node")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_");
  const used = new Set([...graph.nodes.map((n) => n.id), ...taken]);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Nodes in topological order (Kahn); nodes in cycles come last in their given order. */
export function topoOrder(graph: Graph): string[] {
  const indeg = new Map<string, number>(graph.nodes.map((n) => [n.id, 0]));
  for (const e of graph.edges) if (indeg.has(e.target) && indeg.has(e.source)) indeg.set(e.target, indeg.get(e.target)! + 1);
  const queue = graph.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const e of graph.edges)
      if (e.source === id && indeg.has(e.target)) {
        indeg.set(e.target, indeg.get(e.target)! - 1);
        if (indeg.get(e.target) === 0) queue.push(e.target);
      }
  }
  for (const n of graph.nodes) if (!order.includes(n.id)) order.push(n.id);
  return order;
}

export function ancestors(graph: Graph, id: string): Set<string> {
  const result = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    for (const e of graph.edges)
      if (e.target === cur && !result.has(e.source)) {
        result.add(e.source);
        stack.push(e.source);
      }
  }
  return result;
}

/** The group whose frame contains a point (the smallest one, when frames nest). */
export function groupAt(graph: Graph, x: number, y: number): string | null {
  let best: { id: string; area: number } | null = null;
  for (const g of graph.groups) {
    if (x >= g.position.x && x <= g.position.x + g.width && y >= g.position.y && y <= g.position.y + g.height) {
      const area = g.width * g.height;
      if (!best || area < best.area) best = { id: g.id, area };
    }
  }
  return best?.id ?? null;
}
