// Saved graph versions of a project, each with what changed from the one before (worded here
// from the server's typed items); restoring one makes it the newest version.
import { useCallback, useState } from "react";
import { loc, useLang, useT } from "../i18n";
import { useCatalog, useRestoreVersion, useVersion, useVersions } from "../lib/queries";
import { describeChange, nodeName, summarizeChanges, type ChangeWords } from "../lib/versionChanges";
import type { Graph, GraphNode, VersionChange } from "../types";
import { GraphPreview } from "./Home";
import { Icon, relativeTime } from "./common";

/** A version's changes as a list of sentences ("no changes" when there are none). */
export function VersionChanges({ changes, words, max }: { changes: VersionChange[]; words: ChangeWords; max?: number }) {
  const t = useT();
  if (changes.length === 0) return <span className="version-change muted">{t("change.none")}</span>;
  const { lines, more } = max === undefined
    ? { lines: changes.map((c) => describeChange(c, words)), more: 0 }
    : summarizeChanges(changes, words, max);
  return (
    <>
      {lines.map((line, i) => <span key={i} className="version-change" data-testid="version-change">{line}</span>)}
      {more > 0 && <span className="version-change muted">{t("versions.more", { n: more })}</span>}
    </>
  );
}

/** `onRestored(graph, from, to)`: version `from` was restored as the new version `to`. */
export function VersionsDialog({ projectId, current, onClose, onRestored }: {
  projectId: number; current: number; onClose: () => void; onRestored: (graph: Graph, from: number, to: number) => void;
}) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const catalog = useCatalog().data;
  const words: ChangeWords = { lang, catalog };
  const label = useCallback((n: GraphNode) => nodeName({ id: n.id, type: n.type, label: n.label ?? null }, { lang, catalog }),
    [lang, catalog]);
  const [picked, setPicked] = useState<number | null>(null);
  const versionsQuery = useVersions(projectId);
  const versions = versionsQuery.data ?? null;
  const graph = useVersion(projectId, picked).data?.graph ?? null;
  const pickedInfo = versions?.find((v) => v.version === picked) ?? null;
  const restoring = useRestoreVersion(projectId);
  const error = (versionsQuery.error ?? restoring.error)?.message ?? null;

  const restore = () => {
    if (picked === null) return;
    restoring.mutate(picked, { onSuccess: (restored) => onRestored(restored.graph, picked, restored.version) });
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal modal-wide" data-testid="versions-dialog" onClick={(e) => e.stopPropagation()}>
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
                data-version={v.version} data-saves={v.saves} onClick={() => setPicked(v.version)}>
                <span className="version-head">
                  <span className="mono">v{v.version}</span>
                  {v.version === current && <span className="chip">{t("versions.current")}</span>}
                  {v.runs > 0 && <span className="chip chip-ran" title={t("versions.ran", { n: v.runs })}><Icon name="play" size={11} /> {v.runs}</span>}
                  <span className="spacer" />
                  <span className="muted small" title={v.saves > 1 ? t("versions.saves", { n: v.saves }) : undefined}>
                    {relativeTime(v.saved_at ?? v.created_at, lang)}
                  </span>
                </span>
                <span className="version-changes small">
                  <VersionChanges changes={v.changes} words={words} max={2} />
                </span>
              </button>
            ))}
            {error && <div className="field-error">{error}</div>}
          </div>
          <div className="version-preview" data-testid="version-preview">
            {picked !== null ? <GraphPreview graph={graph ?? undefined} nodeLabel={label} groupLabel={(g) => loc(g.label, lang)} />
              : <div className="muted small pad">{t("versions.pick")}</div>}
            {graph && <div className="muted small">{t("versions.size", { nodes: graph.nodes.length, edges: graph.edges.length })}</div>}
            {pickedInfo && (
              <div className="version-detail" data-testid="version-detail">
                <div className="small version-detail-title">
                  {t("versions.changes")}
                  {pickedInfo.saves > 1 && <span className="muted"> · {t("versions.saves", { n: pickedInfo.saves })}</span>}
                  {pickedInfo.runs > 0 && <span className="muted"> · {t("versions.ran", { n: pickedInfo.runs })}</span>}
                </div>
                <div className="version-changes small"><VersionChanges changes={pickedInfo.changes} words={words} /></div>
              </div>
            )}
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
