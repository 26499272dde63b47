"""bench/api.py's floor endpoint: mounted only with KVCREDIT_BENCH_FLOOR, and then it inserts
one row with one audit record (the chain still verifies)."""

from __future__ import annotations

import importlib

import pytest
from django.urls import clear_url_caches

from kvcredit.audit.models import AuditRecord
from kvcredit.audit.services import verify

pytestmark = pytest.mark.django_db


def _reload_urls() -> None:
    import kvcredit.site.urls

    importlib.reload(kvcredit.site.urls)
    clear_url_caches()


@pytest.fixture
def floor_on(settings):  # type: ignore[no-untyped-def]
    settings.KVCREDIT_BENCH_FLOOR = True
    _reload_urls()
    yield
    settings.KVCREDIT_BENCH_FLOOR = False
    _reload_urls()


def test_the_floor_is_not_mounted_by_default(client):
    assert client.post("/bench/floor/rows", {}, content_type="application/json").status_code == 404


def test_the_floor_inserts_one_row_with_one_audit_record(floor_on, client):
    before = AuditRecord.objects.count()
    r = client.post(
        "/bench/floor/rows", {"year": 2025, "data": {"revenue": 5}}, content_type="application/json"
    )
    assert r.status_code == 201
    row_id = r.json()["id"]
    assert AuditRecord.objects.count() == before + 1
    rec = AuditRecord.objects.order_by("-id").first()
    assert (rec.action, rec.object_id, rec.after) == ("BENCH_FLOOR", str(row_id), {"revenue": 5})
    assert client.get(f"/bench/floor/rows/{row_id}").json()["data"] == {"revenue": 5}
    assert verify().ok
