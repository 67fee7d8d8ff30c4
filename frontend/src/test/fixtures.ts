// The catalog is what GET /api/components answers (re-recorded by tests/fixtures/record.py,
// checked by tests/test_fixtures.py); the template is the one the studio ships.
import catalogJson from "./fixtures/catalog.json";
import templateJson from "../../../templates/model_optimization_finetuning.json";
import type { Catalog, Graph } from "../types";

export const catalog = catalogJson as unknown as Catalog;
export const template = (): Graph => structuredClone(templateJson) as unknown as Graph;
export const schemaOf = (id: string) => catalog.components.find((c) => c.id === id)!.params_schema;
