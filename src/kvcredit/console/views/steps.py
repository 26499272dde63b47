"""The irreversible steps of the fund and the bank, confirmed first (``console.confirm``):
paying, rejecting, closing or writing off a claim (the trustee), rejecting or disbursing an
application (the bank), lifting a breaker's suspension (the trustee). Each asks its preview
(``fund.previews``, ``lending.previews``) what will happen, then runs the service once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kvcredit import clock
from kvcredit.console import confirm
from kvcredit.console.forms import EndClaimForm, LiftForm, RejectClaimForm, RejectForm
from kvcredit.console.templatetags.console import claim_status, yuan
from kvcredit.errors import ServiceError
from kvcredit.fund import breakers, claims, previews
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.models import BreakerLevel
from kvcredit.lending import loans as lending
from kvcredit.lending import previews as lending_previews
from kvcredit.lending.domain import lifecycle as lc

CONFIRMED_CLAIM_STEPS = {dc.Step.PAY, dc.Step.REJECT, dc.Step.CLOSE, dc.Step.WRITE_OFF}


def _loan_label(status: str) -> str:
    return _(lc.LOAN_LABELS[lc.LoanStatus(status)])


def _reason(request: HttpRequest, step: str) -> tuple[str, str | None]:
    """(the reason given, or "") and the refusal when the step needs one and it is missing."""
    if step == dc.Step.REJECT:
        form = RejectClaimForm(request.POST)
        return (
            (form.cleaned_data["reason"], None)
            if form.is_valid()
            else (
                "",
                _("write why the claim is rejected"),
            )
        )
    if step in (dc.Step.CLOSE, dc.Step.WRITE_OFF):
        form = EndClaimForm(request.POST)
        return (
            (form.cleaned_data["reason"], None)
            if form.is_valid()
            else (
                "",
                _("write why the claim ends"),
            )
        )
    return "", None


def _claim_question(p: previews.ClaimChange, reason: str, back: str) -> confirm.Question:
    facts = [(_("Claim status after"), claim_status(p.status_after))]
    if p.step == dc.Step.PAY:
        if p.waits:
            what = _(
                "The pool cannot pay this claim now: it will wait until contributions come in."
            )
        else:
            what = _("The fund pays the bank %(amount)s yuan from the district's pool.") % {
                "amount": yuan(p.amount_fen)
            }
        facts = [
            (_("Amount paid (yuan)"), yuan(p.amount_fen)),
            (_("Pool's spendable balance now (yuan)"), yuan(p.pool_before_fen)),
            (_("Pool's spendable balance after (yuan)"), yuan(p.pool_after_fen)),
            *facts,
            (_("Loan status after"), _loan_label(p.loan_status_after)),
        ]
        title, button, danger = _("Approve and pay claim %(id)s"), _("Pay"), False
    elif p.step == dc.Step.REJECT:
        what = _("The claim is refused and ends; the bank may claim the loan again later.")
        facts = [*facts, (_("Reason"), reason)]
        title, button, danger = _("Reject claim %(id)s"), _("Reject the claim"), True
    else:
        written_off = p.step == dc.Step.WRITE_OFF
        what = (
            _("The claim is written off: nothing more is expected to be recovered.")
            if written_off
            else _("The claim is closed: recovery is done.")
        )
        what += " " + _("Either way the bank writes the loan off its book.")
        facts = [*facts, (_("Loan status after"), _loan_label(p.loan_status_after))]
        facts.append((_("Reason"), reason))
        if written_off:
            title, button = _("Write off claim %(id)s"), _("Write off")
        else:
            title, button = _("Close claim %(id)s"), _("Close the claim")
        danger = True
    return confirm.Question(
        title=title % {"id": p.claim.pk},
        what=what,
        facts=facts,
        danger=danger,
        button=button,
        back=back,
    )


def claim_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Pay, reject, close or write off a claim the user may see (checked by the caller)."""
    user = request.user
    back = reverse("console:claim", args=[pk])
    if step == dc.Step.CLOSE and request.POST.get("outcome") == "write_off":
        step = dc.Step.WRITE_OFF
    reason, missing = _reason(request, step)
    if missing:
        messages.error(request, _("Refused: %(why)s") % {"why": missing})
        return redirect(back)
    today = clock.today()
    if not confirm.confirmed(request):
        try:
            p = previews.preview_claim_step(user, claim_id=pk, step=step, on=today)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        return confirm.ask(request, _claim_question(p, reason, back))

    def run() -> str:
        if step == dc.Step.PAY:
            c = claims.pay(user, claim_id=pk, on=today)
            if c.waiting_for_funds:
                messages.warning(request, _("The pool cannot pay this claim yet; it waits."))
            else:
                messages.success(request, _("The claim was approved and paid."))
        elif step == dc.Step.REJECT:
            claims.reject(user, claim_id=pk, on=today, reason=reason)
            messages.success(request, _("The claim was rejected."))
        else:
            written_off = step == dc.Step.WRITE_OFF
            claims.close(user, claim_id=pk, on=today, written_off=written_off, reason=reason)
            messages.success(
                request,
                _("The claim was written off; the loan left the bank's book.")
                if written_off
                else _("The claim was closed; the loan left the bank's book."),
            )
        return back

    return confirm.once(request, run, fallback=back)


def application_step(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Reject or disburse an application of the bank (visible: checked by the caller)."""
    user = request.user
    back = reverse("console:queue")
    reason = ""
    if action == "reject":
        form = RejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Refused: %(why)s") % {"why": _("write a reason")})
            return redirect(back)
        reason = form.cleaned_data["reason"]
    today = clock.today()
    if not confirm.confirmed(request):
        try:
            p = lending_previews.preview_decision(user, application_id=pk, step=action)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        app = p.application
        facts = [
            (_("Enterprise"), app.enterprise.name),
            (_("Amount (yuan)"), yuan(p.amount_fen)),
            (_("Status after"), _(lc.APPLICATION_LABELS[lc.ApplicationStatus(p.status_after)])),
        ]
        if p.available_after_fen is not None:
            facts.append((_("Available credit after (yuan)"), yuan(p.available_after_fen)))
        if action == "reject":
            facts.append((_("Reason"), reason))
            q = confirm.Question(
                title=_("Reject application %(id)s") % {"id": pk},
                what=_("The application is refused; what it held on the credit line is freed."),
                facts=facts,
                danger=True,
                button=_("Reject the application"),
                back=back,
            )
        else:
            q = confirm.Question(
                title=_("Disburse application %(id)s") % {"id": pk},
                what=_(
                    "The loan of %(amount)s yuan is created today with its rate and schedule; "
                    "it cannot be undone."
                )
                % {"amount": yuan(p.amount_fen)},
                facts=facts,
                button=_("Disburse the loan"),
                back=back,
            )
        return confirm.ask(request, q)

    def run() -> str:
        if action == "reject":
            lending.reject(user, application_id=pk, reason=reason)
            messages.success(request, _("Application %(id)s rejected.") % {"id": pk})
            return back
        loan = lending.disburse(user, application_id=pk, disbursed_on=today, today=today)
        messages.success(request, _("Loan %(id)s disbursed.") % {"id": loan.pk})
        return back

    return confirm.once(request, run, fallback=back)


def breaker_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a suspension (the breaker visible: checked by the caller)."""
    back = reverse("console:breakers")
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write why the suspension is lifted (5 characters or more)."))
        return redirect(back)
    reason = form.cleaned_data["reason"]
    if not confirm.confirmed(request):
        try:
            p = previews.preview_lift(request.user, breaker_id=pk)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        b = p.breaker
        q = confirm.Question(
            title=_("Lift the suspension of %(bank)s in %(district)s")
            % {"bank": b.bank.name, "district": b.district.name},
            what=_(
                "The bank may take new applications in the district again; the breaker stays "
                "on watch."
            ),
            facts=[
                (_("State now"), BreakerLevel(b.state).label),
                (_("State after"), BreakerLevel(p.state_after).label),
                (_("Reason"), reason),
            ],
            danger=True,
            button=_("Lift the suspension"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        breakers.lift(request.user, breaker_id=pk, on=clock.today(), reason=reason)
        messages.success(request, _("The suspension was lifted."))
        return back

    return confirm.once(request, run, fallback=back)
