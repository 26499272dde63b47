"""Every write on programme set-up and the enterprise registry.

Each function takes the acting user, checks the role, runs in one transaction and appends an
audit record. Scoping (which enterprise a district or enterprise user may touch) reuses the
selectors, so a use case cannot reach what its actor cannot see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kvcredit.accounts.models import Organisation, OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import (
    apply_limit,
    audit_evaluation,
    audit_submission,
    compiled_policy,
    new_evaluation,
)
from kvcredit.enterprises.models import (
    Bank,
    BankAdmission,
    CreditLine,
    DataSubmission,
    District,
    Enterprise,
    Evaluation,
)
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.scoring.engine import evaluate_record
from kvcredit.scoring.records import RecordError, normalize_record, uscc_problem

ADMIN = OrgKind.ADMINISTRATOR


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def create_district(
    actor: User,
    *,
    code: str,
    name: str,
    participating_since: dt.date,
    name_en: str = "",
    now: dt.datetime | None = None,
) -> District:
    require(actor, ADMIN, action="create districts")
    with transaction.atomic():
        if District.objects.filter(code=code).exists():
            raise Conflict(f"district code {code} exists", field="code")
        if District.objects.filter(name=name).exists():
            raise Conflict(f"district {name} exists", field="name")
        org = _organisation(OrgKind.DISTRICT, name)
        d = District.objects.create(
            code=code,
            name=name,
            name_en=name_en,
            participating_since=participating_since,
            organisation=org,
        )
        after = {"code": code, "name": name, "participating_since": participating_since}
        audit.record(actor, "DISTRICT_CREATE", "district", d.pk, after=after, now=now)
    return d


def create_bank(actor: User, *, code: str, name: str, now: dt.datetime | None = None) -> Bank:
    require(actor, ADMIN, action="create banks")
    with transaction.atomic():
        if Bank.objects.filter(code=code).exists():
            raise Conflict(f"bank code {code} exists", field="code")
        if Bank.objects.filter(name=name).exists():
            raise Conflict(f"bank {name} exists", field="name")
        bank = Bank.objects.create(code=code, name=name, organisation=_organisation("BANK", name))
        audit.record(actor, "BANK_CREATE", "bank", bank.pk, after={"code": code, "name": name})
    return bank


def admit_bank(
    actor: User, *, bank_id: int, district_id: int, now: dt.datetime | None = None
) -> BankAdmission:
    require(actor, ADMIN, action="admit banks to districts")
    now = _now(now)
    with transaction.atomic():
        bank = Bank.objects.filter(pk=bank_id).first()
        district = District.objects.filter(pk=district_id).first()
        if bank is None:
            raise NotFound("no such bank", field="bank_id")
        if district is None:
            raise NotFound("no such district", field="district_id")
        if BankAdmission.objects.filter(bank=bank, district=district).exists():
            raise Conflict("the bank is already admitted to this district", field="district_id")
        adm = BankAdmission.objects.create(bank=bank, district=district, admitted_at=now)
        after = {"bank_id": bank.pk, "district_id": district.pk}
        audit.record(actor, "BANK_ADMIT", "bank_admission", adm.pk, after=after, now=now)
    return adm


def register_enterprise(
    actor: User, *, uscc: str, name: str, district_id: int, now: dt.datetime | None = None
) -> Enterprise:
    """Register an enterprise (administrator, or a district for its own district)."""
    kind = require(actor, ADMIN, OrgKind.DISTRICT, action="register enterprises")
    now = _now(now)
    uscc = uscc.strip().upper()
    problem = uscc_problem(uscc)
    if problem:
        raise InvalidInput([("uscc", problem.message_en)])
    district = selectors.districts(actor).filter(pk=district_id).first()
    if district is None:
        raise NotFound("no such district", field="district_id")
    if kind == OrgKind.DISTRICT and district.organisation_id != actor.organisation_id:
        raise InvalidInput([("district_id", "a district registers enterprises of its own only")])
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=uscc).exists():
            raise Conflict("an enterprise with this USCC is registered", field="uscc")
        org = _organisation(OrgKind.ENTERPRISE, f"{name} [{uscc}]")
        try:
            with transaction.atomic():
                ent = Enterprise.objects.create(
                    uscc=uscc, name=name, district=district, organisation=org, registered_at=now
                )
        except IntegrityError:
            raise Conflict("an enterprise with this USCC is registered", field="uscc") from None
        CreditLine.objects.create(enterprise=ent, updated_at=now)
        after = {"uscc": uscc, "name": name, "district_id": district.pk}
        audit.record(actor, "ENTERPRISE_REGISTER", "enterprise", ent.pk, after=after, now=now)
    return ent


def submit_data(
    actor: User,
    *,
    enterprise_id: int,
    year: int,
    values: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> tuple[DataSubmission, Evaluation | None]:
    """Store a new version of an enterprise's yearly data and evaluate it at once.

    The audit records (submission, evaluation, credit limit) are appended in one chain step at
    the end of the transaction, so the programme-wide chain lock is held only until COMMIT.
    """
    require(actor, ADMIN, OrgKind.DISTRICT, OrgKind.ENTERPRISE, action="submit enterprise data")
    now = _now(now)
    ent = next(iter(selectors.enterprises(actor).filter(pk=enterprise_id).order_by()[:1]), None)
    if ent is None:
        raise NotFound("no such enterprise", field="enterprise_id")
    record = _normalise(ent, values)
    with transaction.atomic():
        # Lock the credit line: it serialises submissions of one enterprise (version numbers).
        line = CreditLine.objects.select_for_update().get(enterprise=ent)
        last = (
            DataSubmission.objects.filter(enterprise=ent, year=year)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        sub = DataSubmission.objects.create(
            enterprise=ent,
            year=year,
            version=(last or 0) + 1,
            data=record,
            submitted_at=now,
            submitted_by=actor,
        )
        entries = [
            audit.Entry("DATA_SUBMIT", "data_submission", sub.pk, after=audit_submission(sub))
        ]
        evaluation = _evaluate(ent, sub, line, now, entries)
        audit.record_many(actor, entries, now=now)
    return sub, evaluation


def _evaluate(
    ent: Enterprise,
    sub: DataSubmission,
    line: CreditLine,
    now: dt.datetime,
    entries: list[audit.Entry],
) -> Evaluation | None:
    """Evaluate a stored submission with the current policy, set the limit; append the audit."""
    published = selectors.current_policy()
    if published is None:
        return None
    result = evaluate_record(compiled_policy(published), sub.data)
    ev = new_evaluation(
        enterprise=ent,
        submission=sub,
        published=published,
        eligible=result.eligible,
        score=result.score,
        grade=result.grade,
        credit_limit=result.credit_limit,
        explanation=result.to_dict(),
        now=now,
        today=timezone.localdate(now),
    )
    ev.save(force_insert=True)
    before = apply_limit(line, ev, now)
    line.save(update_fields=["evaluation", "limit_fen", "valid_until", "updated_at"])
    after = {"limit_fen": line.limit_fen, "valid_until": line.valid_until}
    entries += [
        audit.Entry("EVALUATE", "evaluation", ev.pk, after=audit_evaluation(ev)),
        audit.Entry("CREDIT_LIMIT_SET", "credit_line", line.pk, before=before, after=after),
    ]
    return ev


def _normalise(ent: Enterprise, values: Mapping[str, Any]) -> dict[str, int | str]:
    data = {k: v for k, v in values.items() if k not in {"uscc", "name", "district"}}
    data |= {"uscc": ent.uscc, "name": ent.name, "district": ent.district.name}
    try:
        return normalize_record(data)
    except RecordError as exc:
        raise InvalidInput([(p.field, p.message_en) for p in exc.problems]) from None


def _organisation(kind: str, name: str) -> Organisation:
    try:
        with transaction.atomic():
            return Organisation.objects.create(kind=kind, name=name)
    except IntegrityError:
        raise Conflict(f"an organisation named {name!r} exists", field="name") from None
