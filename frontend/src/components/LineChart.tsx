// A small hand-made SVG line chart for training curves, drawn at the container's pixel width.
import { useEffect, useRef, useState } from "react";

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
}

const PAD = { l: 40, r: 12, t: 28, b: 22 };

function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(([entry]) => setWidth(Math.max(160, Math.round(entry.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

export function LineChart({ series, title, xMax, yMin, yMax, height = 170, testId, legend = true }: Props) {
  const [ref, W] = useWidth(360);
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(xMax ?? 0, ...all.map((p) => p.x), 2);
  const minX = 1;
  let lo = yMin ?? Math.min(...all.map((p) => p.y), 0);
  let hi = yMax ?? Math.max(...all.map((p) => p.y), 1);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) {
    lo = 0;
    hi = 1;
  }
  const H = height;
  const sx = (x: number) => PAD.l + ((x - minX) / (maxX - minX)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - ((y - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const yTicks = niceTicks(lo, hi);
  const xTicks = niceTicks(minX, maxX, Math.min(8, maxX - minX)).filter((x) => Number.isInteger(x));
  return (
    <div ref={ref} className="chart-box">
      <svg className="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} data-testid={testId} data-points={all.length}>
        <text x={PAD.l} y={15} className="chart-title">{title}</text>
        {legend && <g className="chart-legend">
          {series.map((s, i) => (
            <g key={s.name} transform={`translate(${W - PAD.r - (series.length - i) * 72}, 11)`}>
              <line x1="0" x2="14" y1="0" y2="0" stroke={s.color} strokeWidth="2" strokeDasharray={s.dashed ? "4 3" : undefined} />
              <text x="18" y="3.5">{s.name}</text>
            </g>
          ))}
        </g>}
        {yTicks.map((v) => (
          <g key={"y" + v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={sy(v)} y2={sy(v)} className="grid" />
            <text x={PAD.l - 6} y={sy(v) + 3.5} textAnchor="end" className="tick">{Math.abs(v) < 10 ? String(Number(v.toFixed(2))) : v}</text>
          </g>
        ))}
        {xTicks.map((v) => (
          <text key={"x" + v} x={sx(v)} y={H - 6} textAnchor="middle" className="tick">{v}</text>
        ))}
        {series.map((s) => {
          const pts = [...s.points].sort((a, b) => a.x - b.x);
          if (!pts.length) return null;
          const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(Math.max(lo, Math.min(hi, p.y))).toFixed(1)}`).join(" ");
          return (
            <g key={s.name}>
              <path d={d} fill="none" stroke={s.color} strokeWidth="2" strokeDasharray={s.dashed ? "5 4" : undefined}
                strokeLinejoin="round" strokeLinecap="round" />
              {pts.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(Math.max(lo, Math.min(hi, p.y)))} r="2.6" fill={s.color} />)}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
