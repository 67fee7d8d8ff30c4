// Uploading a dataset archive (POST /api/datasets) with progress: fetch cannot report how much of
// a request body went out, XMLHttpRequest can (upload.onprogress). The body is the file itself
// (streamed to disk by the server), its answer typed by the OpenAPI schema like every other.
import { ApiError } from "../api";
import type { DatasetInfo, ErrorBody } from "../types";

export interface UploadProgress {
  sent: number;
  total: number;
}

export interface DatasetUploadHandle {
  done: Promise<DatasetInfo>;
  abort: () => void;
}

/** A dataset name from the archive's file name: "My photos (2).tar.gz" -> "My_photos_2". */
export function datasetName(fileName: string, taken: readonly string[] = []): string {
  const stem = fileName.replace(/\.(zip|tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz))$/i, "");
  let base = stem.replace(/[^\p{L}\p{N}_.-]+/gu, "_").replace(/^[._-]+/, "").replace(/_+$/, "").slice(0, 56);
  if (!base) base = "dataset";
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = `${base}-${i}`;
  return name;
}

/** The archive's media type: the browser's when it knows one, else by the name. */
function mediaType(file: File): string {
  if (file.type && !file.type.includes("json")) return file.type;
  return /\.zip$/i.test(file.name) ? "application/zip" : "application/octet-stream";
}

function errorOf(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as ErrorBody & { params?: Record<string, unknown> };
    if (body?.error?.code) {
      const err = new ApiError(status, body.error);
      (err as ApiError & { params?: Record<string, unknown> }).params = body.params;
      return err;
    }
  } catch {
    /* not JSON: fall through */
  }
  return new ApiError(status, { code: `http_${status}`, message: text || String(status) });
}

export function uploadDataset(file: File, name: string, onProgress: (p: UploadProgress) => void): DatasetUploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<DatasetInfo>((resolve, reject) => {
    xhr.open("POST", `/api/datasets?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader("Content-Type", mediaType(file));
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      if (xhr.status === 201) resolve(JSON.parse(xhr.responseText) as DatasetInfo);
      else reject(errorOf(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "network", message: "the upload could not reach the server" }));
    xhr.onabort = () => reject(new ApiError(0, { code: "upload_aborted", message: "the upload was cancelled" }));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
