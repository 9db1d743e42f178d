import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A citizen's external id belongs to one account (0010 fills ``account``, 0011 adds the new uniques)."""

    dependencies = [
        ("oa_platform", "0008_url_policy"),
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
