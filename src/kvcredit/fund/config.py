"""The fund's configured rules: ``FundRules`` defaults, overridden by settings or environment.

``settings.KVCREDIT_FUND_RULES`` (a dict of field name to text) wins over the environment
variables ``KVCREDIT_FUND_<FIELD>`` (for example ``KVCREDIT_FUND_MIN_DAYS_OVERDUE=60``); both
are validated by ``FundRules`` and a bad value is refused with the field's name.
"""

from __future__ import annotations

import dataclasses
import os
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from kvcredit.errors import InvalidInput
from kvcredit.fund.domain.rules import FundRules

FIELDS = [f.name for f in dataclasses.fields(FundRules)]


def _value(name: str, raw: Any) -> Any:
    try:
        return int(raw) if name == "min_days_overdue" else Decimal(str(raw))
    except (ValueError, InvalidOperation):
        raise InvalidInput([(name, _("not a number: %(value)s") % {"value": repr(raw)})]) from None


def rules() -> FundRules:
    given: dict[str, Any] = {}
    for name in FIELDS:
        env = os.environ.get(f"KVCREDIT_FUND_{name.upper()}")
        if env:
            given[name] = env
    given.update(getattr(settings, "KVCREDIT_FUND_RULES", None) or {})
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise InvalidInput([(n, _("not a fund rule")) for n in sorted(unknown)])
    try:
        return FundRules(**{k: _value(k, v) for k, v in given.items()})
    except ValueError as exc:
        raise InvalidInput([("fund rules", refusal(str(exc)))]) from None


def refusal(text: str) -> str:
    """``FundRules``' refusal in the active language. The pure rules speak English only; their
    few fixed texts are matched here (an unknown one is passed on as it is)."""
    name, between, rest = text.partition(" must be between 0 and 1")
    if between and not rest and name in FIELDS:
        return _("%(name)s must be between 0 and 1") % {"name": name}
    known = {
        "need 0 < warning ratio <= suspension ratio <= 1": _(
            "need 0 < warning ratio <= suspension ratio <= 1"
        ),
        "need 0 < compensation warning ratio <= suspension ratio <= 1": _(
            "need 0 < compensation warning ratio <= suspension ratio <= 1"
        ),
        "min_days_overdue must not be negative": _("min_days_overdue must not be negative"),
    }
    return known.get(text, text)


def as_dict(r: FundRules) -> dict[str, str]:
    return {f: str(getattr(r, f)) for f in FIELDS}
