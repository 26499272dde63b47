"""Lending pages: apply (enterprise), the application queue (bank), loans with schedule and
history (every role, scoped by ``lending.selectors``), repayment upload from Excel (bank)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.console import reads
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.forms import (
    ApplyForm,
    ApproveForm,
    RejectForm,
    RepaymentUploadForm,
    add_service_error,
)
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.errors import InvalidInput, ServiceError, UploadTooLarge
from kvcredit.jobs.services import queue_repayments
from kvcredit.lending import loans as lending
from kvcredit.lending import repayments, selectors
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.repayment_import import post_rows, read_file, template_xlsx
from kvcredit.roles import Role

PER_PAGE = 25


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
    """Applications and loans the user may see: its own, its bank's, its district's, or all."""
    user = request.user
    apps = selectors.applications(user).order_by("-id")
    page = Paginator(selectors.loans(user).order_by("-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    for loan in page.object_list:
        loan.written_off = lc.is_written_off(loan.status)
    context = {"applications": apps[:PER_PAGE], "page": page, "per_page": PER_PAGE}
    return render(request, "console/lending/loans.html", context)


@role_required(*EVERY_ROLE)
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loan = selectors.loans(request.user).filter(pk=pk).first()
    if loan is None:
        raise Http404
    context = {
        "loan": loan,
        "written_off": lc.is_written_off(loan.status),
        "accrued_fen": repayments.accrued_fen(loan),
        "payoff_fen": repayments.payoff(loan),
        "payoff_on": repayments.value_date(loan),
        "instalments": selectors.instalments(request.user, pk),
        "repayments": selectors.repayments(request.user).filter(loan_id=pk),
    }
    return render(request, "console/lending/loan.html", context)


@role_required(OrgKind.BANK)
def queue(request: HttpRequest) -> HttpResponse:
    """The bank's open applications: submitted (approve or reject) and approved (disburse)."""
    open_ = list(selectors.applications(request.user).filter(status__in=lc.HOLDING))
    for a in open_:  # what the bank may do with each, from the application's table
        a.steps = lc.APPLICATION.allowed_steps(a.status, Role.BANK)
    return render(request, "console/lending/queue.html", {"applications": open_})


@require_POST
@role_required(OrgKind.BANK)
def decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve (an amount), reject (a reason) or disburse one application of the bank."""
    app = selectors.applications(request.user).filter(pk=pk).first()
    if app is None:
        raise Http404
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
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                raise _invalid(form)
            lending.reject(request.user, application_id=pk, reason=form.cleaned_data["reason"])
            messages.success(request, _("Application %(id)s rejected.") % {"id": pk})
        elif action == "disburse":
            loan = lending.disburse(
                request.user, application_id=pk, disbursed_on=today, today=today
            )
            messages.success(request, _("Loan %(id)s disbursed.") % {"id": loan.pk})
        else:
            raise Http404
    except ServiceError as exc:
        # the services word their refusals in the active language already
        problems = getattr(exc, "problems", None)
        why = "; ".join(m for _f, m in problems) if problems else exc.detail
        messages.error(request, _("Refused: %(why)s") % {"why": why})
    return redirect("console:queue")


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
