"""Model files: a project from one (the graph that made it), and a model's ONNX export."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody
from ..model_files import ExchangeError, model_info, model_result, onnx_file, project_name, provenance_graph
from ..schemas import ProjectFromModel
from .projects import graph_json
from .runs import NodeId, RunId, _model_path

router = APIRouter(responses=COMMON_ERRORS)


@router.post("/projects/from-model", response_model=ProjectFromModel, status_code=201, tags=["projects"],
             responses={415: {"model": ErrorBody}})
async def project_from_model(
    services: ServicesDep,
    file: UploadFile = File(..., description="a model file saved by a run (NODE.pt)"),
    name: Annotated[str | None, Form(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$",
                                     description="the project's name (default: from the file or the graph)")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ProjectFromModel:
    """A new project whose graph is the one that made the uploaded model (its provenance record).

    Where this studio has the same data (same cache keys), the nodes that made the model show as
    cached: their results are stored here already, or the model becomes its node's stored result
    (``model_result``). The upload has the size limit of every upload; a file that is no model
    file is a 415 ``not_a_model``, one saved before provenance was recorded a 422
    ``no_provenance``, each naming the field ``file``. ``name`` defaults to the file's name, or
    the graph's and the node's when the file has the download's default name (``NODE.pt``).
    """
    limit = services.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "upload_too_large", f"the upload is larger than {limit} bytes "
                                                f"(ABACUS_MAX_UPLOAD_BYTES)", field="file")
    if not data:
        raise ApiError(415, "not_a_model", "the file is empty, not a model file", field="file")
    return await run_in_threadpool(_from_model, services, data, file.filename, name, accept_language)


def _from_model(services, data: bytes, filename: str | None, name: str | None,
                accept_language: str | None) -> ProjectFromModel:
    prov = model_info(data, filename)
    graph = provenance_graph(prov)
    if graph.node(prov.node) is None:
        raise ApiError(422, "invalid_provenance", f"the model file's graph has no node '{prov.node}'", field="file")
    result = model_result(services, prov, graph, data)   # before the project: it opens showing it
    document = graph_json(graph)
    project, _ = services.projects.create(name or project_name(prov, graph, filename, accept_language), document)
    return ProjectFromModel(**project.model_dump(), graph=document, node=prov.node, model_result=result)


@router.get("/runs/{run_id}/artifacts/{node}/onnx", response_class=FileResponse, tags=["runs"],
            responses={200: {"content": {"application/octet-stream": {}}}, 503: {"model": ErrorBody}})
def download_onnx(run_id: RunId, node: NodeId, services: ServicesDep) -> FileResponse:
    """The trained model as ONNX (NODE.onnx): float32 RGB N x C x H x W in [0, 1] in, class
    probabilities out; input size, normalization and class names in its ``metadata_props``.
    Made on first request (in a child process: the server never imports torch) and kept."""
    path = _model_path(services, run_id, node)
    try:
        out = onnx_file(path, services.settings.export_timeout_s)
    except ExchangeError as err:
        raise ApiError(503, err.code, f"the ONNX export of node '{node}' failed: {err.message}", node=node) \
            from None
    return FileResponse(out, media_type="application/octet-stream", filename=f"{node}.onnx")
