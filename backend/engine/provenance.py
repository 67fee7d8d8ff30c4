"""A model file's story: the graph that made it, the node, the cache keys, the data, the metrics.

Every model file a run saves carries a ``Provenance`` record (``payload["provenance"]``, plain
JSON data, so the file still loads with ``torch.load(weights_only=True)``). Files saved before
there was one still load; they simply have no story to tell.

``read_model_file`` reads a model file's description and provenance **without torch**: the
file is a zip whose ``data.pkl`` is unpickled by a restricted unpickler that knows only the few
names a tensor is rebuilt from, and makes an inert stand-in (its shape) for each. The server
uses it to import a model file as a project; ``abacus inspect`` too, so it answers at once.
"""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from datetime import datetime, timezone
from typing import IO, Any, Literal

from pydantic import BaseModel, Field, ValidationError

MODEL_FORMAT = "abacus.model/1"
PROVENANCE_FORMAT = "abacus.provenance/1"
# a model's pickle holds its architecture and history, never its weights (those are separate
# records of the zip): anything larger is not one of ours
MAX_PICKLE_BYTES = 64 * 1024 * 1024


def abacus_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("abacus-studio")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.0.0"


class Provenance(BaseModel):
    """Where a model file comes from, written into it by the node that saved it."""

    format: Literal["abacus.provenance/1"] = PROVENANCE_FORMAT
    abacus_version: str = Field(description="the Abacus that saved the file")
    created: datetime = Field(description="when the file was saved (UTC)")
    node: str = Field(description="the node that made the model")
    component: str = Field(description="that node's component id, e.g. training.Trainer")
    graph: dict[str, Any] = Field(description="the graph document as it ran (data paths made absolute)")
    components: dict[str, int] = Field(default_factory=dict,
                                       description="the version of every component the graph uses, by id")
    keys: dict[str, str] = Field(default_factory=dict,
                                 description="the cache key of the node and of every node it depends on")
    dataset_fingerprint: str | None = Field(None, description="the fingerprint of the dataset's files "
                                                              "(names, sizes, modification times)")
    fingerprints: dict[str, str] = Field(default_factory=dict,
                                         description="every fingerprint of external data (datasets, weight "
                                                     "files) the keys cover, by node")
    metrics: dict[str, float | None] = Field(default_factory=dict,
                                             description="the metrics of the epoch whose weights the file holds")
    epoch: int | None = Field(None, description="that epoch (the best one when the trainer keeps the best)")
    epochs: int = Field(0, description="epochs trained")

    @property
    def key(self) -> str | None:
        """The cache key of the node that made the model."""
        return self.keys.get(self.node)


def new_provenance(**fields: Any) -> Provenance:
    """A record stamped now, by this Abacus."""
    return Provenance(abacus_version=abacus_version(), created=datetime.now(timezone.utc), **fields)


class ModelFileInfo(BaseModel):
    """What ``abacus inspect`` prints: a model file's description, and its provenance when it has one."""

    file: str | None = None
    format: str = MODEL_FORMAT
    classes: list[str] = Field(default_factory=list)
    input_shape: list[int] = Field(default_factory=list, description="height, width, channels")
    output_shape: list[int] = Field(default_factory=list)
    loss: str | None = None
    epochs: int = 0
    best_epoch: int | None = None
    parameters: int = Field(0, description="numbers in the saved weights")
    provenance: Provenance | None = Field(None, description="absent in files saved before it was recorded")


class NotAModelFile(ValueError):
    """The bytes are no Abacus model file (or its provenance record cannot be read)."""

    def __init__(self, message: str, code: str = "not_a_model") -> None:
        super().__init__(message)
        self.code = code


class _TensorStandIn:
    """What a tensor unpickles to here: its shape, no data."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(int(d) for d in shape)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _rebuild_tensor(storage: Any, offset: Any, size: Any = (), *rest: Any) -> _TensorStandIn:
    return _TensorStandIn(tuple(size) if isinstance(size, (tuple, list)) else ())


def _ordered_dict(*args: Any) -> dict:
    return dict(*args)


class _Storage:
    """Stands for torch's storage classes named in a persistent id."""


_REBUILDERS = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter"}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles torch's data.pkl of a model file without torch; every other name is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return _ordered_dict
        if module == "torch._utils" and name in _REBUILDERS:
            return _rebuild_tensor
        if module == "torch" and name.endswith("Storage"):
            return _Storage
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a model file")

    def persistent_load(self, pid: Any) -> Any:
        return None   # a tensor's storage: its data stays in the zip, unread


def _data_pickle(source: str | os.PathLike | bytes | IO[bytes]) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        with zipfile.ZipFile(source) as archive:
            names = [i for i in archive.infolist() if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
            if not names:
                raise NotAModelFile("not an Abacus model file: the archive has no data.pkl (a file saved by torch)")
            if names[0].file_size > MAX_PICKLE_BYTES:
                raise NotAModelFile("not an Abacus model file: its data.pkl is too large")
            return archive.read(names[0])
    except NotAModelFile:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as err:
        raise NotAModelFile(f"not an Abacus model file (not a torch archive: {type(err).__name__})") from None


def read_payload(source: str | os.PathLike | bytes | IO[bytes]) -> dict[str, Any]:
    """The model file's payload with each tensor as a shape-only stand-in; raises NotAModelFile."""
    data = _data_pickle(source)
    try:
        payload = _RestrictedUnpickler(io.BytesIO(data)).load()
    except Exception as err:  # a refused name, a truncated or malformed pickle
        raise NotAModelFile(f"not an Abacus model file (its contents cannot be read: {err})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise NotAModelFile(f"not an Abacus model file (format {MODEL_FORMAT}): a torch file of something else")
    return payload


def provenance_of(payload: dict[str, Any]) -> Provenance | None:
    """The payload's provenance record; None in files saved before it was recorded."""
    record = payload.get("provenance")
    if record is None:
        return None
    try:
        return Provenance.model_validate(record)
    except ValidationError as err:
        raise NotAModelFile(f"the model file's provenance record cannot be read: {err.errors()[0]['msg']}",
                            code="invalid_provenance") from None


def read_model_file(source: str | os.PathLike | bytes | IO[bytes], name: str | None = None) -> ModelFileInfo:
    """A model file's description and provenance, read without torch; raises NotAModelFile."""
    payload = read_payload(source)
    state = payload.get("state") if isinstance(payload.get("state"), dict) else {}
    history = payload.get("history") if isinstance(payload.get("history"), list) else []
    try:
        return ModelFileInfo(
            file=name if name is not None else (None if isinstance(source, (bytes, bytearray)) or hasattr(source, "read")
                                                else str(source)),
            classes=payload.get("classes") or [], input_shape=payload.get("input_shape") or [],
            output_shape=payload.get("output_shape") or [], loss=payload.get("loss"), epochs=len(history),
            best_epoch=payload.get("best_epoch"),
            parameters=sum(t.numel for t in state.values() if isinstance(t, _TensorStandIn)),
            provenance=provenance_of(payload))
    except ValidationError as err:
        raise NotAModelFile(f"not an Abacus model file (its description does not read: {err.errors()[0]['msg']})") \
            from None
