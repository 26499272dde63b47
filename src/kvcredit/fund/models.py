"""The fund's books and records: pools, journal entries and postings (integer fen), contributions,
claims, recoveries, service fees, bridge loans and the circuit breaker with its history.

Journal entries and postings are records of fact: the database refuses UPDATE and DELETE on them
(triggers on both backends), and on PostgreSQL a deferred constraint trigger checks at commit that
each entry's postings sum to zero. A correction is a reversing entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvcredit.enterprises.models import Bank, District, Enterprise
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import settlement as ds
from kvcredit.fund.domain.ledger import ACCOUNT_TYPES, PoolAccount

USER = settings.AUTH_USER_MODEL


class AccountKind(models.TextChoices):
    BANK = PoolAccount.BANK.value, _("pool bank account")
    BRIDGE_LOANS = PoolAccount.BRIDGE_LOANS.value, _("bridge loans outstanding")
    CITY_CONTRIBUTIONS = PoolAccount.CITY_CONTRIBUTIONS.value, _("city contributions")
    DISTRICT_CONTRIBUTIONS = PoolAccount.DISTRICT_CONTRIBUTIONS.value, _("district contributions")
    COMPENSATION_PAID = PoolAccount.COMPENSATION_PAID.value, _("compensation paid")
    RECOVERIES = PoolAccount.RECOVERIES.value, _("recoveries")
    SERVICE_FEES = PoolAccount.SERVICE_FEES.value, _("service fees")
    BANK_SHARE_PAYABLE = PoolAccount.BANK_SHARE_PAYABLE.value, _("recovered money owed to banks")
    SUBSIDIES_PAID = PoolAccount.SUBSIDIES_PAID.value, _("interest subsidies paid")
    SUBSIDY_BUDGET = PoolAccount.SUBSIDY_BUDGET.value, _("district budget for interest subsidies")
    DUE_FROM_PARTNER = PoolAccount.DUE_FROM_PARTNER.value, _("owed by a loss-sharing partner")
    PARTNER_SHARES_PAYABLE = (
        PoolAccount.PARTNER_SHARES_PAYABLE.value,
        _("partners' shares owed to banks"),
    )


assert set(AccountKind.values) == {k.value for k in ACCOUNT_TYPES}


class EntryKind(models.TextChoices):
    CONTRIBUTION = "CONTRIBUTION", _("contribution")
    COMPENSATION = "COMPENSATION", _("compensation")
    RECOVERY = "RECOVERY", _("recovery")
    SERVICE_FEE = "SERVICE_FEE", _("service fee")
    BRIDGE_LOAN = "BRIDGE_LOAN", _("bridge loan")
    BRIDGE_REPAYMENT = "BRIDGE_REPAYMENT", _("bridge loan repayment")
    SUBSIDY = "SUBSIDY", _("interest subsidy")
    PARTNER_SETTLEMENT = "PARTNER_SETTLEMENT", _("partner settlement")
    REVERSAL = "REVERSAL", _("reversal")


class Contributor(models.TextChoices):
    CITY = "CITY", _("city")
    DISTRICT = "DISTRICT", _("district")


class Pool(models.Model):
    """A district's pool (属地原则): its target size and its chart of accounts."""

    district = models.OneToOneField(District, on_delete=models.PROTECT, related_name="fund_pool")
    target_fen = models.BigIntegerField(default=0)
    opened_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(target_fen__gte=0), name="pool_target_nonneg")
        ]

    def __str__(self) -> str:
        return f"pool {self.district.code}"


class LedgerAccount(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    # POOL:<district>:<KIND>, or POOL:<district>:<KIND>:<party> for a per-party kind (one
    # account per loss-sharing partner: several accounts of that kind in one pool)
    code = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AccountKind.values), name="ledger_account_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class JournalEntry(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="entries")
    entry_date = models.DateField()
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    description = models.CharField(max_length=300)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["entry_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="journal_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind="REVERSAL"),
                name="journal_entry_only_reversals_reverse",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.entry_date} {self.description}"


class Posting(models.Model):
    """Debit positive, credit negative; an entry's postings sum to zero."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount_fen = models.BigIntegerField()

    class Meta:
        ordering = ["entry_id", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_fen=0), name="posting_not_zero")]


class Contribution(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="contributions")
    contributor = models.CharField(max_length=10, choices=Contributor.choices)
    amount_fen = models.BigIntegerField()
    paid_date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["paid_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="contribution_positive"),
            models.CheckConstraint(
                condition=Q(contributor__in=Contributor.values), name="contribution_who_valid"
            ),
        ]


class FeeReduction(models.Model):
    """``percent_off`` (in basis points of a percent: 20 % = 2000) of service fees charged in
    [valid_from, valid_to). A dated rule: fees already charged are never rewritten."""

    valid_from = models.DateField()
    valid_to = models.DateField(null=True)
    percent_off_bp = models.IntegerField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_off_bp__gte=0) & Q(percent_off_bp__lte=10_000),
                name="fee_reduction_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="fee_reduction_period_valid",
            ),
        ]


class BreakerLevel(models.TextChoices):
    NORMAL = "NORMAL", _("normal")
    WARNING = "WARNING", _("warning")
    SUSPENDED = "SUSPENDED", _("suspended")


class Breaker(models.Model):
    """The circuit breaker of one bank in one district: the state now and the last figures."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="fund_breakers")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="fund_breakers")
    state = models.CharField(max_length=10, choices=BreakerLevel.choices)
    as_of_date = models.DateField(null=True)
    outstanding_fen = models.BigIntegerField(default=0)
    non_performing_fen = models.BigIntegerField(default=0)
    compensated_fen = models.BigIntegerField(default=0)
    lent_fen = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["bank_id", "district_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "district"], name="breaker_bank_district"),
            models.CheckConstraint(
                condition=Q(state__in=BreakerLevel.values), name="breaker_state_valid"
            ),
        ]


class BreakerChange(models.Model):
    """Every change of a breaker's state, with the figures and who or what changed it."""

    breaker = models.ForeignKey(Breaker, on_delete=models.PROTECT, related_name="changes")
    from_state = models.CharField(max_length=10, choices=BreakerLevel.choices)
    to_state = models.CharField(max_length=10, choices=BreakerLevel.choices)
    as_of_date = models.DateField()
    npl_ratio = models.CharField(max_length=20)  # percent, two decimals: "8.25"
    compensation_ratio = models.CharField(max_length=20)
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    changed_at = models.DateTimeField()
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # rules applied

    class Meta:
        ordering = ["breaker_id", "id"]


class BridgeLoan(models.Model):
    """An emergency bridge loan (应急转贷) from a pool: its term, fee and repayments."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="bridge_loans")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", null=True)
    purpose = models.CharField(max_length=200, blank=True)
    principal_fen = models.BigIntegerField()
    fee_fen = models.BigIntegerField()
    term_days = models.IntegerField()
    lent_on = models.DateField()
    due_on = models.DateField()
    repaid_principal_fen = models.BigIntegerField(default=0)
    repaid_fee_fen = models.BigIntegerField(default=0)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # rules applied

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(principal_fen__gt=0), name="bridge_positive"),
            models.CheckConstraint(condition=Q(fee_fen__gte=0), name="bridge_fee_nonneg"),
            models.CheckConstraint(condition=Q(term_days__gt=0), name="bridge_term_positive"),
            models.CheckConstraint(
                condition=Q(repaid_principal_fen__gte=0)
                & Q(repaid_principal_fen__lte=F("principal_fen")),
                name="bridge_principal_repaid_range",
            ),
            models.CheckConstraint(
                condition=Q(repaid_fee_fen__gte=0) & Q(repaid_fee_fen__lte=F("fee_fen")),
                name="bridge_fee_repaid_range",
            ),
        ]

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen - self.repaid_principal_fen

    @property
    def fee_due_fen(self) -> int:
        return self.fee_fen - self.repaid_fee_fen


class BridgeRepayment(models.Model):
    bridge = models.ForeignKey(BridgeLoan, on_delete=models.PROTECT, related_name="repayments")
    amount_fen = models.BigIntegerField()
    fee_part_fen = models.BigIntegerField()
    principal_part_fen = models.BigIntegerField()
    repaid_on = models.DateField()
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen=F("fee_part_fen") + F("principal_part_fen"))
                & Q(amount_fen__gt=0),
                name="bridge_repayment_parts_add_up",
            )
        ]


# Built from the claim lifecycle (``fund.domain.claim``): each code and label is defined there.
ClaimStatus = models.TextChoices(  # type: ignore[misc]
    "ClaimStatus", [(s.name, (s.value, _(dc.CLAIM_LABELS[s]))) for s in dc.ClaimStatus]
)


class Claim(models.Model):
    """A bank's compensation claim on one loan. At most one claim per loan that is not
    rejected (a unique constraint), so a loan is compensated at most once."""

    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="fund_claims")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="fund_claims")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    registered_on = models.DateField()
    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    filed_on = models.DateField(null=True)
    # the rulebook the claim's amount was decided under (at filing); payment and recoveries
    # apply the same rules
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # rules applied
    days_overdue = models.IntegerField(default=0)  # when filed
    # The overdue principal when filed; once paid, the overdue principal compensated: the
    # loan's at the moment of payment if lower (``fund.domain.claim.payment``).
    overdue_principal_fen = models.BigIntegerField(default=0)
    # The fund's share of the overdue principal: fixed when filed, lowered at payment to the
    # share of the overdue principal then if the borrower repaid part of it meanwhile.
    amount_fen = models.BigIntegerField(default=0)
    filed_amount_fen = models.BigIntegerField(default=0)  # the amount as filed, kept
    # The rules applied at the first payment (``fund.domain.compensation``): the fund's share
    # of the loss before any cap, which caps bound the amount, the stages it is paid in and
    # what is paid so far (the stages' rows are ``stages``).
    share_fen = models.BigIntegerField(default=0)
    limited_by = models.CharField(max_length=60, blank=True)  # Limit codes, comma separated
    stages_total = models.IntegerField(default=1)
    stages_paid = models.IntegerField(default=0)
    # the trustee recorded that the recovery proceedings concluded (``conclude_recovery``): a
    # last stage waiting for them is payable from that day
    recovery_concluded_on = models.DateField(null=True)
    paid_fen = models.BigIntegerField(default=0)
    partner_recovered_fen = models.BigIntegerField(default=0)  # partners' parts of recoveries
    checked_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    waiting_since = models.DateField(null=True)  # approved, but the pool cannot cover it
    paid_on = models.DateField(null=True)
    payment_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recovered_fen = models.BigIntegerField(default=0)
    pool_recovered_fen = models.BigIntegerField(default=0)
    bank_recovered_fen = models.BigIntegerField(default=0)
    closed_on = models.DateField(null=True)
    note = models.CharField(max_length=500, blank=True)

    @property
    def waiting_for_funds(self) -> bool:
        return dc.is_waiting(self.status, self.waiting_since)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=~Q(status=dc.ClaimStatus.REJECTED),
                name="claim_one_per_loan",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0) & Q(amount_fen__lte=F("overdue_principal_fen")),
                name="claim_amount_within_overdue_principal",
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__lte=F("filed_amount_fen")),
                name="claim_amount_within_filed_amount",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("checked_by")),
                name="claim_maker_is_not_checker",
            ),
            models.CheckConstraint(
                condition=Q(
                    recovered_fen=F("pool_recovered_fen")
                    + F("bank_recovered_fen")
                    + F("partner_recovered_fen")
                ),
                name="claim_recovery_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(stages_paid__gte=0)
                & Q(stages_paid__lte=F("stages_total"))
                & Q(paid_fen__gte=0)
                & Q(paid_fen__lte=F("amount_fen")),
                name="claim_stages_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(payment_entry__isnull=True) | Q(paid_on__isnull=False),
                name="claim_payment_dated",
            ),
        ]


class ClaimEvent(models.Model):
    """Every step of a claim's life, who took it and when."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    on_date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["claim_id", "id"]


class Recovery(models.Model):
    """An amount recovered from the borrower, shared pool : bank as compensation was paid."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="recoveries")
    amount_fen = models.BigIntegerField()
    pool_share_fen = models.BigIntegerField()
    bank_share_fen = models.BigIntegerField()
    partner_share_fen = models.BigIntegerField(default=0)  # the loss-sharing partners' parts
    recovered_on = models.DateField()
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    partner_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0)
                & Q(pool_share_fen__gte=0)
                & Q(bank_share_fen__gte=0)
                & Q(partner_share_fen__gte=0)
                & Q(amount_fen=F("pool_share_fen") + F("bank_share_fen") + F("partner_share_fen")),
                name="recovery_parts_add_up",
            )
        ]


class ClaimStage(models.Model):
    """One stage of a claim's payment (``fund.domain.compensation.Stage``): its part of the
    compensation (the parts add up to the claim's amount), the first day it may be paid, and
    once paid its entry and the rulebook it was paid under."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="stages")
    seq = models.IntegerField()  # 0-based
    share = models.CharField(max_length=20)  # of the compensation, exact decimal text
    amount_fen = models.BigIntegerField()
    due_on = models.DateField()
    paid_on = models.DateField(null=True)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    paid_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    rulebook_hash = models.CharField(max_length=64, blank=True)  # of the rulebook that fixed it
    # what it waits for beyond ``due_on`` (the end of its lock-in, or its not-before date):
    # the recovery proceedings concluded; its amount is then settled when paid
    after_recovery_concluded = models.BooleanField(default=False)
    not_before = models.DateField(null=True)

    class Meta:
        ordering = ["claim_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "seq"], name="claim_stage_seq"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="claim_stage_nonneg"),
            models.CheckConstraint(
                condition=Q(paid_on__isnull=True) | Q(paid_on__gte=F("due_on")),
                name="claim_stage_paid_after_due",
            ),
        ]


class LossShare(models.Model):
    """One party's part of a claim's loss (``recovery`` null) or of an amount recovered, as the
    rulebook's loss sharing splits it (``fund.domain.sharing.split``: the parts add up to the
    whole). The fund's part is the compensation (or the pool's recovery); a partner's part is
    posted to its own account (``DUE_FROM_PARTNER:<party>``); the bank's stays on its book."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="loss_shares")
    recovery = models.ForeignKey(
        Recovery, on_delete=models.PROTECT, null=True, related_name="shares"
    )
    party = models.CharField(max_length=40)  # the rulebook's party id
    name = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    share = models.CharField(max_length=20)  # exact decimal text
    amount_fen = models.BigIntegerField()
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, related_name="+")
    rulebook_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["claim_id", "recovery_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="loss_share_nonneg"),
        ]


class SettlementDirection(models.TextChoices):
    RECEIVED = ds.Direction.RECEIVED.value, _("paid in by the partner")
    PAID_OUT = ds.Direction.PAID_OUT.value, _("paid on by the fund")
    REFUNDED = ds.Direction.REFUNDED.value, _("paid back to the partner")


class PartnerSettlement(models.Model):
    """A loss-sharing partner's part settled in cash (``fund.domain.settlement``): the partner
    paid in what it owed (RECEIVED), or the fund paid that part on (PAID_OUT). ``reference``
    is unique: a retried request finds its settlement and posts nothing again."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="partner_settlements")
    party = models.CharField(max_length=40)  # the rulebook's party id
    direction = models.CharField(max_length=10, choices=SettlementDirection.choices)
    amount_fen = models.BigIntegerField()
    settled_on = models.DateField()
    reference = models.CharField(max_length=100, unique=True)
    note = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    rulebook_hash = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["settled_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="partner_settlement_positive"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=SettlementDirection.values),
                name="partner_settlement_direction_valid",
            ),
        ]


class ServiceFee(models.Model):
    """The service fee charged on a loan, once, at the rate and reduction in force that day."""

    loan = models.OneToOneField("lending.Loan", on_delete=models.PROTECT, related_name="fund_fee")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="fees")
    charged_on = models.DateField()
    base_fen = models.BigIntegerField()
    rate = models.CharField(max_length=20)  # the yearly rate applied, as exact decimal text
    reduction = models.ForeignKey(FeeReduction, on_delete=models.PROTECT, null=True)
    # the rulebook's cut applied (a dated reduction, or a waiver), as published, and who pays
    cut = models.CharField(max_length=20, blank=True)  # the share taken off, exact decimal text
    cut_reason = models.CharField(max_length=200, blank=True)
    waived = models.BooleanField(default=False)
    payer = models.CharField(max_length=12, default="BANK")
    amount_fen = models.BigIntegerField()
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # rules applied

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="service_fee_nonneg"),
            models.CheckConstraint(
                condition=Q(entry__isnull=False) | Q(amount_fen=0), name="service_fee_booked"
            ),
        ]


class BreakerReading(models.Model):
    """A breaker's figures at the close of one business day (the breaker page's chart over
    time). Written by the day (``kvcredit.day``) after the breakers moved; never edited."""

    breaker = models.ForeignKey(Breaker, on_delete=models.PROTECT, related_name="readings")
    as_of_date = models.DateField()
    state = models.CharField(max_length=10, choices=BreakerLevel.choices)
    outstanding_fen = models.BigIntegerField()
    non_performing_fen = models.BigIntegerField()
    compensated_fen = models.BigIntegerField()
    lent_fen = models.BigIntegerField()

    class Meta:
        ordering = ["breaker_id", "as_of_date"]
        constraints = [
            models.UniqueConstraint(fields=["breaker", "as_of_date"], name="breaker_reading_day")
        ]


class Subsidy(models.Model):
    """An interest subsidy (贴息) paid on one instalment under one rule, once: computed from the
    interest the enterprise paid on it (``lending.domain.subsidy``), booked in the district
    pool's books, with the rulebook it applied."""

    instalment = models.ForeignKey(
        "lending.Instalment", on_delete=models.PROTECT, related_name="subsidies"
    )
    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="subsidies")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="subsidies")
    rule_key = models.CharField(max_length=80)
    rulebook = models.CharField(max_length=80, blank=True)  # id@version#hash16 applied
    rulebook_hash = models.CharField(max_length=64, blank=True, default="")  # its content hash
    payer = models.CharField(max_length=10)  # POOL or BUDGET
    payee = models.CharField(max_length=12)  # ENTERPRISE or BANK
    period_from = models.DateField()
    due_date = models.DateField()
    days_in_period = models.IntegerField()
    days_in_window = models.IntegerField()
    interest_paid_fen = models.BigIntegerField()
    ratio = models.CharField(max_length=40)  # the share of the interest, exact (a/b)
    amount_fen = models.BigIntegerField()
    paid_on = models.DateField()
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    # taken back: the repayment that paid the instalment's interest was reversed
    clawed_back_on = models.DateField(null=True)
    clawback_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instalment", "rule_key"],
                condition=Q(clawed_back_on__isnull=True),
                name="subsidy_once_per_instalment_rule",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="subsidy_positive"),
            models.CheckConstraint(
                condition=Q(amount_fen__lte=F("interest_paid_fen")), name="subsidy_le_interest"
            ),
        ]
