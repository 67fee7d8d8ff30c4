// Transient UI state: toasts, the bottom panel, and requests to focus a node on the canvas.
import { create } from "zustand";

export type ToastKind = "info" | "error" | "success";
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

export type PanelTab = "curves" | "log" | "eval" | "model" | "issues" | "why";

interface UiState {
  toasts: Toast[];
  panelOpen: boolean;
  panelTab: PanelTab;
  focus: { node: string; at: number } | null;
  toast: (text: string, kind?: ToastKind, ms?: number) => void;
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
    set((s) => ({ toasts: [...s.toasts.filter((t) => t.text !== text), { id, kind, text }].slice(-4) }));
    setTimeout(() => get().dismiss(id), ms);
  },
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  openPanel: (tab) => set((s) => ({ panelOpen: true, panelTab: tab ?? s.panelTab })),
  setPanelOpen: (open) => set({ panelOpen: open }),
  focusNode: (node) => set({ focus: { node, at: Date.now() } }),
}));
