"""RFC 9457 problem details for every error the API answers.

``type`` and ``status`` are stable; ``title`` (one per status, so one per ``type``) and the
details are worded in the request's language (Accept-Language, through LocaleMiddleware).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kvcredit.api.validation import message
from kvcredit.errors import InvalidInput, ServiceError, UploadTooLarge

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
# The title of each problem type (``https://kvcredit.invalid/problems/<status>``).
TITLES: dict[int, Promise] = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Unauthorized"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Content too large"),
    422: gettext_lazy("Invalid input"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Internal server error"),
}
# What django-ninja itself raises as an HttpError, in the reader's language.
NINJA_MESSAGES: dict[str, Promise] = {
    "Cannot parse request body": gettext_lazy("the request body is not valid JSON"),
    "CSRF check Failed": gettext_lazy("the CSRF check failed"),
    "Too many requests.": gettext_lazy("too many requests; try again later"),
    "Unauthorized": gettext_lazy("authentication required (bearer token or session)"),
    "Forbidden": gettext_lazy("you may not do this"),
}


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


def title(status: int) -> str:
    """The translated title of the problem type of ``status``."""
    return str(TITLES.get(status) or _("Error"))


def problem(
    status: int, detail: str, *, field: str | None = None, errors: Any = ()
) -> HttpResponse:
    body = {
        "type": f"https://kvcredit.invalid/problems/{status}",
        "title": title(status),
        "status": status,
        "detail": detail,
        "field": field,
        "errors": [{"field": f, "detail": d} for f, d in errors],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=MEDIA_TYPE
    )


RETRYABLE = {"40001", "40P01"}  # PostgreSQL: serialization_failure, deadlock_detected


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _loc(loc: list[Any]) -> str:
    # ninja's locations start with the part ("body", "query", "path") and the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in {"payload", "filters", "pagination", "data"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def _empty_body(request: HttpRequest) -> bool:
    try:
        return not request.body
    except RawPostDataException:  # a multipart body already read as a stream
        return False


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        errors = (
            exc.problems
            if isinstance(exc, InvalidInput)
            else ([(exc.field, exc.detail)] if exc.field else [])
        )
        return problem(exc.status, exc.detail, field=exc.field, errors=errors)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        # Each message names its field, so the detail is the messages themselves.
        empty = _empty_body(request)
        errors = []
        for e in exc.errors:
            field = _loc(e.get("loc", []))
            errors.append((field, message(e, field, empty_body=empty)))
        detail = "; ".join(m for _f, m in errors)[:1000] or _("the request is not valid")
        return problem(422, detail, field=errors[0][0] if errors else None, errors=errors)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, _("authentication required (bearer token or session)"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        text = str(exc)
        known = NINJA_MESSAGES.get(text.split(" (", 1)[0])  # DEBUG appends " (<reason>)"
        return problem(exc.status_code, str(known) if known is not None else text)

    @api.exception_handler(UploadTooLarge)
    def upload_too_large(request: HttpRequest, exc: UploadTooLarge) -> HttpResponse:
        # the message names the file and the bound, in Chinese and English
        return problem(413, str(exc), field="file", errors=[("file", str(exc))])

    @api.exception_handler(RequestDataTooBig)
    def body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return problem(413, _("the request body is over %(n)s bytes") % {"n": limit})

    @api.exception_handler(MultiPartParserError)
    def bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return problem(400, _("the multipart body cannot be read (is its boundary given?)"))

    @api.exception_handler(IntegrityError)
    def integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # a concurrent request wrote the same thing first (a unique key): the client's retry
        # sees it; the services check under their locks, this is the net under those checks
        log.warning("integrity error answered 409: %s", exc)
        return problem(409, _("a concurrent change conflicts with this request; try again"))

    @api.exception_handler(OperationalError)
    def operational_error(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        if _sqlstate(exc) in RETRYABLE:  # serialization failure, deadlock: retry
            log.warning("concurrency failure answered 409: %s", exc)
            return problem(409, _("a concurrent change conflicts with this request; try again"))
        return server_error(request, exc)

    @api.exception_handler(RecursionError)
    def too_deep(request: HttpRequest, exc: RecursionError) -> HttpResponse:
        return problem(422, _("the request is nested too deeply"))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unhandled error in the API", exc_info=exc)
        return problem(500, _("an unexpected error occurred"))
