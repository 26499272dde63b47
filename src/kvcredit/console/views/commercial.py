"""Commercial loans a bank made alongside the programme's (引导商业贷款): the bank records
them (``lending.services.record_commercial_loan``, posted once per form); every role lists
those it may see (``lending.selectors.commercial_loans``), newest first, paginated."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import confirm
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.forms_tasks import CommercialForm
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.lending import selectors
from kvcredit.lending import services as lending

PER_PAGE = 50


@role_required(*EVERY_ROLE)
def commercial_loans(request: HttpRequest) -> HttpResponse:
    user = request.user
    bank = kind_of(user) == OrgKind.BANK
    enterprises = ent_selectors.enterprises(user)
    form = None
    if bank:
        form = CommercialForm(
            request.POST or None,
            enterprises=enterprises,
            initial={"loan_date": clock.today()},
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            back = reverse("console:commercial_loans")

            def run() -> str:
                lending.record_commercial_loan(user, today=clock.today(), **form.values())
                messages.success(request, _("The commercial loan was recorded."))
                return back

            return confirm.once(request, run, fallback=back)
    rows = selectors.commercial_loans(user).order_by("-loan_date", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "once": confirm.new_token()}
    return render(request, "console/tasks/commercial.html", context)
