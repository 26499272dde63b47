"""One repayment entered on the loan's page, and the reversal of a mistaken one (the bank),
each confirmed first with what will happen (``lending.previews``); posted once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.console import confirm
from kvcredit.console.access import role_required
from kvcredit.console.forms_tasks import RepaymentForm, ReversalForm, problems_of
from kvcredit.console.templatetags.console import yuan
from kvcredit.errors import ServiceError
from kvcredit.lending import previews, repayments, selectors
from kvcredit.lending.domain import lifecycle as lc


def loan_status_label(status: str) -> str:
    return _(lc.LOAN_LABELS[lc.LoanStatus(status)])


def change_facts(p: previews.LoanChange) -> list[tuple[str, str]]:
    facts = [
        (_("Amount (yuan)"), yuan(p.amount_fen)),
        (_("Penalty (yuan)"), yuan(p.penalty_fen)),
        (_("Interest (yuan)"), yuan(p.interest_fen)),
        (_("Principal (yuan)"), yuan(p.principal_fen)),
        (_("Outstanding after (yuan)"), yuan(p.outstanding_after_fen)),
        (_("Due after (yuan)"), yuan(p.owed_after_fen)),
        (_("Loan status after"), loan_status_label(p.status_after)),
    ]
    if p.paid_off:
        facts.append((_("Paid off"), _("nothing is left owing; the end of day closes the loan")))
    return facts


def _visible(request: HttpRequest, pk: int) -> str:
    if not selectors.loans(request.user).filter(pk=pk).exists():
        raise Http404
    return reverse("console:loan", args=[pk])


@require_POST
@role_required(OrgKind.BANK)
def repay(request: HttpRequest, pk: int) -> HttpResponse:
    back = _visible(request, pk)
    form = RepaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": problems_of(form)})
        return redirect(back)
    values = form.values()
    today = clock.today()
    if not confirm.confirmed(request):
        try:
            p = previews.preview_repay(request.user, loan_id=pk, today=today, **_no_note(values))
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        q = confirm.Question(
            title=_("Record a repayment on loan %(id)s") % {"id": pk},
            what=_("%(amount)s yuan repaid on %(day)s is applied to the loan as follows.")
            % {"amount": yuan(p.amount_fen), "day": values["paid_on"].isoformat()},
            facts=change_facts(p),
            button=_("Record the repayment"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        repayments.repay(request.user, loan_id=pk, today=today, **values)
        messages.success(request, _("The repayment was recorded."))
        return back

    return confirm.once(request, run, fallback=back)


def _no_note(values: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in values.items() if k != "note"}


@require_POST
@role_required(OrgKind.BANK)
def reverse_repayment(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    back = _visible(request, pk)
    if not selectors.repayments(request.user).filter(pk=rid, loan_id=pk).exists():
        raise Http404
    form = ReversalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": problems_of(form)})
        return redirect(back)
    today = clock.today()
    if not confirm.confirmed(request):
        try:
            p = previews.preview_reverse(request.user, repayment_id=rid, today=today)
        except ServiceError as exc:
            confirm.refused(request, exc)
            return redirect(back)
        q = confirm.Question(
            title=_("Reverse repayment %(id)s") % {"id": rid},
            what=_(
                "A reversing record undoes the repayment: the loan owes its split again and the "
                "enterprise's available credit shrinks by the principal. The original record stays."
            ),
            facts=change_facts(p),
            danger=True,
            button=_("Reverse the repayment"),
            back=back,
        )
        return confirm.ask(request, q)

    def run() -> str:
        repayments.reverse(
            request.user, repayment_id=rid, today=today, note=form.cleaned_data["note"]
        )
        messages.success(request, _("The repayment was reversed."))
        return back

    return confirm.once(request, run, fallback=back)


def loan_tasks(request: HttpRequest, loan: object, rows: object) -> dict[str, object]:
    """What the loan page adds for the tasks: the bank's repayment form where the loan's
    lifecycle takes repayments, which repayments may be reversed, and the audit trail."""
    from kvcredit.accounts.permissions import kind_of
    from kvcredit.console.views.audit import trail
    from kvcredit.lending.models import RepaymentKind

    status = loan.status  # type: ignore[attr-defined]
    bank = kind_of(request.user) == OrgKind.BANK
    reps = list(rows)  # type: ignore[call-overload]
    reversed_ids = {r.reverses_id for r in reps if r.reverses_id}
    reversible = set()
    if bank and lc.may_reverse_repayment(status):
        reversible = {
            r.pk for r in reps if r.kind == RepaymentKind.REPAYMENT and r.pk not in reversed_ids
        }
    more = [("repayment", r.pk) for r in reps]
    app_id = getattr(loan, "application_id", None)
    if app_id:
        more.append(("application", app_id))
    return {
        "repay_form": RepaymentForm(initial={"paid_on": repayments.value_date(loan)})  # type: ignore[arg-type]
        if bank and lc.may_repay(status)
        else None,
        "reversible": reversible,
        "reversal_form": ReversalForm(),
        "audit": trail(request.user, "loan", loan.pk, more=more),  # type: ignore[attr-defined]
    }
