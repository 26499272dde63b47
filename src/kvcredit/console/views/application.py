"""One application's page for whoever may see it (``lending.selectors.applications``; 404
outside the scope): its terms, its state, what the bank may do now (the application
lifecycle's ``allowed_steps``), and its audit trail."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kvcredit.accounts.permissions import kind_of
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.views.audit import trail
from kvcredit.lending import selectors
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.roles import Role


@role_required(*EVERY_ROLE)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    app = (
        selectors.applications(request.user)
        .select_related("enterprise", "bank", "product")
        .filter(pk=pk)
        .first()
    )
    if app is None:
        raise Http404
    kind = kind_of(request.user)
    steps = lc.APPLICATION.allowed_steps(app.status, Role.BANK) if kind == Role.BANK else []
    loan = getattr(app, "loan", None)
    context = {
        "app": app,
        "steps": steps,
        "loan": loan,
        "audit": trail(request.user, "application", app.pk),
    }
    return render(request, "console/tasks/application.html", context)
