"""Writing and verifying the audit chain.

``record`` is called by every service inside its transaction, as its last step. The chain head is
serialised: on PostgreSQL by a transaction-level advisory lock, on SQLite by the write lock the
connection takes at BEGIN (``transaction_mode = IMMEDIATE``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
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
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
    r = AuditRecord(
        at=now or timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        organisation_id=getattr(actor, "organisation_id", None),
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        before=_canonical(before),
        after=_canonical(after),
        request_id=current_request_id(),
        prev_hash=last or GENESIS,
    )
    r.hash = record_hash(r.prev_hash, _fields(r))
    r.save(force_insert=True)
    return r


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
