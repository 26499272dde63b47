"""Test rulebooks: the shipped default with some rules changed, as TOML text, and publishing it.

    rulebook_text(version="t2", effective="2025-01-01", **{"fund.breaker.min_book_loans": 0})
    publish_rules(world, effective="2017-01-01", compensation_share="0.70")

A keyword is a key path with ``__`` or ``.`` between the parts (``fund__min_days_overdue``) or one
of the shortcuts ``version``, ``effective``, ``id`` (the header's); a key of ``[fund]`` may be
named alone (``compensation_share``). ``None`` removes a key. The value is written as
TOML: a ``str`` that reads as a number or a date is written bare (``"0.70"`` is the number 0.70).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from typing import Any

from kvcredit.rulebook.domain import DEFAULT_RULEBOOK, builtin_text

_BARE = re.compile(r"^-?\d+(\.\d+)?$|^\d{4}-\d{2}-\d{2}$")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def dumps(doc: dict[str, Any]) -> str:
    """A rulebook document as TOML: one table per top-level key, values inline; the lists of
    tables (``subsidy``, ``deferral``) as arrays of tables."""
    out: list[str] = []
    for name, section in doc.items():
        if isinstance(section, list):
            for item in section:
                out.append(f"[[{name}]]")
                out += [f"{k} = {_value(v)}" for k, v in item.items()]
                out.append("")
        else:
            out.append(f"[{name}]")
            out += [f"{k} = {_value(v)}" for k, v in section.items()]
            out.append("")
    return "\n".join(out)


def _typed(v: Any) -> Any:
    if isinstance(v, str) and _BARE.match(v):
        return dt.date.fromisoformat(v) if "-" in v[1:] else Decimal(v)
    return v


def rulebook_doc(base: str = DEFAULT_RULEBOOK, **changes: Any) -> dict[str, Any]:
    doc = tomllib.loads(builtin_text(base), parse_float=Decimal)
    header = doc["rulebook"]
    header["id"] = changes.pop("id", "test-rules")
    header["version"] = changes.pop("version", "t1")
    if "effective" in changes:
        header["effective"] = _typed(changes.pop("effective"))
    for key, value in changes.items():
        value = _typed(value)
        parts = key.replace("__", ".").split(".")
        if len(parts) == 1 and parts[0] in doc["fund"]:
            parts = ["fund", *parts]
        target = doc
        for p in parts[:-1]:
            target = target[int(p)] if isinstance(target, list) else target.setdefault(p, {})
        if value is None:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = value
    return doc


def rulebook_text(base: str = DEFAULT_RULEBOOK, **changes: Any) -> str:
    """The shipped ``base`` rulebook (id ``test-rules``, version ``t1``) with ``changes``."""
    return dumps(rulebook_doc(base, **changes))


def publish_rules(world: Any, base: str = DEFAULT_RULEBOOK, **changes: Any) -> Any:
    """Publish a test rulebook as the administrator (effective 2017-01-01 unless given, so it
    is in force for every date the tests use); the ``PublishedRulebook``."""
    from kvcredit.rulebook import services

    changes.setdefault("effective", "2017-01-01")
    return services.publish(rulebook_text(base, **changes), world.system)


# The breaker as it was before the rulebook: all time, any book (one default on a one-loan
# book trips it), stopping new loans and claims; for the tests written against it.
ANY_BOOK = {
    "fund.breaker.min_book_loans": 0,
    "fund.breaker.window": "all_time",
    "fund.breaker.stops": "both",
}


def any_book_breaker(world: Any) -> Any:
    """Publish the default rulebook with the breaker of ``ANY_BOOK`` (effective 2017-01-01)."""
    return publish_rules(world, **ANY_BOOK)
