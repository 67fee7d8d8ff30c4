// The editor's dry run ("what will run"): the server's plan for some targets, with why each node
// would run or come from the cache, shown in the run panel's Why tab until a run starts.
import { create } from "zustand";
import { api } from "../api";
import type { Graph, PlanPreview, RunMode } from "../types";

interface WhyState {
  preview: PlanPreview | null;
  loading: boolean;
  error: string | null;
  /** Ask the server what a run of ``targets`` would do (nothing runs). */
  load: (projectId: number, targets: string[], mode: RunMode, graph: Graph | null) => Promise<void>;
  clear: () => void;
}

export const useWhy = create<WhyState>((set) => ({
  preview: null,
  loading: false,
  error: null,
  load: async (projectId, targets, mode, graph) => {
    set({ loading: true, error: null });
    try {
      set({ preview: await api.planRun(projectId, targets, mode, graph), loading: false });
    } catch (e) {
      set({ preview: null, loading: false, error: (e as Error).message });
    }
  },
  clear: () => set({ preview: null, error: null }),
}));
