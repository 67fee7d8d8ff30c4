import { describe, expect, it } from "vitest";
import type { ReactFlowState } from "@xyflow/react";
import { cardAt } from "./OverviewLayer";

type Fake = { id: string; type: string; x: number; y: number; width: number; height: number; hidden?: boolean };

function state(nodes: Fake[]): ReactFlowState {
  const lookup = new Map(nodes.map((n) => [n.id, {
    id: n.id, type: n.type, hidden: n.hidden, measured: { width: n.width, height: n.height },
    internals: { positionAbsolute: { x: n.x, y: n.y } },
  }]));
  return { nodeLookup: lookup } as unknown as ReactFlowState;
}

describe("cardAt (clicks on the overview's drawn cards)", () => {
  const s = state([
    { id: "group:g", type: "frame", x: -50, y: -50, width: 800, height: 800 },
    { id: "a", type: "component", x: 0, y: 0, width: 240, height: 90 },
    { id: "b", type: "component", x: 100, y: 50, width: 240, height: 90 }, // drawn after a, over it
    { id: "gone", type: "component", x: 500, y: 500, width: 240, height: 90, hidden: true },
  ]);

  it("finds the card under a point, the top-most where cards overlap", () => {
    expect(cardAt(s, 10, 10)).toBe("a");
    expect(cardAt(s, 150, 60)).toBe("b");
    expect(cardAt(s, 330, 130)).toBe("b");
  });

  it("ignores group frames, hidden nodes and empty space", () => {
    expect(cardAt(s, 600, 300)).toBeNull(); // inside the frame only
    expect(cardAt(s, 550, 520)).toBeNull(); // a hidden card
    expect(cardAt(s, -100, -100)).toBeNull();
  });
});
