// Where a new node goes: where it was dropped, kept inside the visible canvas (never under the
// palette or past an edge), and moved down or right to the nearest free spot when it would
// cover a card already there. Everything here is in flow coordinates.
import type { XY } from "../types";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The space kept between a placed card and the cards around it. */
export const PLACE_GAP = 30;

/** Only the cards nearest the wanted spot offer candidate spots: enough for any real canvas. */
const NEAREST = 60;

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}

/** The box moved the least to lie inside ``view`` (its top-left corner inside when it cannot fit). */
export function keepInside(box: Rect, view: Rect): XY {
  return {
    x: clamp(box.x, view.x, Math.max(view.x, view.x + view.width - box.width)),
    y: clamp(box.y, view.y, Math.max(view.y, view.y + view.height - box.height)),
  };
}

function near(a: Rect, b: Rect, gap: number): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

/**
 * The spot nearest ``box`` (moving only right and down) where it keeps ``gap`` from every card in
 * ``taken``; among those, the nearest that also lies inside ``view`` when there is one. A free
 * spot either is the box's own corner or lines up with the right or bottom edge of a card (plus
 * the gap), so those are the only candidates.
 */
export function freeSpot(box: Rect, taken: Rect[], view?: Rect, gap = PLACE_GAP): XY {
  // Cards wholly left of or above the box can never be in the way of a move right or down.
  const inWay = taken.filter((t) => t.x + t.width + gap > box.x && t.y + t.height + gap > box.y);
  const free = (x: number, y: number) => !inWay.some((t) => near({ ...box, x, y }, t, gap));
  if (free(box.x, box.y)) return { x: box.x, y: box.y };
  const distance = (t: Rect) => Math.hypot(Math.max(0, t.x - box.x), Math.max(0, t.y - box.y));
  const nearest = [...inWay].sort((a, b) => distance(a) - distance(b)).slice(0, NEAREST);
  const xs = [box.x, ...nearest.map((t) => t.x + t.width + gap).filter((x) => x > box.x)];
  const ys = [box.y, ...nearest.map((t) => t.y + t.height + gap).filter((y) => y > box.y)];
  const candidates: XY[] = [];
  for (const x of new Set(xs)) for (const y of new Set(ys)) candidates.push({ x, y });
  candidates.sort((a, b) => Math.hypot(a.x - box.x, a.y - box.y) - Math.hypot(b.x - box.x, b.y - box.y));
  const fits = (p: XY) => !view || (p.x + box.width <= view.x + view.width && p.y + box.height <= view.y + view.height);
  let fallback: XY | null = null;
  for (const p of candidates) {
    if (!free(p.x, p.y)) continue;
    if (fits(p)) return p;
    fallback ??= p;
  }
  // Right of every card in the way there is always room.
  return fallback ?? { x: Math.max(...inWay.map((t) => t.x + t.width + gap)), y: box.y };
}

/** A dropped card's place: inside the view, then clear of the cards already there. */
export function placeDropped(box: Rect, taken: Rect[], view: Rect, gap = PLACE_GAP): XY {
  const inside = { ...box, ...keepInside(box, view) };
  return freeSpot(inside, taken, view, gap);
}
