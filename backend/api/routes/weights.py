"""Pretrained weight files: the catalog with what is present, a download run by the server (a
background thread, plain HTTP), and an upload of a file downloaded by hand. Every file is
verified against the catalog's digest before it is moved into the torch hub cache."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from starlette.concurrency import run_in_threadpool

from components.backbones import weights

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody
from ..schemas import WeightsOut

router = APIRouter(tags=["weights"], responses=COMMON_ERRORS)

WeightsName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,100}$", description="a catalog name, e.g. vgg16")]


def _entry(services, name: str) -> weights.WeightsEntry:
    try:
        return weights.get_entry(name, services.settings.weights_catalog)
    except weights.WeightsError as err:
        raise ApiError(404, "weights_not_found", err.message, field="name") from None


def _out(services, entry: weights.WeightsEntry) -> WeightsOut:
    state = weights.status(entry)
    return WeightsOut(name=entry.name, title=entry.title, file=entry.file,
                      url=weights.source_url(entry, services.settings.weights_mirror), size=entry.size,
                      sha256=entry.sha256, sha256_prefix=entry.sha256_prefix, path=state["path"],
                      present=state["present"], partial_bytes=state["partial_bytes"],
                      components=[c.id for c in services.registry.all()
                                  if getattr(c, "weights_name", None) == entry.name],
                      download=services.downloads.state(entry.name))


@router.get("/weights", response_model=list[WeightsOut])
def list_weights(services: ServicesDep) -> list[WeightsOut]:
    """The weights catalog: each file, whether it is in place, and this server's download of it."""
    return [_out(services, e) for e in weights.load_catalog(services.settings.weights_catalog).values()]


@router.post("/weights/{name}/fetch", response_model=WeightsOut, status_code=202,
             responses={404: {"model": ErrorBody}})
def fetch_weights(name: WeightsName, services: ServicesDep) -> WeightsOut:
    """Start downloading the file in the background (resuming an interrupted download); poll
    GET /api/weights for its progress. A file already in place is answered at once."""
    entry = _entry(services, name)
    if not weights.status(entry)["present"]:
        services.downloads.start(entry, services.settings.weights_mirror)
    return _out(services, entry)


@router.post("/weights/{name}", response_model=WeightsOut, status_code=201,
             responses={404: {"model": ErrorBody}, 415: {"model": ErrorBody}})
async def upload_weights(name: WeightsName, services: ServicesDep,
                         file: UploadFile = File(..., description="the weight file, downloaded by hand")) -> WeightsOut:
    """A weight file downloaded by hand: verified (size and SHA-256), then moved into the torch hub
    cache. This route accepts bodies up to the file's catalog size (plus form framing); a file that
    is not the catalog's is a 415 ``size_mismatch`` or ``digest_mismatch`` and nothing is kept."""
    entry = _entry(services, name)
    try:
        await run_in_threadpool(weights.install_stream, entry, file.file, file.filename or "the upload")
    except weights.WeightsError as err:
        raise ApiError(415, err.code, err.message, field="file") from None
    return _out(services, entry)
