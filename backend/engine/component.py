"""The component model: ports, parameters, edit-time inference and the run contract."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .types import Spec


@dataclass(frozen=True)
class Port:
    name: str
    type: str
    label: dict[str, str] | None = None
    optional: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label or {"en": self.name, "zh": self.name},
            "optional": self.optional,
        }


class Params(BaseModel):
    """Base of every component's parameter model: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


def ParamField(default: Any = ..., *, title: dict[str, str], description: dict[str, str],
               choices: dict[Any, dict[str, str]] | None = None,
               deferred: bool = False, json_schema_extra: dict[str, Any] | None = None,
               **constraints: Any) -> Any:
    """A parameter (pydantic ``Field``) with its title and description in English and Chinese.

    The JSON schema keeps English in the standard ``title`` and ``description`` and Chinese in
    ``x-title-zh`` and ``x-description-zh``: the editor's form shows the person's language.
    ``choices``: how each value of an enum reads, in both languages (``{"test": {"en": "Test",
    "zh": "测试集"}}``); the schema has them as ``x-enum-titles`` and ``x-enum-titles-zh``, maps
    from the value as text to its label. The value itself stays what is stored and sent.
    ``deferred``: a *later* stage reads the parameter (e.g. layers to unfreeze for
    fine-tuning); it is left out of its own node's cache key, and the consumers that declare
    ``reads_deferred`` include it in theirs instead. ``json_schema_extra`` adds further schema
    keys; ``constraints`` go to ``Field`` as they are (bounds, ``default_factory``).
    """
    extra: dict[str, Any] = {"x-title-zh": title["zh"], "x-description-zh": description["zh"],
                             **(json_schema_extra or {})}
    if choices:
        extra["x-enum-titles"] = {str(v): t["en"] for v, t in choices.items()}
        extra["x-enum-titles-zh"] = {str(v): t["zh"] for v, t in choices.items()}
    if deferred:
        extra["x-deferred"] = True
    return Field(default, title=title["en"], description=description["en"], json_schema_extra=extra,
                 **constraints)


class InferError(Exception):
    """Raised by ``infer`` when the inputs do not fit: the message reaches the user."""

    def __init__(self, message: str, *, code: str = "shape_mismatch", port: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.code = code
        self.port = port
        self.param = param


class Component:
    """One node kind. Subclasses set the class attributes and implement ``infer`` and ``run``.

    ``run`` is the only method allowed to import torch.
    """

    id: ClassVar[str]
    version: ClassVar[int] = 1
    name: ClassVar[dict[str, str]]
    description: ClassVar[dict[str, str]] = {"en": "", "zh": ""}
    category: ClassVar[str]
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[Params]] = Params
    # Whether outputs are costly to make and go to the artifact store on disk.
    persist: ClassVar[bool] = False
    # Whether this component reads the deferred params of its ancestors (see ``deferred``).
    reads_deferred: ClassVar[bool] = False

    def infer(self, params: Any, inputs: dict[str, Spec]) -> dict[str, Spec]:
        raise NotImplementedError

    def run(self, ctx: Any, params: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def fingerprint(self, params: Any) -> str | None:
        """A fingerprint of external data the outputs depend on (files, folders)."""
        return None

    def path_may_be_missing(self, params: dict[str, Any], name: str) -> bool:
        """Whether path param ``name`` may name something that does not exist yet because the run
        makes it (a dataset downloaded into its folder). ``params`` are the graph's, unvalidated."""
        return False

    def missing_files(self, params: dict[str, Any]) -> list[Any]:
        """External files a run would read that no path param names (a backbone's ImageNet weights
        in a cache) and that are absent: a ``NodeError`` each, with code, param and params.

        Called on every validation (each edit), so a few stat calls at most; it never raises.
        ``params`` are the graph's, unvalidated (invalid ones are reported elsewhere)."""
        return []

    @classmethod
    def deferred_params(cls) -> set[str]:
        return {name for name, f in cls.Params.model_fields.items()
                if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("x-deferred")}

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "version": cls.version,
            "name": cls.name,
            "description": cls.description,
            "category": cls.category,
            "inputs": [p.to_json() for p in cls.inputs],
            "outputs": [p.to_json() for p in cls.outputs],
            "params_schema": cls.Params.model_json_schema(),
            "defaults": cls.Params().model_dump(mode="json"),
        }


class Registry:
    def __init__(self) -> None:
        self._by_id: dict[str, Component] = {}

    def register(self, cls: type[Component]) -> type[Component]:
        if cls.id in self._by_id:
            raise ValueError(f"component id registered twice: {cls.id}")
        self._by_id[cls.id] = cls()
        return cls

    def get(self, component_id: str) -> Component | None:
        return self._by_id.get(component_id)

    def __contains__(self, component_id: str) -> bool:
        return component_id in self._by_id

    def all(self) -> list[Component]:
        return list(self._by_id.values())
