// The open project's runs: replayed and followed live once the project is loaded, dropped
// (streams closed) when the editor closes.
import { useEffect } from "react";
import { useRuns } from "../store/runs";
import { useUi } from "../store/ui";

export function useProjectRuns(projectId: number, loaded: boolean) {
  useEffect(() => {
    if (!loaded) return;
    void useRuns.getState().loadProject(projectId).catch((e) => useUi.getState().toast((e as Error).message, "error"));
  }, [projectId, loaded]);
  useEffect(() => () => useRuns.getState().reset(null), [projectId]);
}
