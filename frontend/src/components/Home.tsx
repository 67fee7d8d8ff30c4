// The start page: the template gallery (double-click to create a project) and the projects list.
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { loc, useLang, useT } from "../i18n";
import { navigate } from "../nav";
import { useUi } from "../store/ui";
import type { Graph, Project, TemplateInfo } from "../types";
import { categoryColor, Icon, LangSwitch, Logo, relativeTime } from "./common";

export function GraphPreview({ graph }: { graph?: Graph }) {
  if (!graph || !graph.nodes?.length) return <div className="preview preview-empty" />;
  const xs = [...graph.nodes.map((n) => n.position.x), ...graph.groups.map((g) => g.position.x)];
  const ys = [...graph.nodes.map((n) => n.position.y), ...graph.groups.map((g) => g.position.y)];
  const x1 = Math.max(...graph.nodes.map((n) => n.position.x + 240), ...graph.groups.map((g) => g.position.x + g.width));
  const y1 = Math.max(...graph.nodes.map((n) => n.position.y + 100), ...graph.groups.map((g) => g.position.y + g.height));
  const x0 = Math.min(...xs) - 20;
  const y0 = Math.min(...ys) - 20;
  const pos = new Map(graph.nodes.map((n) => [n.id, n.position]));
  return (
    <svg className="preview" viewBox={`${x0} ${y0} ${x1 - x0 + 20} ${y1 - y0 + 20}`} preserveAspectRatio="xMidYMid meet">
      {graph.groups.map((g) => (
        <rect key={g.id} x={g.position.x} y={g.position.y} width={g.width} height={g.height} rx="18" className="pv-group" />
      ))}
      {graph.edges.map((e) => {
        const a = pos.get(e.source);
        const b = pos.get(e.target);
        if (!a || !b) return null;
        return (
          <path key={e.id} className="pv-edge"
            d={`M${a.x + 120},${a.y + 90} C${a.x + 120},${a.y + 160} ${b.x + 120},${b.y - 60} ${b.x + 120},${b.y}`} />
        );
      })}
      {graph.nodes.map((n) => (
        <g key={n.id}>
          <rect x={n.position.x} y={n.position.y} width="240" height="90" rx="14" className="pv-node" />
          <rect x={n.position.x} y={n.position.y} width="240" height="16" rx="8" fill={categoryColor(n.type.split(".")[0])} />
        </g>
      ))}
    </svg>
  );
}

export function Home() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const toast = useUi((s) => s.toast);
  const [templates, setTemplates] = useState<TemplateInfo[] | null>(null);
  const [graphs, setGraphs] = useState<Record<string, Graph>>({});
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = () =>
    api.projects().then(
      (p) => setProjects([...p].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)))),
      (e: ApiError) => { setProjects([]); toast(e.message, "error"); },
    );

  useEffect(() => {
    api.templates().then(
      (list) => {
        setTemplates(list);
        for (const tpl of list)
          api.template(tpl.id).then((full) => setGraphs((g) => ({ ...g, [tpl.id]: full.graph })), () => undefined);
      },
      (e: ApiError) => { setTemplates([]); toast(e.message, "error"); },
    );
    void refresh();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const create = async (template: TemplateInfo | null) => {
    if (busy) return;
    setBusy(true);
    try {
      const name = template ? loc(template.name, lang) : t("home.untitled");
      const project = await api.createProject(name, template?.id ?? null, template ? null : { nodes: [], edges: [], groups: [] });
      navigate(`#/project/${project.id}`);
    } catch (e) {
      toast((e as Error).message, "error");
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
      await api.renameProject(renaming.id, name);
      await refresh();
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const remove = async (id: number) => {
    setConfirming(null);
    try {
      await api.deleteProject(id);
      await refresh();
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  return (
    <div className="home" data-testid="home">
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
                <GraphPreview graph={graphs[tpl.id]} />
                <div className="template-body">
                  <div className="template-title">{loc(tpl.name, lang)}</div>
                  <div className="template-desc">{loc(tpl.description, lang)}</div>
                  <div className="template-meta">
                    {graphs[tpl.id] && <span className="chip">{t("home.nodes", { n: graphs[tpl.id].nodes.length })}</span>}
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
          <div className="section-head"><h2>{t("home.projects")}</h2></div>
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
      </main>
    </div>
  );
}
