import { describe, expect, it } from "vitest";
import { FIT_MAX_ZOOM, fitViewport } from "./fit";

interface Rect { x: number; y: number; width: number; height: number }

const view = { width: 1000, height: 600 };
const minimap = { x: 1000 - 15 - 200 - 12, y: 600 - 15 - 150 - 12, width: 224, height: 174 }; // bottom right, with room
const zoomButtons = { x: 3, y: 600 - 15 - 80 - 12, width: 50, height: 104 }; // bottom left

function union(boxes: Rect[]): Rect {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  return { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x, height: Math.max(...boxes.map((b) => b.y + b.height)) - y };
}

function onScreen(b: Rect, vp: { x: number; y: number; zoom: number }): Rect {
  return { x: b.x * vp.zoom + vp.x, y: b.y * vp.zoom + vp.y, width: b.width * vp.zoom, height: b.height * vp.zoom };
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function inView(b: Rect): boolean {
  return b.x >= 0 && b.y >= 0 && b.x + b.width <= view.width && b.y + b.height <= view.height;
}

/** Columns of cards, like the template's groups: the first tall, the last short. */
function columns(heights: number[]): Rect[] {
  return heights.flatMap((n, col) => Array.from({ length: n }, (_, row) => ({ x: col * 300, y: row * 130, width: 240, height: 82 })));
}

describe("fitting the graph in view", () => {
  it("never zooms past 1:1, so one card does not fill the screen", () => {
    const card = { x: 40, y: 60, width: 240, height: 82 };
    const vp = fitViewport(card, view, [minimap], [card]);
    expect(vp.zoom).toBe(FIT_MAX_ZOOM);
    expect(inView(onScreen(card, vp))).toBe(true);
    expect(overlaps(onScreen(card, vp), minimap)).toBe(false);
  });

  it("keeps the plain fit when the graph's corner under the minimap is empty, moved a little if need be", () => {
    const boxes = columns([5, 2, 2, 2]); // the bottom right of the bounds is empty
    const bounds = union(boxes);
    const vp = fitViewport(bounds, view, [minimap, zoomButtons], boxes);
    const plain = Math.min((view.width - 2 * 53) / bounds.width, (view.height - 2 * 32) / bounds.height);
    expect(vp.zoom).toBeCloseTo(plain, 2);
    for (const b of boxes) {
      expect(overlaps(onScreen(b, vp), minimap)).toBe(false);
      expect(overlaps(onScreen(b, vp), zoomButtons)).toBe(false);
      expect(inView(onScreen(b, vp))).toBe(true);
    }
  });

  it("zooms out only as far as it must when a card sits in the corner", () => {
    const boxes = columns([4, 4, 4, 4]); // a full grid: its bottom right card is in the corner
    const bounds = union(boxes);
    const vp = fitViewport(bounds, view, [minimap], boxes);
    for (const b of boxes) {
      expect(overlaps(onScreen(b, vp), minimap)).toBe(false);
      expect(inView(onScreen(b, vp))).toBe(true);
    }
    // Better than keeping a whole strip beside or below the graph clear.
    const strip = fitViewport(bounds, view, [minimap], []);
    expect(vp.zoom).toBeGreaterThanOrEqual(strip.zoom);
    expect(overlaps(onScreen(bounds, strip), minimap)).toBe(false);
  });

  it("keeps a strip clear for a big graph", () => {
    const boxes = columns([30, 30, 30]);
    const bounds = union(boxes);
    const vp = fitViewport(bounds, view, [minimap, zoomButtons], boxes);
    expect(overlaps(onScreen(bounds, vp), minimap)).toBe(false);
    expect(overlaps(onScreen(bounds, vp), zoomButtons)).toBe(false);
  });
});
