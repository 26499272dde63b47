"""RFC 9457 problem details for every error the API answers."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kvcredit.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class FieldProblem(Schema):
    field: str
    detail: str


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldProblem] = []


def problem(
    status: int, title: str, detail: str, *, field: str | None = None, errors: Any = ()
) -> HttpResponse:
    body = {
        "type": f"https://kvcredit.invalid/problems/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "field": field,
        "errors": [{"field": f, "detail": d} for f, d in errors],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=MEDIA_TYPE
    )


def _loc(loc: list[Any]) -> str:
    # ninja's locations start with the part ("body", "query", "path") and the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in {"payload", "filters", "pagination", "data"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        errors = (
            exc.problems
            if isinstance(exc, InvalidInput)
            else ([(exc.field, exc.detail)] if exc.field else [])
        )
        return problem(exc.status, exc.title, exc.detail, field=exc.field, errors=errors)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [(_loc(e.get("loc", [])), str(e.get("msg", "invalid"))) for e in exc.errors]
        detail = "; ".join(f"{f}: {m}" for f, m in errors)[:1000] or "invalid request"
        return problem(
            422, "Invalid input", detail, field=errors[0][0] if errors else None, errors=errors
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, "Unauthorized", "authentication required (bearer token or session)")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, "Error", str(exc))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unhandled error in the API", exc_info=exc)
        return problem(500, "Internal server error", "an unexpected error occurred")
