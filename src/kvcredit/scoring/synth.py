"""Synthetic technology enterprises, reproducible from a seed.

Distributions are chosen to look like the SMEs of a regional tech-enterprise database: staff
log-normal around 40 (a tail above 500), revenue log-normal around 10 million yuan with 5% of firms
at zero revenue (start-ups), R&D a share of costs, IP counts from zero-inflated negative binomials,
a few percent on the abnormal-operation list, Chongqing district names, valid USCCs. Output is a
frame in internal units (fen, counts, 0/1 flags), as ``kvcredit.scoring.io`` reads files.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import numpy.typing as npt
import polars as pl

from kvcredit.scoring.fields import FIELDS, USCC_CHARSET, USCC_WEIGHTS

INDUSTRIES = (
    "新一代信息技术",
    "软件和信息服务",
    "集成电路",
    "生物医药",
    "高端装备制造",
    "新材料",
    "新能源汽车",
    "节能环保",
    "数字创意",
    "现代农业科技",
)
NAME_HEADS = tuple("渝巴山江嘉陵朝天缙云金佛歌乐南山长江两江华龙天府明德博远睿智新创科鼎盛汇通")
NAME_TAILS = (
    "科技有限公司",
    "技术有限公司",
    "智能科技有限公司",
    "信息技术有限公司",
    "生物科技有限公司",
)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def districts() -> list[dict[str, str]]:
    """The shipped Chongqing districts: code, name (Chinese), name_en."""
    text = resources.files("kvcredit.data").joinpath("chongqing_districts.csv")
    with text.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _money(rng: np.random.Generator, yuan: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Yuan amounts (floats from the generator) to fen with random fen digits."""
    fen = np.floor(np.clip(yuan, 0, 1e11)) * 100 + rng.integers(0, 100, yuan.shape)
    return np.where(yuan > 0, fen, 0).astype(np.int64)


def _usccs(rng: np.random.Generator, admin: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    """Valid, distinct-with-high-probability USCCs: 9 1 <admin code> <org code> <check>."""
    n = len(admin)
    alphabet = np.frombuffer(_ORG_CHARS.encode(), dtype=np.uint8)
    body = rng.integers(0, len(_ORG_CHARS), size=(n, 8))
    values = np.array([int(c, 36) for c in _ORG_CHARS])[body]
    org_check = (11 - (values @ np.array(_ORG_WEIGHTS)) % 11) % 11
    check_chars = np.frombuffer(b"0123456789X", dtype=np.uint8)[
        np.where(org_check == 11, 0, org_check)
    ]
    admin_bytes = np.frombuffer("".join(admin).encode(), dtype=np.uint8).reshape(n, 6)
    codes = np.empty((n, 18), dtype=np.uint8)
    codes[:, 0], codes[:, 1] = ord("9"), ord("1")
    codes[:, 2:8] = admin_bytes
    codes[:, 8:16] = alphabet[body]
    codes[:, 16] = check_chars
    lookup = np.zeros(256, dtype=np.int64)
    for i, ch in enumerate(USCC_CHARSET):
        lookup[ord(ch)] = i
    total = lookup[codes[:, :17]] @ np.array(USCC_WEIGHTS)
    codes[:, 17] = np.frombuffer(USCC_CHARSET.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
    return codes.view("S18").ravel().astype(str)


def _names(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    heads = np.array(NAME_HEADS)
    a, b = heads[rng.integers(0, len(heads), n)], heads[rng.integers(0, len(heads), n)]
    tails = np.array(NAME_TAILS)[rng.integers(0, len(NAME_TAILS), n)]
    return np.char.add(np.char.add(np.char.add("重庆", a), b), tails)


def generate(n: int, seed: int) -> pl.DataFrame:
    """``n`` synthetic enterprises in internal units, identical for the same seed."""
    rng = np.random.default_rng(seed)
    dist = districts()
    weights = np.array([3.0 if d["code"][:4] == "5001" else 1.0 for d in dist])
    weights[-3:] = 4.0  # the development zones host many tech firms
    pick = rng.choice(len(dist), size=n, p=weights / weights.sum())
    names = np.array([d["name"] for d in dist])[pick]
    admin = np.array([d["code"] if d["code"].isdigit() else "500000" for d in dist])[pick]

    staff = np.clip(np.rint(rng.lognormal(np.log(40), 0.9, n)), 1, 3000).astype(np.int64)
    tech = rng.binomial(staff, rng.beta(2.2, 4.0, n)).astype(np.int64)
    revenue = rng.lognormal(np.log(1.0e7), 1.2, n) * (rng.random(n) > 0.05)
    growth = rng.normal(0.12, 0.3, n)
    revenue_prev = np.where(rng.random(n) > 0.1, revenue / np.clip(1 + growth, 0.2, None), 0)
    costs = np.where(revenue > 0, revenue * rng.uniform(0.7, 1.1, n), rng.lognormal(14.5, 0.8, n))
    rd = costs * rng.beta(1.5, 22.0, n)
    assets = np.where(revenue > 0, revenue, costs) * rng.lognormal(0, 0.6, n)
    tax = revenue * rng.uniform(0, 0.06, n)

    def ip(zero_share: float, mean: float) -> npt.NDArray[np.int64]:
        counts = rng.negative_binomial(1.5, 1.5 / (1.5 + mean), n)
        return np.where(rng.random(n) < zero_share, 0, counts).astype(np.int64)

    def flag(share: float) -> npt.NDArray[np.int64]:
        return (rng.random(n) < share).astype(np.int64)

    data = {
        "uscc": _usccs(rng, admin),
        "name": _names(rng, n),
        "district": names,
        "total_staff": staff,
        "tech_staff": tech,
        "revenue": _money(rng, revenue),
        "total_costs": _money(rng, costs),
        "rd_expense": _money(rng, rd),
        "total_assets": _money(rng, assets),
        "ip_invention": ip(0.45, 3.0),
        "ip_utility_model": ip(0.2, 6.0),
        "ip_design": ip(0.6, 2.0),
        "ip_software_copyright": ip(0.3, 5.0),
        "ip_ic_layout": ip(0.96, 1.5),
        "high_tech_certified": flag(0.35),
        "national_sci_award_5y": flag(0.01),
        "provincial_rd_center": flag(0.08),
        "led_standard_5y": flag(0.04),
        "abnormal_operation": flag(0.02),
        "serious_dishonesty": flag(0.005),
        "major_incident": flag(0.003),
        "ip_other_class1": ip(0.99, 1.0),
        "revenue_prev": _money(rng, revenue_prev),
        "tax_paid": _money(rng, tax),
        "doctorate_staff": rng.poisson(0.6, n).astype(np.int64),
        "new_products": rng.poisson(1.2, n).astype(np.int64),
        "specialized_sme": flag(0.10),
        "high_growth": flag(0.08),
        "credit_default_3y": flag(0.03),
        "industry": np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)],
    }
    return pl.DataFrame({f.name: data[f.name] for f in FIELDS})
