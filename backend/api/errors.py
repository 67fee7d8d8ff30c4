"""Every 4xx (and the rare 5xx) carries one typed body:
``{"error": {"code", "message", "node", "port", "field"}}`` plus optional extras (``issues``).
While the database or the disk fails, any route answers 503 ``storage_full`` or ``storage_error``.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("abacus.api")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "upload_too_large",
               415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests"}


class ErrorDetail(BaseModel):
    code: str
    message: str
    node: str | None = None
    port: str | None = None
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
    issues: list[dict[str, Any]] | None = None


# The error statuses any route may answer with, documented in the OpenAPI schema.
COMMON_ERRORS: dict[int | str, dict] = {status: {"model": ErrorBody} for status in (400, 404, 413, 422)}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, node: str | None = None,
                 port: str | None = None, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.detail = ErrorDetail(code=code, message=message, node=node, port=port, field=field)
        self.extra = extra


def not_found(what: str, ident: Any, field: str | None = None) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"no {what.replace('_', ' ')} with id {ident!r}", field=field)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **fields: Any) -> JSONResponse:
    extra = {k: fields.pop(k) for k in list(fields) if k not in ("node", "port", "field")}
    body = {"error": ErrorDetail(code=code, message=message, **fields).model_dump(), **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _loc(loc: tuple | list) -> str:
    return ".".join(str(p) for p in loc)


def _message(err: dict[str, Any]) -> str:
    where = _loc(err.get("loc") or ())
    return f"{where}: {err.get('msg', 'invalid value')}" if where else str(err.get("msg", "invalid value"))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body = {"error": exc.detail.model_dump(), **exc.extra}
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        issues = [{"field": _loc(e.get("loc") or ()), "message": _message(e), "type": e.get("type")}
                  for e in errors]
        return error_response(422, "invalid_request", _message(first), field=_loc(first.get("loc") or ()) or None,
                              issues=issues)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (out of range, invalid text): the request's fault.
        return error_response(422, "invalid_value", f"a value in the request cannot be stored: {exc.orig}")

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        return error_response(409, "conflict", "the change conflicts with another one; try again")

    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _storage(_request: Request, exc: Exception) -> JSONResponse:
        # The database or the disk failing (full, gone read-only): 503 with a stable code while
        # it lasts; nothing is kept from the failed attempt, so the next request works once
        # there is room again, without a restart.
        from backend.store.faults import storage_failure

        failure = storage_failure(exc)
        if failure is None:
            log.exception("unexpected error")
            return error_response(500, "internal_error", f"unexpected server error: {type(exc).__name__}")
        code, message = failure
        log.warning("storage failure (%s): %s", code, message)
        return error_response(503, code, message, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", f"unexpected server error: {type(exc).__name__}")
