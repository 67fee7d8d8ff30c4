// The editor's document state: the graph, selection, clipboard, undo/redo and the latest
// validation. Plain zustand; every action is a pure graph transformation plus history.
import { create } from "zustand";
import type { Catalog, Graph, GraphEdge, GraphNode, Validation, XY } from "../types";
import { checkConnection, edgeId, groupAt, withEdgeIds, newNodeId, type ConnectionRequest, type ConnectionVerdict } from "../lib/graph";
import { autoLayout } from "../lib/layout";

const HISTORY_LIMIT = 200;
const COALESCE_MS = 1200;

export const emptyGraph = (): Graph => ({ nodes: [], edges: [], groups: [] });

export interface Clipboard {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface EditorState {
  catalog: Catalog | null;
  graph: Graph;
  revision: number; // bumps on every graph change (drives validation and autosave)
  past: Graph[];
  future: Graph[];
  lastCoalesce: { key: string; at: number } | null;
  dragOrigin: Graph | null;
  selectedNodes: string[];
  selectedEdges: string[];
  selectedGroups: string[];
  clipboard: Clipboard | null;
  pasteCount: number;
  validation: Validation | null;
  validatedRevision: number;

  setCatalog: (catalog: Catalog) => void;
  load: (graph: Graph) => void;
  commit: (next: Graph, coalesceKey?: string) => void;
  addNode: (type: string, position: XY) => string | null;
  removeNodes: (ids: string[]) => void;
  removeEdges: (ids: string[]) => void;
  removeSelection: () => void;
  connect: (c: ConnectionRequest) => ConnectionVerdict;
  setParam: (nodeId: string, name: string, value: unknown) => void;
  setLabel: (nodeId: string, label: string) => void;
  beginDrag: () => void;
  dragTo: (positions: Record<string, XY>) => void;
  moveGroup: (groupId: string, position: XY) => void;
  resizeGroup: (groupId: string, width: number, height: number, position?: XY) => void;
  endDrag: () => void;
  select: (nodes: string[], edges?: string[], groups?: string[]) => void;
  selectAll: () => void;
  copy: () => number;
  paste: () => number;
  duplicate: (ids: string[]) => number;
  undo: () => void;
  redo: () => void;
  layout: () => Promise<void>;
  setValidation: (v: Validation, revision: number) => void;
}

function defaultsOf(catalog: Catalog | null, type: string): Record<string, unknown> {
  const comp = catalog?.components.find((c) => c.id === type);
  return comp ? structuredClone(comp.defaults ?? {}) : {};
}

export const useEditor = create<EditorState>((set, get) => ({
  catalog: null,
  graph: emptyGraph(),
  revision: 0,
  past: [],
  future: [],
  lastCoalesce: null,
  dragOrigin: null,
  selectedNodes: [],
  selectedEdges: [],
  selectedGroups: [],
  clipboard: null,
  pasteCount: 0,
  validation: null,
  validatedRevision: -1,

  setCatalog: (catalog) => set({ catalog }),

  load: (graph) =>
    set((s) => ({
      graph: { ...emptyGraph(), ...graph, nodes: graph.nodes ?? [], edges: withEdgeIds(graph.edges ?? []), groups: graph.groups ?? [] },
      revision: s.revision + 1,
      past: [],
      future: [],
      lastCoalesce: null,
      dragOrigin: null,
      selectedNodes: [],
      selectedEdges: [],
      selectedGroups: [],
      validation: null,
    })),

  commit: (next, coalesceKey) =>
    set((s) => {
      const now = Date.now();
      const coalesce = coalesceKey && s.lastCoalesce?.key === coalesceKey && now - s.lastCoalesce.at < COALESCE_MS;
      const past = coalesce ? s.past : [...s.past, s.graph].slice(-HISTORY_LIMIT);
      return {
        graph: next,
        past,
        future: [],
        revision: s.revision + 1,
        lastCoalesce: coalesceKey ? { key: coalesceKey, at: now } : null,
      };
    }),

  addNode: (type, position) => {
    const { graph, catalog, commit } = get();
    if (catalog && !catalog.components.some((c) => c.id === type)) return null;
    const id = newNodeId(graph, type);
    const node: GraphNode = {
      id, type, params: defaultsOf(catalog, type), position: { x: Math.round(position.x), y: Math.round(position.y) },
      group: groupAt(graph, position.x + 20, position.y + 20),
    };
    commit({ ...graph, nodes: [...graph.nodes, node] });
    set({ selectedNodes: [id], selectedEdges: [], selectedGroups: [] });
    return id;
  },

  removeNodes: (ids) => {
    if (!ids.length) return;
    const { graph, commit } = get();
    const drop = new Set(ids);
    commit({
      ...graph,
      nodes: graph.nodes.filter((n) => !drop.has(n.id)),
      edges: graph.edges.filter((e) => !drop.has(e.source) && !drop.has(e.target)),
    });
    set((s) => ({ selectedNodes: s.selectedNodes.filter((id) => !drop.has(id)) }));
  },

  removeEdges: (ids) => {
    if (!ids.length) return;
    const { graph, commit } = get();
    const drop = new Set(ids);
    commit({ ...graph, edges: graph.edges.filter((e) => !drop.has(e.id)) });
    set((s) => ({ selectedEdges: s.selectedEdges.filter((id) => !drop.has(id)) }));
  },

  removeSelection: () => {
    const { graph, selectedNodes, selectedEdges, selectedGroups, commit } = get();
    if (!selectedNodes.length && !selectedEdges.length && !selectedGroups.length) return;
    const nodes = new Set(selectedNodes);
    const edges = new Set(selectedEdges);
    const groups = new Set(selectedGroups);
    commit({
      ...graph,
      nodes: graph.nodes.filter((n) => !nodes.has(n.id)).map((n) => (n.group && groups.has(n.group) ? { ...n, group: null } : n)),
      edges: graph.edges.filter((e) => !edges.has(e.id) && !nodes.has(e.source) && !nodes.has(e.target)),
      groups: graph.groups.filter((g) => !groups.has(g.id)),
    });
    set({ selectedNodes: [], selectedEdges: [], selectedGroups: [] });
  },

  connect: (c) => {
    const { graph, catalog, commit } = get();
    const verdict = checkConnection(graph, catalog, c);
    if (!verdict.ok) return verdict;
    const edge: GraphEdge = { id: edgeId(c), ...c };
    const edges = graph.edges.filter((e) => !(e.target === c.target && e.targetHandle === c.targetHandle));
    commit({ ...graph, edges: [...edges, edge] });
    return verdict;
  },

  setParam: (nodeId, name, value) => {
    const { graph, commit } = get();
    commit(
      {
        ...graph,
        nodes: graph.nodes.map((n) => {
          if (n.id !== nodeId) return n;
          const params = { ...n.params };
          if (value === undefined) delete params[name];
          else params[name] = value;
          return { ...n, params };
        }),
      },
      `param:${nodeId}:${name}`,
    );
  },

  setLabel: (nodeId, label) => {
    const { graph, commit } = get();
    commit(
      { ...graph, nodes: graph.nodes.map((n) => (n.id === nodeId ? { ...n, label: label || null } : n)) },
      `label:${nodeId}`,
    );
  },

  beginDrag: () => set((s) => ({ dragOrigin: s.dragOrigin ?? s.graph })),

  dragTo: (positions) =>
    set((s) => ({
      graph: {
        ...s.graph,
        nodes: s.graph.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)),
      },
    })),

  moveGroup: (groupId, position) =>
    set((s) => {
      const g = s.graph.groups.find((x) => x.id === groupId);
      if (!g) return {};
      const dx = position.x - g.position.x;
      const dy = position.y - g.position.y;
      const moving = new Set(s.selectedNodes); // selected members move with React Flow already
      return {
        graph: {
          ...s.graph,
          groups: s.graph.groups.map((x) => (x.id === groupId ? { ...x, position } : x)),
          nodes: s.graph.nodes.map((n) =>
            n.group === groupId && !moving.has(n.id) ? { ...n, position: { x: n.position.x + dx, y: n.position.y + dy } } : n,
          ),
        },
      };
    }),

  resizeGroup: (groupId, width, height, position) =>
    set((s) => ({
      graph: {
        ...s.graph,
        groups: s.graph.groups.map((g) =>
          g.id === groupId ? { ...g, width, height, position: position ?? g.position } : g,
        ),
      },
    })),

  endDrag: () => {
    const { dragOrigin, graph } = get();
    if (!dragOrigin) return;
    // A node dropped into (or out of) a group frame joins (or leaves) it.
    const groups = new Set(graph.groups.map((g) => g.id));
    const moved = graph.nodes.map((n) => {
      const before = dragOrigin.nodes.find((o) => o.id === n.id);
      if (!before || (before.position.x === n.position.x && before.position.y === n.position.y)) return n;
      const frameMoved = n.group && groups.has(n.group) &&
        JSON.stringify(dragOrigin.groups.find((g) => g.id === n.group)?.position) !==
          JSON.stringify(graph.groups.find((g) => g.id === n.group)?.position);
      if (frameMoved) return n;
      const group = groupAt(graph, n.position.x + 20, n.position.y + 20);
      return group === (n.group ?? null) ? n : { ...n, group };
    });
    const next = { ...graph, nodes: moved };
    const changed = JSON.stringify(dragOrigin) !== JSON.stringify(next);
    set((s) => ({
      dragOrigin: null,
      graph: next,
      ...(changed
        ? { past: [...s.past, dragOrigin].slice(-HISTORY_LIMIT), future: [], revision: s.revision + 1, lastCoalesce: null }
        : {}),
    }));
  },

  select: (nodes, edges = [], groups = []) => set({ selectedNodes: nodes, selectedEdges: edges, selectedGroups: groups }),

  selectAll: () => set((s) => ({ selectedNodes: s.graph.nodes.map((n) => n.id), selectedEdges: [], selectedGroups: [] })),

  copy: () => {
    const { graph, selectedNodes } = get();
    const ids = new Set(selectedNodes);
    const nodes = graph.nodes.filter((n) => ids.has(n.id));
    if (!nodes.length) return 0;
    const edges = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
    set({ clipboard: structuredClone({ nodes, edges }), pasteCount: 0 });
    return nodes.length;
  },

  paste: () => {
    const { clipboard, graph, commit, pasteCount } = get();
    if (!clipboard?.nodes.length) return 0;
    const offset = 40 * (pasteCount + 1);
    const rename = new Map<string, string>();
    const taken = new Set<string>();
    for (const n of clipboard.nodes) {
      const id = newNodeId(graph, n.type, taken);
      taken.add(id);
      rename.set(n.id, id);
    }
    const nodes = clipboard.nodes.map((n) => ({
      ...structuredClone(n), id: rename.get(n.id)!, position: { x: n.position.x + offset, y: n.position.y + offset },
    }));
    const edges = clipboard.edges.map((e) => {
      const c = { source: rename.get(e.source)!, sourceHandle: e.sourceHandle, target: rename.get(e.target)!, targetHandle: e.targetHandle };
      return { id: edgeId(c), ...c };
    });
    commit({ ...graph, nodes: [...graph.nodes, ...nodes], edges: [...graph.edges, ...edges] });
    set({ selectedNodes: nodes.map((n) => n.id), selectedEdges: [], selectedGroups: [], pasteCount: pasteCount + 1 });
    return nodes.length;
  },

  duplicate: (ids) => {
    const saved = get().clipboard;
    get().select(ids);
    get().copy();
    const n = get().paste();
    set({ clipboard: saved });
    return n;
  },

  undo: () =>
    set((s) => {
      if (!s.past.length) return {};
      const prev = s.past[s.past.length - 1];
      return {
        graph: prev, past: s.past.slice(0, -1), future: [s.graph, ...s.future], revision: s.revision + 1,
        lastCoalesce: null, selectedNodes: s.selectedNodes.filter((id) => prev.nodes.some((n) => n.id === id)),
      };
    }),

  redo: () =>
    set((s) => {
      if (!s.future.length) return {};
      const next = s.future[0];
      return {
        graph: next, past: [...s.past, s.graph], future: s.future.slice(1), revision: s.revision + 1,
        lastCoalesce: null, selectedNodes: s.selectedNodes.filter((id) => next.nodes.some((n) => n.id === id)),
      };
    }),

  layout: async () => {
    const { graph, catalog } = get();
    const laidOut = await autoLayout(graph, catalog);
    // An edit made while ELK worked wins over a layout of the graph before it.
    if (get().graph === graph) get().commit(laidOut);
  },

  setValidation: (v, revision) => set({ validation: v, validatedRevision: revision }),
}));
