// Each node's state (not run / out of date / queued / running / from cache / done / failed)
// from the runs' events and the current validation's cache keys, and the latest result per node.
import { useMemo } from "react";
import { lastResults, nodeStatus, type NodeStatus } from "../lib/runstate";
import { useEditor } from "../store/editor";
import { latestView, orderedViews, useRuns } from "../store/runs";

export function useNodeStatuses() {
  const nodes = useEditor((s) => s.graph.nodes);
  const validation = useEditor((s) => s.validation);
  const runs = useRuns((s) => s.runs);
  const views = useRuns((s) => s.views);
  const latest = useRuns(latestView);

  const results = useMemo(() => lastResults(orderedViews({ runs, views })), [runs, views]);
  const statuses = useMemo(() => {
    const out: Record<string, NodeStatus> = {};
    for (const n of nodes) out[n.id] = nodeStatus(n.id, latest, results, validation?.keys, validation?.cached);
    return out;
  }, [nodes, latest, results, validation]);
  return { results, statuses };
}
