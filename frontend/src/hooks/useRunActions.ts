// Run and cancel, as the nodes' buttons and the top bar call them: a graph with issues is not
// run (the issues panel opens instead); a run saves the graph first and shows its curves.
import { useMemo } from "react";
import type { ApiError } from "../api";
import type { EditorActions } from "../components/context";
import { translate } from "../i18n";
import { useEditor } from "../store/editor";
import { useRuns } from "../store/runs";
import { useUi } from "../store/ui";
import { useWhy } from "../store/why";
import type { RunMode } from "../types";

export function useRunActions(save: () => Promise<void>): EditorActions {
  return useMemo(() => ({
    run: (targets: string[], mode: RunMode) => {
      const { toast, openPanel } = useUi.getState();
      const validation = useEditor.getState().validation;
      if (validation && !validation.ok) {
        toast((l) => translate(l, "run.failedToStart", { msg: translate(l, "editor.issues", { n: validation.issues.length }) }), "error");
        openPanel("issues");
        return;
      }
      void save();
      useWhy.getState().clear(); // a run replaces the preview with its own reasons
      useRuns.getState().start(targets, mode, useEditor.getState().graph).then(
        () => {
          const ui = useUi.getState();
          if (ui.panelTab === "issues" || !ui.panelOpen) openPanel("curves");
        },
        (e: ApiError) => toast((lang) => translate(lang, "run.failedToStart", { msg: e.message }), "error", 7000),
      );
    },
    cancel: () => void useRuns.getState().cancel().catch((e) => useUi.getState().toast((e as Error).message, "error")),
    preview: (targets: string[], mode: RunMode) => {
      const projectId = useRuns.getState().projectId;
      if (projectId == null) return;
      useUi.getState().openPanel("why");
      void useWhy.getState().load(projectId, targets, mode, useEditor.getState().graph);
    },
  }), [save]);
}
