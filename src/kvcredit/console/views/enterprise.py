"""Pages of an enterprise: its evaluation, its data submissions, submitting a new year."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.console import reads
from kvcredit.console.access import EVERY_ROLE, role_required
from kvcredit.console.forms import SubmissionForm, add_service_error
from kvcredit.console.views.audit import trail
from kvcredit.enterprises import selectors, services
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.scoring.io import template_headers

ENTERPRISE = OrgKind.ENTERPRISE


def _evaluation_page(request: HttpRequest, ent: object, template: str) -> HttpResponse:
    ev = reads.latest_evaluation(request.user, ent)  # type: ignore[arg-type]
    explained = reads.explain(request.user, ev) if ev is not None else None
    line = selectors.credit_lines(request.user).filter(enterprise=ent).first()
    more = [("credit_line", line.pk)] if line is not None else []
    audit = trail(request.user, "enterprise", ent.pk, more=more)  # type: ignore[attr-defined]
    context = {"enterprise": ent, "explained": explained, "line": line, "audit": audit}
    return render(request, template, context)


@role_required(ENTERPRISE)
def evaluation(request: HttpRequest) -> HttpResponse:
    return _evaluation_page(request, reads.own_enterprise(request.user), "console/evaluation.html")


@role_required(*EVERY_ROLE)
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One enterprise's grade and why, for whoever may see it (404 outside the scope)."""
    return _evaluation_page(request, reads.enterprise(request.user, pk), "console/evaluation.html")


@role_required(ENTERPRISE)
def submissions(request: HttpRequest) -> HttpResponse:
    ent = reads.own_enterprise(request.user)
    subs = selectors.submissions(request.user).filter(enterprise=ent).order_by("-year", "-version")
    return render(request, "console/submissions.html", {"enterprise": ent, "submissions": subs})


@role_required(OrgKind.ENTERPRISE, OrgKind.DISTRICT, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = selectors.submissions(request.user).filter(pk=pk).first()
    if sub is None:
        raise NotFound(_("no such submission"))
    rows = [
        (reads.field_label(f.name), v, f.kind) for f, v in SubmissionForm.initial_rows(sub.data)
    ]
    shown = {f.name: f for f in selectors.current_declared_fields(request.user)}
    rows += [
        (reads.declared_label(shown[k]) if k in shown else k, v, "extra")
        for k, v in (sub.extra or {}).items()
    ]
    return render(request, "console/submission.html", {"submission": sub, "rows": rows})


@role_required(ENTERPRISE)
def submit(request: HttpRequest) -> HttpResponse:
    ent = reads.own_enterprise(request.user)
    declared = selectors.current_declared_fields(request.user)
    if request.method == "POST":
        form = SubmissionForm(request.POST, declared=declared)
        if form.is_valid():
            try:
                services.submit_data(
                    request.user,
                    enterprise_id=ent.pk,
                    year=form.cleaned_data["year"],
                    values=form.values(),
                )
            except InvalidInput as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Your data was submitted and evaluated."))
                return redirect("console:evaluation")
    else:
        last = selectors.submissions(request.user).filter(enterprise=ent).order_by("-id").first()
        year = clock.today().year - 1
        initial = SubmissionForm.initial_from(
            last.data if last else None, year, last.extra if last else None, declared
        )
        form = SubmissionForm(initial=initial, declared=declared)
    return render(request, "console/submit.html", {"enterprise": ent, "form": form})


@role_required(OrgKind.DISTRICT, OrgKind.ADMINISTRATOR)
def data_template(request: HttpRequest) -> HttpResponse:
    """The import file's header row (CSV, UTF-8 with BOM): the data dictionary's Chinese
    headers, then those of the fields the policy in force declares."""
    declared = selectors.current_declared_fields(request.user)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(template_headers(declared))
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="enterprises-template.csv"'
    return response
