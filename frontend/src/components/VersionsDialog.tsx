// Saved graph versions of a project; restoring one makes it the newest version.
import { useState } from "react";
import { useLang, useT } from "../i18n";
import { useRestoreVersion, useVersion, useVersions } from "../lib/queries";
import type { Graph } from "../types";
import { GraphPreview } from "./Home";
import { Icon, relativeTime } from "./common";

/** `onRestored(graph, from, to)`: version `from` was restored as the new version `to`. */
export function VersionsDialog({ projectId, current, onClose, onRestored }: {
  projectId: number; current: number; onClose: () => void; onRestored: (graph: Graph, from: number, to: number) => void;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const [picked, setPicked] = useState<number | null>(null);
  const versionsQuery = useVersions(projectId);
  const versions = versionsQuery.data ?? null;
  const graph = useVersion(projectId, picked).data?.graph ?? null;
  const restoring = useRestoreVersion(projectId);
  const error = (versionsQuery.error ?? restoring.error)?.message ?? null;

  const restore = () => {
    if (picked === null) return;
    restoring.mutate(picked, { onSuccess: (restored) => onRestored(restored.graph, picked, restored.version) });
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
          <button className="btn btn-primary" data-testid="version-restore" disabled={picked === null || picked === current} onClick={restore}>
            {t("versions.restore")}
          </button>
        </div>
      </div>
    </div>
  );
}
