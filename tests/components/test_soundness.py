"""The data check: exact and near copies across splits, class balance, unreadable files."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from components.data.soundness import NEAR_BITS, check, duplicate_groups, hash_image, without_duplicates


def _photo(seed: int, size: int = 160) -> Image.Image:
    """A smooth random picture (low-frequency content, as photos have): 6x6 colours upscaled."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
    return small.resize((size, size), Image.BICUBIC)


def _save(img: Image.Image, path, quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=quality)


@pytest.fixture
def folder(tmp_path):
    for i in range(8):
        _save(_photo(i), tmp_path / f"{i}.jpg")
    # an exact copy of 0, a smaller re-encoded copy of 1, a corrupt file
    (tmp_path / "copy0.jpg").write_bytes((tmp_path / "0.jpg").read_bytes())
    _save(_photo(1).resize((120, 120), Image.BILINEAR), tmp_path / "near1.jpg", quality=60)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return tmp_path


def test_copies_are_found_and_different_photos_are_not(folder):
    rels = [f"{i}.jpg" for i in range(8)] + ["copy0.jpg", "near1.jpg"]
    hashes = [hash_image(folder / r) for r in rels]
    assert all(h is not None for h in hashes)
    assert hash_image(folder / "broken.jpg") is None
    groups = duplicate_groups(hashes)
    assert [(kind, [rels[m] for m in members]) for kind, _, members in groups] == [
        ("exact", ["0.jpg", "copy0.jpg"]), ("near", ["1.jpg", "near1.jpg"])]
    near = groups[1]
    assert 0 < near[1] <= NEAR_BITS
    # distinct photos are far apart: nothing else is grouped even with a looser threshold
    assert len(duplicate_groups(hashes, near_bits=NEAR_BITS + 4)) == 2


def test_band_search_finds_what_comparing_every_pair_finds():
    rng = np.random.default_rng(0)
    from components.data.soundness import ImageHash
    base = [int(x) for x in rng.integers(0, 2**63, 300, dtype=np.int64)]
    hashes = [ImageHash(sha=str(i), phash=h) for i, h in enumerate(base)]
    for i in range(40):   # near copies with 1..NEAR_BITS+2 flipped bits
        flips = rng.choice(64, size=1 + i % (NEAR_BITS + 2), replace=False)
        h = base[i]
        for bit in flips:
            h ^= 1 << int(bit)
        hashes.append(ImageHash(sha=f"n{i}", phash=h))
    found = {tuple(m) for _, _, m in duplicate_groups(hashes)}
    pairs = {(a, b) for a in range(len(hashes)) for b in range(a + 1, len(hashes))
             if (hashes[a].phash ^ hashes[b].phash).bit_count() <= NEAR_BITS}
    assert pairs and {p for p in pairs} == {tuple(m) for m in found if len(m) == 2}


def test_the_report_names_leaks_with_their_files(folder):
    rels = [f"{i}.jpg" for i in range(8)] + ["copy0.jpg", "near1.jpg"]
    hashes = {r: hash_image(folder / r) for r in rels}
    files = {"train": ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "4.jpg"], "validation": ["copy0.jpg", "5.jpg", "6.jpg"],
             "test": ["near1.jpg", "7.jpg"]}
    labels = {"train": [0, 1, 0, 1, 0], "validation": [0, 1, 1], "test": [0, 1]}
    report = check(str(folder), files, labels, ["cat", "dog"], hashes, skipped=["broken.jpg"])
    assert report.leak_groups == 2 and report.leaked_files == 2
    assert [(g.kind, g.files, g.splits) for g in report.leaks] == [
        ("exact", ["0.jpg", "copy0.jpg"], ["train", "validation"]),
        ("near", ["1.jpg", "near1.jpg"], ["train", "test"])]
    assert report.label_conflicts == 1          # near1 is labelled cat, 1.jpg dog
    assert report.counts == {"train": {"cat": 3, "dog": 2}, "validation": {"cat": 1, "dog": 2},
                             "test": {"cat": 1, "dog": 1}}
    assert report.unbalanced == ["validation"]   # 2 > 1.5 x 1
    assert report.skipped == ["broken.jpg"] and report.skipped_count == 1


def test_removing_duplicates_keeps_the_first_of_each_group(folder):
    rels = [f"{i}.jpg" for i in range(8)] + ["copy0.jpg", "near1.jpg"]
    keep, removed = without_duplicates(rels, [hash_image(folder / r) for r in rels])
    assert removed == ["copy0.jpg", "near1.jpg"]
    assert [rels[i] for i in keep] == [f"{i}.jpg" for i in range(8)]
