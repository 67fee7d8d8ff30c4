// The view that fits the whole graph: a margin all round, never closer than 1:1 (one or two
// cards would otherwise fill the screen), and no card or group frame under the panels in the
// canvas's bottom corners (the minimap on the right, the zoom buttons on the left).
//
// The graph's bounding box is seldom full in its corners, so the view first tries the plain
// fit, moved within its margins until nothing lies under a panel, and only then zooms out a
// little at a time. Past that (or for big graphs) it keeps a whole strip clear, beside or
// below the graph, whichever leaves the graph bigger.
import { getViewportForBounds, type Rect, type Viewport } from "@xyflow/react";

export const FIT_MARGIN = 0.12; // as React Flow reads a padding number: a share of the view
export const FIT_MAX_ZOOM = 1;
const ZOOM_STEP = 0.97; // each try zooms out by 3%
const MOST_BOXES = 80; // above this, the search costs more than it is worth: keep a strip clear

export interface Size {
  width: number;
  height: number;
}

function margin(length: number): number {
  return Math.floor((length - length / (1 + FIT_MARGIN)) * 0.5);
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

const px = (n: number) => `${Math.ceil(n)}px` as const;

/** The fit that keeps a whole strip clear of the panels: beside the graph or below it. */
function stripFit(bounds: Rect, view: Size, panels: Rect[], minZoom: number, maxZoom: number): Viewport {
  const mx = margin(view.width);
  const my = margin(view.height);
  const onLeft = panels.filter((p) => p.x + p.width / 2 < view.width / 2);
  const onRight = panels.filter((p) => p.x + p.width / 2 >= view.width / 2);
  const beside = getViewportForBounds(bounds, view.width, view.height, minZoom, maxZoom, {
    top: px(my), bottom: px(my),
    left: px(Math.max(mx, ...onLeft.map((p) => p.x + p.width))),
    right: px(Math.max(mx, ...onRight.map((p) => view.width - p.x))),
  });
  const below = getViewportForBounds(bounds, view.width, view.height, minZoom, maxZoom, {
    top: px(my), left: px(mx), right: px(mx), bottom: px(Math.max(my, ...panels.map((p) => view.height - p.y))),
  });
  return below.zoom > beside.zoom ? below : beside;
}

/**
 * The viewport showing ``bounds`` (the graph, in flow coordinates) in a canvas of ``view``
 * pixels, with no box of ``boxes`` (cards and frames, flow coordinates) under a panel of
 * ``panels`` (canvas pixels, with the room to keep around them).
 */
export function fitViewport(
  bounds: Rect, view: Size, panels: Rect[] = [], boxes: Rect[] = [], minZoom = 0.15, maxZoom = FIT_MAX_ZOOM,
): Viewport {
  const strip = stripFit(bounds, view, panels, minZoom, maxZoom);
  if (!panels.length || !boxes.length || boxes.length > MOST_BOXES || !bounds.width || !bounds.height) return strip;
  const mx = margin(view.width);
  const my = margin(view.height);
  const plain = Math.min((view.width - 2 * mx) / bounds.width, (view.height - 2 * my) / bounds.height);
  for (let zoom = Math.max(minZoom, Math.min(plain, maxZoom)); zoom > strip.zoom; zoom *= ZOOM_STEP) {
    const at = clearPlace(bounds, view, panels, boxes, zoom, mx, my);
    if (at) return { x: at.x - bounds.x * zoom, y: at.y - bounds.y * zoom, zoom };
  }
  return strip;
}

/**
 * Where the graph's top-left corner can go at ``zoom`` (within the margins) so that no box lies
 * under a panel: the place nearest the centred one, or null. A box clears a panel by touching one
 * of its edges or more, so the candidates are the centre, the margins, and those touching places.
 */
function clearPlace(bounds: Rect, view: Size, panels: Rect[], boxes: Rect[], zoom: number, mx: number, my: number) {
  const width = bounds.width * zoom;
  const height = bounds.height * zoom;
  const [x0, x1] = width <= view.width - 2 * mx ? [mx, view.width - mx - width] : [(view.width - width) / 2, (view.width - width) / 2];
  const [y0, y1] = height <= view.height - 2 * my ? [my, view.height - my - height] : [(view.height - height) / 2, (view.height - height) / 2];
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  // Each box relative to the graph's top-left corner, in pixels.
  const rel = boxes.map((b) => ({ x: (b.x - bounds.x) * zoom, y: (b.y - bounds.y) * zoom, width: b.width * zoom, height: b.height * zoom }));
  const xs = new Set([cx, x0, x1]);
  const ys = new Set([cy, y0, y1]);
  for (const p of panels)
    for (const b of rel) {
      xs.add(p.x - b.x - b.width).add(p.x + p.width - b.x);
      ys.add(p.y - b.y - b.height).add(p.y + p.height - b.y);
    }
  const within = (v: number, lo: number, hi: number) => v >= lo - 0.5 && v <= hi + 0.5;
  const places: { x: number; y: number }[] = [];
  for (const x of xs) if (within(x, x0, x1)) for (const y of ys) if (within(y, y0, y1)) places.push({ x, y });
  places.sort((a, b) => Math.hypot(a.x - cx, a.y - cy) - Math.hypot(b.x - cx, b.y - cy));
  return places.find((at) => !rel.some((b) => panels.some((p) => overlaps({ ...b, x: b.x + at.x, y: b.y + at.y }, p)))) ?? null;
}
