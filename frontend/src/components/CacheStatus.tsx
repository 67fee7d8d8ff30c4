// The start page's cache section: how much the result store holds (its trained models apart),
// its budget and the disk's free space, the last cleanup, and "free up space", which removes
// every stored result but the trained models (backend/store/cache_budget.py, POST /api/cache/prune).
import { useState } from "react";
import { ApiError, type api } from "../api";
import { translate, useLang, useT } from "../i18n";
import { whenText } from "../lib/why";
import { useCache, usePruneCache } from "../lib/queries";
import { useUi } from "../store/ui";
import type { Lang } from "../types";
import { formatSize } from "./WeightsStatus";

type CacheUsage = Awaited<ReturnType<typeof api.cache>>;
type PruneReport = Awaited<ReturnType<typeof api.pruneCache>>;

// A limit of about 1 KB, nothing kept for being used lately (no run goes on while it prunes):
// everything but the trained models goes.
const FREE_UP = { max_gb: 0.000001, keep_recent_s: 0, keep_models: true };

const results = (n: number, lang: Lang) => translate(lang, n === 1 ? "cache.results.one" : "cache.results", { n });
const models = (n: number, lang: Lang) => translate(lang, n === 1 ? "cache.models.one" : "cache.models", { n });

/** "1.2 GB in 14 results · 1 trained model (300 MB) · limit 20.0 GB · 66.1 GB free on disk". */
export function usageText(usage: CacheUsage, lang: Lang): string {
  const line = [
    translate(lang, "cache.used", { size: formatSize(usage.bytes), results: results(usage.entries, lang) }),
    usage.models
      ? translate(lang, "cache.modelBytes", { models: models(usage.models, lang), size: formatSize(usage.model_bytes) })
      : translate(lang, "cache.noModels"),
    usage.max_bytes ? translate(lang, "cache.limit", { size: formatSize(usage.max_bytes) }) : translate(lang, "cache.noLimit"),
    translate(lang, "cache.diskFree", { size: formatSize(usage.free_bytes) }),
  ].join(" · ");
  return line.replaceAll("） ·", "）·"); // a full-width bracket brings its own space
}

/** "Last cleanup 11-30 16:20: removed 12 results (0 trained models), 1.1 GB". */
export function lastCleanupText(report: PruneReport, lang: Lang): string {
  return translate(lang, "cache.last", {
    time: whenText(report.at), results: results(report.removed, lang), models: models(report.removed_models, lang),
    size: formatSize(report.freed_bytes),
  });
}

/** The toast after "free up space": "Freed 1.1 GB: removed 12 results". */
export function freedText(report: PruneReport, lang: Lang): string {
  if (!report.removed) return translate(lang, "cache.freedNothing");
  return translate(lang, "cache.freed", { size: formatSize(report.freed_bytes), results: results(report.removed, lang) });
}

export function CacheStatus() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const toast = useUi((s) => s.toast);
  const cache = useCache();
  const usage = cache.data;
  const prune = usePruneCache();
  const [confirming, setConfirming] = useState(false);

  const freeUp = async () => {
    setConfirming(false);
    try {
      const report = await prune.mutateAsync(FREE_UP);
      toast((l) => freedText(report, l), report.removed ? "success" : "info");
    } catch (e) {
      // the server's words for this one are English: the person's own language instead
      if (e instanceof ApiError && e.code === "runs_active") toast((l) => translate(l, "cache.runsActive"), "error");
      else toast((e as Error).message, "error");
    }
  };

  return (
    <section data-testid="cache-status">
      <div className="section-head"><h2>{t("cache.title")}</h2></div>
      {cache.isPending && <div className="muted small">{t("editor.loading")}</div>}
      {usage && (
        <div className="cache-row">
          <span data-testid="cache-usage">{usageText(usage, lang)}</span>
          <div className="spacer" />
          {confirming ? (
            <span className="confirm">
              {t("cache.free.confirm")}
              <button className="btn btn-danger btn-small" data-testid="cache-free-confirm" onClick={() => void freeUp()}>
                {t("cache.free.yes")}
              </button>
              <button className="btn btn-small" onClick={() => setConfirming(false)}>{t("common.cancel")}</button>
            </span>
          ) : (
            <button className="btn btn-small" data-testid="cache-free" disabled={prune.isPending}
              onClick={() => setConfirming(true)}>{t("cache.free")}</button>
          )}
        </div>
      )}
      {usage?.last_prune && <div className="cache-last muted small" data-testid="cache-last">{lastCleanupText(usage.last_prune, lang)}</div>}
    </section>
  );
}
