// A model file dropped on the home page becomes a project: the graph that made the model. What
// the drop means and what to say about it, in the person's language (the Home page does the rest).
import { translate } from "../i18n";
import type { Lang } from "../types";

/** Whether a drag carries files (a model file may be among them), not text or a card. */
export function carriesFiles(types: readonly string[] | DOMStringList | null | undefined): boolean {
  if (!types) return false;
  return Array.from(types as ArrayLike<string>).includes("Files");
}

/** The file of a drop to import: the first one (a model file is one file). */
export function droppedFile(files: FileList | readonly File[] | null | undefined): File | null {
  return files && files.length ? files[0] : null;
}

/** What a failed import says: the server's typed error code worded, the file named. */
export function modelDropError(error: { code?: string; message?: string } | null | undefined, name: string,
  lang: Lang): string {
  switch (error?.code) {
    case "not_a_model":
    case "invalid_provenance":
      return translate(lang, "home.dropNotModel", { name });
    case "no_provenance":
      return translate(lang, "home.dropNoProvenance", { name });
    case "upload_too_large":
      return translate(lang, "home.dropTooLarge", { name });
    default:
      return translate(lang, "home.dropFailed", { name, msg: error?.message ?? "" });
  }
}

/** What a successful import says: whether the nodes that made the model show as cached here. */
export function modelDropDone(result: string, node: string, lang: Lang): string {
  return translate(lang, result === "absent" ? "home.dropOpenedRetrain" : "home.dropOpenedCached", { node });
}
