// Whether a dataset is sound: the dataset step's check (copies across splits with thumbnails,
// class balance per split, unreadable files) and the warnings validation made of it, in the
// inspector of a dataset node. The check comes with the node's result; the warnings with
// validation (they need the result to be in the cache).
import { useContext } from "react";
import { useLang } from "../i18n";
import type { DataCheck, DataWarning, Lang } from "../types";
import { splitName } from "../lib/messages";
import { useEditor } from "../store/editor";
import { Icon } from "./common";
import { ResultsContext } from "./context";

const WORDS = {
  en: {
    title: "Data check",
    balance: "Images per class",
    leaks: "Copies across splits",
    none: "No copies across splits, no unreadable files.",
    exact: "the same file",
    near: "near copy ({d} bits apart)",
    skipped: "Unreadable files",
    more: "and {n} more",
  },
  zh: {
    title: "数据检查",
    balance: "各类别图像数",
    leaks: "跨数据集划分的重复图像",
    none: "各划分之间没有重复图像，也没有无法读取的文件。",
    exact: "完全相同的文件",
    near: "近似重复（相差 {d} 位）",
    skipped: "无法读取的文件",
    more: "另有 {n} 个",
  },
} as const;

function fill(text: string, vars: Record<string, unknown>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""));
}

/** A data warning in the person's language (the server's English words for a code not known here). */
export function dataWarningText(w: DataWarning, lang: Lang): string {
  const p = w.params ?? {};
  const n = (k: string) => String(p[k] ?? "");
  if (lang === "zh") {
    switch (w.code) {
      case "data_leak": return `验证集/测试集中有 ${n("files")} 张图像在其他划分中有副本（${n("groups")} 组），例如 ${n("examples")}：这些分数会偏高；打开“去除重复图像”可在划分前去掉副本`;
      case "label_conflict": return `${n("groups")} 组重复图像的类别不一致`;
      case "class_imbalance": return `${splitName(p.split, lang)}的类别不均衡：${n("counts")}`;
      case "images_unreadable": return `${n("count")} 个文件无法解码，已跳过，第一个：${n("first")}`;
      case "duplicates_removed": return `划分前去掉了 ${n("count")} 张重复图像`;
    }
  } else {
    switch (w.code) {
      case "data_leak": return `${n("files")} validation/test image(s) have a copy in another split (${n("groups")} group(s)), e.g. ${n("examples")}: their scores are too optimistic; turn on “Remove duplicates” to drop copies before splitting`;
      case "label_conflict": return `${n("groups")} group(s) of copies carry different classes`;
      case "class_imbalance": return `the ${splitName(p.split, lang)} split is unbalanced: ${n("counts")}`;
      case "images_unreadable": return `${n("count")} file(s) could not be decoded and were skipped, the first: ${n("first")}`;
      case "duplicates_removed": return `${n("count")} copies were left out before splitting`;
    }
  }
  return w.message;
}

function thumbUrl(key: string, file: string): string {
  return `/api/data-checks/${key}/thumbnail?file=${encodeURIComponent(file)}`;
}

export function DataCheckPanel({ id }: { id: string }) {
  const lang = useLang((s) => s.lang);
  const words = WORDS[lang];
  const validation = useEditor((s) => s.validation);
  const result = useContext(ResultsContext)[id];
  const summary = Object.values(result?.summary ?? {}).find((s) => s.kind === "dataset");
  const check: DataCheck | null | undefined = summary && "check" in summary ? summary.check : undefined;
  const warnings = (validation?.warnings ?? []).filter((w) => w.node === id);
  const key = validation?.keys?.[id];
  if (!check && warnings.length === 0) return null;
  const classes = check ? Object.keys(Object.values(check.counts)[0] ?? {}) : [];

  return (
    <div className="insp-section data-check" data-testid="data-check">
      <div className="section-label">{words.title}</div>
      {warnings.map((w, k) => (
        <div key={k} className="issue-item data-warning" data-testid="data-warning" data-code={w.code}>
          <Icon name="warn" size={13} /><div>{dataWarningText(w, lang)}</div>
        </div>
      ))}
      {check && (
        <>
          <div className="data-sub">{words.balance}</div>
          <table className="data-balance" data-testid="data-balance">
            <thead><tr><th />{classes.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>
              {Object.entries(check.counts).map(([split, per]) => (
                <tr key={split} className={check.unbalanced.includes(split) ? "unbalanced" : ""}>
                  <th>{splitName(split, lang)}</th>
                  {classes.map((c) => <td key={c}>{per[c] ?? 0}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
          {check.leak_groups === 0 && check.skipped_count === 0 && <div className="data-ok">{words.none}</div>}
          {check.leaks.length > 0 && (
            <>
              <div className="data-sub">{words.leaks} ({check.leak_groups})</div>
              {check.leaks.map((g, k) => (
                <div key={k} className="data-leak" data-testid="data-leak" data-kind={g.kind}>
                  <div className="data-leak-kind">{g.kind === "exact" ? words.exact : fill(words.near, { d: g.distance })}</div>
                  <div className="data-leak-files">
                    {g.files.map((f, i) => (
                      <figure key={f}>
                        {key && <img src={thumbUrl(key, f)} alt={f} loading="lazy" />}
                        <figcaption className="mono" title={f}>{splitName(g.splits[i], lang)} · {g.classes[i]}<br />{f}</figcaption>
                      </figure>
                    ))}
                  </div>
                </div>
              ))}
              {check.leak_groups > check.leaks.length && (
                <div className="data-more">{fill(words.more, { n: check.leak_groups - check.leaks.length })}</div>
              )}
            </>
          )}
          {check.skipped_count > 0 && (
            <>
              <div className="data-sub">{words.skipped} ({check.skipped_count})</div>
              <ul className="data-skipped mono">{check.skipped.slice(0, 10).map((f) => <li key={f}>{f}</li>)}</ul>
            </>
          )}
        </>
      )}
    </div>
  );
}
