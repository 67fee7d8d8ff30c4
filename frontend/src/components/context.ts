import { createContext, useContext } from "react";
import type { NodeResult, NodeStatus } from "../lib/runstate";
import type { RunMode } from "../types";

export interface EditorActions {
  run: (targets: string[], mode: RunMode) => void;
  cancel: () => void;
}

export const StatusContext = createContext<Record<string, NodeStatus>>({});
export const ResultsContext = createContext<Record<string, NodeResult>>({});
export const ActionsContext = createContext<EditorActions>({ run: () => undefined, cancel: () => undefined });

export const useStatus = (id: string): NodeStatus => useContext(StatusContext)[id] ?? { state: "idle" };
export const useActions = () => useContext(ActionsContext);
