"""An application keeps the business date of its approval (a loan is not signed before it).

A bank's reference (流水号) names one repayment of that bank: the repayment carries its
loan's bank, and (bank, reference) is unique among repayments with a reference.

Existing rows get their loan's bank; a repeated reference recorded before this migration keeps
its bank empty on every row after the first (history is never edited, and the constraint
still holds for everything written from now on).
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models


def fill_bank(apps, schema_editor):  # type: ignore[no-untyped-def]
    Repayment = apps.get_model("lending", "Repayment")
    seen: set[tuple[int, str]] = set()
    rows = Repayment.objects.order_by("id").values_list("id", "loan__bank_id", "kind", "reference")
    for pk, bank_id, kind, reference in rows.iterator():
        if kind == "REPAYMENT" and reference:
            if (bank_id, reference) in seen:
                continue
            seen.add((bank_id, reference))
        Repayment.objects.filter(pk=pk).update(bank_id=bank_id)


def fill_approved_on(apps, schema_editor):  # type: ignore[no-untyped-def]
    """An approval before this migration: its lapse date less the product's validity."""
    Application = apps.get_model("lending", "Application")
    rows = Application.objects.filter(expires_on__isnull=False, approved_on__isnull=True)
    for app in rows.select_related("product").iterator():
        days = datetime.timedelta(days=app.product.approval_valid_days)
        Application.objects.filter(pk=app.pk).update(approved_on=app.expires_on - days)


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0002_reevaluation_job"),
        ("lending", "0004_loan_written_off"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="approved_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(fill_approved_on, migrations.RunPython.noop),
        migrations.AddField(
            model_name="repayment",
            name="bank",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="repayments",
                to="enterprises.bank",
            ),
        ),
        migrations.RunPython(fill_bank, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="repayment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "REPAYMENT"), models.Q(("reference", ""), _negated=True)),
                fields=("bank", "reference"),
                name="repayment_reference_unique_per_bank",
            ),
        ),
    ]
