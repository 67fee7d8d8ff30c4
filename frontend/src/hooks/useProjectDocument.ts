// The open project as a document: loaded into the editor store once (with the catalog its
// nodes need), saved as a new graph version a moment after every settled change, and saved
// once more when the page goes away with unsaved edits.
import { useCallback, useEffect, useRef, useState, type MutableRefObject } from "react";
import { api, type ApiError } from "../api";
import { translate } from "../i18n";
import { useCatalog, useProject, useRenameProject, useSaveGraph } from "../lib/queries";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import type { Catalog, Graph } from "../types";

export type SaveState = "saved" | "dirty" | "saving" | "error";

const AUTOSAVE_DELAY_MS = 700;

export interface ProjectDocument {
  loaded: boolean;
  loadError: string | null;
  name: string;
  version: number;
  saveState: SaveState;
  /** Save now (Ctrl+S, before a run); waits for a save in flight first. */
  save: () => Promise<void>;
  rename: (name: string) => Promise<void>;
  /** Show a graph the server already holds as the newest version (a restored one). */
  replace: (graph: Graph) => void;
}

export function useProjectDocument(projectId: number): ProjectDocument {
  const catalog = useCatalog();
  const project = useProject(projectId);
  // The editor-store revision the server has; -1 until the project is loaded.
  const savedRevision = useRef(-1);
  const loaded = useLoadIntoEditor(catalog.data, project.data, savedRevision);
  const { saveState, setSaveState, save } = useAutosave(projectId, loaded, savedRevision);
  useSaveOnLeave(projectId, savedRevision);
  const rename = useRename(projectId, project.data?.name ?? "");

  const replace = useCallback((graph: Graph) => {
    useEditor.getState().load(graph);
    savedRevision.current = useEditor.getState().revision;
    setSaveState("saved");
  }, [setSaveState]);

  return {
    loaded,
    loadError: (project.error ?? catalog.error)?.message ?? null,
    name: project.data?.name ?? "",
    version: project.data?.version ?? 0,
    saveState,
    save,
    rename,
    replace,
  };
}

/** Put the catalog and the project's graph into the editor store once both have arrived. */
function useLoadIntoEditor(catalog: Catalog | undefined, project: { graph?: Graph | null } | undefined,
  savedRevision: MutableRefObject<number>): boolean {
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    if (loaded || !catalog || !project) return;
    const store = useEditor.getState();
    store.setCatalog(catalog);
    store.load(project.graph ?? { nodes: [], edges: [], groups: [] });
    savedRevision.current = useEditor.getState().revision;
    setLoaded(true);
  }, [loaded, catalog, project, savedRevision]);
  return loaded;
}

/** Every settled change becomes a new graph version; saves never overlap. */
function useAutosave(projectId: number, loaded: boolean, savedRevision: MutableRefObject<number>) {
  const [saveState, setSaveState] = useState<SaveState>("saved");
  const revision = useEditor((s) => s.revision);
  const { mutateAsync: saveGraph } = useSaveGraph(projectId);
  const inFlight = useRef<Promise<void> | null>(null);

  const save = useCallback(async () => {
    if (inFlight.current) await inFlight.current;
    const { revision: rev, graph } = useEditor.getState();
    if (rev === savedRevision.current) {
      setSaveState("saved");
      return;
    }
    setSaveState("saving");
    const job = saveGraph(graph).then(
      () => {
        savedRevision.current = rev;
        setSaveState(useEditor.getState().revision === rev ? "saved" : "dirty");
      },
      (e: ApiError) => {
        setSaveState("error");
        const toast = useUi.getState().toast;
        toast((lang) => `${translate(lang, "editor.saveFailed")}: ${e.message}`, "error");
      },
    );
    inFlight.current = job.finally(() => (inFlight.current = null));
    await job;
  }, [saveGraph, savedRevision]);

  useEffect(() => {
    if (!loaded || revision === savedRevision.current) return;
    setSaveState("dirty");
    const timer = setTimeout(() => void save(), AUTOSAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [revision, loaded, save, savedRevision]);

  return { saveState, setSaveState, save };
}

/** Unsaved edits still reach the server when the tab closes or the editor is left. */
function useSaveOnLeave(projectId: number, savedRevision: MutableRefObject<number>) {
  useEffect(() => {
    const saveIfUnsaved = () => {
      const { revision, graph } = useEditor.getState();
      if (savedRevision.current >= 0 && revision !== savedRevision.current) api.saveGraphOnUnload(projectId, graph);
    };
    window.addEventListener("beforeunload", saveIfUnsaved);
    return () => {
      window.removeEventListener("beforeunload", saveIfUnsaved);
      saveIfUnsaved();
    };
  }, [projectId, savedRevision]);
}

function useRename(projectId: number, current: string) {
  const { mutateAsync: renameProject } = useRenameProject();
  return useCallback(async (next: string) => {
    const name = next.trim();
    if (!name || name === current) return;
    try {
      await renameProject({ id: projectId, name });
    } catch (e) {
      useUi.getState().toast((e as Error).message, "error");
    }
  }, [projectId, current, renameProject]);
}
