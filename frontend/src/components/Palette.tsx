// The component palette: by category, searchable in both languages, drag onto the canvas.
import { useMemo, useState, type CSSProperties } from "react";
import { useReactFlow } from "@xyflow/react";
import { loc, useLang, useT } from "../i18n";
import { useEditor } from "../store/editor";
import type { Catalog, ComponentDesc } from "../types";
import { categoryColor, Icon, portColor } from "./common";
import { DRAG_MIME, placeNewCard } from "./Canvas";
import { NODE_W } from "../lib/layout";

export function matches(c: ComponentDesc, catalog: Catalog, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const cat = catalog.categories?.[c.category];
  const hay = [c.id, c.name?.en, c.name?.zh, c.description?.en, c.description?.zh, c.category, cat?.en, cat?.zh]
    .filter(Boolean)
    .join(" \u0000 ")
    .toLowerCase();
  return q.split(/\s+/).every((word) => hay.includes(word));
}

export function Palette() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const catalog = useEditor((s) => s.catalog);
  const [query, setQuery] = useState("");
  const rf = useReactFlow();

  const groups = useMemo(() => {
    if (!catalog) return [];
    const order = Object.keys(catalog.categories ?? {});
    const byCat = new Map<string, ComponentDesc[]>();
    for (const c of catalog.components) {
      if (!matches(c, catalog, query)) continue;
      if (!byCat.has(c.category)) byCat.set(c.category, []);
      byCat.get(c.category)!.push(c);
    }
    return [...byCat.entries()].sort(
      (a, b) => (order.indexOf(a[0]) + 1 || 99) - (order.indexOf(b[0]) + 1 || 99),
    );
  }, [catalog, query]);

  const addAtCenter = (type: string) => {
    const el = document.querySelector(".canvas");
    const box = el?.getBoundingClientRect();
    const p = rf.screenToFlowPosition({
      x: (box?.left ?? 0) + (box?.width ?? 800) / 2,
      y: (box?.top ?? 0) + (box?.height ?? 600) / 2,
    });
    useEditor.getState().addNode(type, placeNewCard(rf, el, type, { x: p.x - NODE_W / 2, y: p.y - 45 }));
  };

  return (
    <aside className="palette" data-testid="palette">
      <div className="panel-title">{t("palette.title")}</div>
      <div className="search">
        <Icon name="search" size={14} />
        <input
          className="input"
          data-testid="palette-search"
          placeholder={t("palette.search")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        {query && <button className="btn btn-ghost btn-icon" onClick={() => setQuery("")}><Icon name="x" size={12} /></button>}
      </div>
      <div className="palette-list">
        {groups.length === 0 && <div className="muted small pad">{t("palette.none")}</div>}
        {groups.map(([cat, comps]) => (
          <div key={cat} className="palette-group">
            <div className="palette-cat" style={{ "--cat": categoryColor(cat) } as CSSProperties}>
              <span className="cat-dot" />{loc(catalog?.categories?.[cat], lang) || cat}
            </div>
            {comps.map((c) => (
              <div
                key={c.id}
                className="palette-item"
                data-testid="palette-item"
                data-component={c.id}
                draggable
                title={loc(c.description, lang) || c.id}
                style={{ "--cat": categoryColor(c.category) } as CSSProperties}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, c.id);
                  e.dataTransfer.setData("text/plain", c.id);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onDoubleClick={() => addAtCenter(c.id)}
              >
                <div className="palette-name">{loc(c.name, lang)}</div>
                <div className="palette-ports">
                  {c.inputs.map((p) => <span key={"i" + p.name} className="dot" style={{ background: portColor(p.type) }} />)}
                  {c.inputs.length > 0 && c.outputs.length > 0 && <span className="arrow">→</span>}
                  {c.outputs.map((p) => <span key={"o" + p.name} className="dot" style={{ background: portColor(p.type) }} />)}
                </div>
              </div>
            ))}
          </div>
        ))}
      </div>
      <div className="palette-foot muted small">{t("palette.hint")}</div>
    </aside>
  );
}
