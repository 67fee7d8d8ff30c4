// The canvas's dotted background, drawn once per zoom and moved by the compositor: a layer a
// little larger than the pane, translated by the pan modulo one grid step. React Flow's own
// Background is an SVG pattern repainted on every pan frame; with software raster that alone
// kept a 16-node graph under 50 frames a second.
import { memo, useEffect, useRef } from "react";
import { useStoreApi, type Transform } from "@xyflow/react";

export const DotGrid = memo(function DotGrid({ gap, size, color }: { gap: number; size: number; color: string }) {
  const store = useStoreApi();
  const layer = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let zoomShown = Number.NaN;
    const follow = ([x, y, zoom]: Transform) => {
      const el = layer.current;
      if (!el) return;
      const step = gap * zoom;
      if (zoom !== zoomShown) {
        zoomShown = zoom;
        const r = Math.max(0.5, (size * zoom) / 2);
        el.style.backgroundSize = `${step}px ${step}px`;
        el.style.backgroundImage = `radial-gradient(circle at ${step / 2}px ${step / 2}px, ${color} ${r}px, transparent ${r + 0.6}px)`;
      }
      const dx = (((x - step / 2) % step) + step) % step - step;
      const dy = (((y - step / 2) % step) + step) % step - step;
      el.style.transform = `translate3d(${dx}px, ${dy}px, 0)`;
    };
    follow(store.getState().transform);
    let last = store.getState().transform;
    return store.subscribe((s) => {
      if (s.transform !== last) follow((last = s.transform));
    });
  }, [store, gap, size, color]);
  return <div className="dot-grid" ref={layer} aria-hidden />;
});
