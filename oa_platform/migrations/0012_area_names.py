from django.db import migrations


def forwards(apps, schema_editor):
    from oa_platform.areas import area_names_normalise

    area_names_normalise(apps.get_model("oa_platform", "Area"))


class Migration(migrations.Migration):
    """Ten shipped ward names had a double space ("Phường  Tân An"): stored rows get the single-spaced name."""

    dependencies = [("oa_platform", "0011_citizen_account_unique")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
