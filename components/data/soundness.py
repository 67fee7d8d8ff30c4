"""Whether a dataset is sound: duplicate photos across the splits, class balance, unreadable files.

A photo that is in the training split and again in the validation or test split (the same
file, or a re-encoded, resized copy of it) makes those scores dishonest: the model has seen
the answer. Each readable image gets two fingerprints as it is checked: the SHA-256 of its
bytes (exact copies) and a 64-bit perceptual hash (imagehash's pHash of a small grayscale
decode) whose Hamming distance is small for near copies. On the shared 4,000 photos the
closest two different photos are 10 bits apart and the next closest 12, so near copies are
those at most ``NEAR_BITS`` apart.

Near pairs are found without comparing every pair: two hashes at most ``NEAR_BITS`` apart
agree exactly on at least one of ``NEAR_BITS + 1`` disjoint bands of their bits
(pigeonhole), so only images that share a band are compared.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from backend.engine import ParamField
from backend.engine.summaries import DataCheck, DuplicateGroup

NEAR_BITS = 6           # pHash bits two near copies may differ in
IMBALANCE_RATIO = 1.5   # a split whose largest class is this many times its smallest is unbalanced
MAX_LISTED = 50         # duplicate groups listed by name (all are counted)
# (DataCheck and DuplicateGroup, the report's shapes, are engine summaries: the editor's types come from them)


def dedupe_field():
    """The datasets' "remove duplicates" parameter (a fresh field for each Params class)."""
    return ParamField(
        False, title={"en": "Remove duplicates", "zh": "去除重复图像"},
        description={"en": "Leave out copies of an image (the same file, or a re-encoded or resized copy) "
                           "before splitting, so that no copy lands in two splits",
                     "zh": "划分前去掉重复的图像（相同文件，或重新编码、缩放后的副本），使副本不会同时出现在两个划分中"})


@dataclass(frozen=True)
class ImageHash:
    sha: str      # SHA-256 of the file's bytes (hex, 32 digits)
    phash: int    # 64-bit perceptual hash


def hash_image(path: Path) -> ImageHash | None:
    """Both fingerprints of one image file, or None when it cannot be decoded (a corrupt file).

    One read of the file: PIL verifies the bytes, then decodes them again at a reduced size
    (JPEG draft mode decodes at 1/8 scale), which is all pHash needs."""
    import imagehash
    from PIL import Image

    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            im.draft("L", (64, 64))
            phash = int(str(imagehash.phash(im)), 16)
    except Exception:
        return None
    return ImageHash(sha=hashlib.sha256(data).hexdigest()[:32], phash=phash)


def _union_find(n: int):
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return find, union


def _bands(phash: int, bands: int) -> list[tuple[int, int]]:
    """The hash cut into ``bands`` disjoint bit ranges, each tagged with its number."""
    width, out, start = 64 // bands, [], 0
    for b in range(bands):
        end = 64 if b == bands - 1 else start + width
        out.append((b, (phash >> start) & ((1 << (end - start)) - 1)))
        start = end
    return out


def duplicate_groups(hashes: list[ImageHash], near_bits: int = NEAR_BITS) -> list[tuple[str, int, list[int]]]:
    """Groups of indexes into ``hashes`` that are copies: (kind, largest distance, members in
    index order), groups in the order of their first member. A group joined by any near pair is
    'near', else 'exact'."""
    find, union = _union_find(len(hashes))
    by_sha: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h.sha in by_sha:
            union(by_sha[h.sha], i)
        else:
            by_sha[h.sha] = i
    if near_bits >= 0:
        buckets: dict[tuple[int, int], list[int]] = {}
        for i, h in enumerate(hashes):
            for band in _bands(h.phash, near_bits + 1):
                buckets.setdefault(band, []).append(i)
        for members in buckets.values():
            for a_pos, a in enumerate(members):
                for b in members[a_pos + 1:]:
                    if hashes[a].sha != hashes[b].sha and (hashes[a].phash ^ hashes[b].phash).bit_count() <= near_bits:
                        union(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        distance = max((hashes[a].phash ^ hashes[b].phash).bit_count()
                       for pos, a in enumerate(members) for b in members[pos + 1:])
        exact = len({hashes[m].sha for m in members}) == 1
        out.append(("exact" if exact else "near", 0 if exact else distance, members))
    return sorted(out, key=lambda g: g[2][0])


def without_duplicates(rels: list[str], hashes: list[ImageHash]) -> tuple[list[int], list[str]]:
    """The indexes to keep (the first of each group of copies) and the files left out."""
    drop: set[int] = set()
    for _, _, members in duplicate_groups(hashes):
        drop.update(members[1:])
    return [i for i in range(len(rels)) if i not in drop], [rels[i] for i in sorted(drop)]


def _unbalanced(counts: list[int]) -> bool:
    """A split with images whose smallest class is empty, or far smaller than its largest."""
    if not counts or not sum(counts):
        return False
    return min(counts) == 0 or max(counts) > IMBALANCE_RATIO * min(counts)


def check(root: str, files: dict[str, list[str]], labels: dict[str, list[int]], classes: list[str],
          hashes: dict[str, ImageHash], skipped: list[str] = (), removed: list[str] = ()) -> DataCheck:
    """The report for a split dataset: ``files``/``labels`` per split, ``hashes`` per relative path."""
    counts = {split: {c: 0 for c in classes} for split in files}
    entries: list[tuple[str, str, str]] = []   # (rel, split, class)
    for split, rels in files.items():
        for rel, label in zip(rels, labels[split]):
            counts[split][classes[label]] += 1
            entries.append((rel, split, classes[label]))
    groups = duplicate_groups([hashes[rel] for rel, _, _ in entries])
    leaks, within, conflicts, leaked = [], 0, 0, set()
    for kind, distance, members in groups:
        splits = [entries[m][1] for m in members]
        if len(set(entries[m][2] for m in members)) > 1:
            conflicts += 1
        if len(set(splits)) == 1:
            within += 1
            continue
        leaks.append(DuplicateGroup(kind=kind, distance=distance, files=[entries[m][0] for m in members],
                                    splits=splits, classes=[entries[m][2] for m in members]))
        # a copy in validation or test of a file in another split inflates that split's score
        leaked.update(entries[m][0] for m in members if entries[m][1] != "train")
    unbalanced = [split for split, per in counts.items() if _unbalanced(list(per.values()))]
    return DataCheck(root=root, counts=counts, leaks=leaks[:MAX_LISTED], leak_groups=len(leaks), leaked_files=len(leaked),
                     duplicates_within=within, label_conflicts=conflicts, removed=list(removed),
                     skipped=list(skipped)[:50], skipped_count=len(skipped), unbalanced=unbalanced)


def checked_split(ctx, base: Path, items: list[tuple[str, int]], classes: list[str], fractions: list[float],
                  seed: int, max_per_class: int | None, dedupe: bool = False):
    """The dataset step's common part: read every file once (skipping the unreadable ones and
    fingerprinting the rest), leave out copies when ``dedupe`` (before splitting, so no copy can
    land in two splits), split, and check the result. (kept, files, labels, skipped, DataCheck)."""
    from .folders import keep_readable, stratified_split

    hashes: dict[str, ImageHash] = {}
    kept, skipped = keep_readable(ctx, base, items, probe=hash_image, found=hashes)
    removed: list[str] = []
    if dedupe:
        keep, removed = without_duplicates([rel for rel, _ in kept], [hashes[rel] for rel, _ in kept])
        kept = [kept[i] for i in keep]
        if removed:
            ctx.log(f"left out {len(removed)} copies before splitting", code="duplicates_removed",
                    params={"count": len(removed)}, removed=removed[:20])
    files, labels = stratified_split(kept, classes, fractions, seed, max_per_class)
    report = check(str(base), files, labels, classes, hashes, skipped=skipped, removed=removed)
    if report.leak_groups:
        ctx.log(f"{report.leaked_files} validation/test image(s) have a copy in another split "
                f"({report.leak_groups} group(s) of copies)", level="warning", code="data_leak",
                params={"files": report.leaked_files, "groups": report.leak_groups})
    return kept, files, labels, skipped, report
