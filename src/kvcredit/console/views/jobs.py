"""The jobs a user may see: the list, one job's progress (a page and its JSON poll), retry,
an export's download; the administrator starts the end of day, an import or an export here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.console import reads
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.errors import NotFound, ServiceError
from kvcredit.jobs import runner, selectors, services
from kvcredit.jobs.domain import JOB
from kvcredit.jobs.models import Job

ADMIN = OrgKind.ADMINISTRATOR


class EodForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Business day to close"))
    catch_up = forms.BooleanField(
        label=gettext_lazy("Run the missing days before it"), required=False, initial=True
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Enterprise file (CSV, XLSX, Parquet)"))
    year = forms.IntegerField(label=gettext_lazy("Data year"), min_value=2000, max_value=2100)


class ExportForm(forms.Form):
    what = forms.ChoiceField(
        label=gettext_lazy("Export"),
        choices=[
            ("statistics", gettext_lazy("Statistics workbook")),
            ("fund_books", gettext_lazy("Fund books (beancount)")),
        ],
    )


def _job(request: HttpRequest, pk: int) -> Job:
    job = selectors.jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("no such job"))
    return job


def _start(request: HttpRequest, start: Any, **kw: Any) -> HttpResponse:
    try:
        job = start(request.user, **kw)
    except ServiceError as exc:
        messages.error(request, _("Refused: %(why)s") % {"why": exc.detail})
        return redirect("console:jobs")
    messages.success(request, _("Job %(id)s queued.") % {"id": job.pk})
    return redirect("console:job", pk=job.pk)


@role_required(*EVERY_ROLE)
def job_list(request: HttpRequest) -> HttpResponse:
    admin = request.user.organisation.kind == ADMIN
    context = {
        "jobs": selectors.jobs(request.user).order_by("-id")[:100],
        "admin": admin,
        "eod_form": EodForm(initial={"date": clock.today() - dt.timedelta(days=1)}),
        "import_form": ImportForm(initial={"year": clock.today().year - 1}),
        "export_form": ExportForm(),
        **selectors.nightly_context(request.user),
    }
    return render(request, "console/jobs/list.html", context)


@role_required(*EVERY_ROLE)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    context = {
        "job": job,
        "may_retry": JOB.may(job.state, "retry", runner.role_of(request.user)),
        "summary": [
            (k, v) for k, v in (job.result or {}).items() if not isinstance(v, list | dict)
        ],
        "errors": (job.result or {}).get("errors") or [],
        "chinese": reads.chinese(),
    }
    return render(request, "console/jobs/detail.html", context)


@role_required(*EVERY_ROLE)
def job_json(request: HttpRequest, pk: int) -> JsonResponse:
    data = selectors.as_dict(_job(request, pk))
    data["state_label"] = _(JOB.labels[Job.State(data["state"])])
    return JsonResponse(data)


@require_POST
@role_required(*EVERY_ROLE)
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        runner.retry(job.pk, request.user)
    except ServiceError as exc:
        messages.error(request, _("Refused: %(why)s") % {"why": exc.detail})
    else:
        messages.success(request, _("Job %(id)s queued again.") % {"id": job.pk})
    return redirect("console:job", pk=job.pk)


@role_required(*EVERY_ROLE)
def job_output(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    data = Job.objects.filter(pk=job.pk).values_list("output", flat=True).first()
    if not job.output_name or data is None:
        raise NotFound(_("this job has no file"))
    response = HttpResponse(bytes(data), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
    return response


@require_POST
@role_required(ADMIN)
def start_eod(request: HttpRequest) -> HttpResponse:
    form = EodForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": _("a date is needed")})
        return redirect("console:jobs")
    day = form.cleaned_data["date"]
    return _start(request, services.queue_eod, as_of=day, catch_up=form.cleaned_data["catch_up"])


@require_POST
@role_required(ADMIN, OrgKind.DISTRICT)
def start_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Refused: %(why)s") % {"why": _("a file and a year are needed")})
        return redirect("console:jobs")
    upload = form.cleaned_data["file"]
    return _start(
        request,
        services.queue_import,
        data=upload.read(),
        name=upload.name or "import.csv",
        year=form.cleaned_data["year"],
    )


@require_POST
@role_required(ADMIN, OrgKind.TRUSTEE)
def start_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    what = form.cleaned_data["what"] if form.is_valid() else "statistics"
    return _start(request, services.queue_export, what=what)
