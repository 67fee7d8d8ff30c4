import type { ReactNode } from "react";
import { useLang, useT } from "../i18n";

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="26" height="26" aria-hidden>
      <rect width="32" height="32" rx="8" fill="url(#lg)" />
      <defs>
        <linearGradient id="lg" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#6a8dff" />
          <stop offset="1" stopColor="#a06bff" />
        </linearGradient>
      </defs>
      <g fill="#fff">
        <circle cx="10" cy="10" r="3" />
        <circle cx="22" cy="16" r="3" />
        <circle cx="10" cy="22" r="3" />
      </g>
      <path d="M12.5 11.2 19.5 14.8M12.5 20.8l7-3.6" stroke="#fff" strokeWidth="2" />
    </svg>
  );
}

export function LangSwitch() {
  const t = useT();
  const lang = useLang((s) => s.lang);
  const setLang = useLang((s) => s.setLang);
  return (
    <button
      className="btn btn-ghost lang-switch"
      data-testid="lang-switch"
      title={t("lang.title")}
      onClick={() => setLang(lang === "zh" ? "en" : "zh")}
    >
      <Icon name="globe" /> {t("lang.switch")}
    </button>
  );
}

const paths: Record<string, ReactNode> = {
  globe: <><circle cx="12" cy="12" r="9" /><path d="M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z" /></>,
  play: <path d="M7 4.5v15l12-7.5z" fill="currentColor" stroke="none" />,
  playTo: <><path d="M5 5v14l9-7z" fill="currentColor" stroke="none" /><path d="M18 5v14" strokeWidth="2.4" /></>,
  playAll: <><path d="M3 5v14l8-7z" fill="currentColor" stroke="none" /><path d="M12 5v14l8-7z" fill="currentColor" stroke="none" /></>,
  stop: <rect x="6" y="6" width="12" height="12" rx="2" fill="currentColor" stroke="none" />,
  undo: <path d="M9 14 4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3" />,
  redo: <path d="m15 14 5-5-5-5M20 9H10a6 6 0 0 0 0 12h3" />,
  layout: <><rect x="3" y="3" width="7" height="7" rx="1.5" /><rect x="14" y="3" width="7" height="7" rx="1.5" /><rect x="3" y="14" width="7" height="7" rx="1.5" /><rect x="14" y="14" width="7" height="7" rx="1.5" /></>,
  fit: <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />,
  history: <><path d="M3 12a9 9 0 1 0 3-6.7L3 8" /><path d="M3 3v5h5M12 7v5l3 2" /></>,
  back: <path d="m15 18-6-6 6-6" />,
  plus: <path d="M12 5v14M5 12h14" />,
  trash: <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />,
  edit: <path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4" />,
  search: <><circle cx="11" cy="11" r="7" /><path d="m20 20-3.5-3.5" /></>,
  warn: <><path d="M12 3 2 20h20L12 3z" /><path d="M12 10v4M12 17v.5" /></>,
  check: <path d="m5 12 5 5 9-10" />,
  x: <path d="M6 6l12 12M18 6 6 18" />,
  chevronUp: <path d="m6 15 6-6 6 6" />,
  chevronDown: <path d="m6 9 6 6 6-6" />,
  download: <path d="M12 4v11m0 0 4.5-4.5M12 15l-4.5-4.5M5 20h14" />,
  upload: <path d="M12 20V9m0 0 4.5 4.5M12 9l-4.5 4.5M5 4h14" />,
  copy: <><rect x="8" y="8" width="12" height="12" rx="2" /><path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3" /></>,
  folder: <path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7z" />,
  spark: <path d="M12 3v4M12 17v4M3 12h4M17 12h4M6 6l2.5 2.5M15.5 15.5 18 18M6 18l2.5-2.5M15.5 8.5 18 6" />,
  cache: <><ellipse cx="12" cy="6" rx="7" ry="3" /><path d="M5 6v6c0 1.7 3.1 3 7 3s7-1.3 7-3V6M5 12v6c0 1.7 3.1 3 7 3s7-1.3 7-3v-6" /></>,
  clock: <><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 2" /></>,
};

export function Icon({ name, size = 16 }: { name: keyof typeof paths | string; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
    >
      {paths[name] ?? null}
    </svg>
  );
}

export const CATEGORY_COLORS: Record<string, string> = {
  layers: "#4f8cff",
  backbones: "#a06bff",
  data: "#2fbf71",
  optimizers: "#f2a33a",
  training: "#ff5c7a",
};

export const PORT_COLORS: Record<string, string> = {
  tensor: "#5aa9ff",
  dataset: "#38c17a",
  images: "#2ec4b6",
  optimizer: "#f2a33a",
  model: "#ff6b9a",
  trainable: "#c084fc",
  report: "#e5e07a",
};

export function categoryColor(cat: string): string {
  return CATEGORY_COLORS[cat] ?? "#8b93a7";
}

export function portColor(type: string): string {
  return PORT_COLORS[type] ?? "#8b93a7";
}

export function relativeTime(iso: string | null | undefined, lang: "zh" | "en"): string {
  if (!iso) return "";
  const d = new Date(iso.endsWith("Z") || /[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  if (Number.isNaN(d.getTime())) return iso;
  const s = (Date.now() - d.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang === "zh" ? "zh-CN" : "en", { numeric: "auto" });
  if (s < 45) return rtf.format(-Math.max(0, Math.round(s)), "second");
  if (s < 2700) return rtf.format(-Math.round(s / 60), "minute");
  if (s < 64800) return rtf.format(-Math.round(s / 3600), "hour");
  return d.toLocaleDateString(lang === "zh" ? "zh-CN" : "en", { year: "numeric", month: "short", day: "numeric" });
}
