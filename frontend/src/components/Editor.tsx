// The editor page: top bar, palette, canvas, inspector and run panel; validation as you
// edit, autosave as graph versions, keyboard shortcuts and the run actions.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { api, ApiError } from "../api";
import { translate, useLang, useT } from "../i18n";
import { lastResults, nodeStatus, type NodeStatus } from "../lib/runstate";
import { navigate } from "../nav";
import { useEditor } from "../store/editor";
import { latestView, orderedViews, useRuns } from "../store/runs";
import { useUi } from "../store/ui";
import type { Catalog, Graph, RunMode } from "../types";
import { Canvas } from "./Canvas";
import { Icon, LangSwitch, Logo } from "./common";
import { ActionsContext, ResultsContext, StatusContext, type EditorActions } from "./context";
import { Inspector } from "./Inspector";
import { Palette } from "./Palette";
import { RunPanel } from "./RunPanel";
import { VersionsDialog } from "./VersionsDialog";

let catalogPromise: Promise<Catalog> | null = null;
function loadCatalog(): Promise<Catalog> {
  catalogPromise ??= api.components().catch((e) => {
    catalogPromise = null;
    throw e;
  });
  return catalogPromise;
}

type SaveState = "saved" | "dirty" | "saving" | "error";

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
}

function EditorInner({ projectId }: { projectId: number }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const toast = useUi((s) => s.toast);
  const openPanel = useUi((s) => s.openPanel);
  const rf = useReactFlow();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [editingName, setEditingName] = useState(false);
  const [version, setVersion] = useState(0);
  const [saveState, setSaveState] = useState<SaveState>("saved");
  const [showVersions, setShowVersions] = useState(false);
  const [validating, setValidating] = useState(false);

  const revision = useEditor((s) => s.revision);
  const graph = useEditor((s) => s.graph);
  const validation = useEditor((s) => s.validation);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const runs = useRuns((s) => s.runs);
  const views = useRuns((s) => s.views);
  const latest = useRuns(latestView);

  const savedRevision = useRef(-1);
  const saving = useRef<Promise<void> | null>(null);
  const validateSeq = useRef(0);

  // Load the catalog, the project and its runs.
  useEffect(() => {
    let alive = true;
    setLoaded(false);
    Promise.all([loadCatalog(), api.project(projectId)])
      .then(([catalog, project]) => {
        if (!alive) return;
        const store = useEditor.getState();
        store.setCatalog(catalog);
        store.load(project.graph ?? { nodes: [], edges: [], groups: [] });
        savedRevision.current = useEditor.getState().revision;
        setName(project.name);
        setVersion(project.version);
        setSaveState("saved");
        setLoaded(true);
        void useRuns.getState().loadProject(projectId).catch((e) => toast((e as Error).message, "error"));
      })
      .catch((e: ApiError) => alive && setLoadError(e.message));
    return () => {
      alive = false;
      useRuns.getState().reset(null);
    };
  }, [projectId, toast]);

  // Validation as you edit.
  useEffect(() => {
    if (!loaded) return;
    const rev = revision;
    const timer = setTimeout(() => {
      const seq = ++validateSeq.current;
      setValidating(true);
      api.validate(useEditor.getState().graph).then(
        (v) => {
          if (seq === validateSeq.current) {
            useEditor.getState().setValidation(v, rev);
            setValidating(false);
          }
        },
        (e: ApiError) => {
          if (seq === validateSeq.current) setValidating(false);
          toast(e.message, "error");
        },
      );
    }, 180);
    return () => clearTimeout(timer);
  }, [revision, loaded, toast]);

  // Autosave: every settled change becomes a new graph version.
  const save = useCallback(async () => {
    if (saving.current) await saving.current;
    const rev = useEditor.getState().revision;
    if (rev === savedRevision.current) {
      setSaveState("saved");
      return;
    }
    setSaveState("saving");
    const job = api.saveGraph(projectId, useEditor.getState().graph).then(
      (res) => {
        savedRevision.current = rev;
        setVersion(res.version);
        setSaveState(useEditor.getState().revision === rev ? "saved" : "dirty");
      },
      (e: ApiError) => {
        setSaveState("error");
        toast(`${translate(useLang.getState().lang, "editor.saveFailed")}: ${e.message}`, "error");
      },
    );
    saving.current = job.finally(() => (saving.current = null));
    await job;
  }, [projectId, toast]);

  useEffect(() => {
    if (!loaded || revision === savedRevision.current) return;
    setSaveState("dirty");
    const timer = setTimeout(() => void save(), 700);
    return () => clearTimeout(timer);
  }, [revision, loaded, save]);

  useEffect(() => {
    const onUnload = () => {
      if (useEditor.getState().revision !== savedRevision.current)
        void fetch(`/api/projects/${projectId}/graph`, {
          method: "PUT", keepalive: true, headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ graph: useEditor.getState().graph }),
        });
    };
    window.addEventListener("beforeunload", onUnload);
    return () => {
      window.removeEventListener("beforeunload", onUnload);
      onUnload();
    };
  }, [projectId]);

  // Node states from the runs and the current cache keys.
  const results = useMemo(() => lastResults(orderedViews({ runs, views })), [runs, views]);
  const statuses = useMemo(() => {
    const out: Record<string, NodeStatus> = {};
    for (const n of graph.nodes) out[n.id] = nodeStatus(n.id, latest, results, validation?.keys, validation?.cached);
    return out;
  }, [graph.nodes, latest, results, validation]);

  const actions: EditorActions = useMemo(
    () => ({
      run: (targets: string[], mode: RunMode) => {
        const v = useEditor.getState().validation;
        const l = useLang.getState().lang;
        if (v && !v.ok) {
          toast(translate(l, "run.failedToStart", { msg: translate(l, "editor.issues", { n: v.issues.length }) }), "error");
          openPanel("issues");
          return;
        }
        void save();
        useRuns.getState().start(targets, mode, useEditor.getState().graph).then(
          () => {
            const ui = useUi.getState();
            if (ui.panelTab === "issues" || !ui.panelOpen) openPanel("curves");
          },
          (e: ApiError) => toast(translate(l, "run.failedToStart", { msg: e.message }), "error", 7000),
        );
      },
      cancel: () => void useRuns.getState().cancel().catch((e) => toast((e as Error).message, "error")),
    }),
    [toast, openPanel, save],
  );

  const fit = useCallback(() => void rf.fitView({ padding: 0.12, duration: 300 }), [rf]);
  const layout = useCallback(() => {
    useEditor.getState().layout();
    setTimeout(fit, 60);
  }, [fit]);

  // Keyboard shortcuts.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || showVersions) return;
      const s = useEditor.getState();
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      const l = useLang.getState().lang;
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        s.removeSelection();
      } else if (mod && k === "c") {
        const n = s.copy();
        if (n) toast(translate(l, "toast.copied", { n }), "info", 1500);
      } else if (mod && k === "v") {
        e.preventDefault();
        s.paste();
      } else if (mod && k === "d") {
        e.preventDefault();
        s.duplicate(s.selectedNodes);
      } else if (mod && k === "z" && !e.shiftKey) {
        e.preventDefault();
        s.undo();
      } else if (mod && (k === "y" || (k === "z" && e.shiftKey))) {
        e.preventDefault();
        s.redo();
      } else if (mod && k === "a") {
        e.preventDefault();
        s.selectAll();
      } else if (mod && k === "s") {
        e.preventDefault();
        void save();
      } else if (!mod && k === "f") {
        fit();
      } else if (!mod && k === "l") {
        layout();
      } else if (e.key === "Escape") {
        s.select([], [], []);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [fit, layout, save, showVersions, toast]);

  const rename = async (next: string) => {
    setEditingName(false);
    const trimmed = next.trim();
    if (!trimmed || trimmed === name) return;
    try {
      await api.renameProject(projectId, trimmed);
      setName(trimmed);
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const onRestored = (v: number, restored: Graph, from: number) => {
    setShowVersions(false);
    useEditor.getState().load(restored);
    savedRevision.current = useEditor.getState().revision;
    setVersion(v);
    setSaveState("saved");
    toast(translate(lang, "versions.restored", { v: from, n: v }), "success");
    setTimeout(fit, 80);
  };

  if (loadError)
    return (
      <div className="center-message">
        <p>{loadError}</p>
        <button className="btn" onClick={() => navigate("#/")}>{t("editor.back")}</button>
      </div>
    );
  if (!loaded) return <div className="center-message muted">{t("editor.loading")}</div>;

  const issueCount = validation?.issues.length ?? 0;
  const saveText = saveState === "saving" ? t("editor.saving") : saveState === "dirty" ? t("editor.unsaved") :
    saveState === "error" ? t("editor.saveFailed") : t("editor.saved", { n: version });

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
              {editingName ? (
                <input className="input project-title-input" autoFocus defaultValue={name} data-testid="project-name-input"
                  onBlur={(e) => void rename(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") void rename((e.target as HTMLInputElement).value);
                    if (e.key === "Escape") setEditingName(false);
                  }} />
              ) : (
                <button className="project-title" data-testid="project-name" onClick={() => setEditingName(true)} title={t("home.rename")}>
                  {name}
                </button>
              )}
              <span className={`save-state save-${saveState}`} data-testid="save-state" data-state={saveState}>
                <span className="save-dot" />{saveText}
              </span>
              <div className="spacer" />
              <div className="toolgroup">
                <button className="btn btn-ghost btn-icon" disabled={!canUndo} title={t("editor.undo")} data-testid="undo"
                  onClick={() => useEditor.getState().undo()}><Icon name="undo" /></button>
                <button className="btn btn-ghost btn-icon" disabled={!canRedo} title={t("editor.redo")} data-testid="redo"
                  onClick={() => useEditor.getState().redo()}><Icon name="redo" /></button>
                <button className="btn btn-ghost btn-icon" title={`${t("editor.layout")} (L)`} data-testid="layout" onClick={layout}><Icon name="layout" /></button>
                <button className="btn btn-ghost btn-icon" title={`${t("editor.fit")} (F)`} data-testid="fit" onClick={fit}><Icon name="fit" /></button>
              </div>
              <button className={`issues-badge ${issueCount ? "bad" : "good"}`} data-testid="issues-badge" data-count={issueCount}
                onClick={() => openPanel("issues")}>
                <Icon name={issueCount ? "warn" : "check"} size={14} />
                {validating && !validation ? t("editor.validating") : issueCount ? t("editor.issues", { n: issueCount }) : t("editor.noIssues")}
              </button>
              {latest?.active ? (
                <button className="btn btn-danger" data-testid="cancel-run" onClick={actions.cancel}>
                  <Icon name="stop" size={13} /> {t("editor.cancel")}
                </button>
              ) : (
                <button className="btn btn-primary" data-testid="run-all" onClick={() => actions.run([], "all")}>
                  <Icon name="playAll" size={14} /> {t("editor.runAll")}
                </button>
              )}
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
              <VersionsDialog projectId={projectId} current={version} onClose={() => setShowVersions(false)} onRestored={onRestored} />
            )}
          </div>
        </ResultsContext.Provider>
      </StatusContext.Provider>
    </ActionsContext.Provider>
  );
}

export function Editor({ projectId }: { projectId: number }) {
  return (
    <ReactFlowProvider>
      <EditorInner projectId={projectId} />
    </ReactFlowProvider>
  );
}
