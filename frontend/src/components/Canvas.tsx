// The React Flow canvas: nodes and group frames from the editor store, typed connections
// checked against the server's compatibility table, drag-and-drop from the palette.
// Big graphs stay fluid: nodes and edges are kept while unchanged (lib/canvasElements), cards
// and edges are memoised and subscribe to nothing per node, and above a few hundred nodes
// only what is in view is rendered (BIG_GRAPH). Panning repaints little: the dotted
// background (DotGrid) and the viewport are layers the compositor moves, the minimap paints
// its nodes once on a canvas (MiniMap), and zoomed out the cards drop their small text or, in a
// graph of a hundred nodes or more, are all drawn on one canvas layer (OverviewLayer).
import {
  memo, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent,
  type MouseEvent as ReactMouseEvent,
} from "react";
import {
  Controls, ReactFlow, useConnection, useNodesInitialized, useReactFlow, useStoreApi,
  type Connection, type Edge, type EdgeChange, type FinalConnectionState, type IsValidConnection, type Node, type NodeChange,
  type ReactFlowInstance,
} from "@xyflow/react";
import { loc, translate, useLang, useT } from "../i18n";
import {
  byId, cardNodes, frameNodes, GROUP_PREFIX, indexValidation, typedEdges,
  type CardNode, type FrameNode, type Size, type TypedEdgeType,
} from "../lib/canvasElements";
import { checkConnection, type ConnectionVerdict } from "../lib/graph";
import { flowAriaLabels } from "../lib/messages";
import { NODE_H, NODE_W } from "../lib/layout";
import { nodeSize } from "../lib/nodeSize";
import { placeDropped } from "../lib/placement";
import { useFitGraph } from "../hooks/useCanvasView";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import type { Catalog, Lang, XY } from "../types";
import { NodeCard } from "./NodeCard";
import { DotGrid } from "./DotGrid";
import { MiniMap } from "./MiniMap";
import { OverviewLayer } from "./OverviewLayer";
import { GroupFrame } from "./GroupFrame";
import { TypedEdge } from "./TypedEdge";
import { categoryColor, Icon } from "./common";
import { StatusContext, useActions } from "./context";

export const DRAG_MIME = "application/abacus-component";

// A big graph: above this many nodes only those in view are rendered (below it, panning
// never has to mount a card), and the graph opens at a zoom where cards can be read,
// centred on it, rather than at the minimum zoom where hundreds of unreadable cards would
// all be drawn (F still fits the whole graph).
export const BIG_GRAPH = 300;

const nodeTypes = { component: NodeCard, frame: GroupFrame };
const edgeTypes = { typed: TypedEdge };

// Props that never change, made once: a new array or object each render would update React
// Flow's store, and every subscriber on the canvas would run again.
const SNAP_GRID: [number, number] = [10, 10];
const MULTI_SELECTION_KEYS = ["Meta", "Control"];
const PRO_OPTIONS = { hideAttribution: true };
const FRAME_COLOR = "rgba(120,140,180,0.12)";

const beginDrag = () => useEditor.getState().beginDrag();
const endDrag = () => useEditor.getState().endDrag();
const preventDefault = (e: { preventDefault: () => void }) => e.preventDefault();

function minimapColor(n: Node): string {
  if (n.type !== "component") return FRAME_COLOR;
  const { component, node } = (n as CardNode).data;
  return categoryColor(component?.category ?? node.type.split(".")[0]);
}

// Below this zoom a card's text is a few pixels tall: the cards then show their frame, title
// and ports only (as ComfyUI draws nodes zoomed out), which also makes panning cheaper; in a
// graph of OVERVIEW_MIN_NODES or more, all cards and edges are then drawn on one canvas instead
// (OverviewLayer).
const LOW_DETAIL_ZOOM = 0.45;

/** Toggles ``low-detail`` on the canvas when the zoom crosses LOW_DETAIL_ZOOM (not per frame). */
function useLowDetail(wrapper: { current: HTMLDivElement | null }): void {
  const store = useStoreApi();
  useEffect(() => {
    let low: boolean | null = null;
    const follow = (zoom: number) => {
      const now = zoom < LOW_DETAIL_ZOOM;
      if (now === low || !wrapper.current) return;
      low = now;
      wrapper.current.classList.toggle("low-detail", now);
    };
    follow(store.getState().transform[2]);
    return store.subscribe((s) => follow(s.transform[2]));
  }, [store, wrapper]);
}

const DROP_EDGE = 16; // screen pixels kept between a new card and the canvas's edges

/**
 * Where a new card of ``type`` goes when asked for at ``want`` (its top-left corner, in flow
 * coordinates): inside the visible canvas and clear of the cards already there (lib/placement).
 */
export function placeNewCard(rf: ReactFlowInstance, canvas: Element | null, type: string, want: XY): XY {
  const comp = useEditor.getState().catalog?.components.find((c) => c.id === type);
  const size = nodeSize(comp ? { inputs: comp.inputs.map((p) => p.name), outputs: comp.outputs.map((p) => p.name) } : undefined);
  const taken = rf.getNodes().filter((n) => n.type === "component").map((n) => {
    const measured = rf.getInternalNode(n.id)?.measured;
    return { ...n.position, width: measured?.width ?? NODE_W, height: measured?.height ?? NODE_H };
  });
  const box = canvas?.getBoundingClientRect();
  if (!box) return want;
  const corner = rf.screenToFlowPosition({ x: box.left + DROP_EDGE, y: box.top + DROP_EDGE }, { snapToGrid: false });
  const far = rf.screenToFlowPosition({ x: box.right - DROP_EDGE, y: box.bottom - DROP_EDGE }, { snapToGrid: false });
  const view = { ...corner, width: far.x - corner.x, height: far.y - corner.y };
  return placeDropped({ ...want, ...size }, taken, view);
}

export function verdictMessage(v: ConnectionVerdict, catalog: Catalog | null, lang: Lang): string {
  if (v.ok) return "";
  const typeName = (t: string) => loc(catalog?.port_types?.[t], lang) || t;
  switch (v.reason) {
    case "incompatible":
      return translate(lang, "conn.incompatible", { from: typeName(v.sourceType), to: typeName(v.targetType) });
    case "cycle":
      return translate(lang, "conn.cycle");
    case "self":
      return translate(lang, "conn.self");
    default:
      return translate(lang, "conn.direction");
  }
}

function asRequest(c: Connection | Edge) {
  return { source: c.source, sourceHandle: c.sourceHandle ?? "", target: c.target, targetHandle: c.targetHandle ?? "" };
}

function ConnectionHint() {
  const lang = useLang((s) => s.lang);
  const catalog = useEditor((s) => s.catalog);
  const conn = useConnection();
  if (!conn.inProgress || !conn.toHandle || conn.isValid !== false) return null;
  const from = conn.fromHandle;
  const to = conn.toHandle;
  const req = from.type === "source"
    ? { source: from.nodeId, sourceHandle: from.id ?? "", target: to.nodeId, targetHandle: to.id ?? "" }
    : { source: to.nodeId, sourceHandle: to.id ?? "", target: from.nodeId, targetHandle: from.id ?? "" };
  const verdict = checkConnection(useEditor.getState().graph, catalog, req);
  if (verdict.ok) return null;
  return (
    <div className="connection-hint" data-testid="connection-hint">
      <Icon name="warn" size={14} /> {verdictMessage(verdict, catalog, lang)}
    </div>
  );
}

interface Menu {
  x: number;
  y: number;
  node: string;
}

export const Canvas = memo(function Canvas() {
  const t = useT();
  const lang = useLang((s) => s.lang); // React Flow's own tooltips and labels follow it
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const validation = useEditor((s) => s.validation);
  const selectedNodes = useEditor((s) => s.selectedNodes);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  const selectedGroups = useEditor((s) => s.selectedGroups);
  const statuses = useContext(StatusContext); // read here once, handed to each card and edge in its data
  const focus = useUi((s) => s.focus);
  const toast = useUi((s) => s.toast);
  const actions = useActions();
  const rf = useReactFlow();
  const measured = useRef(new Map<string, Size>());
  const [measureTick, setMeasureTick] = useState(0);
  const [menu, setMenu] = useState<Menu | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  useLowDetail(wrapper);
  const previousCards = useRef(new Map<string, CardNode>());
  const previousFrames = useRef(new Map<string, FrameNode>());
  const previousEdges = useRef(new Map<string, TypedEdgeType>());

  const issues = useMemo(() => indexValidation(validation), [validation]);
  const big = graph.nodes.length > BIG_GRAPH;

  const nodes: Node[] = useMemo(() => {
    const frames = frameNodes(graph, new Set(selectedGroups), previousFrames.current);
    const cards = cardNodes({
      graph, catalog, selected: new Set(selectedNodes), measured: measured.current, statuses, validation: issues, width: NODE_W,
    }, previousCards.current);
    previousFrames.current = byId(frames);
    previousCards.current = byId(cards);
    return [...frames, ...cards];
    // measureTick: the sizes React Flow measured live in a ref; a new one bumps it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [graph, catalog, selectedNodes, selectedGroups, statuses, issues, measureTick]);

  const edges: Edge[] = useMemo(() => {
    const next = typedEdges({ graph, catalog, selected: new Set(selectedEdges), statuses, validation: issues,
      edgeLabel: (source, target) => translate(lang, "flow.edge", { source, target }) }, previousEdges.current);
    previousEdges.current = byId(next);
    return next;
  }, [graph, catalog, selectedEdges, statuses, issues, lang]);

  const onNodesChange = useCallback((changes: NodeChange[]) => {
    const store = useEditor.getState();
    const positions: Record<string, XY> = {};
    let measuredChanged = false;
    let selNodes: Set<string> | null = null;
    let selGroups: Set<string> | null = null;
    for (const c of changes) {
      if (c.type === "dimensions" && c.dimensions && !c.id.startsWith(GROUP_PREFIX)) {
        const prev = measured.current.get(c.id);
        if (!prev || prev.width !== c.dimensions.width || prev.height !== c.dimensions.height) {
          measured.current.set(c.id, c.dimensions);
          measuredChanged = true;
        }
      } else if (c.type === "position" && c.position) {
        if (c.id.startsWith(GROUP_PREFIX)) store.moveGroup(c.id.slice(GROUP_PREFIX.length), c.position);
        else positions[c.id] = c.position;
      } else if (c.type === "select") {
        if (c.id.startsWith(GROUP_PREFIX)) {
          selGroups ??= new Set(useEditor.getState().selectedGroups);
          if (c.selected) selGroups.add(c.id.slice(GROUP_PREFIX.length));
          else selGroups.delete(c.id.slice(GROUP_PREFIX.length));
        } else {
          selNodes ??= new Set(useEditor.getState().selectedNodes);
          if (c.selected) selNodes.add(c.id);
          else selNodes.delete(c.id);
        }
      }
    }
    if (Object.keys(positions).length) store.dragTo(positions);
    if (selNodes || selGroups) {
      const s = useEditor.getState();
      s.select(selNodes ? [...selNodes] : s.selectedNodes, s.selectedEdges, selGroups ? [...selGroups] : s.selectedGroups);
    }
    if (measuredChanged) setMeasureTick((n) => n + 1);
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    let sel: Set<string> | null = null;
    for (const c of changes)
      if (c.type === "select") {
        sel ??= new Set(useEditor.getState().selectedEdges);
        if (c.selected) sel.add(c.id);
        else sel.delete(c.id);
      }
    if (sel) {
      const s = useEditor.getState();
      s.select(s.selectedNodes, [...sel], s.selectedGroups);
    }
  }, []);

  const isValidConnection: IsValidConnection = useCallback((c) => {
    const s = useEditor.getState();
    return checkConnection(s.graph, s.catalog, asRequest(c)).ok;
  }, []);

  const onConnect = useCallback((c: Connection) => {
    const s = useEditor.getState();
    const verdict = s.connect(asRequest(c));
    if (!verdict.ok) toast((l) => verdictMessage(verdict, s.catalog, l), "error");
    else if (verdict.replaces && verdict.replaces.source !== c.source)
      toast((l) => translate(l, "conn.replaced", { port: `${c.target}.${c.targetHandle}` }));
  }, [toast]);

  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.toHandle || !state.fromHandle) return;
    const from = state.fromHandle;
    const to = state.toHandle;
    const req = from.type === "source"
      ? { source: from.nodeId, sourceHandle: from.id ?? "", target: to.nodeId, targetHandle: to.id ?? "" }
      : { source: to.nodeId, sourceHandle: to.id ?? "", target: from.nodeId, targetHandle: from.id ?? "" };
    const s = useEditor.getState();
    const verdict = checkConnection(s.graph, s.catalog, req);
    if (!verdict.ok) toast((l) => verdictMessage(verdict, s.catalog, l), "error", 6000);
  }, [toast]);

  const onDragOver = useCallback((e: DragEvent) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback((e: DragEvent) => {
    e.preventDefault();
    const type = e.dataTransfer.getData(DRAG_MIME) || e.dataTransfer.getData("text/plain");
    if (!type) return;
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    useEditor.getState().addNode(type, placeNewCard(rf, wrapper.current, type, { x: p.x - NODE_W / 2, y: p.y - 24 }));
  }, [rf]);

  // The first view fits the graph (an empty project keeps 1:1, so the first card dropped in
  // lands where it was dropped, at a readable size), once its cards have been measured.
  const fitGraph = useFitGraph();
  const initialFit = useRef(graph.nodes.length > 0);
  const nodesInitialized = useNodesInitialized();
  useLayoutEffect(() => {
    if (!initialFit.current || !nodesInitialized) return;
    initialFit.current = false;
    fitGraph({ minZoom: big ? 0.4 : undefined });
  }, [nodesInitialized, fitGraph, big]);

  useEffect(() => {
    if (!focus) return;
    const node = useEditor.getState().graph.nodes.find((n) => n.id === focus.node);
    if (!node) return;
    const size = measured.current.get(node.id);
    void rf.setCenter(node.position.x + NODE_W / 2, node.position.y + (size?.height ?? 90) / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 400 });
    useEditor.getState().select([node.id]);
  }, [focus, rf]);

  const openMenu = useCallback((e: ReactMouseEvent | MouseEvent, id: string) => {
    if (id.startsWith(GROUP_PREFIX)) return;
    e.preventDefault();
    const box = wrapper.current?.getBoundingClientRect();
    setMenu({ x: e.clientX - (box?.left ?? 0), y: e.clientY - (box?.top ?? 0), node: id });
    const s = useEditor.getState();
    if (!s.selectedNodes.includes(id)) s.select([id]);
  }, []);
  const onNodeContextMenu = useCallback((e: ReactMouseEvent, node: Node) => openMenu(e, node.id), [openMenu]);

  const onPaneClick = useCallback(() => {
    setMenu(null);
    useEditor.getState().select([], [], []);
  }, []);

  const menuAction = (fn: () => void) => () => {
    setMenu(null);
    fn();
  };

  return (
    <div className="canvas" ref={wrapper} data-testid="canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={beginDrag}
        onNodeDragStop={endDrag}
        onSelectionDragStart={beginDrag}
        onSelectionDragStop={endDrag}
        onPaneClick={onPaneClick}
        onNodeContextMenu={onNodeContextMenu}
        onPaneContextMenu={preventDefault}
        onDragOver={onDragOver}
        onDrop={onDrop}
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECTION_KEYS}
        selectionKeyCode="Shift"
        minZoom={0.15}
        maxZoom={2.5}
        snapToGrid
        snapGrid={SNAP_GRID}
        connectionRadius={28}
        proOptions={PRO_OPTIONS}
        onlyRenderVisibleElements={big}
        colorMode="dark"
        ariaLabelConfig={flowAriaLabels(lang)}
      >
        <DotGrid gap={20} size={1.4} color="#2a3142" />
        <OverviewLayer wrapper={wrapper} belowZoom={LOW_DETAIL_ZOOM} onCardMenu={openMenu} />
        <MiniMap nodeColor={minimapColor} />
        <Controls showInteractive={false} position="bottom-left" />
        <ConnectionHint />
      </ReactFlow>
      {menu && (
        <div className="context-menu" style={{ left: menu.x, top: menu.y }} data-testid="context-menu" onMouseLeave={() => setMenu(null)}>
          <button onClick={menuAction(() => actions.run([menu.node], "node"))}><Icon name="play" size={13} />{t("node.run")}</button>
          <button onClick={menuAction(() => actions.run([menu.node], "to"))}><Icon name="playTo" size={13} />{t("node.runTo")}</button>
          <button onClick={menuAction(() => actions.run([], "all"))}><Icon name="playAll" size={13} />{t("node.runAll")}</button>
          <hr />
          <button onClick={menuAction(() => useEditor.getState().duplicate(useEditor.getState().selectedNodes))}>
            <Icon name="copy" size={13} />{t("node.duplicate")}
          </button>
          <button className="danger" onClick={menuAction(() => useEditor.getState().removeSelection())}>
            <Icon name="trash" size={13} />{t("node.delete")}
          </button>
        </div>
      )}
      {graph.nodes.length === 0 && <div className="canvas-empty">{t("palette.hint")}</div>}
    </div>
  );
});
