// Fit the whole graph in view, and lay it out automatically (then fit).
import { useCallback } from "react";
import { useReactFlow } from "@xyflow/react";
import { useEditor } from "../store/editor";

export function useCanvasView(): { fit: () => void; layout: () => void } {
  const rf = useReactFlow();
  const fit = useCallback(() => void rf.fitView({ padding: 0.12, duration: 300 }), [rf]);
  const layout = useCallback(() => {
    // the layout runs in a web worker; fit once the moved nodes have been measured
    void useEditor.getState().layout().then(() => setTimeout(fit, 60));
  }, [fit]);
  return { fit, layout };
}
