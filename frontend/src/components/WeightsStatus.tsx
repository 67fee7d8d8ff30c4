// A backbone's pretrained weight file in the Inspector: present or missing (with its size), and when
// missing a download run by the server (progress polled from GET /api/weights) or an upload of a
// file downloaded by hand. The server verifies every file against the catalog's digest.
import { useEffect, useRef } from "react";
import { useT } from "../i18n";
import { useFetchWeights, useUploadWeights, useWeights, useWeightsArrived } from "../lib/queries";
import type { WeightsInfo } from "../types";

/** 553433881 -> "528 MB" (binary megabytes, as a download manager shows them). */
export function formatSize(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GB`;
  if (bytes >= 1 << 20) return `${Math.round(bytes / (1 << 20))} MB`;
  if (bytes >= 1 << 10) return `${Math.round(bytes / (1 << 10))} KB`;
  return `${bytes} B`;
}

export function WeightsStatus({ componentId, choice }: { componentId: string; choice: unknown }) {
  const t = useT();
  const query = useWeights();
  const entry: WeightsInfo | undefined = query.data?.find((w) => w.components.includes(componentId));
  const fetchWeights = useFetchWeights();
  const upload = useUploadWeights();
  const arrived = useWeightsArrived();
  const fileInput = useRef<HTMLInputElement>(null);
  const present = entry?.present;
  const wasPresent = useRef(present);
  useEffect(() => {
    // a download finished: the weights_missing issue and the gallery's sizes are stale
    if (present && wasPresent.current === false) arrived();
    wasPresent.current = present;
  }, [present, arrived]);

  if (!entry || choice !== "imagenet") return null;
  const size = formatSize(entry.size);
  const download = entry.download;
  const running = download.state === "running";
  return (
    <div className="insp-section" data-testid="weights-status" data-present={String(entry.present)}>
      <div className="section-label">{t("weights.title")}</div>
      <div className={entry.present ? "muted small" : "small"}>
        {t(entry.present ? "weights.present" : "weights.missing", { file: entry.file, size })}
      </div>
      {!entry.present && running && (
        <div className="small mono" data-testid="weights-progress">
          {download.phase === "verify" ? t("weights.verifying")
            : t("weights.downloading", { done: formatSize(download.done_bytes), total: formatSize(download.total_bytes) })}
          <progress max={download.total_bytes || entry.size} value={download.done_bytes} style={{ width: "100%" }} />
        </div>
      )}
      {!entry.present && download.state === "failed" && download.error && (
        <div className="insp-fail small" data-code={String(download.error.code ?? "")}>
          {t("weights.failed", { msg: String(download.error.message ?? "") })}
        </div>
      )}
      {!entry.present && upload.isError && (
        <div className="insp-fail small">{t("weights.uploadFailed", { msg: upload.error.message })}</div>
      )}
      {!entry.present && (
        <div className="insp-actions">
          <button className="btn btn-small btn-primary" data-testid="weights-fetch" disabled={running || fetchWeights.isPending}
            onClick={() => fetchWeights.mutate(entry.name)}>{t("weights.fetch")}</button>
          <button className="btn btn-small" data-testid="weights-upload" disabled={running || upload.isPending}
            title={t("weights.uploadHint")} onClick={() => fileInput.current?.click()}>{t("weights.upload")}</button>
          <input ref={fileInput} type="file" accept=".pth,.pt" hidden onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (file) upload.mutate({ name: entry.name, file });
          }} />
        </div>
      )}
    </div>
  );
}
