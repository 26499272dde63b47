"""Pydantic's validation errors, worded in the reader's language and naming the field.

Each error of a request's body, query, path or headers is mapped by its ``type`` (pydantic's
stable error code) to a translated sentence that names the field; the limits come from the
error's ``ctx``. A type not known here keeps pydantic's own (English) message, after the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

# Patterns the API uses often, said in words rather than as a regular expression.
_NO_CONTROL = (r"^[^\x00-\x1f\x7f]+$", r"^[^\x00-\x1f\x7f]*$")
_YUAN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
_PERCENT = r"^[0-9]{1,3}(\.[0-9]{1,2})?$"
_ALNUM = r"^[0-9A-Za-z]+$"
_CODE = r"^[A-Za-z0-9_-]+$"


def _limit(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _is_date(value: Any) -> bool:
    """A bound of a date or date-time field (pydantic gives it as ISO text)."""
    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _expected(ctx: Mapping[str, Any]) -> str:
    # pydantic writes "'A', 'B' or 'C'"; the English "or" would stand out in any other language.
    head, sep, last = str(ctx.get("expected", "")).rpartition(" or ")
    return f"{head}, {last}" if sep else last


def _pattern(field: str, ctx: Mapping[str, Any]) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern in _NO_CONTROL:
        return _("%(field)s must not contain control characters (such as line breaks or tabs)") % {
            "field": field
        }
    if pattern == _YUAN:
        return _(
            "%(field)s must be an amount in yuan such as 1234.56 "
            "(at most 12 digits before the point and 2 after)"
        ) % {"field": field}
    if pattern == _PERCENT:
        return _("%(field)s must be a percentage such as 12.5 (at most 2 decimal places)") % {
            "field": field
        }
    if pattern == _ALNUM:
        return _("%(field)s may contain only letters and digits") % {"field": field}
    if pattern == _CODE:
        return _("%(field)s may contain only letters, digits, _ and -") % {"field": field}
    return _("%(field)s is not in the expected form (pattern %(pattern)s)") % {
        "field": field,
        "pattern": pattern,
    }


def _too_short_text(field: str, ctx: Mapping[str, Any]) -> str:
    n = int(ctx.get("min_length", 1))
    if n <= 1:
        return _("%(field)s must not be empty") % {"field": field}
    return ngettext(
        "%(field)s must be at least %(n)s character long",
        "%(field)s must be at least %(n)s characters long",
        n,
    ) % {"field": field, "n": n}


def _too_long_text(field: str, ctx: Mapping[str, Any]) -> str:
    n = int(ctx.get("max_length", 0))
    return ngettext(
        "%(field)s must be at most %(n)s character long",
        "%(field)s must be at most %(n)s characters long",
        n,
    ) % {"field": field, "n": n}


def _too_short_list(field: str, ctx: Mapping[str, Any]) -> str:
    n = int(ctx.get("min_length", 0))
    return ngettext(
        "%(field)s must have at least %(n)s item", "%(field)s must have at least %(n)s items", n
    ) % {"field": field, "n": n}


def _too_long_list(field: str, ctx: Mapping[str, Any]) -> str:
    n = int(ctx.get("max_length", 0))
    return ngettext(
        "%(field)s must have at most %(n)s item", "%(field)s must have at most %(n)s items", n
    ) % {"field": field, "n": n}


def _bound(key: str, number: str, date: str) -> Callable[[str, Mapping[str, Any]], str]:
    """A comparison (``gt``, ``ge``, ``lt``, ``le``): worded for dates, or for numbers."""

    def say(field: str, ctx: Mapping[str, Any]) -> str:
        value = ctx.get(key)
        text = _(date) if _is_date(value) else _(number)
        return text % {"field": field, "limit": _limit(value)}

    return say


def _simple(text: str) -> Callable[[str, Mapping[str, Any]], str]:
    return lambda field, ctx: _(text) % {"field": field}


def _ctx(text: str, key: str) -> Callable[[str, Mapping[str, Any]], str]:
    return lambda field, ctx: _(text) % {"field": field, key: _limit(ctx.get(key))}


# The msgids are marked with gettext_noop so that `kvcredit i18n extract` finds them; they are
# translated when an error is worded, in the request's language.
_WHOLE = gettext_noop("%(field)s must be a whole number")
_NUMBER = gettext_noop("%(field)s must be a number")
_BOOL = gettext_noop("%(field)s must be true or false")
_DATE = gettext_noop("%(field)s must be a valid date in the form YYYY-MM-DD")
_DATETIME = gettext_noop("%(field)s must be a valid date and time (ISO 8601)")
_JSON = gettext_noop("%(field)s is not valid JSON")
_OBJECT = gettext_noop("%(field)s must be an object (a JSON object)")
_LIST = gettext_noop("%(field)s must be a list (a JSON array)")
_CHOICE = gettext_noop("%(field)s must be one of: %(expected)s")

MESSAGES: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "missing": _simple(gettext_noop("%(field)s is required")),
    "string_type": _simple(gettext_noop("%(field)s must be text")),
    "string_too_short": _too_short_text,
    "string_too_long": _too_long_text,
    "string_pattern_mismatch": lambda field, ctx: _pattern(field, ctx),
    "int_type": _simple(_WHOLE),
    "int_parsing": _simple(_WHOLE),
    "int_from_float": _simple(gettext_noop("%(field)s must be a whole number, without decimals")),
    "int_parsing_size": _simple(gettext_noop("%(field)s is too large a number")),
    "float_type": _simple(_NUMBER),
    "float_parsing": _simple(_NUMBER),
    "finite_number": _simple(gettext_noop("%(field)s must be a finite number")),
    "decimal_type": _simple(_NUMBER),
    "decimal_parsing": _simple(_NUMBER),
    "decimal_max_digits": _ctx(
        gettext_noop("%(field)s must have at most %(max_digits)s digits"), "max_digits"
    ),
    "decimal_max_places": _ctx(
        gettext_noop("%(field)s must have at most %(decimal_places)s decimal places"),
        "decimal_places",
    ),
    "decimal_whole_digits": _ctx(
        gettext_noop(
            "%(field)s must have at most %(whole_digits)s digits before the decimal point"
        ),
        "whole_digits",
    ),
    "greater_than": _bound(
        "gt",
        gettext_noop("%(field)s must be greater than %(limit)s"),
        gettext_noop("%(field)s must be after %(limit)s"),
    ),
    "greater_than_equal": _bound(
        "ge",
        gettext_noop("%(field)s must be at least %(limit)s"),
        gettext_noop("%(field)s must not be before %(limit)s"),
    ),
    "less_than": _bound(
        "lt",
        gettext_noop("%(field)s must be less than %(limit)s"),
        gettext_noop("%(field)s must be before %(limit)s"),
    ),
    "less_than_equal": _bound(
        "le",
        gettext_noop("%(field)s must be at most %(limit)s"),
        gettext_noop("%(field)s must not be after %(limit)s"),
    ),
    "multiple_of": _ctx(
        gettext_noop("%(field)s must be a multiple of %(multiple_of)s"), "multiple_of"
    ),
    "bool_type": _simple(_BOOL),
    "bool_parsing": _simple(_BOOL),
    "date_type": _simple(_DATE),
    "date_parsing": _simple(_DATE),
    "date_from_datetime_parsing": _simple(_DATE),
    "date_from_datetime_inexact": _simple(
        gettext_noop("%(field)s must be a date without a time of day")
    ),
    "datetime_type": _simple(_DATETIME),
    "datetime_parsing": _simple(_DATETIME),
    "datetime_from_date_parsing": _simple(_DATETIME),
    "json_invalid": _simple(_JSON),
    "json_type": _simple(_JSON),
    "extra_forbidden": _simple(gettext_noop("%(field)s is not an accepted field")),
    "literal_error": lambda field, ctx: _(_CHOICE) % {"field": field, "expected": _expected(ctx)},
    "enum": lambda field, ctx: _(_CHOICE) % {"field": field, "expected": _expected(ctx)},
    "too_short": _too_short_list,
    "too_long": _too_long_list,
    "list_type": _simple(_LIST),
    "tuple_type": _simple(_LIST),
    "set_type": _simple(_LIST),
    "dict_type": _simple(_OBJECT),
    "model_type": _simple(_OBJECT),
    "model_attributes_type": _simple(_OBJECT),
}


def message(error: Mapping[str, Any], field: str, *, empty_body: bool = False) -> str:
    """``error`` (one of pydantic's, as ninja passes it on) as a sentence naming ``field``.

    ``empty_body``: the request had no body, so a body parameter that is missing is the body.
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    loc = tuple(error.get("loc", ()))
    if kind == "missing" and empty_body and len(loc) == 2 and loc[0] == "body":
        return _("the request body is required (a JSON object)")
    say = MESSAGES.get(kind)
    if say is not None:
        try:
            return say(field, ctx)
        except (TypeError, ValueError, KeyError):
            pass  # a ctx not as expected: pydantic's own words are better than none
    return _("%(field)s: %(message)s") % {"field": field, "message": error.get("msg", "invalid")}
