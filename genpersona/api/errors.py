"""One JSON shape for every error: ``{"error", "message", "fix", "data"}``.

A chatbot backend calling us needs to tell "your request is wrong" (4xx, fix
it and do not retry) from "we are down" (5xx/429, retry later) and show a
developer what to change; so GenpersonaErrors keep their own ``http_status``,
validation failures name each bad field by its path, and an unexpected crash
never leaks a traceback (it is logged, and the body says where to look).

The OpenAI-compatible routes (``OPENAI_PREFIXES``) answer errors in OpenAI's
shape instead, ``{"error": {"message", "type", "param", "code"}}``, so the
official client and LangChain raise their usual exceptions
(AuthenticationError, PermissionDeniedError, RateLimitError, BadRequestError).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from genpersona.errors import GenpersonaError

log = logging.getLogger("genpersona.api")


OPENAI_PREFIXES = ("/v1/chat/completions", "/v1/models")

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIXES)


def openai_status(status: int) -> int:
    """422 -> 400: OpenAI clients map 400 to BadRequestError, what a bad body is to them."""
    return 400 if status == 422 else status


def openai_body(
    status: int, message: str, code: str, *, param: str | None = None, fix: str = ""
) -> dict[str, Any]:
    text = f"{message}. Fix: {fix}" if fix else message
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": text, "type": kind, "param": param, "code": code}}


def error_body(exc: GenpersonaError, path: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of ``exc`` in the shape the route at ``path`` speaks."""
    if is_openai_path(path):
        status = openai_status(exc.http_status)
        return status, openai_body(status, exc.message, type(exc).__name__, fix=exc.fix)
    return exc.http_status, exc.to_dict()


def error_response(
    exc: GenpersonaError, headers: dict[str, str] | None = None, path: str = ""
) -> JSONResponse:
    status, body = error_body(exc, path)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'events', 3, 'type') -> 'body.events[3].type' (what a developer greps for)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p not in ("function-after",)]
        fields.append(
            {
                "field": _field_path(loc),
                "problem": str(err.get("msg", "")),
                "type": err.get("type", ""),
            }
        )
    if any(f["type"] == "json_invalid" for f in fields):
        message = "the request body is not valid JSON"
        fix = "send a JSON object with Content-Type: application/json"
    else:
        names = ", ".join(f["field"] for f in fields[:5]) + (" ..." if len(fields) > 5 else "")
        message = f"invalid request: {names}"
        fix = "correct the fields listed in data.fields (see GET /docs for the schema) and resend"
    return {"error": "ValidationError", "message": message, "fix": fix, "data": {"fields": fields}}


async def _genpersona_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GenpersonaError)
    if exc.http_status >= 500:
        log.error("%s %s -> %s: %s", request.method, request.url.path, exc.http_status, exc)
    headers = (
        {"Retry-After": str(exc.data["retry_after_s"])} if "retry_after_s" in exc.data else None
    )
    return error_response(exc, headers, request.url.path)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = validation_body(list(exc.errors()))
    if is_openai_path(request.url.path):
        fields = body["data"]["fields"]
        param = fields[0]["field"].removeprefix("body.") if fields else None
        problems = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        return JSONResponse(
            openai_body(400, f"{body['message']} ({problems})", "invalid_request", param=param),
            status_code=400,
        )
    return JSONResponse(body, status_code=422)


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        body = {
            "error": "NotFound",
            "message": f"no endpoint {request.method} {request.url.path}",
            "fix": "see GET /docs for the endpoints of this API",
            "data": {"path": request.url.path},
        }
    elif exc.status_code == 405:
        body = {
            "error": "MethodNotAllowed",
            "message": f"{request.method} is not allowed on {request.url.path}",
            "fix": "use one of the methods in the Allow header",
            "data": {"path": request.url.path},
        }
    else:
        body = {"error": "HTTPError", "message": str(exc.detail), "fix": "", "data": {}}
    if is_openai_path(request.url.path):
        message, code, fix = str(body["message"]), str(body["error"]), str(body["fix"])
        body = openai_body(exc.status_code, message, code, fix=fix)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    message = f"unexpected {type(exc).__name__} while handling {request.url.path}"
    fix = "retry once; if it persists, check the server log for the traceback"
    if is_openai_path(request.url.path):
        return JSONResponse(openai_body(500, message, "InternalError", fix=fix), status_code=500)
    body = {"error": "InternalError", "message": message, "fix": fix, "data": {}}
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GenpersonaError, _genpersona_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
