"""Decoded, resized and cropped images as uint8 arrays, cached on disk once per split."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from backend.engine.storage import write_file

from ..data.folders import decoder_threads
from ..values import FormattedImages
from . import cachefiles


def format_image(path: str | os.PathLike, height: int, width: int, channels: int = 3,
                 resize: str = "keep_aspect") -> np.ndarray:
    """Decode one image to HxWxC uint8: scale keeping proportions, then centre-crop."""
    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft("RGB", (width, height))  # let libjpeg decode at a reduced size when it can
        im = im.convert("RGB" if channels == 3 else "L")
        if resize == "stretch":
            im = im.resize((width, height), Image.BILINEAR)
        else:
            scale = max(height / im.height, width / im.width)
            new = (max(width, round(im.width * scale)), max(height, round(im.height * scale)))
            im = im.resize(new, Image.BILINEAR, reducing_gap=3.0)
            left, top = (new[0] - width) // 2, (new[1] - height) // 2
            im = im.crop((left, top, left + width, top + height))
        arr = np.asarray(im, dtype=np.uint8)
    return arr if channels == 3 else arr[:, :, None]


def load_split(fmt: FormattedImages, split: str, cache_dir: Path, progress=None
               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images NxHxWxC uint8, labels N int64, relative paths) for one split.

    Files that fail to decode are dropped and listed in the cache's manifest.
    """
    images_path = cache_dir / f"{split}.images.npy"
    meta_path = cache_dir / f"{split}.json"
    if meta_path.exists() and cachefiles.exists(images_path):
        meta = json.loads(meta_path.read_text())
        return cachefiles.load(images_path, mmap=True), np.asarray(meta["labels"], dtype=np.int64), meta["files"]
    files = fmt.dataset.files[split]
    labels = fmt.dataset.labels[split]
    out = np.empty((len(files), fmt.height, fmt.width, fmt.channels), dtype=np.uint8)
    ok = np.ones(len(files), dtype=bool)
    root = Path(fmt.dataset.root)

    def work(i: int) -> None:
        try:
            out[i] = format_image(root / files[i], fmt.height, fmt.width, fmt.channels, fmt.resize)
        except Exception:
            ok[i] = False

    with ThreadPoolExecutor(decoder_threads()) as pool:
        for done, _ in enumerate(pool.map(work, range(len(files))), 1):
            if progress and (done % 100 == 0 or done == len(files)):
                progress(done, len(files))
    kept_files = [f for f, good in zip(files, ok) if good]
    kept_labels = [lab for lab, good in zip(labels, ok) if good]
    bad = [f for f, good in zip(files, ok) if not good]
    images = out if ok.all() else out[ok]
    try:
        write_file(meta_path, json.dumps({"files": kept_files, "labels": kept_labels, "skipped": bad}).encode())
    except OSError:  # a full disk: this run goes on from memory, the next decodes again
        return images, np.asarray(kept_labels, dtype=np.int64), kept_files
    cachefiles.save_later(images_path, images)  # on disk for later runs; this one goes on
    return images, np.asarray(kept_labels, dtype=np.int64), kept_files
