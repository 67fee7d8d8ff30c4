// Training curves drawn by uPlot on a canvas: drag across the chart to zoom into some epochs,
// double-click to see them all again, hover to read the values at an epoch. The chart is made
// once per look (series, height) and only handed new data as epochs arrive.
import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useT } from "../i18n";

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

interface Props {
  series: Series[];
  title: string;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  height?: number;
  testId?: string;
  legend?: boolean;
  /** An epoch to mark with a vertical line (the epoch whose weights the trainer keeps). */
  marker?: number | null;
  /** An epoch to mark with a solid line: where early stopping ended the training. */
  stopMarker?: number | null;
}

type Range = [number, number];

const HEAD = 20; // the title row above the canvas
const FONT = '10px "JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace'; // --mono
const AXIS = { stroke: "#7f8899", font: FONT, grid: { stroke: "#283042", width: 1 }, ticks: { show: false } };
const EPOCH_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]; // epochs are whole numbers

/** The series on one x axis, as uPlot takes them: every epoch any series has, sorted, and
 *  each series' value at each epoch (null where it has none). */
export function chartData(series: Series[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.map((s) => {
    const at = new Map(s.points.map((p) => [p.x, p.y]));
    return xs.map((x) => at.get(x) ?? null);
  });
  return [xs, ...ys];
}

/** The epochs shown when not zoomed: from the first to the last planned or seen. */
export function fullXRange(xs: ArrayLike<number>, xMax?: number): Range {
  return [1, Math.max(xMax ?? 0, xs.length ? xs[xs.length - 1] : 0, 2)];
}

/** The values shown: the bounds given, else the data's with 0 and 1 in view. */
export function yRange(dataMin: number | null, dataMax: number | null, yMin?: number, yMax?: number): Range {
  const lo = yMin ?? Math.min(dataMin ?? 0, 0);
  const hi = yMax ?? Math.max(dataMax ?? 1, 1);
  return Number.isFinite(lo) && Number.isFinite(hi) && hi > lo ? [lo, hi] : [0, 1];
}

function canDraw(): boolean {
  return typeof document !== "undefined" && document.createElement("canvas").getContext("2d") !== null;
}

function formatValue(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1);
}

interface Bounds {
  x: Range; // all epochs
  yMin?: number;
  yMax?: number;
}

/** A vertical line at epoch ``x`` across the plot area: dashed green for the kept epoch, solid
 *  amber for an early stop. */
function drawMarker(u: uPlot, x: number | null | undefined, stop = false) {
  if (x === null || x === undefined) return;
  const px = Math.round(u.valToPos(x, "x", true));
  const { left, top, width, height } = u.bbox;
  if (!Number.isFinite(px) || px < left || px > left + width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = stop ? "rgba(240, 180, 90, 0.85)" : "rgba(111, 217, 160, 0.75)";
  ctx.lineWidth = Math.max(1, devicePixelRatio || 1);
  ctx.setLineDash(stop ? [] : [4 * (devicePixelRatio || 1), 3 * (devicePixelRatio || 1)]);
  ctx.beginPath();
  ctx.moveTo(px, top);
  ctx.lineTo(px, top + height);
  ctx.stroke();
  ctx.restore();
}

function options(series: Series[], width: number, height: number, bounds: { current: Bounds },
  zoomed: { current: boolean }, onHover: (idx: number | null) => void,
  marker: { current: number | null | undefined }, stopMarker: { current: number | null | undefined }): uPlot.Options {
  const showAll = (u: uPlot) => u.setScale("x", { min: bounds.current.x[0], max: bounds.current.x[1] });
  return {
    width,
    height,
    legend: { show: false }, // the title row reads out the values instead
    padding: [6, 8, 0, 0],
    cursor: {
      y: false, // one line across the epochs, none across the values
      drag: { x: true, y: false, setScale: true },
      bind: { dblclick: (u) => () => { showAll(u); return null; } },
    },
    scales: {
      // Not auto: the x range is set here, to all epochs or to the user's zoom.
      x: { time: false, auto: false, range: (_u, min, max) => (min === null || max === null ? bounds.current.x : [min, max]) },
      y: { auto: true, range: (_u, min, max) => yRange(min, max, bounds.current.yMin, bounds.current.yMax) },
    },
    axes: [
      { ...AXIS, size: 22, incrs: EPOCH_STEPS, values: (_u, ticks) => ticks.map(String) },
      { ...AXIS, size: 36, values: (_u, ticks) => ticks.map((v) => String(Number(v.toFixed(2)))) },
    ],
    series: [
      {},
      ...series.map((s): uPlot.Series => ({
        label: s.name, stroke: s.color, width: 2, dash: s.dashed ? [5, 4] : undefined, spanGaps: true,
        points: { size: 5, fill: s.color, stroke: s.color },
      })),
    ],
    hooks: {
      draw: [(u) => { drawMarker(u, stopMarker.current, true); drawMarker(u, marker.current); }],
      setCursor: [(u) => onHover(u.cursor.idx ?? null)],
      setScale: [(u, key) => {
        if (key !== "x") return;
        const [lo, hi] = bounds.current.x;
        zoomed.current = (u.scales.x.min ?? lo) > lo + 1e-9 || (u.scales.x.max ?? hi) < hi - 1e-9;
      }],
    },
  };
}

export function LineChart({ series, title, xMax, yMin, yMax, height = 170, testId, legend = true, marker, stopMarker }: Props) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoomed = useRef(false);
  const markerAt = useRef(marker);
  markerAt.current = marker;
  const stopAt = useRef(stopMarker);
  stopAt.current = stopMarker;
  const [hover, setHover] = useState<number | null>(null);
  const data = useMemo(() => chartData(series), [series]);
  const plotHeight = height - HEAD;
  // The ranges are read by the chart's range functions, so new bounds need no new chart.
  const bounds = useRef<Bounds>({ x: [1, 2] });
  bounds.current = { x: fullXRange(data[0], xMax), yMin, yMax };
  const look = JSON.stringify([series.map((s) => [s.name, s.color, s.dashed]), plotHeight]);

  useEffect(() => {
    if (!host.current || !canDraw()) return;
    const width = Math.max(160, box.current?.clientWidth ?? 360);
    const u = new uPlot(options(series, width, plotHeight, bounds, zoomed, setHover, markerAt, stopAt), data, host.current);
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
    // Made again only when the look changes; data and bounds reach it through the effects below and refs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [look]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const [lo, hi] = bounds.current.x;
    const keep = zoomed.current ? { min: u.scales.x.min ?? lo, max: u.scales.x.max ?? hi } : { min: lo, max: hi };
    u.setData(data, false);
    u.setScale("x", keep); // also re-ranges y and redraws
  }, [data, xMax, yMin, yMax]);

  useEffect(() => plot.current?.redraw(false, false), [marker, stopMarker]);

  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(([entry]) =>
      plot.current?.setSize({ width: Math.max(160, Math.round(entry.contentRect.width)), height: plotHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, [plotHeight]);

  const points = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <div ref={box} className="chart-box" data-testid={testId} data-points={points} data-marker={marker ?? undefined}
      data-stop-marker={stopMarker ?? undefined}>
      <div className="chart-head">
        <span className="chart-title" title={t("panel.chartHint")}>{title}</span>
        <Readout series={series} data={data} hover={hover} legend={legend} epochLabel={t("panel.epoch")} />
      </div>
      <div ref={host} className="chart-plot" style={{ height: plotHeight }} />
    </div>
  );
}

/** The values at the hovered epoch; when not hovering, the series' names if asked for. */
function Readout({ series, data, hover, legend, epochLabel }: {
  series: Series[]; data: uPlot.AlignedData; hover: number | null; legend: boolean; epochLabel: string;
}) {
  if (hover === null || data[0][hover] === undefined) {
    if (!legend) return null;
    return (
      <span className="chart-readout">
        {series.map((s) => <span key={s.name} className="chart-value"><i style={{ background: s.color }} />{s.name}</span>)}
      </span>
    );
  }
  return (
    <span className="chart-readout" data-testid="chart-readout">
      <span className="chart-epoch">{epochLabel} {data[0][hover]}</span>
      {series.map((s, i) => (
        <span key={s.name} className="chart-value">
          <i style={{ background: s.color }} />{s.name} <b>{formatValue(data[i + 1][hover])}</b>
        </span>
      ))}
    </span>
  );
}
