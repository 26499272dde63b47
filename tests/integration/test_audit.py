"""The audit log: every write on record, append-only in the database, hash-chained."""

from __future__ import annotations

import itertools

import pytest
from django.db import DatabaseError, connection, transaction

from kvcredit.audit.models import AuditRecord
from kvcredit.audit.services import GENESIS, record_hash, verify
from kvcredit.enterprises import services

pytestmark = pytest.mark.django_db


def test_every_write_records_actor_organisation_action_object_and_after(world):
    user = world.users["district_a"]
    ent = services.register_enterprise(
        user,
        uscc="91500000MA5U0D0D0" + _check("91500000MA5U0D0D0"),
        name="审计企业",
        district_id=world.district["a"].pk,
    )
    rec = AuditRecord.objects.filter(action="ENTERPRISE_REGISTER", object_id=str(ent.pk)).get()
    assert rec.actor_id == user.pk and rec.actor_username == "district_a"
    assert rec.organisation_id == user.organisation_id
    assert rec.object_type == "enterprise" and rec.after["name"] == "审计企业"


def test_a_credit_limit_change_records_before_and_after(world):
    ent = world.enterprise["a"]
    from conftest import strong_values

    services.submit_data(
        world.system, enterprise_id=ent.pk, year=2025, values=strong_values(abnormal_operation=True)
    )
    rec = AuditRecord.objects.filter(action="CREDIT_LIMIT_SET").order_by("-id").first()
    assert rec.before["limit_fen"] > 0 and rec.after["limit_fen"] == 0


def test_the_chain_links_each_record_to_the_one_before(world):
    records = list(AuditRecord.objects.order_by("id"))
    assert records[0].prev_hash == GENESIS
    for prev, cur in itertools.pairwise(records):
        assert cur.prev_hash == prev.hash
    assert verify().ok and verify().checked == len(records)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditrecord SET action = 'X'", "DELETE FROM audit_auditrecord"]
)
def test_the_database_refuses_to_update_or_delete_audit_records(world, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement)
    assert verify().ok


def test_verify_reports_the_first_broken_link(world):
    last = AuditRecord.objects.order_by("-id").first()
    fields = {
        "at": last.at,
        "actor_id": None,
        "actor_username": "forger",
        "organisation_id": None,
        "action": "FORGED",
        "object_type": "x",
        "object_id": "1",
        "before": None,
        "after": None,
        "request_id": "",
        "prev_hash": "f" * 64,
        "hash": "e" * 64,
    }
    forged = AuditRecord.objects.create(**fields)  # an INSERT is allowed; its link is wrong
    result = verify()
    assert not result.ok and result.broken_at == forged.pk
    assert "prev_hash" in result.reason


def test_verify_detects_a_record_whose_content_does_not_match_its_hash(world):
    last = AuditRecord.objects.order_by("-id").first()
    fields = {
        "at": last.at,
        "actor_id": None,
        "actor_username": "forger",
        "organisation_id": None,
        "action": "FORGED",
        "object_type": "x",
        "object_id": "1",
        "before": None,
        "after": None,
        "request_id": "",
        "prev_hash": last.hash,
    }
    good_hash = record_hash(last.hash, {**fields, "at": "other", "prev_hash": None})
    forged = AuditRecord.objects.create(**fields, hash=good_hash)
    result = verify()
    assert result.broken_at == forged.pk and "hash" in result.reason


def _check(first17: str) -> str:
    from kvcredit.scoring.fields import uscc_check_char

    return uscc_check_char(first17)
