"""The vectorised path equals the per-row path, field by field, on 100,000 generated enterprises
under each shipped policy, and on a data set built so that many values sit exactly on band edges.

The per-row reference is ``engine.core``, the decision ``evaluate_one`` makes for each row; its
results are formatted here exactly as ``evaluate_record`` formats them (Decimal score, grade name,
credit limit, comma-joined knock-outs, each indicator's points).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from engine_support import SHIPPED

from kvcredit.scoring import Policy, evaluate_frame
from kvcredit.scoring.engine import _dec, core
from kvcredit.scoring.synth import generate

N_SYNTH = 100_000
N_EDGES = 20_000
CENT = Decimal("0.01")


def reference_columns(
    policy: Policy, frame: pl.DataFrame, on: dt.date | None = None
) -> dict[str, list[Any]]:
    c = policy.compiled
    names = ("eligible", "score", "grade", "credit_limit", "qualified_by", "knocked_out_by")
    names += ("failed_requirements", "routes", "uplifts")
    out: dict[str, list[Any]] = {name: [] for name in names}
    out.update({f"points.{i.id}": [] for i in c.indicators})
    out.update({f"group.{g.id}": [] for g in c.groups})
    for rec in frame.iter_rows(named=True):
        r = core(c, rec, on)
        graded = c.graded and r.grade is not None
        out["eligible"].append(r.grade is not None)
        out["score"].append(_dec(r.scores["score"], c.score_scale))
        out["grade"].append(c.grade_names[r.grade] if graded else None)
        limit = Decimal(c.grade_limit_fen[r.grade] if graded else 0) / 100
        out["credit_limit"].append(limit.quantize(CENT) if c.graded else None)
        out["qualified_by"].append(r.qualified_by)
        out["knocked_out_by"].append(",".join(r.knocked))
        out["failed_requirements"].append(",".join(r.failed_req))
        out["routes"].append(",".join(r.routes))
        out["uplifts"].append(",".join(r.uplifts))
        for g in c.groups:
            out[f"group.{g.id}"].append(_dec(r.scores[f"group.{g.id}"], c.score_scale))
        for i in c.indicators:
            out[f"points.{i.id}"].append(_dec(r.raw[i.id], c.points_scale))
    return out


def assert_paths_agree(
    policy: Policy, frame: pl.DataFrame, on: dt.date | None = None
) -> pl.DataFrame:
    vector = evaluate_frame(policy, frame, explain=True, on=on)
    assert vector.height == frame.height
    assert vector.get_column("uscc").to_list() == frame.get_column("uscc").to_list()
    for name, expected in reference_columns(policy, frame, on).items():
        got = vector.get_column(name).to_list()
        if got != expected:
            k = next(k for k, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            raise AssertionError(
                f"{policy.id}: {name} differs on row {k}: vectorised {got[k]!r}, "
                f"per-row {expected[k]!r}; record {frame.row(k, named=True)}"
            )
    for column, value in [
        ("policy_id", policy.id),
        ("policy_version", policy.version),
        ("policy_hash", policy.content_hash),
    ]:
        assert vector.get_column(column).unique().to_list() == [value]
    return vector


@pytest.fixture(scope="module")
def synthetic() -> pl.DataFrame:
    return generate(N_SYNTH, seed=20260101)


@pytest.mark.slow
@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
def test_both_paths_agree_on_100000_synthetic_enterprises(policy, synthetic):
    vector = assert_paths_agree(policy, synthetic)
    # the data set exercises the policy: eligible and not, knocked out, several outcomes
    eligible = vector.get_column("eligible")
    assert 0 < eligible.sum() < N_SYNTH
    assert (vector.get_column("knocked_out_by") != "").sum() > 0
    if policy.is_graded:
        assert set(vector.get_column("grade").drop_nulls().unique()) == {"A", "B", "C", "D", "E"}
    else:
        assert vector.get_column("qualified_by").n_unique() >= 4


# -- a data set on the band edges ------------------------------------------------------------
# (numerator, denominator) of every ratio edge; each denominator divides 100.
STAFF_EDGES = ((1, 2), (3, 10), (1, 4), (1, 5), (3, 20), (1, 10))
RD_EDGES = (
    (3, 10),
    (1, 4),
    (1, 5),
    (3, 20),
    (1, 10),
    (3, 50),
    (1, 20),
    (1, 25),
    (3, 100),
    (1, 50),
    (1, 100),
)
GROWTH_EDGES = ((130, 100), (115, 100), (105, 100), (100, 100), (90, 100))
MONEY_EDGES_FEN = tuple(
    100 * y
    for y in (50_000, 300_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000)
)
BASIC_EDGE_FEN = 200_000_000 * 100


def edge_frame(n: int, seed: int) -> pl.DataFrame:
    """Synthetic enterprises moved onto band edges: exactly on one, or one unit either side."""
    rng = np.random.default_rng(seed)
    base = generate(n, seed)

    def near() -> np.ndarray:
        return rng.choice(np.array([0, 0, -1, 1]), n)

    def pick(edges: tuple) -> tuple[np.ndarray, np.ndarray]:
        table = np.array(edges, dtype=np.int64)
        return table[rng.integers(0, len(edges), n)].T

    num, den = pick(STAFF_EDGES)
    total = np.where(rng.random(n) < 0.1, rng.choice([0, 500, 501], n), 20 * rng.integers(1, 26, n))
    tech = np.clip(total // den * num + near(), 0, total)

    mode = rng.integers(0, 4, n)  # 0 free, 1 R&D on a revenue edge, 2 on a costs edge, 3 growth
    anchor = 100 * rng.integers(0, 10**9, n)
    num, den = pick(RD_EDGES)
    on_edge = np.maximum(anchor // den * num + near(), 0)
    revenue = np.where(mode == 1, anchor, base.get_column("revenue").to_numpy())
    costs = np.where(mode == 2, anchor, base.get_column("total_costs").to_numpy())
    rd = np.where((mode == 1) | (mode == 2), on_edge, base.get_column("rd_expense").to_numpy())
    money_edge = np.maximum(pick(tuple((m, 1) for m in MONEY_EDGES_FEN))[0] + near(), 0)
    rd = np.where(mode == 0, money_edge, rd)

    gnum, gden = pick(GROWTH_EDGES)
    prev = 100 * rng.integers(1, 10**8, n)
    revenue = np.where(mode == 3, np.maximum(prev // gden * gnum + near(), 0), revenue)
    revenue_prev = np.where(mode == 3, prev, base.get_column("revenue_prev").to_numpy())
    revenue = np.where(rng.random(n) < 0.05, BASIC_EDGE_FEN + near(), revenue)

    tax = np.maximum(pick(tuple((m, 1) for m in MONEY_EDGES_FEN))[0] + near(), 0)
    assets = np.where(rng.random(n) < 0.2, BASIC_EDGE_FEN + near(), base["total_assets"].to_numpy())
    ladder = np.array([0, 1, 2, 3, 4, 5, 9, 10, 11])
    ip = {
        name: np.where(rng.random(n) < share, ladder[rng.integers(0, len(ladder), n)], 0)
        for name, share in (
            ("ip_invention", 0.3),
            ("ip_ic_layout", 0.1),
            ("ip_other_class1", 0.1),
            ("ip_utility_model", 0.6),
            ("ip_design", 0.4),
            ("ip_software_copyright", 0.5),
        )
    }
    return base.with_columns(
        pl.Series("total_staff", total),
        pl.Series("tech_staff", tech),
        pl.Series("revenue", revenue),
        pl.Series("revenue_prev", revenue_prev),
        pl.Series("total_costs", costs),
        pl.Series("rd_expense", rd),
        pl.Series("tax_paid", tax),
        pl.Series("total_assets", assets),
        pl.Series("doctorate_staff", rng.integers(0, 5, n)),
        pl.Series("new_products", rng.integers(0, 5, n)),
        *(pl.Series(name, values) for name, values in ip.items()),
    )


@pytest.fixture(scope="module")
def on_edges() -> pl.DataFrame:
    return edge_frame(N_EDGES, seed=7)


def test_the_edge_data_set_sits_on_band_edges(on_edges):
    frame = on_edges
    staff = frame.filter(pl.col("total_staff") > 0)
    ratio_on_edge = pl.lit(False)
    for num, den in STAFF_EDGES:
        ratio_on_edge = ratio_on_edge | (pl.col("tech_staff") * den == pl.col("total_staff") * num)
    assert staff.select(ratio_on_edge.sum()).item() > N_EDGES // 4
    rd_on_edge = pl.lit(False)
    for num, den in RD_EDGES:
        rd_on_edge = (
            rd_on_edge
            | ((pl.col("rd_expense") * den == pl.col("revenue") * num) & (pl.col("revenue") > 0))
            | (
                (pl.col("rd_expense") * den == pl.col("total_costs") * num)
                & (pl.col("total_costs") > 0)
            )
        )
    assert frame.select(rd_on_edge.sum()).item() > N_EDGES // 8
    assert frame.select((pl.col("revenue") == BASIC_EDGE_FEN).sum()).item() > 100
    assert frame.select((pl.col("total_staff") == 500).sum()).item() > 100


@pytest.mark.slow
@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
def test_both_paths_agree_on_enterprises_sitting_on_band_edges(policy, on_edges):
    assert_paths_agree(policy, on_edges)


# -- chunking and the empty frame ------------------------------------------------------------
@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
def test_chunked_evaluation_equals_whole_frame_evaluation(policy, on_edges):
    whole = evaluate_frame(policy, on_edges, explain=True, chunk_rows=len(on_edges))
    chunked = evaluate_frame(policy, on_edges, explain=True, chunk_rows=777)
    assert chunked.equals(whole)


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda p: p.id)
def test_an_empty_frame_gives_an_empty_result_with_the_same_columns_and_types(policy, on_edges):
    full = evaluate_frame(policy, on_edges.head(3), explain=True)
    empty = evaluate_frame(policy, on_edges.head(0), explain=True)
    assert empty.height == 0
    assert empty.schema == full.schema
