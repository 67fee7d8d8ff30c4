"""Graph validation and edit-time shape inference.

Every issue is reported at once, each with a stable code and the node, port or param at
fault. Runs in O(nodes + edges) and never imports torch.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .component import InferError, Registry
from .graph import Graph
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

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "issues": [i.model_dump() for i in self.issues],
            "specs": {n: {p: s.to_json() for p, s in ports.items()} for n, ports in self.specs.items()},
        }


def _param_issues(node_id: str, err: ValidationError) -> list[Issue]:
    out = []
    for e in err.errors():
        loc = e.get("loc") or ()
        param = str(loc[0]) if loc else None
        where = ".".join(str(p) for p in loc) or "params"
        out.append(Issue(code="invalid_param", node=node_id, param=param,
                         message=f"{node_id}: parameter '{where}': {e.get('msg')}"))
    return out


def validate(graph: Graph, registry: Registry) -> Validation:
    v = Validation()
    nodes = {}
    for node in graph.nodes:
        if node.id in nodes:
            v.issues.append(Issue(code="duplicate_node", node=node.id,
                                  message=f"two nodes share the id '{node.id}'"))
            continue
        nodes[node.id] = node

    components = {}
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

    succ: dict[str, list[str]] = {nid: [] for nid in nodes}
    indeg: dict[str, int] = {nid: 0 for nid in nodes}
    for edge in graph.edges:
        eid = edge.id or f"{edge.source}.{edge.sourceHandle}->{edge.target}.{edge.targetHandle}"
        missing = [end for end in (edge.source, edge.target) if end not in nodes]
        if missing:
            for end in missing:
                v.issues.append(Issue(code="missing_node", edge=eid, node=end,
                                      message=f"edge {eid} references a node that does not exist: '{end}'"))
            continue
        src_comp, dst_comp = components.get(edge.source), components.get(edge.target)
        succ[edge.source].append(edge.target)
        indeg[edge.target] += 1
        if src_comp is None or dst_comp is None:
            continue
        out_port = next((p for p in src_comp.outputs if p.name == edge.sourceHandle), None)
        in_port = next((p for p in dst_comp.inputs if p.name == edge.targetHandle), None)
        if out_port is None:
            v.issues.append(Issue(code="unknown_port", node=edge.source, port=edge.sourceHandle, edge=eid,
                                  message=f"{edge.source}: no output port '{edge.sourceHandle}'"))
            continue
        if in_port is None:
            v.issues.append(Issue(code="unknown_port", node=edge.target, port=edge.targetHandle, edge=eid,
                                  message=f"{edge.target}: no input port '{edge.targetHandle}'"))
            continue
        if not compatible(out_port.type, in_port.type):
            v.issues.append(Issue(
                code="incompatible_types", node=edge.target, port=in_port.name, edge=eid,
                message=(f"{edge.target}.{in_port.name} expects {PORT_TYPES[in_port.type]['en'].lower()}, "
                         f"but {edge.source}.{out_port.name} gives {PORT_TYPES[out_port.type]['en'].lower()}")))
            continue
        ports = v.inputs.setdefault(edge.target, {})
        if in_port.name in ports:
            v.issues.append(Issue(code="multiple_inputs", node=edge.target, port=in_port.name, edge=eid,
                                  message=f"{edge.target}.{in_port.name} already has an input"))
            continue
        ports[in_port.name] = (edge.source, out_port.name)

    # Kahn's algorithm in graph order, so the plan is stable for a given document.
    queue = deque(nid for nid in nodes if indeg[nid] == 0)
    while queue:
        nid = queue.popleft()
        v.order.append(nid)
        for nxt in succ[nid]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                queue.append(nxt)
    if len(v.order) < len(nodes):
        placed = set(v.order)
        for nid in nodes:
            if nid not in placed:
                v.issues.append(Issue(code="cycle", node=nid,
                                      message=f"{nid} is on a cycle: a node cannot depend on its own output"))

    for nid, comp in components.items():
        connected = v.inputs.get(nid, {})
        for port in comp.inputs:
            if not port.optional and port.name not in connected:
                v.issues.append(Issue(code="missing_input", node=nid, port=port.name,
                                      message=f"{nid}: required input '{port.name}' is not connected"))

    for nid in v.order:
        comp = components.get(nid)
        params = v.params.get(nid)
        if comp is None or params is None:
            continue
        in_specs: dict[str, Spec] = {}
        ready = True
        for port in comp.inputs:
            src = v.inputs.get(nid, {}).get(port.name)
            if src is None:
                ready = ready and port.optional
                continue
            spec = v.specs.get(src[0], {}).get(src[1])
            if spec is None:
                ready = False
                break
            in_specs[port.name] = spec
        if not ready:
            continue
        try:
            v.specs[nid] = comp.infer(params, in_specs)
        except InferError as err:
            v.issues.append(Issue(code=err.code, node=nid, port=err.port, param=err.param,
                                  message=f"{nid}: {err}"))
    return v
