"""Forms of the task pages: repayments, bridge loans, fee charging, commercial loans and
the enterprise import. Each parses what a person typed into the values a service takes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kvcredit.money import yuan_to_fen


def _yuan(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )


def problems_of(form: forms.Form) -> str:
    """A form's errors in one line, each naming its field: "Amount (yuan): ...; ..."."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for e in errors:
            parts.append(f"{label}: {e}" if label else str(e))
    return "; ".join(parts)


class RepaymentForm(forms.Form):
    amount = _yuan(_("Amount (yuan)"))
    paid_on = forms.DateField(label=_("Repaid on"))
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "amount_fen": yuan_to_fen(d["amount"]),
            "paid_on": d["paid_on"],
            "reference": d["reference"].strip(),
            "note": d["note"].strip(),
        }


class ReversalForm(forms.Form):
    note = forms.CharField(label=_("Why it is reversed"), max_length=300, min_length=5)


class EnterpriseByUscc(forms.Form):
    """An enterprise named by its USCC, found among those the user may see."""

    uscc = forms.CharField(label=_("Enterprise (USCC)"), min_length=18, max_length=18)

    def __init__(self, *args: Any, enterprises: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enterprises = enterprises

    def clean_uscc(self) -> Any:
        code = self.cleaned_data["uscc"].strip().upper()
        ent = self.enterprises.filter(uscc=code).first()
        if ent is None:
            raise forms.ValidationError(_("no enterprise with this USCC that you may see"))
        self.enterprise = ent
        return code


class BridgeForm(EnterpriseByUscc):
    principal = _yuan(_("Principal (yuan)"))
    term_days = forms.IntegerField(label=_("Term (days)"), min_value=1, max_value=366)
    bank = forms.TypedChoiceField(
        label=_("Bank (of the loan it bridges)"), coerce=int, required=False, empty_value=None
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)

    def __init__(self, *args: Any, enterprises: Any, banks: Any, **kwargs: Any) -> None:
        super().__init__(*args, enterprises=enterprises, **kwargs)
        self.fields["bank"].choices = [("", "—")] + [(b.pk, b.name) for b in banks]

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "enterprise_id": self.enterprise.pk,
            "principal_fen": yuan_to_fen(d["principal"]),
            "term_days": d["term_days"],
            "bank_id": d["bank"],
            "purpose": d["purpose"].strip(),
        }


class BridgeRepayForm(forms.Form):
    amount = _yuan(_("Amount (yuan)"))


class FeeChargeForm(forms.Form):
    loan_id = forms.IntegerField(label=_("Loan number"), min_value=1, required=False)


class CommercialForm(EnterpriseByUscc):
    amount = _yuan(_("Amount (yuan)"))
    loan_date = forms.DateField(label=_("Lent on"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600)
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "enterprise_id": self.enterprise.pk,
            "amount_fen": yuan_to_fen(d["amount"]),
            "loan_date": d["loan_date"],
            "term_months": d["term_months"],
            "reference": d["reference"].strip(),
        }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Enterprises file (XLSX or CSV)"),
        help_text=_("One row per enterprise and year; the headers of the data template."),
    )
