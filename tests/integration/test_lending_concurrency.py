"""Two applications fired at once can never together exceed the enterprise's limit.

PostgreSQL only: each thread has its own connection, and the credit line row lock
(``select_for_update``) serialises them, so exactly one is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from django.db import connection

from kvcredit.enterprises.models import CreditLine
from kvcredit.errors import InvalidInput
from kvcredit.lending import loans, services

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="row locks between connections are tested on PostgreSQL",
)


def _audit_truncate(enable: bool) -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"ALTER TABLE audit_auditrecord {'ENABLE' if enable else 'DISABLE'} "
            "TRIGGER audit_no_truncate"
        )


@pytest.fixture
def _restore_audit_trigger(django_db_blocker):  # type: ignore[no-untyped-def]
    yield
    with django_db_blocker.unblock():
        _audit_truncate(True)


@pytest.fixture
def committed_world(_restore_audit_trigger, transactional_db, world):  # type: ignore[no-untyped-def]
    """Committed rows (the threads must see them); the flush at the end TRUNCATEs every table,
    which the audit log refuses, so its trigger is off for the flush."""
    yield world
    _audit_truncate(False)


def test_two_concurrent_applications_never_exceed_the_limit(committed_world):
    world = committed_world
    product = services.create_product(world.users["admin"], code="KVC", name="kvc")
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    today = line.valid_until - dt.timedelta(days=1)
    share = line.limit_fen * 6 // 10  # each fits alone, the two together do not
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        try:
            start.wait()
            loans.apply(
                world.users["enterprise_a"],
                bank_id=world.bank["a"].pk,
                product_id=product.pk,
                amount_fen=share,
                term_months=12,
                method="MONTHLY_INTEREST",
                purpose="研发",
                first_time_borrower=False,
                today=today,
            )
            outcomes.append("accepted")
        except InvalidInput as exc:
            outcomes.append(f"refused: {exc.problems[0][0]}")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused: amount"]
    line.refresh_from_db()
    assert line.reserved_fen == share <= line.limit_fen
