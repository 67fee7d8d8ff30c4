import { describe, expect, it } from "vitest";
import { checkValue, describeField, fieldsFromSchema, parseNumberInput, schemaText } from "./schema";
import { catalog, schemaOf } from "../test/fixtures";

const field = (component: string, name: string) => fieldsFromSchema(schemaOf(component)).find((f) => f.name === name)!;

describe("fields from a component's JSON schema", () => {
  it("describes every component's params without falling back to raw JSON", () => {
    for (const c of catalog.components)
      for (const f of fieldsFromSchema(c.params_schema)) expect(f.kind, `${c.id}.${f.name}`).not.toBe("json");
  });

  it("reads integers with their bounds and defaults", () => {
    expect(field("layers.Dense", "units")).toMatchObject({ kind: "integer", minimum: 1, maximum: 65536, default: 256, nullable: false });
  });

  it("reads exclusive bounds of numbers", () => {
    expect(field("layers.Dropout", "rate")).toMatchObject({ kind: "number", minimum: 0, exclusiveMaximum: 1 });
    expect(field("optimizers.RMSprop", "learning_rate")).toMatchObject({ kind: "number", exclusiveMinimum: 0, maximum: 10 });
  });

  it("reads enums as choices and booleans as switches", () => {
    expect(field("layers.Dense", "activation")).toMatchObject({ kind: "enum", choices: ["relu", "sigmoid", "softmax", "tanh", "linear"] });
    expect(field("data.ImageFormat", "channels")).toMatchObject({ kind: "enum", choices: [1, 3] });
    expect(field("training.Trainer", "feature_cache")).toMatchObject({ kind: "boolean", default: true });
  });

  it("reads nullable fields (anyOf with null) with the inner bounds", () => {
    expect(field("data.CatsVsDogs", "max_per_class")).toMatchObject({ kind: "integer", nullable: true, minimum: 1, default: null });
    expect(field("backbones.VGG16", "weights_file")).toMatchObject({ kind: "string", nullable: true });
  });

  it("reads a list of Literal as a multi-select of layer names, marked deferred", () => {
    const f = field("backbones.VGG16", "fine_tune_layers");
    expect(f.kind).toBe("multi");
    expect(f.deferred).toBe(true);
    expect(f.choices).toContain("block5_conv3");
    expect(f.choices).toHaveLength(18);
  });

  it("reads x-choices-from for a multi-select whose choices come from the input spec", () => {
    expect(field("training.FineTune", "layers")).toMatchObject({ kind: "multi", nullable: true, choicesFrom: "backbone_layers" });
  });

  it("reads titles and descriptions in English and Chinese for every param of every component", () => {
    for (const c of catalog.components)
      for (const f of fieldsFromSchema(c.params_schema)) {
        expect(f.title?.en, `${c.id}.${f.name}`).toBeTruthy();
        expect(f.title?.zh, `${c.id}.${f.name}`).toBeTruthy();
        expect(f.description?.en, `${c.id}.${f.name}`).toBeTruthy();
        expect(f.description?.zh, `${c.id}.${f.name}`).toBeTruthy();
      }
    expect(field("optimizers.Adam", "learning_rate").title).toEqual({ en: "Learning rate", zh: "学习率" });
  });

  it("keeps the field's own title over that of the type a $ref names", () => {
    const root = {
      $defs: { Mode: { enum: ["a", "b"], title: "Mode", type: "string" } },
      properties: { m: { $ref: "#/$defs/Mode", title: "Working mode", "x-title-zh": "工作模式" } },
    };
    expect(describeField("m", root.properties.m, root).title).toEqual({ en: "Working mode", zh: "工作模式" });
    expect(schemaText({ title: "Only English" }, "title")).toEqual({ en: "Only English", zh: undefined });
    expect(schemaText({}, "description")).toBeUndefined();
  });

  it("resolves $ref into $defs", () => {
    const root = { $defs: { Mode: { enum: ["a", "b"], type: "string" } }, properties: { m: { $ref: "#/$defs/Mode", default: "a" } } };
    expect(describeField("m", root.properties.m, root)).toMatchObject({ kind: "enum", choices: ["a", "b"], default: "a" });
  });

  it("checks values against the bounds", () => {
    const units = field("layers.Dense", "units");
    expect(checkValue(units, 0)).toEqual({ code: "tooSmall", op: "≥", limit: 1 });
    expect(checkValue(units, 2.5)).toEqual({ code: "notInteger" });
    expect(checkValue(units, 64)).toBeNull();
    expect(checkValue(field("layers.Dropout", "rate"), 1)).toEqual({ code: "tooBig", op: "<", limit: 1 });
    expect(checkValue(field("optimizers.RMSprop", "learning_rate"), 0)).toEqual({ code: "tooSmall", op: ">", limit: 0 });
    expect(checkValue(field("data.CatsVsDogs", "max_per_class"), null)).toBeNull();
  });

  it("parses typed numbers, keeping text that is not a number", () => {
    const units = field("layers.Dense", "units");
    expect(parseNumberInput("12", units)).toBe(12);
    expect(parseNumberInput("2e-5", units)).toBe(2e-5);
    expect(parseNumberInput("abc", units)).toBe("abc");
    expect(parseNumberInput("", field("data.CatsVsDogs", "max_per_class"))).toBeNull();
  });
});
