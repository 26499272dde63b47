"""Template helpers: navigation by role, money in yuan, rates in percent, chart data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.lending.services import ppm_to_percent
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
        BREAKERS,
        LOANS,
        ("console:credit_lines", _("Credit lines")),
        STATISTICS,
    ],
    OrgKind.ADMINISTRATOR: [
        ("console:policies", _("Policies")),
        ("console:districts", _("Districts")),
        ("console:banks", _("Banks")),
        ("console:users", _("Users")),
        ("console:rates", _("Rates")),
        ("console:products", _("Loan products")),
        ("console:credit_lines", _("Credit lines")),
        LOANS,
        POOLS,
        STATISTICS,
    ],
}


@register.inclusion_tag("console/nav.html", takes_context=True)
def console_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    kind = kind_of(request.user)
    items = []
    for name, text in NAVIGATION.get(kind or "", []):
        url = reverse(name)
        current = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"url": url, "text": text, "current": current})
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
def percent_from_ppm(ppm: int) -> str:
    return f"{ppm_to_percent(ppm)}"


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


@register.filter
def headline_pairs(rows: list[Any], field: str) -> list[tuple[str, int]]:
    return [(r.label, int(getattr(r, field))) for r in rows]


@register.filter
def headline_series(rows: list[Any], field: str) -> dict[str, list[Any]]:
    return {"x": [r.label for r in rows], "y": [int(getattr(r, field)) for r in rows]}


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
