"""A loan the bank has written off (核销) once the fund's claim on it ended: WRITTEN_OFF, a
status outside the live book (the end of day no longer ages it, no exposure counts it)."""

from django.db import migrations, models

STATUSES = [
    ("ACTIVE", "active"),
    ("CLOSED", "closed (repaid)"),
    ("RENEWED", "renewed (rolled into a new loan)"),
    ("COMPENSATED", "compensated by the fund"),
    ("WRITTEN_OFF", "written off"),
]


class Migration(migrations.Migration):
    dependencies = [("lending", "0003_loan_fillfactor")]

    operations = [
        migrations.RemoveConstraint(model_name="loan", name="loan_status_valid"),
        migrations.AlterField(
            model_name="loan",
            name="status",
            field=models.CharField(choices=STATUSES, max_length=12),
        ),
        migrations.AddConstraint(
            model_name="loan",
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=[code for code, _label in STATUSES]),
                name="loan_status_valid",
            ),
        ),
    ]
