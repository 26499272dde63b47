"""Enterprise import in the console (the administrator, a district for its own): a CSV or
XLSX file through ``enterprises.importing.import_file``, then the per-row report (row, the
enterprise, field, value, the message in the user's language) and the bilingual error
report to download (CSV, UTF-8 with BOM: what the CLI writes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kvcredit.accounts.models import OrgKind
from kvcredit.console.access import role_required
from kvcredit.console.forms_tasks import ImportForm
from kvcredit.enterprises.importing import import_file
from kvcredit.errors import InputFileError, ServiceError
from kvcredit.scoring.io import write_errors

SESSION_KEY = "kvcredit_import_errors"
MAX_KEPT_BYTES = 4 << 20  # the error report kept in the session for its download
SHOWN_ROWS = 500


class YearImportForm(ImportForm):
    year = forms.IntegerField(label=_("Year of the data"), min_value=2000, max_value=2100)


@role_required(OrgKind.ADMINISTRATOR, OrgKind.DISTRICT)
def import_enterprises(request: HttpRequest) -> HttpResponse:
    initial = {"year": timezone.localdate().year - 1}
    form = YearImportForm(request.POST or None, request.FILES or None, initial=initial)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name or "upload.csv").suffix.lower() or ".csv"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            with path.open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            try:
                report = import_file(request.user, path, year=form.cleaned_data["year"])
            except InputFileError as exc:
                form.add_error("file", str(exc).replace(str(path), upload.name or ""))
            except ServiceError as exc:
                for field, message in getattr(exc, "problems", None) or [("file", exc.detail)]:
                    form.add_error(field if field in form.fields else "file", message)
            if report is not None:
                out = Path(tmp) / "errors.csv"
                write_errors(report.error_frame(), out)
                data = out.read_bytes()
                request.session[SESSION_KEY] = (
                    data.decode("utf-8-sig") if len(data) <= MAX_KEPT_BYTES else None
                )
    chinese = (get_language() or "").startswith("zh")
    context = {
        "form": form,
        "report": report,
        "errors": report.errors[:SHOWN_ROWS] if report else [],
        "accepted": (report.rows - report.rejected_rows) if report else 0,
        "chinese": chinese,
        "shown": SHOWN_ROWS,
    }
    return render(request, "console/tasks/import.html", context)


@role_required(OrgKind.ADMINISTRATOR, OrgKind.DISTRICT)
def import_errors(request: HttpRequest) -> HttpResponse:
    """The error report of the user's last import (kept in their session only)."""
    text = request.session.get(SESSION_KEY)
    if not text:
        raise Http404
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="import-errors.csv"'
    return response
