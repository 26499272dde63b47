"""Shared API pieces: constrained types, pagination, money as text, the Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema, Status
from pydantic import StringConstraints, create_model

from kvcredit.api.models import IdempotencyKey
from kvcredit.errors import InvalidInput
from kvcredit.money import fen_to_yuan

# Database ids fit a signed 64-bit column and a JSON number without loss (< 2^53).
MAX_ID = 2**53 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Text a person typed: no control characters (NUL never reaches the database).
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
# [0-9], not \d: a Unicode \d takes full-width and other scripts' digits too
Yuan = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
YuanOut = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["3000000.00"])]
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def yuan(fen: int) -> str:
    return str(fen_to_yuan(fen))


class PageIn(Schema):
    """limit (1-500, default 50) and offset (bounded, so no query can overflow a column)."""

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


def page_schema(item: type[Schema]) -> type[Schema]:
    """``{"count": n, "items": [...]}`` of ``item``."""
    return create_model(  # type: ignore[no-any-return]
        f"{item.__name__.removesuffix('Out')}Page",
        __base__=Schema,
        count=(int, ...),
        items=(list[item], ...),  # type: ignore[valid-type]
    )


def filtered(qs: QuerySet[Any], f: Schema, /, **lookups: str | None) -> QuerySet[Any]:
    """``qs`` narrowed by each field of the filter schema ``f`` that the request gave (not None).

    A field filters the column of its own name, or the ORM lookup ``lookups`` maps it to
    (``district_id="pool__district_id"``, ``from_date="entry_date__gte"``); a field mapped to
    None is left to the caller (a filter that does more than ``lookup=value``). Each field is
    a ``.filter()`` of its own, in the schema's order.
    """
    fields = type(f).model_fields
    unknown = sorted(set(lookups) - set(fields))
    if unknown:
        raise TypeError(f"{type(f).__name__} has no field {', '.join(unknown)}")
    for name in fields:
        lookup = lookups.get(name, name)
        value = getattr(f, name)
        if lookup is not None and value is not None:
            qs = qs.filter(**{lookup: value})
    return qs


def one(qs: QuerySet[Any]) -> Any:
    """The single object a unique filter selects, or None; without the list's ORDER BY."""
    return next(iter(qs.order_by()[:1]), None)


def page(qs: QuerySet[Any], p: PageIn, render: Callable[[Any], Any]) -> dict[str, Any]:
    items = [render(o) for o in qs[p.offset : p.offset + p.limit]]
    return {"count": qs.count(), "items": items}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def request_fingerprint(body: bytes) -> str:
    """The parsed request, hashed: a JSON body as canonical JSON (keys sorted, no spaces), so
    a retry that only orders or spaces its keys differently is the same request; any other
    body as its bytes."""
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        return content_hash(body)
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return content_hash(canonical.encode())


def idempotent(
    request: HttpRequest,
    key: str | None,
    run: Callable[[], tuple[int, Any]],
    *,
    fingerprint: str | None = None,
) -> Status:
    """``fingerprint``: what identifies the request when its body is not JSON (an upload: the
    file's ``content_hash``); by default ``request_fingerprint`` of the body."""
    status, body = _idempotent(request, key, run, fingerprint)
    return Status(status, body)


def _idempotent(
    request: HttpRequest,
    key: str | None,
    run: Callable[[], tuple[int, Any]],
    fingerprint: str | None = None,
) -> tuple[int, Any]:
    """Run a POST once per (user, Idempotency-Key); replay its response on a retry.

    The same key with a different request (parsed, ``request_fingerprint``) or path is refused
    (422). The key row is written in the same transaction as the use case, so a failed use case
    leaves no key behind.
    """
    if key is None:
        return run()
    if not KEY_RE.match(key):
        raise InvalidInput([("Idempotency-Key", _("1-100 letters, digits or _ . : -"))])
    user = request.user
    body_hash = fingerprint or request_fingerprint(request.body)
    # a key stored before keys compared the parsed request holds the hash of the raw bytes
    same = {body_hash, body_hash if fingerprint else content_hash(request.body)}
    path = request.path[:300]
    try:
        with transaction.atomic():
            seen = IdempotencyKey.objects.filter(user=user, key=key).first()
            if seen is not None:
                return _replay(seen, same, path)
            status, body = run()
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                method=request.method or "POST",
                path=path,
                body_hash=body_hash,
                status=status,
                response=body,
                created_at=timezone.now(),
            )
            return status, body
    except IntegrityError:
        # A concurrent request with the same key won the race; ours was rolled back.
        seen = IdempotencyKey.objects.filter(user=user, key=key).first()
        if seen is None:
            raise
        return _replay(seen, same, path)


def _replay(seen: IdempotencyKey, same: set[str], path: str) -> tuple[int, Any]:
    if seen.body_hash not in same or seen.path != path:
        raise InvalidInput([("Idempotency-Key", _("this key was used with a different request"))])
    return seen.status, seen.response
