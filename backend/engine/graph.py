"""The graph document: nodes, edges and labelled groups, in React Flow's vocabulary."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Position(BaseModel):
    x: float = 0.0
    y: float = 0.0


class Node(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200, description="component id, e.g. layers.Dense")
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)
    group: str | None = None
    label: str | None = None


class Edge(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    source: str
    sourceHandle: str
    target: str
    targetHandle: str


class Group(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    label: dict[str, str]
    position: Position = Field(default_factory=Position)
    width: float = 400.0
    height: float = 300.0


class Graph(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | dict[str, str] | None = None
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)

    def node(self, node_id: str) -> Node | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self.node(node_id)
        if node is None:
            raise KeyError(f"no node with id '{node_id}'")
        node.params[name] = value
