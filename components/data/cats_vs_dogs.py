from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import TypeAdapter

from backend.engine import DATASET, Component, NodeError, ParamField, Port, Spec

from ..values import ImageDataset
from .folders import IMAGE_SUFFIXES  # noqa: F401 (imported from here by backend.predict)
from .folders import check_files_inside, check_root, listing_fingerprint, log_split
from .folders import natural as _natural
from .soundness import checked_split
from .split_params import SplitParams, split_field

KAGGLE_NAME = re.compile(r"^(cat|dog)\.\d+\.(jpe?g|png)$", re.IGNORECASE)
CLASSES = ["cat", "dog"]
_BOOL = TypeAdapter(bool)
DOWNLOAD_TIMEOUT_S = 60  # a stalled connection fails the node rather than hanging it
ARCHIVE_URL = "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"


class CatsVsDogsParams(SplitParams):
    root: str = ParamField(
        "data/cats_vs_dogs", title={"en": "Folder", "zh": "数据目录"},
        description={"en": "Folder with Cat/ and Dog/ (PetImages) or cat.N.jpg/dog.N.jpg (Kaggle)",
                     "zh": "包含 Cat/ 和 Dog/ 子文件夹（PetImages 格式）或 cat.N.jpg/dog.N.jpg 文件（Kaggle 格式）的文件夹"})
    train: float = split_field("train", 0.5)
    validation: float = split_field("validation", 0.25)
    test: float = split_field("test", 0.25)
    download: bool = ParamField(
        False, title={"en": "Download", "zh": "自动下载"},
        description={"en": "Download the official archive into root if the folder is empty",
                     "zh": "文件夹为空时，将官方数据包下载到数据目录"})


def _find_layout(root: Path) -> tuple[str, Path]:
    """('petimages', folder with Cat/ and Dog/) or ('kaggle', folder with cat.N.jpg)."""
    for base in (root, root / "PetImages"):
        if (base / "Cat").is_dir() and (base / "Dog").is_dir():
            return "petimages", base
    for base in (root, root / "train"):
        if base.is_dir() and any(KAGGLE_NAME.match(p.name) for p in base.iterdir()):
            return "kaggle", base
    for base in (root, root / "PetImages"):
        present = [c for c in ("Cat", "Dog") if (base / c).is_dir()]
        if len(present) == 1:
            missing = "Dog" if present == ["Cat"] else "Cat"
            raise NodeError(f"{base} has a {present[0]}/ folder but no {missing}/ folder: the PetImages layout "
                            f"needs both Cat/ and Dog/", code="dataset_class_missing", param="root",
                            params={"path": str(base), "present": present[0], "missing": missing})
    raise NodeError(f"no cats-vs-dogs images in {root}: expected Cat/ and Dog/ folders (PetImages) "
                    f"or files named cat.N.jpg and dog.N.jpg (Kaggle)", code="dataset_empty", param="root",
                    params={"path": str(root)})


def _scan(root: Path, with_stat: bool = False) -> tuple[Path, list[tuple]]:
    """(base, [(relative path, label[, size, mtime_ns]), ...]) in directory order: one pass of
    os.scandir, whose entries carry what a fingerprint needs without building a Path per file."""
    layout, base = _find_layout(root)
    items: list[tuple] = []

    def add(entry: os.DirEntry, rel: str, label: int) -> None:
        if with_stat:
            st = entry.stat()
            items.append((rel, label, st.st_size, st.st_mtime_ns))
        else:
            items.append((rel, label))

    if layout == "petimages":
        for label, folder in enumerate(("Cat", "Dog")):
            with os.scandir(base / folder) as entries:
                for entry in entries:
                    if os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES and entry.is_file():
                        add(entry, f"{folder}/{entry.name}", label)
    else:
        with os.scandir(base) as entries:
            for entry in entries:
                m = KAGGLE_NAME.match(entry.name)
                if m and entry.is_file():
                    add(entry, entry.name, CLASSES.index(m.group(1).lower()))
    return base, items


def _make_parents(folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and its missing parents, adding each one created to ``made`` (outermost
    first) as it goes, so a failure halfway still knows what to remove."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        f.mkdir()
        made.append(f)


def _list_images(root: Path) -> tuple[Path, list[tuple[str, int]]]:
    base, items = _scan(root)
    items.sort(key=lambda it: _natural(it[0]))
    return base, items


class CatsVsDogs(Component):
    id = "data.CatsVsDogs"
    name = {"en": "Cats vs. Dogs dataset", "zh": "猫狗数据集"}
    description = {"en": "Cat and dog photos, split into train / validation / test",
                   "zh": "猫狗照片，自动划分训练集、验证集和测试集"}
    category = "data"
    outputs = (Port("dataset", DATASET, {"en": "Dataset", "zh": "数据集"}),)
    Params = CatsVsDogsParams
    # the split and its data check are kept: validation reads the check's warnings from the store
    persist = True

    def infer(self, params, inputs):
        return {"dataset": Spec(DATASET, None, {"classes": CLASSES})}

    def path_may_be_missing(self, params, name):
        """A missing folder is no problem when the run downloads the archive into it."""
        if name != "root":
            return False
        try:
            return _BOOL.validate_python(params.get("download", False))
        except ValueError:  # an invalid value is reported by validation; do not add to it
            return True

    def fingerprint(self, params):
        root = Path(os.path.expanduser(params.root))
        try:
            base, items = _scan(root, with_stat=True)
        except (NodeError, OSError):
            return f"missing:{root}"
        return listing_fingerprint(base, items)

    def run(self, ctx, params, inputs):
        root, roots = check_root(ctx, params.root)
        if params.download and (not root.exists() or not any(root.iterdir())):
            self._download(ctx, root)
        if not root.is_dir():
            raise NodeError(f"dataset folder not found: {root}", code="dataset_missing", param="root",
                            params={"path": str(root)})
        base, items = _list_images(root)
        check_files_inside(base, [rel for rel, _ in items], roots)
        kept, files, labels, skipped, report = checked_split(
            ctx, base, items, CLASSES, [params.train, params.validation, params.test], params.seed,
            params.max_per_class, dedupe=params.dedupe)
        log_split(ctx, kept, files)
        return {"dataset": ImageDataset(root=str(base), classes=list(CLASSES), files=files, labels=labels,
                                        skipped=skipped, fingerprint=self.fingerprint(params),
                                        check=report.model_dump(mode="json"))}

    def _download(self, ctx, root: Path) -> None:
        """Download and unpack the archive into ``root`` (absent or empty), leaving nothing behind
        on failure: everything goes to a hidden folder next to ``root`` and moves in place only once
        unpacked; a failure (or a cancel) removes that folder and the parent folders this made,
        never a folder that was there before."""
        import http.client
        import shutil
        import tempfile
        import urllib.request
        import zipfile
        import zlib

        url = ARCHIVE_URL
        made: list[Path] = []      # parent folders this created, outermost first
        moved: list[Path] = []     # entries moved into a folder that was there before
        staging = None
        try:
            _make_parents(root.parent, made)
            staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.download-", dir=root.parent))
            archive, unpacked = staging / "archive.zip", staging / "unpacked"
            ctx.log(f"downloading {url}", code="downloading", params={"url": url})
            check_cancelled = getattr(ctx, "check_cancelled", lambda: None)
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as answer, open(archive, "wb") as out:
                    expected = answer.headers.get("Content-Length")
                    while chunk := answer.read(1 << 20):
                        out.write(chunk)
                        check_cancelled()
                if expected is not None and archive.stat().st_size != int(expected):
                    raise OSError(f"the download stopped after {archive.stat().st_size} of {expected} bytes")
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(unpacked)
            except (OSError, http.client.HTTPException, zipfile.BadZipFile, zlib.error, EOFError,
                    ValueError) as err:
                raise NodeError(f"cannot download the Cats vs. Dogs archive (offline?): {err}. "
                                f"Put the PetImages folder in {root} instead.", code="download_failed",
                                param="download", params={"path": str(root), "error": str(err)}) from err
            if root.is_dir():   # an empty folder that was there: keep it, move the files in
                for entry in unpacked.iterdir():
                    entry.rename(root / entry.name)
                    moved.append(root / entry.name)
            else:
                unpacked.rename(root)
        except BaseException:
            for entry in moved:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            for folder in reversed(made):
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
        shutil.rmtree(staging, ignore_errors=True)
