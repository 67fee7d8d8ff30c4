// A thin client for the studio API. Every 4xx/5xx becomes an ApiError with the server's code.
import type {
  Artifact, Catalog, Graph, Prediction, Project, Run, RunEvent, RunMode, TemplateInfo, Validation,
  VersionInfo,
} from "./types";

export class ApiError extends Error {
  code: string;
  status: number;
  node?: string | null;
  port?: string | null;
  field?: string | null;
  constructor(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.node = extra.node as string | null | undefined;
    this.port = extra.port as string | null | undefined;
    this.field = extra.field as string | null | undefined;
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network", String((err as Error)?.message ?? err));
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const e = (data as { error?: Record<string, unknown>; detail?: unknown })?.error;
    if (e) throw new ApiError(res.status, String(e.code ?? "error"), String(e.message ?? res.statusText), e);
    const detail = (data as { detail?: unknown })?.detail;
    throw new ApiError(res.status, "http_" + res.status,
      typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : res.statusText);
  }
  return data as T;
}

// Lists are plain arrays in the contract; accept {"items": [...]}-style wrappers too.
function list<T>(key: string) {
  return (data: unknown): T[] => {
    if (Array.isArray(data)) return data as T[];
    const obj = data as Record<string, unknown> | null;
    if (obj && Array.isArray(obj[key])) return obj[key] as T[];
    if (obj && Array.isArray(obj.items)) return obj.items as T[];
    return [];
  };
}

export const api = {
  components: () => request<Catalog>("GET", "/api/components"),
  templates: () => request<unknown>("GET", "/api/templates").then(list<TemplateInfo>("templates")),
  template: (id: string) => request<TemplateInfo & { graph: Graph }>("GET", `/api/templates/${encodeURIComponent(id)}`),

  projects: () => request<unknown>("GET", "/api/projects").then(list<Project>("projects")),
  project: (id: number) => request<Project & { graph: Graph }>("GET", `/api/projects/${id}`),
  createProject: (name: string, template: string | null, graph: Graph | null = null) =>
    request<Project>("POST", "/api/projects", { name, template, graph }),
  renameProject: (id: number, name: string) => request<Project>("PATCH", `/api/projects/${id}`, { name }),
  deleteProject: (id: number) => request<unknown>("DELETE", `/api/projects/${id}`),
  saveGraph: (id: number, graph: Graph) => request<{ version: number }>("PUT", `/api/projects/${id}/graph`, { graph }),
  versions: (id: number) => request<unknown>("GET", `/api/projects/${id}/versions`).then(list<VersionInfo>("versions")),
  version: (id: number, v: number) => request<VersionInfo & { graph: Graph }>("GET", `/api/projects/${id}/versions/${v}`),
  restoreVersion: (id: number, v: number) =>
    request<{ version: number }>("POST", `/api/projects/${id}/versions/${v}/restore`),

  validate: (graph: Graph) => request<Validation>("POST", "/api/validate", { graph }),

  startRun: (projectId: number, targets: string[], mode: RunMode, graph: Graph | null) =>
    request<Run>("POST", `/api/projects/${projectId}/runs`, { targets, mode, graph }),
  runs: (projectId: number) =>
    request<unknown>("GET", `/api/runs?project_id=${projectId}`).then(list<Run>("runs")),
  run: (id: string | number) => request<Run>("GET", `/api/runs/${id}`),
  cancelRun: (id: string | number) => request<Run>("POST", `/api/runs/${id}/cancel`),
  events: (id: string | number, after = 0) =>
    request<unknown>("GET", `/api/runs/${id}/events?after=${after}`).then(list<RunEvent>("events")),
  artifacts: (id: string | number) =>
    request<unknown>("GET", `/api/runs/${id}/artifacts`).then(list<Artifact>("artifacts")),
  modelUrl: (id: string | number, node: string) => `/api/runs/${id}/artifacts/${encodeURIComponent(node)}/model`,
  // An evaluation sample's image (at most 256 px). A plain same-origin URL: the browser sends the
  // access-token cookie with it, as with every other request of the editor.
  sampleUrl: (id: string | number, node: string, index: number) =>
    `/api/runs/${id}/samples/${encodeURIComponent(node)}/${index}`,
  predict: (id: string | number, node: string, file: File) => {
    const form = new FormData();
    form.append("file", file);
    return request<Prediction>("POST", `/api/runs/${id}/predict?node=${encodeURIComponent(node)}`, form);
  },
};

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}
