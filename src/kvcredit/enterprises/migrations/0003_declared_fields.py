"""A submission keeps the values of the fields its policy declared; a re-evaluation job reports
the declared fields enterprises have not supplied."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0002_reevaluation_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasubmission",
            name="extra",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="reevaluationjob",
            name="missing_fields",
            field=models.JSONField(default=dict),
        ),
    ]
