// The studio API client, typed by the OpenAPI schema (src/api/schema.d.ts, `npm run gen:api`).
// Every failed answer becomes an ApiError carrying the server's error code.
import createClient from "openapi-fetch";
import type { components, paths } from "./api/schema";
import { withEdgeIds } from "./lib/graph";
import type {
  Catalog, ErrorBody, Graph, GraphDocument, PlanPreview, Project, Run, RunEvent, RunMode, Template, TemplateInfo, Validation,
  VersionInfo, VersionWithGraph, WeightsInfo,
} from "./types";

export class ApiError extends Error {
  code: string;
  status: number;
  node?: string | null;
  port?: string | null;
  field?: string | null;
  constructor(status: number, detail: ErrorBody["error"]) {
    super(detail.message);
    this.status = status;
    this.code = detail.code;
    this.node = detail.node;
    this.port = detail.port;
    this.field = detail.field;
  }
}

// Same origin: the studio serves the editor and the API together (Vite proxies /api in development).
const client = createClient<paths>();

function isErrorBody(body: unknown): body is ErrorBody {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === "string" && typeof error.message === "string";
}

/** The server's typed error when it sent one, else the HTTP status and whatever text came with it. */
function errorOf(response: Response, body: unknown): ApiError {
  if (isErrorBody(body)) return new ApiError(response.status, body.error);
  const detail = (body as { detail?: unknown } | null)?.detail ?? body;
  const message = typeof detail === "string" && detail ? detail : detail ? JSON.stringify(detail) : response.statusText;
  return new ApiError(response.status, { code: `http_${response.status}`, message });
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The answer's data, or an ApiError (code "network" when the server could not be reached). */
async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (err) {
    throw new ApiError(0, { code: "network", message: err instanceof Error ? err.message : String(err) });
  }
  if (!answer.response.ok) throw errorOf(answer.response, answer.error);
  return answer.data as T;
}

/** A received graph as the editor holds it: the server may send an edge without an id. */
function editorGraph(graph: GraphDocument): Graph {
  return { ...graph, edges: withEdgeIds(graph.edges) };
}

function projectOut(answer: components["schemas"]["ProjectPublic"]): Project {
  return { ...answer, graph: answer.graph && editorGraph(answer.graph) };
}

/** This editor (one browser tab): the server folds its rapid saves into the latest version. */
export const EDITOR_CLIENT = newClientId();

function newClientId(): string {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return random.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
}

const project = (id: number) => ({ params: { path: { project_id: id } } });
const version = (id: number, v: number) => ({ params: { path: { project_id: id, version: v } } });
const run = (id: string | number) => ({ params: { path: { run_id: String(id) } } });

export const api = {
  components: (): Promise<Catalog> => unwrap(client.GET("/api/components")),
  templates: (): Promise<TemplateInfo[]> => unwrap(client.GET("/api/templates")),
  template: async (id: string): Promise<Template> => {
    const answer = await unwrap(client.GET("/api/templates/{template_id}", { params: { path: { template_id: id } } }));
    return { ...answer, graph: editorGraph(answer.graph) };
  },

  projects: async (): Promise<Project[]> => (await unwrap(client.GET("/api/projects"))).map(projectOut),
  project: async (id: number): Promise<Project> =>
    projectOut(await unwrap(client.GET("/api/projects/{project_id}", project(id)))),
  createProject: async (name: string, template: string | null, graph: Graph | null = null): Promise<Project> =>
    projectOut(await unwrap(client.POST("/api/projects", { body: { name, template, graph } }))),
  renameProject: async (id: number, name: string): Promise<Project> =>
    projectOut(await unwrap(client.PATCH("/api/projects/{project_id}", { ...project(id), body: { name } }))),
  deleteProject: (id: number) => unwrap(client.DELETE("/api/projects/{project_id}", project(id))),
  /** A project from a model file: the graph that made the model (the file's provenance record). */
  projectFromModel: async (file: File): Promise<Project & { node: string; model_result: string }> => {
    const answer = await unwrap(client.POST("/api/projects/from-model", {
      // The schema types an upload as a (binary) string; it travels as multipart form data.
      body: { file: file.name },
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", file);
        return form;
      },
    }));
    return { ...projectOut(answer), node: answer.node, model_result: answer.model_result };
  },
  saveGraph: (id: number, graph: Graph) =>
    unwrap(client.PUT("/api/projects/{project_id}/graph", { ...project(id), body: { graph, client: EDITOR_CLIENT } })),
  /** Save while the page unloads: the browser keeps the request alive after the page is gone. */
  saveGraphOnUnload: (id: number, graph: Graph) =>
    void client.PUT("/api/projects/{project_id}/graph", { ...project(id), body: { graph, client: EDITOR_CLIENT }, keepalive: true })
      .catch(() => undefined),
  versions: (id: number): Promise<VersionInfo[]> =>
    unwrap(client.GET("/api/projects/{project_id}/versions", project(id))),
  version: async (id: number, v: number): Promise<VersionWithGraph> => {
    const answer = await unwrap(client.GET("/api/projects/{project_id}/versions/{version}", version(id, v)));
    return { ...answer, graph: editorGraph(answer.graph) };
  },
  restoreVersion: (id: number, v: number) =>
    unwrap(client.POST("/api/projects/{project_id}/versions/{version}/restore", version(id, v))),

  validate: (graph: Graph): Promise<Validation> => unwrap(client.POST("/api/validate", { body: { graph } })),

  startRun: (projectId: number, targets: string[], mode: RunMode, graph: Graph | null): Promise<Run> =>
    unwrap(client.POST("/api/projects/{project_id}/runs", { ...project(projectId), body: { targets, mode, graph } })),
  planRun: (projectId: number, targets: string[], mode: RunMode, graph: Graph | null): Promise<PlanPreview> =>
    unwrap(client.POST("/api/projects/{project_id}/plan", { ...project(projectId), body: { targets, mode, graph } })),
  runs: (projectId: number): Promise<Run[]> =>
    unwrap(client.GET("/api/runs", { params: { query: { project_id: projectId } } })),
  run: (id: string | number): Promise<Run> => unwrap(client.GET("/api/runs/{run_id}", run(id))),
  // comparing runs (components/RunsCompare.tsx): the run table, a run's curves, its graph against a baseline
  runTable: (projectId: number) => unwrap(client.GET("/api/projects/{project_id}/runs", project(projectId))),
  runSummary: (id: string) => unwrap(client.GET("/api/runs/{run_id}/summary", run(id))),
  runChanges: (id: string, against: string) =>
    unwrap(client.GET("/api/runs/{run_id}/changes", { params: { ...run(id).params, query: { against } } })),
  cancelRun: (id: string | number): Promise<Run> => unwrap(client.POST("/api/runs/{run_id}/cancel", run(id))),
  resumeRun: (id: string | number): Promise<Run> => unwrap(client.POST("/api/runs/{run_id}/resume", run(id))),
  events: (id: string | number, after = 0): Promise<RunEvent[]> =>
    unwrap(client.GET("/api/runs/{run_id}/events", { params: { ...run(id).params, query: { after } } })),
  artifacts: (id: string | number) => unwrap(client.GET("/api/runs/{run_id}/artifacts", run(id))),
  modelUrl: (id: string | number, node: string) => `/api/runs/${id}/artifacts/${encodeURIComponent(node)}/model`,
  /** The trained model as ONNX (made by the server on first request). */
  onnxUrl: (id: string | number, node: string) => `/api/runs/${id}/artifacts/${encodeURIComponent(node)}/onnx`,
  // An evaluation sample's image (at most 256 px). A plain same-origin URL: the browser sends the
  // access-token cookie with it, as with every other request of the editor.
  sampleUrl: (id: string | number, node: string, index: number) =>
    `/api/runs/${id}/samples/${encodeURIComponent(node)}/${index}`,
  /** The datasets uploaded through the studio (upload: lib/datasetUpload.ts, for its progress). */
  datasets: () => unwrap(client.GET("/api/datasets")),
  /** Remove an uploaded dataset from the server: the dataset it removed. */
  deleteDataset: (name: string) => unwrap(client.DELETE("/api/datasets/{name}", { params: { path: { name } } })),
  /** The result store: its size, its trained models, its budget, its disk's free space and last cleanup. */
  cache: () => unwrap(client.GET("/api/cache")),
  /** Apply a budget to the result store now (a 409 runs_active while a run goes on): what it removed. */
  pruneCache: (body: components["schemas"]["PruneIn"]) => unwrap(client.POST("/api/cache/prune", { body })),
  /** The weights catalog: each pretrained weight file, present or not, and the server's download. */
  weights: (): Promise<WeightsInfo[]> => unwrap(client.GET("/api/weights")),
  /** Start the server's download of a weight file (progress: poll ``weights``). */
  fetchWeights: (name: string): Promise<WeightsInfo> =>
    unwrap(client.POST("/api/weights/{name}/fetch", { params: { path: { name } } })),
  /** A weight file downloaded by hand: the server verifies it before use. */
  uploadWeights: (name: string, file: File): Promise<WeightsInfo> =>
    unwrap(client.POST("/api/weights/{name}", {
      params: { path: { name } },
      body: { file: file.name },
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", file);
        return form;
      },
    })),
  predict: (id: string | number, node: string, file: File) =>
    unwrap(client.POST("/api/runs/{run_id}/predict", {
      params: { ...run(id).params, query: { node } },
      // The schema types an upload as a (binary) string; it travels as multipart form data.
      body: { file: file.name },
      bodySerializer: () => {
        const form = new FormData();
        form.append("file", file);
        return form;
      },
    })),
};

export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}
