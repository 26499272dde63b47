"""The programme rulebook: the fund's and the loans' rules as dated, published data (pure).

A rulebook is a TOML file like a policy (docs/rulebook.md): a ``[rulebook]`` header (id, version,
effective date, authority, title, notes, sources, and ``ours``: the key paths of rules that no
source publishes, our own choices), then ``[fund]`` (parties, paid-in shares, compensation,
claims, caps, allowance, denials, loss sharing, the circuit breaker, fees, bridge loans),
``[loan]`` (rate basis and bounds, term, amount, grace, penalty, classification, renewal), and
the dated lists ``[[subsidy]]`` (interest subsidies, 贴息) and ``[[deferral]]`` (forbearance).

``parse_rulebook`` validates it with pydantic: an error names its key path
(``fund.stages.1.share``) in English and Chinese (``RulebookError``, messages as
``kvcredit.scoring.policy_text.Said``). ``Rulebook.content_hash`` is the SHA-256 of its canonical
JSON (the policies' ``canonical_sha256``): formatting, comments and the way a number is written do
not change it. Ratios are exact decimals (TOML numbers are read as ``Decimal``, a text such as
``"0.8"`` is accepted too); money is written in yuan (``*_yuan`` keys, at most two decimals) and
read in fen (the ``*_fen`` properties, ``kvcredit.money.yuan_to_fen``).

Dates: ``effective`` is the first day the rulebook is in force (it stays in force until the
effective date of a later published one). Every window (``from`` .. ``to``) includes both days.

This module only states and checks the rules; the computations that apply them live with the
fund (``kvcredit.fund.domain``) and the loans (``kvcredit.lending.domain``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tomllib
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from kvcredit.errors import RulebookError
from kvcredit.money import yuan_to_fen
from kvcredit.scoring.policy import canonical_sha256, key_path
from kvcredit.scoring.policy_text import PolicyValueError, Said, from_pydantic

RULEBOOK_PACKAGE = "kvcredit.data"
RULEBOOK_DIR = "rulebooks"
DEFAULT_RULEBOOK = "chongqing-2022"

# (English, Chinese) of each rulebook-specific problem; parameters in braces.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_a_ratio": (
        '{value} is not an exact decimal ratio (write 0.8 or "0.8")',
        '{value} 不是精确的小数比例（写作 0.8 或 "0.8"）',
    ),
    "ratio_range": (
        "a ratio must be between 0 and 1, got {value}",
        "比例须在 0 到 1 之间，实际为 {value}",
    ),
    "not_negative": ("must not be negative, got {value}", "不能为负数，实际为 {value}"),
    "not_yuan": (
        "{value} is not an amount in yuan with at most two decimals",
        "{value} 不是最多两位小数的人民币金额（元）",
    ),
    "positive_yuan": ("an amount must be positive, got {value}", "金额须为正数，实际为 {value}"),
    "sum_to_one": (
        "the {which} must add up to exactly 1, they add up to {total}",
        "{which}之和须恰好为 1，实际为 {total}",
    ),
    "unique_ids": ("ids must be unique: {ids}", "标识不得重复：{ids}"),
    "parties_at_most_two": (
        "at most two contributing parties (an upper and a local level) are recorded, got {count}",
        "出资方最多两方（上级与本级），实际为 {count} 方",
    ),
    "window_order": (
        "'to' ({to}) is before 'from' ({start})",
        "结束日期 {to} 早于开始日期 {start}",
    ),
    "bad_window": (
        'write the window as "all_time" or "N months", got {value}',
        '统计窗口应写作 "all_time" 或 "N months"，实际为 {value}',
    ),
    "thresholds": (
        "need 0 < warn <= stop <= 1 (warn {warn}, stop {stop})",
        "须 0 < 预警 <= 暂停 <= 1（预警 {warn}，暂停 {stop}）",
    ),
    "no_ratio": (
        "the breaker needs at least one ratio (non_performing or compensation)",
        "熔断须至少设置一个比率（non_performing 或 compensation）",
    ),
    "stages_days": (
        "stages must be in order of after_days, the first after 0 days",
        "分期支付须按 after_days 递增排列，第一期为 0 天",
    ),
    "stages_first": (
        "the first stage is paid when the claim is paid: it takes no not_before date and does "
        "not wait for the recovery proceedings",
        "第一期在代偿时支付：不能设置 not_before 日期，也不能等待追偿程序终结",
    ),
    "stages_recovery": (
        "only the last stage may wait for the recovery proceedings to conclude "
        "(after_recovery_concluded)",
        "只有最后一期可以等待追偿程序终结（after_recovery_concluded）",
    ),
    "fund_share": (
        "the fund's compensation share in loss_sharing ({share}) differs from "
        "fund.compensation_share ({expected})",
        "loss_sharing 中基金的代偿比例（{share}）与 fund.compensation_share（{expected}）不一致",
    ),
    "no_fund_party": (
        "loss_sharing needs the party 'fund'",
        "loss_sharing 须包含参与方 'fund'",
    ),
    "bounds_order": (
        "the bounds must rise: special_mention_after < substandard_after < doubtful_after "
        "< loss_after",
        "分类界限须递增：special_mention_after < substandard_after < doubtful_after < loss_after",
    ),
    "floor_ceiling": (
        "the rate floor is above the ceiling on the same basis",
        "同一基准下利率下限高于上限",
    ),
    "ours_unknown": (
        "'ours' names {path}, which is not a key of this rulebook",
        "'ours' 列出的 {path} 不是本规则手册中的键",
    ),
    "top_up_below_initial": (
        "top_up_target ({target}) is below min_initial_paid_in ({initial})",
        "top_up_target（{target}）低于 min_initial_paid_in（{initial}）",
    ),
    "subsidy_rate": (
        "a share_of_rate subsidy names the rate it is a share of (rate = ...)",
        "按利率比例的贴息须写明所依据的利率（rate = ...）",
    ),
    "defer_what": (
        "defer names principal and/or interest, each once",
        "defer 须列出 principal 和/或 interest，各一次",
    ),
    "until_after_window": (
        "'until' ({until}) must be after the loans' due dates ({due_to})",
        "'until'（{until}）须晚于贷款到期日（{due_to}）",
    ),
    "not_toml": ("not valid TOML: {error}", "不是有效的 TOML：{error}"),
    "cannot_read": ("cannot read {path}: {error}", "无法读取 {path}：{error}"),
    "no_shipped": (
        "no shipped rulebook {ref} (shipped: {known})",
        "没有内置规则手册 {ref}（内置：{known}）",
    ),
    "too_deep": ("the rulebook is nested too deeply", "嵌套层级过深"),
}


def said(code: str, **params: Any) -> Said:
    """A rulebook problem as a bilingual message."""
    en, zh = MESSAGES[code]
    text = {k: str(v) for k, v in params.items()}
    return Said(code, en=en.format(**text), zh=zh.format(**text), **params)


class RulebookValueError(PolicyValueError):
    """A validator's refusal with its bilingual message (pydantic keeps it in ``ctx``)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.said = said(code, **params)
        ValueError.__init__(self, str(self.said))


# --- value types ---------------------------------------------------------------------------


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise RulebookValueError("not_a_ratio", value=raw)
    if isinstance(raw, Decimal | int):
        return Decimal(raw)
    if isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise RulebookValueError("not_a_ratio", value=repr(raw)) from None
        if value.is_finite():
            return value
    raise RulebookValueError("not_a_ratio", value=repr(raw))


def _ratio(raw: Any) -> Decimal:
    value = _decimal(raw)
    if not 0 <= value <= 1:
        raise RulebookValueError("ratio_range", value=value)
    return value


def _non_negative(raw: Any) -> Decimal:
    value = _decimal(raw)
    if value < 0:
        raise RulebookValueError("not_negative", value=value)
    return value


def _yuan(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = _decimal(raw)
        yuan_to_fen(value)
    except (RulebookValueError, ValueError):
        raise RulebookValueError("not_yuan", value=repr(raw)) from None
    if value <= 0:
        raise RulebookValueError("positive_yuan", value=value)
    return value


def _fen(yuan: Decimal | None) -> int | None:
    return None if yuan is None else yuan_to_fen(yuan)


def _sum_to_one(values: list[Decimal], which: str) -> None:
    total = sum(values, Decimal(0))
    if total != 1:
        raise RulebookValueError("sum_to_one", which=which, total=total)


def _unique(ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RulebookValueError("unique_ids", ids=", ".join(dupes))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Window(_Model):
    """A dated window; both days included."""

    from_: dt.date = Field(alias="from")
    to: dt.date

    @model_validator(mode="after")
    def _order(self) -> Any:
        if self.to < self.from_:
            raise RulebookValueError("window_order", to=self.to, start=self.from_)
        return self

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day <= self.to


ID = r"^[a-z][a-z0-9_]*$"


# --- header --------------------------------------------------------------------------------


class Header(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(min_length=1)
    effective: dt.date
    authority: str = Field(min_length=1)
    title: str = Field(min_length=1)
    title_zh: str = ""
    notes: str = ""
    sources: list[str] = Field(default_factory=list)
    # Key paths (``fund.breaker.non_performing.stop``, ``loan.grace_days``) of the rules no
    # source publishes: our own choices. A section's path marks every key in it.
    ours: list[str] = Field(default_factory=list)


# --- the fund ------------------------------------------------------------------------------


class Party(_Model):
    """A contributing party of the pool (city / district, province / city) and its share."""

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    share: Decimal

    _share = field_validator("share", mode="before")(_ratio)


class Stage(_Model):
    """One payment of a claim: ``share`` of the compensation, paid ``after_days`` after the
    first stage at the earliest (a lock-in), and not before ``not_before``; with
    ``after_recovery_concluded`` (the last stage only) once the trustee has recorded that the
    recovery proceedings concluded, its amount then accounting for the recoveries
    (``fund.domain.compensation.final_stage_fen``)."""

    share: Decimal
    after_days: int = Field(ge=0)
    not_before: dt.date | None = None
    after_recovery_concluded: bool = False

    _share = field_validator("share", mode="before")(_ratio)

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> Any:
        # a rulebook that uses neither condition keeps the hash it had before they existed
        out = handler(self)
        if isinstance(out, dict):
            if out.get("not_before") is None:
                out.pop("not_before", None)
            if not out.get("after_recovery_concluded"):
                out.pop("after_recovery_concluded", None)
        return out


class Allowance(_Model):
    """A per-bank compensation allowance: ``pct_of_loan`` of each loan lent is added to the
    bank's allowance (carried forward to the next year or not), the allowance capped at
    ``cap_pct_of_balance`` of the bank's outstanding balance; compensation beyond it is refused."""

    pct_of_loan: Decimal
    carry_forward: bool = True
    cap_pct_of_balance: Decimal | None = None

    _pct = field_validator("pct_of_loan", "cap_pct_of_balance", mode="before")(
        lambda v: None if v is None else _ratio(v)
    )


Denial = Literal[
    "above_evaluated_limit",  # the loan is above the enterprise's evaluated credit limit
    "rate_above_ceiling",  # the loan's rate is above the rulebook's ceiling
    "signed_while_suspended",  # signed while the bank x district pair was suspended
    "not_evaluated_by_programme",  # the bank did not use the programme's evaluation
]


class LossParty(_Model):
    """A party bearing a share of each loss (``compensation``) and receiving a share of each
    recovery (``recoveries``): the fund, the bank, a guarantee company, an insurer, ..."""

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    compensation: Decimal
    recoveries: Decimal

    _shares = field_validator("compensation", "recoveries", mode="before")(_ratio)


class LossSharing(_Model):
    parties: list[LossParty] = Field(min_length=2)

    @model_validator(mode="after")
    def _sums(self) -> Any:
        _unique([p.id for p in self.parties])
        _sum_to_one([p.compensation for p in self.parties], "compensation shares")
        _sum_to_one([p.recoveries for p in self.parties], "recovery shares")
        if "fund" not in {p.id for p in self.parties}:
            raise RulebookValueError("no_fund_party")
        return self

    def party(self, party_id: str) -> LossParty:
        return next(p for p in self.parties if p.id == party_id)


class Thresholds(_Model):
    warn: Decimal
    stop: Decimal

    _r = field_validator("warn", "stop", mode="before")(_ratio)

    @model_validator(mode="after")
    def _order(self) -> Any:
        if not 0 < self.warn <= self.stop <= 1:
            raise RulebookValueError("thresholds", warn=self.warn, stop=self.stop)
        return self


WINDOW_RE = re.compile(r"^(?:all_time|(\d{1,3}) months?)$")


class Breaker(_Model):
    """The circuit breaker per bank x district pair. ``non_performing``: non-performing
    principal over outstanding principal; ``compensation``: compensation paid over principal
    lent in the window. ``window``: ``"all_time"`` or ``"N months"`` (rolling, loans signed in
    the last N months). A pair with fewer than ``min_book_loans`` loans in the window never
    trips. ``stops``: what a suspension stops (new loans, claims, or both)."""

    non_performing: Thresholds | None = None
    compensation: Thresholds | None = None
    window: str = "all_time"
    min_book_loans: int = Field(default=0, ge=0)
    stops: Literal["new_loans", "claims", "both"] = "new_loans"

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        m = WINDOW_RE.match(value)
        if not m or (m.group(1) is not None and int(m.group(1)) == 0):
            raise RulebookValueError("bad_window", value=repr(value))
        return value

    @model_validator(mode="after")
    def _some(self) -> Any:
        if self.non_performing is None and self.compensation is None:
            raise RulebookValueError("no_ratio")
        return self

    @property
    def window_months(self) -> int | None:
        """The rolling window in months; None for all time."""
        m = WINDOW_RE.match(self.window)
        return int(m.group(1)) if m and m.group(1) else None

    @property
    def stops_new_loans(self) -> bool:
        return self.stops in ("new_loans", "both")

    @property
    def stops_claims(self) -> bool:
        return self.stops in ("claims", "both")


class FeeReduction(_Model):
    """``cut`` (0.2 = 20 % off) of the fees charged from ``from`` to ``to`` (both included)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    cut: Decimal
    reason: str = ""
    reason_zh: str = ""

    _cut = field_validator("cut", mode="before")(_ratio)

    @model_validator(mode="after")
    def _order(self) -> Any:
        if self.to < self.from_:
            raise RulebookValueError("window_order", to=self.to, start=self.from_)
        return self

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day <= self.to


class Fees(_Model):
    """The programme's service fee: ``rate`` a year of the loan amount (pro rata of the term),
    paid by ``payer``; dated ``reductions`` (a cut) and ``waivers`` (no fee at all)."""

    rate: Decimal
    payer: Literal["bank", "enterprise"] = "bank"
    reductions: list[FeeReduction] = Field(default_factory=list)
    waivers: list[FeeReduction] = Field(default_factory=list)

    _rate = field_validator("rate", mode="before")(_ratio)

    @field_validator("waivers", mode="before")
    @classmethod
    def _waive_all(cls, raw: Any) -> Any:
        if isinstance(raw, list):
            return [{**w, "cut": w.get("cut", 1)} if isinstance(w, dict) else w for w in raw]
        return raw

    def cut_on(self, day: dt.date) -> Decimal:
        """The share of the fee taken off on ``day`` (1 under a waiver, else the first
        reduction covering it, else 0)."""
        for w in self.waivers:
            if w.covers(day):
                return Decimal(1)
        for r in self.reductions:
            if r.covers(day):
                return r.cut
        return Decimal(0)


class Bridge(_Model):
    """Emergency bridge loans (续贷过桥) from the pool: at most ``max_days`` and
    ``max_amount_yuan``; ``rate`` a year on actual days / 360."""

    max_days: int = Field(gt=0)
    rate: Decimal
    max_amount_yuan: Decimal | None = None

    _rate = field_validator("rate", mode="before")(_ratio)
    _amount = field_validator("max_amount_yuan", mode="before")(_yuan)

    @property
    def max_amount_fen(self) -> int | None:
        return _fen(self.max_amount_yuan)


class Fund(_Model):
    parties: list[Party] = Field(min_length=1)
    min_initial_paid_in: Decimal = Decimal(1)  # of each commitment, paid in at the start
    top_up_target: Decimal = Decimal(1)  # the share of the commitment topped up to
    compensation_share: Decimal  # of the overdue principal, paid by the fund
    min_days_overdue: int = Field(ge=0)  # before a claim may be filed
    filing_deadline_days: int | None = Field(default=None, gt=0)  # after it may be filed
    stages: list[Stage] = Field(default_factory=lambda: [Stage(share=Decimal(1), after_days=0)])
    cap_per_loan_yuan: Decimal | None = None
    cap_per_bank_per_year_yuan: Decimal | None = None
    allowance: Allowance | None = None
    denials: list[Denial] = Field(default_factory=list)
    loss_sharing: LossSharing | None = None
    breaker: Breaker
    fees: Fees
    bridge: Bridge

    _ratios = field_validator(
        "min_initial_paid_in", "top_up_target", "compensation_share", mode="before"
    )(_ratio)
    _money = field_validator("cap_per_loan_yuan", "cap_per_bank_per_year_yuan", mode="before")(
        _yuan
    )

    @field_validator("parties")
    @classmethod
    def _parties(cls, parties: list[Party]) -> list[Party]:
        _unique([p.id for p in parties])
        _sum_to_one([p.share for p in parties], "parties' shares")
        if len(parties) > 2:  # contributions are recorded under two slots (fund.applied.SLOTS)
            raise RulebookValueError("parties_at_most_two", count=len(parties))
        return parties

    @field_validator("stages")
    @classmethod
    def _stages(cls, stages: list[Stage]) -> list[Stage]:
        if not stages:
            return stages
        _sum_to_one([s.share for s in stages], "stages' shares")
        days = [s.after_days for s in stages]
        # days rising; a stage that also waits for a date or the proceedings may share its days
        if days[0] != 0 or any(
            a > b or (a == b and not (t.not_before or t.after_recovery_concluded))
            for (a, b), t in zip(itertools.pairwise(days), stages[1:], strict=True)
        ):
            raise RulebookValueError("stages_days")
        if stages[0].not_before is not None or stages[0].after_recovery_concluded:
            raise RulebookValueError("stages_first")
        if any(s.after_recovery_concluded for s in stages[:-1]):
            raise RulebookValueError("stages_recovery")
        return stages

    @field_validator("denials")
    @classmethod
    def _denials(cls, denials: list[str]) -> list[str]:
        _unique(list(denials))
        return denials

    @model_validator(mode="after")
    def _consistent(self) -> Any:
        if self.top_up_target < self.min_initial_paid_in:
            raise RulebookValueError(
                "top_up_below_initial", target=self.top_up_target, initial=self.min_initial_paid_in
            )
        if self.loss_sharing is not None:
            share = self.loss_sharing.party("fund").compensation
            if share != self.compensation_share:
                expected = self.compensation_share
                raise RulebookValueError("fund_share", share=share, expected=expected)
        return self

    @property
    def cap_per_loan_fen(self) -> int | None:
        return _fen(self.cap_per_loan_yuan)

    @property
    def cap_per_bank_per_year_fen(self) -> int | None:
        return _fen(self.cap_per_bank_per_year_yuan)

    def losses(self) -> LossSharing:
        """The loss sharing written, or the two-party one the compensation share implies
        (the fund pays its share, the bank bears the rest; recoveries are shared alike)."""
        if self.loss_sharing is not None:
            return self.loss_sharing
        fund, bank = self.compensation_share, 1 - self.compensation_share
        return LossSharing(
            parties=[
                LossParty(
                    id="fund",
                    name="fund",
                    name_zh="风险补偿基金",
                    compensation=fund,
                    recoveries=fund,
                ),
                LossParty(
                    id="bank", name="bank", name_zh="合作银行", compensation=bank, recoveries=bank
                ),
            ]
        )


# --- the loans -----------------------------------------------------------------------------

RateBasis = Literal["pboc_benchmark", "lpr_1y"]


class RateBound(_Model):
    """A rate bound: ``basis`` x ``multiple`` + ``spread_bp`` basis points."""

    basis: RateBasis
    spread_bp: int = 0
    multiple: Decimal = Decimal(1)

    _m = field_validator("multiple", mode="before")(_non_negative)


class Classification(_Model):
    """Five-category classification by days past due: a loan more than ``special_mention_after``
    days past due is special mention, more than ``substandard_after`` substandard, and so on."""

    special_mention_after: int = Field(default=0, ge=0)
    substandard_after: int = Field(default=90, ge=0)
    doubtful_after: int = Field(default=180, ge=0)
    loss_after: int = Field(default=360, ge=0)

    @model_validator(mode="after")
    def _rise(self) -> Any:
        b = self.bounds
        if any(x >= y for x, y in itertools.pairwise(b)):
            raise RulebookValueError("bounds_order")
        return self

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """Upper bounds of days past due of normal, special mention, substandard, doubtful (the
        shape of ``lending.domain.aging.ClassificationRules``)."""
        return (
            self.special_mention_after,
            self.substandard_after,
            self.doubtful_after,
            self.loss_after,
        )


class Renewal(_Model):
    """Renewing a loan at maturity (无还本续贷): whether it is allowed, how many times in a row
    (no key: no limit), whether the loan must not be overdue and the enterprise re-evaluated."""

    allowed: bool = False
    max_renewals: int | None = Field(default=None, ge=1)
    requires_no_overdue: bool = True
    requires_reevaluation: bool = True


class Loan(_Model):
    rate_basis: RateBasis
    rate_spread_bp: int = 0  # the usual spread over the basis (informative; banks price)
    ceiling: RateBound | None = None
    floor: RateBound | None = None
    max_term_months: int = Field(gt=0)
    max_amount_yuan: Decimal | None = None
    grace_days: int = Field(default=0, ge=0)
    penalty_uplift: Decimal = Decimal("0.5")  # penalty rate = rate x (1 + uplift)
    classification: Classification = Field(default_factory=Classification)
    renewal: Renewal = Field(default_factory=Renewal)

    _amount = field_validator("max_amount_yuan", mode="before")(_yuan)
    _uplift = field_validator("penalty_uplift", mode="before")(_non_negative)

    @model_validator(mode="after")
    def _bounds(self) -> Any:
        c, f = self.ceiling, self.floor
        if (
            c is not None
            and f is not None
            and c.basis == f.basis
            and c.multiple == f.multiple
            and f.spread_bp > c.spread_bp
        ):
            raise RulebookValueError("floor_ceiling")
        return self

    @property
    def max_amount_fen(self) -> int | None:
        return _fen(self.max_amount_yuan)


# --- subsidies and deferrals ---------------------------------------------------------------


class SubsidyLoans(_Model):
    """Which loans a subsidy covers: signed in [signed_from, signed_to] (both optional), in the
    listed districts (codes; empty: all), up to ``max_amount_yuan`` (optional)."""

    signed_from: dt.date | None = None
    signed_to: dt.date | None = None
    districts: list[str] = Field(default_factory=list)
    max_amount_yuan: Decimal | None = None

    _amount = field_validator("max_amount_yuan", mode="before")(_yuan)

    @model_validator(mode="after")
    def _order(self) -> Any:
        if self.signed_from and self.signed_to and self.signed_to < self.signed_from:
            raise RulebookValueError("window_order", to=self.signed_to, start=self.signed_from)
        return self

    @property
    def max_amount_fen(self) -> int | None:
        return _fen(self.max_amount_yuan)


class Subsidy(_Window):
    """An interest subsidy (贴息) on the interest falling due in [from, to], once it is paid.

    ``basis = "share_of_rate"``: the subsidy is the interest of the instalment at ``share`` x
    the ``rate`` (the basis rate in force at signing), never more than the interest paid;
    ``basis = "share_of_interest"``: ``share`` of the interest paid. Paid by ``paid_by``
    (the pool or a budget, named in ``budget``) to ``paid_to`` (the enterprise or the bank)."""

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    basis: Literal["share_of_rate", "share_of_interest"]
    share: Decimal
    rate: RateBasis | None = None
    loans: SubsidyLoans = Field(default_factory=SubsidyLoans)
    paid_by: Literal["pool", "budget"] = "budget"
    budget: str = ""
    paid_to: Literal["enterprise", "bank"] = "enterprise"

    _share = field_validator("share", mode="before")(_ratio)

    @model_validator(mode="after")
    def _rate_named(self) -> Any:
        if self.basis == "share_of_rate" and self.rate is None:
            raise RulebookValueError("subsidy_rate")
        return self


class DeferralLoans(_Model):
    """Which loans may defer: those with an instalment falling due in [due_from, due_to]."""

    due_from: dt.date
    due_to: dt.date

    @model_validator(mode="after")
    def _order(self) -> Any:
        if self.due_to < self.due_from:
            raise RulebookValueError("window_order", to=self.due_to, start=self.due_from)
        return self


class Deferral(_Window):
    """A forbearance window: from ``from`` to ``to`` a bank may grant, at the enterprise's
    request, that the ``defer``-red parts (principal and/or interest) of the instalments of a
    qualifying loan fall due on ``until`` instead. ``interest_accrues``: interest runs on as
    usual; ``penalty_waived``: no penalty interest on the deferred parts; ``dpd_paused``: days
    past due do not count meanwhile; ``watch_days``: a restructured loan is watched that long
    before it is normal again."""

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    loans: DeferralLoans
    defer: list[Literal["principal", "interest"]] = Field(min_length=1)
    until: dt.date
    interest_accrues: bool = True
    penalty_waived: bool = True
    dpd_paused: bool = True
    watch_days: int = Field(default=0, ge=0)

    @field_validator("defer")
    @classmethod
    def _defer(cls, parts: list[str]) -> list[str]:
        if len(set(parts)) != len(parts):
            raise RulebookValueError("defer_what")
        return parts

    @model_validator(mode="after")
    def _until(self) -> Any:
        if self.until <= self.loans.due_to:
            due_to = self.loans.due_to
            raise RulebookValueError("until_after_window", until=self.until, due_to=due_to)
        return self


# --- the document --------------------------------------------------------------------------


class RulebookDoc(_Model):
    rulebook: Header
    fund: Fund
    loan: Loan
    subsidy: list[Subsidy] = Field(default_factory=list)
    deferral: list[Deferral] = Field(default_factory=list)

    @field_validator("subsidy", "deferral")
    @classmethod
    def _ids(cls, items: list[Any]) -> list[Any]:
        _unique([i.id for i in items])
        return items


def _has_path(data: Any, path: str) -> bool:
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


class Rulebook:
    """A validated rulebook: its document, its source text and its content hash."""

    def __init__(self, doc: RulebookDoc, source_text: str = "", source: str = "") -> None:
        self.doc = doc
        self.source_text = source_text
        self.source = source
        self.content_hash = canonical_sha256(self.dump())

    def dump(self) -> dict[str, Any]:
        return self.doc.model_dump(mode="python", by_alias=True)

    @property
    def id(self) -> str:
        return self.doc.rulebook.id

    @property
    def version(self) -> str:
        return self.doc.rulebook.version

    @property
    def effective(self) -> dt.date:
        return self.doc.rulebook.effective

    @property
    def header(self) -> Header:
        return self.doc.rulebook

    @property
    def fund(self) -> Fund:
        return self.doc.fund

    @property
    def loan(self) -> Loan:
        return self.doc.loan

    @property
    def subsidies(self) -> list[Subsidy]:
        return self.doc.subsidy

    @property
    def deferrals(self) -> list[Deferral]:
        return self.doc.deferral

    def is_ours(self, path: str) -> bool:
        """Whether the rule at ``path`` (or a section above it) is marked ours."""
        return any(path == p or path.startswith(p + ".") for p in self.header.ours)

    def __repr__(self) -> str:
        return f"<Rulebook {self.id} {self.version} {self.content_hash[:12]}>"


def _rulebook_words(message: Said) -> Said:
    """Pydantic's untranslated messages say 政策 (policy) in Chinese; here it is a rulebook."""
    if message.zh.startswith("政策格式错误："):
        zh = "规则手册格式错误：" + message.zh.removeprefix("政策格式错误：")
        return Said(message.code, en=str(message), zh=zh, **message.params)
    return message


def parse_rulebook(text: str, source: str = "") -> Rulebook:
    """Validate a rulebook from TOML text; raise RulebookError naming key paths."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError([("", said("not_toml", error=exc))], source) from exc
    except RecursionError:
        raise RulebookError([("", said("too_deep"))], source) from None
    try:
        doc = RulebookDoc.model_validate(raw)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = [
            (key_path(e["loc"]), _rulebook_words(from_pydantic(e))) for e in exc.errors()
        ]
        raise RulebookError(problems, source) from exc
    except RecursionError:
        raise RulebookError([("", said("too_deep"))], source) from None
    rulebook = Rulebook(doc, text, source)
    data = rulebook.dump()
    unknown: list[tuple[str, str]] = [
        (f"rulebook.ours.{i}", said("ours_unknown", path=p))
        for i, p in enumerate(doc.rulebook.ours)
        if not _has_path(data, p)
    ]
    if unknown:
        raise RulebookError(unknown, source)
    return rulebook


def builtin_rulebook_ids() -> list[str]:
    files = resources.files(RULEBOOK_PACKAGE).joinpath(RULEBOOK_DIR).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def builtin_text(ref: str) -> str:
    return (
        resources.files(RULEBOOK_PACKAGE)
        .joinpath(RULEBOOK_DIR)
        .joinpath(f"{ref}.toml")
        .read_text(encoding="utf-8")
    )


def load_rulebook(ref: str | Path) -> Rulebook:
    """Load a shipped rulebook by id (``chongqing-2022``) or a rulebook file by path."""
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problem = said("cannot_read", path=path, error=exc.strerror)
            raise RulebookError([("", problem)], str(path)) from exc
        return parse_rulebook(text, str(path))
    if str(ref) not in builtin_rulebook_ids():
        known = ", ".join(builtin_rulebook_ids())
        raise RulebookError([("", said("no_shipped", ref=str(ref), known=known))], str(ref))
    return parse_rulebook(builtin_text(str(ref)), str(ref))


def default_rulebook() -> Rulebook:
    return load_rulebook(DEFAULT_RULEBOOK)


def rule_text(value: Any) -> str:
    """A rule's value as the rulebook writes it (exact decimals, ISO dates, true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(rule_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{p} = {rule_text(v)}" for p, v in flatten(value)) or "—"
    return str(value)


def flatten(data: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every leaf rule of a dumped rulebook (or part of one) as (key path, value); a list of
    plain values is one leaf, a list of tables is walked by index."""
    if isinstance(data, dict):
        out: list[tuple[str, Any]] = []
        for k, v in data.items():
            out += flatten(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        out = []
        for i, v in enumerate(data):
            out += flatten(v, f"{path}.{i}")
        return out
    return [(path, data)]


_NOT_COMPARED = ("notes", "sources", "title", "title_zh", "authority", "ours")


def diff(a: Rulebook, b: Rulebook) -> list[tuple[str, Any, Any]]:
    """The rules that differ between two rulebooks: (key path, in a, in b), leaf by leaf (a
    rule one of them lacks is None there); the header's id, version and effective date are
    included, its titles, authority, notes, sources and ``ours`` marks are not."""
    out: list[tuple[str, Any, Any]] = []

    def tables(v: Any) -> bool:
        return isinstance(v, list) and any(isinstance(i, dict) for i in v)

    def walk(path: str, x: Any, y: Any) -> None:
        if isinstance(x, dict | None) and isinstance(y, dict | None) and (x or y) is not None:
            x, y = x or {}, y or {}
            for k in [*x, *(k for k in y if k not in x)]:
                if path == "rulebook" and k in _NOT_COMPARED:
                    continue
                walk(f"{path}.{k}" if path else k, x.get(k), y.get(k))
        elif (tables(x) or tables(y)) and isinstance(x, list | None) and isinstance(y, list | None):
            x, y = x or [], y or []
            for i in range(max(len(x), len(y))):
                walk(
                    f"{path}.{i}",
                    x[i] if i < len(x) else None,
                    y[i] if i < len(y) else None,
                )
        elif x != y:
            out.append((path, x, y))

    walk("", a.dump(), b.dump())
    return out
