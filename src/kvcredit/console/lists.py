"""Every list page's machinery, once: filter (django-filter), sort and page (django-tables2),
and export exactly the filtered, sorted rows as Excel or CSV (``?export=xlsx|csv``).

A page passes ``listing`` the queryset its selector already scoped to the user, a FilterSet
and a Table; the export reads the same filtered queryset, so it can hold nothing the page could
not show. Money columns hold integer fen: the page shows yuan (1,234.56), the workbook writes
a number formatted ``#,##0.00`` and the CSV the exact decimal (1234.56). Every text cell passes
through ``scoring.safe_cells.neutralise``. Headers are the columns' names in the user's language.

A filter value that does not parse is an error at its field (translated by Django's own
catalogue or ours), the list is then empty, and the export refuses with the same words (400).
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import django_filters as df
import django_tables2 as tables
import xlsxwriter
from django import forms
from django.core.paginator import EmptyPage
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kvcredit import clock
from kvcredit.console.templatetags.console import yuan
from kvcredit.money import fen_to_yuan, yuan_to_fen
from kvcredit.scoring.safe_cells import neutralise

PER_PAGE = 25
MAX_PER_PAGE = 200
EXPORTS = ("xlsx", "csv")
MONEY_FORMAT = "#,##0.00"  # as reporting.export writes money
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_YUAN = Decimal("100000000000")  # 100 bn yuan: beyond any loan, within a BigInteger of fen


# -- columns ----------------------------------------------------------------------------------
class MoneyColumn(tables.Column):
    """Integer fen: yuan with separators on the page, an exact number in the export."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return yuan(value)

    def value(self, value: Any) -> Any:
        return value


class DayColumn(tables.Column):
    """A date, as 2025-03-31 on the page and a date cell in the workbook."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"td": {"class": "date"}})
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            value = timezone.localdate(value)
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    def value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return timezone.localdate(value)
        return value


class NumberColumn(tables.Column):
    """A count or a number (an id, days past due), right-aligned, a number in the export."""

    def __init__(self, *args: Any, link: Callable[[Any], str] | None = None, **kwargs: Any):
        kwargs.setdefault("attrs", {"th": {"class": "num"}, "td": {"class": "num"}})
        self._link = link
        super().__init__(*args, **kwargs)

    def render(self, value: Any, record: Any) -> Any:
        if self._link is not None:
            return format_html('<a href="{}">{}</a>', self._link(record), value)
        return value

    def value(self, value: Any) -> Any:
        return value


class TextColumn(tables.Column):
    """Names typed by people (enterprises, banks): not translated by the browser."""

    def __init__(self, *args: Any, link: Callable[[Any], str] | None = None, **kwargs: Any):
        self._link = link
        super().__init__(*args, **kwargs)

    def render(self, value: Any, record: Any) -> Any:
        if self._link is not None:
            return format_html('<a href="{}" translate="no">{}</a>', self._link(record), value)
        return format_html('<span translate="no">{}</span>', value)

    def value(self, value: Any) -> Any:
        return str(value)


class ListTable(tables.Table):
    """The console's table: its template, an empty text, sorting by ``?sort=``."""

    class Meta:
        template_name = "console/_table.html"
        empty_text = gettext_lazy("Nothing matches.")
        order_by_field = "sort"
        page_field = "page"


# -- filters ----------------------------------------------------------------------------------
def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class YuanFilter(df.NumberFilter):
    """An amount in yuan, exact to the fen (two decimals at most), compared in fen."""

    field_class = forms.DecimalField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", MAX_YUAN)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": "0.01", "min": "0"}))
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        return super().filter(qs, yuan_to_fen(value))


def amount_filters(field: str) -> tuple[YuanFilter, YuanFilter]:
    return (
        YuanFilter(field_name=field, lookup_expr="gte", label=gettext_lazy("Amount from (yuan)")),
        YuanFilter(field_name=field, lookup_expr="lte", label=gettext_lazy("Amount to (yuan)")),
    )


def date_filters(field: str) -> tuple[df.DateFilter, df.DateFilter]:
    return (
        df.DateFilter(
            field_name=field, lookup_expr="gte", label=gettext_lazy("From"), widget=date_input()
        ),
        df.DateFilter(
            field_name=field, lookup_expr="lte", label=gettext_lazy("To"), widget=date_input()
        ),
    )


def grade_choices() -> list[tuple[str, Any]]:
    from kvcredit.reporting import programme

    return [*((g, g) for g in programme.grade_order()), ("-", gettext_lazy("not rated"))]


class GradeFilter(df.ChoiceFilter):
    """The grade of the enterprise's credit line now ("-": not rated); ``field_name`` leads
    to the enterprise ("enterprise" from a loan, "" from a credit line)."""

    def __init__(self, *args: Any, path: str = "enterprise__credit_line__", **kwargs: Any):
        self.path = path
        kwargs.setdefault("label", gettext_lazy("Grade"))
        kwargs.setdefault("choices", grade_choices)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        p = self.path
        if value == "-":
            unrated = Q(**{f"{p}evaluation__isnull": True}) | Q(
                **{f"{p}evaluation__eligible": False}
            )
            if p:
                unrated |= Q(**{f"{p.removesuffix('__')}__isnull": True})
            return qs.filter(unrated)
        return qs.filter(**{f"{p}evaluation__grade": value, f"{p}evaluation__eligible": True})


def districts_of(request: HttpRequest | None) -> QuerySet[Any]:
    from kvcredit.console import reads
    from kvcredit.enterprises.models import District

    if request is None:
        return District.objects.none()
    return reads.visible_districts(request.user).order_by("code")


def banks_of(request: HttpRequest | None) -> QuerySet[Any]:
    from kvcredit.enterprises import selectors
    from kvcredit.enterprises.models import Bank

    if request is None:
        return Bank.objects.none()
    return selectors.banks(request.user).order_by("code")


def search_q(paths: list[str], numbers: list[str]) -> Callable[[QuerySet[Any], str, Any], Any]:
    """A ``q`` filter: text matches the names and USCCs along ``paths``; a number also the
    ids along ``numbers`` (the loan, application or claim number)."""

    def method(qs: QuerySet[Any], _name: str, value: Any) -> QuerySet[Any]:
        text = (value or "").strip()
        if not text:
            return qs
        q = Q()
        for p in paths:
            q |= Q(**{f"{p}name__icontains": text}) | Q(**{f"{p}uscc": text.upper()})
        if text.isdigit() and len(text) < 19:
            for n in numbers:
                q |= Q(**{n: int(text)})
        return qs.filter(q)

    return method


class ListFilter(df.FilterSet):
    """The console's filter set: who is asking (``request``) drops the filters that cannot
    narrow that user's list (a bank filtering by bank, a district by district)."""

    HIDE_FOR: dict[str, tuple[str, ...]] = {
        "BANK": ("bank",),
        "DISTRICT": ("district",),
        "ENTERPRISE": ("bank", "district", "grade"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kvcredit.accounts.permissions import kind_of

        kind = kind_of(getattr(self.request, "user", None))
        for name in self.HIDE_FOR.get(str(kind or ""), ()):
            self.filters.pop(name, None)
        for f in self.filters.values():  # "all" in the user's language, not "---------"
            if isinstance(f, df.ChoiceFilter | df.ModelChoiceFilter):
                f.extra["empty_label"] = gettext_lazy("all")


def yes_no_filter(label: Any, field_name: str | None = None) -> df.BooleanFilter:
    """Yes, no or either, in words (not Django's "unknown")."""
    choices = [
        ("", gettext_lazy("all")),
        ("true", gettext_lazy("yes")),
        ("false", gettext_lazy("no")),
    ]
    return df.BooleanFilter(
        field_name=field_name, label=label, widget=forms.Select(choices=choices)
    )


# -- the listing ------------------------------------------------------------------------------
def listing(
    request: HttpRequest,
    queryset: QuerySet[Any],
    filterset: type[df.FilterSet],
    table: type[tables.Table],
    *,
    template: str = "console/list.html",
    name: str,
    title: Any = "",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The list page (``template``) or, with ``?export=xlsx|csv``, the file of its rows."""
    fs = filterset(request.GET or None, queryset=queryset, request=request)
    valid = not fs.is_bound or fs.is_valid()
    rows = fs.qs if valid else queryset.none()
    fmt = request.GET.get("export")
    t = table(rows, request=request)
    order = request.GET.getlist("sort")
    if order:
        t.order_by = order
    if fmt is not None:
        if fmt not in EXPORTS:
            return HttpResponse(
                _("export: choose xlsx or csv"), status=400, content_type="text/plain"
            )
        if not valid:
            return HttpResponse(
                filter_errors(fs), status=400, content_type="text/plain; charset=utf-8"
            )
        return export(t, fmt, name)
    per_page = _per_page(request)
    try:
        t.paginate(page=_page_number(request), per_page=per_page)
    except EmptyPage:  # past the last page: the last page
        t.paginate(page=t.paginator.num_pages, per_page=per_page)
    query = request.GET.copy()
    for key in ("page", "export"):
        query.pop(key, None)
    ctx = {
        "filter": fs,
        "table": t,
        "title": title,
        "count": t.paginator.count,
        "query": query.urlencode(),
        "exports": EXPORTS,
        **(context or {}),
    }
    return render(request, template, ctx, status=200 if valid else 400)


def _per_page(request: HttpRequest) -> int:
    try:
        n = int(request.GET.get("per_page", PER_PAGE))
    except ValueError:
        return PER_PAGE
    return min(max(n, 1), MAX_PER_PAGE)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def filter_errors(fs: df.FilterSet) -> str:
    """The filter's errors, one line each, naming the field by its label."""
    lines = []
    for field, errors in fs.form.errors.items():
        label = fs.form.fields[field].label if field in fs.form.fields else field
        lines.extend(f"{label}: {e}" for e in errors)
    return "\n".join(lines)


# -- the export -------------------------------------------------------------------------------
def _columns(t: tables.Table) -> list[Any]:
    return [c for c in t.columns if c.column.exclude_from_export is not True]


def cells(t: tables.Table) -> tuple[list[str], Iterator[list[tuple[Any, Any]]]]:
    """The header row and, for each row, (column, value) pairs as the export writes them:
    the value each column's ``value`` gives (as django-tables2's ``get_cell_value``), worked
    out once per column rather than looked up again for every cell."""
    cols = _columns(t)
    headers = [str(c.header) for c in cols]
    getters = [_getter(t, c) for c in cols]

    def rows() -> Iterator[list[tuple[Any, Any]]]:
        data = t.data.data
        records = data.iterator(chunk_size=2000) if isinstance(data, QuerySet) else iter(data)
        for record in records:
            yield [(c.column, get(record)) for c, get in zip(cols, getters, strict=True)]

    return headers, rows()


def _getter(t: tables.Table, bound: Any) -> Callable[[Any], Any]:
    """record -> the export's value of one column."""
    path = str(bound.accessor).replace(".", "__").split("__")
    labels = _choice_labels(t, path)
    column = bound.column
    empty = column.empty_values
    value = bound.value  # the table's value_<name>, else its render_<name>, else the column's
    wanted = set(inspect.signature(value).parameters)
    fast: Callable[[Any], Any] | None = None  # the column's own value, without a lookup
    if value == column.value:
        own = type(column).value
        if own in (MoneyColumn.value, NumberColumn.value):
            fast = _same
        elif own is DayColumn.value:
            fast = column.value
        elif own is TextColumn.value:
            fast = str
        elif own is tables.Column.value and type(column).render is tables.Column.render:
            fast = _same

    def resolve(record: Any) -> Any:
        v = record
        for part in path:
            if v is None:
                return None
            v = getattr(v, part, None)
        return labels.get(v, v) if labels is not None else v

    def get(record: Any) -> Any:
        v = resolve(record)
        if v in empty:
            return None
        if fast is not None:
            return fast(v)
        kwargs = {"value": v, "record": record, "column": column, "bound_column": bound}
        return value(**{k: kwargs[k] for k in wanted if k in kwargs})

    return get


def _same(v: Any) -> Any:
    return v


def _choice_labels(t: tables.Table, path: list[str]) -> dict[Any, str] | None:
    """The labels of a field with choices at the end of ``path`` (a status: its words)."""
    model = getattr(t._meta, "model", None)
    field = None
    try:
        for part in path:
            if model is None:
                return None
            field = model._meta.get_field(part)
            model = field.related_model
    except Exception:
        return None
    choices = getattr(field, "choices", None)
    return {k: str(label) for k, label in field.flatchoices} if choices and field else None


def export(t: tables.Table, fmt: str, name: str) -> HttpResponse:
    stamp = clock.today().isoformat()
    filename = f"kvcredit-{name}-{stamp}.{fmt}"
    if fmt == "csv":
        body = _csv(t).encode("utf-8")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(t), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    return neutralise(str(value))


def _csv(t: tables.Table) -> str:
    buffer = io.StringIO()
    w = csv.writer(buffer)
    headers, rows = cells(t)
    w.writerow([neutralise(h) for h in headers])
    for row in rows:
        out = []
        for column, value in row:
            if isinstance(column, MoneyColumn) and value is not None:
                out.append(str(fen_to_yuan(int(value))))
            elif isinstance(value, dt.date):
                out.append(value.isoformat())
            else:
                out.append(_text(value))
        w.writerow(out)
    return "\ufeff" + buffer.getvalue()  # the BOM: Excel reads the Chinese as UTF-8


def _xlsx(t: tables.Table) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet()
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": MONEY_FORMAT})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    headers, rows = cells(t)
    for c, h in enumerate(headers):
        ws.write_string(0, c, neutralise(h), bold)
        ws.set_column(c, c, max(10, min(40, len(h) * 2 + 2)))
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, (column, value) in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(column, MoneyColumn):
                ws.write_number(r, c, int(value) / 100, money)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), day)
            elif isinstance(value, bool):
                ws.write_string(r, c, _text(value))
            elif isinstance(value, int | float | Decimal):
                ws.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
            else:
                ws.write_string(r, c, _text(value))
    ws.freeze_panes(1, 0)
    if r:
        ws.autofilter(0, 0, r, max(len(headers) - 1, 0))
    wb.close()
    return buffer.getvalue()
