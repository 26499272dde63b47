"""The landing redirect by role, the trustee's overview, and Plotly's JS from its package."""

from __future__ import annotations

from importlib import resources

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console.access import role_required
from kvcredit.fund import selectors as fund
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.models import BreakerLevel
from kvcredit.jobs import selectors as jobs
from kvcredit.reporting import programme

START = {
    OrgKind.ENTERPRISE: "console:evaluation",
    OrgKind.BANK: "console:credit_lines",
    OrgKind.DISTRICT: "console:credit_lines",
    OrgKind.ADMINISTRATOR: "console:policies",
    OrgKind.TRUSTEE: "console:programme",
}
ONE_YEAR = 365 * 24 * 3600


@login_required
def home(request: HttpRequest) -> HttpResponse:
    kind = kind_of(request.user)
    if kind is None:
        return render(request, "console/no_role.html", status=403)
    return redirect(START[OrgKind(kind)])


@role_required(OrgKind.TRUSTEE)
def programme_overview(request: HttpRequest) -> HttpResponse:
    figures = programme.figures(request.user)
    claims = fund.claims(request.user)
    waiting = fund.waiting_for_funds()
    work = {  # what waits for the trustee, each with its page
        "to_check": claims.filter(status__in=dc.CLAIM.sources(dc.Step.CHECK)).count(),
        "to_pay": claims.filter(status__in=dc.CLAIM.sources(dc.Step.PAY)).exclude(waiting).count(),
        "waiting": claims.filter(waiting).count(),
        "suspended": fund.breakers(request.user).filter(state=BreakerLevel.SUSPENDED).count(),
    }
    context = {"figures": figures, "work": work, **jobs.nightly_context(request.user)}
    return render(request, "console/trustee/programme.html", context)


def plotly_version() -> str:
    import plotly

    return str(plotly.__version__)


@require_GET
def plotly_js(request: HttpRequest) -> FileResponse:
    """plotly.min.js as shipped inside the ``plotly`` pip package (no CDN, closed networks)."""
    js = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    response = FileResponse(js.open("rb"), content_type="text/javascript; charset=utf-8")
    # The URL carries the package version (?v=), so the file can be cached for a year.
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response
