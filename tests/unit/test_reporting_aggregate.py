"""The statistics' pure aggregation: counts and sums by district and grade, in fixed order."""

from __future__ import annotations

from kvcredit.reporting.aggregate import NOT_RATED, EnterpriseRow, programme_figures


def test_figures_count_enterprises_by_district_and_grade_keeping_empty_rows() -> None:
    rows = [
        EnterpriseRow("万州区", "A", 500_000_000),
        EnterpriseRow("万州区", None, 0),
        EnterpriseRow("涪陵区", "C", 300_000_000),
    ]
    f = programme_figures(rows, districts=["涪陵区", "万州区", "渝中区"], grades=["A", "B", "C"])
    assert (f.enterprises, f.rated, f.total_limit_fen) == (3, 2, 800_000_000)
    assert f.by_district == [("涪陵区", 1), ("万州区", 2), ("渝中区", 0)]
    assert f.grade_mix == [("A", 1), ("B", 0), ("C", 1), (NOT_RATED, 1)]
    assert f.limit_by_district_fen == [
        ("涪陵区", 300_000_000),
        ("万州区", 500_000_000),
        ("渝中区", 0),
    ]


def test_labels_outside_the_given_order_follow_by_name() -> None:
    rows = [EnterpriseRow("b", "X", 1), EnterpriseRow("a", "A", 2)]
    f = programme_figures(rows, districts=[], grades=["A"])
    assert f.by_district == [("a", 1), ("b", 1)]
    assert f.grade_mix == [("A", 1), (NOT_RATED, 0), ("X", 1)]
