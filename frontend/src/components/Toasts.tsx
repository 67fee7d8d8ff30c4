import { useLang } from "../i18n";
import { toastText, useUi } from "../store/ui";

export function Toasts() {
  const toasts = useUi((s) => s.toasts);
  const dismiss = useUi((s) => s.dismiss);
  const lang = useLang((s) => s.lang);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast" onClick={() => dismiss(t.id)}>
          {toastText(t.text, lang)}
        </div>
      ))}
    </div>
  );
}
