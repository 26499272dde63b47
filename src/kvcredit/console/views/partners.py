"""The loss-sharing partners' parts (a guarantee company, an insurer ...): what each owes each
pool, and, for the trustee, the settle action (confirmed first, done once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import confirm
from kvcredit.console.access import role_required
from kvcredit.errors import InvalidInput, ServiceError
from kvcredit.fund import selectors, settlements
from kvcredit.fund.models import PartnerSettlement, SettlementDirection
from kvcredit.money import format_yuan, yuan_to_fen


def _direction_label(direction: str) -> str:
    if direction in SettlementDirection.values:
        return str(SettlementDirection(direction).label)
    return direction


def _label(row: dict[str, Any]) -> str:
    return str(row["name_zh"] if (get_language() or "").startswith("zh") else row["name"])


@role_required(OrgKind.TRUSTEE, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR)
def partners(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = []
    for pool in selectors.pools(user).select_related("district"):
        _pool, found = settlements.positions(user, district_id=pool.district_id)
        rows += [{"pool": pool, "label": _label(r), **r} for r in found]
    done = (
        PartnerSettlement.objects.filter(pool__in=selectors.pools(user))
        .select_related("pool__district")
        .order_by("-settled_on", "-id")[:20]
    )
    context = {
        "rows": rows,
        "settlements": done,
        "may_settle": kind_of(user) == OrgKind.TRUSTEE,
        "directions": SettlementDirection.choices,
        "today": clock.today(),
    }
    return render(request, "console/fund/partners.html", context)


@require_POST
@role_required(OrgKind.TRUSTEE)
def settle(request: HttpRequest) -> HttpResponse:
    back = reverse("console:partners")
    post = request.POST
    try:
        fen = yuan_to_fen(post.get("amount", ""))
        district_id = int(post.get("district_id", ""))
        on = dt.date.fromisoformat(post.get("on", ""))
    except ValueError:
        msg = _("Write the amount in yuan to the fen and the date as YYYY-MM-DD.")
        messages.error(request, msg)
        return redirect(back)
    party = post.get("party", "")
    direction = post.get("direction", "")
    reference = post.get("reference", "")
    if not confirm.confirmed(request):
        try:
            _pool, found = settlements.positions(request.user, district_id=district_id)
            row = next((r for r in found if r["party"] == party), None)
            if row is None:
                raise InvalidInput([("party", _("not a loss-sharing partner of this pool"))])
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        received = direction == SettlementDirection.RECEIVED
        open_fen = row["owed_fen"] if received else row["payable_fen"]
        q = confirm.Question(
            title=_("Settle the part of %(party)s") % {"party": _label(row)},
            what=(
                _("The partner paid its part into the pool.")
                if received
                else _("The fund pays the partner's part on out of the pool's cash.")
            ),
            facts=[
                (_("Pool"), _pool.district.name),
                (_("Direction"), _direction_label(direction)),
                (_("Amount (yuan)"), format_yuan(fen)),
                (_("Open now (yuan)"), format_yuan(open_fen)),
                (_("Open after (yuan)"), format_yuan(open_fen - fen)),
                (_("Date"), on.isoformat()),
                (_("Reference"), reference),
            ],
            button=_("Settle"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        settlements.settle(
            request.user,
            district_id=district_id,
            party=party,
            direction=direction,
            amount_fen=fen,
            on=on,
            reference=reference,
        )
        messages.success(request, _("The settlement was recorded."))
        return back

    return confirm.once(request, run, fallback=back)
