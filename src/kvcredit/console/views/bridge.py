"""The fund's bridge loans (the trustee lends from a district's pool and records their
repayments; the district, the administrator and the enterprise read theirs) and the
charging of service fees (the trustee), each through the fund's services; lending and
charging are confirmed first (``fund.previews``), every money step posted once."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import confirm
from kvcredit.console.access import role_required
from kvcredit.console.forms_tasks import BridgeForm, BridgeRepayForm, FeeChargeForm, problems_of
from kvcredit.console.templatetags.console import yuan
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.errors import ServiceError
from kvcredit.fund import previews, selectors, services

TRUSTEE = OrgKind.TRUSTEE
PER_PAGE = 50


def _bridge_form(request: HttpRequest, data: object = None) -> BridgeForm:
    user = request.user
    return BridgeForm(
        data,
        enterprises=ent_selectors.enterprises(user),
        banks=ent_selectors.banks(user).order_by("code"),
    )


@role_required(TRUSTEE, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR, OrgKind.ENTERPRISE)
def bridge_loans(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = selectors.bridge_loans(user).select_related("bank").order_by("-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    trustee = kind_of(user) == TRUSTEE
    context = {
        "page": page,
        "form": _bridge_form(request) if trustee else None,
        "repay_form": BridgeRepayForm() if trustee else None,
        "once": confirm.new_token(),
    }
    return render(request, "console/tasks/bridge_loans.html", context)


@require_POST
@role_required(TRUSTEE)
def bridge_lend(request: HttpRequest) -> HttpResponse:
    back = reverse("console:bridge_loans")
    form = _bridge_form(request, request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": problems_of(form)})
        return redirect(back)
    v = form.values()
    on = clock.today()
    if not confirm.confirmed(request):
        try:
            p = previews.preview_bridge(
                request.user,
                enterprise_id=v["enterprise_id"],
                principal_fen=v["principal_fen"],
                term_days=v["term_days"],
                on=on,
            )
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        q = confirm.Question(
            title=_("Lend a bridge loan to %(name)s") % {"name": p.enterprise.name},
            what=_("The district's pool lends %(amount)s yuan today, to be repaid by %(due)s.")
            % {"amount": yuan(p.principal_fen), "due": p.due_on.isoformat()},
            facts=[
                (_("Principal (yuan)"), yuan(p.principal_fen)),
                (_("Fee (yuan)"), yuan(p.fee_fen)),
                (_("Due on"), p.due_on.isoformat()),
                (_("Pool's spendable balance now (yuan)"), yuan(p.pool_before_fen)),
                (_("Pool's spendable balance after (yuan)"), yuan(p.pool_after_fen)),
            ],
            button=_("Lend the bridge loan"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        b = services.lend_bridge(request.user, on=on, **v)
        messages.success(request, _("Bridge loan %(id)s was lent.") % {"id": b.pk})
        return back

    return confirm.once(request, run, fallback=back)


@require_POST
@role_required(TRUSTEE)
def bridge_repay(request: HttpRequest, pk: int) -> HttpResponse:
    """A repayment into the pool (the fee first, then principal), posted once per form."""
    back = reverse("console:bridge_loans")
    if not selectors.bridge_loans(request.user).filter(pk=pk).exists():
        raise Http404
    form = BridgeRepayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": problems_of(form)})
        return redirect(back)
    amount = form.cleaned_data["amount"]

    def run() -> str:
        from kvcredit.money import yuan_to_fen

        services.repay_bridge(
            request.user, bridge_id=pk, amount_fen=yuan_to_fen(amount), on=clock.today()
        )
        messages.success(request, _("The bridge-loan repayment was recorded."))
        return back

    return confirm.once(request, run, fallback=back)


@require_POST
@role_required(TRUSTEE)
def fees_charge(request: HttpRequest) -> HttpResponse:
    """Charge one loan's service fee, or every loan's without one; confirmed with the count
    and the total at the rate and reduction in force today."""
    back = reverse("console:fees")
    form = FeeChargeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": problems_of(form)})
        return redirect(back)
    loan_id = form.cleaned_data["loan_id"]
    on = clock.today()
    if not confirm.confirmed(request):
        try:
            p = previews.preview_fees(request.user, loan_id=loan_id, on=on)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        off = "—" if p.percent_off_bp is None else f"{p.percent_off_bp / 100:g}%"
        q = confirm.Question(
            title=_("Charge service fees"),
            what=_("%(n)s loans are charged %(total)s yuan in all, into their districts' pools.")
            % {"n": p.loans, "total": yuan(p.total_fen)},
            facts=[
                (_("Loans charged"), str(p.loans)),
                (_("Total fees (yuan)"), yuan(p.total_fen)),
                (_("Reduction in force"), off),
                (_("Charged on"), on.isoformat()),
            ],
            button=_("Charge the fees"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        if loan_id is not None:
            done = [services.charge_service_fee(request.user, loan_id=loan_id, on=on)]
        else:
            done = services.charge_service_fees(request.user, on=on)
        messages.success(request, _("%(n)s service fees were charged.") % {"n": len(done)})
        return back

    return confirm.once(request, run, fallback=back)
