"""Datasets a person uploads from the browser: a zip or tar of class folders, streamed to a data
root (``ABACUS_MAX_DATASET_UPLOAD_MB``), unpacked safely (``backend/api/dataset_uploads.py``), and
the listing an image-folder dataset node picks from."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from .. import dataset_uploads as uploads
from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody
from ..schemas import DatasetClassOut, DatasetOut

router = APIRouter(tags=["datasets"], responses=COMMON_ERRORS)
MB = 2**20

_ARCHIVE_BODY = {"requestBody": {"required": True, "description": "the archive's bytes (not a form)", "content": {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("application/zip", "application/x-tar", "application/gzip", "application/octet-stream")}}}


def upload_limit(settings, path: str) -> int | None:
    """The body limit of POST /api/datasets (``max_dataset_upload_mb``), else None."""
    return settings.max_dataset_upload_mb * MB if path.rstrip("/") == "/api/datasets" else None


def _out(item: uploads.Uploaded) -> DatasetOut:
    return DatasetOut(name=item.name, path=item.path, images=sum(item.counts),
                      classes=[DatasetClassOut(name=c, images=n) for c, n in zip(item.classes, item.counts)])


def _refused(err: uploads.UploadError) -> ApiError:
    return ApiError(err.status, err.code, err.message, field="file", params=err.params)


@router.get("/datasets", response_model=list[DatasetOut])
def list_datasets(services: ServicesDep) -> list[DatasetOut]:
    """The datasets uploaded to the data roots, with their classes and image counts."""
    return [_out(item) for item in uploads.listing(services.settings.data_roots)]


@router.delete("/datasets/{name}", response_model=DatasetOut,
               responses={409: {"model": ErrorBody}})
def delete_dataset(name: str, services: ServicesDep) -> DatasetOut:
    """Remove an uploaded dataset's folder (``uploads/<name>`` in the data root the listing
    finds it in) and answer what it held. Only the uploads folders are touched: a name that is
    not one folder name (a separator, ``..``, a hidden name) is a 400, an unknown one a 404, and
    one a queued or running run reads a 409 (``dataset_in_use``, naming the run and the node)."""
    using = uploads.used_by(name, [(run.id, run.graph) for run in services.runs.active()])
    if using is not None:
        run_id, node = using
        raise ApiError(409, "dataset_in_use", f"the dataset '{name}' is read by run {run_id} (node {node}): "
                                              f"delete it once that run has ended", field="name", node=node,
                       params={"name": name, "run": run_id, "node": node})
    try:
        return _out(uploads.delete(name, services.settings.data_roots))
    except uploads.UploadError as err:
        raise ApiError(err.status, err.code, err.message, field="name", params=err.params) from None


@router.post("/datasets", response_model=DatasetOut, status_code=201, openapi_extra=_ARCHIVE_BODY,
             responses={409: {"model": ErrorBody}, 415: {"model": ErrorBody}, 507: {"model": ErrorBody}})
async def upload_dataset(
    request: Request, services: ServicesDep,
    name: Annotated[str, Query(pattern=uploads.NAME_PATTERN, description="the dataset's name (its folder in uploads/)")],
) -> DatasetOut:
    """A zip or tar (plain, gz, bz2, xz) of one folder of images per class, sent as the body
    itself (streamed to disk, never held in memory; larger than the limit is a 413), then
    unpacked into ``uploads/<name>`` of the first writable data root. A refused archive (a path
    out of the folder, a link, a special file, too many files, too large unpacked, a zip bomb)
    leaves nothing behind and answers a stable code."""
    settings = services.settings
    roots = settings.data_roots
    limits = uploads.Limits(max_files=settings.max_dataset_files, max_unpacked=settings.max_dataset_unpacked_mb * MB,
                            max_ratio=settings.max_dataset_ratio)
    limit = settings.max_dataset_upload_mb * MB
    try:
        uploads.check_name(name, roots)
        staging = await run_in_threadpool(uploads.staging_folder, uploads.uploads_folder(roots))
    except uploads.UploadError as err:
        raise _refused(err) from None
    try:
        archive = staging / "archive"
        size = 0
        with open(archive, "wb") as out:
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:  # the body middleware cuts off first; this holds without it
                        raise ApiError(413, "upload_too_large", f"the archive is larger than the limit "
                                                                f"({settings.max_dataset_upload_mb} MB)", field="file")
                    out.write(chunk)
            except ClientDisconnect:
                raise ApiError(400, "upload_incomplete", "the upload stopped before the end of the archive",
                               field="file") from None
        if size == 0:
            raise ApiError(400, "upload_empty", "the upload is empty: send the archive as the body", field="file")
        item = await run_in_threadpool(uploads.receive, archive, name, roots, limits)
    except uploads.UploadError as err:
        raise _refused(err) from None
    finally:
        await run_in_threadpool(uploads.remove, staging)
    return _out(item)
