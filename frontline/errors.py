"""One error hierarchy for expected problems, and the handlers that render them.

Services raise :class:`AppError` subclasses; the handler turns them into JSON
``{"error": {"code", "message"}}`` with the right 4xx status. A database that cannot be
reached (restarting, failing over, network gone) is not a bug but an outage: 503
``database_unavailable`` with ``Retry-After`` and a message in the caller's language
(``Accept-Language``, Russian by default), so clients send again; nothing was stored. Anything
else is a bug: it is logged with the request id and answered with a generic 500 that leaks
nothing.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontline.kit import i18n
from frontline.kit.asgi import REQUEST_ID_SCOPE_KEY
from frontline.kit.db import is_unavailable
from frontline.kit.logging import request_id_var

log = logging.getLogger(__name__)

# seconds a client is asked to wait while the database is unreachable (a restart or a
# failover takes a few)
UNAVAILABLE_RETRY_AFTER = 2


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, status_code: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(AppError):
    """422; ``fields`` (``[{"loc", "message", "type"}]``, as a request validation error has)
    names the failing inputs so a form can show each error under its field."""

    status_code = 422
    code = "invalid"

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        code: str | None = None,
        fields: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message, status_code, code)
        self.fields = fields


class TooManyRequests(AppError):
    """429 with ``Retry-After`` (whole seconds, at least 1)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def allowed_methods(request: Request, fallback: str) -> str:
    """Every method the OpenAPI document lists for this path.

    Starlette's 405 names only the methods of the first route matching the path; a path
    served by several routes (``GET`` in one, ``PATCH`` in another) needs all of them.
    """
    path = request.url.path
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m in item if m in _HTTP_METHODS}
    return ", ".join(sorted(methods)) if methods else fallback


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _context(ctx: Any) -> dict[str, Any]:
    """A validation error's limits (``{"le": "2"}``, ``{"min_length": "1"}``) as strings, so
    a client can say the message in its own language; left out when there are none."""
    if not isinstance(ctx, dict):
        return {}
    simple = {
        str(k): str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
        for k, v in ctx.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }
    return {"ctx": simple} if simple else {}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        extra: dict[str, Any] = {}
        if isinstance(exc, Unprocessable) and exc.fields:
            extra["fields"] = exc.fields
        return JSONResponse(
            error_body(exc.code, exc.message, **extra),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
                **_context(err.get("ctx")),
            }
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid", "request validation failed", fields=fields), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = exc.headers
        if exc.status_code == 405:
            fallback = (headers or {}).get("Allow", "")
            headers = {**(headers or {}), "Allow": allowed_methods(request, fallback)}
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    def _internal(request: Request, request_id: str | None) -> JSONResponse:
        token = request_id_var.set(request_id)
        try:
            log.exception("unhandled error", extra={"path": request.url.path})
        finally:
            request_id_var.reset(token)
        headers = {"X-Request-ID": request_id} if request_id else None
        return JSONResponse(
            error_body("internal", "internal server error"), status_code=500, headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette runs this outside the request-id middleware: restore the id for the log
        # line and the response header
        request_id = request.scope.get(REQUEST_ID_SCOPE_KEY)
        if is_unavailable(exc):
            return database_unavailable(request, exc, request_id)
        return _internal(request, request_id)

    # the database's errors are handled inside the app (the ``Exception`` handler runs in
    # the outermost middleware, which re-raises to the server after answering: an outage
    # would log a traceback per request); one that is not an outage is still a 500. The
    # request-id middleware adds the id header to these answers itself.
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            return database_unavailable(request, exc, None)
        response = _internal(request, request.scope.get(REQUEST_ID_SCOPE_KEY))
        del response.headers["X-Request-ID"]
        return response

    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _database_error)
    app.add_exception_handler(ConnectionError, _database_error)


def database_unavailable(
    request: Request, exc: BaseException, request_id: str | None
) -> JSONResponse:
    """503 with ``Retry-After`` and a localized message: the database is unreachable
    (``request_id`` given: answered outside the request-id middleware, which would add it)."""
    log.warning(
        "database unavailable",
        extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"[:300]},
    )
    locale = i18n.from_accept_language(request.headers.get("accept-language"))
    headers = {
        "Retry-After": str(UNAVAILABLE_RETRY_AFTER),
        "Content-Language": i18n.normalize_locale(locale),
    }
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        error_body("database_unavailable", i18n.t("errors.database_unavailable", locale)),
        status_code=503,
        headers=headers,
    )
