// Transient UI state: toasts, the bottom panel, and requests to focus a node on the canvas.
import { create } from "zustand";
import { useLang } from "../i18n";
import type { Lang } from "../types";

export type ToastKind = "info" | "error" | "success";
/** What a toast says: words of the editor's are a function of the language, so a toast still
 * open when the person switches language is shown in the new one; a server's message is a string. */
export type ToastText = string | ((lang: Lang) => string);
export interface Toast {
  id: number;
  kind: ToastKind;
  text: ToastText;
}

/** The toast's text in ``lang``. */
export const toastText = (text: ToastText, lang: Lang): string => (typeof text === "function" ? text(lang) : text);

export type PanelTab = "curves" | "log" | "eval" | "model" | "issues" | "why";

interface UiState {
  toasts: Toast[];
  panelOpen: boolean;
  panelTab: PanelTab;
  focus: { node: string; at: number } | null;
  toast: (text: ToastText, kind?: ToastKind, ms?: number) => void;
  dismiss: (id: number) => void;
  openPanel: (tab?: PanelTab) => void;
  setPanelOpen: (open: boolean) => void;
  focusNode: (node: string) => void;
}

let nextId = 1;

export const useUi = create<UiState>((set, get) => ({
  toasts: [],
  panelOpen: true,
  panelTab: "curves",
  focus: null,
  toast: (text, kind = "info", ms = 4000) => {
    const id = nextId++;
    const lang = useLang.getState().lang;
    const said = toastText(text, lang); // the same words again replace the toast that says them
    set((s) => ({ toasts: [...s.toasts.filter((t) => toastText(t.text, lang) !== said), { id, kind, text }].slice(-4) }));
    setTimeout(() => get().dismiss(id), ms);
  },
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  openPanel: (tab) => set((s) => ({ panelOpen: true, panelTab: tab ?? s.panelTab })),
  setPanelOpen: (open) => set({ panelOpen: open }),
  focusNode: (node) => set({ focus: { node, at: Date.now() } }),
}));
