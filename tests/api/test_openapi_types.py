"""The editor's API types are generated from the server's OpenAPI document and checked in
(frontend/src/api/openapi.json and schema.d.ts): regenerating them must change nothing."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backend.api.openapi_dump import openapi_text

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
CHECKED_IN = FRONTEND / "src" / "api"
GENERATOR = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
STALE = "is stale: run `npm run gen:api` in frontend/ and check the result in"


def test_the_dump_is_deterministic():
    assert openapi_text() == openapi_text()


@pytest.mark.skipif(not GENERATOR.exists(), reason="frontend/node_modules is missing (npm ci in frontend/)")
def test_checked_in_schema_and_types_match_the_server(tmp_path):
    schema = tmp_path / "openapi.json"
    schema.write_text(openapi_text(), encoding="utf-8")
    types = tmp_path / "schema.d.ts"
    subprocess.run([str(GENERATOR), str(schema), "-o", str(types)], cwd=FRONTEND, check=True,
                   capture_output=True, text=True)

    assert (CHECKED_IN / "openapi.json").read_text(encoding="utf-8") == schema.read_text(encoding="utf-8"), \
        f"frontend/src/api/openapi.json {STALE}"
    assert (CHECKED_IN / "schema.d.ts").read_text(encoding="utf-8") == types.read_text(encoding="utf-8"), \
        f"frontend/src/api/schema.d.ts {STALE}"
