"""The circuit breaker per bank and district, run at the end of day.

The business day (``kvcredit.day``) passes each bank and district's exposure (outstanding and
non-performing principal, ``lending.selectors.exposures``); the fund adds what it has paid in
compensation and what the bank has lent there, and moves each breaker with the pure rules.
Every change of state is stored (``BreakerChange``, with the rulebook it applied) and audited.
The rulebook in force on the business date says which ratios count, over what window (all time,
or the loans lent and the compensation paid in the last N months), from what book size a pair
can trip, and what a suspension stops: new loans (the lending app's suspension record: no new
applications), claims (``claims._not_suspended``), or both. Only the trustee lifts a
suspension, with a written reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.fund import config, lending_port
from kvcredit.fund.domain import breaker as db
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import Breaker, BreakerChange, BreakerLevel, Claim
from kvcredit.lending import selectors as lending_selectors
from kvcredit.lending.domain.calendar import add_months

Key = tuple[int, int]  # (bank_id, district_id)


def is_suspended(*, bank_id: int, district_id: int) -> bool:
    return Breaker.objects.filter(
        bank_id=bank_id, district_id=district_id, state=BreakerLevel.SUSPENDED
    ).exists()


def _window_start(as_of: dt.date, rules: dr.FundRules) -> dt.date | None:
    """The day before the breaker's window (None: all time): a rolling window of N months
    holds (as_of - N months, as_of]."""
    n = rules.breaker_window_months
    return None if n is None else add_months(as_of, -n)


def _compensated(after: dt.date | None) -> dict[Key, int]:
    qs = Claim.objects.filter(payment_entry__isnull=False)
    if after is not None:
        qs = qs.filter(paid_on__gt=after)
    rows = qs.values("bank_id", "loan__district_id").annotate(total=Sum("amount_fen"))
    return {(r["bank_id"], r["loan__district_id"]): int(r["total"]) for r in rows}


def _lent(after: dt.date | None) -> dict[Key, tuple[int, int]]:
    """(loans, principal) lent per pair in the window (all time: every loan ever)."""
    return lending_selectors.lending_per_pair(after=after)


def _with_empty_books(exposures: dict[Key, tuple[int, int]]) -> dict[Key, tuple[int, int]]:
    """``exposures`` of the whole live book, plus (0, 0) for every breaker whose bank has no
    live loan left in its district (all repaid, renewed or written off), so that its figures
    are brought to nothing instead of staying as the last live loan left them."""
    for key in Breaker.objects.values_list("bank_id", "district_id"):
        exposures.setdefault(key, (0, 0))
    return exposures


def exposures_from_loans() -> dict[Key, tuple[int, int]]:
    """(outstanding, non-performing) principal per bank and district from the live loan book
    (ACTIVE and COMPENSATED loans: a written-off loan counts no more), for a recomputation
    outside the end-of-day run; (0, 0) for a breaker's pair with no live loan left."""
    out = {
        (e.bank_id, e.district_id): (e.outstanding_fen, e.non_performing_fen)
        for e in lending_selectors.exposures()
    }
    return _with_empty_books(out)


def _change(
    actor: Any,
    b: Breaker,
    to: str,
    *,
    on: dt.date,
    e: db.Exposure,
    reason: str,
    rules: dr.FundRules,
) -> None:
    ch = BreakerChange.objects.create(
        breaker=b,
        from_state=b.state,
        to_state=to,
        as_of_date=on,
        npl_ratio=str(db.as_percent(db.npl_ratio(e))),
        compensation_ratio=str(db.as_percent(db.compensation_ratio(e))),
        reason=reason[:500],
        actor=actor,
        changed_at=timezone.now(),
        rulebook_hash=rules.rulebook_hash,
    )
    audit.record(
        actor,
        "FUND_BREAKER",
        "breaker",
        b.pk,
        before={"state": b.state},
        after={
            "state": to,
            "on": on,
            "npl": ch.npl_ratio,
            "comp": ch.compensation_ratio,
            "reason": reason,
            "rulebook": rules.rulebook_hash,
        },
    )
    if to == BreakerLevel.SUSPENDED and rules.breaker_stops_new_loans:
        lending_port.suspend(
            bank_id=b.bank_id, district_id=b.district_id, on=on, reason=reason, actor=actor
        )
    elif b.state == BreakerLevel.SUSPENDED:
        lending_port.lift(
            bank_id=b.bank_id, district_id=b.district_id, on=on, reason=reason, actor=actor
        )
    b.state = to


def _exposure(b: Breaker, book_loans: int | None = None) -> db.Exposure:
    return db.Exposure(
        b.outstanding_fen, b.non_performing_fen, b.compensated_fen, b.lent_fen, book_loans
    )


def run_end_of_day(
    *, as_of: dt.date, exposures: Mapping[Key, tuple[int, int]], actor: Any = None
) -> list[BreakerChange]:
    """Move every breaker with the day's exposure ``{(bank_id, district_id): (outstanding,
    non_performing)}`` (fen). Breakers of pairs not passed keep their state."""
    from kvcredit.accounts.services import ensure_system_user

    actor = actor or ensure_system_user()
    rules = config.rules(as_of)
    after = _window_start(as_of, rules)
    changes_before = BreakerChange.objects.count()
    with transaction.atomic():
        audit.hold_chain()  # before any breaker row: the lock order of every breaker writer
        comp, lent = _compensated(after), _lent(after)
        for (bank_id, district_id), (outstanding, npl) in sorted(exposures.items()):
            b = Breaker.objects.select_for_update().filter(
                bank_id=bank_id, district_id=district_id
            ).first() or Breaker(
                bank_id=bank_id,
                district_id=district_id,
                state=BreakerLevel.NORMAL,
                updated_at=timezone.now(),
            )
            b.outstanding_fen, b.non_performing_fen = outstanding, npl
            b.compensated_fen = comp.get((bank_id, district_id), 0)
            book_loans, b.lent_fen = lent.get((bank_id, district_id), (0, 0))
            b.as_of_date, b.updated_at = as_of, timezone.now()
            if b.pk is None:
                b.save()
            e = _exposure(b, book_loans)
            new = db.next_state(db.BreakerState(b.state), e, rules)
            if new.value != b.state:
                why = (
                    f"end of day {as_of.isoformat()}: non-performing "
                    f"{db.as_percent(db.npl_ratio(e))}%, compensation "
                    f"{db.as_percent(db.compensation_ratio(e))}%"
                )
                _change(actor, b, new.value, on=as_of, e=e, reason=why, rules=rules)
            b.save()
    return list(BreakerChange.objects.order_by("id")[changes_before:])


def recompute(actor: Any, *, as_of: dt.date) -> list[BreakerChange]:
    """The trustee reruns the breakers from the loan book as it stands."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("run the circuit breakers"))
    return run_end_of_day(as_of=as_of, exposures=exposures_from_loans(), actor=actor)


def on_end_of_day(as_of: dt.date, rows: Iterable[Any]) -> list[BreakerChange]:
    """The fund's step of the business day (``kvcredit.day``): rows with ``bank_id``,
    ``district_id``, ``outstanding_fen`` and ``non_performing_fen`` (attributes or keys), one per
    pair with live loans; a breaker's pair with none left gets (0, 0)."""

    def get(r: Any, k: str) -> int:
        return int(r[k] if isinstance(r, Mapping) else getattr(r, k))

    exposures = {
        (get(r, "bank_id"), get(r, "district_id")): (
            get(r, "outstanding_fen"),
            get(r, "non_performing_fen"),
        )
        for r in rows
    }
    return run_end_of_day(as_of=as_of, exposures=_with_empty_books(exposures))


def lift(actor: Any, *, breaker_id: int, on: dt.date, reason: str) -> Breaker:
    """The trustee lifts a suspension with a written reason (the breaker goes to WARNING)."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("lift suspensions"))
    with transaction.atomic():
        audit.hold_chain()  # before the breaker row: the end of day's lock order
        b = Breaker.objects.select_for_update().filter(pk=breaker_id).first()
        if b is None:
            raise NotFound(_("no such breaker"), field="breaker_id")
        if b.state != BreakerLevel.SUSPENDED:
            raise Conflict(_("only a suspended breaker can be lifted"))
        try:
            new = db.lift(db.BreakerState(b.state), reason=reason)
        except ValueError:
            # the breaker is suspended (checked above), so the pure rule refused the reason;
            # its text is English only, so the refusal is named here
            raise InvalidInput(
                [("reason", _("lifting a suspension needs a written reason"))]
            ) from None
        rules = config.rules(on)
        _change(actor, b, new.value, on=on, e=_exposure(b), reason=reason.strip(), rules=rules)
        b.updated_at = timezone.now()
        b.save()
    return b
