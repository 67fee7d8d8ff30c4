"""The graph document as the API sends it: the engine's graph models, unchanged, whose output
JSON schema says what every answer carries (``nodes``, ``position``, an edge's ``id`` even
when null). The engine's own models leave fields with defaults optional in the schema, which
is right for what a client sends, so the editor's generated type for a received graph needs
these twins. Validation and the JSON itself are the engine's.
"""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from .events import ALWAYS_SENT
from .graph import Edge, Graph, Group, Node, Position


def _extra_keys_unsaid(schema: dict[str, Any]) -> None:
    """JSON Schema allows extra keys unless it says otherwise, so ``additionalProperties: true``
    adds nothing; left out, the generated TypeScript has no index signature, under which
    ``Omit``/``Pick`` would turn every field into ``unknown``. The extra keys still travel."""
    schema.pop("additionalProperties", None)


SENT_AS_IS = ConfigDict(**ALWAYS_SENT, json_schema_extra=_extra_keys_unsaid)


class PositionDocument(Position):
    model_config = SENT_AS_IS


class NodeDocument(Node):
    model_config = SENT_AS_IS

    position: PositionDocument = Field(default_factory=PositionDocument)


class EdgeDocument(Edge):
    model_config = SENT_AS_IS


class GroupDocument(Group):
    model_config = SENT_AS_IS

    position: PositionDocument = Field(default_factory=PositionDocument)


class GraphDocument(Graph):
    model_config = SENT_AS_IS

    nodes: list[NodeDocument] = Field(default_factory=list)
    edges: list[EdgeDocument] = Field(default_factory=list)
    groups: list[GroupDocument] = Field(default_factory=list)
