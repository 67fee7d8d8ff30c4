"""Graph validation and edit-time shape inference.

Every issue is reported at once, each with a stable code and the node, port or param at
fault. Runs in O(nodes + edges) and never imports torch.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, JsonValue, ValidationError

from .component import Component, InferError, Registry
from .graph import Edge, Graph, Node
from .types import PORT_TYPES, Spec, compatible


class Issue(BaseModel):
    code: Literal[
        "unknown_component", "duplicate_node", "missing_node", "unknown_port",
        "missing_input", "multiple_inputs", "incompatible_types", "invalid_param",
        "cycle", "shape_mismatch", "unknown_target",
    ]
    message: str
    node: str | None = None
    port: str | None = None
    param: str | None = None
    edge: str | None = None
    params: dict[str, JsonValue] = Field(default_factory=dict, description=(
        "what the editor words the issue with: for invalid_param, pydantic's error `type` "
        "(greater_than_equal, int_parsing, missing, ...) and its context (ge, lt, expected, ...)"))


@dataclass
class Validation:
    issues: list[Issue] = field(default_factory=list)
    # node id -> output port -> spec (only for nodes whose inference succeeded)
    specs: dict[str, dict[str, Spec]] = field(default_factory=dict)
    # node id -> parsed params model (only for nodes whose params are valid)
    params: dict[str, Any] = field(default_factory=dict)
    # node id -> input port -> (source node id, source port)
    inputs: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    # topological order of the nodes that are not on a cycle
    order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def issues_by_node(self) -> dict[str, list[Issue]]:
        grouped: dict[str, list[Issue]] = {}
        for issue in self.issues:
            grouped.setdefault(issue.node or "", []).append(issue)
        return grouped

    def specs_json(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {n: {p: s.to_json() for p, s in ports.items()} for n, ports in self.specs.items()}

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "issues": [i.model_dump() for i in self.issues], "specs": self.specs_json()}


def validate(graph: Graph, registry: Registry) -> Validation:
    """Every issue of the graph, and the specs of every node whose inputs are known and fit."""
    v = Validation()
    nodes = _unique_nodes(graph, v)
    components = _components_and_params(nodes, registry, v)
    successors = _connect_edges(graph, nodes, components, v)
    v.order = _topological_order(nodes, successors)
    _report_cycles(nodes, v)
    _report_missing_inputs(components, v)
    _infer_in_order(components, v)
    return v


def _unique_nodes(graph: Graph, v: Validation) -> dict[str, Node]:
    """The nodes by id; a node that repeats an id is reported and left out."""
    nodes: dict[str, Node] = {}
    for node in graph.nodes:
        if node.id in nodes:
            v.issues.append(Issue(code="duplicate_node", node=node.id,
                                  message=f"two nodes share the id '{node.id}'"))
            continue
        nodes[node.id] = node
    return nodes


def _components_and_params(nodes: dict[str, Node], registry: Registry, v: Validation) -> dict[str, Component]:
    """Each node's component (unknown ones reported); ``v.params`` gets the params that are valid."""
    components: dict[str, Component] = {}
    for node in nodes.values():
        comp = registry.get(node.type)
        if comp is None:
            v.issues.append(Issue(code="unknown_component", node=node.id,
                                  message=f"{node.id}: unknown component '{node.type}'"))
            continue
        components[node.id] = comp
        try:
            v.params[node.id] = comp.Params.model_validate(node.params)
        except ValidationError as err:
            v.issues.extend(_param_issues(node.id, err))
    return components


def _param_issues(node_id: str, err: ValidationError) -> list[Issue]:
    out = []
    for e in err.errors():
        loc = e.get("loc") or ()
        param = str(loc[0]) if loc else None
        where = ".".join(str(p) for p in loc) or "params"
        out.append(Issue(code="invalid_param", node=node_id, param=param,
                         message=f"{node_id}: parameter '{where}': {e.get('msg')}",
                         params={"type": e.get("type", ""), **_json_context(e.get("ctx") or {})}))
    return out


def _json_context(ctx: dict[str, Any]) -> dict[str, JsonValue]:
    """Pydantic's error context as JSON: numbers and strings as they are, anything else (an
    exception in a value_error) as its text."""
    return {k: v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for k, v in ctx.items()}


def _connect_edges(graph: Graph, nodes: dict[str, Node], components: dict[str, Component],
                   v: Validation) -> dict[str, list[str]]:
    """Each node's successors. An edge between existing nodes orders them even when its ports
    are wrong (a cycle is a cycle); one whose ports fit becomes an input in ``v.inputs``."""
    successors: dict[str, list[str]] = {nid: [] for nid in nodes}
    for edge in graph.edges:
        eid = edge.id or f"{edge.source}.{edge.sourceHandle}->{edge.target}.{edge.targetHandle}"
        missing = [end for end in (edge.source, edge.target) if end not in nodes]
        for end in missing:
            v.issues.append(Issue(code="missing_node", edge=eid, node=end,
                                  message=f"edge {eid} references a node that does not exist: '{end}'"))
        if missing:
            continue
        successors[edge.source].append(edge.target)
        source, target = components.get(edge.source), components.get(edge.target)
        if source is not None and target is not None:
            _connect_ports(edge, eid, source, target, v)
    return successors


def _connect_ports(edge: Edge, eid: str, source: Component, target: Component, v: Validation) -> None:
    """The edge becomes the target's input when both ports exist, fit, and the input is free."""
    out_port = next((p for p in source.outputs if p.name == edge.sourceHandle), None)
    if out_port is None:
        v.issues.append(Issue(code="unknown_port", node=edge.source, port=edge.sourceHandle, edge=eid,
                              message=f"{edge.source}: no output port '{edge.sourceHandle}'"))
        return
    in_port = next((p for p in target.inputs if p.name == edge.targetHandle), None)
    if in_port is None:
        v.issues.append(Issue(code="unknown_port", node=edge.target, port=edge.targetHandle, edge=eid,
                              message=f"{edge.target}: no input port '{edge.targetHandle}'"))
        return
    if not compatible(out_port.type, in_port.type):
        v.issues.append(Issue(
            code="incompatible_types", node=edge.target, port=in_port.name, edge=eid,
            message=(f"{edge.target}.{in_port.name} expects {PORT_TYPES[in_port.type]['en'].lower()}, "
                     f"but {edge.source}.{out_port.name} gives {PORT_TYPES[out_port.type]['en'].lower()}")))
        return
    connected = v.inputs.setdefault(edge.target, {})
    if in_port.name in connected:
        v.issues.append(Issue(code="multiple_inputs", node=edge.target, port=in_port.name, edge=eid,
                              message=f"{edge.target}.{in_port.name} already has an input"))
        return
    connected[in_port.name] = (edge.source, out_port.name)


def _topological_order(nodes: dict[str, Node], successors: dict[str, list[str]]) -> list[str]:
    """Kahn's algorithm in graph order, so the plan is stable for a given document; the nodes
    on a cycle (and those after one) are left out."""
    indegree = dict.fromkeys(nodes, 0)
    for targets in successors.values():
        for nid in targets:
            indegree[nid] += 1
    order: list[str] = []
    queue = deque(nid for nid in nodes if indegree[nid] == 0)
    while queue:
        nid = queue.popleft()
        order.append(nid)
        for nxt in successors[nid]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                queue.append(nxt)
    return order


def _report_cycles(nodes: dict[str, Node], v: Validation) -> None:
    if len(v.order) == len(nodes):
        return
    placed = set(v.order)
    for nid in nodes:
        if nid not in placed:
            v.issues.append(Issue(code="cycle", node=nid,
                                  message=f"{nid} is on a cycle: a node cannot depend on its own output"))


def _report_missing_inputs(components: dict[str, Component], v: Validation) -> None:
    for nid, comp in components.items():
        connected = v.inputs.get(nid, {})
        for port in comp.inputs:
            if not port.optional and port.name not in connected:
                v.issues.append(Issue(code="missing_input", node=nid, port=port.name,
                                      message=f"{nid}: required input '{port.name}' is not connected"))


def _infer_in_order(components: dict[str, Component], v: Validation) -> None:
    """Each node's output specs from its input specs, upstream first; a node whose params or
    inputs are not known is skipped, and so are the nodes after it."""
    for nid in v.order:
        comp = components.get(nid)
        params = v.params.get(nid)
        if comp is None or params is None:
            continue
        in_specs = _input_specs(nid, comp, v)
        if in_specs is None:
            continue
        try:
            v.specs[nid] = comp.infer(params, in_specs)
        except InferError as err:
            v.issues.append(Issue(code=err.code, node=nid, port=err.port, param=err.param,
                                  message=f"{nid}: {err}"))


def _input_specs(nid: str, comp: Component, v: Validation) -> dict[str, Spec] | None:
    """The specs arriving at the node's connected inputs; None while a required input is not
    connected or an upstream spec is unknown."""
    connected = v.inputs.get(nid, {})
    in_specs: dict[str, Spec] = {}
    for port in comp.inputs:
        source = connected.get(port.name)
        if source is None:
            if not port.optional:
                return None
            continue
        spec = v.specs.get(source[0], {}).get(source[1])
        if spec is None:
            return None
        in_specs[port.name] = spec
    return in_specs
