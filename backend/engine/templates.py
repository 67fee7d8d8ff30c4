"""Graph templates: JSON documents in templates/, listed by file name."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@lru_cache
def list_templates(directory: Path = TEMPLATES_DIR) -> list[dict[str, Any]]:
    out = []
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = doc.get("name") or path.stem
        out.append({"id": path.stem, "name": name if isinstance(name, dict) else {"en": name, "zh": name},
                    "description": doc.get("description", {}), "graph": doc})
    return out


def find_template(ref: str) -> dict[str, Any] | None:
    for t in list_templates():
        if ref in (t["id"], t["name"].get("zh"), t["name"].get("en")):
            return json.loads(json.dumps(t))  # a copy: callers may edit it
    return None
