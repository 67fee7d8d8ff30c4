// What a node will cost, as the editor words it: the validation's `costs` (backend/engine/cost.py)
// in the person's language. A card shows one compact line (weights and FLOPs, or a trainer's time
// per epoch); the inspector shows every figure with what it counts.
import type { components } from "../api/schema";
import type { Lang } from "../types";

export type NodeCost = components["schemas"]["NodeCost"];
export type TrainingCost = components["schemas"]["TrainingCost"];
export type CostWarning = components["schemas"]["CostWarning"];

const WORDS = {
  en: {
    title: "What it will cost",
    params: "Weights",
    paramsValue: "{total} ({trainable} trainable)",
    flops: "FLOPs per image",
    flopsNote: "multiply-adds of one forward pass, as papers count them",
    activations: "Activations per batch",
    activationsNote: "every stage's float32 output for a batch of {batch}{from}, kept for the backward pass",
    fromTrainer: " (the batch size of {node})",
    defaultBatch: " (no trainer yet: 32)",
    cache: "Feature cache on disk",
    cacheValue: "{size}: {count} feature maps × {per} after {stage} (training images, each fixed augmentation variant, and validation images)",
    cachePerImage: "{per} an image after {stage}; the size once the dataset has run",
    cacheOff: "off (nothing frozen to cache, the images are augmented, or turned off)",
    epoch: "Time per epoch",
    epochValue: "about {time}",
    epochUnknown: "known once the dataset has run",
    features: "plus about {time} once, to compute the features",
    measured: "estimate from this worker's measured speed ({worker}, {n} measurements)",
    default: "estimate from a default figure for a {device}: no run on this worker has measured it yet",
    memory: "GPU memory",
    memoryValue: "about {need}",
    memoryHave: "about {need} of the worker's {have}",
    memoryNote: "weights, gradients, optimizer state, a batch's activations and the features kept on the GPU",
    chipModel: "{params} weights · {flops} FLOPs",
    chipEpoch: "~{time}/epoch",
    gpu_memory_exceeded: "Needs about {need_gib} GiB of GPU memory, the worker's GPU has {have_gib} GiB: lower the batch size or the image size, or freeze more layers",
    cpu: "CPU",
    gpu: "GPU",
  },
  zh: {
    title: "开销估算",
    params: "参数量",
    paramsValue: "{total}（可训练 {trainable}）",
    flops: "每张图像的计算量",
    flopsNote: "一次前向传播的乘加次数（按论文惯例计为 FLOPs）",
    activations: "每批激活内存",
    activationsNote: "每批 {batch} 张{from}时各阶段的 32 位浮点输出，反向传播时需保留",
    fromTrainer: "（{node} 的批大小）",
    defaultBatch: "（尚无训练节点，按 32 计）",
    cache: "磁盘上的特征缓存",
    cacheValue: "{size}：{count} 份特征 × 每份 {per}（{stage} 之后；训练图像及其每个固定增强变体，加验证图像）",
    cachePerImage: "每张图像 {per}（{stage} 之后）；数据集运行后才知道总大小",
    cacheOff: "不使用（没有可缓存的冻结部分、图像做了增强，或已关闭）",
    epoch: "每轮时间",
    epochValue: "约 {time}",
    epochUnknown: "数据集运行后可估算",
    features: "另需约 {time} 一次性计算特征",
    measured: "估算值，依据此工作进程实测的速度（{worker}，{n} 次测量）",
    default: "估算值，依据{device}的默认速度：此工作进程尚无实测",
    memory: "GPU 显存",
    memoryValue: "约 {need}",
    memoryHave: "约 {need}，工作进程的 GPU 共 {have}",
    memoryNote: "权重、梯度、优化器状态、一批的激活，以及放在 GPU 上的特征",
    chipModel: "{params} 参数 · {flops} FLOPs",
    chipEpoch: "约 {time}/轮",
    gpu_memory_exceeded: "约需 {need_gib} GiB 显存，而工作进程的 GPU 只有 {have_gib} GiB：请减小批大小或图像尺寸，或冻结更多层",
    cpu: " CPU ",
    gpu: " GPU ",
  },
} as const;

export type CostWordKey = keyof typeof WORDS.en;

export function costWord(lang: Lang, key: CostWordKey, vars: Record<string, unknown> = {}): string {
  return WORDS[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""));
}

/** 11.6M, 197.5M, 15.4G: a count with an SI prefix (three significant figures). */
export function count(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "K"]];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toPrecision(3).replace(/\.?0+$/, "")}${unit}`;
  return String(n);
}

/** 44.6 MB, 1.2 GB: bytes in binary units, as a disk or a GPU reports them. */
export function bytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, "TB"], [2 ** 30, "GB"], [2 ** 20, "MB"], [2 ** 10, "KB"]];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toPrecision(3).replace(/\.?0+$/, "")} ${unit}`;
  return `${n} B`;
}

/** 45 s, 3.2 min, 1.5 h (秒 / 分钟 / 小时 in Chinese). */
export function duration(seconds: number, lang: Lang): string {
  const [s, m, h] = lang === "zh" ? [" 秒", " 分钟", " 小时"] : [" s", " min", " h"];
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))}${s}`;
  if (seconds < 5400) return `${(seconds / 60).toPrecision(2).replace(/\.0$/, "")}${m}`;
  return `${(seconds / 3600).toPrecision(2).replace(/\.0$/, "")}${h}`;
}

/** A worker as a person reads it: local/cpu -> 本机 CPU / this machine's CPU, ray/gpu -> 集群 GPU / cluster GPU. */
function workerName(worker: string, lang: Lang): string {
  const [kind, device] = worker.split("/");
  const where = kind === "local" ? (lang === "zh" ? "本机" : "this machine's") : kind === "ray" ? (lang === "zh" ? "集群" : "cluster") : kind;
  return device ? `${where} ${device.toUpperCase()}` : where;
}

/** A card's one line: a trainer's time per epoch when known, else the model's weights and FLOPs. */
export function costChip(cost: NodeCost | undefined, lang: Lang): string {
  if (!cost?.model) return "";
  const epoch = cost.training?.epoch_seconds;
  if (epoch !== null && epoch !== undefined) return costWord(lang, "chipEpoch", { time: duration(epoch, lang) });
  return costWord(lang, "chipModel", { params: count(cost.model.params), flops: count(cost.model.flops) });
}

export function warningText(w: CostWarning, lang: Lang): string {
  return w.code in WORDS[lang] ? costWord(lang, w.code as CostWordKey, w.params ?? {}) : w.message;
}

/** What a card shows of a cost changes: the card is drawn again only then. */
export function costKey(cost: NodeCost | undefined): string {
  if (!cost?.model) return "";
  const m = cost.model;
  return `${m.params}/${m.trainable}/${m.flops}/${cost.training?.epoch_seconds ?? ""}/` +
    (cost.warnings ?? []).map((w) => `${w.code}:${JSON.stringify(w.params)}`).join(",");
}

/** The rows of the inspector's cost section: (label, value, note). */
export function costRows(cost: NodeCost, lang: Lang): { key: string; label: string; value: string; note?: string }[] {
  const rows = [];
  const m = cost.model;
  if (m) {
    rows.push({ key: "params", label: costWord(lang, "params"),
      value: costWord(lang, "paramsValue", { total: m.params.toLocaleString("en"), trainable: m.trainable.toLocaleString("en") }) });
    rows.push({ key: "flops", label: costWord(lang, "flops"), value: `${count(m.flops)} FLOPs`, note: costWord(lang, "flopsNote") });
    const from = m.batch_from ? costWord(lang, "fromTrainer", { node: m.batch_from }) : costWord(lang, "defaultBatch");
    rows.push({ key: "activations", label: costWord(lang, "activations"), value: bytes(m.activation_bytes),
      note: costWord(lang, "activationsNote", { batch: m.batch_size, from }) });
  }
  const t = cost.training;
  if (t) rows.push(...trainingRows(t, lang));
  return rows;
}

function trainingRows(t: TrainingCost, lang: Lang) {
  const rows = [];
  const stage = t.feature_stage ?? "";
  const per = bytes(t.feature_bytes_per_image ?? 0);
  const cache = !t.feature_cache ? costWord(lang, "cacheOff")
    : t.feature_cache_bytes !== null && t.feature_cache_bytes !== undefined && t.feature_bytes_per_image
      ? costWord(lang, "cacheValue", { size: bytes(t.feature_cache_bytes), per, stage,
        count: Math.round(t.feature_cache_bytes / t.feature_bytes_per_image).toLocaleString("en") })
      : costWord(lang, "cachePerImage", { per, stage });
  rows.push({ key: "cache", label: costWord(lang, "cache"), value: cache });
  const epoch = t.epoch_seconds;
  if (epoch !== null && epoch !== undefined && t.speed) {
    const features = t.feature_seconds ? costWord(lang, "features", { time: duration(t.feature_seconds, lang) }) : "";
    const basis = t.speed.source === "measured"
      ? costWord(lang, "measured", { worker: workerName(t.speed.worker, lang), n: t.speed.samples })
      : costWord(lang, "default", { device: costWord(lang, t.speed.worker.endsWith("gpu") ? "gpu" : "cpu") });
    rows.push({ key: "epoch", label: costWord(lang, "epoch"), value: costWord(lang, "epochValue", { time: duration(epoch, lang) }),
      note: [features, basis].filter(Boolean).join(lang === "zh" ? "；" : "; ") });
  } else {
    rows.push({ key: "epoch", label: costWord(lang, "epoch"), value: costWord(lang, "epochUnknown") });
  }
  const have = t.gpu_memory_bytes;
  rows.push({ key: "memory", label: costWord(lang, "memory"),
    value: have ? costWord(lang, "memoryHave", { need: bytes(t.memory_bytes), have: bytes(have) }) : costWord(lang, "memoryValue", { need: bytes(t.memory_bytes) }),
    note: costWord(lang, "memoryNote") });
  return rows;
}
