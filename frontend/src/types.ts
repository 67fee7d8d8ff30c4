// Wire types of the studio API: aliases of the OpenAPI schema (src/api/schema.d.ts, generated
// by `npm run gen:api`), narrowed where the editor knows more than the wire says (an edge the
// editor holds always has an id; a component's params_schema is a JSON schema). The one hand
// type left, JsonSchema, reads what the schema publishes as plain JSON (a form's schema).
import type { components, paths } from "./api/schema";

type Schemas = components["schemas"];

export type Lang = "zh" | "en";
export type Localized = { zh?: string; en?: string };

/** A graph as the server sends it: every field there, an edge's id possibly null. */
export type GraphDocument = Schemas["GraphDocument"];

// The editor's graph: one it received, or built itself. What it builds may leave out the
// fields the server fills in (a graph's name, a node's label and group); every edge it holds
// has an id (`api.ts` names an unnamed edge as it arrives, as `edgeId` would).
type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type XY = Schemas["PositionDocument"];
export type GraphNode = Optional<Schemas["NodeDocument"], "label" | "group">;
export type GraphEdge = Schemas["EdgeDocument"] & { id: string };
export type GraphGroup = Schemas["GroupDocument"];
export type Graph = Optional<Omit<GraphDocument, "nodes" | "edges">, "name"> & {
  nodes: GraphNode[];
  edges: GraphEdge[];
  [extra: string]: unknown;
};

export type PortDesc = Schemas["PortInfo"];

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  "x-choices-from"?: string;
  "x-deferred"?: boolean;
  [k: string]: unknown;
};

/** A component of the catalog; the server publishes its params_schema as plain JSON. */
export type ComponentDesc = Omit<Schemas["ComponentInfo"], "params_schema"> & { params_schema: JsonSchema };

export type Catalog = Omit<Schemas["ComponentsOut"], "components"> & { components: ComponentDesc[] };

export type Issue = Schemas["Issue"];
export type PortSpec = Schemas["PortSpec"];
export type Validation = Schemas["ValidationOut"];
export type DataCheck = Schemas["DataCheck"];
export type DataWarning = Schemas["DataWarning"];

// The answers that carry a graph carry it as the editor holds it (`api.ts` names the edges).
export type TemplateInfo = Schemas["TemplateSummary"];
export type WeightsInfo = Schemas["WeightsOut"];
export type DatasetInfo = Schemas["DatasetOut"];
export type Template = Omit<Schemas["TemplateOut"], "graph"> & { graph: Graph };

export type Project = Omit<Schemas["ProjectPublic"], "graph"> & { graph?: Graph | null };
export type VersionInfo = Schemas["VersionPublic"];
/** One item of what changed in a saved version (a union discriminated by `kind`), worded by the editor. */
export type VersionChange = VersionInfo["changes"][number];
export type NodeRef = Schemas["NodeRef"];
export type VersionWithGraph = Omit<Schemas["VersionWithGraph"], "graph"> & { graph: Graph };

export type Run = Schemas["RunPublic"];
export type RunStatus = Run["status"];
export type RunMode = Run["mode"];

/** One event of a run: a union discriminated by `type`, generated from the engine's models. */
export type RunEvent =
  paths["/api/runs/{run_id}/events"]["get"]["responses"][200]["content"]["application/json"][number];
/** What a node says of one output port (`kind` tells them apart). */
export type NodeSummary = Schemas["NodeRun"]["summary"] extends infer S
  ? S extends Record<string, infer V> ? V : never : never;
export type ModelSummary = Schemas["ModelSummary"];
export type EvaluationSummary = Schemas["EvaluationSummary"];
export type WorkerInfo = Schemas["WorkerInfo"];
/** The server's reduction of a run's events (GET /api/runs/{id}/summary); `reduceRun` mirrors it. */
export type RunSummary = Schemas["RunSummary"];

export type Artifact = Schemas["ArtifactPublic"];
export type Prediction = Schemas["Prediction"];
/** The graph version a save or a restore made. */
export type SavedVersion = Schemas["VersionNumber"];
/** The body of every 4xx: `{"error": {code, message, node, port, field}}`. */
export type ErrorBody = Schemas["ErrorBody"];

/** Why a node ran or came from the cache (run.started's `why`, a dry run's). */
export type NodeWhy = Schemas["NodeWhy"];
export type WhyChange = Schemas["Change"];
/** A dry run: which nodes would run and why (POST /api/projects/{id}/plan). */
export type PlanPreview = Schemas["PlanPreview"];
