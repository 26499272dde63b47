"""What waits for the signed-in user: the to-do list at the top of each role's start page.

Each item counts rows of the user's own scope (the selectors scope them), says what is to be
done and links to the page where it is done. The states come from the lifecycles (which step a
claim or an application waits for), never re-typed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.enterprises import selectors as ent
from kvcredit.fund import config
from kvcredit.fund import selectors as fund
from kvcredit.fund.domain import breaker as db
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.models import BreakerLevel
from kvcredit.lending import selectors as lending
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.money import format_yuan

DUE_SOON_DAYS = 7  # an instalment due within a week is "turning overdue"
EXPIRING_DAYS = 30  # a credit line valid for less than a month asks for new data
NEAR = Fraction(4, 5)  # a breaker at 80 % of a suspension threshold is "near" it


@dataclass(frozen=True)
class Todo:
    text: str
    url: str
    level: str = "info"  # info | warn | danger (how it looks)


def _item(items: list[Todo], n: int, text: str, url: str, level: str = "info") -> None:
    if n:
        items.append(Todo(text, url, level))


def _due_soon(loans: Any, today: dt.date) -> Any:
    return loans.filter(
        status__in=lc.LIVE,
        days_past_due=0,
        next_due_date__gte=today,
        next_due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS),
    )


def _overdue(loans: Any) -> Any:
    return loans.filter(status__in=lc.LIVE, days_past_due__gt=0)


def _loans(items: list[Todo], user: Any, today: dt.date) -> None:
    loans = lending.loans(user)
    url = reverse("console:loans")
    n = _due_soon(loans, today).count()
    _item(
        items,
        n,
        ngettext(
            "%(n)d loan has an instalment due within %(days)d days",
            "%(n)d loans have an instalment due within %(days)d days",
            n,
        )
        % {"n": n, "days": DUE_SOON_DAYS},
        url,
        "warn",
    )
    n = _overdue(loans).count()
    _item(
        items,
        n,
        ngettext("%(n)d loan is overdue", "%(n)d loans are overdue", n) % {"n": n},
        url,
        "danger",
    )


def near_threshold(b: Any, rules: Any) -> bool:
    """Is a breaker in warning, or at 80 % or more of a suspension threshold (not suspended)?"""
    if b.state == BreakerLevel.SUSPENDED:
        return False
    if b.state == BreakerLevel.WARNING:
        return True
    e = db.Exposure(b.outstanding_fen, b.non_performing_fen, b.compensated_fen, b.lent_fen)
    return db.npl_ratio(e) >= NEAR * Fraction(rules.suspend_npl_ratio) or db.compensation_ratio(
        e
    ) >= NEAR * Fraction(rules.suspend_compensation_ratio)


def _breakers(items: list[Todo], user: Any) -> None:
    rules = config.rules()
    url = reverse("console:breakers")
    rows = list(fund.breakers(user))
    n = sum(1 for b in rows if b.state == BreakerLevel.SUSPENDED)
    _item(
        items,
        n,
        ngettext(
            "%(n)d bank/district pair is suspended by its circuit breaker",
            "%(n)d bank/district pairs are suspended by their circuit breakers",
            n,
        )
        % {"n": n},
        url,
        "danger",
    )
    n = sum(1 for b in rows if near_threshold(b, rules))
    _item(
        items,
        n,
        ngettext(
            "%(n)d circuit breaker is near its threshold",
            "%(n)d circuit breakers are near their thresholds",
            n,
        )
        % {"n": n},
        url,
        "warn",
    )


def _contributions(items: list[Todo], user: Any, *, who: str | None = None) -> None:
    owed = 0
    pools = 0
    for s in fund.pool_summaries(list(fund.pools(user))):
        due = {"city": s.city_owed_fen, "district": s.district_owed_fen}
        amount = sum(due.values()) if who is None else due[who]
        if amount > 0:
            owed += amount
            pools += 1
    _item(
        items,
        pools,
        ngettext(
            "Contributions of %(amount)s yuan are owed to %(n)d pool",
            "Contributions of %(amount)s yuan are owed to %(n)d pools",
            pools,
        )
        % {"amount": format_yuan(owed), "n": pools},
        reverse("console:pools"),
        "warn",
    )


def _claims_trustee(items: list[Todo], user: Any) -> None:
    claims = fund.claims(user)
    url = reverse("console:claims")
    n = claims.filter(status__in=dc.CLAIM.sources(dc.Step.CHECK)).count()
    _item(items, n, ngettext("%(n)d claim to check", "%(n)d claims to check", n) % {"n": n}, url)
    to_pay = claims.filter(status=dc.ClaimStatus.CHECKED).exclude(fund.waiting_for_funds())
    mine = to_pay.filter(checked_by_id=user.pk).count()
    n = to_pay.count() - mine  # maker-checker: the one who checked a claim may not pay it
    _item(
        items,
        n,
        ngettext(
            "%(n)d checked claim to pay (checked by another trustee)",
            "%(n)d checked claims to pay (checked by another trustee)",
            n,
        )
        % {"n": n},
        url,
        "warn",
    )
    _item(
        items,
        mine,
        ngettext(
            "%(n)d claim you checked waits for a second trustee to pay it",
            "%(n)d claims you checked wait for a second trustee to pay them",
            mine,
        )
        % {"n": mine},
        url,
    )
    stages = claims.filter(fund.stage_payable(clock.today())).exclude(fund.waiting_for_funds())
    n = stages.exclude(checked_by_id=user.pk).count()  # maker-checker, as for the first stage
    _item(
        items,
        n,
        ngettext(
            "%(n)d stage of a staged payment became payable",
            "%(n)d stages of staged payments became payable",
            n,
        )
        % {"n": n},
        url,
        "warn",
    )
    n = claims.filter(fund.waiting_for_funds()).count()
    _item(
        items,
        n,
        ngettext(
            "%(n)d claim waits for funds in its pool",
            "%(n)d claims wait for funds in their pools",
            n,
        )
        % {"n": n},
        url,
        "danger",
    )


def _bank(items: list[Todo], user: Any, today: dt.date) -> None:
    apps = lending.applications(user)
    url = reverse("console:queue")
    n = apps.filter(status__in=lc.APPLICATION.sources("approve")).count()
    _item(
        items,
        n,
        ngettext(
            "%(n)d application waits for your decision",
            "%(n)d applications wait for your decision",
            n,
        )
        % {"n": n},
        url,
        "warn",
    )
    n = apps.filter(status__in=lc.APPLICATION.sources("disburse")).count()
    _item(
        items,
        n,
        ngettext(
            "%(n)d approved application to disburse",
            "%(n)d approved applications to disburse",
            n,
        )
        % {"n": n},
        url,
    )
    _loans(items, user, today)
    rules = config.rules()
    n = (
        fund.claimable_loans(lending.loans(user))
        .filter(days_past_due__gte=rules.min_days_overdue)
        .count()
    )
    _item(
        items,
        n,
        ngettext(
            "%(n)d loan is overdue long enough for a claim on the fund",
            "%(n)d loans are overdue long enough for a claim on the fund",
            n,
        )
        % {"n": n},
        reverse("console:claims"),
        "warn",
    )
    n = fund.claims(user).filter(status__in=dc.CLAIM.sources(dc.Step.FILE)).count()
    _item(
        items,
        n,
        ngettext("%(n)d registered claim to file", "%(n)d registered claims to file", n) % {"n": n},
        reverse("console:claims"),
    )
    _breakers(items, user)


def _enterprise(items: list[Todo], user: Any, today: dt.date) -> None:
    n = lending.applications(user).filter(status__in=lc.HOLDING).count()
    _item(
        items,
        n,
        ngettext(
            "%(n)d application is open with a bank", "%(n)d applications are open with banks", n
        )
        % {"n": n},
        reverse("console:loans"),
    )
    _loans(items, user, today)
    line = ent.credit_lines(user).first()
    soon = today + dt.timedelta(days=EXPIRING_DAYS)
    if line is None or line.valid_until is None or line.valid_until <= soon:
        items.append(
            Todo(
                _(
                    "Submit this year's data to be evaluated: your credit line is not valid"
                    " or expires within %(days)d days"
                )
                % {"days": EXPIRING_DAYS},
                reverse("console:submit"),
                "warn",
            )
        )


def _administrator(items: list[Todo], user: Any, today: dt.date) -> None:
    if ent.current_policy() is None:
        items.append(
            Todo(_("No evaluation policy is published yet"), reverse("console:policies"), "danger")
        )
    last = lending.eod_runs(user).order_by("-run_date").first()
    behind = (today - last.run_date).days if last is not None else None
    if behind is not None and behind > 1:
        items.append(
            Todo(
                _("The business day was last closed on %(date)s, %(n)d days ago")
                % {"date": last.run_date.isoformat(), "n": behind},
                reverse("console:policies"),
                "warn",
            )
        )
    _breakers(items, user)


def todo(user: Any) -> list[Todo]:
    """The user's to-do list, most urgent last within each kind of work."""
    kind = kind_of(user)
    today = clock.today()
    items: list[Todo] = []
    if kind == OrgKind.TRUSTEE:
        _claims_trustee(items, user)
        _contributions(items, user)
        _breakers(items, user)
    elif kind == OrgKind.BANK:
        _bank(items, user, today)
    elif kind == OrgKind.DISTRICT:
        _contributions(items, user, who="district")
        _loans(items, user, today)
        _breakers(items, user)
    elif kind == OrgKind.ENTERPRISE:
        _enterprise(items, user, today)
    elif kind == OrgKind.ADMINISTRATOR:
        _administrator(items, user, today)
    return items


__all__ = ["Todo", "near_threshold", "todo"]
