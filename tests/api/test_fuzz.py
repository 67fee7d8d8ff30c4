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
