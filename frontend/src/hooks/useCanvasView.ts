// Fit the whole graph in view, and lay it out automatically (then fit).
import { useCallback } from "react";
import { useReactFlow, useStoreApi } from "@xyflow/react";
import { fitViewport } from "../lib/fit";
import { useEditor } from "../store/editor";

const PANEL_GAP = 12; // between the graph and a panel in a corner of the canvas

export interface FitOptions {
  duration?: number;
  minZoom?: number;
}

/** Fits the graph in view (see lib/fit): no card under the minimap or the zoom buttons, at most 1:1. */
export function useFitGraph(): (options?: FitOptions) => void {
  const rf = useReactFlow();
  const store = useStoreApi();
  return useCallback(({ duration = 0, minZoom }: FitOptions = {}) => {
    const { width, height, domNode, minZoom: least } = store.getState();
    const nodes = rf.getNodes();
    if (!nodes.length || !width || !height || !domNode) return;
    const canvas = domNode.getBoundingClientRect();
    // The corner panels as drawn (their size and margins live in CSS), with room around them.
    const panels = [".react-flow__panel.minimap", ".react-flow__controls"].flatMap((selector) => {
      const r = domNode.querySelector(selector)?.getBoundingClientRect();
      return r ? [{
        x: r.left - canvas.left - PANEL_GAP, y: r.top - canvas.top - PANEL_GAP,
        width: r.width + 2 * PANEL_GAP, height: r.height + 2 * PANEL_GAP,
      }] : [];
    });
    const boxes = nodes.flatMap((n) => {
      const node = rf.getInternalNode(n.id);
      const size = node?.measured;
      return node && size?.width && size.height ? [{ ...node.internals.positionAbsolute, width: size.width, height: size.height }] : [];
    });
    const viewport = fitViewport(rf.getNodesBounds(nodes), { width, height }, panels, boxes, minZoom ?? least);
    void rf.setViewport(viewport, { duration });
  }, [rf, store]);
}

export function useCanvasView(): { fit: () => void; layout: () => void } {
  const fitGraph = useFitGraph();
  const fit = useCallback(() => fitGraph({ duration: 300 }), [fitGraph]);
  const layout = useCallback(() => {
    // the layout runs in a web worker; fit once the moved nodes have been measured
    void useEditor.getState().layout().then(() => setTimeout(fit, 60));
  }, [fit]);
  return { fit, layout };
}
