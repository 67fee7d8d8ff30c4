// The size of a node card and where its ports sit, in one place for the automatic layout and
// the gallery previews. The figures follow NodeCard.tsx and the .node-card rules in styles.css:
// an optional row of inputs on the top edge, the head, the sub line, an optional row of outputs
// on the bottom edge. The heights are what Chromium lays the cards out at: 82px with both
// port rows, 71px with outputs only.
import type { Catalog, Graph } from "../types";

export const NODE_W = 240; // .node-card width
const BORDER = 2; // 1px above and below
const PORT_ROW = 17; // .ports height
const HEAD = 28; // .node-head: 8px padding, the 18px state pill, 2px padding
const HEAD_BELOW_INPUTS = 22; // .ports-in + .node-head: 2px top padding instead of 8px
const SUB = 24; // .node-sub: a line of 11px text and 7px padding below it (measured in Chromium)

/** The height of a card with a row of inputs and a row of outputs, the usual case. */
export const NODE_H = BORDER + PORT_ROW + HEAD_BELOW_INPUTS + SUB + PORT_ROW;

/** A card's ports by name, in the order they are drawn from left to right. */
export interface CardPorts {
  inputs: string[];
  outputs: string[];
}

export interface Size {
  width: number;
  height: number;
}

/** A card's size; without its ports known, the size of a card with both port rows. */
export function nodeSize(ports?: CardPorts): Size {
  if (!ports) return { width: NODE_W, height: NODE_H };
  const hasIn = ports.inputs.length > 0;
  const hasOut = ports.outputs.length > 0;
  const height = BORDER + (hasIn ? PORT_ROW + HEAD_BELOW_INPUTS : HEAD) + SUB + (hasOut ? PORT_ROW : 0);
  return { width: NODE_W, height };
}

/** Where a port's handle sits, from the card's top-left corner: spread evenly along its edge. */
export function portPoint(ports: CardPorts, side: "in" | "out", name: string): { x: number; y: number } {
  const row = side === "in" ? ports.inputs : ports.outputs;
  const index = Math.max(0, row.indexOf(name));
  const x = ((index + 0.5) / Math.max(1, row.length)) * NODE_W;
  return { x, y: side === "in" ? 0 : nodeSize(ports).height };
}

/**
 * Every node's ports: its component's ports where the catalog is at hand, else the ports its
 * edges use (a gallery preview has no catalog), in the order the edges name them.
 */
export function cardPorts(graph: Graph, catalog?: Catalog | null): Map<string, CardPorts> {
  const components = new Map((catalog?.components ?? []).map((c) => [c.id, c]));
  const ports = new Map<string, CardPorts>();
  for (const node of graph.nodes) {
    const comp = components.get(node.type);
    ports.set(node.id, {
      inputs: comp ? comp.inputs.map((p) => p.name) : [],
      outputs: comp ? comp.outputs.map((p) => p.name) : [],
    });
  }
  for (const e of graph.edges) {
    addMissing(ports.get(e.source)?.outputs, e.sourceHandle);
    addMissing(ports.get(e.target)?.inputs, e.targetHandle);
  }
  return ports;
}

function addMissing(row: string[] | undefined, name: string) {
  if (row && !row.includes(name)) row.push(name);
}
