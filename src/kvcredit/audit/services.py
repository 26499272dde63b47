"""Writing and verifying the audit chain.

``record`` (one entry) and ``record_many`` (all the entries of one use case) are called by every
service inside its transaction, as its last step. Each record carries ``digest``, the SHA-256 of
its content (computed here, before any lock), and ``hash`` = SHA-256(previous hash + digest):
the link. Linking is serialised programme-wide and held until COMMIT:

* PostgreSQL: a ``BEFORE INSERT`` trigger (migration 0003) takes a transaction-level advisory
  lock, reads the head, sets ``prev_hash`` and ``hash`` and gives the record its id under the
  lock (so ids follow the chain). The INSERT is the only round trip inside the serial section,
  then COMMIT.
* SQLite: the write lock the connection takes at BEGIN (``transaction_mode = IMMEDIATE``)
  already serialises writers; the links are computed here.

Records written before digests existed (``digest`` empty) keep their original hash, the
SHA-256 of their content with the previous hash inside it; ``verify`` checks both forms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from kvcredit.audit.middleware import current_request_id
from kvcredit.audit.models import AuditRecord
from kvcredit.bulk import copy_create, uses_copy

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-safe value with a stable text form (what is stored is what is hashed)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def body_digest(fields: dict[str, Any]) -> str:
    """SHA-256 of a record's content (its fields as canonical JSON)."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, digest: str) -> str:
    """A record's hash: SHA-256 of the previous record's hash followed by its own digest (what
    the PostgreSQL trigger computes: ``sha256(convert_to(prev || digest, 'UTF8'))``)."""
    return hashlib.sha256((prev_hash + digest).encode("utf-8")).hexdigest()


def _legacy_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of a record written before digests existed."""
    body = json.dumps({"prev": prev_hash, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _fields(r: AuditRecord) -> dict[str, Any]:
    return {
        "at": r.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": r.actor_id,
        "actor_username": r.actor_username,
        "organisation_id": r.organisation_id,
        "action": r.action,
        "object_type": r.object_type,
        "object_id": r.object_id,
        "before": r.before,
        "after": r.after,
        "request_id": r.request_id,
    }


@dataclass(frozen=True)
class Entry:
    """One audit record to be appended: what was done to which object, before and after."""

    action: str
    object_type: str
    object_id: Any
    before: Any = None
    after: Any = None


CHAIN_LOCK_KEY = 0x6B7663726564  # "kvcred": the key of migration 0003's trigger


def hold_chain() -> None:
    """Take the chain lock now, until COMMIT (PostgreSQL; SQLite's BEGIN already holds its
    write lock). For a service that row-locks what another holder of the chain lock may lock
    later (breakers: the end of day appends records, then locks them one by one): taking the
    chain lock first gives every such transaction the same lock order, so none can deadlock."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.hold_chain must run inside the service's transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def record(
    actor: Any,
    action: str,
    obj_type: str,
    obj_id: Any,
    *,
    before: Any = None,
    after: Any = None,
    now: dt.datetime | None = None,
) -> AuditRecord:
    """Append one audit record to the chain. Must run inside the caller's transaction."""
    return record_many(actor, [Entry(action, obj_type, obj_id, before, after)], now=now)[0]


def record_many(
    actor: Any, entries: Sequence[Entry], *, now: dt.datetime | None = None
) -> list[AuditRecord]:
    """Append several records, in order, in one chain step (one INSERT, linked under the chain
    lock, which is held until COMMIT: call this last in the service's transaction).

    On PostgreSQL the database links the records (and numbers them) as it inserts them: the
    returned objects carry their ids and digests, not their links.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    at = now or timezone.now()
    common = {
        "at": at,
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "",
        "organisation_id": getattr(actor, "organisation_id", None),
        "request_id": current_request_id(),
    }
    records = [
        AuditRecord(
            **common,
            action=e.action,
            object_type=e.object_type,
            object_id=str(e.object_id),
            before=_canonical(e.before),
            after=_canonical(e.after),
        )
        for e in entries
    ]
    if not records:
        return []
    for r in records:
        r.digest = body_digest(_fields(r))
    if connection.vendor != "postgresql":
        prev = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = prev or GENESIS
        for r in records:
            r.prev_hash = prev
            r.hash = prev = link_hash(prev, r.digest)
    if len(records) == 1:
        records[0].save(force_insert=True)
    elif uses_copy(len(records)):  # a batch path's thousands: COPY, the trigger still links
        copy_create(AuditRecord, records, with_ids=False)
    else:
        AuditRecord.objects.bulk_create(records)
    return records


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_at: int | None  # id of the first record whose link or hash is wrong
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _iter_records(batch: int = 2000) -> Iterator[AuditRecord]:
    last_id = 0
    while True:
        chunk = list(AuditRecord.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].id


def verify() -> VerifyResult:
    """Walk the chain from the start; report the first record whose link or hash is wrong."""
    prev = GENESIS
    n = 0
    with transaction.atomic():
        for r in _iter_records():
            n += 1
            if r.prev_hash != prev:
                return VerifyResult(n, r.id, "prev_hash does not match the previous record")
            fields = _fields(r)
            if r.digest:
                ok = r.digest == body_digest(fields) and link_hash(r.prev_hash, r.digest) == r.hash
            else:
                ok = _legacy_hash(r.prev_hash, fields) == r.hash
            if not ok:
                return VerifyResult(n, r.id, "content does not match its hash")
            prev = r.hash
    return VerifyResult(n, None)


def recorded(action: str, obj_type: str, obj_id: Any) -> bool:
    """Has ``action`` been recorded on the object? (A service asking its own past, e.g. was
    this loan ever compensated by the fund.)"""
    return AuditRecord.objects.filter(
        action=action, object_type=obj_type, object_id=str(obj_id)
    ).exists()
