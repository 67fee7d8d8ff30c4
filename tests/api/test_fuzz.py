"""Property-based fuzzing of the whole HTTP API from its OpenAPI schema (schemathesis):
no request, however malformed, may get a 5xx.

Uses schemathesis' Python API (its pytest plugin does not load under pytest 9): one
Hypothesis test per operation, in positive (schema-valid) and negative (schema-breaking)
modes, against the real app on a real SQLite file.
"""
from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from .conftest import make_settings
from .helpers import tiny_graph

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_openapi_fuzzing_finds_no_server_errors(tmp_path, data_root):
    from backend.api.app import create_app

    app = create_app(make_settings(tmp_path / "home", data_root), start_worker=False)
    with TestClient(app) as c:  # something for the fuzzer to find: a project, a run, its events
        pid = c.post("/api/projects", json={"name": "seed", "graph": tiny_graph("cv")}).json()["id"]
        c.post(f"/api/projects/{pid}/runs", json={"targets": ["train"]})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case):
                case.call_and_validate(checks=CHECKS)

            try:
                fuzz()
            except Unsatisfiable:  # nothing to break: the operation takes no parameters
                continue
            except BaseException as err:  # collect, so one run reports every broken operation
                failures.append(f"{operation.label} [{mode.value}]: {err}")
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)


def test_every_json_body_refuses_deep_nesting(tmp_path, data_root):
    """What Hypothesis never draws: JSON nested past the limit gets a typed 400, never a 5xx."""
    from backend.api.app import create_app

    settings = make_settings(tmp_path / "home", data_root)
    app = create_app(settings, start_worker=False)
    too_deep = "[" * (settings.max_json_depth + 1) + "]" * (settings.max_json_depth + 1)
    with TestClient(app) as c:
        pid = c.post("/api/projects", json={"name": "seed"}).json()["id"]
        operations = [(method, path.replace("{project_id}", str(pid)).replace("{run_id}", "0abc"))
                      for path, item in app.openapi()["paths"].items() for method, op in item.items()
                      if "application/json" in op.get("requestBody", {}).get("content", {})]
        assert len(operations) >= 5
        for method, path in operations:
            r = c.request(method, path, content=f'{{"graph": {{"x": {too_deep}}}, "name": {too_deep}}}',
                          headers={"Content-Type": "application/json"})
            assert r.status_code == 400, (method, path, r.text)
            assert r.json()["error"]["code"] == "json_too_deep", (method, path)


def test_json_bodies_sent_chunked_get_the_same_typed_answers(tmp_path, data_root):
    """Schemathesis' bodies again, over a real socket without Content-Length (chunked), as a
    client streaming its upload sends them: never a 5xx, every 4xx typed, and the same status
    as the same body sent with a Content-Length (for requests whose answer does not depend on
    what an earlier one created)."""
    import json

    import httpx

    from backend.api.app import create_app

    from .helpers import LiveServer

    app = create_app(make_settings(tmp_path / "home", data_root), start_worker=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [op for op in (r.ok() for r in schema.get_all_operations())
                  if op.body and any(b.media_type == "application/json" for b in op.body)]
    assert len(operations) >= 5
    failures: list[str] = []
    sent: list[int] = []
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
                def fuzz(case):
                    kw = case.as_transport_kwargs(base_url=server.url)
                    if "json" not in kw:
                        return
                    body = json.dumps(kw["json"]).encode()
                    request = {"method": kw["method"], "url": kw["url"], "params": kw.get("params"),
                               "headers": {"Content-Type": "application/json"}}
                    chunked = http.request(**request, content=iter([body[:7], body[7:]]))
                    sent.append(chunked.status_code)
                    assert chunked.status_code < 500, (case.method, case.formatted_path, chunked.text)
                    if chunked.status_code >= 400:
                        assert set(chunked.json()["error"]) >= {"code", "message"}, chunked.text
                    if kw["method"] in ("POST",) and case.path.endswith("/validate"):
                        whole = http.request(**request, content=body)
                        assert whole.status_code == chunked.status_code, (whole.text, chunked.text)

                try:
                    fuzz()
                except Unsatisfiable:
                    continue
                except BaseException as err:
                    failures.append(f"{operation.label} [{mode.value}]: {err}")
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
    assert len(sent) >= 30 and any(code < 300 for code in sent) and any(code >= 400 for code in sent), sent
