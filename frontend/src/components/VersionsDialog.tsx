// Saved graph versions of a project; restoring one makes it the newest version.
import { useEffect, useState } from "react";
import { api } from "../api";
import { useLang, useT } from "../i18n";
import type { Graph, VersionInfo } from "../types";
import { GraphPreview } from "./Home";
import { Icon, relativeTime } from "./common";

export function VersionsDialog({ projectId, current, onClose, onRestored }: {
  projectId: number; current: number; onClose: () => void; onRestored: (version: number, graph: Graph, from: number) => void;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [picked, setPicked] = useState<number | null>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.versions(projectId).then(
      (v) => setVersions([...v].sort((a, b) => b.version - a.version)),
      (e) => setError((e as Error).message),
    );
  }, [projectId]);

  useEffect(() => {
    if (picked === null) return;
    setGraph(null);
    api.version(projectId, picked).then((v) => setGraph(v.graph), () => setGraph(null));
  }, [picked, projectId]);

  const restore = async () => {
    if (picked === null) return;
    try {
      const res = await api.restoreVersion(projectId, picked);
      const full = await api.version(projectId, res.version).catch(() => null);
      onRestored(res.version, full?.graph ?? graph!, picked);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" data-testid="versions-dialog" onClick={(e) => e.stopPropagation()}>
        <div className="modal-head">
          <Icon name="history" /> <span>{t("versions.title")}</span>
          <span className="spacer" />
          <button className="btn btn-ghost btn-icon" onClick={onClose}><Icon name="x" /></button>
        </div>
        <div className="modal-body versions">
          <div className="version-list">
            {versions === null && !error && <div className="muted">{t("editor.loading")}</div>}
            {versions?.length === 0 && <div className="muted">{t("versions.none")}</div>}
            {versions?.map((v) => (
              <button key={v.version} className={`version-row ${picked === v.version ? "active" : ""}`} data-testid="version-row"
                data-version={v.version} onClick={() => setPicked(v.version)}>
                <span className="mono">v{v.version}</span>
                {v.version === current && <span className="chip">{t("versions.current")}</span>}
                <span className="spacer" />
                <span className="muted small">{relativeTime(v.created_at, lang)}</span>
              </button>
            ))}
            {error && <div className="field-error">{error}</div>}
          </div>
          <div className="version-preview">
            {picked !== null ? <GraphPreview graph={graph ?? undefined} /> : <div className="muted small pad">…</div>}
            {graph && <div className="muted small">{graph.nodes.length} nodes · {graph.edges.length} edges</div>}
          </div>
        </div>
        <div className="modal-foot">
          <button className="btn" onClick={onClose}>{t("versions.close")}</button>
          <button className="btn btn-primary" data-testid="version-restore" disabled={picked === null || picked === current} onClick={() => void restore()}>
            {t("versions.restore")}
          </button>
        </div>
      </div>
    </div>
  );
}
