"""Lending data: rates, products, suspensions, applications, loans, instalments, repayments,
end-of-day runs and commercial loans made alongside.

Money is integer fen (BigIntegerField); loan rates are integers in 1e-8 units (4.35 % =
4_350_000), the unit of ``lending.domain.schedule``; the rate table keeps parts per million.
Repayments are records of fact: a mistake is undone by a reversing record, never an edit.
Periods (a suspension) are ``[from, to)`` with ``to`` nullable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvcredit.lending.domain import lifecycle as lc
from kvcredit.site.choices import text_choices

# Reference rates are stored exactly as integer parts per million a year (4.35 % = 43_500 ppm),
# a loan's rate in 1e-8 units (4.35 % = 4_350_000): the units and their conversions are
# kvcredit.lending.domain.rates.


class Rate(models.Model):
    rate_type = models.CharField(max_length=40)
    effective_date = models.DateField()
    annual_rate_ppm = models.IntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rate_type", "effective_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rate_type", "effective_date"], name="rate_type_date"),
            models.CheckConstraint(
                condition=Q(annual_rate_ppm__gte=0) & Q(annual_rate_ppm__lte=1_000_000),
                name="rate_ppm_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate_type} {self.effective_date} {self.annual_rate_ppm}ppm"


class RateBasis(models.TextChoices):
    PBOC_BENCHMARK = "PBOC_BENCHMARK", _("central-bank benchmark rate for the term")
    LPR_1Y = "LPR_1Y", _("one-year Loan Prime Rate on the signing date")


class Method(models.TextChoices):
    MONTHLY_INTEREST = "MONTHLY_INTEREST", _("monthly interest, principal at maturity")
    QUARTERLY_INTEREST = "QUARTERLY_INTEREST", _("quarterly interest, principal at maturity")
    EQUAL_INSTALMENT = "EQUAL_INSTALMENT", _("equal instalments")
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL", _("equal principal")


# The five categories, their codes, labels and bounds are ``lifecycle``'s; the choices here
# are built from them.
Category = text_choices("Category", lc.CATEGORY_LABELS, module=__name__)
CATEGORY_CODES = list(lc.CATEGORY_CODES)  # the order of the domain's Category codes 0..4
NON_PERFORMING = lc.NON_PERFORMING_CODES
DEFAULT_ORDER = ["PENALTY", "INTEREST", "PRINCIPAL"]
DEFAULT_BOUNDS = list(lc.DEFAULT_BOUNDS)


def _default_methods() -> list[str]:
    return [m.value for m in Method]


def _default_order() -> list[str]:
    return list(DEFAULT_ORDER)


def _default_bounds() -> list[int]:
    return list(DEFAULT_BOUNDS)


class Product(models.Model):
    """A loan product set by the administrator; loans copy its terms when disbursed."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    rate_basis = models.CharField(max_length=20, choices=RateBasis.choices)
    spread_bp = models.IntegerField(default=0)
    max_term_months = models.IntegerField(default=12)
    methods = models.JSONField(default=_default_methods)
    day_count = models.CharField(max_length=10, default="ACT_360")
    penalty_uplift_percent = models.IntegerField(default=50)
    grace_days = models.IntegerField(default=0)
    allocation_order = models.JSONField(default=_default_order)
    classification_bounds = models.JSONField(default=_default_bounds)
    approval_valid_days = models.IntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(spread_bp__gte=-10_000), name="product_spread"),
            models.CheckConstraint(
                condition=Q(max_term_months__gte=1) & Q(max_term_months__lte=360),
                name="product_max_term",
            ),
            models.CheckConstraint(condition=Q(penalty_uplift_percent__gte=0), name="product_pen"),
            models.CheckConstraint(condition=Q(grace_days__gte=0), name="product_grace"),
            models.CheckConstraint(condition=Q(approval_valid_days__gte=1), name="product_valid"),
            models.CheckConstraint(condition=Q(day_count="ACT_360"), name="product_day_count"),
        ]

    def __str__(self) -> str:
        return self.code


class BankSuspension(models.Model):
    """A bank may take no new applications in a district during ``[from_date, to_date)``.
    Written by the fund app's circuit breaker (or the administrator)."""

    bank = models.ForeignKey("enterprises.Bank", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("enterprises.District", on_delete=models.PROTECT, related_name="+")
    from_date = models.DateField()
    to_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_date__isnull=True) | Q(to_date__gt=F("from_date")),
                name="suspension_period_valid",
            )
        ]


# The application's states and labels are ``lifecycle.APPLICATION``'s.
ApplicationStatus = text_choices("ApplicationStatus", lc.APPLICATION_LABELS, module=__name__)


class Application(models.Model):
    """An enterprise's application to a bank. It holds ``reserved_fen`` of the credit line
    while submitted (the request) or approved (the approved amount)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="applications"
    )
    bank = models.ForeignKey("enterprises.Bank", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    amount_fen = models.BigIntegerField()
    term_months = models.IntegerField()
    method = models.CharField(max_length=20, choices=Method.choices)
    purpose = models.CharField(max_length=300)
    first_time_borrower = models.BooleanField()
    status = models.CharField(max_length=12, choices=ApplicationStatus.choices)
    approved_amount_fen = models.BigIntegerField(null=True, blank=True)
    reserved_fen = models.BigIntegerField(default=0)
    reject_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_on = models.DateField(null=True, blank=True)  # the business date of the approval
    expires_on = models.DateField(null=True, blank=True)  # an approval lapses on this date

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="application_amount"),
            models.CheckConstraint(condition=Q(reserved_fen__gte=0), name="application_reserved"),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="application_term"),
            models.CheckConstraint(
                condition=Q(approved_amount_fen__isnull=True)
                | (Q(approved_amount_fen__gt=0) & Q(approved_amount_fen__lte=F("amount_fen"))),
                name="application_approved_le_request",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values), name="application_status"
            ),
        ]


# The loan's states and labels are ``lifecycle.LOAN``'s.
LoanStatus = text_choices("LoanStatus", lc.LOAN_LABELS, module=__name__)

# Loans the end of day ages: still owed to the bank, on its book (``lifecycle.LIVE``). CLOSED,
# RENEWED and WRITTEN_OFF loans have left the book: they are no longer aged, owe nothing and
# count in no exposure, but they stay in the statistics of what was lent.
LIVE_STATUSES = tuple(LoanStatus(s.value) for s in lc.LIVE)


class Loan(models.Model):
    """A disbursed loan: its terms (copied from the product and the rate in force on the
    signing date) and its state, which the end of day and repayments keep current."""

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="loan"
    )
    renewal_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewed_by"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="loans"
    )
    bank = models.ForeignKey("enterprises.Bank", on_delete=models.PROTECT, related_name="loans")
    district = models.ForeignKey(  # the enterprise's district when the loan was made
        "enterprises.District", on_delete=models.PROTECT, related_name="loans"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="loans")
    # terms
    amount_fen = models.BigIntegerField()
    term_months = models.IntegerField()
    method = models.CharField(max_length=20, choices=Method.choices)
    signing_date = models.DateField()
    disbursed_on = models.DateField()
    maturity_date = models.DateField()
    rate_type = models.CharField(max_length=40)
    rate_units = models.BigIntegerField()  # annual rate, 1e-8 units
    penalty_rate_units = models.BigIntegerField()
    grace_days = models.IntegerField()
    # the rulebook in force on the signing date, whose loan rules priced the loan
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")
    first_time_borrower = models.BooleanField(default=False)
    instalment_count = models.IntegerField()
    # state
    status = models.CharField(max_length=12, choices=LoanStatus.choices)
    outstanding_principal_fen = models.BigIntegerField()  # not yet repaid, due or not
    due_principal_fen = models.BigIntegerField(default=0)
    due_interest_fen = models.BigIntegerField(default=0)
    penalty_fen = models.BigIntegerField(default=0)
    accrued_interest_fen = models.BigIntegerField(default=0)  # this period, whole fen
    accrued_remainder = models.BigIntegerField(default=0)  # ... and 1/(360e8) fen
    accrued_paid_fen = models.BigIntegerField(default=0)  # accrued interest paid this period
    next_instalment = models.IntegerField(default=1)  # seq of the next instalment to fall due
    next_due_date = models.DateField(null=True, blank=True)
    next_principal_fen = models.BigIntegerField(default=0)
    oldest_unpaid_due_date = models.DateField(null=True, blank=True)
    days_past_due = models.IntegerField(default=0)
    category = models.CharField(max_length=16, choices=Category.choices, default="NORMAL")
    matured = models.BooleanField(default=False)
    last_eod_date = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)  # left the book (any way)
    # forbearance (a granted ``Deferral``): on days in [pause_from, pause_to) the end of day
    # accrues no interest (pause_accrual), charges no penalty (waive_penalty) and counts no
    # days past due (pause_dpd); a restructured loan is at least special mention up to
    # watch_until, which an overdue day pushes on by watch_days
    restructured = models.BooleanField(default=False)
    pause_from = models.DateField(null=True, blank=True)
    pause_to = models.DateField(null=True, blank=True)
    pause_accrual = models.BooleanField(default=False)
    waive_penalty = models.BooleanField(default=False)
    pause_dpd = models.BooleanField(default=False)
    watch_until = models.DateField(null=True, blank=True)
    watch_days = models.IntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status"], name="loan_status"),
            models.Index(fields=["bank", "district"], name="loan_bank_district"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="loan_amount_positive"),
            models.CheckConstraint(
                condition=Q(outstanding_principal_fen__gte=0)
                & Q(outstanding_principal_fen__lte=F("amount_fen")),
                name="loan_outstanding_range",
            ),
            models.CheckConstraint(
                condition=Q(due_principal_fen__gte=0)
                & Q(due_principal_fen__lte=F("outstanding_principal_fen")),
                name="loan_due_principal_range",
            ),
            models.CheckConstraint(
                condition=Q(due_interest_fen__gte=0)
                & Q(penalty_fen__gte=0)
                & Q(accrued_interest_fen__gte=0)
                & Q(accrued_remainder__gte=0)
                & Q(accrued_paid_fen__gte=0),
                name="loan_buckets_nonneg",
            ),
            models.CheckConstraint(condition=Q(days_past_due__gte=0), name="loan_dpd_nonneg"),
            models.CheckConstraint(
                condition=Q(status__in=LoanStatus.values), name="loan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=CATEGORY_CODES), name="loan_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"loan {self.pk} {self.amount_fen}"


class Instalment(models.Model):
    """One row of a loan's schedule. ``*_due_fen`` are the amounts the end of day charged when
    it fell due (after prepayments they can be lower than the schedule); ``*_paid_fen`` what
    repayments have met of them, oldest instalment first."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="instalments")
    seq = models.IntegerField()
    due_date = models.DateField()
    principal_fen = models.BigIntegerField()
    interest_fen = models.BigIntegerField()
    principal_due_fen = models.BigIntegerField(null=True, blank=True)
    interest_due_fen = models.BigIntegerField(null=True, blank=True)
    principal_paid_fen = models.BigIntegerField(default=0)
    interest_paid_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["loan_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="instalment_loan_seq"),
            models.CheckConstraint(
                condition=Q(principal_fen__gte=0)
                & Q(interest_fen__gte=0)
                & Q(principal_paid_fen__gte=0)
                & Q(interest_paid_fen__gte=0),
                name="instalment_nonneg",
            ),
        ]


# The deferral request's states and labels are ``lifecycle.DEFERRAL``'s.
DeferralStatus = text_choices("DeferralStatus", lc.DEFERRAL_LABELS, module=__name__)


class Deferral(models.Model):
    """A request to defer a loan under a deferral rule of the rulebook, and the bank's decision.
    The rule's terms are copied from the rulebook in force on the request's business date
    (``rulebook`` is its content hash); ``plan_before`` / ``plan_after`` are the instalments not
    yet fallen due before and after the re-cut ([seq, due date, principal, interest])."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="deferrals")
    status = models.CharField(max_length=12, choices=DeferralStatus.choices)
    rule_key = models.CharField(max_length=80)
    rulebook = models.CharField(max_length=80, blank=True)  # id@version#hash16 applied
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # its content hash
    window_from = models.DateField()
    window_to = models.DateField()
    defer_to = models.DateField()
    defers = models.CharField(max_length=30)
    interest_accrues = models.BooleanField()
    penalty_waived = models.BooleanField()
    dpd_paused = models.BooleanField()
    watch_days = models.IntegerField()
    reason = models.CharField(max_length=300)
    requested_on = models.DateField()  # business date
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_on = models.DateField(null=True, blank=True)  # business date of the grant/refusal
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refuse_reason = models.CharField(max_length=300, blank=True)
    plan_before = models.JSONField(default=list)
    plan_after = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeferralStatus.values), name="deferral_status_valid"
            ),
            models.UniqueConstraint(
                fields=["loan", "rule_key"],
                condition=Q(status__in=[s.value for s in lc.DEFERRAL_HOLDING]),
                name="deferral_one_per_loan_rule",
            ),
            models.CheckConstraint(condition=Q(watch_days__gte=0), name="deferral_watch_nonneg"),
        ]


class RepaymentKind(models.TextChoices):
    REPAYMENT = "REPAYMENT", _("repayment")
    REVERSAL = "REVERSAL", _("reversal of a mistaken repayment")
    RENEWAL = "RENEWAL", _("principal rolled into a renewal loan")


class Repayment(models.Model):
    """A repayment recorded by the bank, with its allocation. A reversal is a second row with
    the same figures that undoes the first (``reverses``); neither is ever edited."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    # the loan's bank, copied: a bank's reference (流水号) names one repayment of that bank
    bank = models.ForeignKey(
        "enterprises.Bank", on_delete=models.PROTECT, related_name="repayments", null=True
    )
    kind = models.CharField(max_length=10, choices=RepaymentKind.choices)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    paid_on = models.DateField()
    amount_fen = models.BigIntegerField()
    penalty_fen = models.BigIntegerField(default=0)
    interest_due_fen = models.BigIntegerField(default=0)  # interest due met
    interest_accrued_fen = models.BigIntegerField(default=0)  # interest accrued, not due, met
    principal_due_fen = models.BigIntegerField(default=0)
    principal_prepaid_fen = models.BigIntegerField(default=0)
    reference = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="repayment_positive"),
            models.CheckConstraint(
                condition=Q(
                    amount_fen=F("penalty_fen")
                    + F("interest_due_fen")
                    + F("interest_accrued_fen")
                    + F("principal_due_fen")
                    + F("principal_prepaid_fen")
                ),
                name="repayment_allocation_sums",
            ),
            models.CheckConstraint(
                condition=Q(penalty_fen__gte=0)
                & Q(interest_due_fen__gte=0)
                & Q(interest_accrued_fen__gte=0)
                & Q(principal_due_fen__gte=0)
                & Q(principal_prepaid_fen__gte=0),
                name="repayment_parts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(kind="REVERSAL", reverses__isnull=False)
                | (~Q(kind="REVERSAL") & Q(reverses__isnull=True)),
                name="repayment_reversal_link",
            ),
            models.UniqueConstraint(
                fields=["bank", "reference"],
                condition=Q(kind="REPAYMENT") & ~Q(reference=""),
                name="repayment_reference_unique_per_bank",
            ),
        ]


class EodRun(models.Model):
    """One end-of-day run: the date it aged the book to, and what it did."""

    run_date = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    loans = models.IntegerField()
    closed = models.IntegerField()
    matured = models.IntegerField()
    fell_due = models.IntegerField()
    expired_applications = models.IntegerField(default=0)
    categories = models.JSONField(default=dict)

    class Meta:
        ordering = ["run_date"]


class CommercialLoan(models.Model):
    """A commercial loan a bank made alongside (引导商业贷款): statistics, not fund-covered."""

    bank = models.ForeignKey("enterprises.Bank", on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="commercial_loans"
    )
    amount_fen = models.BigIntegerField()
    loan_date = models.DateField()
    term_months = models.IntegerField()
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="commercial_amount"),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="commercial_term"),
        ]
