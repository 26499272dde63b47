"""The audit log: every write on record, append-only in the database, hash-chained."""

from __future__ import annotations

import itertools

import pytest
from django.db import DatabaseError, connection, transaction

from kvcredit.audit.models import AuditRecord
from kvcredit.audit.services import GENESIS, body_digest, link_hash, verify
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
    forged = _forge(fields)  # an INSERT is allowed; its link is wrong
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
    other = body_digest({**fields, "at": "other", "prev_hash": None})
    # a well-linked record whose digest and hash are those of other content
    forged = _forge({**fields, "digest": other, "hash": link_hash(last.hash, other)})
    result = verify()
    assert result.broken_at == forged.pk and "hash" in result.reason


def test_records_written_before_digests_still_verify(world):
    """A chain written before digests existed (hash over content and prev together) verifies;
    a new record links to it."""
    import hashlib
    import json

    from kvcredit.audit.services import _fields

    last = AuditRecord.objects.order_by("-id").first()
    old = AuditRecord(
        at=last.at,
        actor_username="legacy",
        action="LEGACY",
        object_type="x",
        object_id="1",
        request_id="",
        prev_hash=last.hash,
    )
    body = json.dumps({"prev": last.hash, **_fields(old)}, sort_keys=True, ensure_ascii=False)
    old.hash = hashlib.sha256(body.encode()).hexdigest()
    _forge({f: getattr(old, f) for f in (*_fields(old), "prev_hash", "hash")})
    assert verify().ok
    services.register_enterprise(
        world.users["district_a"],
        uscc="91500000MA5U0D0D1" + _check("91500000MA5U0D0D1"),
        name="新企业",
        district_id=world.district["a"].pk,
    )
    assert verify().ok


def _forge(fields: dict) -> AuditRecord:  # type: ignore[type-arg]
    """INSERT a record as given, as someone with write access to the table could; on
    PostgreSQL the linking trigger is switched off for it (it would link the record)."""
    pg = connection.vendor == "postgresql"
    if pg:
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_link")
    try:
        return AuditRecord.objects.create(**fields)
    finally:
        if pg:
            with connection.cursor() as cur:
                cur.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER audit_link")


def _check(first17: str) -> str:
    from kvcredit.scoring.fields import uscc_check_char

    return uscc_check_char(first17)
