// The run panel's Why tab: for every node of the latest run, "cached" with the run and time its
// result came from, or "ran" with the reason (a param old -> new, an upstream node, data, a
// component version, forced, new); or, after "what will run", the same for a run not yet started.
import { useMemo } from "react";
import { useLang, useT } from "../i18n";
import { issueNames } from "../lib/issues";
import type { RunView } from "../lib/runstate";
import { whyLong, whyVerb } from "../lib/why";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";
import { useWhy } from "../store/why";
import type { NodeWhy } from "../types";

function Rows({ order, why, future }: { order: string[]; why: Record<string, NodeWhy>; future: boolean }) {
  const lang = useLang((s) => s.lang);
  const graph = useEditor((s) => s.graph);
  const catalog = useEditor((s) => s.catalog);
  const names = useMemo(() => issueNames(graph, catalog, lang), [graph, catalog, lang]); // "Dense (output)": two Dense apart
  const focus = useUi((s) => s.focusNode);
  return (
    <div className="why-list" data-testid="why-list">
      {order.filter((id) => why[id]).map((id) => (
        <div key={id} style={{ display: "contents" }} data-testid="why-row" data-node={id} data-reason={why[id].reason}>
          <span className="why-node" onClick={() => focus(id)}>{names.node(id)}</span>
          <span className={`why-verb ${why[id].runs ? "ran" : "cached"}`}>{whyVerb(why[id], lang, future)}</span>
          <span className="why-text">{whyLong(why[id], id, lang, names)}</span>
        </div>
      ))}
    </div>
  );
}

export function WhyPanel({ view }: { view: RunView | null }) {
  const t = useT();
  const preview = useWhy((s) => s.preview);
  const loading = useWhy((s) => s.loading);
  const error = useWhy((s) => s.error);
  const clear = useWhy((s) => s.clear);
  if (loading) return <div className="muted small">{t("why.loading")}</div>;
  if (error) return <div className="run-error" data-testid="why-error">{error}</div>;
  if (preview)
    return (
      <div data-testid="why-preview">
        <div className="why-head">
          <strong>{t("why.preview")}</strong>
          <span>{t("why.counts", { run: preview.run.length, cached: preview.cached.length })}</span>
          <button className="btn btn-small" data-testid="why-preview-close" onClick={clear}>{t("why.close")}</button>
        </div>
        <Rows order={preview.order} why={preview.why} future />
      </div>
    );
  if (!view || !Object.keys(view.why ?? {}).length) return <div className="muted small">{t("why.none")}</div>;
  // nodes the run did not get to (it failed or was cancelled first) say nothing
  const order = Object.keys(view.why).filter((id) => !view.why[id].runs || view.nodes[id]);
  return (
    <div data-testid="why-run">
      <div className="why-head"><strong>{t("why.run", { id: view.runId })}</strong></div>
      <Rows order={order} why={view.why} future={false} />
    </div>
  );
}
