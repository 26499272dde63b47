"""Fund pages: pools and contributions, claims (bank files; trustee A checks, trustee B pays),
recoveries, fees and reductions, circuit breakers with lift-and-reason. Reads through
``fund.selectors`` (scoped); writes through the fund's services."""

from __future__ import annotations

from decimal import Decimal
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
from kvcredit.console import tables
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
from kvcredit.console.lists import listing
from kvcredit.console.views import steps
from kvcredit.console.views.audit import trail
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.errors import InvalidInput, NotPermitted, ServiceError
from kvcredit.fund import applied, claims, config, selectors, services
from kvcredit.fund.domain import breaker as db
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import compensation as dcomp
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
        "contributions": contributions.order_by("-paid_date", "-id")[:10],
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
    return listing(
        request,
        rows.order_by("-id"),
        tables.ClaimFilter,
        tables.ClaimTable,
        template="console/fund/claims.html",
        name="claims",
        title=_("Compensation claims"),
        context={"form": form, "overdue": overdue, "limits": limits},
    )


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
        "stages": _stages(c),
        "limits": [claims.limit_text(x) for x in c.limited_by.split(",") if x],
        "shares": _labelled(c.loss_shares.order_by("recovery_id", "id")),
        "note_form": NoteForm(),
        "amount_form": AmountForm(),
        "steps": [s for s in allowed if s not in refusals],
        "refusals": refusals,
        "reject_form": RejectClaimForm(),
        "end_form": EndClaimForm(),
        "write_off_form": EndClaimForm(prefix="end", auto_id="id_wo_%s"),
        "audit": trail(request.user, "claim", c.pk),
    }
    return render(request, "console/fund/claim.html", context)


def _stages(c: Any) -> list[Any]:
    """The claim's stages, each with what it waits for: its lock-in in days after the first
    payment (or its not-before date, shown instead) and when it became (or becomes) payable
    (``dcomp.payable_since``)."""
    out = list(c.stages.order_by("seq"))
    first = out[0].due_on if out else None
    for st in out:
        st.lock_in_days = 0 if first is None else (st.due_on - first).days
        st.payable_since = (
            first
            if st.seq == 0
            else dcomp.payable_since(
                due_on=st.due_on,
                after_recovery_concluded=st.after_recovery_concluded,
                recovery_concluded_on=c.recovery_concluded_on,
            )
        )
    return out


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
    if step in steps.CONFIRMED_CLAIM_STEPS:  # irreversible: confirmed first, done once
        return steps.claim_step(request, pk, step)
    try:  # the services refuse a step the claim's state, the role or the facts do not allow
        if step == dc.Step.FILE:
            claims.file(user, claim_id=pk, on=today)
            messages.success(request, _("Claim %(id)s was filed.") % {"id": pk})
        elif step == dc.Step.CHECK:
            form = NoteForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            claims.check(user, claim_id=pk, on=today, note=note)
            messages.success(request, _("The claim was checked; a second trustee approves it."))
        elif step == dc.Step.CONCLUDE_RECOVERY:
            form = NoteForm(request.POST)
            note = form.cleaned_data["note"] if form.is_valid() else ""
            claims.conclude_recovery(user, claim_id=pk, on=today, note=note)
            messages.success(request, _("The end of the recovery proceedings was recorded."))
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
    }
    rows = selectors.fees(user).select_related("loan__enterprise", "loan__bank", "reduction")
    return listing(
        request,
        rows.order_by("-id"),
        tables.FeeFilter,
        tables.FeeTable,
        template="console/fund/fees.html",
        name="fees",
        title=_("Service fees"),
        context=context,
    )


@role_required(TRUSTEE, BANK, DISTRICT, ADMIN)
def breaker_list(request: HttpRequest) -> HttpResponse:
    """Each pair's ratios against the thresholds in force, and one pair's ratios over time."""
    rows = list(
        selectors.breakers(request.user)
        .select_related("bank", "district")
        .order_by("district__code", "bank__code")
    )
    rules = config.rules()
    for b in rows:
        b.reading = breaker_reading(b, rules)
    chosen = _chosen_breaker(request, rows)
    context = {
        "breakers": rows,
        "thresholds": thresholds(rules),
        "chosen": chosen,
        "series": breaker_series(chosen, rules) if chosen is not None else None,
        "can_lift": kind_of(request.user) == TRUSTEE,
        "form": LiftForm(),
    }
    return render(request, "console/fund/breakers.html", context)


def _chosen_breaker(request: HttpRequest, rows: list[Any]) -> Any:
    """The pair whose chart is shown: ?pair=ID among the user's breakers, else the worst."""
    wanted = request.GET.get("pair", "")
    for b in rows:
        if str(b.pk) == wanted:
            return b
    order = {"SUSPENDED": 0, "WARNING": 1, "NORMAL": 2}
    worst = sorted(rows, key=lambda b: (order.get(b.state, 3), -b.reading["npl"]))
    return worst[0] if worst else None


def thresholds(rules: Any) -> dict[str, Decimal]:
    """The breaker thresholds in force, in percent."""
    pct = Decimal(100)
    return {
        "warn_npl": rules.warn_npl_ratio * pct,
        "suspend_npl": rules.suspend_npl_ratio * pct,
        "warn_comp": rules.warn_compensation_ratio * pct,
        "suspend_comp": rules.suspend_compensation_ratio * pct,
    }


def _level(ratio: Decimal, warn: Decimal, suspend: Decimal) -> str:
    return "bad" if ratio >= suspend else "warn" if ratio >= warn else "ok"


def breaker_reading(b: Any, rules: Any) -> dict[str, Any]:
    """A breaker's two ratios in percent and where each stands against its thresholds."""
    e = db.Exposure(b.outstanding_fen, b.non_performing_fen, b.compensated_fen, b.lent_fen)
    npl, comp = db.as_percent(db.npl_ratio(e)), db.as_percent(db.compensation_ratio(e))
    t = thresholds(rules)
    return {
        "npl": npl,
        "comp": comp,
        "npl_level": _level(npl, t["warn_npl"], t["suspend_npl"]),
        "comp_level": _level(comp, t["warn_comp"], t["suspend_comp"]),
    }


def breaker_series(b: Any, rules: Any) -> dict[str, Any]:
    """The pair's ratios day by day (``BreakerReading``), for the chart and its data table."""
    days, npl, comp = [], [], []
    for r in b.readings.order_by("as_of_date"):
        e = db.Exposure(r.outstanding_fen, r.non_performing_fen, r.compensated_fen, r.lent_fen)
        days.append(r.as_of_date.isoformat())
        npl.append(db.as_percent(db.npl_ratio(e)))
        comp.append(db.as_percent(db.compensation_ratio(e)))
    t = thresholds(rules)
    return {
        "x": days,
        "series": [
            {"name": _("Non-performing ratio"), "y": [str(v) for v in npl]},
            {"name": _("Compensation ratio"), "y": [str(v) for v in comp]},
        ],
        "lines": [
            {"name": _("Suspension: non-performing"), "y": str(t["suspend_npl"])},
            {"name": _("Suspension: compensation"), "y": str(t["suspend_comp"])},
        ],
        "rows": list(zip(days, npl, comp, strict=True)),
    }


@require_POST
@role_required(TRUSTEE)
def breaker_lift(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.breakers(request.user).filter(pk=pk).exists():
        raise Http404
    return steps.breaker_lift(request, pk)  # confirmed first, done once


# -- interest subsidies (贴息) ------------------------------------------------------------------
@role_required(OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE, OrgKind.DISTRICT, OrgKind.BANK)
def subsidy_list(request: HttpRequest) -> HttpResponse:
    """The subsidies paid that the user may see, with the total; the administrator and the
    trustee download the public notice (Excel)."""
    from django.core.paginator import Paginator

    from kvcredit.fund import subsidies

    qs = subsidies.subsidies(request.user).select_related("instalment").order_by("-paid_on", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "totals": subsidies.totals(request.user),
        "may_publish": kind_of(request.user) in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE),
    }
    return render(request, "console/fund/subsidies.html", context)


@role_required(OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def subsidy_notice(request: HttpRequest) -> HttpResponse:
    """The public notice of the subsidies paid in [from, to] (both optional) as Excel."""
    import datetime as dt
    import io

    from kvcredit.fund import notice

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.GET[name]) if request.GET.get(name) else None
        except ValueError:
            raise Http404 from None

    buf = io.BytesIO()
    notice.write(buf, request.user, start=day("from"), end=day("to"))
    response = HttpResponse(
        buf.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="subsidy-notice.xlsx"'
    return response
