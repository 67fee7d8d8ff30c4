"""The engine: graph model, validation with shape inference, planning, cache keys, events.

Pure Python: importing it never imports torch, SQL or web code.
"""
from .component import Component, InferError, Params, Port, Registry, deferred
from .execute import Cancelled, Context, Executor, MemoryCache, NodeError
from .graph import Edge, Graph, Group, Node
from .plan import Plan, compute_keys, make_plan
from .types import COMPATIBLE, DATASET, IMAGES, MODEL, OPTIMIZER, PORT_TYPES, TENSOR, TRAINABLE, Spec
from .validate import Issue, Validation, validate
from .values import value_type

__all__ = [
    "Component", "InferError", "Params", "Port", "Registry", "deferred", "Cancelled", "Context",
    "Executor", "MemoryCache", "NodeError", "Edge", "Graph", "Group", "Node", "Plan", "compute_keys",
    "make_plan", "COMPATIBLE", "DATASET", "IMAGES", "MODEL", "OPTIMIZER", "PORT_TYPES", "TENSOR",
    "TRAINABLE", "Spec", "Issue", "Validation", "validate", "value_type",
]
