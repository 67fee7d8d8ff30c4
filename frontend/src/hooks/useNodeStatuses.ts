// Each node's state (not run / out of date / queued / running / from cache / done / failed)
// from the runs' events and the current validation's cache keys, and the latest result per node.
import { useMemo, useRef } from "react";
import { lastResults, nodeStatus, upToDate, type NodeStatus } from "../lib/runstate";
import { useEditor } from "../store/editor";
import { latestView, orderedViews, useRuns } from "../store/runs";

export function useNodeStatuses() {
  const nodes = useEditor((s) => s.graph.nodes);
  const edges = useEditor((s) => s.graph.edges);
  const validation = useEditor((s) => s.validation);
  const validatedNow = useEditor((s) => s.validatedRevision === s.revision);
  const runs = useRuns((s) => s.runs);
  const views = useRuns((s) => s.views);
  const latest = useRuns(latestView);

  const results = useMemo(() => lastResults(orderedViews({ runs, views })), [runs, views]);
  // validation's flags say whose result is stored; the nodes that feed a stored result are up to date too
  const cachedNow = useMemo(() => upToDate(edges, validation?.cached), [edges, validation]);
  // Each node's key with the params it had then, from validations of the graph as it is (keys come
  // only without issues): a failure stays current while the node keeps the params it failed with.
  const seen = useRef<Record<string, { key: string; params: string }>>({});
  const statuses = useMemo(() => {
    if (validatedNow && validation?.keys)
      for (const n of nodes) {
        const key = validation.keys[n.id];
        if (key) seen.current[n.id] = { key, params: JSON.stringify(n.params) };
      }
    const withIssue = new Set((validation?.issues ?? []).map((i) => i.node));
    const out: Record<string, NodeStatus> = {};
    for (const n of nodes) {
      const failedKey = latest?.nodes[n.id]?.key;
      const before = seen.current[n.id];
      // without keys (the graph has issues): the node has an issue of its own now, or its params
      // are no longer those it had under the key it failed with
      const changed = withIssue.has(n.id)
        || (!!failedKey && before?.key === failedKey && before.params !== JSON.stringify(n.params));
      out[n.id] = nodeStatus(n.id, latest, results, validation?.keys, cachedNow, changed);
    }
    return out;
  }, [nodes, latest, results, validation, validatedNow, cachedNow]);
  return { results, statuses };
}
