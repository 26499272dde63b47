"""List pages of their own (every application, every repayment, every contribution) and the
global search; each reads through its app's scoped selector (``console.lists``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kvcredit.accounts.models import OrgKind
from kvcredit.console import tables
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.lists import listing
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.fund import selectors as fund_selectors
from kvcredit.lending import selectors as lending_selectors

STAFF = (OrgKind.BANK, OrgKind.DISTRICT, OrgKind.TRUSTEE, OrgKind.ADMINISTRATOR)
SEARCH_LIMIT = 20


@role_required(*EVERY_ROLE)
def applications(request: HttpRequest) -> HttpResponse:
    """Every application the user may see, whatever its state, over the whole history."""
    rows = lending_selectors.applications(request.user).select_related(
        "enterprise__district", "loan"
    )
    return listing(
        request,
        rows.order_by("-id"),
        tables.ApplicationFilter,
        tables.ApplicationTable,
        name="applications",
        title=_("Applications"),
    )


@role_required(*EVERY_ROLE)
def repayments(request: HttpRequest) -> HttpResponse:
    """Every repayment record (repayments, reversals, renewals) the user may see."""
    rows = lending_selectors.repayments(request.user).select_related(
        "loan__enterprise", "loan__bank"
    )
    return listing(
        request,
        rows.order_by("-paid_on", "-id"),
        tables.RepaymentFilter,
        tables.RepaymentTable,
        name="repayments",
        title=_("Repayment records"),
    )


@role_required(OrgKind.TRUSTEE, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR)
def contributions(request: HttpRequest) -> HttpResponse:
    rows = fund_selectors.contributions(request.user).select_related("pool__district")
    return listing(
        request,
        rows.order_by("-paid_date", "-id"),
        tables.ContributionFilter,
        tables.ContributionTable,
        name="contributions",
        title=_("Contributions paid"),
    )


def _hits(q: str, user: Any) -> list[dict[str, Any]]:
    """What ``q`` names among the objects the user may see: enterprises by name or USCC,
    loans, applications and claims by number."""
    found: list[dict[str, Any]] = []
    number = int(q) if q.isdigit() and len(q) < 19 else None
    if number is not None:
        loan = lending_selectors.loans(user).filter(pk=number).first()
        if loan is not None:
            found.append(
                {
                    "kind": _("Loan"),
                    "url": reverse("console:loan", args=[loan.pk]),
                    "text": f"{loan.pk} · {loan.enterprise.name}",
                }
            )
        app = lending_selectors.applications(user).filter(pk=number).first()
        if app is not None:
            found.append(
                {
                    "kind": _("Application"),
                    "url": reverse("console:applications") + f"?q={app.pk}",
                    "text": f"{app.pk} · {app.enterprise.name} · {app.get_status_display()}",
                }
            )
        claim = fund_selectors.claims(user).filter(pk=number).first()
        if claim is not None:
            found.append(
                {
                    "kind": _("Claim"),
                    "url": reverse("console:claim", args=[claim.pk]),
                    "text": f"{claim.pk} · {claim.loan.enterprise.name}",
                }
            )
    ents = (
        ent_selectors.enterprises(user)
        .filter(Q(name__icontains=q) | Q(uscc=q.upper()))
        .order_by("name", "id")
    )
    for e in ents[:SEARCH_LIMIT]:
        found.append(
            {
                "kind": _("Enterprise"),
                "url": reverse("console:enterprise", args=[e.pk]),
                "text": f"{e.name} · {e.uscc}",
            }
        )
    return found


@role_required(*EVERY_ROLE)
def search(request: HttpRequest) -> HttpResponse:
    """One box for an enterprise's name or USCC, or a loan, application or claim number; the
    answers are those the user's scope holds (another bank's loan is simply not found)."""
    # control characters cannot be part of a name or number (and PostgreSQL refuses NUL)
    typed = request.GET.get("q") or ""
    q = "".join(ch for ch in typed if ch >= " " and ch != "\x7f").strip()[:100]
    hits = _hits(q, request.user) if q else []
    context = {"q": q, "hits": hits, "limit": SEARCH_LIMIT}
    return render(request, "console/search.html", context)
