"""Writes on lending set-up: rates (rows added, never edited), products, bank suspensions,
and commercial loans made alongside. Applications and loans: ``lending.loans``; repayments:
``lending.repayments``; the end of day: ``lending.endofday``."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.enterprises.models import Bank, District
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.lending.domain import rates
from kvcredit.lending.domain.aging import ClassificationRules
from kvcredit.lending.loans import loan_for_update as loan_for_update

# The fund's marks on a loan and the loan locks it takes live with the loans (lending.loans);
# the fund reaches them here, through lending's services.
from kvcredit.lending.loans import lock_loans as lock_loans
from kvcredit.lending.loans import mark_compensated as mark_compensated
from kvcredit.lending.loans import write_off as write_off
from kvcredit.lending.models import (
    DEFAULT_ORDER,
    BankSuspension,
    CommercialLoan,
    Method,
    Product,
    Rate,
    RateBasis,
)

RATE_TYPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


ppm_to_percent = rates.ppm_to_percent


def percent_to_ppm(percent: Decimal | str) -> int:
    """A rate typed in percent -> ppm (``rates.percent_to_ppm``), refused with a field name."""
    try:
        value = Decimal(percent)
    except InvalidOperation:
        raise InvalidInput([("annual_rate_percent", _("not a number"))]) from None
    try:
        return rates.percent_to_ppm(value)
    except ValueError:
        raise InvalidInput(
            [("annual_rate_percent", _("between 0 and 100, at most 4 decimals"))]
        ) from None


def add_rate(
    actor: User,
    *,
    rate_type: str,
    effective_date: dt.date,
    annual_rate_percent: Decimal | str,
    note: str = "",
) -> Rate:
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("add rates"))
    if not rate_type or set(rate_type) - RATE_TYPE_CHARS:
        raise InvalidInput([("rate_type", _("UPPER_SNAKE letters, digits and _ only"))])
    ppm = percent_to_ppm(annual_rate_percent)
    with transaction.atomic():
        if Rate.objects.filter(rate_type=rate_type, effective_date=effective_date).exists():
            raise Conflict(
                _("a rate of this type is in force from this date"), field="effective_date"
            )
        rate = Rate.objects.create(
            rate_type=rate_type, effective_date=effective_date, annual_rate_ppm=ppm, note=note
        )
        after = {"rate_type": rate_type, "effective_date": effective_date, "ppm": ppm}
        audit.record(actor, "RATE_ADD", "rate", rate.pk, after=after)
    return rate


def shipped_rates() -> list[dict[str, Any]]:
    """The published change points shipped with the package (data/rates.csv)."""
    text = resources.files("kvcredit.data").joinpath("rates.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_shipped_rates(actor: User) -> int:
    """Add the shipped rates that are not in the table yet; returns how many were added."""
    added = 0
    for row in shipped_rates():
        day = dt.date.fromisoformat(row["effective_date"])
        if Rate.objects.filter(rate_type=row["rate_type"], effective_date=day).exists():
            continue
        add_rate(
            actor,
            rate_type=row["rate_type"],
            effective_date=day,
            annual_rate_percent=row["annual_rate_percent"],
            note=row.get("note") or "",
        )
        added += 1
    return added


# -- products (administrator) ---------------------------------------------------------------
PRODUCT_FIELDS = (
    "name",
    "rate_basis",
    "spread_bp",
    "max_term_months",
    "methods",
    "penalty_uplift_percent",
    "grace_days",
    "allocation_order",
    "classification_bounds",
    "approval_valid_days",
    "active",
)


def _check_product(values: dict[str, Any]) -> None:
    problems: list[tuple[str, str]] = []
    if values["rate_basis"] not in RateBasis.values:
        problems.append(("rate_basis", _("PBOC_BENCHMARK or LPR_1Y")))
    methods = values["methods"]
    if not methods or len(set(methods)) != len(methods) or set(methods) - set(Method.values):
        problems.append(("methods", _("one or more distinct repayment methods")))
    if sorted(values["allocation_order"]) != sorted(DEFAULT_ORDER):
        problems.append(("allocation_order", _("PENALTY, INTEREST and PRINCIPAL, each once")))
    try:
        ClassificationRules(tuple(values["classification_bounds"]))  # type: ignore[arg-type]
        if len(values["classification_bounds"]) != 4:
            raise ValueError
    except (ValueError, TypeError):
        problems.append(("classification_bounds", _("four rising non-negative day counts")))
    limits = {
        "spread_bp": (-10_000, 10_000),
        "max_term_months": (1, 360),
        "penalty_uplift_percent": (0, 1_000),
        "grace_days": (0, 365),
        "approval_valid_days": (1, 3_650),
    }
    for name, (lo, hi) in limits.items():
        if not lo <= values[name] <= hi:
            problems.append((name, _("between %(lo)s and %(hi)s") % {"lo": lo, "hi": hi}))
    if problems:
        raise InvalidInput(problems)


def _product_state(p: Product) -> dict[str, Any]:
    return {"code": p.code} | {f: getattr(p, f) for f in PRODUCT_FIELDS}


def create_product(
    actor: User, *, code: str, name: str, now: dt.datetime | None = None, **terms: Any
) -> Product:
    """A loan product. Omitted terms take the programme defaults (LPR, 0 bp, 12 months...)."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("set loan products"))
    values = {f: Product._meta.get_field(f).get_default() for f in PRODUCT_FIELDS}
    values["rate_basis"] = RateBasis.LPR_1Y
    values |= {k: v for k, v in terms.items() if v is not None} | {"name": name}
    _check_product(values)
    with transaction.atomic():
        if Product.objects.filter(code=code).exists():
            raise Conflict(_("a product with this code exists"), field="code")
        p = Product.objects.create(code=code, created_at=now or timezone.now(), **values)
        audit.record(actor, "PRODUCT_CREATE", "product", p.pk, after=_product_state(p))
    return p


def update_product(actor: User, *, product_id: int, **terms: Any) -> Product:
    """Change a product's terms. Loans already made keep the rate, penalty and grace they were
    made with; the allocation order and classification bounds apply to the whole book."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("set loan products"))
    with transaction.atomic():
        p = Product.objects.select_for_update().filter(pk=product_id).first()
        if p is None:
            raise NotFound(_("no such product"), field="product_id")
        before = _product_state(p)
        values = {f: getattr(p, f) for f in PRODUCT_FIELDS}
        values |= {k: v for k, v in terms.items() if v is not None and k in PRODUCT_FIELDS}
        _check_product(values)
        for k, v in values.items():
            setattr(p, k, v)
        p.save()
        audit.record(
            actor, "PRODUCT_UPDATE", "product", p.pk, before=before, after=_product_state(p)
        )
    return p


# -- suspensions (written by the fund's circuit breaker, or the administrator) ---------------
def suspend_bank(
    actor: User,
    *,
    bank_id: int,
    district_id: int,
    from_date: dt.date,
    reason: str = "",
    now: dt.datetime | None = None,
) -> BankSuspension:
    """From ``from_date`` the bank takes no new applications in the district."""
    require(actor, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE, action=gettext_noop("suspend banks"))
    with transaction.atomic():
        if not Bank.objects.filter(pk=bank_id).exists():
            raise NotFound(_("no such bank"), field="bank_id")
        if not District.objects.filter(pk=district_id).exists():
            raise NotFound(_("no such district"), field="district_id")
        if BankSuspension.objects.filter(
            bank_id=bank_id, district_id=district_id, to_date__isnull=True
        ).exists():
            raise Conflict(_("this bank is already suspended in this district"), field="bank_id")
        s = BankSuspension.objects.create(
            bank_id=bank_id,
            district_id=district_id,
            from_date=from_date,
            reason=reason,
            created_at=now or timezone.now(),
        )
        after = {"bank_id": bank_id, "district_id": district_id, "from_date": from_date}
        audit.record(
            actor, "BANK_SUSPEND", "bank_suspension", s.pk, after=after | {"reason": reason}
        )
    return s


def lift_suspension(actor: User, *, suspension_id: int, to_date: dt.date) -> BankSuspension:
    """End a suspension on ``to_date`` (the first day the bank lends again)."""
    require(actor, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE, action=gettext_noop("lift suspensions"))
    with transaction.atomic():
        s = BankSuspension.objects.select_for_update().filter(pk=suspension_id).first()
        if s is None:
            raise NotFound(_("no such suspension"), field="suspension_id")
        if s.to_date is not None:
            raise Conflict(_("this suspension has already ended"), field="suspension_id")
        if to_date <= s.from_date:
            raise InvalidInput([("to_date", _("the end must follow the start"))])
        s.to_date = to_date
        s.save(update_fields=["to_date"])
        audit.record(actor, "BANK_RESUME", "bank_suspension", s.pk, after={"to_date": to_date})
    return s


# -- commercial loans made alongside (statistics) -------------------------------------------
def record_commercial_loan(
    actor: User,
    *,
    enterprise_id: int,
    amount_fen: int,
    loan_date: dt.date,
    term_months: int,
    reference: str = "",
    today: dt.date,
    now: dt.datetime | None = None,
) -> CommercialLoan:
    """A bank records a commercial loan it made to an enterprise alongside (引导商业贷款)."""
    require(actor, OrgKind.BANK, action=gettext_noop("record commercial loans"))
    ent = ent_selectors.enterprises(actor).filter(pk=enterprise_id).first()
    if ent is None:
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    problems = []
    if not 0 < amount_fen <= 10**12:
        problems.append(("amount", _("a positive amount")))
    if not 1 <= term_months <= 600:
        problems.append(("term_months", _("1 to 600 months")))
    if loan_date > today:
        problems.append(("loan_date", _("not in the future")))
    if problems:
        raise InvalidInput(problems)
    with transaction.atomic():
        c = CommercialLoan.objects.create(
            bank=actor.organisation.bank,
            enterprise=ent,
            amount_fen=amount_fen,
            loan_date=loan_date,
            term_months=term_months,
            reference=reference,
            recorded_by=actor,
            recorded_at=now or timezone.now(),
        )
        after = {"enterprise_id": ent.pk, "amount_fen": amount_fen, "loan_date": loan_date}
        audit.record(actor, "COMMERCIAL_LOAN", "commercial_loan", c.pk, after=after)
    return c
