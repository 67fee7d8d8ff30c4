// The start page: the template gallery (double-click to create a project), the projects list and the cache.
import { useEffect, useState, type DragEvent } from "react";
import { loc, useLang, useT } from "../i18n";
import { navigate } from "../nav";
import { autoLayout } from "../lib/layout";
import { cardPorts, nodeSize, portPoint } from "../lib/nodeSize";
import { carriesFiles, droppedFile, modelDropDone, modelDropError } from "../lib/modelDrop";
import {
  useCreateProject, useDeleteProject, useProjectFromModel, useProjects, useRenameProject, useTemplateGraphs, useTemplates,
} from "../lib/queries";
import { useUi } from "../store/ui";
import type { Graph, GraphGroup, GraphNode, TemplateInfo } from "../types";
import { CacheStatus } from "./CacheStatus";
import { categoryColor, Icon, LangSwitch, Logo, relativeTime } from "./common";
import { formatSize } from "./WeightsStatus";

/** The weight files a template reads that this server does not have yet (a download before it runs). */
const missingWeights = (template: TemplateInfo) => (template.weights ?? []).filter((w) => !w.present);

/**
 * A small drawing of a graph: group frames, cards and wires, at the sizes the canvas uses. With
 * `layout` (the gallery) the graph is drawn as the automatic layout places it; without (saved
 * versions), where its nodes stand.
 */
export function GraphPreview({ graph, layout = false, nodeLabel, groupLabel }: {
  graph?: Graph; layout?: boolean; nodeLabel?: (node: GraphNode) => string; groupLabel?: (group: GraphGroup) => string;
}) {
  const shown = useShownGraph(graph, layout);
  if (!shown || !shown.nodes?.length) return <div className="preview preview-empty" />;
  const ports = cardPorts(shown);
  const cards = new Map(shown.nodes.map((n) => [n.id, { ...n.position, ...nodeSize(ports.get(n.id)) }]));
  const boxes = [...cards.values(), ...shown.groups.map((g) => ({ ...g.position, width: g.width, height: g.height }))];
  const x0 = Math.min(...boxes.map((b) => b.x)) - 20;
  const y0 = Math.min(...boxes.map((b) => b.y)) - 20;
  const x1 = Math.max(...boxes.map((b) => b.x + b.width)) + 20;
  const y1 = Math.max(...boxes.map((b) => b.y + b.height)) + 20;
  return (
    <svg className="preview" viewBox={`${x0} ${y0} ${x1 - x0} ${y1 - y0}`} preserveAspectRatio="xMidYMid meet">
      {shown.groups.map((g) => {
        const label = groupLabel?.(g);
        return (
          <g key={g.id}>
            <rect x={g.position.x} y={g.position.y} width={g.width} height={g.height} rx="18" className="pv-group" />
            {label && (
              <text x={g.position.x + 16} y={g.position.y + 12} className="pv-group-label" dominantBaseline="hanging"
                fontSize={PREVIEW_GROUP_LABEL_SIZE}>
                <title>{label}</title>
                {fitLabel(label, g.width - 32, PREVIEW_GROUP_LABEL_SIZE)}
              </text>
            )}
          </g>
        );
      })}
      {shown.edges.map((e) => {
        const a = cards.get(e.source);
        const b = cards.get(e.target);
        const from = ports.get(e.source);
        const to = ports.get(e.target);
        if (!a || !b || !from || !to) return null;
        const out = portPoint(from, "out", e.sourceHandle);
        const into = portPoint(to, "in", e.targetHandle);
        return <path key={e.id} className="pv-edge" d={wirePath(a.x + out.x, a.y + out.y, b.x + into.x, b.y + into.y)} />;
      })}
      {shown.nodes.map((n) => {
        const c = cards.get(n.id)!;
        const label = nodeLabel?.(n);
        return (
          <g key={n.id} data-testid="preview-node" data-node={n.id}>
            <rect x={c.x} y={c.y} width={c.width} height={c.height} rx="12" className="pv-node" />
            <rect x={c.x} y={c.y} width={c.width} height="14" rx="7" fill={categoryColor(n.type.split(".")[0])} />
            {label && (
              <text x={c.x + c.width / 2} y={c.y + 7 + c.height / 2} className="pv-label" textAnchor="middle"
                dominantBaseline="middle" fontSize={PREVIEW_LABEL_SIZE}>
                <title>{label}</title>
                {fitLabel(label, c.width - 24, PREVIEW_LABEL_SIZE)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

const PREVIEW_LABEL_SIZE = 30; // in the graph's units: legible once a whole graph is shrunk to the preview
const PREVIEW_GROUP_LABEL_SIZE = 24;

/** ``text`` cut to what fits ``width`` at ``size`` (a wide character, such as a Chinese one, about 1em; others about 0.6em). */
export function fitLabel(text: string, width: number, size: number): string {
  let used = 0;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    used += (chars[i].codePointAt(0)! > 0x2e80 ? 1 : 0.6) * size;
    if (used > width) return `${chars.slice(0, Math.max(1, i - 1)).join("")}…`;
  }
  return text;
}

/** A wire from an output on a card's bottom edge down to an input on another card's top edge. */
function wirePath(sx: number, sy: number, tx: number, ty: number): string {
  const bend = Math.max(40, Math.abs(ty - sy) / 2);
  return `M${sx},${sy} C${sx},${sy + bend} ${tx},${ty - bend} ${tx},${ty}`;
}

// Laid-out previews by the template graph they show: a gallery shown again (back from the
// editor) draws at once, without asking ELK again. The query cache keeps each graph object
// (structural sharing keeps it across refetches), so the entry lives as long as it does.
const laidOutPreviews = new WeakMap<Graph, Graph>();

/** The graph to draw: laid out when asked (nothing until ELK first answers), else as it is. */
function useShownGraph(graph: Graph | undefined, layout: boolean): Graph | undefined {
  const [, setLaidOut] = useState(0);
  useEffect(() => {
    if (!layout || !graph?.nodes?.length || laidOutPreviews.has(graph)) return;
    let current = true;
    const keep = (shown: Graph) => {
      laidOutPreviews.set(graph, shown);
      if (current) setLaidOut((n) => n + 1);
    };
    autoLayout(graph).then(keep, () => keep(graph)); // no layout: draw it where it stands
    return () => { current = false; };
  }, [graph, layout]);
  if (!layout) return graph;
  return graph && laidOutPreviews.get(graph);
}

export function Home() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const toast = useUi((s) => s.toast);
  // Server state (a failed list shows as empty, with a toast); null while loading.
  const templatesQuery = useTemplates();
  const templates = templatesQuery.data ?? (templatesQuery.isError ? [] : null);
  const graphs = useTemplateGraphs(templatesQuery.data);
  const projectsQuery = useProjects();
  const projects = projectsQuery.data ?? (projectsQuery.isError ? [] : null);
  const createProject = useCreateProject();
  const renameProject = useRenameProject();
  const deleteProject = useDeleteProject();
  const projectFromModel = useProjectFromModel();
  const [dragging, setDragging] = useState(false);
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (template: TemplateInfo | null) => {
    if (busy) return;
    setBusy(true);
    try {
      const name = template ? loc(template.name, lang) : t("home.untitled");
      const graph = template ? null : { nodes: [], edges: [], groups: [] };
      const project = await createProject.mutateAsync({ name, template: template?.id ?? null, graph });
      navigate(`#/project/${project.id}`);
    } catch (e) {
      toast((e as Error).message, "error");
    } finally {
      setBusy(false);
    }
  };

  // A model file dropped anywhere on the page opens the graph that made it.
  const onDragOver = (e: DragEvent) => {
    if (!carriesFiles(e.dataTransfer?.types)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    if (!dragging) setDragging(true);
  };
  const onDragLeave = (e: DragEvent) => {
    // leaving for a child of the page is no leaving
    if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
  };
  const onDrop = async (e: DragEvent) => {
    if (!carriesFiles(e.dataTransfer?.types)) return;
    e.preventDefault();
    setDragging(false);
    const file = droppedFile(e.dataTransfer.files);
    if (!file || busy) return;
    setBusy(true);
    try {
      const project = await projectFromModel.mutateAsync(file);
      toast((l) => modelDropDone(project.model_result, project.node, l), project.model_result === "absent" ? "info" : "success");
      navigate(`#/project/${project.id}`);
    } catch (err) {
      toast((l) => modelDropError(err as { code?: string; message?: string }, file.name, l), "error", 8000);
    } finally {
      setBusy(false);
    }
  };

  const rename = async () => {
    if (!renaming) return;
    const name = renaming.name.trim();
    setRenaming(null);
    if (!name) return;
    try {
      await renameProject.mutateAsync({ id: renaming.id, name });
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const remove = async (id: number) => {
    setConfirming(null);
    try {
      await deleteProject.mutateAsync(id);
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  return (
    <div className={`home${dragging ? " home-dropping" : ""}`} data-testid="home" data-dropping={dragging ? "true" : "false"}
      onDragOver={onDragOver} onDragEnter={onDragOver} onDragLeave={onDragLeave} onDrop={(e) => void onDrop(e)}>
      {dragging && <div className="home-drop" data-testid="model-drop">{t("home.dropHere")}</div>}
      <header className="topbar">
        <div className="brand"><Logo /><span className="brand-name">{t("app.name")}</span><span className="brand-tag">{t("app.tagline")}</span></div>
        <div className="spacer" />
        <LangSwitch />
      </header>
      <main className="home-main">
        <section>
          <div className="section-head">
            <h2>{t("home.templates")}</h2>
            <span className="muted">{t("home.templates.hint")}</span>
          </div>
          <div className="template-grid">
            {templates === null && <div className="muted">{t("editor.loading")}</div>}
            {templates?.map((tpl) => (
              <div
                key={tpl.id}
                className="template-card"
                data-testid="template-card"
                data-template={tpl.id}
                tabIndex={0}
                onDoubleClick={() => void create(tpl)}
                onKeyDown={(e) => e.key === "Enter" && void create(tpl)}
              >
                <GraphPreview graph={graphs[tpl.id]} layout />
                <div className="template-body">
                  <div className="template-title">{loc(tpl.name, lang)}</div>
                  <div className="template-desc">{loc(tpl.description, lang)}</div>
                  <div className="template-meta">
                    {graphs[tpl.id] && <span className="chip">{t("home.nodes", { n: graphs[tpl.id].nodes.length })}</span>}
                    {missingWeights(tpl).length > 0 && (
                      <span className="chip" data-testid="template-download"
                        title={t("home.download.title", { files: missingWeights(tpl).map((w) => w.file).join(", ") })}>
                        {t("home.download", { size: formatSize(missingWeights(tpl).reduce((n, w) => n + w.size, 0)) })}
                      </span>
                    )}
                    <button className="btn btn-small" onClick={() => void create(tpl)}>{t("home.use")}</button>
                  </div>
                </div>
              </div>
            ))}
            <div className="template-card template-blank" data-testid="new-project" tabIndex={0}
              onDoubleClick={() => void create(null)} onClick={() => void create(null)}>
              <div className="blank-plus"><Icon name="plus" size={28} /></div>
              <div className="template-body"><div className="template-title">{t("home.new")}</div></div>
            </div>
          </div>
        </section>
        <section>
          <div className="section-head"><h2>{t("home.projects")}</h2><span className="muted">{t("home.dropHint")}</span></div>
          {projects !== null && projects.length === 0 && <div className="empty-note">{t("home.projects.empty")}</div>}
          <div className="project-list" data-testid="project-list">
            {projects?.map((p) => (
              <div key={p.id} className="project-row" data-testid="project-row" data-project={p.id}
                onDoubleClick={() => navigate(`#/project/${p.id}`)}>
                <Icon name="folder" size={18} />
                {renaming?.id === p.id ? (
                  <input
                    className="input project-rename"
                    autoFocus
                    value={renaming.name}
                    onChange={(e) => setRenaming({ id: p.id, name: e.target.value })}
                    onBlur={() => void rename()}
                    onKeyDown={(e) => {
                      if (e.key === "Enter") void rename();
                      if (e.key === "Escape") setRenaming(null);
                    }}
                  />
                ) : (
                  <a className="project-name" href={`#/project/${p.id}`}>{p.name}</a>
                )}
                <span className="chip">{t("home.version", { n: p.version })}</span>
                <span className="muted small">{t("home.updated", { time: relativeTime(p.updated_at, lang) })}</span>
                <div className="spacer" />
                {confirming === p.id ? (
                  <span className="confirm">
                    {t("home.delete.confirm", { name: p.name })}
                    <button className="btn btn-danger btn-small" onClick={() => void remove(p.id)}>{t("home.delete")}</button>
                    <button className="btn btn-small" onClick={() => setConfirming(null)}>{t("common.cancel")}</button>
                  </span>
                ) : (
                  <>
                    <button className="btn btn-ghost btn-small" onClick={() => navigate(`#/project/${p.id}`)}>{t("home.open")}</button>
                    <button className="btn btn-ghost btn-small" title={t("home.rename")} onClick={() => setRenaming({ id: p.id, name: p.name })}>
                      <Icon name="edit" />
                    </button>
                    <button className="btn btn-ghost btn-small" title={t("home.delete")} onClick={() => setConfirming(p.id)}>
                      <Icon name="trash" />
                    </button>
                  </>
                )}
              </div>
            ))}
          </div>
        </section>
        <CacheStatus />
      </main>
    </div>
  );
}
