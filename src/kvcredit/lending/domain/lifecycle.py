"""The lifecycles of an application and a loan, and the five categories: one home for each rule.

Pure (no Django). Services apply a step through ``APPLICATION.step`` / ``LOAN.step``; views,
templates, the API and selectors ask the questions below (``may_repay``, ``claimable``,
``is_non_performing``, ``holds_reservation`` …). Django choices and labels are built from the
enums and label tables here, so each code is defined once.

An application::

    (new) ─apply─▶ SUBMITTED ─approve─▶ APPROVED ─disburse─▶ DISBURSED
                      │  │                │ │ │
                      │  └─reject/withdraw┘ │ └─expire─▶ EXPIRED
                      └──────────▶ REJECTED / WITHDRAWN

A loan::

    (new) ─disburse/renew─▶ ACTIVE ─compensate─▶ COMPENSATED      (ACTIVE ─defer─▶ ACTIVE)
                              │ │                  │   │
                              │ └──close──▶ CLOSED ◀┘   │   (reopen: a reversed repayment)
                              ├─renew─▶ RENEWED         │
                              └─write_off─▶ WRITTEN_OFF ◀┘
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from kvcredit.roles import Role, gettext_noop
from kvcredit.statemachine import Machine, t

BANK, ENTERPRISE, TRUSTEE, SYSTEM = Role.BANK, Role.ENTERPRISE, Role.TRUSTEE, Role.SYSTEM


# -- applications -----------------------------------------------------------------------------


class ApplicationStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"
    DISBURSED = "DISBURSED"


A = ApplicationStatus

APPLICATION_LABELS = {
    A.SUBMITTED: gettext_noop("submitted"),
    A.APPROVED: gettext_noop("approved"),
    A.REJECTED: gettext_noop("rejected"),
    A.EXPIRED: gettext_noop("expired"),
    A.WITHDRAWN: gettext_noop("withdrawn"),
    A.DISBURSED: gettext_noop("disbursed"),
}

APPLICATION = Machine(
    "application",
    ApplicationStatus,
    APPLICATION_LABELS,
    [
        t(None, "apply", A.SUBMITTED, ENTERPRISE),
        t(A.SUBMITTED, "approve", A.APPROVED, BANK),
        t(A.SUBMITTED, "reject", A.REJECTED, BANK),
        t(A.APPROVED, "reject", A.REJECTED, BANK),
        t(A.SUBMITTED, "withdraw", A.WITHDRAWN, ENTERPRISE),
        t(A.APPROVED, "withdraw", A.WITHDRAWN, ENTERPRISE),
        t(A.APPROVED, "expire", A.EXPIRED, SYSTEM),
        t(A.APPROVED, "disburse", A.DISBURSED, BANK),
    ],
    final=(A.REJECTED, A.EXPIRED, A.WITHDRAWN, A.DISBURSED),
)

# An open application holds a reservation on the enterprise's credit line.
HOLDING: tuple[ApplicationStatus, ...] = (A.SUBMITTED, A.APPROVED)


def holds_reservation(status: str) -> bool:
    return A(status) in HOLDING


# -- loans ------------------------------------------------------------------------------------


class LoanStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    RENEWED = "RENEWED"
    COMPENSATED = "COMPENSATED"
    WRITTEN_OFF = "WRITTEN_OFF"


L = LoanStatus

LOAN_LABELS = {
    L.ACTIVE: gettext_noop("active"),
    L.CLOSED: gettext_noop("closed (repaid)"),
    L.RENEWED: gettext_noop("renewed (rolled into a new loan)"),
    L.COMPENSATED: gettext_noop("compensated by the fund"),
    L.WRITTEN_OFF: gettext_noop("written off"),
}

LOAN = Machine(
    "loan",
    LoanStatus,
    LOAN_LABELS,
    [
        t(None, "disburse", L.ACTIVE, BANK),
        t(None, "renew", L.ACTIVE, BANK),  # the new loan of a renewal
        t(L.ACTIVE, "renew", L.RENEWED, BANK),  # the old loan of a renewal
        t(L.ACTIVE, "defer", L.ACTIVE, BANK),  # forbearance: the plan re-cut (deferral)
        t(L.ACTIVE, "compensate", L.COMPENSATED, TRUSTEE),
        t(L.ACTIVE, "close", L.CLOSED, BANK, SYSTEM),  # repaid in full
        t(L.COMPENSATED, "close", L.CLOSED, BANK, SYSTEM),
        t(L.CLOSED, "reopen", L.ACTIVE, BANK),  # a reversed repayment owes again
        t(L.CLOSED, "reopen", L.COMPENSATED, BANK),  # … on a loan the fund compensated
        t(L.ACTIVE, "write_off", L.WRITTEN_OFF, TRUSTEE),  # the fund's claim on it ended
        t(L.COMPENSATED, "write_off", L.WRITTEN_OFF, TRUSTEE),
    ],
    final=(L.RENEWED, L.WRITTEN_OFF),
)

# On the bank's live book: the end of day ages them; their outstanding principal is exposure.
LIVE: tuple[LoanStatus, ...] = (L.ACTIVE, L.COMPENSATED)


def is_live(status: str) -> bool:
    return L(status) in LIVE


def is_written_off(status: str) -> bool:
    """Written off the bank's book (its figures are what was written off)."""
    return L(status) is L.WRITTEN_OFF


def may_repay(status: str) -> bool:
    """A repayment is taken on a loan on the live book only."""
    return is_live(status)


def may_reverse_repayment(status: str) -> bool:
    """A repayment can be reversed while the loan is live or closed by repayment (reopening
    it); never once renewed or written off."""
    return is_live(status) or L(status) is L.CLOSED


def reopened_status(*, compensated: bool) -> LoanStatus:
    """The status a closed loan returns to when a reversal makes it owe again."""
    return L.COMPENSATED if compensated else L.ACTIVE


def may_defer(status: str) -> bool:
    """May the bank grant a deferral (forbearance) on this loan? Only on an ACTIVE loan: one
    the fund compensated, or one off the book, keeps its plan."""
    return LOAN.may(status, "defer")


def may_renew(status: str) -> bool:
    return LOAN.may(status, "renew")


def claimable(*, status: str, days_past_due: int) -> bool:
    """May a bank register a compensation claim on this loan? It must be on the book, not yet
    compensated, and overdue. (Filing asks more: the fund's rules' days overdue.) Whether
    another claim already holds the loan is the claim lifecycle's question."""
    return LOAN.may(status, "compensate") and days_past_due > 0


def may_compensate(*, status: str, days_past_due: int, min_days_overdue: int) -> bool:
    """May the fund pay a claim on this loan now? Only a live loan, not already compensated,
    still overdue by the rules at the moment of payment."""
    return LOAN.may(status, "compensate") and days_past_due >= max(min_days_overdue, 1)


# -- deferral requests (forbearance) -----------------------------------------------------------


class DeferralStatus(StrEnum):
    REQUESTED = "REQUESTED"
    GRANTED = "GRANTED"
    REFUSED = "REFUSED"
    WITHDRAWN = "WITHDRAWN"


DF = DeferralStatus

DEFERRAL_LABELS = {
    DF.REQUESTED: gettext_noop("requested"),
    DF.GRANTED: gettext_noop("granted"),
    DF.REFUSED: gettext_noop("refused"),
    DF.WITHDRAWN: gettext_noop("withdrawn"),
}

# An enterprise asks its bank to defer a loan under a deferral rule of the rulebook; the bank's
# credit officer grants it (the loan's ``defer`` step: the plan is re-cut) or refuses it. A bank
# may also record a request made on paper and grant it at once.
DEFERRAL = Machine(
    "deferral",
    DeferralStatus,
    DEFERRAL_LABELS,
    [
        t(None, "request", DF.REQUESTED, ENTERPRISE, BANK),
        t(DF.REQUESTED, "grant", DF.GRANTED, BANK),
        t(DF.REQUESTED, "refuse", DF.REFUSED, BANK),
        t(DF.REQUESTED, "withdraw", DF.WITHDRAWN, ENTERPRISE),
    ],
    final=(DF.GRANTED, DF.REFUSED, DF.WITHDRAWN),
)

# A request still open, or granted, holds the (loan, rule) pair: one of each at a time.
DEFERRAL_HOLDING: tuple[DeferralStatus, ...] = (DF.REQUESTED, DF.GRANTED)


# -- the five categories (五级分类) ------------------------------------------------------------


class Category(IntEnum):
    NORMAL = 0  # 正常
    SPECIAL_MENTION = 1  # 关注
    SUBSTANDARD = 2  # 次级
    DOUBTFUL = 3  # 可疑
    LOSS = 4  # 损失


CATEGORY_LABELS = {
    Category.NORMAL: gettext_noop("normal"),
    Category.SPECIAL_MENTION: gettext_noop("special mention"),
    Category.SUBSTANDARD: gettext_noop("substandard"),
    Category.DOUBTFUL: gettext_noop("doubtful"),
    Category.LOSS: gettext_noop("loss"),
}

# Stored codes, in the order of the categories: "NORMAL", "SPECIAL_MENTION", …
CATEGORY_CODES: tuple[str, ...] = tuple(c.name for c in Category)

NON_PERFORMING: tuple[Category, ...] = (Category.SUBSTANDARD, Category.DOUBTFUL, Category.LOSS)
NON_PERFORMING_FROM = Category.SUBSTANDARD  # categories from this one up are non-performing
NON_PERFORMING_CODES: tuple[str, ...] = tuple(c.name for c in NON_PERFORMING)

# Upper days-past-due bounds of normal, special mention, substandard and doubtful; beyond the
# last a loan is a loss.
DEFAULT_BOUNDS: tuple[int, int, int, int] = (0, 90, 180, 360)


# A restructured loan (a deferral granted) is at least special mention until its watch period
# has passed with no day overdue (``lending.domain.deferral.watch_until``); then the days past
# due alone classify it again.
RESTRUCTURED_FLOOR = Category.SPECIAL_MENTION


def watched(category: str | int, *, watching: bool) -> Category:
    """The category of a loan, raised to ``RESTRUCTURED_FLOOR`` while it is under watch."""
    c = category_of(category)
    return max(c, RESTRUCTURED_FLOOR) if watching else c


def category_of(code: str | int) -> Category:
    """A category from its stored code ("SUBSTANDARD") or its number (2)."""
    return Category[code] if isinstance(code, str) else Category(code)


def is_non_performing(category: str | int) -> bool:
    """Substandard, doubtful and loss loans are non-performing (不良)."""
    return category_of(category) >= NON_PERFORMING_FROM
