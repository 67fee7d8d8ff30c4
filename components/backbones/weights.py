"""Pretrained weight files: the catalog (``weights_catalog.json``, data), where each file lives
(the torch hub cache: ``torch.hub.get_dir()/checkpoints/FILE``, where the components look), and
fetching or importing one, verified against its digest before it is used.

Plain HTTP (urllib) and hashlib: nothing here imports torch, so the server fetches too.

- ``ABACUS_WEIGHTS_CATALOG``: a JSON file used instead of the built-in catalog (tests, a company's
  own list).
- ``ABACUS_WEIGHTS_MIRROR``: a base URL the file name is appended to, instead of each entry's URL
  (a mirror behind a company's proxy).

A download goes to ``FILE.part`` next to its target, resumes from there with an HTTP Range request
after an interruption, is verified, then moved into place atomically (``os.replace``): the
components never see a partial or unverified file. A file whose digest does not match is deleted.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO, Callable

from pydantic import BaseModel, Field

CATALOG_FILE = Path(__file__).with_name("weights_catalog.json")
CATALOG_ENV = "ABACUS_WEIGHTS_CATALOG"
MIRROR_ENV = "ABACUS_WEIGHTS_MIRROR"
CHUNK = 1 << 16

Progress = Callable[[int, int], None]   # (bytes done, bytes in all)


class WeightsEntry(BaseModel):
    """One weight file of the catalog."""

    name: str = Field(description="What the command line and the API call it (vgg16)")
    title: dict[str, str] = Field(default_factory=dict, description="Display name, by language")
    url: str = Field(description="Where it is published")
    file: str = Field(description="Its file name in the torch hub cache's checkpoints folder")
    size: int = Field(ge=0, description="Its size in bytes")
    sha256: str | None = Field(None, description="Its full SHA-256, when known")
    sha256_prefix: str | None = Field(
        None, description="The start of its SHA-256 (torchvision's file names carry the first 8 hex digits); "
                          "checked when the full digest is not known, as torch.hub's check_hash does")

    def matches(self, digest: str) -> bool:
        if self.sha256:
            return digest.lower() == self.sha256.lower()
        if self.sha256_prefix:
            return digest.lower().startswith(self.sha256_prefix.lower())
        return False   # never trust a file the catalog gives no digest for

    @property
    def expected(self) -> str:
        return self.sha256 or f"{self.sha256_prefix}..."


class WeightsError(Exception):
    """A fetch or import that failed; ``code`` is stable (unknown_weights, fetch_failed,
    digest_mismatch, size_mismatch, file_not_found)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


def hub_dir() -> Path:
    """torch.hub.get_dir(), worked out without importing torch (planning runs in the server)."""
    if "torch" in sys.modules:
        import torch.hub

        return Path(torch.hub.get_dir())
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return Path(os.path.expanduser(torch_home)) / "hub"


def catalog_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get(CATALOG_ENV) or CATALOG_FILE).expanduser()


def load_catalog(path: str | Path | None = None) -> dict[str, WeightsEntry]:
    """The catalog by name: ``path``, else $ABACUS_WEIGHTS_CATALOG, else the built-in one."""
    data = json.loads(catalog_path(path).read_text(encoding="utf-8"))
    return {e["name"]: WeightsEntry.model_validate(e) for e in data["weights"]}


def get_entry(name: str, path: str | Path | None = None) -> WeightsEntry:
    entries = load_catalog(path)
    if name not in entries:
        raise WeightsError("unknown_weights", f"no weights named '{name}' in the catalog "
                                              f"(known: {', '.join(sorted(entries)) or 'none'})", name=name)
    return entries[name]


def target_path(entry: WeightsEntry) -> Path:
    """Where the components read the file: the torch hub cache."""
    return hub_dir() / "checkpoints" / entry.file


def part_path(entry: WeightsEntry) -> Path:
    target = target_path(entry)
    return target.with_name(target.name + ".part")


def source_url(entry: WeightsEntry, mirror: str | None = None) -> str:
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    return f"{mirror.rstrip('/')}/{entry.file}" if mirror else entry.url


def status(entry: WeightsEntry) -> dict[str, Any]:
    """Whether the file is in place (a stat), and how much of a download is there."""
    target, part = target_path(entry), part_path(entry)
    return {"present": target.is_file(), "path": str(target),
            "partial_bytes": part.stat().st_size if part.is_file() else 0}


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return h.hexdigest()


def _verify(entry: WeightsEntry, path: Path, what: str) -> None:
    size = path.stat().st_size
    if size != entry.size:
        raise WeightsError("size_mismatch", f"{what} has {size} bytes, {entry.name} has {entry.size}: "
                                            f"not the file the catalog names ({entry.file})",
                           name=entry.name, size=size)
    digest = sha256_of(path)
    if not entry.matches(digest):
        raise WeightsError("digest_mismatch", f"{what} has SHA-256 {digest}, {entry.name} has {entry.expected}: "
                                              f"not the file the catalog names ({entry.file}); it was not used",
                           name=entry.name, sha256=digest)


def _by_hand(entry: WeightsEntry, url: str) -> str:
    return (f"Download {url} by hand and put it at {target_path(entry)} (or run "
            f"`abacus weights import {entry.name} FILE`); behind a proxy, set {MIRROR_ENV} to a mirror's base URL")


def fetch(entry: WeightsEntry, *, mirror: str | None = None, progress: Progress | None = None,
          timeout: float = 30.0, cancelled: Callable[[], bool] | None = None) -> Path:
    """Download ``entry`` into the hub cache (resuming a ``.part`` file), verify it, move it in.

    A file already in place is returned as is. ``progress(done, total)`` is called as bytes arrive.
    """
    target, part = target_path(entry), part_path(entry)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = source_url(entry, mirror)
    start = part.stat().st_size if part.is_file() else 0
    if start > entry.size:   # not a prefix of this file
        part.unlink()
        start = 0
    if start < entry.size:
        request = urllib.request.Request(url, headers={"User-Agent": "abacus-weights"})
        if start:
            request.add_header("Range", f"bytes={start}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if start and response.status != 206:   # the server ignored the Range: start over
                    start = 0
                with open(part, "ab" if start else "wb") as out:
                    done = start
                    if progress:
                        progress(done, entry.size)
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, entry.size)
                        if cancelled is not None and cancelled():
                            raise WeightsError("fetch_cancelled", f"the download of {url} was cancelled; "
                                                                  f"it resumes from {done} bytes", url=url)
                if done < entry.size:   # http.client returns short reads when the connection drops
                    raise http.client.IncompleteRead(b"", entry.size - done)
        except urllib.error.HTTPError as err:
            if err.code == 416 and start:   # asked past the end: the part may be whole already
                pass
            else:
                raise WeightsError("fetch_failed", f"could not download {url}: HTTP {err.code} {err.reason}. "
                                                   + _by_hand(entry, url),
                                   url=url, path=str(target)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", None) or err
            if isinstance(err, http.client.IncompleteRead):
                reason = "the connection closed before the end of the file"
            kept = part.stat().st_size if part.is_file() else 0
            raise WeightsError("fetch_failed", f"could not download {url}: {reason} ({kept} bytes kept in {part}; "
                                               f"fetching again resumes there). " + _by_hand(entry, url),
                               url=url, path=str(target)) from None
    try:
        _verify(entry, part, f"the download of {url}")
    except WeightsError:
        part.unlink(missing_ok=True)   # a wrong file is never resumed or used
        raise
    os.replace(part, target)
    return target


def import_file(entry: WeightsEntry, source: str | Path) -> Path:
    """Copy a file into the hub cache after verifying it (into a temporary file beside the target,
    then moved in atomically)."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise WeightsError("file_not_found", f"{source}: no such file", path=str(source))
    return install_verified_copy(entry, source)   # the copy is verified (it is what is used)


def install_verified_copy(entry: WeightsEntry, source: Path) -> Path:
    with open(source, "rb") as src:
        return install_stream(entry, src, str(source))


def install_stream(entry: WeightsEntry, stream: BinaryIO, what: str) -> Path:
    """Copy ``stream`` into a temporary file beside the target, verify the copy, move it in.
    Nothing is left behind when it is not the catalog's file."""
    target = target_path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{entry.file}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        _verify(entry, Path(tmp), what)   # the copy, not only the original
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def needed_weights(graph: dict[str, Any], registry: Any, path: str | Path | None = None) -> list[WeightsEntry]:
    """The catalog entries a graph's nodes read (a backbone with ImageNet weights), once each."""
    entries = load_catalog(path)
    out: dict[str, WeightsEntry] = {}
    for node in graph.get("nodes", []):
        comp = registry.get(node.get("type")) if registry is not None else None
        name = getattr(comp, "weights_name", None)
        if not name or name not in entries:
            continue
        field = getattr(comp, "Params", None).model_fields.get("weights") if getattr(comp, "Params", None) else None
        choice = (node.get("params") or {}).get("weights", getattr(field, "default", "imagenet"))
        if choice == "imagenet":
            out[name] = entries[name]
    return list(out.values())
