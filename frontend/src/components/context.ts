import { createContext, useContext } from "react";
import type { NodeResult, NodeStatus } from "../lib/runstate";
import type { RunMode } from "../types";

export interface EditorActions {
  run: (targets: string[], mode: RunMode) => void;
  cancel: () => void;
  /** A dry run: what a run of ``targets`` would do, and why (the run panel's Why tab). */
  preview?: (targets: string[], mode: RunMode) => void;
}

export const StatusContext = createContext<Record<string, NodeStatus>>({});
export const ResultsContext = createContext<Record<string, NodeResult>>({});
export const ActionsContext = createContext<EditorActions>({ run: () => undefined, cancel: () => undefined });

export const useStatus = (id: string): NodeStatus => useContext(StatusContext)[id] ?? { state: "idle" };
export const useActions = () => useContext(ActionsContext);
