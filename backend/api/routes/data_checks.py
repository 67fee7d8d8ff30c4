"""A dataset's check: the report and thumbnails of the copies it names."""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from backend.engine.summaries import DataCheck
from backend.runs.paths import resolve_path

from ..data_checks import stored_check
from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody
from ..samples import thumbnail

router = APIRouter(tags=["data"], responses=COMMON_ERRORS)
Key = Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$", description="the dataset node's cache key")]


def _require(services, key: str) -> DataCheck:
    check = stored_check(services.results, key)
    if check is None:
        raise ApiError(404, "data_check_not_found", f"no stored data check under key {key}: run the dataset "
                                                    f"node first", field="key")
    return check


@router.get("/data-checks/{key}", response_model=DataCheck, responses={404: {"model": ErrorBody}})
def data_check(key: Key, services: ServicesDep) -> DataCheck:
    """The check the dataset node with this cache key made when it ran."""
    return _require(services, key)


@router.get("/data-checks/{key}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}, 403: {"model": ErrorBody},
                       404: {"model": ErrorBody}})
def data_check_thumbnail(key: Key, services: ServicesDep,
                         file: Annotated[str, Query(min_length=1, max_length=1000,
                                                    pattern=r"^[^\x00-\x1f]+$")]) -> Response:
    """A small copy of a file the check names as a copy of another (only those; only inside a data root)."""
    check = _require(services, key)
    named = {f for group in check.leaks for f in group.files}
    if file not in named:
        raise ApiError(404, "file_not_in_check", f"the data check does not name {file}", field="file")
    path = resolve_path(str(FsPath(check.root) / file), services.settings.data_roots)
    if path is None:
        raise ApiError(403, "path_outside_data_roots", f"{file} lies outside the data roots; it is not served",
                       field="file")
    if not path.is_file():
        raise ApiError(404, "sample_missing", f"{file} is no longer on disk", field="file")
    data, media_type = thumbnail(path, size=160)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
