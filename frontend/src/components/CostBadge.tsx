// A node's cost (lib/cost.ts): one compact chip on its card, every figure in the inspector.
import type { Lang } from "../types";
import { costChip, costRows, costWord, warningText, type NodeCost } from "../lib/cost";
import { Icon } from "./common";
import "./CostBadge.css";

/** The card's chip: weights and FLOPs, or a trainer's time per epoch; amber with a warning. */
export function CostChip({ cost, lang }: { cost: NodeCost | undefined; lang: Lang }) {
  const text = costChip(cost, lang);
  if (!text || !cost) return null;
  const warnings = cost.warnings ?? [];
  const title = [...costRows(cost, lang).map((r) => `${r.label}: ${r.value}`), ...warnings.map((w) => warningText(w, lang))].join("\n");
  return (
    <span className={`cost-chip ${warnings.length ? "cost-warn" : ""}`} data-testid="node-cost" title={title}
      data-warning={warnings[0]?.code ?? ""}>
      {warnings.length > 0 && <Icon name="warn" size={10} />}<span className="cost-text">{text}</span>
    </span>
  );
}

/** The inspector's section: every figure with what it counts, and the warnings with their numbers. */
export function CostSection({ cost, lang }: { cost: NodeCost | undefined; lang: Lang }) {
  if (!cost?.model) return null;
  return (
    <div className="insp-section" data-testid="inspector-cost">
      <div className="section-label">{costWord(lang, "title")}</div>
      {(cost.warnings ?? []).map((w, k) => (
        <div key={k} className="issue-item cost-warning" data-testid="cost-warning" data-code={w.code}>
          <Icon name="warn" size={13} /><div>{warningText(w, lang)}</div>
        </div>
      ))}
      {costRows(cost, lang).map((r) => (
        <div key={r.key} className="cost-row" data-testid={`cost-${r.key}`}>
          <span className="cost-label">{r.label}</span>
          <span className="cost-value mono">{r.value}</span>
          {r.note && <span className="cost-note">{r.note}</span>}
        </div>
      ))}
    </div>
  );
}
