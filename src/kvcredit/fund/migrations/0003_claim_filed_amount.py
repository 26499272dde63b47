"""The amount a claim was filed for, kept when payment lowers ``amount_fen`` to the share of the
loan's overdue principal at the moment of payment (docs/fund.md)."""

from django.db import migrations, models
from django.db.models import F


def filed_as_claimed(apps, schema_editor):
    Claim = apps.get_model("fund", "Claim")
    Claim.objects.update(filed_amount_fen=F("amount_fen"))


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0002_ledger_integrity"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="filed_amount_fen",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(filed_as_claimed, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_fen__lte", models.F("filed_amount_fen"))),
                name="claim_amount_within_filed_amount",
            ),
        ),
    ]
