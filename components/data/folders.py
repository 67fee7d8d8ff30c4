"""What every image-folder dataset shares: the data-root checks, skipping unreadable files, the
fingerprint of a listing (part of the cache key), and the stratified, seeded split.

Both datasets (``data.CatsVsDogs`` and ``data.ImageFolder``) list their files as
``(relative path, class index)`` and hand the listing to these functions, so a split, a skip and
a fingerprint mean the same in both. Pure Python: PIL is imported only when a file is checked.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
from pathlib import Path

from backend.engine import NodeError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
SPLITS = ("train", "validation", "test")


def data_roots(ctx) -> list[Path] | None:
    """The folders every file read must resolve inside (``ctx.settings.data_roots``, set by the
    run service); None (the command line) trusts every path."""
    roots = getattr(getattr(ctx, "settings", None), "data_roots", None)
    return None if roots is None else [Path(r).resolve() for r in roots]


def inside(path: Path, roots: list[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == r or real.is_relative_to(r) for r in roots)


def outside_roots(base: Path, rels: list[str], roots: list[Path]) -> list[str]:
    """The files whose real path (links followed) lies outside every root, in listing order.
    Only folders and links need resolving: a plain file lies where its folder does."""
    folders: dict[str, bool] = {}
    out = []
    for rel in rels:
        folder = os.path.dirname(rel)
        if folder not in folders:
            folders[folder] = inside(base / folder, roots)
        path = base / rel
        if not folders[folder] or (os.path.islink(path) and not inside(path, roots)):
            out.append(rel)
    return out


def natural(name: str):
    """A sort key that puts 2.jpg before 10.jpg."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def decoder_threads() -> int:
    """Threads for reading and decoding image files: one per core this process may use (PIL
    releases the GIL while it decodes), at most 16. The dataset scan and the image-formatting
    step both use it, so a 16-core GPU machine decodes 8x faster than a 2-core one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(16, cores))


def readable(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.verify()
        return True
    except Exception:
        return False


def split_sizes(n: int, parts: list[float]) -> list[int]:
    """Sizes from fractions (<= 1) or counts (> 1); fractions round at cumulative boundaries so
    they never add up to more than n."""
    if all(p <= 1 for p in parts):
        bounds, total = [0], 0.0
        for p in parts:
            total += p
            bounds.append(int(round(n * min(total, 1.0))))
        return [b - a for a, b in zip(bounds, bounds[1:])]
    return [int(p) if p > 1 else int(round(n * p)) for p in parts]


def listing_fingerprint(base: Path, items: list[tuple]) -> str:
    """A hash of the folder and every file's relative path, size and modification time
    (``items``: ``(rel, label, size, mtime_ns)``): a changed, added or removed file changes it."""
    items = sorted(items)
    h = hashlib.sha256(str(base.resolve()).encode())
    h.update("".join(f"{rel}|{size}|{mtime}\n" for rel, _, size, mtime in items).encode())
    return h.hexdigest()[:32]


def check_root(ctx, value: str, param: str = "root") -> tuple[Path, list[Path] | None]:
    """(the folder, the data roots) after refusing a blank value and a folder outside the roots."""
    if not value.strip():  # Path("") is the working directory
        raise NodeError(f"{param} is empty: give the dataset folder", code="path_required", param=param)
    root = Path(os.path.expanduser(value))
    roots = data_roots(ctx)
    if roots is not None and not inside(root, roots):
        raise NodeError(f"dataset folder {root} is outside the data roots", code="path_outside_data_roots",
                        param=param, params={"path": str(root)})
    return root, roots


def check_files_inside(base: Path, rels: list[str], roots: list[Path] | None, param: str = "root") -> None:
    """Every image must resolve inside a data root. Failing (not skipping) keeps the listing the
    fingerprint hashes the listing that is trained on, and says why."""
    if roots is None:
        return
    outside = outside_roots(base, rels, roots)
    if outside:
        raise NodeError(f"{len(outside)} image(s) of {param} resolve outside the data roots (links "
                        f"out of the dataset folder), the first: {base / outside[0]}; copy the files "
                        f"under a data root or remove the links", code="path_outside_data_roots",
                        param=param, params={"path": str(base / outside[0]), "count": len(outside)})


def keep_readable(ctx, base: Path, items: list[tuple[str, int]], probe=readable,
                  found: dict | None = None) -> tuple[list[tuple[str, int]], list[str]]:
    """(the files PIL can read, the relative paths of those it cannot), reporting scan progress
    and one warning with the count of skipped files. ``probe`` reads a file (falsy: unreadable);
    what it returns for each readable file goes into ``found`` by relative path."""
    from concurrent.futures import ThreadPoolExecutor

    skipped: list[str] = []
    kept: list[tuple[str, int]] = []
    # the files are read and decoded by a pool (in order: the same lists whatever the pool's size)
    pool = ThreadPoolExecutor(decoder_threads())
    try:
        values = pool.map(lambda item: probe(base / item[0]), items)
        for i, ((rel, label), value) in enumerate(zip(items, values)):
            if value:
                kept.append((rel, label))
                if found is not None:
                    found[rel] = value
            else:
                skipped.append(rel)
            if i % 200 == 0:
                ctx.progress(i, len(items), unit="file", phase="scan", code="scan")
    finally:   # a cancel stops at once: the files not yet read are dropped, not read first
        pool.shutdown(wait=True, cancel_futures=True)
    if skipped:
        ctx.log(f"skipped {len(skipped)} unreadable image(s)", level="warning", skipped=skipped[:20],
                count=len(skipped), code="images_unreadable", params={"count": len(skipped)})
    return kept, skipped


def stratified_split(kept: list[tuple[str, int]], classes: list[str], fractions: list[float], seed: int,
                     max_per_class: int | None) -> tuple[dict[str, list[str]], dict[str, list[int]]]:
    """(files, labels) per split: each class is shuffled (seeded) and cut in the same proportions,
    then every split is shuffled so batches mix the classes. A count (> 1) is a total over the
    classes, so each class gives its share of it."""
    by_class: dict[int, list[str]] = {label: [] for label in range(len(classes))}
    for rel, label in kept:
        by_class[label].append(rel)
    rng = random.Random(seed)
    files: dict[str, list[str]] = {s: [] for s in SPLITS}
    labels: dict[str, list[int]] = {s: [] for s in SPLITS}
    counts = any(f > 1 for f in fractions)
    for label, names in by_class.items():
        rng.shuffle(names)
        if max_per_class:
            names = names[:max_per_class]
        # a count's share stays a count even when it is 1 or less (3 images over 3 classes: 1 each)
        sizes = ([int(f / len(classes)) if f > 1 else int(round(len(names) * f)) for f in fractions] if counts
                 else split_sizes(len(names), fractions))
        if sum(sizes) > len(names):
            raise NodeError(f"the split asks for {sum(sizes)} {classes[label]} images but only "
                            f"{len(names)} are readable", code="split_too_large", param="train",
                            params={"asked": sum(sizes), "class": classes[label], "readable": len(names)})
        start = 0
        for split, size in zip(files, sizes):
            chunk = names[start:start + size]
            files[split].extend(chunk)
            labels[split].extend([label] * len(chunk))
            start += size
    for split in files:  # interleave classes deterministically so batches are mixed
        order = list(range(len(files[split])))
        rng.shuffle(order)
        files[split] = [files[split][i] for i in order]
        labels[split] = [labels[split][i] for i in order]
    if not files["train"]:
        raise NodeError("the training split is empty", code="split_empty", param="train",
                        params={"split": "train"})
    return files, labels


def log_split(ctx, kept: list, files: dict[str, list[str]]) -> None:
    ctx.log(f"{len(kept)} images: " + ", ".join(f"{s} {len(f)}" for s, f in files.items()),
            code="dataset_split", params={"count": len(kept), **{s: len(f) for s, f in files.items()}})
