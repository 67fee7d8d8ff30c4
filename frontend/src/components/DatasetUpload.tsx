// The image-folder dataset's picker (a param with x-picker "datasets"): the datasets uploaded to
// the studio, each with its classes and image count, and an upload of a zip or tar of class
// folders with its progress (XMLHttpRequest: lib/datasetUpload.ts). Picking or uploading one sets
// the param to its path (uploads/<name>), which the server looks up in its data roots. Each
// uploaded dataset can be deleted from the server, after a confirmation that names it.
import { useEffect, useRef, useState } from "react";
import { api, type ApiError } from "../api";
import { useLang, useT } from "../i18n";
import { uploadDataset, datasetName, type DatasetUploadHandle, type UploadProgress } from "../lib/datasetUpload";
import { uploadErrorText } from "../lib/messages";
import { useDatasetArrived, useDatasets } from "../lib/queries";
import type { DatasetInfo } from "../types";
import { Icon } from "./common";
import { formatSize } from "./WeightsStatus";

type Upload =
  | { state: "sending"; file: string; progress: UploadProgress; handle: DatasetUploadHandle }
  | { state: "done"; dataset: DatasetInfo }
  | { state: "failed"; code: string; message: string; params?: Record<string, unknown> };

type Refusal = { code: string; message: string; params?: Record<string, unknown> };
/** A dataset's deletion: asked to confirm, on its way, or refused. */
type Removal = { name: string; state: "confirm" | "deleting" } | { name: string; state: "failed"; error: Refusal };

export function DatasetUpload({ value, onChange }: { value: unknown; onChange: (path: string) => void }) {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const datasets = useDatasets();
  const arrived = useDatasetArrived();
  const [upload, setUpload] = useState<Upload | null>(null);
  const [removal, setRemoval] = useState<Removal | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const current = useRef<DatasetUploadHandle | null>(null);
  useEffect(() => () => current.current?.abort(), []); // leaving the node's form ends its upload

  const list = datasets.data ?? [];
  const picked = list.find((d) => d.path === value);
  const sending = upload?.state === "sending";

  const start = (file: File) => {
    const name = datasetName(file.name, list.map((d) => d.name));
    const handle = uploadDataset(file, name, (progress) =>
      setUpload((u) => (u?.state === "sending" ? { ...u, progress } : u)));
    current.current = handle;
    setUpload({ state: "sending", file: file.name, progress: { sent: 0, total: file.size }, handle });
    handle.done.then((dataset) => {
      setUpload({ state: "done", dataset });
      onChange(dataset.path);
      arrived();
    }, (err: { code?: string; message?: string; params?: Record<string, unknown> }) => {
      setUpload({ state: "failed", code: err.code ?? "", message: err.message ?? String(err), params: err.params });
    }).finally(() => { if (current.current === handle) current.current = null; });
  };

  const remove = (name: string) => {
    setRemoval({ name, state: "deleting" });
    api.deleteDataset(name).then(() => setRemoval(null), (error: ApiError) => setRemoval({ name, state: "failed", error }))
      .finally(arrived); // the list shows what the server has now (a dataset deleted elsewhere too)
  };
  const removalText = (error: Refusal, name: string) =>
    error.code === "dataset_not_found" ? t("dataset.deleteGone", { name })
      : error.code === "dataset_in_use" ? t("dataset.inUse", { name })
      : t("dataset.deleteFailed", { name, msg: error.code === "dataset_not_removable" ? t("dataset.notRemovable")
        : uploadErrorText(error, lang) });

  const pct = upload?.state === "sending" && upload.progress.total
    ? Math.floor((100 * upload.progress.sent) / upload.progress.total) : 0;
  return (
    <div className="dataset-picker" data-testid="dataset-picker">
      {list.length > 0 && (
        <select className="input" data-testid="dataset-select" aria-label={t("dataset.uploaded")}
          value={picked?.path ?? ""} onChange={(e) => e.target.value && onChange(e.target.value)}>
          <option value="">{t("dataset.choose")}</option>
          {list.map((d) => (
            <option key={d.name} value={d.path}>
              {t("dataset.option", { name: d.name, classes: d.classes.length, images: d.images })}
            </option>
          ))}
        </select>
      )}
      {picked && (
        <div className="field-help" data-testid="dataset-classes">
          {t("dataset.classes", { list: picked.classes.map((c) => `${c.name} ${c.images}`).join(" · ") })}
        </div>
      )}
      {upload?.state === "sending" && (
        <div className="small mono" data-testid="dataset-progress" data-pct={pct}>
          {upload.progress.sent < upload.progress.total
            ? t("dataset.uploading", { file: upload.file, sent: formatSize(upload.progress.sent),
              total: formatSize(upload.progress.total), pct })
            : t("dataset.unpacking", { file: upload.file })}
          <progress max={upload.progress.total || 1} value={upload.progress.sent} style={{ width: "100%" }} />
        </div>
      )}
      {upload?.state === "done" && (
        <div className="muted small" data-testid="dataset-uploaded">
          {t("dataset.uploadedAs", { name: upload.dataset.name, classes: upload.dataset.classes.length,
            images: upload.dataset.images })}
        </div>
      )}
      {upload?.state === "failed" && (
        <div className="insp-fail small" data-testid="dataset-upload-error" data-code={upload.code}>
          {t("dataset.failed", { msg: uploadErrorText(upload, lang) })}
        </div>
      )}
      {list.length > 0 && (
        <details className="small" data-testid="dataset-manage">
          <summary className="muted">{t("dataset.manage", { n: list.length })}</summary>
          {list.map((d) => (
            <div key={d.name} data-testid="dataset-row" data-name={d.name}
              style={{ display: "flex", alignItems: "center", gap: 6, padding: "2px 0" }}>
              {removal?.name === d.name && removal.state !== "failed" ? (
                <span className="confirm" data-testid="dataset-delete-confirm" style={{ flexWrap: "wrap" }}>
                  <span style={{ flexBasis: "100%" }}>{t("dataset.deleteConfirm", { name: d.name, images: d.images })}</span>
                  <button type="button" className="btn btn-danger btn-small" data-testid="dataset-delete-yes"
                    disabled={removal.state === "deleting"} onClick={() => remove(d.name)}>{t("dataset.delete")}</button>
                  <button type="button" className="btn btn-small" disabled={removal.state === "deleting"}
                    onClick={() => setRemoval(null)}>{t("common.cancel")}</button>
                </span>
              ) : (
                <>
                  <span className="mono" style={{ flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis" }}>
                    {t("dataset.option", { name: d.name, classes: d.classes.length, images: d.images })}
                  </span>
                  <button type="button" className="btn btn-ghost btn-small" data-testid="dataset-delete"
                    title={t("dataset.deleteTitle", { name: d.name })} aria-label={t("dataset.deleteTitle", { name: d.name })}
                    onClick={() => setRemoval({ name: d.name, state: "confirm" })}>
                    <Icon name="trash" size={13} />
                  </button>
                </>
              )}
            </div>
          ))}
        </details>
      )}
      {removal?.state === "failed" && (
        <div className="insp-fail small" data-testid="dataset-delete-error" data-code={removal.error.code}>
          {removalText(removal.error, removal.name)}
        </div>
      )}
      <div className="insp-actions">
        {sending ? (
          <button type="button" className="btn btn-small" data-testid="dataset-upload-cancel"
            onClick={() => upload.handle.abort()}>{t("dataset.cancel")}</button>
        ) : (
          <button type="button" className="btn btn-small" data-testid="dataset-upload" title={t("dataset.uploadHint")}
            onClick={() => fileInput.current?.click()}>{t("dataset.upload")}</button>
        )}
        <input ref={fileInput} type="file" hidden data-testid="dataset-upload-input"
          accept=".zip,.tar,.tgz,.gz,.tbz2,.bz2,.txz,.xz,application/zip,application/x-tar,application/gzip"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (file) start(file);
          }} />
      </div>
    </div>
  );
}
