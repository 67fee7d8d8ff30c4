// Automatic layout with ELK's layered algorithm. The top level (groups and loose nodes) flows
// left to right in execution order; inside a group the members flow top to bottom, as a card's
// inputs are on its top edge and its outputs on its bottom edge, and each group frame is sized
// to hold its members. Each connected part is laid out on its own, the parts one below the
// other, and nodes connected to nothing in a column to their right (see autoLayout). In the
// browser ELK runs in a web worker, so a big graph does not stall the editor.
import type { ELK, ElkExtendedEdge, ElkNode, ElkPort } from "elkjs/lib/elk-api";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { Catalog, Graph, GraphGroup, XY } from "../types";
import { topoOrder } from "./graph";
import { cardPorts, NODE_H, nodeSize, portPoint, type CardPorts } from "./nodeSize";

export { NODE_H, NODE_W } from "./nodeSize";

const GROUP_PADDING = "[top=56,left=40,bottom=40,right=40]"; // 56: room for the group's label
const NODE_GAP = "40"; // between cards, and between groups, in one layer
const LAYER_GAP = "60"; // between layers

const TOP_LEVEL = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.padding": "[top=0,left=0,bottom=0,right=0]",
  "elk.spacing.nodeNode": NODE_GAP,
  "elk.layered.spacing.nodeNodeBetweenLayers": LAYER_GAP,
  "elk.spacing.componentComponent": LAYER_GAP,
  // Ties are broken by the order the children are given in: execution order.
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};

const INSIDE_GROUP = {
  "elk.direction": "DOWN",
  "elk.padding": GROUP_PADDING,
  "elk.spacing.nodeNode": NODE_GAP,
  "elk.layered.spacing.nodeNodeBetweenLayers": NODE_GAP,
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};

// ELK keeps groups and nodes in one namespace, and ports too: these keys keep them apart.
const KEY_SEP = "\u0000";
const GROUP = `${KEY_SEP}group${KEY_SEP}`;

function groupKey(group: string): string {
  return GROUP + group;
}

let engine: Promise<ELK> | null = null;

/**
 * One ELK for the page, in a web worker. Tests (happy-dom has no workers) run it in this thread;
 * the build drops that branch, so the studio does not ship ELK twice.
 */
function elk(): Promise<ELK> {
  engine ??= import.meta.env.MODE === "test"
    ? import("elkjs/lib/elk.bundled.js").then(({ default: Elk }) => new Elk())
    : import("elkjs/lib/elk-api.js").then(({ default: Elk }) => new Elk({ workerUrl: elkWorkerUrl }));
  return engine;
}

/**
 * The graph laid out: new positions for every node, and group frames around their members.
 * Each connected part is laid out on its own and the parts are stacked top to bottom, across
 * the flow, so two chains never interleave and no edge runs behind a node it does not join;
 * nodes (and empty groups) connected to nothing stand aside, in a column right of the parts.
 */
export async function autoLayout(graph: Graph, catalog?: Catalog | null): Promise<Graph> {
  const { parts, aside } = connectedParts(elkGraph(graph, catalog));
  const engine = await elk();
  const laidOut = await Promise.all(parts.map((part) => engine.layout(part)));
  const nodes = new Map<string, XY>();
  const frames = new Map<string, ElkNode>();
  for (const child of packParts(laidOut, aside)) {
    if (child.id.startsWith(GROUP)) {
      frames.set(child.id, child);
      for (const member of child.children ?? []) nodes.set(member.id, { x: at(child.x) + at(member.x), y: at(child.y) + at(member.y) });
    } else {
      nodes.set(child.id, { x: at(child.x), y: at(child.y) });
    }
  }
  return {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, position: nodes.get(n.id) ?? n.position })),
    groups: graph.groups.map((g) => placedGroup(g, frames.get(groupKey(g.id)))),
  };
}

function at(v: number | undefined): number {
  return Math.round(v ?? 0);
}

const PART_GAP = 100; // between connected parts: wider than inside one, so two parts read as two
const ASIDE_GAP = 120; // between the parts and the column of unconnected nodes
const ASIDE_MIN_HEIGHT = 4 * NODE_H + 3 * Number(NODE_GAP); // a column of loose nodes holds at least four cards

/**
 * The top level split into connected parts, each an ELK graph of its own in execution order
 * (the order of its first box), and the boxes that connect to nothing, kept aside.
 */
function connectedParts(root: ElkNode): { parts: ElkNode[]; aside: ElkNode[] } {
  const children = root.children ?? [];
  const edges = root.edges ?? [];
  const parent = new Map(children.map((c) => [c.id, c.id]));
  const find = (id: string): string => {
    let r = id;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(id, r);
    return r;
  };
  const linked = new Set<string>();
  for (const e of edges) {
    const [a, b] = [find(e.sources[0]), find(e.targets[0])];
    linked.add(e.sources[0]).add(e.targets[0]);
    if (a !== b) parent.set(b, a);
  }
  const byRoot = new Map<string, ElkNode[]>();
  const aside: ElkNode[] = [];
  for (const child of children) {
    // A group with members is a part of its own even when nothing enters or leaves it.
    if (!linked.has(child.id) && !child.children?.length) aside.push(child);
    else {
      const r = find(child.id);
      if (!byRoot.has(r)) byRoot.set(r, []);
      byRoot.get(r)!.push(child);
    }
  }
  const parts = [...byRoot.values()].map((members, i) => {
    const ids = new Set(members.map((m) => m.id));
    return {
      id: `root${KEY_SEP}${i}`, layoutOptions: TOP_LEVEL, children: members,
      edges: edges.filter((e) => ids.has(e.sources[0])),
    };
  });
  return { parts, aside };
}

/**
 * The laid-out parts one below the other (each moved to x = 0), then the unconnected boxes in
 * columns to their right, as tall as the parts (wrapping into a new column when taller).
 */
function packParts(parts: ElkNode[], aside: ElkNode[]): ElkNode[] {
  const placed: ElkNode[] = [];
  let top = 0;
  let right = 0;
  for (const part of parts) {
    const children = part.children ?? [];
    const x0 = Math.min(...children.map((c) => c.x ?? 0));
    const y0 = Math.min(...children.map((c) => c.y ?? 0));
    const bottom = Math.max(...children.map((c) => (c.y ?? 0) + (c.height ?? 0)));
    for (const c of children) {
      placed.push({ ...c, x: (c.x ?? 0) - x0, y: (c.y ?? 0) - y0 + top });
      right = Math.max(right, (c.x ?? 0) - x0 + (c.width ?? 0));
    }
    top += bottom - y0 + PART_GAP;
  }
  const limit = Math.max(top - PART_GAP, ASIDE_MIN_HEIGHT);
  let x = parts.length ? right + ASIDE_GAP : 0;
  let y = 0;
  let column = 0;
  for (const box of aside) {
    if (y > 0 && y + (box.height ?? 0) > limit) {
      x += column + Number(NODE_GAP);
      y = 0;
      column = 0;
    }
    placed.push({ ...box, x, y });
    y += (box.height ?? 0) + Number(NODE_GAP);
    column = Math.max(column, box.width ?? 0);
  }
  return placed;
}

function placedGroup(group: GraphGroup, frame: ElkNode | undefined): GraphGroup {
  if (!frame) return group;
  const position = { x: at(frame.x), y: at(frame.y) };
  // A group without members keeps its size; one with members fits them.
  if (!frame.children?.length) return { ...group, position };
  return { ...group, position, width: at(frame.width), height: at(frame.height) };
}

/**
 * The graph as ELK reads it: groups are compound nodes holding their members and the edges
 * between them; an edge that leaves a group joins the two top-level boxes it connects.
 */
function elkGraph(graph: Graph, catalog?: Catalog | null): ElkNode {
  const ports = cardPorts(graph, catalog);
  const groupIds = new Set(graph.groups.map((g) => g.id));
  const groupOf = new Map(graph.nodes.map((n) => [n.id, n.group && groupIds.has(n.group) ? n.group : null]));
  const boxOf = (id: string) => {
    const group = groupOf.get(id);
    return group ? groupKey(group) : id;
  };
  const rank = new Map(topoOrder(graph).map((id, i) => [id, i]));
  const inOrder = [...graph.nodes].sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);

  const groups: ElkNode[] = graph.groups.map((g) => ({
    id: groupKey(g.id),
    layoutOptions: INSIDE_GROUP,
    width: g.width,
    height: g.height,
    children: inOrder.filter((n) => groupOf.get(n.id) === g.id).map((n) => card(n.id, ports.get(n.id)!)),
    edges: graph.edges
      .filter((e) => groupOf.get(e.source) === g.id && groupOf.get(e.target) === g.id)
      .map((e) => ({ id: e.id, sources: [portId(e.source, "out", e.sourceHandle)], targets: [portId(e.target, "in", e.targetHandle)] })),
  }));
  const loose = inOrder.filter((n) => groupOf.get(n.id) === null).map((n) => ({ id: n.id, ...nodeSize(ports.get(n.id)) }));
  // Groups and loose nodes come in execution order (a group at its first member's); empty groups last.
  const firstRank = (box: ElkNode) => box.id.startsWith(GROUP)
    ? Math.min(Number.MAX_SAFE_INTEGER, ...(box.children ?? []).map((c) => rank.get(c.id)!))
    : rank.get(box.id)!;
  const children = [...groups, ...loose].sort((a, b) => firstRank(a) - firstRank(b));

  const between = new Map<string, ElkExtendedEdge>();
  for (const e of graph.edges) {
    const [from, to] = [boxOf(e.source), boxOf(e.target)];
    if (from !== to) between.set(`${from}>${to}`, { id: `${KEY_SEP}${from}>${to}`, sources: [from], targets: [to] });
  }
  return { id: "root", layoutOptions: TOP_LEVEL, children, edges: [...between.values()] };
}

/** A card with its ports fixed where NodeCard draws them: inputs on top, outputs below. */
function card(id: string, ports: CardPorts): ElkNode {
  const place = (side: "in" | "out", name: string): ElkPort => {
    const p = portPoint(ports, side, name);
    return {
      id: portId(id, side, name), x: p.x, y: p.y, width: 0, height: 0,
      layoutOptions: { "elk.port.side": side === "in" ? "NORTH" : "SOUTH" },
    };
  };
  return {
    id,
    ...nodeSize(ports),
    layoutOptions: { "elk.portConstraints": "FIXED_POS" },
    ports: [...ports.inputs.map((name) => place("in", name)), ...ports.outputs.map((name) => place("out", name))],
  };
}

function portId(node: string, side: "in" | "out", name: string): string {
  return `${node}${KEY_SEP}${side}${KEY_SEP}${name}`;
}
