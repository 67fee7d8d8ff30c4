"""The catalog, validation and graph answers are typed models that send the JSON they sent as
plain dicts, and publish a schema the editor's generated types can read without casts."""
from __future__ import annotations

import copy

from backend.engine import Graph

from .helpers import template_graph


def test_the_catalog_sends_what_describe_says(shared_client):
    import components

    body = shared_client.get("/api/components").json()
    assert body["components"] == [c.describe() for c in components.registry.all()]


def test_port_specs_leave_out_what_is_not_known(shared_client, graph):
    specs = shared_client.post("/api/validate", json={"graph": graph}).json()["specs"]
    ports = [spec for node in specs.values() for spec in node.values()]
    assert all(None not in spec.values() for spec in ports)
    assert any("shape" not in spec for spec in ports)            # a dataset has no shape
    flatten = specs["flatten"]["output"]
    assert set(flatten) >= {"type", "shape", "label"} and flatten["label"] == "3072"


def test_issues_keep_every_key(shared_client, graph):
    graph["edges"].append({"source": "nope", "sourceHandle": "x", "target": "flatten", "targetHandle": "input"})
    issues = shared_client.post("/api/validate", json={"graph": graph}).json()["issues"]
    assert issues and all(set(i) == {"code", "message", "node", "port", "param", "edge", "params"} for i in issues)


def test_graphs_come_back_as_saved_and_edges_without_an_id_stay_so(shared_client, graph):
    unnamed = copy.deepcopy(graph)
    for edge in unnamed["edges"]:
        edge.pop("id", None)
    created = shared_client.post("/api/projects", json={"name": "unnamed edges", "graph": unnamed}).json()
    saved = Graph.model_validate(unnamed).model_dump(mode="json")
    assert created["graph"] == saved and all(e["id"] is None for e in created["graph"]["edges"])
    assert shared_client.get(f"/api/projects/{created['id']}").json()["graph"] == saved
    assert shared_client.get(f"/api/projects/{created['id']}/versions/1").json()["graph"] == saved


def test_a_template_graph_is_the_file_with_the_defaults_filled_in(shared_client):
    sent = shared_client.get("/api/templates/model_optimization_finetuning_offline").json()["graph"]
    assert sent == Graph.model_validate(template_graph()).model_dump(mode="json")


def test_the_schema_says_what_a_received_graph_always_carries(shared_client):
    schemas = shared_client.get("/openapi.json").json()["components"]["schemas"]
    required = {name: set(schemas[name]["required"]) for name in
                ("GraphDocument", "NodeDocument", "EdgeDocument", "GroupDocument")}
    assert required["GraphDocument"] == {"name", "nodes", "edges", "groups"}
    assert required["NodeDocument"] == {"id", "type", "params", "position", "group", "label"}
    assert "id" in required["EdgeDocument"] and "position" in required["GroupDocument"]
    # what a client sends stays optional
    assert set(schemas["Graph"].get("required", [])) == set()
    assert schemas["ValidationOut"]["properties"]["issues"]["items"] == {"$ref": "#/components/schemas/Issue"}
