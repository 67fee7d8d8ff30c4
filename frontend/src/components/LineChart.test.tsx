import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { chartData, fullXRange, LineChart, yRange, type Series } from "./LineChart";
import { useLang } from "../i18n";

const train: Series = { name: "train", color: "#5aa9ff", points: [{ x: 2, y: 0.5 }, { x: 1, y: 0.7 }, { x: 3, y: 0.4 }] };
const val: Series = { name: "validation", color: "#ff9f43", dashed: true, points: [{ x: 1, y: 0.8 }, { x: 3, y: 0.6 }] };

describe("chart data", () => {
  it("puts the series on the epochs any of them has, in order, with gaps where one has none", () => {
    expect(chartData([train, val])).toEqual([[1, 2, 3], [0.7, 0.5, 0.4], [0.8, null, 0.6]]);
  });

  it("is empty before the first epoch", () => {
    expect(chartData([{ ...train, points: [] }])).toEqual([[], []]);
  });

  it("shows every epoch planned, or seen if a run went past the plan", () => {
    expect(fullXRange([1, 2], 10)).toEqual([1, 10]);
    expect(fullXRange([1, 2, 3, 12], 10)).toEqual([1, 12]);
    expect(fullXRange([], undefined)).toEqual([1, 2]);
  });

  it("keeps the given value bounds, else the data's with 0 and 1 in view", () => {
    expect(yRange(0.2, 0.9, 0, 1)).toEqual([0, 1]);
    expect(yRange(0.2, 2.5)).toEqual([0, 2.5]);
    expect(yRange(-0.5, 0.4)).toEqual([-0.5, 1]);
    expect(yRange(null, null)).toEqual([0, 1]);
  });
});

describe("line chart", () => {
  it("renders its title and says how many points it holds", () => {
    useLang.getState().setLang("en");
    render(<LineChart testId="chart" title="Loss" legend={false} xMax={10} yMin={0} yMax={1} series={[train, val]} />);
    const chart = screen.getByTestId("chart");
    expect(chart.dataset.points).toBe("5");
    expect(chart.textContent).toContain("Loss");
    // The hint for zoom is in the user's language.
    expect(screen.getByText("Loss").getAttribute("title")).toMatch(/zoom/);
  });

  it("names its series when asked to and nothing is hovered", () => {
    useLang.getState().setLang("zh");
    render(<LineChart testId="chart" title="损失" series={[train, val]} />);
    const chart = screen.getByTestId("chart");
    expect(chart.textContent).toContain("train");
    expect(chart.textContent).toContain("validation");
    expect(screen.getByText("损失").getAttribute("title")).toMatch(/双击/);
  });
});
