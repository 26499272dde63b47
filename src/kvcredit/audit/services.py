"""Writing and verifying the audit chain.

``record`` (one entry) and ``record_many`` (all the entries of one use case) are called by every
service inside its transaction, as its last step. The chain head is serialised: on PostgreSQL by
a transaction-level advisory lock, on SQLite by the write lock the connection takes at BEGIN
(``transaction_mode = IMMEDIATE``). The lock is held from the chain step to COMMIT, so every
write in the programme passes through it one at a time; that is why the chain step comes last
and writes all of a use case's records in one statement: the serialised stretch is one lock,
one read of the head and one INSERT, not the whole use case (validation, evaluation, inserts).
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

GENESIS = "0" * 64
_LOCK_KEY = 0x6B7663726564  # "kvcred"


def _canonical(value: Any) -> Any:
    """JSON-safe value with a stable text form (what is stored is what is hashed)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
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
    """Append several records, in order, in one chain step (one lock, one read, one INSERT).

    Must run inside the caller's transaction, as its last step: the chain lock is held until
    COMMIT. The records are built and hashed before the lock is taken, except for the links.
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
    prev = _lock_chain_head()
    for r in records:
        r.prev_hash = prev
        r.hash = prev = record_hash(prev, _fields(r))
    if len(records) == 1:
        records[0].save(force_insert=True)
    else:
        AuditRecord.objects.bulk_create(records)
    return records


def _lock_chain_head() -> str:
    """Take the chain lock (until COMMIT) and read the head's hash.

    On PostgreSQL both go in one round trip, as two statements: the second one takes its
    snapshot after the lock is granted, so it sees the head the previous holder committed.
    """
    if connection.vendor != "postgresql":
        last = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
        return last or GENESIS
    table = AuditRecord._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT pg_advisory_xact_lock({_LOCK_KEY:d}); "
            f'SELECT "hash" FROM "{table}" ORDER BY "id" DESC LIMIT 1'
        )
        cur.nextset()
        row = cur.fetchone()
    return str(row[0]) if row else GENESIS


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
            if record_hash(r.prev_hash, _fields(r)) != r.hash:
                return VerifyResult(n, r.id, "content does not match its hash")
            prev = r.hash
    return VerifyResult(n, None)
