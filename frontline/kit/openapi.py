"""The OpenAPI document, completed where FastAPI leaves gaps.

Every error the API answers has one body, ``{"error": {"code", "message", "fields"?}}``
(see :mod:`frontline.errors`). FastAPI documents only the success response and a 422 with
its own validation body, so :func:`install_openapi` post-processes the generated document:

- one shared ``ErrorBody`` component, referenced by every documented 4xx response;
- per operation, the error statuses it can answer, derived from what the operation is
  (:func:`error_statuses`): 400/422 for any input, 401/403 unless public, 404 for an
  operation on an item or in a tenant, 409 on writes, 413/415 where a body is read, 429
  where a rate limit or a login throttle applies;
- JSON Schema ``$defs`` embedded by hand-written request bodies (``openapi_extra``) are
  hoisted into ``components/schemas`` so every ``$ref`` resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_BODY_REF = "#/components/schemas/ErrorBody"

_DESCRIPTIONS = {
    400: "bad request (a malformed cursor, an impossible combination of parameters)",
    401: "not authenticated: missing, expired or wrong credentials",
    403: "authenticated but not allowed (role, tenant, origin)",
    404: "no such item in this workspace",
    409: "conflicts with the current state (duplicate, already done)",
    413: "request body too large",
    415: "unsupported media type",
    422: "validation failed: ``fields`` lists each problem",
    429: "too many requests: retry after ``Retry-After`` seconds",
}


class ErrorField(BaseModel):
    loc: list[str] = Field(description="where: body/query/path and the field names")
    message: str
    type: str
    ctx: dict[str, str] | None = Field(
        default=None, description='the limits the message names, e.g. {"le": "2"}'
    )


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: not_found, invalid, conflict, ...")
    message: str = Field(description="human-readable, in the request's language")
    fields: list[ErrorField] | None = Field(
        default=None, description="validation problems (422 only)"
    )


class ErrorBody(BaseModel):
    """The one body of every error response."""

    error: ErrorDetail


# (method, path) -> the statuses an operation adds to the derived ones
Extra = dict[tuple[str, str], Iterable[int]]


def error_statuses(
    method: str,
    path: str,
    operation: dict[str, Any],
    *,
    public: Callable[[str, str], bool],
    rate_limited: Callable[[str, str], bool],
) -> set[int]:
    """The error statuses one operation can answer."""
    statuses = {400, 422}
    if not public(method, path):
        statuses |= {401, 403}
    if "{" in path or path.startswith("/api/v1/"):
        statuses.add(404)  # an item that is not there, or a tenant that is gone
    if method in {"post", "put", "patch", "delete"}:
        statuses.add(409)
    if "requestBody" in operation or method in {"post", "put", "patch"}:
        statuses |= {413, 415}
    if rate_limited(method, path):
        statuses.add(429)
    return statuses


def _hoist_defs(node: Any, components: dict[str, Any]) -> Any:
    """Move nested ``$defs`` into ``components`` and point their ``$ref``s there."""
    if isinstance(node, dict):
        defs = node.pop("$defs", None)
        if isinstance(defs, dict):
            for name, schema in defs.items():
                components.setdefault(name, _hoist_defs(schema, components))
        out: dict[str, Any] = {}
        for key, value in node.items():
            out[key] = _hoist_defs(value, components)
        return out
    if isinstance(node, list):
        return [_hoist_defs(item, components) for item in node]
    if isinstance(node, str) and node.startswith("#/$defs/"):  # $ref, discriminator mapping
        return "#/components/schemas/" + node.removeprefix("#/$defs/")
    return node


def complete_openapi(
    document: dict[str, Any],
    *,
    public: Callable[[str, str], bool],
    rate_limited: Callable[[str, str], bool],
    extra: Extra | None = None,
) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components["ErrorBody"] = _hoist_defs(error_schema, components)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    extra = extra or {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            wanted = error_statuses(
                method, path, operation, public=public, rate_limited=rate_limited
            )
            wanted |= set(extra.get((method, path), ()))
            for status in sorted(wanted):
                current = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": current.get("description") or _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}},
                    **({"headers": current["headers"]} if "headers" in current else {}),
                }
            if "429" in responses:
                responses["429"].setdefault(
                    "headers",
                    {
                        "Retry-After": {
                            "description": "seconds to wait",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                )
    document["paths"] = _hoist_defs(document.get("paths", {}), components)
    for name, schema in list(components.items()):  # hoisting adds the nested ones, done
        components[name] = _hoist_defs(schema, components)
    return document


def install_openapi(
    app: FastAPI,
    *,
    public: Callable[[str, str], bool],
    rate_limited: Callable[[str, str], bool],
    extra: Extra | None = None,
) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete_openapi(
                document, public=public, rate_limited=rate_limited, extra=extra
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
