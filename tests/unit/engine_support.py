"""Shared helpers for the evaluation engine's tests (imported by tests/unit/test_engine_*.py).

``enterprise(**changes)`` builds one enterprise in the units people write (yuan, counts, flags);
``evaluate_both(policy, enterprise)`` evaluates it on the per-row path (``evaluate_one``) and on
the vectorised path (``evaluate_frame``), asserts the two agree field by field, and returns the
per-row ``Evaluation``. Every rule test goes through it, so every rule is checked on both paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from kvcredit.scoring import Evaluation, Policy, evaluate_frame, evaluate_one, load_policy
from kvcredit.scoring.engine import _dec, core, evaluate_record
from kvcredit.scoring.fields import FIELDS, Field, Kind, is_textual, uscc_check_char
from kvcredit.scoring.records import normalize_record

NATIONAL = load_policy("most-tech-sme")
CHONGQING = load_policy("chongqing-kvc")
SHIPPED = (NATIONAL, CHONGQING)


def make_uscc(n: int = 0) -> str:
    """A valid unified social credit code, distinct for each n < 31."""
    first17 = "91500000MA5U0000" + "0123456789ABCDEFGHJKLMNPQRTUWXY"[n % 31]
    return first17 + uscc_check_char(first17)


# A small Chongqing technology firm that passes every basic condition and scores nothing
# (under chongqing-kvc it still gets the 5 points of a clean credit record).
PLAIN_ENTERPRISE: dict[str, Any] = {
    "uscc": make_uscc(),
    "name": "重庆示例科技有限公司",
    "district": "渝北区",
    "total_staff": 100,
    "tech_staff": 0,
    "revenue": "0",
    "total_costs": "0",
    "rd_expense": "0",
    "total_assets": "1000000",
    "ip_invention": 0,
    "ip_utility_model": 0,
    "ip_design": 0,
    "ip_software_copyright": 0,
    "ip_ic_layout": 0,
    "high_tech_certified": False,
    "national_sci_award_5y": False,
    "provincial_rd_center": False,
    "led_standard_5y": False,
    "abnormal_operation": False,
    "serious_dishonesty": False,
    "major_incident": False,
}

FRAME_SCHEMA = {f.name: pl.String if f.kind is Kind.TEXT else pl.Int64 for f in FIELDS}


def enterprise(**changes: Any) -> dict[str, Any]:
    """The plain enterprise with some fields changed (user units: yuan, counts, flags)."""
    return {**PLAIN_ENTERPRISE, **changes}


def frame_of(
    records: Iterable[Mapping[str, int | str]], declared: Sequence[Field] = ()
) -> pl.DataFrame:
    """A frame in internal units, as the readers produce, from normalised records (with the
    columns of a policy's ``declared`` fields too)."""
    fields = (*FIELDS, *declared)
    schema = {f.name: pl.String if is_textual(f) else pl.Int64 for f in fields}
    rows = [[rec.get(f.name, "" if is_textual(f) else 0) for f in fields] for rec in records]
    return pl.DataFrame(rows, schema=schema, orient="row")


def assert_same(policy: Policy, ev: Evaluation, row: Mapping[str, Any], where: str = "") -> None:
    """The vectorised row equals the per-row Evaluation in every field both produce."""
    expected = _top_level(policy, ev)
    expected.update({f"points.{i.id}": i.points for i in ev.indicators})
    expected.update({f"group.{k}": v for k, v in ev.groups.items()})
    got = {key: row.get(key, "<missing>") for key in expected}
    assert got == expected, f"vectorised path differs from per-row path {where}"


def evaluate_records_both(
    policy: Policy,
    records: list[Mapping[str, int | str]],
    *,
    explain: bool = True,
    on: dt.date | None = None,
) -> list[Evaluation]:
    """Evaluate internal records on both paths, assert equality, return per-row results."""
    evaluations = [evaluate_record(policy, rec, explain=explain, on=on) for rec in records]
    frame = evaluate_frame(
        policy, frame_of(records, policy.declared), explain=explain, on=on, details=True
    )
    assert frame.height == len(records)
    for k, (ev, row) in enumerate(zip(evaluations, frame.iter_rows(named=True), strict=True)):
        assert_same(policy, ev, row, where=f"on row {k}: {dict(records[k])}")
    return evaluations


def evaluate_both(policy: Policy, data: Mapping[str, Any], on: dt.date | None = None) -> Evaluation:
    """evaluate_one on user units, checked against evaluate_frame on the same enterprise."""
    ev = evaluate_one(policy, data, on=on)
    [same] = evaluate_records_both(policy, [normalize_record(data, policy.declared)], on=on)
    assert same == ev
    return ev


def per_row_columns(policy: Policy, records: list[Mapping[str, int | str]]) -> dict[str, list[Any]]:
    """The per-row path's results as columns named like evaluate_frame's output.

    Top-level fields come from ``evaluate_record`` and each indicator's points from ``core``
    (the per-row reference semantics), without the cost of computing suggestions.
    """
    c = policy.compiled
    columns: dict[str, list[Any]] = {name: [] for name in OUTPUT_COLUMNS}
    columns.update({f"points.{i.id}": [] for i in c.indicators})
    for rec in records:
        ev = evaluate_record(policy, rec, explain=False)
        for name, value in _top_level(policy, ev).items():
            columns[name].append(value)
        raw = core(c, rec).raw
        for i in c.indicators:
            columns[f"points.{i.id}"].append(_dec(raw[i.id], c.points_scale))
    return columns


OUTPUT_COLUMNS = (
    "eligible",
    "score",
    "grade",
    "credit_limit",
    "qualified_by",
    "knocked_out_by",
    "failed_requirements",
    "routes",
    "uplifts",
    "policy_id",
    "policy_version",
    "policy_hash",
)


def _top_level(policy: Policy, ev: Evaluation) -> dict[str, Any]:
    return {
        "eligible": ev.eligible,
        "score": ev.score,
        "grade": ev.grade,
        "credit_limit": ev.credit_limit,
        "qualified_by": ev.qualified_by,
        "knocked_out_by": ",".join(ev.knocked_out_by),
        "failed_requirements": ",".join(ev.failed_requirements),
        "routes": ",".join(ev.routes),
        "uplifts": ",".join(ev.uplifts),
        "policy_id": policy.id,
        "policy_version": policy.version,
        "policy_hash": policy.content_hash,
    }


def assert_columns_equal(
    expected: Mapping[str, list[Any]], frame: pl.DataFrame, records: list[Mapping[str, Any]]
) -> None:
    """Every column of the per-row results equals evaluate_frame's, row by row."""
    assert frame.height == len(records)
    for name, values in expected.items():
        assert name in frame.columns, f"evaluate_frame output lacks {name}"
        got = frame.get_column(name).to_list()
        if got != values:
            k = next(k for k, (a, b) in enumerate(zip(got, values, strict=True)) if a != b)
            raise AssertionError(
                f"{name} differs on row {k}: vectorised {got[k]!r}, per-row {values[k]!r}; "
                f"record {dict(records[k])}"
            )
