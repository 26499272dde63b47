"""The floor of the API's cost, for ``bench/api.py`` only: a bare django-ninja endpoint on the
same server settings (middleware, database, audit chain) that inserts one row with one audit
record, and reads one row back. Mounted under ``/bench/floor/`` only when
``KVCREDIT_BENCH_FLOOR`` is on (never in production: ``kvcredit check`` calls it an error).

No authentication, no validation beyond the body's shape, no evaluation: what any write of the
service costs at least (a request, a transaction, an INSERT, the chain step, COMMIT). The table
is the bench's own, created here on first use; the service's schema does not know it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Schema

from kvcredit.audit import services as audit

TABLE = "kvcredit_bench_floor"
floor = NinjaAPI(title="kvcredit bench floor", version="0", urls_namespace="bench-floor")
_ready = False


class FloorIn(Schema):
    year: int
    data: dict[str, Any]


def _ensure_table() -> None:
    global _ready
    if _ready:
        return
    key = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            f"(id {key} PRIMARY KEY, year INTEGER NOT NULL, data TEXT NOT NULL, at TEXT NOT NULL)"
        )
    _ready = True


@floor.post("/rows", response={201: dict[str, int]})
def insert_row(request: HttpRequest, body: FloorIn) -> Any:
    _ensure_table()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (year, data, at) VALUES (%s, %s, %s) RETURNING id",
            [body.year, json.dumps(body.data), now.isoformat()],
        )
        (row_id,) = cur.fetchone()
        audit.record(None, "BENCH_FLOOR", "bench_floor", row_id, after=body.data, now=now)
    return 201, {"id": row_id}


@floor.get("/rows/{row_id}", response={200: dict[str, Any], 404: dict[str, str]})
def read_row(request: HttpRequest, row_id: int) -> Any:
    _ensure_table()
    with connection.cursor() as cur:
        cur.execute(f"SELECT id, year, data FROM {TABLE} WHERE id = %s", [row_id])
        row = cur.fetchone()
    if row is None:
        return 404, {"detail": "no such row"}
    return 200, {"id": row[0], "year": row[1], "data": json.loads(row[2])}
