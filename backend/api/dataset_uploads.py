"""Datasets uploaded through the studio: a zip or tar of class folders, unpacked safely into
``<first writable data root>/uploads/<name>``, and the listing the dataset node offers.

Safety, entry by entry and before a byte is written where it could do harm:
- names: no absolute path, no drive letter, no ``..``, no NUL; everything lands below the target;
- no links (symbolic or hard) and no device, FIFO or socket entries: the archive is refused;
- size: at most ``max_files`` entries and ``max_unpacked`` bytes in all, counted as bytes are
  written (headers may lie), and no more than ``max_ratio`` times the archive's size (nor one
  file more than that times its packed size): a zip bomb stops at the first check it fails;
- an archive inside the archive is only a file (never opened);
- everything is unpacked into a hidden staging folder next to the target, then renamed into
  place in one step: a failed or refused upload leaves nothing, and a listing never sees half
  a dataset.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from components.data.image_folder import IGNORED_FOLDERS, summarize

UPLOADS = "uploads"
NAME_PATTERN = r"^[\w][\w.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20  # below a MiB unpacked, a high ratio (a text file of zeros) is harmless
_IGNORED_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_STAGING = ".incoming-"
STALE_STAGING_S = 24 * 3600  # a staging folder this old was left by a server that stopped mid-upload


class UploadError(Exception):
    """A refused upload: the HTTP status, a stable code the editor words, and its params."""

    def __init__(self, status: int, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.params = status, code, message, params


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_unpacked: int
    max_ratio: float


@dataclass
class Uploaded:
    name: str
    path: str       # the value for a dataset node's root: relative, looked up in the data roots
    folder: Path    # where it lies
    classes: list[str]
    counts: list[int]


def uploads_folder(roots: list[Path]) -> Path:
    """``uploads`` in the first data root that exists (or can be made) and can be written."""
    for root in roots:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(root, os.W_OK | os.X_OK):
            folder = root / UPLOADS
            folder.mkdir(exist_ok=True)
            _sweep(folder)
            return folder
    raise UploadError(507, "no_writable_data_root", "no data root can be written: start the server with a "
                                                    "writable --data-root", roots=[str(r) for r in roots])


def _sweep(folder: Path) -> None:
    """Remove staging folders a stopped server left behind (a live upload's is younger)."""
    now = time.time()
    for entry in folder.iterdir():
        try:
            if entry.name.startswith(_STAGING) and now - entry.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def check_name(name: str, roots: list[Path]) -> None:
    if not _NAME.match(name):
        raise UploadError(422, "dataset_name_invalid", f"'{name}' is not a dataset name: letters, digits, _ . - "
                                                       f"(up to 64, not starting with . or -)", name=name)
    for root in roots:
        if os.path.lexists(root / UPLOADS / name):
            raise UploadError(409, "dataset_exists", f"a dataset named '{name}' was already uploaded: choose "
                                                     f"another name", name=name)


def _entry_path(name: str) -> PurePosixPath | None:
    """The entry's path below the target, None for what is left out (a Mac's ``__MACOSX`` and
    ``.DS_Store``, the archive's ``./``); refuses a path that could leave the target."""
    clean = name.replace("\\", "/")
    if "\x00" in clean or clean.startswith("/") or re.match(r"^[A-Za-z]:", clean):
        raise UploadError(400, "archive_unsafe_path", f"the archive holds an entry with an absolute path: "
                                                      f"{name!r}", entry=name)
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UploadError(400, "archive_unsafe_path", f"the archive holds an entry that points outside its "
                                                      f"folder: {name!r}", entry=name)
    if not parts or any(p in IGNORED_FOLDERS for p in parts) or parts[-1] in _IGNORED_FILES:
        return None
    return PurePosixPath(*parts)


class _Unpacker:
    """Writes entries below ``dest``, counting entries and bytes against the limits."""

    def __init__(self, dest: Path, limits: Limits, archive_bytes: int) -> None:
        self.dest, self.limits, self.archive_bytes = dest, limits, max(archive_bytes, 1)
        self.entries = 0
        self.written = 0

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise UploadError(413, "archive_too_many_files", f"the archive holds more than {self.limits.max_files} "
                                                             f"entries", limit=self.limits.max_files)

    def target(self, rel: PurePosixPath) -> Path:
        path = self.dest.joinpath(*rel.parts)
        if not path.resolve().is_relative_to(self.dest.resolve()):  # no links exist here; belt and braces
            raise UploadError(400, "archive_unsafe_path", f"the entry {rel} leaves the folder", entry=str(rel))
        return path

    def check_total(self) -> None:
        if self.written > self.limits.max_unpacked:
            raise UploadError(413, "archive_too_large", f"the archive unpacks to more than "
                                                        f"{self.limits.max_unpacked // 2**20} MB",
                              limit_mb=self.limits.max_unpacked // 2**20)
        if self.written > _RATIO_FLOOR and self.written > self.limits.max_ratio * self.archive_bytes:
            raise UploadError(413, "archive_ratio", f"the archive unpacks to more than {self.limits.max_ratio:g} "
                                                    f"times its size (a zip bomb?)", ratio=self.limits.max_ratio)

    def write(self, rel: PurePosixPath, source: BinaryIO, declared: int | None, packed: int | None) -> None:
        path = self.target(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        mine = 0
        with open(path, "wb") as out:
            while chunk := source.read(_CHUNK):
                mine += len(chunk)
                self.written += len(chunk)
                if declared is not None and mine > declared:
                    raise UploadError(400, "archive_corrupt", f"the entry {rel} holds more than its header says")
                if packed is not None and mine > _RATIO_FLOOR and mine > self.limits.max_ratio * max(packed, 1):
                    raise UploadError(413, "archive_ratio", f"the entry {rel} unpacks to more than "
                                                            f"{self.limits.max_ratio:g} times its packed size "
                                                            f"(a zip bomb?)", ratio=self.limits.max_ratio)
                self.check_total()
                out.write(chunk)

    def folder(self, rel: PurePosixPath) -> None:
        self.target(rel).mkdir(parents=True, exist_ok=True)


def _unzip(archive: Path, unpacker: _Unpacker) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        limits = unpacker.limits
        if len(infos) > limits.max_files:
            raise UploadError(413, "archive_too_many_files", f"the archive holds {len(infos)} entries, more than "
                                                             f"{limits.max_files}", limit=limits.max_files)
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_unpacked:
            raise UploadError(413, "archive_too_large", f"the archive unpacks to {declared // 2**20} MB, more than "
                                                        f"{limits.max_unpacked // 2**20} MB",
                              limit_mb=limits.max_unpacked // 2**20)
        if declared > _RATIO_FLOOR and declared > limits.max_ratio * unpacker.archive_bytes:
            raise UploadError(413, "archive_ratio", f"the archive unpacks to {declared / unpacker.archive_bytes:.0f} "
                                                    f"times its size, more than {limits.max_ratio:g} (a zip bomb?)",
                              ratio=limits.max_ratio)
        for info in infos:
            unpacker.count_entry()
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UploadError(400, "archive_link", f"the archive holds a link: {info.filename!r}; put the "
                                                       f"files themselves in it", entry=info.filename)
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UploadError(400, "archive_special_file", f"the archive holds a special file (device, FIFO "
                                                               f"or socket): {info.filename!r}", entry=info.filename)
            rel = _entry_path(info.filename)
            if rel is None:
                continue
            if info.is_dir():
                unpacker.folder(rel)
                continue
            with zf.open(info) as source:
                unpacker.write(rel, source, info.file_size, info.compress_size)


def _untar(archive: Path, unpacker: _Unpacker) -> None:
    with tarfile.open(archive, "r:*") as tf:
        while (member := tf.next()) is not None:   # one member at a time: a huge listing is never held
            unpacker.count_entry()
            if member.issym() or member.islnk():
                raise UploadError(400, "archive_link", f"the archive holds a link: {member.name!r}; put the "
                                                       f"files themselves in it", entry=member.name)
            if not (member.isfile() or member.isdir()):
                raise UploadError(400, "archive_special_file", f"the archive holds a special file (device, FIFO "
                                                               f"or socket): {member.name!r}", entry=member.name)
            rel = _entry_path(member.name)
            if rel is None:
                continue
            if member.isdir():
                unpacker.folder(rel)
                continue
            source = tf.extractfile(member)
            if source is None:
                continue
            with source:
                unpacker.write(rel, source, member.size, None)


def unpack(archive: Path, dest: Path, limits: Limits) -> None:
    """Unpack a zip or a tar (plain, gz, bz2, xz) into ``dest`` (an empty folder), or raise UploadError."""
    unpacker = _Unpacker(dest, limits, archive.stat().st_size)
    try:
        if zipfile.is_zipfile(archive):
            _unzip(archive, unpacker)
            return
        try:
            is_tar = tarfile.is_tarfile(archive)
        except (OSError, EOFError, zlib.error, tarfile.TarError):
            is_tar = False
        if not is_tar:
            raise UploadError(415, "archive_unsupported", "the upload is neither a zip nor a tar archive (.zip, .tar, "
                                                          ".tar.gz, .tgz, .tar.bz2, .tar.xz)")
        _untar(archive, unpacker)
    except UploadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, EOFError, RuntimeError,
            NotImplementedError, ValueError) as err:
        # RuntimeError: an encrypted zip; NotImplementedError: a compression zipfile cannot read
        raise UploadError(400, "archive_corrupt", f"the archive cannot be read: {err}", error=str(err)) from err
    except OSError as err:
        if err.errno in (28, 122):  # ENOSPC, EDQUOT
            raise UploadError(507, "storage_full", f"the disk is full: {err}") from err
        raise UploadError(400, "archive_corrupt", f"the archive cannot be unpacked: {err}", error=str(err)) from err


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in IGNORED_FOLDERS]


def dataset_folder(unpacked: Path) -> Path:
    """The folder holding the class folders: the archive's top, or the one folder it wraps them
    in (``flowers/roses/...``), up to two wrappers deep."""
    folder = unpacked
    for _ in range(2):
        children = _visible(folder)
        if len(children) == 1 and children[0].is_dir():
            inner = children[0]
            if len([c for c in _visible(inner) if c.is_dir()]) >= 1:
                folder = inner
                continue
        break
    return folder


def receive(stream_to: Path, name: str, roots: list[Path], limits: Limits) -> Uploaded:
    """Unpack the archive at ``stream_to`` (already written under the uploads folder's staging
    folder) and move its dataset into ``uploads/<name>`` in one rename."""
    staging = stream_to.parent
    unpacked = staging / "unpacked"
    unpacked.mkdir()
    unpack(stream_to, unpacked, limits)
    stream_to.unlink()
    folder = dataset_folder(unpacked)
    classes, counts = summarize(folder)
    if len(classes) < 2 or not sum(counts):
        raise UploadError(422, "dataset_no_classes", f"the archive needs one folder of images per class (at least "
                                                     f"two, e.g. roses/ and tulips/); it has {len(classes)} folder(s) "
                                                     f"and {sum(counts)} image(s)",
                          classes=len(classes), images=sum(counts))
    target = staging.parent / name
    check_name(name, roots)
    try:
        os.rename(folder, target)   # atomic: the listing sees all of it or nothing
    except OSError as err:
        raise UploadError(409, "dataset_exists", f"a dataset named '{name}' was already uploaded",
                          name=name) from err
    return Uploaded(name=name, path=f"{UPLOADS}/{name}", folder=target, classes=classes, counts=counts)


def staging_folder(uploads: Path) -> Path:
    """A hidden folder in ``uploads`` (the same file system as the target, so the move is a rename)."""
    return Path(tempfile.mkdtemp(prefix=_STAGING, dir=uploads))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def delete(name: str, roots: list[Path]) -> Uploaded:
    """Remove the uploaded dataset ``name`` (the one the listing shows: the first root's) and say
    what it held. Only a folder directly in a root's ``uploads`` is touched: a name is one folder
    name (no separator, no ``..``, not hidden, so never a staging folder), and a link there is
    not a dataset (the listing skips it). The folder is first renamed into a staging folder, so
    the listing never sees half a dataset and a server stopped mid-delete leaves it to the sweep."""
    if not _NAME.match(name):
        raise UploadError(400, "dataset_name_invalid", f"'{name}' is not a dataset name: one folder name of "
                                                       f"letters, digits, _ . - (not starting with . or -)", name=name)
    for root in roots:
        folder = root / UPLOADS / name
        if folder.is_symlink() or not folder.is_dir():
            continue
        if folder.resolve().parent != (root / UPLOADS).resolve():  # the name allows no other; belt and braces
            continue
        try:
            classes, counts = summarize(folder)
        except OSError:
            classes, counts = [], []   # unreadable: it goes all the same
        try:
            staging = staging_folder(folder.parent)
        except OSError as err:
            raise _not_removable(name, err) from err
        try:
            os.rename(folder, staging / name)
        except OSError as err:
            raise _not_removable(name, err) from err
        finally:
            remove(staging)
        return Uploaded(name=name, path=f"{UPLOADS}/{name}", folder=folder, classes=classes, counts=counts)
    raise UploadError(404, "dataset_not_found", f"no dataset named '{name}' was uploaded", name=name)


def used_by(name: str, graphs: list[tuple[str, dict]]) -> tuple[str, str] | None:
    """(run id, node id) of the first of ``graphs`` (each with its run's id) that has a node whose
    params name the uploaded dataset ``name`` (``uploads/<name>``, alone or inside a longer path),
    else None: a queued or running run must not lose its images while it reads them."""
    for run_id, graph in graphs:
        for node in graph.get("nodes") or []:
            for value in (node.get("params") or {}).values():
                if not isinstance(value, str):
                    continue
                parts = PurePosixPath(value.replace("\\", "/")).parts
                if any(parts[i:i + 2] == (UPLOADS, name) for i in range(len(parts) - 1)):
                    return run_id, str(node.get("id"))
    return None


def _not_removable(name: str, err: OSError) -> UploadError:
    return UploadError(409, "dataset_not_removable", f"the dataset '{name}' cannot be removed: {err.strerror}",
                       name=name, error=str(err.strerror))


def listing(roots: list[Path]) -> list[Uploaded]:
    """Every uploaded dataset in the data roots, by name (a name in two roots: the first)."""
    seen: dict[str, Uploaded] = {}
    for root in roots:
        folder = root / UPLOADS
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") or entry.name in seen or not entry.is_dir() or entry.is_symlink():
                continue
            try:
                classes, counts = summarize(entry)
            except OSError:
                continue
            seen[entry.name] = Uploaded(name=entry.name, path=f"{UPLOADS}/{entry.name}", folder=entry,
                                        classes=classes, counts=counts)
    return list(seen.values())
