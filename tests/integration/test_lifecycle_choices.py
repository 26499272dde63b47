"""Every Django choice, API type and console label of a lifecycle comes from its enum and label
table: each code and each label is defined once (kvcredit.roles, lending.domain.lifecycle)."""

from __future__ import annotations

import pytest
from django.utils import translation

from kvcredit.accounts.models import Organisation, OrgKind
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.models import LIVE_STATUSES, NON_PERFORMING, Application, Loan
from kvcredit.lending.schemas import ApplicationFilter, ApplicationOut, LoanFilter, LoanOut
from kvcredit.roles import ORGANISATION_KINDS, ROLE_LABELS


def _choices(model, field):
    return [(code, str(label)) for code, label in model._meta.get_field(field).choices]


@pytest.mark.parametrize(
    ("model", "field", "labels"),
    [
        (Application, "status", lc.APPLICATION_LABELS),
        (Loan, "status", lc.LOAN_LABELS),
        (Loan, "category", lc.CATEGORY_LABELS),
        (Organisation, "kind", {r: ROLE_LABELS[r] for r in ORGANISATION_KINDS}),
    ],
)
def test_every_model_choice_is_the_lifecycle_table(model, field, labels):
    codes = [m.value if isinstance(m.value, str) else m.name for m in labels]
    with translation.override("en"):
        assert _choices(model, field) == list(zip(codes, labels.values(), strict=True))
    with translation.override("zh-hans"):  # … and translated where shown
        assert all(
            label != labels_en
            for (_c, label), labels_en in zip(_choices(model, field), labels.values(), strict=True)
        )


def test_the_application_and_loan_choices_are_the_machines_states():
    assert [c for c, _l in lc.APPLICATION.choices()] == [
        c for c, _l in _choices(Application, "status")
    ]
    assert [c for c, _l in lc.LOAN.choices()] == [c for c, _l in _choices(Loan, "status")]
    assert set(LIVE_STATUSES) == set(lc.LIVE) and tuple(NON_PERFORMING) == lc.NON_PERFORMING_CODES
    assert list(OrgKind.values) == [r.value for r in ORGANISATION_KINDS]


def test_the_api_status_types_are_the_lifecycle_enums():
    assert ApplicationOut.model_fields["status"].annotation is lc.ApplicationStatus
    assert LoanOut.model_fields["status"].annotation is lc.LoanStatus
    assert ApplicationFilter.model_fields["status"].annotation == lc.ApplicationStatus | None
    assert LoanFilter.model_fields["status"].annotation == lc.LoanStatus | None


def test_no_console_template_compares_a_lifecycle_code():
    """The console asks the lifecycle (the views pass ``steps``, ``written_off`` …) and shows
    labels through the choices; no template spells a loan or application status code."""
    from pathlib import Path

    import kvcredit.console

    root = Path(kvcredit.console.__file__).parent / "templates"
    codes = [s.value for s in (*lc.ApplicationStatus, *lc.LoanStatus)]
    found = [
        (p.name, code)
        for p in root.rglob("*.html")
        if "fund" not in p.parts  # the claim lifecycle is fund/domain/claim.py's
        for code in codes
        if f'"{code}"' in p.read_text(encoding="utf-8")
    ]
    assert found == []
