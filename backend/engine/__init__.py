"""The engine: graph model, validation with shape inference, planning, cache keys, events.

Pure Python: importing it never imports torch, SQL or web code.
"""
from .component import Component, InferError, ParamField, Params, Port, Registry
from .execute import Cancelled, Context, Executor, MemoryCache, NodeError
from .graph import Edge, Graph, Group, Node
from .plan import Plan, compute_keys, make_plan
from .settings import RunSettings
from .types import COMPATIBLE, DATASET, IMAGES, MODEL, OPTIMIZER, PORT_TYPES, REPORT, TENSOR, TRAINABLE, Spec
from .validate import Issue, Validation, validate
from .values import value_type

__all__ = [
    "Component", "InferError", "ParamField", "Params", "Port", "Registry", "Cancelled", "Context",
    "Executor", "MemoryCache", "NodeError", "Edge", "Graph", "Group", "Node", "Plan", "compute_keys",
    "make_plan", "RunSettings", "COMPATIBLE", "DATASET", "IMAGES", "MODEL", "OPTIMIZER", "PORT_TYPES", "REPORT", "TENSOR",
    "TRAINABLE", "Spec", "Issue", "Validation", "validate", "value_type",
]
