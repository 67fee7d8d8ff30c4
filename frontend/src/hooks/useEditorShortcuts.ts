// The editor's keyboard shortcuts: delete, copy/paste/duplicate, undo/redo, select all, save,
// fit (F), layout (L) and Escape. Keys typed into a field, or while a dialog is open, are left alone.
import { useEffect } from "react";
import { translate } from "../i18n";
import { useEditor } from "../store/editor";
import { useUi } from "../store/ui";

export interface ShortcutActions {
  save: () => Promise<void>;
  fit: () => void;
  layout: () => void;
  /** True while a dialog has the keyboard. */
  paused: boolean;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
}

export function useEditorShortcuts({ save, fit, layout, paused }: ShortcutActions) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || paused) return;
      const s = useEditor.getState();
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        s.removeSelection();
      } else if (mod && k === "c") {
        const n = s.copy();
        if (n) useUi.getState().toast((lang) => translate(lang, "toast.copied", { n }), "info", 1500);
      } else if (mod && k === "v") {
        e.preventDefault();
        s.paste();
      } else if (mod && k === "d") {
        e.preventDefault();
        s.duplicate(s.selectedNodes);
      } else if (mod && k === "z" && !e.shiftKey) {
        e.preventDefault();
        s.undo();
      } else if (mod && (k === "y" || (k === "z" && e.shiftKey))) {
        e.preventDefault();
        s.redo();
      } else if (mod && k === "a") {
        e.preventDefault();
        s.selectAll();
      } else if (mod && k === "s") {
        e.preventDefault();
        void save();
      } else if (!mod && k === "f") {
        fit();
      } else if (!mod && k === "l") {
        layout();
      } else if (e.key === "Escape") {
        s.select([], [], []);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [save, fit, layout, paused]);
}
