"""The audit log in the console: a searchable log for the administrator and the trustee
(who see the whole programme), and the trail of one object shown on its own page to whoever
may see that page (the page's selector has scoped the object already)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kvcredit.accounts.models import OrgKind
from kvcredit.audit.models import AuditRecord
from kvcredit.console.access import role_required

PER_PAGE = 50
TRAIL_LIMIT = 200


def trail(user: Any, obj_type: str, *ids: Any, more: Iterable[tuple[str, Any]] = ()) -> list[Any]:
    """The audit records of objects the caller has already found in the user's scope:
    ``obj_type`` with ``ids``, and the (type, id) pairs of ``more`` (a loan's repayments)."""
    pairs = [(obj_type, i) for i in ids] + list(more)
    if not pairs or user is None:
        return []
    cond = Q()
    by_type: dict[str, list[str]] = {}
    for t, i in pairs:
        by_type.setdefault(t, []).append(str(i))
    for t, values in by_type.items():
        cond |= Q(object_type=t, object_id__in=values)
    rows = AuditRecord.objects.filter(cond).order_by("-id")[:TRAIL_LIMIT]
    return list(rows)


class AuditFilter(forms.Form):
    actor = forms.CharField(label=_("Actor (user name)"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    date_from = forms.DateField(label=_("From (date)"), required=False)
    date_to = forms.DateField(label=_("To (date, inclusive)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("date_from"), data.get("date_to")
        if a and b and b < a:
            self.add_error("date_to", _("the end must not precede the start"))
        return data


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered(form: AuditFilter) -> QuerySet[AuditRecord]:
    rows = AuditRecord.objects.all()
    if not form.is_valid():
        return rows.none()
    d = form.cleaned_data
    if d.get("actor"):
        rows = rows.filter(actor_username__icontains=d["actor"].strip())
    if d.get("action"):
        rows = rows.filter(action__icontains=d["action"].strip())
    if d.get("object_type"):
        rows = rows.filter(object_type=d["object_type"].strip())
    if d.get("object_id"):
        rows = rows.filter(object_id=d["object_id"].strip())
    if d.get("date_from"):
        rows = rows.filter(at__gte=_day_start(d["date_from"]))
    if d.get("date_to"):
        rows = rows.filter(at__lt=_day_start(d["date_to"] + dt.timedelta(days=1)))
    return rows.order_by("-id")


@role_required(OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every audit record of the programme, newest first, filtered and paginated."""
    form = AuditFilter(request.GET or None)
    rows = filtered(form) if request.GET else AuditRecord.objects.order_by("-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "console/tasks/audit_log.html", context)
