"""Forms: parse what a person typed into the values a service takes (CSRF via the templates)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from kvcredit.console.reads import declared_label, field_label
from kvcredit.errors import ServiceError
from kvcredit.lending.models import DEFAULT_BOUNDS, DEFAULT_ORDER, Method, RateBasis
from kvcredit.lending.services import PRODUCT_FIELDS
from kvcredit.scoring.fields import FIELDS, Kind
from kvcredit.scoring.records import shown_value

# Django looks a label's suffix up as ":", which its own Chinese catalogue leaves ASCII; ours
# gives the full-width "：" of Chinese text (the project's catalogue comes first).
LABEL_SUFFIX = gettext_noop(":")
IDENTITY = {"uscc", "name", "district"}
DATA_FIELDS = [f for f in FIELDS if f.name not in IDENTITY]
MAX_POLICY_BYTES = 1_000_000


def _data_field(f: Any) -> forms.Field:
    label = field_label(f.name) if not f.declared else declared_label(f)
    if f.declared:
        return _declared_field(f, label)
    if f.kind is Kind.MONEY:
        return forms.DecimalField(
            label=label, required=f.required, min_value=0, max_digits=16, decimal_places=2
        )
    if f.kind is Kind.COUNT:
        return forms.IntegerField(label=label, required=f.required, min_value=0)
    if f.kind is Kind.FLAG:
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=200)


def _declared_field(f: Any, label: str) -> forms.Field:
    """A form field for a field the policy declares; the service checks bounds and kinds."""
    required = f.required and f.kind is not Kind.FLAG
    if f.kind is Kind.CATEGORY:
        choices = [("", "—")] * (not f.required) + [(v, v) for v in f.values]
        return forms.ChoiceField(label=label, required=required, choices=choices)
    if f.kind is Kind.DATE:
        return forms.DateField(label=label, required=required)
    if f.kind is Kind.FLAG:
        return forms.BooleanField(label=label, required=False)
    if f.kind is Kind.COUNT:
        return forms.IntegerField(label=label, required=required)
    if f.kind in (Kind.MONEY, Kind.RATIO):
        places = 2 if f.kind is Kind.MONEY else 6
        return forms.DecimalField(label=label, required=required, decimal_places=places)
    return forms.CharField(label=label, required=required, max_length=200)


class SubmissionForm(forms.Form):
    """A year's data of one enterprise, in yuan, counts and yes/no; then the fields the policy
    in force declares (``declared``), labelled in both languages."""

    year = forms.IntegerField(label=_("Year of the data"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, declared: tuple[Any, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declared = declared
        for f in (*DATA_FIELDS, *declared):
            self.fields[f.name] = _data_field(f)

    @staticmethod
    def initial_from(
        data: dict[str, Any] | None,
        year: int,
        extra: dict[str, Any] | None = None,
        declared: tuple[Any, ...] = (),
    ) -> dict[str, Any]:
        """Form values from a stored submission (internal units: fen, 0/1)."""
        out: dict[str, Any] = {"year": year}
        for f in declared:
            if f.name in (extra or {}):
                out[f.name] = shown_value(f, (extra or {})[f.name])
        for f in DATA_FIELDS:
            v = (data or {}).get(f.name)
            if v is None:
                continue
            out[f.name] = (
                Decimal(int(v)) / 100
                if f.kind is Kind.MONEY
                else bool(v)
                if f.kind is Kind.FLAG
                else v
            )
        return out

    @staticmethod
    def initial_rows(data: dict[str, Any]) -> list[tuple[Any, Any]]:
        """(field, value in user units) of a stored submission, in dictionary order."""
        values = SubmissionForm.initial_from(data, 0)
        return [(f, values.get(f.name)) for f in DATA_FIELDS]

    def groups(self) -> list[list[forms.BoundField]]:
        """Fields by kind, for the fieldsets of the page: counts and money, IP, flags, more."""
        required = [self[f.name] for f in DATA_FIELDS if f.required and f.kind is not Kind.FLAG]
        flags = [self[f.name] for f in DATA_FIELDS if f.kind is Kind.FLAG and f.required]
        extra = [self[f.name] for f in DATA_FIELDS if not f.required]
        return [required, flags, extra, [self[f.name] for f in self.declared]]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        tech, total = data.get("tech_staff"), data.get("total_staff")
        if tech is not None and total is not None and tech > total:
            self.add_error("tech_staff", gettext("Technology staff cannot exceed all staff."))
        return data

    def values(self) -> dict[str, Any]:
        """The submission in user units, as ``services.submit_data`` takes it."""
        out: dict[str, Any] = {}
        for f in DATA_FIELDS:
            v = self.cleaned_data.get(f.name)
            if v is None or v == "":
                continue
            out[f.name] = str(v) if isinstance(v, Decimal) else v
        declared = {}
        for f in self.declared:
            v = self.cleaned_data.get(f.name)
            if v is not None and v != "":
                declared[f.name] = v.isoformat() if isinstance(v, dt.date) else str(v)
        if declared:
            out["extra"] = declared
        return out


class PolicyForm(forms.Form):
    file = forms.FileField(label=_("Policy file (TOML)"), required=False)
    source = forms.CharField(
        label=_("or paste the policy"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_POLICY_BYTES:
                raise forms.ValidationError(gettext("The file is larger than 1 MB."))
            try:
                data["source"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(gettext("The file is not UTF-8 text.")) from None
        if not (data.get("source") or "").strip():
            raise forms.ValidationError(gettext("Choose a policy file or paste its text."))
        return data


class PublishForm(forms.Form):
    source = forms.CharField(widget=forms.HiddenInput, max_length=MAX_POLICY_BYTES)


class RateForm(forms.Form):
    rate_type = forms.CharField(label=_("Rate type"), max_length=40, initial="LPR_1Y")
    effective_date = forms.DateField(
        label=_("In force from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    annual_rate_percent = forms.DecimalField(
        label=_("Annual rate (%)"), min_value=0, max_value=100, decimal_places=4
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


# The buckets a repayment meets, in the words of a bank's repayment allocation clause.
BUCKETS = {"PENALTY": _("penalty interest"), "INTEREST": _("interest"), "PRINCIPAL": _("principal")}
# The upper days-past-due bound of each of the first four of the five loan categories.
BOUND_FIELDS = {
    "bound_normal": _("Normal: at most this many days past due"),
    "bound_special_mention": _("Special mention: at most this many days past due"),
    "bound_substandard": _("Substandard: at most this many days past due"),
    "bound_doubtful": _("Doubtful: at most this many days past due (beyond: loss)"),
}


def allocation_label(order: list[str] | tuple[str, ...]) -> str:
    """PENALTY, INTEREST, PRINCIPAL -> "penalty interest → interest → principal"."""
    return " → ".join(str(BUCKETS.get(b, b)) for b in order)


class ProductForm(forms.Form):
    """A loan product's terms as the administrator sets them. Ranges are the service's to check
    (``lending.services.update_product``), so its refusal is shown at the field it names."""

    # Refusals the service words about a term the form asks for in parts.
    SERVICE_FIELDS = {"classification_bounds": "bound_normal"}

    code = forms.RegexField(
        label=_("Code"),
        max_length=32,
        regex=r"^[A-Za-z0-9_-]+$",
        error_messages={"invalid": _("Letters, digits, _ and - only.")},
        help_text=_("Fixed once the product is added."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    rate_basis = forms.ChoiceField(
        label=_("Rate basis"), choices=RateBasis.choices, initial=RateBasis.LPR_1Y
    )
    spread_bp = forms.IntegerField(
        label=_("Spread over the basis (bp)"),
        initial=0,
        help_text=_("In basis points: 100 bp = 1 percentage point; negative below the basis."),
    )
    max_term_months = forms.IntegerField(label=_("Longest term (months)"), initial=12)
    methods = forms.MultipleChoiceField(
        label=_("Repayment methods"),
        choices=Method.choices,
        initial=list(Method.values),
        widget=forms.CheckboxSelectMultiple,
    )
    penalty_uplift_percent = forms.IntegerField(
        label=_("Penalty interest uplift (%)"),
        initial=50,
        help_text=_("Overdue penalty rate = the loan's rate × (1 + this percentage)."),
    )
    grace_days = forms.IntegerField(
        label=_("Grace period (days)"),
        initial=0,
        help_text=_("Days after a due date before the loan counts as overdue."),
    )
    allocation_order = forms.ChoiceField(
        label=_("Order in which a repayment is applied"),
        choices=[(",".join(o), allocation_label(o)) for o in itertools.permutations(DEFAULT_ORDER)],
        initial=",".join(DEFAULT_ORDER),
    )
    approval_valid_days = forms.IntegerField(
        label=_("Approval valid for (days)"),
        initial=30,
        help_text=_("An approval not disbursed within this many days lapses."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for (name, label), bound in zip(BOUND_FIELDS.items(), DEFAULT_BOUNDS, strict=True):
            self.fields[name] = forms.IntegerField(label=label, initial=bound)
        if editing:
            del self.fields["code"]

    @staticmethod
    def initial_from(product: Any) -> dict[str, Any]:
        """The form's values from a stored product."""
        shown_apart = {"allocation_order", "classification_bounds", "active"}
        out = {f: getattr(product, f) for f in PRODUCT_FIELDS if f not in shown_apart}
        out["allocation_order"] = ",".join(product.allocation_order)
        out |= dict(zip(BOUND_FIELDS, product.classification_bounds, strict=False))
        return out

    def terms(self) -> dict[str, Any]:
        """The terms as ``create_product`` and ``update_product`` take them (no code)."""
        d = self.cleaned_data
        chosen = set(d["methods"])
        return {
            "name": d["name"],
            "rate_basis": d["rate_basis"],
            "spread_bp": d["spread_bp"],
            "max_term_months": d["max_term_months"],
            "methods": [m for m in Method.values if m in chosen],
            "penalty_uplift_percent": d["penalty_uplift_percent"],
            "grace_days": d["grace_days"],
            "allocation_order": d["allocation_order"].split(","),
            "classification_bounds": [d[name] for name in BOUND_FIELDS],
            "approval_valid_days": d["approval_valid_days"],
        }


class DistrictForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=12)
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    participating_since = forms.DateField(
        label=_("Participating since"),
        initial=dt.date(2017, 1, 1),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class BankForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)


class AdmissionForm(forms.Form):
    bank = forms.ModelChoiceField(label=_("Bank"), queryset=None)
    district = forms.ModelChoiceField(label=_("District"), queryset=None)

    def __init__(self, *args: Any, banks: Any, districts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks  # type: ignore[attr-defined]
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]


def organisation_label(org: Any) -> str:
    """How the organisation field names an organisation: "#12 银行a · bank"."""
    from kvcredit.accounts.models import OrgKind

    return f"#{org.pk} {org.name} · {OrgKind(org.kind).label}"


class OrganisationInput(forms.TextInput):
    """A text box with the organisations as suggestions (a datalist): searchable by typing,
    where a select of 5,000 organisations was not."""

    template_name = "console/widgets/datalist.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.options: Any = ()

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["list_id"] = f"{widget['attrs'].get('id', name)}-options"
        widget["attrs"]["list"] = widget["list_id"]
        widget["options"] = [organisation_label(o) for o in self.options]
        return context

    def format_value(self, value: Any) -> Any:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            org = next((o for o in self.options if str(o.pk) == str(value)), None)
            return organisation_label(org) if org is not None else value
        return super().format_value(value)


class OrganisationField(forms.Field):
    """One organisation of ``queryset``, typed as its label ("#12 …"), its number or its
    exact name (when no other organisation has it)."""

    widget = OrganisationInput
    default_error_messages = {
        "invalid": _("Choose an organisation from the suggestions."),
        "ambiguous": _("Several organisations have this name: choose one from the suggestions."),
    }

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queryset = queryset
        self.widget.options = queryset  # type: ignore[attr-defined]

    def to_python(self, value: Any) -> Any:
        text = str(value or "").strip()
        if not text:
            return None
        digits = re.match(r"^#?(\d+)(\s|$)", text)
        if digits:
            org = self.queryset.filter(pk=int(digits[1])).first()
            if org is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            return org
        named = list(self.queryset.filter(name=text)[:2])
        if len(named) == 1:
            return named[0]
        code = "ambiguous" if named else "invalid"
        raise forms.ValidationError(self.error_messages[code], code=code)


class UserForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters, not a common password."),
    )
    organisation = forms.Field(
        label=_("Organisation"),
        help_text=_("Type part of the name and choose it from the suggestions."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)

    def __init__(self, *args: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = OrganisationField(
            organisations,
            label=self.fields["organisation"].label,
            help_text=self.fields["organisation"].help_text,
        )


def add_service_error(form: forms.Form, exc: ServiceError) -> None:
    """Show a service's refusal on the form: at its field when the form has it (a form may
    map a service's field name to its own in ``SERVICE_FIELDS``)."""
    problems = getattr(exc, "problems", None) or [(exc.field, exc.detail)]
    aliases: dict[str, str] = getattr(form, "SERVICE_FIELDS", {})
    for name, message in problems:
        key = (name or "").removeprefix("source_toml.").split(".")[0]
        key = aliases.get(key, key)
        text = message  # the services word their refusals in the active language
        if key in form.fields and not isinstance(form.fields[key].widget, forms.HiddenInput):
            form.add_error(key, text)
        else:
            form.add_error(None, f"{name}: {text}" if name else text)


# -- lending --------------------------------------------------------------------------------
TERMS = [(n, n) for n in (3, 6, 9, 12)]


class ApplyForm(forms.Form):
    """An enterprise's application: bank, amount, term, method, purpose, first-time."""

    bank = forms.TypedChoiceField(label=_("Bank"), coerce=int)
    product = forms.TypedChoiceField(label=_("Loan product"), coerce=int)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    term_months = forms.TypedChoiceField(label=_("Term (months)"), coerce=int, choices=TERMS)
    method = forms.ChoiceField(label=_("Repayment method"))
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    first_time_borrower = forms.BooleanField(
        label=_("This is our first bank loan (first-time borrower)"), required=False
    )

    def __init__(self, *args: Any, banks: Any, products: Any, **kwargs: Any) -> None:
        from kvcredit.lending.models import Method

        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = [(b.pk, b.name) for b in banks]  # type: ignore[attr-defined]
        self.fields["product"].choices = [(p.pk, p.name) for p in products]  # type: ignore[attr-defined]
        # only the methods an offered product has (the service still checks the pair)
        offered = {m for p in products for m in (p.methods or [])}
        methods = [c for c in Method.choices if c[0] in offered] or list(Method.choices)
        self.fields["method"].choices = methods  # type: ignore[attr-defined]
        self.fields["term_months"].initial = 12

    def values(self) -> dict[str, Any]:
        from kvcredit.money import yuan_to_fen

        d = self.cleaned_data
        return {
            "bank_id": d["bank"],
            "product_id": d["product"],
            "amount_fen": yuan_to_fen(d["amount"]),
            "term_months": d["term_months"],
            "method": d["method"],
            "purpose": d["purpose"],
            "first_time_borrower": d["first_time_borrower"],
        }


class ApproveForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Approved amount (yuan)"), min_value=Decimal("0.01"), decimal_places=2
    )

    def amount_fen(self) -> int:
        from kvcredit.money import yuan_to_fen

        return yuan_to_fen(self.cleaned_data["amount"])


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RepaymentUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Repayments file (XLSX or CSV)"),
        help_text=_("Columns: loan_id, amount (yuan), paid_on (YYYY-MM-DD), reference, note."),
    )


# -- fund -----------------------------------------------------------------------------------
class AmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )

    def amount_fen(self) -> int:
        from kvcredit.money import yuan_to_fen

        return yuan_to_fen(self.cleaned_data["amount"])


class ContributionForm(AmountForm):
    district = forms.TypedChoiceField(label=_("District"), coerce=int)
    contributor = forms.ChoiceField(
        label=_("Paid by"), choices=[("CITY", _("the city")), ("DISTRICT", _("the district"))]
    )
    paid_date = forms.DateField(label=_("Paid on"))
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args: Any, districts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [(d.pk, str(d)) for d in districts]  # type: ignore[attr-defined]


class FeeReductionForm(forms.Form):
    valid_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(
        label=_("Until (exclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    percent_off = forms.DecimalField(
        label=_("Percent off"), min_value=Decimal("0.01"), max_value=100, decimal_places=2
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ClaimFileForm(forms.Form):
    loan_id = forms.IntegerField(label=_("Loan number"), min_value=1)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RejectClaimForm(forms.Form):
    prefix = "reject"
    reason = forms.CharField(label=_("Why the claim is rejected"), max_length=300, min_length=5)


class EndClaimForm(forms.Form):
    prefix = "end"
    reason = forms.CharField(label=_("Why the claim ends"), max_length=300, min_length=5)


class LiftForm(forms.Form):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=300, min_length=5)


class DateWindowForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


# -- documents ------------------------------------------------------------------------------
class DocumentForm(forms.Form):
    """A file for an object: a new document (kind, title) or the next version of one."""

    document = forms.ChoiceField(label=_("Document"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG, JPEG, XLSX or DOCX; checked by its content"),
    )

    def __init__(self, *args: Any, kinds: Any, documents: Any, **kwargs: Any) -> None:
        from kvcredit.documents.models import Kind

        super().__init__(*args, **kwargs)
        labels = dict(Kind.choices)
        self.fields["kind"].choices = [(k.value, labels[k.value]) for k in kinds]
        new = [("", gettext("a new document"))]
        self.fields["document"].choices = new + [
            (str(d.pk), f"{d.get_kind_display()} {d.title} (#{d.pk})".replace("  ", " "))
            for d in documents
        ]

    def document_id(self) -> int | None:
        value = self.cleaned_data.get("document")
        return int(value) if value else None
