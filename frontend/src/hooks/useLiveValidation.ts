// Validation as you edit: once the graph has been still for a moment, the server validates
// it; the answer goes to the editor store (issues on nodes, ports and fields, inferred shapes,
// cache keys and cached results), which the canvas and the inspector draw from.
import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { queryKeys, useValidation } from "../lib/queries";
import { useEditor } from "../store/editor";
import { latestView, useRuns } from "../store/runs";
import type { Graph } from "../types";

const VALIDATE_DELAY_MS = 180;

/** Whether a validation is in flight. Nothing is validated while `enabled` is false (not loaded yet). */
export function useLiveValidation(enabled: boolean): { validating: boolean } {
  const settled = useSettledGraph(enabled);
  const validation = useValidation(settled?.revision ?? -1, settled?.graph ?? EMPTY, settled !== null);

  useEffect(() => {
    if (validation.data && settled) useEditor.getState().setValidation(validation.data, settled.revision);
  }, [validation.data, settled]);

  // A run that ends changes what the cache holds: validate again for fresh `cached` flags.
  const queryClient = useQueryClient();
  const running = useRuns((s) => latestView(s)?.active ?? false);
  const wasRunning = useRef(running);
  useEffect(() => {
    if (wasRunning.current && !running) void queryClient.invalidateQueries({ queryKey: queryKeys.validations });
    wasRunning.current = running;
  }, [running, queryClient]);

  return { validating: validation.isFetching };
}

const EMPTY: Graph = { nodes: [], edges: [], groups: [] };

/** The editor's graph and its revision once no edit has come for a moment; null until then. */
function useSettledGraph(enabled: boolean): { graph: Graph; revision: number } | null {
  const revision = useEditor((s) => s.revision);
  const [settled, setSettled] = useState<{ graph: Graph; revision: number } | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const timer = setTimeout(() => {
      const { graph, revision } = useEditor.getState();
      setSettled({ graph, revision });
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [revision, enabled]);
  return settled;
}
