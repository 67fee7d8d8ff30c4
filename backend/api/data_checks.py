"""Data warnings on a graph: what the dataset step's check found, said while editing.

The dataset step hashes every image as it checks it and reports copies across splits, class
balance and unreadable files (``DataCheck``, in its stored summary). Validation reads that
report for each dataset node whose result is in the cache (the check is as fresh as the cache
key, which covers the files) and turns it into warnings with stable codes; they never make a
graph invalid.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from backend.engine.summaries import DataCheck, DatasetSummary

WarningCode = Literal["data_leak", "label_conflict", "class_imbalance", "images_unreadable", "duplicates_removed"]


class DataWarning(BaseModel):
    code: WarningCode
    node: str
    message: str
    params: dict[str, JsonValue] = Field(default_factory=dict, description="what the editor words it with")


def _pairs(check: DataCheck, limit: int = 3) -> str:
    return "; ".join(" = ".join(f"{s}/{f}" for s, f in zip(g.splits, g.files)) for g in check.leaks[:limit])


def warnings_for(node: str, check: DataCheck) -> list[DataWarning]:
    out: list[DataWarning] = []
    if check.leak_groups:
        out.append(DataWarning(
            code="data_leak", node=node,
            message=f"{check.leaked_files} validation/test image(s) have a copy in another split "
                    f"({check.leak_groups} group(s) of copies), e.g. {_pairs(check)}: their scores are too "
                    f"optimistic; turn on 'remove duplicates' to drop copies before splitting",
            params={"files": check.leaked_files, "groups": check.leak_groups, "examples": _pairs(check),
                    "exact": sum(g.kind == "exact" for g in check.leaks),
                    "near": sum(g.kind == "near" for g in check.leaks)}))
    if check.label_conflicts:
        out.append(DataWarning(code="label_conflict", node=node,
                               message=f"{check.label_conflicts} group(s) of copies carry different classes",
                               params={"groups": check.label_conflicts}))
    for split in check.unbalanced:
        counts = check.counts.get(split, {})
        text = ", ".join(f"{c} {n}" for c, n in counts.items())
        out.append(DataWarning(code="class_imbalance", node=node,
                               message=f"the {split} split is unbalanced: {text}",
                               params={"split": split, "counts": text}))
    if check.skipped_count:
        out.append(DataWarning(code="images_unreadable", node=node,
                               message=f"{check.skipped_count} file(s) could not be decoded and were skipped, "
                                       f"the first: {check.skipped[0]}",
                               params={"count": check.skipped_count, "first": check.skipped[0]}))
    if check.removed:
        out.append(DataWarning(code="duplicates_removed", node=node,
                               message=f"{len(check.removed)} copies were left out before splitting",
                               params={"count": len(check.removed)}))
    return out


def stored_check(results, key: str) -> DataCheck | None:
    """The data check kept with the dataset result under ``key`` (None: not cached, or none)."""
    summary = results.summary(key)
    dataset = (summary or {}).get("dataset")
    return dataset.check if isinstance(dataset, DatasetSummary) else None


def data_warnings(results, keys: dict[str, str], cached: dict[str, bool], types: dict[str, str]) -> list[DataWarning]:
    """Warnings for each cached dataset node (``types``: node id -> component id)."""
    out: list[DataWarning] = []
    for node, key in keys.items():
        if cached.get(node) and types.get(node, "").startswith("data.") and not types[node].endswith("ImageFormat"):
            check = stored_check(results, key)
            if check is not None:
                out.extend(warnings_for(node, check))
    return out
