from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oa_platform", "0010_citizen_account_data"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="citizen",
            constraint=models.UniqueConstraint(
                condition=models.Q(("account__isnull", True)),
                fields=("channel", "external_id"),
                name="citizen_unique_shared_external_id",
            ),
        ),
        migrations.AddConstraint(
            model_name="citizen",
            constraint=models.UniqueConstraint(
                condition=models.Q(("account__isnull", False)),
                fields=("account", "channel", "external_id"),
                name="citizen_unique_account_external_id",
            ),
        ),
    ]
