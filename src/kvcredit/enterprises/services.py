"""Every write on programme set-up and the enterprise registry.

Each function takes the acting user, checks the role, runs in one transaction and appends an
audit record. Scoping (which enterprise a district or enterprise user may touch) reuses the
selectors, so a use case cannot reach what its actor cannot see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from kvcredit import clock
from kvcredit.accounts.models import Organisation, OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises import selectors
from kvcredit.enterprises.domain.credit_line import CreditLine as LineValue
from kvcredit.enterprises.domain.credit_line import CreditLineError
from kvcredit.enterprises.evaluating import (
    apply_limit,
    audit_evaluation,
    audit_submission,
    compiled_policy,
    declared_fields,
    new_evaluation,
    published_policy,
    split_record,
)
from kvcredit.enterprises.models import (
    Bank,
    BankAdmission,
    CreditLine,
    DataSubmission,
    District,
    Enterprise,
    Evaluation,
    PublishedPolicy,
)
from kvcredit.errors import Conflict, InvalidInput, NotFound, ServiceError
from kvcredit.money import format_yuan
from kvcredit.scoring.engine import evaluate_record
from kvcredit.scoring.fields import Field
from kvcredit.scoring.records import Problem, RecordError, normalize_record, uscc_problem

ADMIN = OrgKind.ADMINISTRATOR


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _said(p: Problem) -> str:
    """A record problem in the active language (the pure records carry Chinese and English)."""
    return p.message_zh if (get_language() or "").lower().startswith("zh") else p.message_en


def create_district(
    actor: User,
    *,
    code: str,
    name: str,
    participating_since: dt.date,
    name_en: str = "",
    now: dt.datetime | None = None,
) -> District:
    require(actor, ADMIN, action=gettext_noop("create districts"))
    with transaction.atomic():
        if District.objects.filter(code=code).exists():
            raise Conflict(_("district code %(code)s exists") % {"code": code}, field="code")
        if District.objects.filter(name=name).exists():
            raise Conflict(_("district %(name)s exists") % {"name": name}, field="name")
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
    require(actor, ADMIN, action=gettext_noop("create banks"))
    with transaction.atomic():
        if Bank.objects.filter(code=code).exists():
            raise Conflict(_("bank code %(code)s exists") % {"code": code}, field="code")
        if Bank.objects.filter(name=name).exists():
            raise Conflict(_("bank %(name)s exists") % {"name": name}, field="name")
        bank = Bank.objects.create(code=code, name=name, organisation=_organisation("BANK", name))
        audit.record(actor, "BANK_CREATE", "bank", bank.pk, after={"code": code, "name": name})
    return bank


def admit_bank(
    actor: User, *, bank_id: int, district_id: int, now: dt.datetime | None = None
) -> BankAdmission:
    require(actor, ADMIN, action=gettext_noop("admit banks to districts"))
    now = _now(now)
    with transaction.atomic():
        bank = Bank.objects.filter(pk=bank_id).first()
        district = District.objects.filter(pk=district_id).first()
        if bank is None:
            raise NotFound(_("no such bank"), field="bank_id")
        if district is None:
            raise NotFound(_("no such district"), field="district_id")
        if BankAdmission.objects.filter(bank=bank, district=district).exists():
            raise Conflict(_("the bank is already admitted to this district"), field="district_id")
        adm = BankAdmission.objects.create(bank=bank, district=district, admitted_at=now)
        after = {"bank_id": bank.pk, "district_id": district.pk}
        audit.record(actor, "BANK_ADMIT", "bank_admission", adm.pk, after=after, now=now)
    return adm


def _uscc_taken(actor: User, uscc: str) -> ServiceError:
    """The refusal of a USCC that is registered already, saying only what the actor may know.

    The administrator and the enterprise's own district learn that it is registered; another
    district learns only that it cannot register it, not that it exists elsewhere.
    """
    if selectors.enterprises(actor).filter(uscc=uscc).exists():
        return Conflict(_("an enterprise with this USCC is registered"), field="uscc")
    return InvalidInput([("uscc", _("this USCC cannot be registered by your district"))])


def register_enterprise(
    actor: User, *, uscc: str, name: str, district_id: int, now: dt.datetime | None = None
) -> Enterprise:
    """Register an enterprise (administrator, or a district for its own district)."""
    kind = require(actor, ADMIN, OrgKind.DISTRICT, action=gettext_noop("register enterprises"))
    now = _now(now)
    uscc = uscc.strip().upper()
    problem = uscc_problem(uscc)
    if problem:
        raise InvalidInput([("uscc", _said(problem))])
    district = selectors.districts(actor).filter(pk=district_id).first()
    if district is None:
        raise NotFound(_("no such district"), field="district_id")
    if kind == OrgKind.DISTRICT and district.organisation_id != actor.organisation_id:
        msg = _("a district registers enterprises of its own only")
        raise InvalidInput([("district_id", msg)])
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=uscc).exists():
            raise _uscc_taken(actor, uscc)
        org = _organisation(OrgKind.ENTERPRISE, f"{name} [{uscc}]")
        try:
            with transaction.atomic():
                ent = Enterprise.objects.create(
                    uscc=uscc, name=name, district=district, organisation=org, registered_at=now
                )
        except IntegrityError:
            raise _uscc_taken(actor, uscc) from None
        CreditLine.objects.create(enterprise=ent, updated_at=now)
        after = {"uscc": uscc, "name": name, "district_id": district.pk}
        audit.record(actor, "ENTERPRISE_REGISTER", "enterprise", ent.pk, after=after, now=now)
    return ent


def require_past_year(year: int, now: dt.datetime) -> None:
    """Yearly data is for a year that has begun: never a future year (the business date's)."""
    this_year = timezone.localtime(now).year
    if year > this_year:
        msg = _("data cannot be for a future year (the latest is %(year)s)") % {"year": this_year}
        raise InvalidInput([("year", msg)])


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
    require(
        actor,
        ADMIN,
        OrgKind.DISTRICT,
        OrgKind.ENTERPRISE,
        action=gettext_noop("submit enterprise data"),
    )
    now = _now(now)
    require_past_year(year, now)
    with transaction.atomic():
        # Lock the enterprise's credit line, found through the actor's scope (one statement):
        # it serialises the submissions of one enterprise, hence their version numbers. Then,
        # in one statement whose snapshot follows the lock, the year's last version and the
        # policy in force.
        line = next(
            iter(
                selectors.credit_lines(actor)
                .select_for_update(of=("self",))
                .filter(enterprise_id=enterprise_id)
                .order_by()[:1]
            ),
            None,
        )
        if line is None:
            raise NotFound(_("no such enterprise"), field="enterprise_id")
        ent = line.enterprise
        last_version, policy_pk, policy_hash = _version_and_policy(ent.pk, year)
        published = published_policy(policy_pk, policy_hash) if policy_pk is not None else None
        declared = declared_fields(published)
        data, extra = split_record(_normalise(ent, values, declared), declared)
        sub = DataSubmission.objects.create(
            enterprise=ent,
            year=year,
            version=(last_version or 0) + 1,
            data=data,
            extra=extra,
            submitted_at=now,
            submitted_by=actor,
        )
        entries = [
            audit.Entry("DATA_SUBMIT", "data_submission", sub.pk, after=audit_submission(sub))
        ]
        evaluation = None
        if published is not None:
            evaluation = _evaluate(ent, sub, line, published, now, entries)
        audit.record_many(actor, entries, now=now)
    return sub, evaluation


def _version_and_policy(enterprise_id: int, year: int) -> tuple[int | None, int | None, str]:
    """(the year's last version, the policy in force's id and content hash), in one statement
    run after the credit line's lock, so its snapshot sees every version committed before it.

    Written as SQL: the ORM's annotated subqueries cost more Python per submission than the
    statement itself (compiling and relabelling three subqueries)."""
    q = connection.ops.quote_name
    sub, pol = DataSubmission._meta.db_table, PublishedPolicy._meta.db_table
    sql = (
        f"SELECT (SELECT MAX({q('version')}) FROM {q(sub)} "
        f"WHERE {q('enterprise_id')} = %s AND {q('year')} = %s), "
        f"p.{q('id')}, p.{q('content_hash')} FROM (SELECT 1) AS one "
        f"LEFT JOIN (SELECT {q('id')}, {q('content_hash')} FROM {q(pol)} "
        f"ORDER BY {q('id')} DESC LIMIT 1) AS p ON 1 = 1"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [enterprise_id, year])
        last_version, policy_pk, policy_hash = cur.fetchone()
    return last_version, policy_pk, policy_hash or ""


def _evaluate(
    ent: Enterprise,
    sub: DataSubmission,
    line: CreditLine,
    published: PublishedPolicy,
    now: dt.datetime,
    entries: list[audit.Entry],
) -> Evaluation:
    """Evaluate a stored submission with the policy in force, set the limit; append the audit.

    The explanation is stored without suggestions: they are computed when read, by those who
    may see the enterprise's data (they cost more than the evaluation itself).
    """
    today = clock.date_of(now)
    result = evaluate_record(compiled_policy(published), sub.record, suggest=False, on=today)
    explanation = result.to_dict()
    del explanation["suggestions"]  # not computed here (see the docstring)
    ev = new_evaluation(
        enterprise=ent,
        submission=sub,
        published=published,
        eligible=result.eligible,
        score=result.score,
        grade=result.grade,
        credit_limit=result.credit_limit,
        explanation=explanation,
        now=now,
        today=today,
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


def _normalise(
    ent: Enterprise, values: Mapping[str, Any], declared: tuple[Field, ...] = ()
) -> dict[str, int | str]:
    """The submitted values, the declared fields' given flat or under ``extra``, checked."""
    data = {k: v for k, v in values.items() if k not in {"uscc", "name", "district", "extra"}}
    data |= dict(values.get("extra") or {})
    data |= {"uscc": ent.uscc, "name": ent.name, "district": ent.district.name}
    try:
        return normalize_record(data, declared)
    except RecordError as exc:
        raise InvalidInput([(p.field, _said(p)) for p in exc.problems]) from None


def _organisation(kind: str, name: str) -> Organisation:
    try:
        with transaction.atomic():
            return Organisation.objects.create(kind=kind, name=name)
    except IntegrityError:
        msg = _("an organisation named %(name)s exists") % {"name": repr(name)}
        raise Conflict(msg, field="name") from None


# -- the credit line: this module is the one writer of its reserved and used amounts ----------
#    The arithmetic is the pure ``CreditLine`` value's (enterprises.domain.credit_line): an
#    operation that would go below zero is refused, never clamped. Lending calls these inside
#    its own transactions (an application, a disbursement, a repayment, a reversal).


def lock_credit_line(enterprise_id: int) -> CreditLine:
    """The enterprise's credit line, locked for the caller's transaction."""
    return CreditLine.objects.select_for_update().get(enterprise_id=enterprise_id)


def _line_state(line: CreditLine) -> dict[str, Any]:
    return {"reserved_fen": line.reserved_fen, "used_fen": line.used_fen}


def _credit_op(
    actor: Any,
    enterprise_id: int,
    op: Callable[[LineValue], LineValue],
    now: dt.datetime | None,
    audit_as: str | None,
) -> CreditLine:
    line = lock_credit_line(enterprise_id)
    before = _line_state(line)
    try:
        value = op(line.value)
    except CreditLineError as exc:
        if exc.op == "reserve":
            msg = _("the amount exceeds the available limit of %(yuan)s yuan") % {
                "yuan": format_yuan(exc.room)
            }
            raise InvalidInput([("amount", msg)]) from None
        raise Conflict(_("the credit line cannot go below zero"), field="amount") from None
    line.take(value)
    line.updated_at = _now(now)
    line.save(update_fields=["reserved_fen", "used_fen", "updated_at"])
    if audit_as:
        audit.record(
            actor, audit_as, "credit_line", line.pk, before=before, after=_line_state(line)
        )
    return line


def reserve_credit(
    actor: Any,
    *,
    enterprise_id: int,
    amount_fen: int,
    today: dt.date,
    now: dt.datetime | None = None,
    audit_as: str | None = "CREDIT_RESERVE",
) -> CreditLine:
    """Hold ``amount_fen`` of the available limit (an application); refused beyond it."""
    return _credit_op(
        actor, enterprise_id, lambda v: v.reserve(amount_fen, today=today), now, audit_as
    )


def release_credit(
    actor: Any,
    *,
    enterprise_id: int,
    amount_fen: int,
    now: dt.datetime | None = None,
    audit_as: str | None = None,
) -> CreditLine:
    """Free ``amount_fen`` of what is reserved (approval of less, rejection, expiry …)."""
    return _credit_op(actor, enterprise_id, lambda v: v.release(amount_fen), now, audit_as)


def consume_credit(
    actor: Any,
    *,
    enterprise_id: int,
    amount_fen: int,
    held_fen: int = 0,
    now: dt.datetime | None = None,
    audit_as: str | None = None,
) -> CreditLine:
    """Use ``amount_fen`` (a disbursement, freeing the ``held_fen`` its application held; or a
    reversed repayment, ``held_fen`` = 0)."""
    return _credit_op(
        actor, enterprise_id, lambda v: v.consume(amount_fen, held=held_fen), now, audit_as
    )


def restore_credit(
    actor: Any,
    *,
    enterprise_id: int,
    amount_fen: int,
    now: dt.datetime | None = None,
    audit_as: str | None = None,
) -> CreditLine:
    """Repaid principal ``amount_fen`` returns to the available limit."""
    return _credit_op(actor, enterprise_id, lambda v: v.restore(amount_fen), now, audit_as)
