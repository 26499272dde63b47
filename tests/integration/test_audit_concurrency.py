"""The audit chain under concurrent writers (PostgreSQL: the database links each record under
the chain lock as it is inserted; ids follow the chain, every link holds)."""

from __future__ import annotations

import itertools
import os
import threading

import pytest
from django.db import connection

from conftest import strong_values
from kvcredit.audit.models import AuditRecord
from kvcredit.audit.services import GENESIS, verify
from kvcredit.enterprises import services

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="concurrent connections are tested on PostgreSQL",
)


def test_concurrent_submissions_keep_one_unbroken_chain_in_id_order(committed_world) -> None:
    world = committed_world
    before = AuditRecord.objects.count()
    writers, rounds = 6, 5
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def submit(i: int) -> None:
        try:
            start.wait()
            ent = world.enterprise["a" if i % 2 else "b"]
            for k in range(rounds):
                services.submit_data(
                    world.system,
                    enterprise_id=ent.pk,
                    year=2025,
                    values=strong_values(ip_invention=i + k),
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    records = list(AuditRecord.objects.order_by("id"))
    assert len(records) == before + writers * rounds * 3  # submission, evaluation, limit
    assert records[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    result = verify()
    assert result.ok, result
