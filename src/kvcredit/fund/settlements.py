"""Settling the loss-sharing partners' parts of paid claims (``fund.domain.settlement``).

    positions(user, district_id, on)    each partner of a pool: its parts, what it owes, what
                                        of its part may be paid on (scoped like the pool)
    settle(actor, ...)                  the trustee records that a partner paid its part in
                                        (RECEIVED), that the fund paid that part on (PAID_OUT),
                                        or paid the partner back its part of a later recovery
                                        (REFUNDED)

A settlement is atomic and idempotent: its reference is unique, and a retried request with the
same figures returns the settlement already made without posting again (with other figures it
is refused). The figures are read again under the pool's row lock and asked of the pure rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.fund import applied, books, selectors
from kvcredit.fund.domain import settlement as ds
from kvcredit.fund.domain.sharing import BANK, FUND
from kvcredit.fund.models import EntryKind, LossShare, PartnerSettlement, Pool
from kvcredit.money import format_yuan


def _positions(pool: Pool) -> tuple[dict[str, ds.PartnerPosition], dict[str, dt.date]]:
    """Each partner's figures in ``pool`` and the date of its last event (loss, recovery or
    settlement)."""
    shares = (
        LossShare.objects.filter(claim__pool=pool, entry__isnull=False)
        .exclude(party__in=(FUND, BANK))
        .values("party")
        .annotate(
            lost=Sum("amount_fen", filter=Q(recovery__isnull=True)),
            back=Sum("amount_fen", filter=Q(recovery__isnull=False)),
            last=Max("entry__entry_date"),
        )
    )
    got: dict[str, dict[str, int]] = {}
    last: dict[str, dt.date] = {}
    for r in shares:
        got[r["party"]] = {"shares_fen": int(r["lost"] or 0), "recovered_fen": int(r["back"] or 0)}
        last[r["party"]] = r["last"]
    paid = (
        PartnerSettlement.objects.filter(pool=pool)
        .values("party", "direction")
        .annotate(s=Sum("amount_fen"), last=Max("settled_on"))
    )
    for r in paid:
        key = {
            ds.Direction.RECEIVED: "received_fen",
            ds.Direction.PAID_OUT: "paid_out_fen",
            ds.Direction.REFUNDED: "refunded_fen",
        }[ds.Direction(r["direction"])]
        got.setdefault(r["party"], {})[key] = int(r["s"])
        if r["party"] not in last or r["last"] > last[r["party"]]:
            last[r["party"]] = r["last"]
    out = {p: ds.PartnerPosition(p, **v) for p, v in sorted(got.items())}
    return out, last


def _names(pool: Pool) -> dict[str, tuple[str, str]]:
    rows = (
        LossShare.objects.filter(claim__pool=pool)
        .exclude(party__in=(FUND, BANK))
        .order_by("party", "-id")
        .values_list("party", "name", "name_zh")
    )
    names: dict[str, tuple[str, str]] = {}
    for party, name, name_zh in rows:
        names.setdefault(party, (name, name_zh))
    return names


def positions(user: Any, *, district_id: int) -> tuple[Pool, list[dict[str, Any]]]:
    """The partners of the pool (visible to ``user``), what each owes and may be paid on."""
    pool = selectors.pools(user).filter(district_id=district_id).first()
    if pool is None:
        raise NotFound(_("no such pool"), field="district_id")
    found, _last = _positions(pool)
    names = _names(pool)
    return pool, [
        {
            "party": p.party,
            "name": names.get(p.party, (p.party, p.party))[0],
            "name_zh": names.get(p.party, (p.party, p.party))[1],
            "shares_fen": p.shares_fen,
            "recovered_fen": p.recovered_fen,
            "received_fen": p.received_fen,
            "paid_out_fen": p.paid_out_fen,
            "refunded_fen": p.refunded_fen,
            "owed_fen": p.owed_fen,
            "refundable_fen": p.refundable_fen,
            "payable_fen": p.payable_fen,
        }
        for p in found.values()
    ]


def refusal_text(why: ds.Refusal, open_fen: int) -> tuple[str, str]:
    """The field and the translated message of a refusal."""
    if why is ds.Refusal.NOT_POSITIVE:
        return "amount", _("must be more than zero")
    if why is ds.Refusal.AFTER_TODAY:
        return "on", _("a settlement cannot be dated after the business date")
    if why is ds.Refusal.BEFORE_HISTORY:
        return "on", _(
            "a settlement cannot be dated before the partner's last loss, recovery or settlement"
        )
    if why is ds.Refusal.NO_CASH:
        return "amount", _("the pool's cash cannot cover this payment")
    return "amount", _("more than is open for this partner (%(open)s yuan)") % {
        "open": format_yuan(open_fen)
    }


def _used(reference: str) -> Conflict:
    msg = _("the reference %(ref)s is already used by another settlement")
    return Conflict(msg % {"ref": reference})


def _same(s: PartnerSettlement, **want: Any) -> bool:
    return all(getattr(s, k) == v for k, v in want.items())


def settle(
    actor: Any,
    *,
    district_id: int,
    party: str,
    direction: str,
    amount_fen: int,
    on: dt.date,
    reference: str,
    note: str = "",
) -> PartnerSettlement:
    """Record a partner's part settled in cash (trustee only)."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("settle partners' shares"))
    reference = reference.strip()
    if not reference:
        raise InvalidInput([("reference", _("a settlement needs a reference (unique)"))])
    if direction not in ds.Direction.__members__:
        raise InvalidInput([("direction", _("RECEIVED, PAID_OUT or REFUNDED"))])
    way = ds.Direction(direction)
    want = {"party": party, "direction": way.value, "amount_fen": amount_fen, "settled_on": on}
    with transaction.atomic():
        pool = Pool.objects.filter(district_id=district_id).select_related("district").first()
        if pool is None:
            raise NotFound(_("no such pool"), field="district_id")
        pool = books.pool_of(pool.district, lock=True)
        # under the lock: a request retried while the first ran sees it here
        done = PartnerSettlement.objects.filter(reference=reference).first()
        if done is not None:
            if done.pool_id == pool.pk and _same(done, **want):
                return done
            raise _used(reference)
        found, last = _positions(pool)
        if party not in found:
            raise InvalidInput([("party", _("not a loss-sharing partner of this pool"))])
        position = found[party]
        why = ds.refusal(
            position,
            way,
            amount_fen,
            on=on,
            today=clock.today(),
            last_event=last.get(party),
            cash_fen=books.spendable(pool, on=on),
        )
        if why is not None:
            raise InvalidInput([refusal_text(why, position.open_fen(way))])
        rb = applied.rules_on(on)
        entry = ds.entry(pool.district.code, party, way, amount_fen, on=on, ref=reference)
        row = books.book(pool, entry, kind=EntryKind.PARTNER_SETTLEMENT, actor=actor)
        try:
            with transaction.atomic():
                s = PartnerSettlement.objects.create(
                    pool=pool,
                    party=party,
                    direction=way.value,
                    amount_fen=amount_fen,
                    settled_on=on,
                    reference=reference,
                    note=note[:300],
                    entry=row,
                    rulebook_hash=rb.content_hash,
                    recorded_by=actor,
                    recorded_at=timezone.now(),
                )
        except IntegrityError as exc:
            raise _used(reference) from exc
        audit.record(
            actor,
            "FUND_PARTNER_SETTLEMENT",
            "partner_settlement",
            s.pk,
            after={
                "pool": pool.district.code,
                "party": party,
                "direction": way.value,
                "amount_fen": amount_fen,
                "on": on,
                "reference": reference,
                "entry": row.pk,
                "rulebook_hash": rb.content_hash,
            },
        )
    return s
