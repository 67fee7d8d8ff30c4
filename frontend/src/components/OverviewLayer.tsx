// The overview of a big graph: zoomed out, its cards and connections are drawn on ONE canvas
// (as LiteGraph/ComfyUI draws every node, and as our MiniMap does), and React Flow's DOM cards
// and SVG edges are hidden (the `overview` class on the canvas wrapper, see styles.css).
// Why: with software raster Chromium re-layers every composited frame of a pan, and that cost
// grows with the number of DOM cards on screen (~1 ms with 16 cards, 11-16 ms with ~300), so
// hundreds of visible cards kept a 2,000-node graph well under 50 frames a second. The canvas
// is painted for the view plus half a view on each side and moved by the compositor while the
// view pans inside that region; it is painted again only when the zoom, the nodes, the edges,
// the pane's size or the language change, or the view leaves the painted region.
// In this mode a click on a drawn card selects it (Ctrl/Cmd adds to the selection), a double
// click zooms to it (the DOM cards come back past the zoom threshold), a right click opens its
// menu; dragging pans, as on the empty pane; zoom in to move or connect cards.
import { memo, useEffect, useRef, type RefObject } from "react";
import { Position, useReactFlow, useStoreApi, type InternalNode, type ReactFlowState } from "@xyflow/react";
import { nodeTitle, useLang } from "../i18n";
import type { CardNode, TypedEdgeType } from "../lib/canvasElements";
import { useEditor } from "../store/editor";
import type { Lang } from "../types";
import { categoryColor, portColor } from "./common";

/** Graphs with fewer nodes than this keep their DOM cards at every zoom (cheap enough, and draggable). */
export const OVERVIEW_MIN_NODES = 100;

const MARGIN = 0.5; // painted around the view, as a share of the pane's size on each side
const MIN_MARGIN = 0.1; // ... at least, on a big high-density screen
const MAX_PIXELS = 16e6; // the canvas's backing store at most (64 MB), whatever the screen
const CARD_FILL = "#1a202b";
const CARD_BORDER = "#2e3748";
const SELECTED = "#7b95ff";
const BAD = "#ff4d5e";
const TITLE = "#e6eaf2";
const TITLE_FONT_PX = 13;
const MIN_TEXT_PX = 4; // titles smaller than this on screen are not drawn
const RADIUS = 12;
const HEAD_Y = 34; // baseline of the title below a card's top, when the card has inputs (else 24)
/** The state's colour (the state pills' text colours); idle draws nothing. */
const STATE_COLORS: Record<string, string> = {
  stale: "#f5b55e", queued: "#c2c9d6", running: "#aebfff", cached: "#5fe0d2", done: "#62d896", failed: "#ff8591",
  cancelled: "#aab2c0",
};
const STATE_BORDERS: Record<string, string> = { running: "rgba(91,124,255,0.8)", failed: "rgba(255,77,94,0.7)" };

type Box = { x: number; y: number; width: number; height: number };
/** What the canvas shows: the transform it was painted at and the state it was painted from. */
type Painted = {
  tx: number; ty: number; zoom: number; width: number; height: number;
  nodes: ReactFlowState["nodes"]; edges: ReactFlowState["edges"]; lookup: ReactFlowState["nodeLookup"];
};

function isCard(n: InternalNode): boolean {
  return n.type === "component";
}

function boxOf(n: InternalNode): Box {
  const { x, y } = n.internals.positionAbsolute;
  return { x, y, width: n.measured?.width ?? n.width ?? 0, height: n.measured?.height ?? n.height ?? 0 };
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The share of the pane painted on each side of the view: less on a big high-density screen. */
function marginFor(width: number, height: number): number {
  const ratio = window.devicePixelRatio || 1;
  const most = Math.sqrt(MAX_PIXELS / (width * height * ratio * ratio)); // (1 + 2 * margin) at most
  return Math.max(MIN_MARGIN, Math.min(MARGIN, (most - 1) / 2));
}

/** The top-most card under a point in flow coordinates (the last one drawn there), or null. */
export function cardAt(s: ReactFlowState, x: number, y: number): string | null {
  let hit: string | null = null;
  for (const n of s.nodeLookup.values()) {
    if (n.hidden || !isCard(n)) continue;
    const b = boxOf(n);
    if (x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height) hit = n.id;
  }
  return hit;
}

/**
 * Where a handle's connection starts or ends (``centre``: the middle of its dot), in flow
 * coordinates, from its measured box, else the card's estimate.
 */
function handlePoint(n: InternalNode, kind: "source" | "target", id: string | null | undefined, centre = false): { x: number; y: number } {
  const { x, y } = n.internals.positionAbsolute;
  const handles = n.internals.handleBounds?.[kind] ?? n.handles?.filter((h) => h.type === kind) ?? [];
  const h = handles.find((b) => b.id === id) ?? handles[0];
  const b = boxOf(n);
  if (!h) return { x: x + b.width / 2, y: kind === "source" ? y + b.height : y };
  const bottom = (h.position ?? (kind === "source" ? Position.Bottom : Position.Top)) === Position.Bottom;
  const dy = centre ? (h.height ?? 0) / 2 : bottom ? h.height ?? 0 : 0;
  return { x: x + h.x + (h.width ?? 0) / 2, y: y + h.y + dy };
}

/** React Flow's bezier control offset (getBezierPath, curvature 0.35, as TypedEdge draws). */
function controlOffset(distance: number): number {
  return distance >= 0 ? 0.5 * distance : 0.35 * 25 * Math.sqrt(-distance);
}

const titleCache = new Map<string, string>();

/** The title cut with an ellipsis to fit ``room`` (flow pixels), measured once per text. */
function fitted(g: CanvasRenderingContext2D, text: string, room: number): string {
  const key = `${room}\u0000${text}`;
  let cut = titleCache.get(key);
  if (cut !== undefined) return cut;
  cut = text;
  if (g.measureText(cut).width > room) {
    while (cut.length > 1 && g.measureText(`${cut}…`).width > room) cut = cut.slice(0, -1);
    cut = `${cut}…`;
  }
  if (titleCache.size > 5000) titleCache.clear();
  titleCache.set(key, cut);
  return cut;
}

function add(paths: Map<string, Path2D>, color: string): Path2D {
  let p = paths.get(color);
  if (!p) paths.set(color, (p = new Path2D()));
  return p;
}

/**
 * Paints the cards and connections that meet the region the canvas covers; ``left``/``top`` is
 * the pane point of the canvas's top-left corner at this transform. Shapes of one colour go in
 * one path, so a few hundred cards cost a few dozen fills and strokes.
 */
function paint(el: HTMLCanvasElement, s: ReactFlowState, size: { width: number; height: number },
  left: number, top: number, lang: Lang, font: string): number {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.ceil(size.width * ratio), h = Math.ceil(size.height * ratio);
  if (el.width !== w || el.height !== h) {
    el.width = w;
    el.height = h;
    el.style.width = `${size.width}px`;
    el.style.height = `${size.height}px`;
  }
  const g = el.getContext("2d");
  if (!g) return 0;
  const [tx, ty, zoom] = s.transform;
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, w, h);
  // flow -> canvas pixels: (flow * zoom + translate - corner) * ratio
  g.setTransform(ratio * zoom, 0, 0, ratio * zoom, ratio * (tx - left), ratio * (ty - top));
  const region = { x: (left - tx) / zoom, y: (top - ty) / zoom, width: size.width / zoom, height: size.height / zoom };
  const px = 1 / zoom; // one screen pixel, in flow units

  const cards: InternalNode[] = [];
  for (const n of s.nodeLookup.values()) if (!n.hidden && isCard(n) && overlaps(boxOf(n), region)) cards.push(n);

  // Connections, under the cards, one path per colour.
  const strokes = new Map<string, Path2D>();
  const wide = new Map<string, Path2D>();
  for (const e of s.edges as TypedEdgeType[]) {
    if (e.hidden) continue;
    const a = s.nodeLookup.get(e.source), b = s.nodeLookup.get(e.target);
    if (!a || !b) continue;
    const p = handlePoint(a, "source", e.sourceHandle), q = handlePoint(b, "target", e.targetHandle);
    const box = { x: Math.min(p.x, q.x) - 40, y: Math.min(p.y, q.y) - 40, width: Math.abs(p.x - q.x) + 80, height: Math.abs(p.y - q.y) + 80 };
    if (!overlaps(box, region)) continue;
    const color = e.data?.bad ? BAD : portColor(e.data?.type ?? "");
    const path = add(e.selected || e.data?.bad ? wide : strokes, color);
    const c = controlOffset(q.y - p.y);
    path.moveTo(p.x, p.y);
    path.bezierCurveTo(p.x, p.y + c, q.x, q.y - c, q.x, q.y);
  }
  g.globalAlpha = 0.75;
  g.lineWidth = Math.max(2, 1.5 * px);
  for (const [color, path] of strokes) {
    g.strokeStyle = color;
    g.stroke(path);
  }
  g.globalAlpha = 1;
  g.lineWidth = Math.max(3, 2.5 * px);
  for (const [color, path] of wide) {
    g.strokeStyle = color;
    g.stroke(path);
  }

  // Card bodies, borders (selection, issues, run state), category stripes, ports.
  const bodies = new Path2D();
  const borders = new Map<string, Path2D>();
  const stripes = new Map<string, Path2D>();
  const ports = new Map<string, Path2D>();
  const dots = new Map<string, Path2D>();
  const portR = Math.max(5.5, 2 * px); // the DOM handle's radius, at least 2 screen pixels
  for (const n of cards) {
    const { x, y, width, height } = boxOf(n);
    const { node, component, status, issues } = (n.internals.userNode as CardNode).data;
    bodies.roundRect(x, y, width, height, RADIUS);
    const border = n.selected ? SELECTED : issues.length ? BAD : STATE_BORDERS[status.state] ?? CARD_BORDER;
    add(borders, border).roundRect(x, y, width, height, RADIUS);
    add(stripes, categoryColor(component?.category ?? node.type.split(".")[0])).roundRect(x, y, width, 4, [RADIUS, RADIUS, 0, 0]);
    for (const kind of ["target", "source"] as const)
      for (const port of kind === "target" ? component?.inputs ?? [] : component?.outputs ?? []) {
        const p = handlePoint(n, kind, port.name, true);
        const path = add(ports, portColor(port.type));
        path.moveTo(p.x + portR, p.y);
        path.arc(p.x, p.y, portR, 0, 2 * Math.PI);
      }
    const stateColor = STATE_COLORS[status.state];
    if (stateColor) {
      const r = Math.max(6, 3 * px), cx = x + width - 18, cy = y + (component?.inputs.length ? HEAD_Y : 24) - 5;
      add(dots, stateColor).moveTo(cx + r, cy);
      dots.get(stateColor)!.arc(cx, cy, r, 0, 2 * Math.PI);
    }
  }
  g.fillStyle = CARD_FILL;
  g.fill(bodies);
  for (const [color, path] of stripes) {
    g.fillStyle = color;
    g.fill(path);
  }
  for (const [color, path] of borders) {
    g.strokeStyle = color;
    g.lineWidth = color === CARD_BORDER ? px : 2.5 * px;
    g.stroke(path);
  }
  for (const [color, path] of [...ports, ...dots]) {
    g.fillStyle = color;
    g.fill(path);
  }

  // Titles, when they would be at least a few pixels tall.
  if (TITLE_FONT_PX * zoom >= MIN_TEXT_PX) {
    g.font = `600 ${TITLE_FONT_PX}px ${font}`;
    g.fillStyle = TITLE;
    g.textBaseline = "alphabetic";
    for (const n of cards) {
      const { x, y, width } = boxOf(n);
      const { node, component } = (n.internals.userNode as CardNode).data;
      const title = nodeTitle(node.label, component, lang, node.type);
      g.fillText(fitted(g, title, width - 50), x + 12, y + (component?.inputs.length ? HEAD_Y : 24));
    }
  }
  return cards.length;
}

export interface OverviewProps {
  /** The canvas wrapper: it gets the ``overview`` class while the layer draws the cards. */
  wrapper: RefObject<HTMLDivElement | null>;
  /** Below this zoom (with OVERVIEW_MIN_NODES nodes or more) the layer draws the graph. */
  belowZoom: number;
  /** A right click on a drawn card (the canvas opens its menu). */
  onCardMenu?: (e: MouseEvent, id: string) => void;
}

export const OverviewLayer = memo(function OverviewLayer({ wrapper, belowZoom, onCardMenu }: OverviewProps) {
  const store = useStoreApi();
  const rf = useReactFlow();
  const lang = useLang((s) => s.lang);
  const canvas = useRef<HTMLCanvasElement>(null);
  const active = useRef(false);
  const menu = useRef(onCardMenu);
  menu.current = onCardMenu;

  // Follow the store: switch the mode at the threshold, paint when needed, else move the layer.
  useEffect(() => {
    let painted: Painted | null = null;
    let paints = 0;
    const font = getComputedStyle(document.body).fontFamily || "sans-serif";
    let pending = 0; // a paint waiting for the next animation frame
    // A paint waits for the next frame (it still lands before that frame is drawn): the store
    // changes nodes and edges in separate updates, and a wheel sends several zooms per frame.
    const follow = (s: ReactFlowState, now = false) => {
      const el = canvas.current;
      const box = wrapper.current;
      if (!el || !box) return;
      const [tx, ty, zoom] = s.transform;
      const on = zoom < belowZoom && s.nodeLookup.size >= OVERVIEW_MIN_NODES;
      if (on !== active.current) {
        active.current = on;
        box.classList.toggle("overview", on);
        el.style.display = on ? "block" : "none";
        el.dataset.cards = "0";
        painted = null;
      }
      if (!on || !s.width || !s.height) return;
      const margin = marginFor(s.width, s.height);
      const mx = Math.round(s.width * margin), my = Math.round(s.height * margin);
      if (!painted || painted.zoom !== zoom || painted.nodes !== s.nodes || painted.edges !== s.edges
          || painted.lookup !== s.nodeLookup || painted.width !== s.width || painted.height !== s.height
          || Math.abs(tx - painted.tx) > mx || Math.abs(ty - painted.ty) > my) {
        if (!now) {
          pending ||= requestAnimationFrame(() => {
            pending = 0;
            follow(store.getState(), true);
          });
          if (!painted) return;
        } else {
          const drawn = paint(el, s, { width: s.width + 2 * mx, height: s.height + 2 * my }, -mx, -my, lang, font);
          el.dataset.cards = String(drawn); // read by the browser test and the benchmark's first-node probe
          el.dataset.paints = String(++paints); // a pan inside the painted region must not add one
          painted = { tx, ty, zoom, width: s.width, height: s.height, nodes: s.nodes, edges: s.edges, lookup: s.nodeLookup };
        }
      }
      el.style.transform = `translate3d(${tx - painted.tx - mx}px, ${ty - painted.ty - my}px, 0)`;
    };
    follow(store.getState());
    let last = store.getState();
    const stop = store.subscribe((s) => {
      if (s.transform !== last.transform || s.nodes !== last.nodes || s.edges !== last.edges
          || s.width !== last.width || s.height !== last.height) follow(s);
      last = s;
    });
    return () => {
      stop();
      cancelAnimationFrame(pending);
      active.current = false;
      wrapper.current?.classList.remove("overview");
    };
  }, [store, wrapper, belowZoom, lang]);

  // Clicks on the drawn cards: captured on the wrapper, before React Flow's pane sees them.
  useEffect(() => {
    const box = wrapper.current;
    if (!box) return;
    /** The card under a pointer event aimed at the pane (or a group frame), while the layer draws. */
    const hit = (e: MouseEvent): string | null => {
      if (!active.current || !(e.target instanceof Element)) return null;
      if (!e.target.classList.contains("react-flow__pane") && !e.target.closest(".react-flow__node-frame")) return null;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }, { snapToGrid: false });
      return cardAt(store.getState(), p.x, p.y);
    };
    const onClick = (e: MouseEvent) => {
      const id = hit(e);
      if (!id) return;
      e.stopPropagation();
      const s = useEditor.getState();
      if (e.ctrlKey || e.metaKey) {
        const chosen = s.selectedNodes.includes(id) ? s.selectedNodes.filter((n) => n !== id) : [...s.selectedNodes, id];
        s.select(chosen, s.selectedEdges, s.selectedGroups);
      } else s.select([id]);
    };
    const onDoubleClick = (e: MouseEvent) => {
      const id = hit(e);
      if (!id) return;
      e.stopPropagation(); // not React Flow's zoom-on-double-click: this one centres the card
      e.preventDefault();
      const n = store.getState().nodeLookup.get(id);
      if (!n) return;
      const b = boxOf(n);
      useEditor.getState().select([id]);
      void rf.setCenter(b.x + b.width / 2, b.y + b.height / 2, { zoom: 1, duration: 300 });
    };
    const onContextMenu = (e: MouseEvent) => {
      const id = hit(e);
      if (!id || !menu.current) return;
      e.stopPropagation();
      menu.current(e, id);
    };
    box.addEventListener("click", onClick, true);
    box.addEventListener("dblclick", onDoubleClick, true);
    box.addEventListener("contextmenu", onContextMenu, true);
    return () => {
      box.removeEventListener("click", onClick, true);
      box.removeEventListener("dblclick", onDoubleClick, true);
      box.removeEventListener("contextmenu", onContextMenu, true);
    };
  }, [store, rf, wrapper]);

  return <canvas ref={canvas} className="overview-layer" data-testid="overview-layer" aria-hidden style={{ display: "none" }} />;
});
