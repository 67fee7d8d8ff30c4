"""The one contract from worker to browser, checked: events are built only as the engine's models,
and the editor's event and API types have no `any`."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVENT_TYPE = re.compile(r"^(run|node)\.[a-z]+$")
# the event and API types of the editor: generated from the OpenAPI schema, or aliases of it
TYPED_FILES = ["frontend/src/api/schema.d.ts", "frontend/src/types.ts", "frontend/src/api.ts",
               "frontend/src/lib/runstate.ts", "frontend/src/lib/queries.ts", "frontend/src/lib/socket.ts"]


def _hand_built_events(path: Path) -> list[str]:
    """Dict literals shaped like an event ({"type": "run.…" / "node.…", ...}) in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant)
                        and isinstance(value.value, str) and EVENT_TYPE.match(value.value)):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {value.value}")
    return found


def test_no_event_is_built_as_a_dict_outside_the_engine_models():
    files = [p for folder in ("backend", "components", "bench") for p in (REPO / folder).rglob("*.py")]
    assert files
    found = [hit for p in files for hit in _hand_built_events(p)]
    assert found == [], "build events with backend.engine.events models:\n" + "\n".join(found)


def test_the_checker_finds_a_hand_built_event(tmp_path):
    sample = REPO / "bench" / "_contract_probe.py"
    sample.write_text('EVENT = {"type": "node.finished", "node": "x"}\n')
    try:
        assert _hand_built_events(sample) == ["bench/_contract_probe.py:1: node.finished"]
    finally:
        sample.unlink()


def _code_without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def test_no_any_in_the_event_and_api_types():
    offenders = []
    for name in TYPED_FILES:
        code = _code_without_comments((REPO / name).read_text())
        for lineno, line in enumerate(code.splitlines(), 1):
            if re.search(r"(:\s*any\b|\bany\[\]|<any>|\bas any\b|\bany\s*[|&;,)>])", line):
                offenders.append(f"{name}:{lineno}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)
