import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A citizen's external id belongs to one account (0009 fills ``account``, 0010 adds the new uniques)."""

    dependencies = [
        ("oa_platform", "0007_initial_password"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="citizen",
            name="citizen_unique_channel_external_id",
        ),
        migrations.AddField(
            model_name="citizen",
            name="account",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="citizens",
                to="oa_platform.officialaccount",
                verbose_name="account",
            ),
        ),
    ]
