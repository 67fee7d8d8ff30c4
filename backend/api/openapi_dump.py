"""Write the studio's OpenAPI document to a file: the source of the editor's generated types.

    python -m backend.api.openapi_dump frontend/src/api/openapi.json

The app is built in a throwaway home (its own empty database, no worker), so dumping never
touches var/. Keys are sorted and the text indented, so the same code always gives the same
bytes and a stale checked-in copy shows up as a diff.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def openapi_document() -> dict[str, Any]:
    from backend.api.app import create_app
    from backend.settings import Settings

    with tempfile.TemporaryDirectory(prefix="abacus-openapi-") as home:
        settings = Settings(home=Path(home), frontend_dir=Path(home) / "no-frontend")
        app = create_app(settings, start_worker=False)
        try:
            return app.openapi()
        finally:
            app.state.services.db.dispose()


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m backend.api.openapi_dump OUT.json", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
