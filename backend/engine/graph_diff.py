"""What changed between two saved graphs, as typed items the editor words in the person's language.

``diff(old, new)`` is pure: it reads two graph documents as JSON (what the store keeps, possibly
incomplete: a missing key is an empty value) and lists nodes added and removed, renamed nodes,
changed parameters (old -> new, a missing parameter read as its component's default when
``defaults`` knows it), nodes moved into or out of groups, wires added and removed, groups added,
removed and renamed, and how many nodes and groups only moved. Nodes are matched by id, wires
by their two ends (editors may rename a wire's id), groups by id.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from .events import ALWAYS_SENT

Defaults = Callable[[str], Mapping[str, Any]]
MAX_CHANGES = 200  # past this many items, one ``more`` item counts the rest


class NodeRef(BaseModel):
    """A node as a change names it: the editor shows its label, else its component's name."""

    model_config = ALWAYS_SENT

    id: str
    type: str = Field(description="component id, e.g. layers.Dense (empty when the graph had none)")
    label: str | None = Field(None, description="the node's own label, when it has one")


class GroupRef(BaseModel):
    model_config = ALWAYS_SENT

    id: str
    label: dict[str, str] = Field(default_factory=dict, description="the group's name in en and zh")


class _Change(BaseModel):
    model_config = ConfigDict(**ALWAYS_SENT, extra="ignore")


class Created(_Change):
    """The project's first version."""

    kind: Literal["created"] = "created"
    nodes: int = Field(0, description="how many nodes it started with")


class Restored(_Change):
    """The version restores an earlier one (the other items say what that changed)."""

    kind: Literal["restored"] = "restored"
    version: int = Field(description="the version it restores")


class NodeAdded(_Change):
    kind: Literal["node_added"] = "node_added"
    node: NodeRef


class NodeRemoved(_Change):
    kind: Literal["node_removed"] = "node_removed"
    node: NodeRef


class NodeRenamed(_Change):
    kind: Literal["node_renamed"] = "node_renamed"
    node: NodeRef
    old: str | None = Field(description="the former label (null: the component's name)")
    new: str | None = Field(description="the new label (null: the component's name)")


class ParamChanged(_Change):
    kind: Literal["param_changed"] = "param_changed"
    node: NodeRef
    param: str
    old: JsonValue = Field(description="the former value (a missing one read as the default)")
    new: JsonValue = Field(description="the new value (a missing one read as the default)")


class NodeRegrouped(_Change):
    """A node moved into a group, out of one, or from one to another."""

    kind: Literal["node_regrouped"] = "node_regrouped"
    node: NodeRef
    old: GroupRef | None = Field(description="the group it was in (null: none)")
    new: GroupRef | None = Field(description="the group it is in now (null: none)")


class EdgeAdded(_Change):
    kind: Literal["edge_added"] = "edge_added"
    source: NodeRef
    source_port: str
    target: NodeRef
    target_port: str


class EdgeRemoved(_Change):
    kind: Literal["edge_removed"] = "edge_removed"
    source: NodeRef
    source_port: str
    target: NodeRef
    target_port: str


class GroupAdded(_Change):
    kind: Literal["group_added"] = "group_added"
    group: GroupRef


class GroupRemoved(_Change):
    kind: Literal["group_removed"] = "group_removed"
    group: GroupRef


class GroupRenamed(_Change):
    kind: Literal["group_renamed"] = "group_renamed"
    group: GroupRef
    old: dict[str, str] = Field(description="the former name in en and zh")


class LayoutChanged(_Change):
    """Nodes or groups that only moved (or groups that were resized)."""

    kind: Literal["layout"] = "layout"
    nodes: int = 0
    groups: int = 0


class MoreChanges(_Change):
    kind: Literal["more"] = "more"
    count: int = Field(description="how many further changes are not listed")


VersionChange = Annotated[
    Union[Created, Restored, NodeAdded, NodeRemoved, NodeRenamed, ParamChanged, NodeRegrouped, EdgeAdded,
          EdgeRemoved, GroupAdded, GroupRemoved, GroupRenamed, LayoutChanged, MoreChanges],
    Field(discriminator="kind"),
]
CHANGES = TypeAdapter(list[VersionChange])


# -- reading graph JSON leniently ------------------------------------------------------------
def _items(graph: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    value = graph.get(key) if isinstance(graph, Mapping) else None
    return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list) else []


def _by_id(items: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item.get("id"), str) and item["id"] not in out:
            out[item["id"]] = item
    return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ref(node: Mapping[str, Any] | None, node_id: str) -> NodeRef:
    if node is None:
        return NodeRef(id=node_id, type="")
    return NodeRef(id=node_id, type=_text(node.get("type")) or "", label=_text(node.get("label")))


def _group_ref(group: Mapping[str, Any] | None, group_id: str) -> GroupRef:
    label = group.get("label") if group is not None else None
    return GroupRef(id=group_id, label=_label(label))


def _label(label: Any) -> dict[str, str]:
    if isinstance(label, str):
        return {"en": label, "zh": label}
    if isinstance(label, Mapping):
        return {k: v for k, v in label.items() if isinstance(k, str) and isinstance(v, str)}
    return {}


def _position(item: Mapping[str, Any]) -> tuple[Any, Any]:
    pos = item.get("position")
    return (pos.get("x"), pos.get("y")) if isinstance(pos, Mapping) else (None, None)


def _params(node: Mapping[str, Any]) -> Mapping[str, Any]:
    params = node.get("params")
    return params if isinstance(params, Mapping) else {}


def _edge_key(edge: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    key = tuple(edge.get(k) for k in ("source", "sourceHandle", "target", "targetHandle"))
    return key if all(isinstance(k, str) for k in key) else None  # type: ignore[return-value]


_MISSING = object()


def _param_changes(old: Mapping[str, Any], new: Mapping[str, Any], ref: NodeRef,
                   defaults: Defaults | None) -> list[ParamChanged]:
    old_params, new_params = _params(old), _params(new)
    known: Mapping[str, Any] = {}
    if defaults is not None and ref.type:
        try:
            known = defaults(ref.type) or {}
        except Exception:  # an unknown or broken component: compare what the graphs hold
            known = {}
    changes = []
    names = list(dict.fromkeys([*old_params, *new_params]))
    for name in names:
        before = old_params.get(name, known.get(name, _MISSING))
        after = new_params.get(name, known.get(name, _MISSING))
        if before is _MISSING and after is _MISSING or before == after and type(before) is type(after) \
                or _same_number(before, after):
            continue
        changes.append(ParamChanged(node=ref, param=name, old=None if before is _MISSING else before,
                                    new=None if after is _MISSING else after))
    return changes


def _same_number(a: Any, b: Any) -> bool:
    """1 and 1.0 are the same value (JSON does not tell them apart); True and 1 are not."""
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)


# -- the diff ------------------------------------------------------------------------------------
def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, defaults: Defaults | None = None,
         limit: int = MAX_CHANGES) -> list[VersionChange]:
    """The changes from ``old`` to ``new`` (``old`` None: ``new`` is a project's first version)."""
    if old is None:
        return [Created(nodes=len(_by_id(_items(new, "nodes"))))]
    old_nodes, new_nodes = _by_id(_items(old, "nodes")), _by_id(_items(new, "nodes"))
    old_groups, new_groups = _by_id(_items(old, "groups")), _by_id(_items(new, "groups"))
    changes: list[Any] = []

    # A node whose component changed is another node under the same id: removed, then added.
    def same_node(node_id: str) -> bool:
        return node_id in old_nodes and node_id in new_nodes and \
            old_nodes[node_id].get("type") == new_nodes[node_id].get("type")

    for node_id, node in old_nodes.items():
        if not same_node(node_id):
            changes.append(NodeRemoved(node=_ref(node, node_id)))
    for node_id, node in new_nodes.items():
        if not same_node(node_id):
            changes.append(NodeAdded(node=_ref(node, node_id)))

    moved_nodes = 0
    for node_id, node in new_nodes.items():
        if not same_node(node_id):
            continue
        before = old_nodes[node_id]
        ref = _ref(node, node_id)
        if _text(before.get("label")) != ref.label:
            changes.append(NodeRenamed(node=ref, old=_text(before.get("label")), new=ref.label))
        changes.extend(_param_changes(before, node, ref, defaults))
        old_group, new_group = _text(before.get("group")), _text(node.get("group"))
        if old_group != new_group:
            changes.append(NodeRegrouped(
                node=ref, old=old_group and _group_ref(old_groups.get(old_group) or new_groups.get(old_group), old_group),
                new=new_group and _group_ref(new_groups.get(new_group) or old_groups.get(new_group), new_group)))
        if _position(before) != _position(node):
            moved_nodes += 1

    def endpoint(node_id: str, first: dict, second: dict) -> NodeRef:
        return _ref(first.get(node_id) or second.get(node_id), node_id)

    old_edges = {k: e for e in _items(old, "edges") if (k := _edge_key(e)) is not None}
    new_edges = {k: e for e in _items(new, "edges") if (k := _edge_key(e)) is not None}
    for (src, src_port, dst, dst_port) in old_edges:
        if (src, src_port, dst, dst_port) not in new_edges:
            changes.append(EdgeRemoved(source=endpoint(src, old_nodes, new_nodes), source_port=src_port,
                                       target=endpoint(dst, old_nodes, new_nodes), target_port=dst_port))
    for (src, src_port, dst, dst_port) in new_edges:
        if (src, src_port, dst, dst_port) not in old_edges:
            changes.append(EdgeAdded(source=endpoint(src, new_nodes, old_nodes), source_port=src_port,
                                     target=endpoint(dst, new_nodes, old_nodes), target_port=dst_port))

    moved_groups = 0
    for group_id, group in old_groups.items():
        if group_id not in new_groups:
            changes.append(GroupRemoved(group=_group_ref(group, group_id)))
    for group_id, group in new_groups.items():
        if group_id not in old_groups:
            changes.append(GroupAdded(group=_group_ref(group, group_id)))
    for group_id, group in new_groups.items():
        if group_id not in old_groups:
            continue
        before = old_groups[group_id]
        if _label(before.get("label")) != _label(group.get("label")):
            changes.append(GroupRenamed(group=_group_ref(group, group_id), old=_label(before.get("label"))))
        if _position(before) != _position(group) or \
                (before.get("width"), before.get("height")) != (group.get("width"), group.get("height")):
            moved_groups += 1
    if moved_nodes or moved_groups:
        changes.append(LayoutChanged(nodes=moved_nodes, groups=moved_groups))

    if len(changes) > limit:
        changes = [*changes[: limit - 1], MoreChanges(count=len(changes) - (limit - 1))]
    return changes


def changes_json(changes: list[VersionChange]) -> list[dict[str, Any]]:
    return CHANGES.dump_python(changes, mode="json")


def registry_defaults(registry: Any) -> Defaults:
    """Each component's parameter defaults (``Params()``), computed once per component id."""
    cache: dict[str, Mapping[str, Any]] = {}

    def defaults(component_id: str) -> Mapping[str, Any]:
        if component_id not in cache:
            component = registry.get(component_id)
            try:
                cache[component_id] = component.Params().model_dump(mode="json") if component else {}
            except Exception:  # a parameter without a default
                cache[component_id] = {}
        return cache[component_id]

    return defaults
