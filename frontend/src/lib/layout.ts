// Automatic layout: each group becomes a column block of its members in execution order,
// blocks are packed into columns left to right, and group frames are resized to fit.
import type { Graph } from "../types";
import { topoOrder } from "./graph";

export const NODE_W = 240;
export const NODE_H = 100;
const PAD_X = 40;
const HEAD = 56; // room for the group's label above its first node
const GAP_Y = 40; // between nodes in a block
const BLOCK_GAP = 60; // between blocks in a column
const COL_GAP = 60;

interface Block {
  group: string | null;
  members: string[];
  height: number;
}

export function autoLayout(graph: Graph): Graph {
  const order = topoOrder(graph);
  const rank = new Map(order.map((id, i) => [id, i]));
  const groupIds = new Set(graph.groups.map((g) => g.id));
  const blocks = new Map<string | null, Block>();
  for (const id of order) {
    const node = graph.nodes.find((n) => n.id === id)!;
    const key = node.group && groupIds.has(node.group) ? node.group : null;
    if (!blocks.has(key)) blocks.set(key, { group: key, members: [], height: 0 });
    blocks.get(key)!.members.push(id);
  }
  const list = [...blocks.values()].sort(
    (a, b) => Math.min(...a.members.map((m) => rank.get(m)!)) - Math.min(...b.members.map((m) => rank.get(m)!)),
  );
  for (const b of list) b.height = HEAD + b.members.length * NODE_H + (b.members.length - 1) * GAP_Y + 40;
  const maxHeight = Math.max(0, ...list.map((b) => b.height));

  const positions = new Map<string, { x: number; y: number }>();
  const frames = new Map<string, { x: number; y: number; w: number; h: number }>();
  const colW = NODE_W + 2 * PAD_X;
  let col = 0;
  let y = 0;
  for (const b of list) {
    if (y > 0 && y + b.height > maxHeight) {
      col += 1;
      y = 0;
    }
    const x = col * (colW + COL_GAP);
    b.members.forEach((id, i) => positions.set(id, { x: x + PAD_X, y: y + HEAD + i * (NODE_H + GAP_Y) }));
    if (b.group) frames.set(b.group, { x, y, w: colW, h: b.height });
    y += b.height + BLOCK_GAP;
  }
  // Groups without members keep their size and go to a last column.
  let emptyY = 0;
  const emptyX = (col + 1) * (colW + COL_GAP);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position })),
    groups: graph.groups.map((g) => {
      const f = frames.get(g.id);
      if (f) return { ...g, position: { x: f.x, y: f.y }, width: f.w, height: f.h };
      const moved = { ...g, position: { x: emptyX, y: emptyY } };
      emptyY += g.height + BLOCK_GAP;
      return moved;
    }),
  };
}
