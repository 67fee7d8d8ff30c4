"""Port values that can be stored: dataclasses registered here encode to plain containers.

Encoded values hold only dicts, lists, strings, numbers, None and tensors, so stored
results load with ``torch.load(weights_only=True)`` and no pickled code ever runs.
"""
from __future__ import annotations

import dataclasses
from typing import Any

_TYPES: dict[str, type] = {}
_TAG = "__value__"


def value_type(cls: type) -> type:
    """Class decorator: register a dataclass as a storable port value."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    _TYPES[name] = cls
    cls.__value_name__ = name
    return cls


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = getattr(type(value), "__value_name__", None)
        if name is None:
            raise TypeError(f"{type(value).__name__} is not a registered value type")
        out = {_TAG: name}
        # a type may store less than all its fields (__stored__), e.g. weights kept in a file
        stored = getattr(value, "__stored__", None)
        fields = stored() if callable(stored) else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        for key, field_value in fields.items():
            out[key] = encode(field_value)
        return out
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {"__tuple__": [encode(v) for v in value]} if isinstance(value, tuple) else [encode(v) for v in value]
    return value


def requirements(value: Any) -> list[str]:
    """Files a stored value needs besides its own (``__requires__`` of the values inside)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        need = getattr(value, "__requires__", None)
        return list(need()) if callable(need) else []
    if isinstance(value, dict):
        return [p for v in value.values() for p in requirements(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in requirements(v)]
    return []


def decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if _TAG in obj:
            cls = _TYPES.get(obj[_TAG])
            if cls is None:
                raise TypeError(f"stored value of unknown type {obj[_TAG]}")
            kwargs = {k: decode(v) for k, v in obj.items() if k != _TAG}
            restore = getattr(cls, "__restore__", None)  # the counterpart of __stored__
            return restore(kwargs) if callable(restore) else cls(**kwargs)
        if set(obj) == {"__tuple__"}:
            return tuple(decode(v) for v in obj["__tuple__"])
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj
