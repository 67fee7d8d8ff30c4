import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { ParamForm } from "./ParamForm";
import { schemaOf } from "../test/fixtures";

const layers = ["block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3"];

describe("the generic parameter form", () => {
  it("renders a number with its bounds and passes what was typed, flagging it when out of bounds", () => {
    const onChange = vi.fn();
    const { rerender } = render(<ParamForm schema={schemaOf("layers.Dense")} values={{ units: 256, activation: "relu" }} onChange={onChange} lang="en" />);
    const input = screen.getByTestId("param-units") as HTMLInputElement;
    expect(input.value).toBe("256");
    expect(screen.getByTestId("field-units").textContent).toContain("≥ 1");
    expect(screen.getByTestId("field-units").textContent).toContain("≤ 65536");
    fireEvent.change(input, { target: { value: "0" } });
    expect(onChange).toHaveBeenLastCalledWith("units", 0);
    rerender(<ParamForm schema={schemaOf("layers.Dense")} values={{ units: 0, activation: "relu" }} onChange={onChange} lang="en" />);
    expect(screen.getByTestId("error-units").textContent).toContain("Must be ≥ 1");
  });

  it("does not pass text that is not a number", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("layers.Dense")} values={{}} onChange={onChange} lang="en" />);
    fireEvent.change(screen.getByTestId("param-units"), { target: { value: "abc" } });
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByTestId("error-units").textContent).toContain("Enter a number");
  });

  it("shows the server's issue on the param it names", () => {
    render(<ParamForm schema={schemaOf("layers.Dense")} values={{}} onChange={() => undefined} lang="en"
      issues={{ activation: "activation must be one of ..." }} />);
    expect(screen.getByTestId("error-activation").textContent).toContain("activation must be one of");
  });

  it("renders choices as a select and switches for booleans", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("training.Trainer")} values={{ loss: "auto", feature_cache: true }} onChange={onChange} lang="en" />);
    const loss = screen.getByTestId("param-loss") as HTMLSelectElement;
    // each choice by the component's label for it, never the raw value
    expect([...loss.options].map((o) => o.textContent)).toEqual(["Auto", "Binary cross-entropy", "Categorical cross-entropy"]);
    fireEvent.change(loss, { target: { value: "1" } });
    expect(onChange).toHaveBeenLastCalledWith("loss", "binary_crossentropy");
    const sw = screen.getByTestId("param-feature_cache");
    expect(sw.getAttribute("aria-checked")).toBe("true");
    fireEvent.click(sw);
    expect(onChange).toHaveBeenLastCalledWith("feature_cache", false);
  });

  it("renders a short enum as a segmented control that keeps the value's type", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("data.ImageFormat")} values={{ channels: 3 }} onChange={onChange} lang="en" />);
    const seg = screen.getByTestId("param-channels");
    fireEvent.click(within(seg).getByText("1 (gray)"));
    expect(onChange).toHaveBeenLastCalledWith("channels", 1);
  });

  it("labels choices in the person's language, sending the value itself", () => {
    const onChange = vi.fn();
    const { rerender } = render(<ParamForm schema={schemaOf("training.Evaluate")} values={{ split: "test" }} onChange={onChange} lang="zh" />);
    const seg = screen.getByTestId("param-split");
    expect(within(seg).getAllByRole("radio").map((b) => b.textContent)).toEqual(["测试集", "验证集", "训练集"]);
    fireEvent.click(within(seg).getByText("验证集"));
    expect(onChange).toHaveBeenLastCalledWith("split", "validation");
    rerender(<ParamForm schema={schemaOf("training.Evaluate")} values={{ split: "test" }} onChange={onChange} lang="en" />);
    expect(within(screen.getByTestId("param-split")).getAllByRole("radio").map((b) => b.textContent)).toEqual(["Test", "Validation", "Training"]);
    rerender(<ParamForm schema={schemaOf("training.Trainer")} values={{ loss: "binary_crossentropy" }} onChange={onChange} lang="zh" />);
    const chosen = within(screen.getByTestId("param-loss")).getAllByRole("radio").find((b) => b.getAttribute("aria-checked") === "true");
    expect(chosen?.textContent).toBe("二元交叉熵"); // short Chinese labels fit a segmented control
    expect(chosen?.getAttribute("data-value")).toBe("binary_crossentropy");
  });

  it("offers the backbone's layer names as a multi-select for fine-tuning", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("training.FineTune")} values={{ layers: null }} onChange={onChange} lang="en"
      choicesFor={(f) => (f.choicesFrom === "backbone_layers" ? layers : undefined)} />);
    const multi = screen.getByTestId("param-layers");
    expect(within(multi).getAllByRole("checkbox").map((b) => b.textContent)).toEqual(layers);
    fireEvent.click(within(multi).getByText("block5_conv2"));
    expect(onChange).toHaveBeenLastCalledWith("layers", ["block5_conv2"]);
  });

  it("keeps the layer order, and an empty selection of a nullable list becomes null", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("training.FineTune")} values={{ layers: ["block5_conv3"] }} onChange={onChange} lang="en"
      choicesFor={() => layers} />);
    const multi = screen.getByTestId("param-layers");
    fireEvent.click(within(multi).getByText("block5_conv1"));
    expect(onChange).toHaveBeenLastCalledWith("layers", ["block5_conv1", "block5_conv3"]);
    fireEvent.click(within(multi).getByText("block5_conv3"));
    expect(onChange).toHaveBeenLastCalledWith("layers", null);
  });

  it("says where the choices come from when no backbone is connected", () => {
    render(<ParamForm schema={schemaOf("training.FineTune")} values={{}} onChange={() => undefined} lang="en" choicesFor={() => undefined} />);
    expect(screen.getByTestId("param-layers").textContent).toContain("Connect a model with a backbone");
  });

  it("uses the schema's own enum for a list of Literal", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("backbones.VGG16")} values={{ fine_tune_layers: ["block5_conv1"] }} onChange={onChange} lang="en" />);
    const multi = screen.getByTestId("param-fine_tune_layers");
    expect(within(multi).getAllByRole("checkbox")).toHaveLength(18);
    expect(within(multi).getByText("block5_conv1").getAttribute("aria-checked")).toBe("true");
  });

  it("resets a changed value to the default and labels fields in Chinese", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("layers.Dense")} values={{ units: 10 }} onChange={onChange} lang="zh" />);
    expect(screen.getByTestId("field-units").textContent).toContain("单元数");
    fireEvent.click(screen.getByTestId("reset-units"));
    expect(onChange).toHaveBeenLastCalledWith("units", undefined);
  });

  it("shows each field's title and description in the person's language, from the schema", () => {
    const { rerender } = render(<ParamForm schema={schemaOf("optimizers.Adam")} values={{}} onChange={() => undefined} lang="zh" />);
    const beta = screen.getByTestId("field-beta_2");
    expect(within(beta).getByText("衰减率 β2")).toBeTruthy();
    expect(beta.textContent).toContain("梯度平方滑动平均的衰减率");
    expect(screen.getByTestId("field-learning_rate").textContent).toContain("学习率");
    rerender(<ParamForm schema={schemaOf("optimizers.Adam")} values={{}} onChange={() => undefined} lang="en" />);
    expect(screen.getByTestId("field-learning_rate").textContent).toContain("Learning rate");
    expect(screen.getByTestId("field-beta_2").textContent).toContain("Decay of the moving average of squared gradients");
    expect(screen.getByTestId("field-beta_2").textContent).not.toContain("梯度");
  });

  it("titles an enum field, and a $ref one, from the field's own schema in both languages", () => {
    const { rerender } = render(<ParamForm schema={schemaOf("training.Trainer")} values={{}} onChange={() => undefined} lang="zh" />);
    expect(screen.getByTestId("field-loss").querySelector(".field-label")?.textContent).toBe("损失函数");
    const refSchema = {
      $defs: { Mode: { enum: ["a", "b"], title: "Mode", type: "string" } },
      properties: { mode: { $ref: "#/$defs/Mode", default: "a", title: "Working mode", description: "How it works",
        "x-title-zh": "工作模式", "x-description-zh": "它如何工作" } },
    };
    rerender(<ParamForm schema={refSchema} values={{}} onChange={() => undefined} lang="zh" />);
    expect(screen.getByTestId("field-mode").querySelector(".field-label")?.textContent).toBe("工作模式");
    expect(screen.getByTestId("field-mode").textContent).toContain("它如何工作");
    rerender(<ParamForm schema={refSchema} values={{}} onChange={() => undefined} lang="en" />);
    expect(screen.getByTestId("field-mode").querySelector(".field-label")?.textContent).toBe("Working mode");
  });

  it("falls back to English, then to the name, where the schema has no Chinese", () => {
    const schema = { properties: { a: { type: "integer", title: "Alpha", description: "First" }, b: { type: "integer" } } };
    render(<ParamForm schema={schema} values={{}} onChange={() => undefined} lang="zh" />);
    expect(screen.getByTestId("field-a").querySelector(".field-label")?.textContent).toBe("Alpha");
    expect(screen.getByTestId("field-a").textContent).toContain("First");
    expect(screen.getByTestId("field-b").querySelector(".field-label")?.textContent).toBe("b");
  });

  it("edits a nullable string, an empty value meaning null", () => {
    const onChange = vi.fn();
    render(<ParamForm schema={schemaOf("backbones.VGG16")} values={{}} onChange={onChange} lang="en" />);
    const input = screen.getByTestId("param-weights_file");
    fireEvent.change(input, { target: { value: "/w.pt" } });
    expect(onChange).toHaveBeenLastCalledWith("weights_file", "/w.pt");
    fireEvent.change(input, { target: { value: "" } });
    expect(onChange).toHaveBeenLastCalledWith("weights_file", null);
  });
});
