"""Fund pages: pools and contributions, claims (bank files; trustee A checks, trustee B pays),
recoveries, fees and reductions, circuit breakers with lift-and-reason. Reads through
``fund.selectors`` (scoped); writes through the fund's services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of, not_permitted
from kvcredit.console.access import role_required
from kvcredit.console.forms import (
    AmountForm,
    ClaimFileForm,
    ContributionForm,
    EndClaimForm,
    FeeReductionForm,
    LiftForm,
    NoteForm,
    RejectClaimForm,
    add_service_error,
)
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.errors import InvalidInput, NotPermitted, ServiceError
from kvcredit.fund import applied, breakers, claims, selectors, services
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain.ledger import PoolAccount
from kvcredit.lending import selectors as lending_selectors
from kvcredit.roles import Role

TRUSTEE, BANK, DISTRICT, ADMIN = (
    OrgKind.TRUSTEE,
    OrgKind.BANK,
    OrgKind.DISTRICT,
    OrgKind.ADMINISTRATOR,
)


def _refused(request: HttpRequest, exc: ServiceError) -> None:
    """The service's refusal as a message; the services word it in the active language."""
    problems = getattr(exc, "problems", None)
    detail = "; ".join(m for _f, m in problems) if problems else exc.detail
    messages.error(request, _("Refused: %(why)s") % {"why": detail})


@role_required(TRUSTEE, DISTRICT, ADMIN)
def pools(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = clock.today()
    rows = []
    visible = list(selectors.pools(user).select_related("district"))
    for s in selectors.pool_summaries(visible, as_of=today):
        pool = s.pool
        rows.append(
            {
                "pool": pool,
                "cash": s.balance(PoolAccount.BANK),
                "city": s.balance(PoolAccount.CITY_CONTRIBUTIONS),
                "district": s.balance(PoolAccount.DISTRICT_CONTRIBUTIONS),
                "paid": s.balance(PoolAccount.COMPENSATION_PAID),
                "recovered": s.balance(PoolAccount.RECOVERIES),
                "fees": s.balance(PoolAccount.SERVICE_FEES),
                "city_owed": s.city_owed_fen,
                "district_owed": s.district_owed_fen,
                "waiting": s.waiting_claims,
            }
        )
    form = ContributionForm(
        request.POST or None,
        districts=ent_selectors.districts(user),
        initial={"paid_date": today},
    )
    if request.method == "POST":
        if kind_of(user) != TRUSTEE:
            raise not_permitted(gettext_noop("record contributions"))
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.record_contribution(
                    user,
                    district_id=d["district"],
                    contributor=d["contributor"],
                    amount_fen=form.amount_fen(),
                    paid_date=d["paid_date"],
                    reference=d["reference"],
                )
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The contribution was recorded."))
                return redirect("console:pools")
    contributions = selectors.contributions(user).select_related("pool__district")
    owed = [
        {"district": pool.district.name, "party": party}
        for pool in visible
        for party in applied.owed(pool, today)
    ]
    context = {
        "rows": rows,
        "owed": owed,
        "form": form if kind_of(user) == TRUSTEE else None,
        "contributions": contributions.order_by("-paid_date", "-id")[:50],
    }
    return render(request, "console/fund/pools.html", context)


@role_required(TRUSTEE, BANK, DISTRICT, ADMIN)
def claim_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ClaimFileForm(request.POST or None) if kind_of(user) == BANK else None
    if request.method == "POST":
        if form is None:
            raise not_permitted(gettext_noop("file compensation claims"))
        if form.is_valid():
            today = clock.today()
            try:
                c = claims.register(user, loan_id=form.cleaned_data["loan_id"], on=today)
                claims.file(user, claim_id=c.pk, on=today)
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Claim %(id)s was filed.") % {"id": c.pk})
                return redirect("console:claims")
    rows = selectors.claims(user).select_related("loan__enterprise", "bank", "pool__district")
    overdue = []
    if kind_of(user) == BANK:
        overdue = list(
            selectors.claimable_loans(lending_selectors.loans(user)).order_by("-days_past_due")[:20]
        )
    today = clock.today()
    rb = applied.rules_on(today)
    shown = rb.fund.allowance or rb.fund.cap_per_loan_yuan or rb.fund.cap_per_bank_per_year_yuan
    limits = [selectors.bank_limits(b, today) for b in selectors.banks(user)] if shown else []
    context = {
        "claims": rows.order_by("-id")[:100],
        "form": form,
        "overdue": overdue,
        "limits": limits,
    }
    return render(request, "console/fund/claims.html", context)


def _with_reasons(rows: Any) -> list[Any]:
    """Fees with the reason of their cut in the active language."""
    out = list(rows)
    for f in out:
        f.reason_shown = applied.fee_cut_reason(f)
    return out


def _labelled(rows: Any) -> list[Any]:
    """Loss-share rows with the party's name in the active language."""
    zh = (get_language() or "").startswith("zh")
    out = list(rows)
    for r in out:
        r.label = r.name_zh if zh else r.name
    return out


@role_required(TRUSTEE, BANK, DISTRICT, ADMIN)
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    c = (
        selectors.claims(request.user)
        .filter(pk=pk)
        .select_related("loan__enterprise", "bank", "pool__district")
        .first()
    )
    if c is None:
        raise Http404
    # The claim lifecycle answers which steps this user may take now (``steps``: a button
    # each) and why a step open to the role cannot be taken (``refusals``: a note each).
    kind = kind_of(request.user)
    facts = selectors.claim_facts(request.user, c, c.loan, on=clock.today())
    open_to_role = dc.CLAIM.allowed_steps(facts.status, kind) if kind in set(Role) else []
    allowed = dc.allowed_steps(kind, facts)
    refusals: dict[str, str] = {}
    for step in open_to_role:
        why = dc.unmet(step, facts)
        if why is not None:
            refusals[step] = claims.unmet_reason(why, facts)
    context = {
        "claim": c,
        "events": c.events.select_related("actor").order_by("id"),
        "recoveries": c.recoveries.order_by("id"),
        "stages": c.stages.order_by("seq"),
        "limits": [claims.limit_text(x) for x in c.limited_by.split(",") if x],
        "shares": _labelled(c.loss_shares.order_by("recovery_id", "id")),
        "note_form": NoteForm(),
        "amount_form": AmountForm(),
        "steps": [s for s in allowed if s not in refusals],
        "refusals": refusals,
        "reject_form": RejectClaimForm(),
        "end_form": EndClaimForm(),
    }
    return render(request, "console/fund/claim.html", context)


@require_POST
@role_required(TRUSTEE, BANK)
def claim_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """file (the bank, for a registered claim), check (trustee A), pay (trustee B: the
    maker-checker rule refuses A), reject, close or write off (trustee), recover."""
    user = request.user
    if not selectors.claims(user).filter(pk=pk).exists():
        raise Http404
    today = clock.today()
    if step not in set(dc.Step) or step == dc.Step.REGISTER:
        raise Http404
    try:  # the services refuse a step the claim's state, the role or the facts do not allow
        if step == dc.Step.FILE:
            claims.file(user, claim_id=pk, on=today)
            messages.success(request, _("Claim %(id)s was filed.") % {"id": pk})
        elif step == dc.Step.CHECK:
            form = NoteForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            claims.check(user, claim_id=pk, on=today, note=note)
            messages.success(request, _("The claim was checked; a second trustee approves it."))
        elif step == dc.Step.PAY:
            c = claims.pay(user, claim_id=pk, on=today)
            if c.waiting_for_funds:
                messages.warning(request, _("The pool cannot pay this claim yet; it waits."))
            else:
                messages.success(request, _("The claim was approved and paid."))
        elif step == dc.Step.REJECT:
            form = RejectClaimForm(request.POST)
            if not form.is_valid():
                raise InvalidInput([("reason", _("write why the claim is rejected"))])
            claims.reject(user, claim_id=pk, on=today, reason=form.cleaned_data["reason"])
            messages.success(request, _("The claim was rejected."))
        elif step in (dc.Step.CLOSE, dc.Step.WRITE_OFF):
            form = EndClaimForm(request.POST)
            if not form.is_valid():
                raise InvalidInput([("reason", _("write why the claim ends"))])
            written_off = step == dc.Step.WRITE_OFF or request.POST.get("outcome") == "write_off"
            claims.close(
                user,
                claim_id=pk,
                on=today,
                written_off=written_off,
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                _("The claim was written off; the loan left the bank's book.")
                if written_off
                else _("The claim was closed; the loan left the bank's book."),
            )
        else:  # recover
            amount = AmountForm(request.POST)
            if not amount.is_valid():
                raise InvalidInput([("amount", _("a positive amount in yuan"))])
            claims.recover(user, claim_id=pk, amount_fen=amount.amount_fen(), on=today)
            messages.success(request, _("The recovery was recorded."))
    except NotPermitted as exc:
        _refused(request, exc)
    except ServiceError as exc:
        _refused(request, exc)
    return redirect("console:claim", pk=pk)


@role_required(TRUSTEE, ADMIN, DISTRICT)
def fees(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = FeeReductionForm(request.POST or None) if kind_of(user) == TRUSTEE else None
    if request.method == "POST":
        if form is None:
            raise not_permitted(gettext_noop("set service-fee reductions"))
        if form.is_valid():
            try:
                services.add_fee_reduction(user, **form.cleaned_data)
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The fee reduction was added."))
                return redirect("console:fees")
    context: dict[str, Any] = {
        "form": form,
        "reductions": selectors.fee_reductions(user).order_by("valid_from"),
        "fees": _with_reasons(
            selectors.fees(user).select_related("loan", "reduction").order_by("-id")[:50]
        ),
    }
    return render(request, "console/fund/fees.html", context)


@role_required(TRUSTEE, BANK, DISTRICT, ADMIN)
def breaker_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.breakers(request.user).select_related("bank", "district")
    context = {
        "breakers": rows.order_by("district__code", "bank__code"),
        "can_lift": kind_of(request.user) == TRUSTEE,
        "form": LiftForm(),
    }
    return render(request, "console/fund/breakers.html", context)


@require_POST
@role_required(TRUSTEE)
def breaker_lift(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.breakers(request.user).filter(pk=pk).exists():
        raise Http404
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write why the suspension is lifted (5 characters or more)."))
        return redirect("console:breakers")
    try:
        breakers.lift(
            request.user, breaker_id=pk, on=clock.today(), reason=form.cleaned_data["reason"]
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The suspension was lifted."))
    return redirect("console:breakers")
