"""The console's lists: for each, its filters (choices from the lifecycles' enums) and its
table (columns, sorting, export). ``console.lists.listing`` serves them."""

from __future__ import annotations

from typing import Any

import django_filters as df
import django_tables2 as tables
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kvcredit.accounts.models import OrgKind, User
from kvcredit.console.lists import (
    DayColumn,
    GradeFilter,
    ListFilter,
    ListTable,
    MoneyColumn,
    NumberColumn,
    TextColumn,
    YuanFilter,
    banks_of,
    date_input,
    districts_of,
    search_q,
    yes_no_filter,
)
from kvcredit.console.templatetags.console import yuan
from kvcredit.enterprises.models import Bank, CreditLine, District
from kvcredit.fund.models import (
    BridgeLoan,
    Claim,
    ClaimStatus,
    Contribution,
    Contributor,
    ServiceFee,
)
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.models import (
    Application,
    ApplicationStatus,
    Category,
    Loan,
    LoanStatus,
    Rate,
    Repayment,
    RepaymentKind,
)

Q_LABEL = _("Name, USCC or number")


def _q(paths: list[str], numbers: list[str]) -> df.CharFilter:
    return df.CharFilter(label=Q_LABEL, method=search_q(paths, numbers), max_length=100)


def _district(path: str) -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(field_name=path, label=_("District"), queryset=districts_of)


def _bank(path: str) -> df.ModelChoiceFilter:
    return df.ModelChoiceFilter(field_name=path, label=_("Bank"), queryset=banks_of)


def _from(path: str, label: Any = None) -> df.DateFilter:
    return df.DateFilter(
        field_name=path, lookup_expr="gte", label=label or _("From"), widget=date_input()
    )


def _to(path: str, label: Any = None) -> df.DateFilter:
    return df.DateFilter(
        field_name=path, lookup_expr="lte", label=label or _("To"), widget=date_input()
    )


def _min(path: str) -> YuanFilter:
    return YuanFilter(field_name=path, lookup_expr="gte", label=_("Amount from (yuan)"))


def _max(path: str) -> YuanFilter:
    return YuanFilter(field_name=path, lookup_expr="lte", label=_("Amount to (yuan)"))


def loan_url(record: Any) -> str:
    return reverse(
        "console:loan", args=[record.loan_id if hasattr(record, "loan_id") else record.pk]
    )


def enterprise_url(record: Any) -> str:
    return reverse("console:enterprise", args=[record.enterprise_id])


# -- loans ------------------------------------------------------------------------------------
class LoanFilter(ListFilter):
    q = _q(["enterprise__"], ["pk"])
    status = df.ChoiceFilter(label=_("Status"), choices=LoanStatus.choices)
    category = df.ChoiceFilter(label=_("Category"), choices=Category.choices)
    district = _district("district")
    bank = _bank("bank")
    grade = GradeFilter()
    date_from = _from("disbursed_on", _("Disbursed from"))
    date_to = _to("disbursed_on", _("Disbursed to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")

    class Meta:
        model = Loan
        fields: list[str] = []


class LoanTable(ListTable):
    id = NumberColumn(verbose_name=_("No."), link=lambda r: reverse("console:loan", args=[r.pk]))
    enterprise = TextColumn(
        accessor="enterprise__name", verbose_name=_("Enterprise"), link=enterprise_url
    )
    uscc = tables.Column(accessor="enterprise__uscc", verbose_name=_("USCC"))
    district = TextColumn(accessor="district__name", verbose_name=_("District"))
    bank = TextColumn(accessor="bank__name", verbose_name=_("Bank"))
    amount_fen = MoneyColumn(verbose_name=_("Amount (yuan)"))
    outstanding_principal_fen = MoneyColumn(verbose_name=_("Outstanding (yuan)"))
    disbursed_on = DayColumn(verbose_name=_("Disbursed"))
    maturity_date = DayColumn(verbose_name=_("Maturity"))
    days_past_due = NumberColumn(verbose_name=_("Days past due"))
    category = tables.Column(verbose_name=_("Category"))
    status = tables.Column(verbose_name=_("Status"))

    def render_outstanding_principal_fen(self, value: Any, record: Any) -> str:
        return "—" if lc.is_written_off(record.status) else yuan(value)

    def value_outstanding_principal_fen(self, value: Any, record: Any) -> Any:
        return None if lc.is_written_off(record.status) else value

    class Meta(ListTable.Meta):
        model = Loan
        empty_text = _("No loan.")
        fields: list[str] = []
        sequence = (
            "id", "enterprise", "uscc", "district", "bank", "amount_fen",
            "outstanding_principal_fen", "disbursed_on", "maturity_date", "days_past_due",
            "category", "status",
        )  # fmt: skip


# -- applications -----------------------------------------------------------------------------
class ApplicationFilter(ListFilter):
    q = _q(["enterprise__"], ["pk", "loan__pk"])
    status = df.ChoiceFilter(label=_("Status"), choices=ApplicationStatus.choices)
    district = _district("enterprise__district")
    bank = _bank("bank")
    grade = GradeFilter()
    date_from = _from("submitted_at__date", _("Applied from"))
    date_to = _to("submitted_at__date", _("Applied to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")

    class Meta:
        model = Application
        fields: list[str] = []


class ApplicationTable(ListTable):
    id = NumberColumn(verbose_name=_("No."))
    enterprise = TextColumn(
        accessor="enterprise__name", verbose_name=_("Enterprise"), link=enterprise_url
    )
    uscc = tables.Column(accessor="enterprise__uscc", verbose_name=_("USCC"))
    district = TextColumn(accessor="enterprise__district__name", verbose_name=_("District"))
    bank = TextColumn(accessor="bank__name", verbose_name=_("Bank"))
    amount_fen = MoneyColumn(verbose_name=_("Amount (yuan)"))
    approved_amount_fen = MoneyColumn(verbose_name=_("Approved amount (yuan)"))
    term_months = NumberColumn(verbose_name=_("Term (months)"))
    submitted_at = DayColumn(verbose_name=_("Applied on"))
    status = tables.Column(verbose_name=_("Status"))
    loan = NumberColumn(
        accessor="loan__pk",
        verbose_name=_("Loan"),
        link=lambda r: reverse("console:loan", args=[r.loan.pk]),
        orderable=False,
    )
    reject_reason = tables.Column(verbose_name=_("Reason"), orderable=False)

    class Meta(ListTable.Meta):
        model = Application
        fields: list[str] = []
        sequence = (
            "id", "enterprise", "uscc", "district", "bank", "amount_fen", "approved_amount_fen",
            "term_months", "submitted_at", "status", "loan", "reject_reason",
        )  # fmt: skip


# -- claims -----------------------------------------------------------------------------------
class ClaimFilter(ListFilter):
    q = _q(["loan__enterprise__"], ["pk", "loan_id"])
    status = df.ChoiceFilter(label=_("Status"), choices=ClaimStatus.choices)
    district = _district("pool__district")
    bank = _bank("bank")
    grade = GradeFilter(path="loan__enterprise__credit_line__")
    date_from = _from("registered_on", _("Registered from"))
    date_to = _to("registered_on", _("Registered to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")

    class Meta:
        model = Claim
        fields: list[str] = []


class ClaimTable(ListTable):
    id = NumberColumn(verbose_name=_("No."), link=lambda r: reverse("console:claim", args=[r.pk]))
    loan = NumberColumn(accessor="loan_id", verbose_name=_("Loan"), link=loan_url)
    enterprise = TextColumn(accessor="loan__enterprise__name", verbose_name=_("Enterprise"))
    bank = TextColumn(accessor="bank__name", verbose_name=_("Bank"))
    district = TextColumn(accessor="pool__district__name", verbose_name=_("District"))
    registered_on = DayColumn(verbose_name=_("Registered"))
    days_overdue = NumberColumn(verbose_name=_("Days overdue"))
    amount_fen = MoneyColumn(verbose_name=_("Claimed (yuan)"))
    recovered_fen = MoneyColumn(verbose_name=_("Recovered (yuan)"))
    status = tables.Column(verbose_name=_("Status"))

    def render_amount_fen(self, value: Any, record: Any) -> str:
        return yuan(value) if record.filed_on else "—"

    def value_amount_fen(self, value: Any, record: Any) -> Any:
        return value if record.filed_on else None

    def render_status(self, value: Any, record: Any) -> str:
        waiting = _("(waiting for funds)") if record.waiting_for_funds else ""
        return f"{value}{waiting}"

    class Meta(ListTable.Meta):
        model = Claim
        empty_text = _("No claim.")
        fields: list[str] = []
        sequence = (
            "id", "loan", "enterprise", "bank", "district", "registered_on", "days_overdue",
            "amount_fen", "recovered_fen", "status",
        )  # fmt: skip


# -- credit lines (the enterprises) -----------------------------------------------------------
class CreditLineFilter(ListFilter):
    q = df.CharFilter(label=_("Name or USCC"), method=search_q(["enterprise__"], []))
    district = _district("enterprise__district")
    grade = GradeFilter(path="")
    date_from = _from("valid_until", _("Valid until, from"))
    date_to = _to("valid_until", _("Valid until, to"))
    amount_min = YuanFilter(field_name="limit_fen", lookup_expr="gte", label=_("Limit from (yuan)"))
    amount_max = YuanFilter(field_name="limit_fen", lookup_expr="lte", label=_("Limit to (yuan)"))

    class Meta:
        model = CreditLine
        fields: list[str] = []


class CreditLineTable(ListTable):
    enterprise = TextColumn(
        accessor="enterprise__name", verbose_name=_("Enterprise"), link=enterprise_url
    )
    uscc = tables.Column(accessor="enterprise__uscc", verbose_name=_("USCC"))
    district = TextColumn(accessor="enterprise__district__name", verbose_name=_("District"))
    grade = tables.Column(accessor="evaluation__grade", verbose_name=_("Grade"), default="")
    limit_fen = MoneyColumn(verbose_name=_("Limit (yuan)"))
    used_fen = MoneyColumn(verbose_name=_("Used (yuan)"))
    available_fen = MoneyColumn(verbose_name=_("Available (yuan)"), orderable=False)
    valid_until = DayColumn(verbose_name=_("Valid until"))

    def _grade(self, record: Any) -> str:
        ev = record.evaluation
        if ev is None or not ev.eligible:
            return str(_("not rated"))
        return ev.grade or str(_("qualified"))

    def render_grade(self, record: Any) -> str:
        return self._grade(record)

    def value_grade(self, record: Any) -> str:
        return self._grade(record)

    class Meta(ListTable.Meta):
        model = CreditLine
        empty_text = _("No enterprise matches.")
        fields: list[str] = []
        sequence = (
            "enterprise", "uscc", "district", "grade", "limit_fen", "used_fen",
            "available_fen", "valid_until",
        )  # fmt: skip


CreditLineTable.base_columns["grade"].empty_values = ()


# -- fees -------------------------------------------------------------------------------------
class FeeFilter(ListFilter):
    q = _q(["loan__enterprise__"], ["loan_id"])
    district = _district("pool__district")
    bank = _bank("loan__bank")
    date_from = _from("charged_on", _("Charged from"))
    date_to = _to("charged_on", _("Charged to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")

    class Meta:
        model = ServiceFee
        fields: list[str] = []


class FeeTable(ListTable):
    loan = NumberColumn(accessor="loan_id", verbose_name=_("Loan"), link=loan_url)
    enterprise = TextColumn(accessor="loan__enterprise__name", verbose_name=_("Enterprise"))
    bank = TextColumn(accessor="loan__bank__name", verbose_name=_("Bank"))
    district = TextColumn(accessor="pool__district__name", verbose_name=_("District"))
    charged_on = DayColumn(verbose_name=_("Charged on"))
    base_fen = MoneyColumn(verbose_name=_("Base (yuan)"))
    rate = tables.Column(verbose_name=_("Rate"))
    reduction = tables.Column(
        accessor="reduction__percent_off_bp", verbose_name=_("Reduction (%)"), default=""
    )
    amount_fen = MoneyColumn(verbose_name=_("Fee (yuan)"))
    cut = tables.Column(accessor="pk", verbose_name=_("Cut applied"), orderable=False)
    payer = tables.Column(verbose_name=_("Paid by"))

    def render_cut(self, record: Any) -> str:
        """The rulebook's waiver or cut applied to the fee, with its reason."""
        from kvcredit.fund import applied

        if record.waived:
            text = str(_("waived"))
        elif record.cut:
            text = str(_("%(cut)s off") % {"cut": record.cut})
        else:
            text = ""
        reason = applied.fee_cut_reason(record)
        return f"{text} · {reason}" if text and reason else text

    def value_cut(self, record: Any) -> str:
        return self.render_cut(record)

    def render_payer(self, value: Any) -> str:
        return str(_("the enterprise") if value == "ENTERPRISE" else _("the bank"))

    def value_payer(self, value: Any) -> str:
        return self.render_payer(value)

    def render_rate(self, value: Any) -> str:
        from kvcredit.console.templatetags.console import rate_percent

        return rate_percent(value)

    def value_rate(self, value: Any) -> str:
        return self.render_rate(value)

    def render_reduction(self, value: Any) -> str:
        from kvcredit.console.templatetags.console import bp_as_percent

        return bp_as_percent(value)

    def value_reduction(self, value: Any) -> str:
        return self.render_reduction(value)

    class Meta(ListTable.Meta):
        model = ServiceFee
        empty_text = _("No fee yet.")
        fields: list[str] = []
        sequence = (
            "loan", "enterprise", "bank", "district", "charged_on", "base_fen", "rate",
            "reduction", "amount_fen", "cut", "payer",
        )  # fmt: skip


# -- contributions ----------------------------------------------------------------------------
class ContributionFilter(ListFilter):
    contributor = df.ChoiceFilter(label=_("Contributor"), choices=Contributor.choices)
    district = _district("pool__district")
    date_from = _from("paid_date", _("Paid from"))
    date_to = _to("paid_date", _("Paid to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")
    reference = df.CharFilter(label=_("Reference"), lookup_expr="icontains", max_length=100)

    class Meta:
        model = Contribution
        fields: list[str] = []


class ContributionTable(ListTable):
    id = NumberColumn(verbose_name=_("No."))
    district = TextColumn(accessor="pool__district__name", verbose_name=_("District"))
    contributor = tables.Column(verbose_name=_("Contributor"))
    paid_date = DayColumn(verbose_name=_("Paid on"))
    amount_fen = MoneyColumn(verbose_name=_("Amount (yuan)"))
    reference = TextColumn(verbose_name=_("Reference"), default="")

    class Meta(ListTable.Meta):
        model = Contribution
        fields: list[str] = []
        sequence = ("id", "district", "contributor", "paid_date", "amount_fen", "reference")


# -- repayments -------------------------------------------------------------------------------
class RepaymentFilter(ListFilter):
    q = _q(["loan__enterprise__"], ["loan_id", "pk"])
    kind = df.ChoiceFilter(label=_("Kind"), choices=RepaymentKind.choices)
    district = _district("loan__district")
    bank = _bank("loan__bank")
    date_from = _from("paid_on", _("Repaid from"))
    date_to = _to("paid_on", _("Repaid to"))
    amount_min = _min("amount_fen")
    amount_max = _max("amount_fen")
    reference = df.CharFilter(label=_("Reference"), lookup_expr="icontains", max_length=100)

    class Meta:
        model = Repayment
        fields: list[str] = []


class RepaymentTable(ListTable):
    id = NumberColumn(verbose_name=_("No."))
    loan = NumberColumn(accessor="loan_id", verbose_name=_("Loan"), link=loan_url)
    enterprise = TextColumn(accessor="loan__enterprise__name", verbose_name=_("Enterprise"))
    bank = TextColumn(accessor="loan__bank__name", verbose_name=_("Bank"))
    paid_on = DayColumn(verbose_name=_("Repaid on"))
    kind = tables.Column(verbose_name=_("Kind"))
    amount_fen = MoneyColumn(verbose_name=_("Amount (yuan)"))
    principal = MoneyColumn(
        accessor="principal_due_fen", verbose_name=_("Principal (yuan)"), orderable=False
    )
    interest = MoneyColumn(
        accessor="interest_due_fen", verbose_name=_("Interest (yuan)"), orderable=False
    )
    penalty_fen = MoneyColumn(verbose_name=_("Penalty (yuan)"))
    reference = TextColumn(verbose_name=_("Reference"), default="")

    def value_principal(self, record: Any) -> int:
        return int(record.principal_due_fen + record.principal_prepaid_fen)

    def render_principal(self, record: Any) -> str:
        return yuan(self.value_principal(record))

    def value_interest(self, record: Any) -> int:
        return int(record.interest_due_fen + record.interest_accrued_fen)

    def render_interest(self, record: Any) -> str:
        return yuan(self.value_interest(record))

    class Meta(ListTable.Meta):
        model = Repayment
        fields: list[str] = []
        sequence = (
            "id", "loan", "enterprise", "bank", "paid_on", "kind", "amount_fen", "principal",
            "interest", "penalty_fen", "reference",
        )  # fmt: skip


for _name in ("principal", "interest"):
    RepaymentTable.base_columns[_name].empty_values = ()


# -- bridge loans -----------------------------------------------------------------------------
class BridgeLoanFilter(ListFilter):
    q = _q(["enterprise__"], ["pk"])
    district = _district("pool__district")
    bank = _bank("bank")
    date_from = _from("lent_on", _("Lent from"))
    date_to = _to("lent_on", _("Lent to"))
    amount_min = _min("principal_fen")
    amount_max = _max("principal_fen")

    class Meta:
        model = BridgeLoan
        fields: list[str] = []


class BridgeLoanTable(ListTable):
    id = NumberColumn(verbose_name=_("No."))
    enterprise = TextColumn(accessor="enterprise__name", verbose_name=_("Enterprise"))
    district = TextColumn(accessor="pool__district__name", verbose_name=_("District"))
    bank = TextColumn(accessor="bank__name", verbose_name=_("Bank"), default="")
    lent_on = DayColumn(verbose_name=_("Lent on"))
    due_on = DayColumn(verbose_name=_("Due on"))
    principal_fen = MoneyColumn(verbose_name=_("Principal (yuan)"))
    fee_fen = MoneyColumn(verbose_name=_("Fee (yuan)"))
    repaid_principal_fen = MoneyColumn(verbose_name=_("Principal repaid (yuan)"))

    class Meta(ListTable.Meta):
        model = BridgeLoan
        fields: list[str] = []
        sequence = (
            "id", "enterprise", "district", "bank", "lent_on", "due_on", "principal_fen",
            "fee_fen", "repaid_principal_fen",
        )  # fmt: skip


# -- users ------------------------------------------------------------------------------------
def _users_q(qs: Any, _name: str, value: Any) -> Any:
    from django.db.models import Q

    text = (value or "").strip()
    if not text:
        return qs
    return qs.filter(
        Q(username__icontains=text)
        | Q(email__icontains=text)
        | Q(organisation__name__icontains=text)
    )


class UserFilter(ListFilter):
    q = df.CharFilter(label=_("Name, e-mail or organisation"), method=_users_q, max_length=100)
    kind = df.ChoiceFilter(
        field_name="organisation__kind", label=_("Role"), choices=OrgKind.choices
    )
    is_active = yes_no_filter(_("Active"))
    date_from = _from("date_joined__date", _("Joined from"))
    date_to = _to("date_joined__date", _("Joined to"))

    class Meta:
        model = User
        fields: list[str] = []


class UserTable(ListTable):
    username = TextColumn(
        verbose_name=_("User name"), link=lambda r: reverse("console:user", args=[r.pk])
    )
    email = tables.Column(verbose_name=_("E-mail"), default="")
    organisation = TextColumn(accessor="organisation__name", verbose_name=_("Organisation"))
    kind = tables.Column(accessor="organisation__kind", verbose_name=_("Role"))
    is_active = tables.BooleanColumn(verbose_name=_("Active"))
    date_joined = DayColumn(verbose_name=_("Joined"))
    last_login = DayColumn(verbose_name=_("Last signed in"), default="")

    def value_is_active(self, value: Any) -> Any:
        return str(_("yes")) if value else str(_("no"))

    class Meta(ListTable.Meta):
        model = User
        fields: list[str] = []
        sequence = (
            "username", "email", "organisation", "kind", "is_active", "date_joined",
            "last_login",
        )  # fmt: skip


# -- set-up: districts, banks, rates ----------------------------------------------------------
def _code_or_name(qs: Any, _name: str, value: Any) -> Any:
    from django.db.models import Q

    text = (value or "").strip()
    if not text:
        return qs
    return qs.filter(Q(code__icontains=text) | Q(name__icontains=text))


class DistrictFilter(ListFilter):
    q = df.CharFilter(label=_("Code or name"), method=_code_or_name, max_length=100)
    date_from = _from("participating_since", _("Participating from"))
    date_to = _to("participating_since", _("Participating to"))

    class Meta:
        model = District
        fields: list[str] = []


class DistrictTable(ListTable):
    code = tables.Column(verbose_name=_("Code"))
    name = TextColumn(verbose_name=_("Name"))
    name_en = TextColumn(verbose_name=_("English name"), default="")
    participating_since = DayColumn(verbose_name=_("Participating since"))

    class Meta(ListTable.Meta):
        model = District
        fields: list[str] = []
        sequence = ("code", "name", "name_en", "participating_since")


class BankFilter(ListFilter):
    q = df.CharFilter(label=_("Code or name"), method=_code_or_name, max_length=100)
    district = df.ModelChoiceFilter(
        field_name="admissions__district",
        label=_("Admitted to"),
        queryset=districts_of,
        distinct=True,
    )

    class Meta:
        model = Bank
        fields: list[str] = []


class BankTable(ListTable):
    code = TextColumn(verbose_name=_("Code"))
    name = TextColumn(verbose_name=_("Name"))
    admitted = tables.Column(
        accessor="pk", verbose_name=_("Admitted to"), orderable=False, empty_values=()
    )

    def value_admitted(self, record: Any) -> str:
        names = [d.name for d in record.districts.all()]
        return str(_(", ")).join(names) if names else ""

    def render_admitted(self, record: Any) -> str:
        return self.value_admitted(record) or "—"

    class Meta(ListTable.Meta):
        model = Bank
        fields: list[str] = []
        sequence = ("code", "name", "admitted")


def rate_type_choices() -> list[tuple[str, Any]]:
    from kvcredit.console.templatetags.console import rate_type
    from kvcredit.lending.models import Rate

    codes = Rate.objects.order_by("rate_type").values_list("rate_type", flat=True).distinct()
    return [(c, rate_type(c)) for c in codes]


class RateFilter(ListFilter):
    rate_type = df.ChoiceFilter(label=_("Rate type"), choices=rate_type_choices)
    date_from = _from("effective_date", _("In force from, from"))
    date_to = _to("effective_date", _("In force from, to"))

    class Meta:
        model = Rate
        fields: list[str] = []


class RateTable(ListTable):
    rate_type = tables.Column(verbose_name=_("Rate type"))
    effective_date = DayColumn(verbose_name=_("In force from"))
    annual_rate_ppm = tables.Column(
        verbose_name=_("Annual rate (%)"), attrs={"th": {"class": "num"}, "td": {"class": "num"}}
    )
    note = TextColumn(verbose_name=_("Note"), default="")

    def render_rate_type(self, value: Any) -> str:
        from kvcredit.console.templatetags.console import rate_type

        return str(rate_type(value))

    def value_rate_type(self, value: Any) -> str:
        return self.render_rate_type(value)

    def render_annual_rate_ppm(self, value: Any) -> str:
        from kvcredit.console.templatetags.console import percent_from_ppm

        return percent_from_ppm(value)

    def value_annual_rate_ppm(self, value: Any) -> Any:
        from kvcredit.lending.domain.rates import ppm_to_percent

        return ppm_to_percent(int(value))

    class Meta(ListTable.Meta):
        model = Rate
        fields: list[str] = []
        sequence = ("rate_type", "effective_date", "annual_rate_ppm", "note")
