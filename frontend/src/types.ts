// Wire types of the studio API (see the API contract in the architecture notes).

export type Lang = "zh" | "en";
export type Localized = { zh?: string; en?: string };

export interface XY {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  type: string; // component id, e.g. layers.Dense
  params: Record<string, unknown>;
  position: XY;
  group?: string | null;
  label?: string | null;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export interface GraphGroup {
  id: string;
  label: Localized;
  position: XY;
  width: number;
  height: number;
}

export interface Graph {
  name?: string | Localized | null;
  description?: Localized | null;
  nodes: GraphNode[];
  edges: GraphEdge[];
  groups: GraphGroup[];
  [extra: string]: unknown;
}

export interface PortDesc {
  name: string;
  type: string;
  label?: Localized | string | null;
  optional?: boolean;
}

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

export interface ComponentDesc {
  id: string;
  version: number;
  name: Localized;
  description?: Localized;
  category: string;
  inputs: PortDesc[];
  outputs: PortDesc[];
  params_schema: JsonSchema;
  defaults: Record<string, unknown>;
}

export interface Catalog {
  components: ComponentDesc[];
  categories: Record<string, Localized>;
  port_types: Record<string, Localized>;
  compatible: Record<string, string[]>;
}

export interface Issue {
  code: string;
  message: string;
  node?: string | null;
  port?: string | null;
  param?: string | null;
  edge?: string | null;
}

export interface PortSpec {
  type: string;
  shape?: number[];
  label?: string;
  info?: Record<string, unknown>;
}

export interface Validation {
  ok: boolean;
  issues: Issue[];
  specs: Record<string, Record<string, PortSpec>>;
  keys: Record<string, string>;
  cached: Record<string, boolean>;
}

export interface TemplateInfo {
  id: string;
  name: Localized;
  description: Localized;
  graph?: Graph;
}

export interface Project {
  id: number;
  name: string;
  version: number;
  created_at: string;
  updated_at: string;
  graph?: Graph;
}

export interface VersionInfo {
  version: number;
  created_at: string;
  graph?: Graph;
}

export type RunStatus = "queued" | "running" | "finished" | "failed" | "cancelled" | "interrupted";
export type RunMode = "node" | "to" | "all";

export interface Run {
  id: string | number;
  project_id: number;
  status: RunStatus;
  targets: string[];
  mode: RunMode;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  error?: unknown;
  graph_version?: number | null;
}

export interface RunEvent {
  run_id: string | number;
  seq: number;
  ts: number;
  type: string;
  node?: string | null;
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Artifact {
  node: string;
  kind: string;
  url: string;
}

export interface Prediction {
  class: string;
  probability: number;
  probabilities?: Record<string, number> | number[];
}
