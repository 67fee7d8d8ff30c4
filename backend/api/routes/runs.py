"""Runs: start, list, cancel, events, artifacts and predictions."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from backend.engine.events import Event
from backend.engine.reduce import RunSummary, reduce_run
from backend.runs import RunRejected
from backend.runs.why import when_text
from backend.store.models import ArtifactPublic, RunPublic
from backend.store.result_index import ResultIndex
from backend.worker import WorkerError

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody, not_found
from ..graphs import rejected_error
from ..samples import sample_file, thumbnail
from ..schemas import MAX_DB_INT, Prediction, RunCreate
from .projects import ProjectId, graph_json, require_project

router = APIRouter(tags=["runs"], responses=COMMON_ERRORS)
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$", description="run id")]
NodeId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f/]+$")]


def run_out(run) -> RunPublic:
    return RunPublic.model_validate(run, from_attributes=True)


def require_run(services, run_id: str):
    run = services.runs.get(run_id)
    if run is None:
        raise not_found("run", run_id, field="run_id")
    return run


@router.post("/projects/{project_id}/runs", response_model=RunPublic, status_code=201)
def start_run(project_id: ProjectId, body: RunCreate, services: ServicesDep) -> RunPublic:
    """Queue a run of the project's graph (or of the graph sent) for ``targets``.

    A graph with issues is not run: 422 naming the first issue, with ``issues`` listing all.
    """
    require_project(services, project_id)
    try:
        latest = services.projects.latest(project_id)
        graph, graph_version = services.service.graph_for_project(latest, body.graph, graph_json)
        prepared = services.service.prepare(graph, list(body.targets), body.mode, graph_version=graph_version)
    except RunRejected as err:
        raise rejected_error(err) from None
    run, event = services.runs.enqueue(project_id, prepared.graph, list(body.targets), body.mode, graph_version,
                                       version_saves=latest.saves if latest is not None else None)
    services.broadcaster.publish(event, project_id)
    services.dispatcher.wake()
    return run_out(run)


@router.get("/runs", response_model=list[RunPublic])
def list_runs(services: ServicesDep,
              project_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None) -> list[RunPublic]:
    """Runs, newest first (at most 200)."""
    return [run_out(r) for r in services.runs.list(project_id)]


@router.get("/runs/{run_id}", response_model=RunPublic)
def get_run(run_id: RunId, services: ServicesDep) -> RunPublic:
    return run_out(require_run(services, run_id))


@router.post("/runs/{run_id}/cancel", response_model=RunPublic)
def cancel_run(run_id: RunId, services: ServicesDep) -> RunPublic:
    """Cancel a queued run at once, or ask a running one to stop (it ends with run.cancelled)."""
    # The dispatcher also ends at once a run it lost track of (its storage failed). While
    # storage fails this answers 503 (storage_full / storage_error); the cancel still
    # applies when the run would start.
    run = require_run(services, run_id)
    if run.status in ("queued", "running"):
        services.dispatcher.cancel(run_id)
        run = require_run(services, run_id)
    return run_out(run)


RESUMABLE = ("failed", "interrupted", "cancelled")


@router.post("/runs/{run_id}/resume", response_model=RunPublic, status_code=201,
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def resume_run(run_id: RunId, services: ServicesDep) -> RunPublic:
    """Resume a failed, interrupted or cancelled run: a new run of the same graph version and
    targets (``resumed_from`` names this one) whose trainers continue from their last completed
    epoch; finished nodes come from the cache. 409 ``not_resumable`` for a run that is queued,
    running or finished, or that a run resuming it is already doing."""
    run = require_run(services, run_id)
    if run.status not in RESUMABLE:
        raise ApiError(409, "not_resumable", f"run {run_id} is {run.status}: only a failed, interrupted or "
                                             f"cancelled run can be resumed", field="run_id")
    going = services.runs.resuming(run_id)
    if going is not None:
        raise ApiError(409, "not_resumable", f"run {going.id} is resuming run {run_id} already", field="run_id")
    try:
        resumed = services.dispatcher.resume(run)
    except RunRejected as err:
        raise rejected_error(err) from None
    return run_out(resumed)


@router.get("/runs/{run_id}/events", response_model=list[Event])
def run_events(run_id: RunId, services: ServicesDep,
               after: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0) -> list[Event]:
    """Every stored event with ``seq > after``, in order."""
    require_run(services, run_id)
    return services.events.after(run_id, after)


@router.get("/runs/{run_id}/summary", response_model=RunSummary)
def run_summary(run_id: RunId, services: ServicesDep) -> RunSummary:
    """The run's events reduced to its summary: node states, curves, outputs (what the editor shows)."""
    run = require_run(services, run_id)
    return reduce_run(run_id, services.events.after(run_id), run.status)


@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactPublic])
def run_artifacts(run_id: RunId, services: ServicesDep) -> list[ArtifactPublic]:
    """The run's files: each trainer's model, with the epoch of its weights; a trainer whose run
    was cancelled offers the model it saved (its last completed epoch, ``partial``); one no
    longer on disk says so (``present``, and when the cache's budget removed it)."""
    run = require_run(services, run_id)
    artifacts = services.artifacts.of_run(run_id)
    summary = reduce_run(run_id, services.events.after(run_id), run.status) if artifacts else None
    index = ResultIndex(services.results.root)
    out = []
    for a in artifacts:
        node = summary.nodes.get(a.node) if summary else None
        model = summary.model(a.node) if summary and a.kind == "model" else None
        present = FsPath(a.path).is_file()
        evicted = index.eviction(a.key) if not present and a.key else None
        out.append(ArtifactPublic(
            node=a.node, kind=a.kind, path=a.path, run_id=run_id, created_at=a.created_at,
            url=f"/api/runs/{run_id}/artifacts/{a.node}/{a.kind}",
            epoch=model.best_epoch if model else None, epochs=model.epochs if model else None,
            partial=bool(model and node and node.state not in ("done", "cached")),
            present=present, evicted_at=evicted.get("at") if evicted else None))
    return out


def _model_path(services, run_id: str, node: str) -> FsPath:
    require_run(services, run_id)
    artifact = services.artifacts.get(run_id, node, "model")
    if artifact is None:
        raise ApiError(404, "no_model", f"run {run_id} has no trained model from node '{node}'", node=node,
                       field="node")
    path = FsPath(artifact.path)
    if not path.is_file():
        evicted = ResultIndex(services.results.root).eviction(artifact.key) if artifact.key else None
        if evicted is not None:
            raise ApiError(404, "model_evicted", f"the model file of node '{node}' was removed on "
                                                 f"{when_text(evicted.get('at'))} to keep "
                                                 f"the cache within its budget (ABACUS_CACHE_MAX_GB): run the node "
                                                 f"again to make it anew", node=node, params={"at": evicted.get("at")})
        raise ApiError(404, "artifact_missing", f"the model file of node '{node}' is no longer on disk "
                                                f"(the cache was cleared?): run the node again", node=node)
    return path


@router.get("/runs/{run_id}/artifacts/{node}/model", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download_model(run_id: RunId, node: NodeId, services: ServicesDep) -> FileResponse:
    """The self-contained model file (architecture, weights, classes) as NODE.pt."""
    path = _model_path(services, run_id, node)
    return FileResponse(path, media_type="application/octet-stream", filename=f"{node}.pt")


@router.get("/runs/{run_id}/samples/{node}/{index}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}, 403: {"model": ErrorBody},
                       409: {"model": ErrorBody}})
def sample_image(run_id: RunId, node: NodeId, index: Annotated[int, Path(ge=0, le=10_000)],
                 services: ServicesDep) -> Response:
    """Sample ``index`` of an evaluation node's report in this run, scaled to fit 256 pixels.

    The image is read only from inside a data root; 404 for an unknown run, node or index.
    """
    run = require_run(services, run_id)
    graph = run.graph or {}
    if not any(n.get("id") == node for n in graph.get("nodes", [])):
        raise ApiError(404, "node_not_found", f"run {run_id} has no node '{node}'", node=node, field="node")
    report = reduce_run(run_id, services.events.after(run_id)).evaluation(node)
    if report is None:
        raise ApiError(404, "no_samples", f"node '{node}' has no evaluation report in run {run_id}", node=node,
                       field="node")
    path = sample_file(report, graph, node, index, services.settings.data_roots)
    data, media_type = thumbnail(path)
    # The same run, node and index always name the same image, so the browser may keep it.
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})


NOT_AN_IMAGE = "the file is not an image that can be read (JPEG, PNG, BMP, GIF or WebP)"


def _check_image(data: bytes) -> None:
    """A 415 ``not_an_image`` (naming the field ``file``) for an upload that is no image, before
    the worker is asked: never the decoder's own words (a Python repr) in the answer."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except Exception:   # unidentified, truncated header, a decompression bomb: not an image to read
        raise ApiError(415, "not_an_image", NOT_AN_IMAGE, field="file") from None


@router.post("/runs/{run_id}/predict", response_model=Prediction,
             responses={409: {"model": ErrorBody}, 415: {"model": ErrorBody}, 503: {"model": ErrorBody}})
async def predict(run_id: RunId, request: Request, services: ServicesDep, file: UploadFile = File(...),
                  node: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")] = ...
                  ) -> Prediction:
    """Class probabilities for one uploaded image, computed in the worker process."""
    limit = services.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "upload_too_large", f"the upload is larger than {limit} bytes", field="file")
    if not data:
        raise ApiError(415, "not_an_image", "the file is empty, not an image", field="file")
    path = await run_in_threadpool(_model_path, services, run_id, node)
    await run_in_threadpool(_check_image, data)
    try:
        row = await asyncio.to_thread(services.dispatcher.worker.predict, str(path), data,
                                      services.settings.predict_timeout_s)
    except WorkerError as err:
        if err.code == "invalid_image":   # its header passed, its pixels do not decode
            raise ApiError(415, "not_an_image", NOT_AN_IMAGE, field="file") from None
        if err.code in ("model_missing", "model_unreadable"):
            raise ApiError(409, err.code, err.message, node=node) from None
        raise ApiError(503, err.code, err.message, node=node) from None
    return Prediction.model_validate(row)
