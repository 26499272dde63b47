"""Lending pages: apply (enterprise), the application queue (bank), loans with schedule and
history (every role, scoped by ``lending.selectors``), repayment upload from Excel (bank)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import reads, tables
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.forms import (
    ApplyForm,
    ApproveForm,
    RepaymentUploadForm,
    add_service_error,
)
from kvcredit.console.lists import listing
from kvcredit.console.views import repay, steps
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.errors import InvalidInput, ServiceError, UploadTooLarge
from kvcredit.fund import subsidies
from kvcredit.jobs.services import queue_repayments
from kvcredit.lending import deferrals, repayments, selectors
from kvcredit.lending import loans as lending
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.repayment_import import post_rows, read_file, template_xlsx
from kvcredit.money import fen_to_yuan
from kvcredit.roles import Role

PER_PAGE = 25  # the bank's queue, oldest first


@role_required(OrgKind.ENTERPRISE)
def apply(request: HttpRequest) -> HttpResponse:
    ent = reads.own_enterprise(request.user)
    banks = ent_selectors.banks(request.user).filter(admissions__district_id=ent.district_id)
    products = selectors.products(request.user).filter(active=True)
    form = ApplyForm(request.POST or None, banks=banks, products=products)
    if request.method == "POST" and form.is_valid():
        try:
            lending.apply(request.user, today=clock.today(), **form.values())
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Your application was sent to the bank."))
            return redirect("console:loans")
    line = ent_selectors.credit_lines(request.user).filter(enterprise=ent).first()
    return render(request, "console/lending/apply.html", {"form": form, "line": line})


@role_required(*EVERY_ROLE)
def loans(request: HttpRequest) -> HttpResponse:
    """Loans the user may see (its own, its bank's, its district's, or all): filtered, sorted,
    paged over the whole history and exported (``console.lists``)."""
    rows = selectors.loans(request.user).select_related("district").order_by("-id")
    waiting = []  # an enterprise lands here after applying: its applications still open
    if kind_of(request.user) == OrgKind.ENTERPRISE:
        open_ = selectors.applications(request.user).filter(status__in=lc.HOLDING)
        waiting = list(open_.order_by("-id"))
    return listing(
        request,
        rows,
        tables.LoanFilter,
        tables.LoanTable,
        template="console/lending/loans.html",
        name="loans",
        title=_("Loans"),
        context={"waiting": waiting},
    )


@role_required(*EVERY_ROLE)
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loans(request.user).filter(pk=pk).first()
    if loan is None:
        raise Http404
    today = clock.today()
    role = ROLES.get(kind_of(request.user))
    rows = list(loan.deferrals.order_by("id"))
    for d in rows:  # what the user may do with each request, from the deferral's table
        d.steps = lc.DEFERRAL.allowed_steps(d.status, role) if role else []
    may_ask = role is not None and lc.DEFERRAL.may(None, "request", role)
    subs = subsidies.subsidies(request.user).filter(loan_id=pk).select_related("instalment")
    context = {
        "loan": loan,
        "deferrals": rows,
        "deferral_rules": deferrals.eligible_rules(loan, today) if may_ask else [],
        "subsidies": subs,
        "subsidy_total_fen": sum(s.amount_fen for s in subs),
        "written_off": lc.is_written_off(loan.status),
        "accrued_fen": repayments.accrued_fen(loan),
        "payoff_fen": repayments.payoff(loan),
        "payoff_on": repayments.value_date(loan),
        "instalments": selectors.instalments(request.user, pk),
        "repayments": selectors.repayments(request.user).filter(loan_id=pk),
    }
    context.update(repay.loan_tasks(request, loan, context["repayments"]))
    return render(request, "console/lending/loan.html", context)


ROLES = {OrgKind.BANK: Role.BANK, OrgKind.ENTERPRISE: Role.ENTERPRISE}


@require_POST
@role_required(OrgKind.ENTERPRISE, OrgKind.BANK)
def deferral_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise asks (or its bank records a paper request) to defer loan ``pk``."""
    if not selectors.loans(request.user).filter(pk=pk).exists():
        raise Http404
    try:
        d = deferrals.request(
            request.user,
            loan_id=pk,
            rule=request.POST.get("rule", ""),
            reason=request.POST.get("reason", ""),
            today=clock.today(),
        )
        messages.success(request, _("Deferral request %(id)s sent to the bank.") % {"id": d.pk})
    except ServiceError as exc:
        messages.error(request, _("Refused: %(why)s") % {"why": _why(exc)})
    return redirect("console:loan", pk)


@require_POST
@role_required(OrgKind.ENTERPRISE, OrgKind.BANK)
def deferral_decide(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """The bank's credit officer grants or refuses a deferral; the enterprise withdraws it."""
    from kvcredit.lending.models import Deferral

    d = Deferral.objects.filter(pk=pk, loan__in=selectors.loans(request.user)).first()
    if d is None:
        raise Http404
    today = clock.today()
    try:
        if step == "grant":
            deferrals.grant(request.user, deferral_id=pk, today=today)
            messages.success(
                request, _("Deferral %(id)s granted: the plan is re-cut.") % {"id": pk}
            )
        elif step == "refuse":
            reason = request.POST.get("reason", "")
            deferrals.refuse(request.user, deferral_id=pk, reason=reason, today=today)
            messages.success(request, _("Deferral %(id)s refused.") % {"id": pk})
        elif step == "withdraw":
            deferrals.withdraw(request.user, deferral_id=pk)
            messages.success(request, _("Deferral %(id)s withdrawn.") % {"id": pk})
        else:
            raise Http404
    except ServiceError as exc:
        messages.error(request, _("Refused: %(why)s") % {"why": _why(exc)})
    return redirect("console:loan", d.loan_id)


def _why(exc: ServiceError) -> str:
    problems = getattr(exc, "problems", None)
    return "; ".join(m for _f, m in problems) if problems else exc.detail


@role_required(OrgKind.BANK)
def queue(request: HttpRequest) -> HttpResponse:
    """The bank's open applications: submitted (approve or reject) and approved (disburse)."""
    open_ = (
        selectors.applications(request.user)
        .filter(status__in=lc.HOLDING)
        .select_related("enterprise__credit_line__evaluation", "product")
    )
    page = Paginator(open_, PER_PAGE).get_page(request.GET.get("page"))  # oldest first
    for a in page.object_list:  # what the bank may do with each, from the application's table
        a.steps = lc.APPLICATION.allowed_steps(a.status, Role.BANK)
    context = {"applications": page.object_list, "page": page}
    return render(request, "console/lending/queue.html", context)


@require_POST
@role_required(OrgKind.BANK)
def decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve (an amount), reject (a reason) or disburse one application of the bank."""
    app = selectors.applications(request.user).filter(pk=pk).first()
    if app is None:
        raise Http404
    if action in ("reject", "disburse"):  # irreversible: confirmed first, done once
        return steps.application_step(request, pk, action)
    today = clock.today()
    try:
        if action == "approve":
            form = ApproveForm(request.POST)
            if not form.is_valid():
                raise _invalid(form)
            lending.approve(
                request.user, application_id=pk, amount_fen=form.amount_fen(), today=today
            )
            messages.success(request, _("Application %(id)s approved.") % {"id": pk})
        else:
            raise Http404
    except ServiceError as exc:
        # the services word their refusals in the active language already
        problems = getattr(exc, "problems", None)
        why = "; ".join(_named(f, m) for f, m in problems) if problems else exc.detail
        messages.error(request, _("Application %(id)s refused: %(why)s") % {"id": pk, "why": why})
    return redirect("console:queue")


# The queue's form fields by the label the page shows them with (a refusal names its field).
DECISION_FIELDS = {
    "amount": gettext_lazy("Approved amount (yuan)"),
    "reason": gettext_lazy("Reason"),
}


def _named(field: str, message: str) -> str:
    label = DECISION_FIELDS.get(field, field)
    return f"{label}: {message}" if label else message


def _invalid(form: object) -> ServiceError:
    from kvcredit.errors import InvalidInput

    errors = getattr(form, "errors", {})
    return InvalidInput([(k, str(v[0])) for k, v in errors.items()])


@role_required(OrgKind.BANK)
def upload_repayments(request: HttpRequest) -> HttpResponse:
    """An Excel or CSV file of repayments; every row posted once or reported (row, field,
    reason); see ``lending.repayment_import``."""
    form = RepaymentUploadForm(request.POST or None, request.FILES or None)
    report = job = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data, name = upload.read(), upload.name or ""
            rows = read_file(data, name)
            if len(rows) > settings.KVCREDIT_JOB_INLINE_ROWS:  # a large file: a job
                job = queue_repayments(request.user, data=data, name=name, today=clock.today())
            else:
                report = post_rows(request.user, rows, today=clock.today())
        except UploadTooLarge as exc:  # over the bounds: said, with the file's name
            form.add_error("file", str(exc))
        except InvalidInput as exc:
            for _field, message in exc.problems:
                form.add_error("file", message)
    chinese = reads.chinese()
    context = {
        "form": form,
        "report": report,
        "job": job,
        "chinese": chinese,
        "kind": kind_of(request.user),
    }
    return render(request, "console/lending/upload.html", context)


@role_required(OrgKind.BANK)
def repayment_template(request: HttpRequest) -> HttpResponse:
    """The upload's template: an XLSX with exactly the headers the upload reads."""
    chinese = reads.chinese()
    response = HttpResponse(
        template_xlsx(chinese=chinese),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = "repayments-template.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(OrgKind.TRUSTEE, OrgKind.ADMINISTRATOR, OrgKind.DISTRICT, OrgKind.BANK)
def overdue(request: HttpRequest) -> HttpResponse:
    """The overdue and non-performing dashboard of the user's live book, by bank and district."""
    by_bank = selectors.overdue_by(request.user, "bank")
    by_district = selectors.overdue_by(request.user, "district")
    totals = {
        k: sum(getattr(r, k) for r in by_bank)
        for k in (
            "loans",
            "outstanding_fen",
            "overdue_loans",
            "overdue_principal_fen",
            "overdue_outstanding_fen",
            "non_performing_fen",
        )
    }
    context = {
        "by_bank": by_bank,
        "by_district": by_district,
        "totals": totals,
        "categories": [
            (code, lc.CATEGORY_LABELS[lc.category_of(code)]) for code in lc.CATEGORY_CODES
        ],
        "chart_bank": {
            "x": [r.name for r in by_bank],
            "y": [str(fen_to_yuan(r.non_performing_fen)) for r in by_bank],
        },
        "chart_district": {
            "x": [r.name for r in by_district],
            "y": [str(fen_to_yuan(r.non_performing_fen)) for r in by_district],
        },
    }
    return render(request, "console/lending/overdue.html", context)
