"""Any photos a person brings: one subfolder per class, as Keras' ``image_dataset_from_directory``
reads them (class names are the subfolder names in sorted order, images anywhere below each one,
other files ignored), with the same split, skipping and fingerprint as the Cats-vs-Dogs dataset."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from backend.engine import DATASET, Component, NodeError, ParamField, Port, Spec

from ..values import ImageDataset
from .folders import IMAGE_SUFFIXES, check_files_inside, check_root, listing_fingerprint, log_split, natural
from .soundness import checked_split
from .split_params import SplitParams

IGNORED_FOLDERS = {"__MACOSX"}  # what a zip made on a Mac carries besides the photos


class ImageFolderParams(SplitParams):
    root: str = ParamField(
        "uploads/my_photos", title={"en": "Folder", "zh": "数据目录"},
        description={"en": "Folder with one subfolder of images per class (e.g. roses/, tulips/); upload a zip or "
                           "tar of such folders here",
                     "zh": "每个类别一个子文件夹（如 roses/、tulips/）的图像文件夹；也可以在此上传这种文件夹的 .zip 或 .tar 压缩包"},
        json_schema_extra={"x-picker": "datasets"})


def class_folders(root: Path) -> list[str]:
    """The class names: every subfolder except hidden ones and a Mac's ``__MACOSX``, sorted (as
    Keras sorts them, so label i is the i-th name)."""
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries
                      if e.is_dir() and not e.name.startswith(".") and e.name not in IGNORED_FOLDERS)


def scan(root: Path, with_stat: bool = False) -> tuple[list[str], list[tuple]]:
    """(class names, [(relative path, label[, size, mtime_ns]), ...]): the images anywhere below
    each class folder (links to folders are not followed inside it, as in Keras), hidden files
    and folders left out."""
    classes = class_folders(root)
    items: list[tuple] = []
    for label, name in enumerate(classes):
        for folder, dirs, files in os.walk(root / name):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
            for file in files:
                if file.startswith(".") or os.path.splitext(file)[1].lower() not in IMAGE_SUFFIXES:
                    continue
                rel = f"{rel_folder}/{file}"
                if with_stat:
                    st = os.stat(os.path.join(folder, file))
                    items.append((rel, label, st.st_size, st.st_mtime_ns))
                else:
                    items.append((rel, label))
    return classes, items


def summarize(root: Path) -> tuple[list[str], list[int]]:
    """(class names, image files per class): what a listing of uploaded datasets shows, by name
    only (no image is opened)."""
    classes, items = scan(root)
    counts = [0] * len(classes)
    for _, label in items:
        counts[label] += 1
    return classes, counts


class ImageFolder(Component):
    id = "data.ImageFolder"
    name = {"en": "Image folder dataset", "zh": "图像文件夹数据集"}
    description = {"en": "Your own photos, one subfolder per class, split into train / validation / test",
                   "zh": "你自己的照片：每个类别一个子文件夹，自动划分训练集、验证集和测试集"}
    category = "data"
    outputs = (Port("dataset", DATASET, {"en": "Dataset", "zh": "数据集"}),)
    Params = ImageFolderParams
    persist = True   # the split and its data check are kept (validation reads the check's warnings)

    def infer(self, params, inputs):
        """The class names when the folder is there (one listing), so a head with the wrong number of
        outputs is flagged while editing; unknown (None) otherwise."""
        root = Path(os.path.expanduser(params.root)) if params.root.strip() else None
        try:
            classes = class_folders(root) if root is not None and root.is_absolute() and root.is_dir() else None
        except OSError:
            classes = None
        return {"dataset": Spec(DATASET, None, {"classes": classes if classes and len(classes) >= 2 else None})}

    def fingerprint(self, params):
        root = Path(os.path.expanduser(params.root))
        try:
            classes, items = scan(root, with_stat=True)
        except OSError:
            return f"missing:{root}"
        # the class names too: an empty class folder added or removed changes the labels
        return hashlib.sha256(f"{listing_fingerprint(root, items)}|{'/'.join(classes)}".encode()).hexdigest()[:32]

    def run(self, ctx, params, inputs):
        root, roots = check_root(ctx, params.root)
        if not root.is_dir():
            raise NodeError(f"dataset folder not found: {root}", code="dataset_missing", param="root",
                            params={"path": str(root)})
        classes, items = scan(root)
        if len(classes) < 2:
            raise NodeError(f"{root} has {len(classes)} class folder(s): put the images of each class in its own "
                            f"subfolder (at least two, e.g. roses/ and tulips/)", code="dataset_too_few_classes",
                            param="root", params={"path": str(root), "count": len(classes)})
        if not items:
            raise NodeError(f"no images in the class folders of {root} (.jpg, .png, .bmp, .gif, .webp)",
                            code="dataset_no_images", param="root", params={"path": str(root)})
        items.sort(key=lambda it: natural(it[0]))
        check_files_inside(root, [rel for rel, _ in items], roots)
        kept, files, labels, skipped, report = checked_split(
            ctx, root, items, classes, [params.train, params.validation, params.test], params.seed,
            params.max_per_class, dedupe=params.dedupe)
        log_split(ctx, kept, files)
        return {"dataset": ImageDataset(root=str(root), classes=classes, files=files, labels=labels,
                                        skipped=skipped, fingerprint=self.fingerprint(params),
                                        check=report.model_dump(mode="json"))}
