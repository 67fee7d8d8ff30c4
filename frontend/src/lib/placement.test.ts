import { describe, expect, it } from "vitest";
import { freeSpot, keepInside, PLACE_GAP, placeDropped, type Rect } from "./placement";

const card = (x: number, y: number): Rect => ({ x, y, width: 240, height: 82 });

function clear(a: Rect, b: Rect, gap = PLACE_GAP): boolean {
  return a.x >= b.x + b.width + gap || b.x >= a.x + a.width + gap || a.y >= b.y + b.height + gap || b.y >= a.y + a.height + gap;
}

describe("placing a dropped node", () => {
  const view: Rect = { x: 0, y: 0, width: 1000, height: 600 };

  it("keeps it where it was dropped when nothing is there", () => {
    expect(placeDropped(card(300, 200), [card(0, 0), card(700, 400)], view)).toEqual({ x: 300, y: 200 });
  });

  it("keeps it inside the view, past the left edge (the palette) and the others", () => {
    expect(keepInside(card(-100, -30), view)).toEqual({ x: 0, y: 0 });
    expect(keepInside(card(900, 560), view)).toEqual({ x: 760, y: 518 });
    // A view narrower than the card: its left edge stays in view.
    expect(keepInside(card(-50, 0), { x: 0, y: 0, width: 100, height: 600 }).x).toBe(0);
  });

  it("moves it right or down to the nearest free spot when it would cover a card", () => {
    const taken = [card(300, 200)];
    const dropped = card(320, 210);
    const at = placeDropped(dropped, taken, view);
    expect(clear({ ...dropped, ...at }, taken[0])).toBe(true);
    expect(at.x >= dropped.x && at.y >= dropped.y).toBe(true);
    // below the card is nearer than right of it
    expect(at).toEqual({ x: 320, y: 200 + 82 + PLACE_GAP });
  });

  it("finds the gap between cards, and never lands on any of them", () => {
    const taken = [card(0, 0), card(0, 82 + 2 * PLACE_GAP + 82), card(300, 0), card(300, 120)];
    const dropped = card(10, 10);
    const at = freeSpot(dropped, taken, view);
    for (const t of taken) expect(clear({ ...dropped, ...at }, t)).toBe(true);
    expect(at).toEqual({ x: 10, y: 82 + PLACE_GAP });
  });

  it("prefers a free spot inside the view, and finds one outside when the view is full", () => {
    // Below the card is nearer, but out of a view 450 high: right of it is in view.
    expect(freeSpot(card(110, 310), [card(100, 300)], { x: 0, y: 0, width: 1000, height: 450 })).toEqual({ x: 100 + 240 + PLACE_GAP, y: 310 });
    expect(freeSpot(card(110, 310), [card(100, 300)], view)).toEqual({ x: 110, y: 300 + 82 + PLACE_GAP });
    const full = Array.from({ length: 40 }, (_, i) => card((i % 4) * 260, Math.floor(i / 4) * 102));
    const outside = freeSpot(card(0, 0), full, view);
    for (const t of full) expect(clear({ ...card(0, 0), ...outside }, t)).toBe(true);
  });

  it("stays quick with thousands of cards", () => {
    const many = Array.from({ length: 3000 }, (_, i) => card((i % 60) * 260, Math.floor(i / 60) * 102));
    const started = performance.now();
    const at = freeSpot(card(5, 5), many);
    expect(performance.now() - started).toBeLessThan(1000);
    for (const t of many) expect(clear({ ...card(5, 5), ...at }, t)).toBe(true);
  });
});
