// The React Flow canvas: nodes and group frames from the editor store, typed connections
// checked against the server's compatibility table, drag-and-drop from the palette.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from "react";
import {
  Background, BackgroundVariant, Controls, MiniMap, ReactFlow, useConnection, useReactFlow,
  type Connection, type Edge, type EdgeChange, type FinalConnectionState, type IsValidConnection, type Node, type NodeChange,
} from "@xyflow/react";
import { loc, translate, useLang, useT } from "../i18n";
import { checkConnection, findPort, type ConnectionVerdict } from "../lib/graph";
import { NODE_W } from "../lib/layout";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import type { Catalog, Lang, XY } from "../types";
import { NodeCard } from "./NodeCard";
import { GroupFrame } from "./GroupFrame";
import { TypedEdge } from "./TypedEdge";
import { categoryColor, Icon } from "./common";
import { useActions } from "./context";

export const DRAG_MIME = "application/abacus-component";
const GROUP_PREFIX = "group:";

const nodeTypes = { component: NodeCard, frame: GroupFrame };
const edgeTypes = { typed: TypedEdge };

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

export function Canvas() {
  const t = useT();
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const selectedNodes = useEditor((s) => s.selectedNodes);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  const selectedGroups = useEditor((s) => s.selectedGroups);
  const focus = useUi((s) => s.focus);
  const toast = useUi((s) => s.toast);
  const actions = useActions();
  const rf = useReactFlow();
  const measured = useRef(new Map<string, { width: number; height: number }>());
  const [measureTick, setMeasureTick] = useState(0);
  const [menu, setMenu] = useState<Menu | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  const nodes: Node[] = useMemo(() => {
    const selN = new Set(selectedNodes);
    const selG = new Set(selectedGroups);
    const frames: Node[] = graph.groups.map((g) => ({
      id: GROUP_PREFIX + g.id,
      type: "frame",
      position: g.position,
      data: { group: g.id },
      width: g.width,
      height: g.height,
      measured: { width: g.width, height: g.height },
      style: { width: g.width, height: g.height },
      zIndex: -1,
      selected: selG.has(g.id),
      dragHandle: ".group-label",
      className: "frame-node",
    }));
    const cards: Node[] = graph.nodes.map((n) => ({
      id: n.id,
      type: "component",
      position: n.position,
      data: {},
      selected: selN.has(n.id),
      measured: measured.current.get(n.id),
      width: NODE_W,
    }));
    return [...frames, ...cards];
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [graph.nodes, graph.groups, selectedNodes, selectedGroups, measureTick]);

  const edges: Edge[] = useMemo(() => {
    const sel = new Set(selectedEdges);
    return graph.edges.map((e) => ({
      id: e.id,
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: e.targetHandle,
      type: "typed",
      selected: sel.has(e.id),
      data: { type: findPort(graph, catalog, e.source, e.sourceHandle, "out")?.type },
    }));
  }, [graph, catalog, selectedEdges]);

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
    if (!verdict.ok) toast(verdictMessage(verdict, s.catalog, useLang.getState().lang), "error");
    else if (verdict.replaces && verdict.replaces.source !== c.source)
      toast(translate(useLang.getState().lang, "conn.replaced", { port: `${c.target}.${c.targetHandle}` }));
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
    if (!verdict.ok) toast(verdictMessage(verdict, s.catalog, useLang.getState().lang), "error", 6000);
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
    useEditor.getState().addNode(type, { x: p.x - NODE_W / 2, y: p.y - 24 });
  }, [rf]);

  useEffect(() => {
    if (!focus) return;
    const node = useEditor.getState().graph.nodes.find((n) => n.id === focus.node);
    if (!node) return;
    const size = measured.current.get(node.id);
    void rf.setCenter(node.position.x + NODE_W / 2, node.position.y + (size?.height ?? 90) / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 400 });
    useEditor.getState().select([node.id]);
  }, [focus, rf]);

  const onNodeContextMenu = useCallback((e: ReactMouseEvent, node: Node) => {
    if (node.id.startsWith(GROUP_PREFIX)) return;
    e.preventDefault();
    const box = wrapper.current?.getBoundingClientRect();
    setMenu({ x: e.clientX - (box?.left ?? 0), y: e.clientY - (box?.top ?? 0), node: node.id });
    const s = useEditor.getState();
    if (!s.selectedNodes.includes(node.id)) s.select([node.id]);
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
        onNodeDragStart={() => useEditor.getState().beginDrag()}
        onNodeDragStop={() => useEditor.getState().endDrag()}
        onSelectionDragStart={() => useEditor.getState().beginDrag()}
        onSelectionDragStop={() => useEditor.getState().endDrag()}
        onPaneClick={() => {
          setMenu(null);
          useEditor.getState().select([], [], []);
        }}
        onNodeContextMenu={onNodeContextMenu}
        onPaneContextMenu={(e) => e.preventDefault()}
        onDragOver={onDragOver}
        onDrop={onDrop}
        deleteKeyCode={null}
        multiSelectionKeyCode={["Meta", "Control"]}
        selectionKeyCode="Shift"
        fitView
        fitViewOptions={{ padding: 0.12 }}
        minZoom={0.15}
        maxZoom={2.5}
        snapToGrid
        snapGrid={[10, 10]}
        connectionRadius={28}
        proOptions={{ hideAttribution: true }}
        colorMode="dark"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.4} color="#2a3142" />
        <MiniMap
          pannable
          zoomable
          className="minimap"
          maskColor="rgba(8,10,15,0.6)"
          nodeColor={(n) => {
            if (n.type === "frame") return "rgba(120,140,180,0.12)";
            const node = useEditor.getState().graph.nodes.find((x) => x.id === n.id);
            const comp = catalog?.components.find((c) => c.id === node?.type);
            return categoryColor(comp?.category ?? "");
          }}
          nodeStrokeWidth={0}
        />
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
}
