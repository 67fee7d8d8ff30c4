import catalogJson from "./fixtures/catalog.json";
import templateJson from "./fixtures/template.json";
import type { Catalog, Graph } from "../types";

export const catalog = catalogJson as unknown as Catalog;
export const template = (): Graph => structuredClone(templateJson) as unknown as Graph;
export const schemaOf = (id: string) => catalog.components.find((c) => c.id === id)!.params_schema;
