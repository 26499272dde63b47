"""Credit lines of the enterprises a user may see (bank: its districts; district: its own)."""

from __future__ import annotations

import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import tables
from kvcredit.console.access import role_required
from kvcredit.console.forms import DateWindowForm
from kvcredit.console.lists import listing
from kvcredit.enterprises import selectors
from kvcredit.reporting import export, programme
from kvcredit.reporting.aggregate import DIMENSIONS


@role_required(OrgKind.BANK, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def credit_lines(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = (
        selectors.credit_lines(user)
        .select_related("evaluation", "enterprise__district")
        # the evaluation's trace is large and the list shows only its grade
        .defer("evaluation__explanation")
        .order_by("enterprise__district__code", "enterprise__name", "id")
    )
    title = _("Enterprises of the district") if kind_of(user) == OrgKind.DISTRICT else None
    return listing(
        request,
        rows,
        tables.CreditLineFilter,
        tables.CreditLineTable,
        template="console/credit_lines.html",
        name="credit-lines",
        title=title or _("Credit lines"),
    )


def _window(request: HttpRequest) -> tuple[DateWindowForm, str, dict[str, object]]:
    form = DateWindowForm(request.GET or None)
    window = form.cleaned_data if form.is_valid() else {}
    by = request.GET.get("by", "district")
    by = by if by in DIMENSIONS else "district"
    return form, by, window


@role_required(OrgKind.BANK, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def statistics(request: HttpRequest) -> HttpResponse:
    figures = programme.figures(request.user)
    form, by, window = _window(request)
    stats = programme.statistics(
        request.user, by=by, date_from=window.get("date_from"), date_to=window.get("date_to")
    )
    context = {
        "figures": figures,
        "stats": stats,
        "form": form,
        "by": by,
        "dimensions": DIMENSIONS,
        "query": request.GET.urlencode(),
    }
    return render(request, "console/statistics.html", context)


@role_required(OrgKind.BANK, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def statistics_export(request: HttpRequest) -> HttpResponse:
    """The statistics of the page as an Excel workbook with charts."""
    _form, by, window = _window(request)
    s = programme.statistics(
        request.user, by=by, date_from=window.get("date_from"), date_to=window.get("date_to")
    )
    buf = io.BytesIO()
    export.to_xlsx(buf, by, s["total"], s["groups"], by_month=s["by_month"], pools=s["pools"])
    response = HttpResponse(
        buf.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="kvcredit-statistics-{by}.xlsx"'
    return response
