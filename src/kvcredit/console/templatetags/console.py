"""Template helpers: navigation by role, money in yuan, rates in percent, chart data."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.lending.domain.rates import ppm_to_percent, units_to_percent
from kvcredit.money import fen_to_yuan
from kvcredit.scoring.report import NOT_RATED as REPORT_NOT_RATED

register = template.Library()

STATISTICS = ("console:statistics", _("Statistics"))
LOANS = ("console:loans", _("Loans"))
POOLS = ("console:pools", _("Pools"))
CLAIMS = ("console:claims", _("Claims"))
BREAKERS = ("console:breakers", _("Breakers"))
NAVIGATION: dict[str, list[tuple[str, Any]]] = {
    OrgKind.ENTERPRISE: [
        ("console:evaluation", _("My evaluation")),
        ("console:submissions", _("My data")),
        ("console:submit", _("Submit data")),
        ("console:apply", _("Apply for a loan")),
        ("console:loans", _("My loans")),
    ],
    OrgKind.BANK: [
        ("console:queue", _("Applications")),
        LOANS,
        ("console:upload_repayments", _("Repayments")),
        CLAIMS,
        BREAKERS,
        ("console:credit_lines", _("Credit lines")),
        STATISTICS,
    ],
    OrgKind.DISTRICT: [
        ("console:credit_lines", _("Enterprises")),
        LOANS,
        POOLS,
        CLAIMS,
        STATISTICS,
    ],
    OrgKind.TRUSTEE: [
        ("console:programme", _("Programme")),
        POOLS,
        CLAIMS,
        ("console:fees", _("Fees")),
        ("console:subsidies", _("Subsidies")),
        BREAKERS,
        LOANS,
        ("console:credit_lines", _("Credit lines")),
        STATISTICS,
    ],
    OrgKind.ADMINISTRATOR: [
        ("console:policies", _("Policies")),
        ("console:rulebooks", _("Rulebooks")),
        ("console:districts", _("Districts")),
        ("console:banks", _("Banks")),
        ("console:users", _("Users")),
        ("console:rates", _("Rates")),
        ("console:products", _("Loan products")),
        ("console:credit_lines", _("Credit lines")),
        LOANS,
        POOLS,
        ("console:subsidies", _("Subsidies")),
        STATISTICS,
    ],
}


@register.inclusion_tag("console/nav.html", takes_context=True)
def console_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    kind = kind_of(request.user)
    items = [{"url": reverse(name), "text": text} for name, text in NAVIGATION.get(kind or "", [])]
    # The item of the page is the longest URL the path starts with: /loans/apply/ is
    # "Apply for a loan", not also "My loans" (/loans/).
    matching = [i["url"] for i in items if request.path.startswith(i["url"]) and i["url"] != "/"]
    here = max(matching, key=len, default=None)
    for item in items:
        item["current"] = item["url"] == here
    return {"items": items}


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen as yuan with thousands separators: 300000000 -> 3,000,000.00."""
    if fen is None:
        return ""
    return f"{fen_to_yuan(int(fen)):,.2f}"


@register.filter
def amount(value: Decimal | int | None) -> str:
    """A Decimal in yuan (or a count) with thousands separators, without trailing zeros."""
    if value is None:
        return ""
    d = Decimal(value)
    return f"{d:,.2f}" if d != d.to_integral_value() else f"{d:,.0f}"


@register.filter
def money(value: Decimal | int | None) -> str:
    """A Decimal in yuan as money: 1234 -> 1,234.00 (always two decimals)."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"


def _two_decimals_at_least(pct: Decimal) -> str:
    """A percent the way rates are quoted: 3 -> 3.00, 3.1 -> 3.10, 3.125 -> 3.125."""
    whole, _dot, decimals = f"{pct:f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


@register.filter
def percent_from_ppm(ppm: int) -> str:
    return _two_decimals_at_least(ppm_to_percent(ppm))


@register.filter
def rate_units_percent(units: int | None) -> str:
    """A loan's annual rate in 1e-8 units as a percent, at least two decimals: 3.10."""
    if units is None:
        return ""
    return _two_decimals_at_least(units_to_percent(int(units)))


@register.filter
def rate_percent(rate: str | Decimal | None) -> str:
    """A rate as exact decimal text ("0.01", as a service fee stores it) in percent: "1%"."""
    if rate in (None, ""):
        return ""
    try:
        pct = (Decimal(str(rate)) * 100).normalize()
    except ArithmeticError:
        return str(rate)
    return f"{pct:f}%"


@register.filter
def bp_as_percent(bp: int | None) -> str:
    """Basis points of a percent (20 % = 2000, as a fee reduction stores it) -> "20"."""
    if bp is None:
        return ""
    return f"{(Decimal(int(bp)) / 100).normalize():f}"


# The reference rates the programme loads (data/rates.csv) and the products price from; a
# type the administrator adds under another code is shown by its code.
RATE_TYPES = {
    "LPR_1Y": _("one-year Loan Prime Rate (LPR)"),
    "LPR_5Y": _("over-five-year Loan Prime Rate (LPR)"),
    "PBOC_BENCHMARK_1Y": _("PBOC benchmark lending rate, up to 1 year"),
    "PBOC_BENCHMARK_1Y_5Y": _("PBOC benchmark lending rate, over 1 and up to 5 years"),
    "PBOC_BENCHMARK_OVER_5Y": _("PBOC benchmark lending rate, over 5 years"),
}


@register.filter
def rate_type(code: str | None) -> Any:
    return RATE_TYPES.get(code or "", code or "")


@register.filter
def outcome(label: str | None) -> Any:
    """A grade, or 'not rated' translated (the pure layers use fixed codes for it)."""
    if label in (None, "", "NOT_RATED", REPORT_NOT_RATED):
        return _("not rated")
    return label


@register.filter
def policy_name(policy: Any) -> str:
    """A compiled policy's title in the current language."""
    from kvcredit.console.reads import label

    header = policy.doc.policy
    return label(header.title, header.title_zh) or policy.id


@register.filter
def org_kind(kind: str | None) -> Any:
    try:
        return OrgKind(kind).label
    except ValueError:
        return kind or ""


@register.filter
def claim_status(code: str | None) -> Any:
    """A claim status code (as a claim's history stores it) in words."""
    from kvcredit.fund.models import ClaimStatus

    try:
        return ClaimStatus(code).label
    except ValueError:
        return code or "—"


@register.filter
def chart_pairs(pairs: list[tuple[Any, Any]]) -> dict[str, list[Any]]:
    """[(label, value)] -> {"x": labels, "y": values} for the chart script (json_script)."""
    return {"x": [str(outcome(a)) for a, _ in pairs], "y": [_number(b) for _, b in pairs]}


@register.filter
def indicator_chart(indicators: list[Any]) -> dict[str, Any]:
    """Points and maximum points per indicator, for the evaluation chart."""
    return {
        "x": [i.label for i in indicators],
        "y": [_number(i.points) for i in indicators],
        "max": [_number(i.max_points) for i in indicators],
        "names": [str(_("points")), str(_("maximum"))],
    }


@register.filter
def indicator_rows(indicators: list[Any]) -> list[tuple[str, str]]:
    return [(i.label, f"{amount(i.points)} / {amount(i.max_points)}") for i in indicators]


def _number(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


DIMENSION_LABELS = {
    "district": _("District"),
    "bank": _("Bank"),
    "grade": _("Grade"),
    "industry": _("Industry"),
    "month": _("Month"),
}


@register.filter
def dimension(name: str) -> Any:
    return DIMENSION_LABELS.get(name, name)


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _with_every_month(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Monthly figures ("2025-03") with the months that had none filled in as 0, so that a
    chart's axis does not skip them; labels of another kind are left as they are."""
    months = [MONTH.match(label) for label, _v in pairs]
    if not pairs or not all(months):
        return pairs
    have = dict(pairs)
    index = [int(m[1]) * 12 + int(m[2]) - 1 for m in months if m]
    first, last = min(index), max(index)
    labels = [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(first, last + 1)]
    return [(label, have.get(label, 0)) for label in labels]


@register.filter
def headline_pairs(rows: list[Any], field: str) -> list[tuple[str, int]]:
    return _with_every_month([(r.label, int(getattr(r, field))) for r in rows])


@register.filter
def headline_series(rows: list[Any], field: str) -> dict[str, list[Any]]:
    pairs = headline_pairs(rows, field)
    return {"x": [label for label, _v in pairs], "y": [v for _label, v in pairs]}


@register.filter
def yuan_pairs(pairs: list[tuple[str, int]]) -> list[tuple[str, Decimal]]:
    """[(label, fen)] -> [(label, yuan)] for a chart in yuan."""
    return [(label, fen_to_yuan(int(fen))) for label, fen in pairs]


# -- loan products ----------------------------------------------------------------------------
@register.filter
def spread_bp(bp: int | None) -> str:
    """A spread in basis points with its sign, the way a rate is quoted: LPR + 50 bp."""
    if bp is None:
        return ""
    return f"{int(bp):+d}" if bp else "0"


@register.filter
def repayment_methods(codes: list[str] | None) -> list[Any]:
    """Method codes -> their names, in the order the product lists them."""
    from kvcredit.lending.models import Method

    out: list[Any] = []
    for code in codes or []:
        try:
            out.append(Method(code).label)
        except ValueError:
            out.append(code)
    return out


@register.filter
def allocation_order(order: list[str] | None) -> str:
    from kvcredit.console.forms import allocation_label

    return allocation_label(order or [])


@register.filter
def classification(bounds: list[int] | None) -> list[tuple[Any, int]]:
    """The four upper days-past-due bounds -> (category, bound) for normal .. doubtful."""
    from kvcredit.lending.models import Category

    return list(zip([c.label for c in Category], bounds or [], strict=False))
