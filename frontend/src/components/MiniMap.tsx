// The canvas's minimap: every node painted once on a <canvas> (again only when the nodes,
// or the region the map must show, change), and the view as a frame the compositor moves.
// React Flow's own MiniMap is an SVG of one rectangle per node under a mask that is redrawn
// on every pan frame: with 2,000 nodes and software raster that cost a third of the frames.
// Click or drag on the map to move the view there; the wheel zooms.
import { memo, useEffect, useRef, type PointerEvent as ReactPointerEvent, type WheelEvent } from "react";
import { Panel, useReactFlow, useStoreApi, type Node, type ReactFlowState } from "@xyflow/react";
import { useT } from "../i18n";

const WIDTH = 200;
const HEIGHT = 150;
const MARGIN = 0.1; // room around the nodes and the view, as a share of the region's size

type Box = { x: number; y: number; width: number; height: number };
/** Where the region shown sits in the map: map = (flow - region.xy) * scale + offset. */
type Frame = { region: Box; scale: number; dx: number; dy: number };

function dimensions(n: Node): { width: number; height: number } {
  return { width: n.measured?.width ?? n.width ?? n.initialWidth ?? 0, height: n.measured?.height ?? n.height ?? n.initialHeight ?? 0 };
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function contains(outer: Box, inner: Box): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width
    && inner.y + inner.height <= outer.y + outer.height;
}

function viewBox(s: ReactFlowState): Box {
  const [x, y, zoom] = s.transform;
  return { x: -x / zoom, y: -y / zoom, width: s.width / zoom, height: s.height / zoom };
}

function nodesBox(s: ReactFlowState): Box | null {
  let box: Box | null = null;
  for (const n of s.nodeLookup.values()) {
    if (n.hidden) continue;
    const { width, height } = dimensions(n);
    const r = { x: n.internals.positionAbsolute.x, y: n.internals.positionAbsolute.y, width, height };
    box = box ? union(box, r) : r;
  }
  return box;
}

function frameFor(region: Box): Frame {
  const padded = {
    x: region.x - region.width * MARGIN, y: region.y - region.height * MARGIN,
    width: region.width * (1 + 2 * MARGIN) || 1, height: region.height * (1 + 2 * MARGIN) || 1,
  };
  const scale = Math.min(WIDTH / padded.width, HEIGHT / padded.height);
  return { region: padded, scale, dx: (WIDTH - padded.width * scale) / 2, dy: (HEIGHT - padded.height * scale) / 2 };
}

function paint(canvas: HTMLCanvasElement, s: ReactFlowState, frame: Frame, color: (n: Node) => string): void {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== WIDTH * ratio) {
    canvas.width = WIDTH * ratio;
    canvas.height = HEIGHT * ratio;
  }
  const g = canvas.getContext("2d");
  if (!g) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, WIDTH, HEIGHT);
  const { region, scale, dx, dy } = frame;
  for (const n of s.nodeLookup.values()) {
    if (n.hidden) continue;
    const { width, height } = dimensions(n);
    const { x, y } = n.internals.positionAbsolute;
    g.fillStyle = color(n.internals.userNode);
    g.fillRect((x - region.x) * scale + dx, (y - region.y) * scale + dy, Math.max(1, width * scale), Math.max(1, height * scale));
  }
}

export const MiniMap = memo(function MiniMap({ nodeColor }: { nodeColor: (n: Node) => string }) {
  const t = useT();
  const store = useStoreApi();
  const rf = useReactFlow();
  const canvas = useRef<HTMLCanvasElement>(null);
  const view = useRef<HTMLDivElement>(null);
  const frame = useRef<Frame | null>(null);

  useEffect(() => {
    let painted: { nodes: Node[]; nodeLookup: ReactFlowState["nodeLookup"] } | null = null;
    let nodes: Box | null = null;
    const follow = (s: ReactFlowState) => {
      const seen = viewBox(s);
      const changed = !painted || painted.nodes !== s.nodes || painted.nodeLookup !== s.nodeLookup;
      if (changed) nodes = nodesBox(s);
      const wanted = nodes ? union(nodes, seen) : seen;
      const shown = frame.current?.region;
      // The map keeps its region while the view moves inside it, so a pan repaints nothing;
      // it is made again when the nodes change, the view leaves it, or it became far too big.
      if (changed || !shown || !contains(shown, seen)
          || wanted.width * wanted.height < 0.4 * shown.width * shown.height) {
        frame.current = frameFor(wanted);
        if (canvas.current) paint(canvas.current, s, frame.current, nodeColor);
        painted = { nodes: s.nodes, nodeLookup: s.nodeLookup };
      }
      const { region, scale, dx, dy } = frame.current!;
      const el = view.current;
      if (!el) return;
      el.style.width = `${seen.width * scale}px`;
      el.style.height = `${seen.height * scale}px`;
      el.style.transform = `translate3d(${(seen.x - region.x) * scale + dx}px, ${(seen.y - region.y) * scale + dy}px, 0)`;
    };
    follow(store.getState());
    let last = store.getState();
    return store.subscribe((s) => {
      if (s.transform !== last.transform || s.nodes !== last.nodes || s.width !== last.width || s.height !== last.height) follow(s);
      last = s;
    });
  }, [store, nodeColor]);

  // Centre the view on the point of the map under the pointer.
  const moveTo = (e: ReactPointerEvent<HTMLDivElement>) => {
    const f = frame.current;
    if (!f) return;
    const box = e.currentTarget.getBoundingClientRect();
    const x = f.region.x + (e.clientX - box.left - f.dx) / f.scale;
    const y = f.region.y + (e.clientY - box.top - f.dy) / f.scale;
    void rf.setCenter(x, y, { zoom: rf.getZoom() });
  };
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    moveTo(e);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.currentTarget.hasPointerCapture(e.pointerId)) moveTo(e);
  };
  const onWheel = (e: WheelEvent<HTMLDivElement>) => {
    void rf.zoomTo(rf.getZoom() * Math.pow(2, -e.deltaY / 500));
  };

  return (
    <Panel position="bottom-right" className="minimap" data-testid="minimap">
      <div className="minimap-map" role="img" aria-label={t("canvas.minimap")} style={{ width: WIDTH, height: HEIGHT }}
        onPointerDown={onPointerDown} onPointerMove={onPointerMove} onWheel={onWheel}>
        <canvas ref={canvas} style={{ width: WIDTH, height: HEIGHT }} />
        <div className="minimap-view" ref={view} />
      </div>
    </Panel>
  );
});
