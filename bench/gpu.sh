#!/usr/bin/env bash
# Benchmarks 1-3 on a GPU machine (written for one H200), in under 8 minutes of wall time.
#
#   bash bench/gpu.sh            # from the repository root
#
# Expects: python3 with torch + torchvision, numpy, pillow; wheels for what is missing
# (pydantic, pydantic-core, typing-extensions, annotated-types, typing-inspection, ...)
# in ./.whl/, installed here into /tmp/site; the photos in ./.data/cats_vs_dogs
# (PetImages/Cat, PetImages/Dog). Writes every summary line (summary.jsonl, one JSON
# object per benchmark), each benchmark's stderr log, and report.txt to $OUT (default
# ./out-gpu). Every step runs under `timeout` inside one overall deadline; a failed or
# timed-out step is recorded and the script goes on.
#
# Runs, all with VGG16 (random weights: --weights none) at 150x150 on cuda, all photos,
# the template's 5 + 3 epochs:
#   0. precision_measure: the first trainer alone on 20 photos per class, 1 epoch, with
#      ABACUS_AMP=measure; records the precision it chose and the timings it chose by (the
#      precision_chosen log line: float32 with TF32 against bf16, one forward pass of a batch)
#   1. cache_vs_plain with ABACUS_AMP=bf16 (bf16 autocast)
#   2. cache_vs_plain with ABACUS_AMP=0 (fp32, TF32 matmuls and convolutions; skipped
#      with a note when components/torchkit/train.py does not read ABACUS_AMP)
#   3. vs_plain_pytorch (the plain script in fp32, PIL DataLoader with 2 workers)
#   4. engine_overhead (whole VGG16 trainable, 500 photos per class, 3 epochs, 3 reps)
# Every setting above can be changed by an environment variable of the same name
# (EPOCHS1, EPOCHS2, SIZE, MAX_PER_CLASS, OVERHEAD_PER_CLASS, OVERHEAD_EPOCHS, DEVICE,
# PHOTOS, PYTHON, GPU_BENCH_SECONDS).
set -x

cd "$(dirname "$0")/.." || exit 1
OUT="${OUT:-$PWD/out-gpu}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu.sh.log") 2>&1

START=$(date +%s)
DEADLINE=$((START + ${GPU_BENCH_SECONDS:-465}))   # 7m45s: leaves room inside 8 minutes
PHOTOS="${PHOTOS:-$PWD/.data/cats_vs_dogs}"
EPOCHS1="${EPOCHS1:-5}"                  # the template's epochs: 5, then 3 fine-tuning
EPOCHS2="${EPOCHS2:-3}"
DEVICE="${DEVICE:-cuda}"                 # a dry run elsewhere: DEVICE=cpu SIZE=48 MAX_PER_CLASS=10 EPOCHS1=1 EPOCHS2=1 ...
SIZE="${SIZE:-150}"
MAX_PER_CLASS="${MAX_PER_CLASS:-0}"      # 0: all 2,000 photos per class
OVERHEAD_PER_CLASS="${OVERHEAD_PER_CLASS:-500}"
OVERHEAD_EPOCHS="${OVERHEAD_EPOCHS:-3}"
PY="${PYTHON:-python3}"
SUMMARY="$OUT/summary.jsonl"
: > "$SUMMARY"

left() { echo $((DEADLINE - $(date +%s))); }

# step NAME BUDGET_SECONDS COMMAND...: runs under timeout (the budget, or what is left of
# the deadline), stdout (the summary line) to $OUT/NAME.out and summary.jsonl, stderr to
# $OUT/NAME.log; never stops the script.
step() {
  local name=$1 budget=$2; shift 2
  local t; t=$(left); t=$((t - 5)); [ "$budget" -lt "$t" ] && t=$budget
  if [ "$t" -lt 30 ]; then
    echo "{\"bench\": \"$name\", \"skipped\": \"only ${t}s left of the deadline\"}" | tee -a "$SUMMARY"
    return 0
  fi
  local t0; t0=$(date +%s)
  timeout --kill-after=10 "$t" "$@" > "$OUT/$name.out" 2> "$OUT/$name.log"
  local rc=$?
  local line; line=$(tail -n 1 "$OUT/$name.out" 2>/dev/null)
  if [ -n "$line" ]; then
    echo "$line" >> "$SUMMARY"   # a step cut off by its timeout still prints what it measured
  fi
  if [ "$rc" -ne 0 ]; then
    echo "{\"bench\": \"$name\", \"failed\": true, \"rc\": $rc, \"timeout_s\": $t}" >> "$SUMMARY"
    tail -n 30 "$OUT/$name.log"
  fi
  echo "step $name: rc=$rc in $(( $(date +%s) - t0 ))s, $(left)s left"
  return 0
}

# -- setup ------------------------------------------------------------------------------
nvidia-smi || true
uptime || true
if ls .whl/*.whl > /dev/null 2>&1; then
  timeout 90 "$PY" -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export ABACUS_DEVICE="$DEVICE"
timeout 60 "$PY" - <<'EOF' 2>&1 | tee "$OUT/env.txt"
import sys, torch, torchvision, numpy, PIL, pydantic
print("python", sys.version.split()[0], "torch", torch.__version__, "torchvision", torchvision.__version__,
      "pydantic", pydantic.__version__)
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-",
      "bf16", torch.cuda.is_available() and torch.cuda.is_bf16_supported())
print("tf32 matmul", torch.backends.cuda.matmul.allow_tf32, "tf32 cudnn", torch.backends.cudnn.allow_tf32)
import components  # the registry imports without torch-side extras
from backend.worker.local import LocalWorker  # noqa: F401
print("abacus imports ok")
EOF
ls "$PHOTOS/PetImages" || echo "NO PHOTOS at $PHOTOS"
if grep -q "ABACUS_AMP" components/torchkit/train.py; then AMP_SWITCH=1; else AMP_SWITCH=0; fi
echo "engine reads ABACUS_AMP: $AMP_SWITCH"

COMMON=(--backbone vgg16 --weights none --size "$SIZE" --device "$DEVICE" --max-per-class "$MAX_PER_CLASS" --root "$PHOTOS")

# -- 0. the precision the trainer measures on this GPU (as auto does there; measure says so) ----
# (run with -c, not from stdin: the worker process is spawned, and it cannot re-read a <stdin> main)
PRECISION_PY=$(cat <<'EOF'
import json, sys
sys.path.insert(0, "bench")
import _common as c
root, size, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
graph = c.offline_graph(root, epochs1=1, epochs2=1, max_per_class=20, backbone="vgg16", weights="none", size=size)
events, wall = c.run_in_worker(graph, ["train"], device=device)
chosen = [{**e.params, "reason": e.data.get("reason")} for e in events if getattr(e, "code", None) == "precision_chosen"]
print(json.dumps({"bench": "precision_measure", "status": c.final_status(events), "wall_s": round(wall, 1),
                  "chosen": chosen}))
EOF
)
step precision_measure 60 env ABACUS_AMP=measure "$PY" -c "$PRECISION_PY" "$PHOTOS" "$SIZE" "$DEVICE"

# -- 1. feature cache vs plain path, bf16 -----------------------------------------------------
step cache_vs_plain_bf16 120 env ABACUS_AMP=bf16 "$PY" bench/cache_vs_plain.py "${COMMON[@]}" \
  --epochs1 "$EPOCHS1" --epochs2 "$EPOCHS2"

# -- 2. the same in fp32 ------------------------------------------------------------------------
if [ "$AMP_SWITCH" = 1 ]; then
  step cache_vs_plain_fp32 140 env ABACUS_AMP=0 "$PY" bench/cache_vs_plain.py "${COMMON[@]}" \
    --epochs1 "$EPOCHS1" --epochs2 "$EPOCHS2"
else
  echo '{"bench": "cache_vs_plain_fp32", "skipped": "components/torchkit/train.py does not read ABACUS_AMP"}' \
    | tee -a "$SUMMARY"
fi

# -- 3. against the plain PyTorch script ---------------------------------------------------------
step vs_plain_pytorch 130 "$PY" bench/vs_plain_pytorch.py "${COMMON[@]}" --workers 2 \
  --epochs1 "$EPOCHS1" --epochs2 "$EPOCHS2"

# -- 4. engine overhead ---------------------------------------------------------------------------
step engine_overhead 120 "$PY" bench/engine_overhead.py --backbone vgg16 --weights none --size "$SIZE" \
  --device "$DEVICE" --max-per-class "$OVERHEAD_PER_CLASS" --epochs "$OVERHEAD_EPOCHS" --reps 3 --root "$PHOTOS"

# -- report ---------------------------------------------------------------------------------------
timeout 30 "$PY" - "$OUT" <<'EOF' 2>&1 | tee "$OUT/report.txt"
import json, sys
from pathlib import Path
rows = {}
for step in ("precision_measure", "cache_vs_plain_bf16", "cache_vs_plain_fp32", "vs_plain_pytorch",
             "engine_overhead"):
    try:
        rows[step] = json.loads(Path(sys.argv[1], f"{step}.out").read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        pass
def g(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d
print(f"precision_measure: {g(rows.get('precision_measure'), 'chosen')}")
print("images/second (training images per second of the epoch loop; node = whole trainer node incl. setup)")
for amp in ("bf16", "fp32"):
    d = rows.get(f"cache_vs_plain_{amp}")
    if not d or "cached" not in d:
        print(f"  cache_vs_plain {amp}: {d}")
        continue
    for side in ("cached", "plain"):
        for node in ("train", "train_finetuned"):
            print(f"  {amp} {side:6} {node:15} loop {g(d, side, node, 'ips')} img/s, node {g(d, side, node, 'node_ips')} img/s,"
                  f" {g(d, side, node, 'node_s')} s, best val {g(d, side, node, 'best_val_acc')}")
    print(f"  {amp} wall plain/cached = {d.get('ratio_plain_over_cached')}  (train {d.get('train_ratio')}, "
          f"fine-tune {d.get('finetune_ratio')}), max val acc diff {d.get('max_val_acc_diff')}")
b, f = rows.get("cache_vs_plain_bf16"), rows.get("cache_vs_plain_fp32")
if b and f and "plain" in b and "plain" in f:
    for side in ("cached", "plain"):
        for node in ("train", "train_finetuned"):
            x, y = g(b, side, node, "loop_s"), g(f, side, node, "loop_s")
            if x and y:
                print(f"  bf16 speed-up of the {side} {node} loop: {y / x:.2f}x")
d = rows.get("vs_plain_pytorch")
print(f"vs_plain_pytorch: plain/abacus = {g(d, 'ratio_plain_over_abacus')}, ips {g(d, 'ips')}, best val {g(d, 'best_val_acc')}")
d = rows.get("engine_overhead")
print(f"engine_overhead: engine/plain = {g(d, 'ratio_engine_over_plain')}, medians {g(d, 'median_s')}")
EOF
echo "done in $(( $(date +%s) - START ))s"
