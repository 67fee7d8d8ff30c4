// The editor page: top bar, palette, canvas, inspector and run panel. What it does lives in
// hooks (the project document with autosave, live validation, shortcuts, node states, run
// actions); this file wires them together and draws the page.
import { useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import { useCanvasView } from "../hooks/useCanvasView";
import { useEditorShortcuts } from "../hooks/useEditorShortcuts";
import { useLiveValidation } from "../hooks/useLiveValidation";
import { useNodeStatuses } from "../hooks/useNodeStatuses";
import { useProjectDocument, type SaveState } from "../hooks/useProjectDocument";
import { useProjectRuns } from "../hooks/useProjectRuns";
import { useRunActions } from "../hooks/useRunActions";
import { translate, useT } from "../i18n";
import { navigate } from "../nav";
import { useEditor } from "../store/editor";
import { latestView, useRuns } from "../store/runs";
import { useUi } from "../store/ui";
import type { EditorActions } from "./context";
import type { Graph } from "../types";
import { Canvas } from "./Canvas";
import { Icon, LangSwitch, Logo } from "./common";
import { ActionsContext, ResultsContext, StatusContext } from "./context";
import { Inspector } from "./Inspector";
import { Palette } from "./Palette";
import { RunPanel } from "./RunPanel";
import { VersionsDialog } from "./VersionsDialog";
import { RunsCompareButton } from "./RunsCompare";

function EditorInner({ projectId }: { projectId: number }) {
  const t = useT();
  const [showVersions, setShowVersions] = useState(false);

  const project = useProjectDocument(projectId);
  const { validating } = useLiveValidation(project.loaded);
  useProjectRuns(projectId, project.loaded);
  const { results, statuses } = useNodeStatuses();
  const actions = useRunActions(project.save);
  const { fit, layout } = useCanvasView();
  useEditorShortcuts({ save: project.save, fit, layout, paused: showVersions });

  const onRestored = (graph: Graph, from: number, to: number) => {
    setShowVersions(false);
    project.replace(graph);
    useUi.getState().toast((lang) => translate(lang, "versions.restored", { v: from, n: to }), "success");
    setTimeout(fit, 80);
  };

  if (project.loadError)
    return (
      <div className="center-message">
        <p>{project.loadError}</p>
        <button className="btn" onClick={() => navigate("#/")}>{t("editor.back")}</button>
      </div>
    );
  if (!project.loaded) return <div className="center-message muted">{t("editor.loading")}</div>;

  return (
    <ActionsContext.Provider value={actions}>
      <StatusContext.Provider value={statuses}>
        <ResultsContext.Provider value={results}>
          <div className="editor" data-testid="editor">
            <header className="topbar">
              <a className="brand" href="#/" title={t("editor.back")}><Logo /></a>
              <button className="btn btn-ghost" data-testid="back" onClick={() => navigate("#/")}>
                <Icon name="back" /> {t("editor.back")}
              </button>
              <span className="sep">/</span>
              <ProjectTitle name={project.name} rename={project.rename} />
              <SaveStateBadge state={project.saveState} version={project.version} />
              <div className="spacer" />
              <ViewTools fit={fit} layout={layout} />
              <IssuesBadge validating={validating} />
              <RunButton actions={actions} />
              <RunsCompareButton projectId={projectId} />
              <button className="btn btn-ghost" data-testid="versions" onClick={() => setShowVersions(true)}>
                <Icon name="history" /> {t("editor.versions")}
              </button>
              <LangSwitch />
            </header>
            <div className="editor-body">
              <Palette />
              <div className="center">
                <Canvas />
                <RunPanel />
              </div>
              <Inspector />
            </div>
            {showVersions && (
              <VersionsDialog projectId={projectId} current={project.version} onClose={() => setShowVersions(false)}
                onRestored={onRestored} />
            )}
          </div>
        </ResultsContext.Provider>
      </StatusContext.Provider>
    </ActionsContext.Provider>
  );
}

/** The project's name; a click turns it into a field (Enter or leaving it renames, Escape does not). */
function ProjectTitle({ name, rename }: { name: string; rename: (name: string) => Promise<void> }) {
  const t = useT();
  const [editing, setEditing] = useState(false);
  const finish = (next: string) => {
    setEditing(false);
    void rename(next);
  };
  if (!editing)
    return (
      <button className="project-title" data-testid="project-name" onClick={() => setEditing(true)} title={t("home.rename")}>
        {name}
      </button>
    );
  return (
    <input className="input project-title-input" autoFocus defaultValue={name} data-testid="project-name-input"
      onBlur={(e) => finish(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") finish((e.target as HTMLInputElement).value);
        if (e.key === "Escape") setEditing(false);
      }} />
  );
}

function SaveStateBadge({ state, version }: { state: SaveState; version: number }) {
  const t = useT();
  const text = state === "saving" ? t("editor.saving") : state === "dirty" ? t("editor.unsaved") :
    state === "error" ? t("editor.saveFailed") : t("editor.saved", { n: version });
  return (
    <span className={`save-state save-${state}`} data-testid="save-state" data-state={state}>
      <span className="save-dot" />{text}
    </span>
  );
}

function ViewTools({ fit, layout }: { fit: () => void; layout: () => void }) {
  const t = useT();
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  return (
    <div className="toolgroup">
      <button className="btn btn-ghost btn-icon" disabled={!canUndo} title={t("editor.undo")} data-testid="undo"
        onClick={() => useEditor.getState().undo()}><Icon name="undo" /></button>
      <button className="btn btn-ghost btn-icon" disabled={!canRedo} title={t("editor.redo")} data-testid="redo"
        onClick={() => useEditor.getState().redo()}><Icon name="redo" /></button>
      <button className="btn btn-ghost btn-icon" title={`${t("editor.layout")} (L)`} data-testid="layout" onClick={layout}><Icon name="layout" /></button>
      <button className="btn btn-ghost btn-icon" title={`${t("editor.fit")} (F)`} data-testid="fit" onClick={fit}><Icon name="fit" /></button>
    </div>
  );
}

function IssuesBadge({ validating }: { validating: boolean }) {
  const t = useT();
  const validation = useEditor((s) => s.validation);
  const openPanel = useUi((s) => s.openPanel);
  const count = validation?.issues.length ?? 0;
  return (
    <button className={`issues-badge ${count ? "bad" : "good"}`} data-testid="issues-badge" data-count={count}
      onClick={() => openPanel("issues")}>
      <Icon name={count ? "warn" : "check"} size={14} />
      {validating && !validation ? t("editor.validating") : count ? t("editor.issues", { n: count }) : t("editor.noIssues")}
    </button>
  );
}

/** Run everything, or cancel the run in progress. */
function RunButton({ actions }: { actions: EditorActions }) {
  const t = useT();
  const active = useRuns((s) => latestView(s)?.active ?? false);
  if (active)
    return (
      <button className="btn btn-danger" data-testid="cancel-run" onClick={actions.cancel}>
        <Icon name="stop" size={13} /> {t("editor.cancel")}
      </button>
    );
  return (
    <button className="btn btn-primary" data-testid="run-all" onClick={() => actions.run([], "all")}>
      <Icon name="playAll" size={14} /> {t("editor.runAll")}
    </button>
  );
}

export function Editor({ projectId }: { projectId: number }) {
  return (
    <ReactFlowProvider>
      <EditorInner projectId={projectId} />
    </ReactFlowProvider>
  );
}
