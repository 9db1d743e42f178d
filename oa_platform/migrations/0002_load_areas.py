from django.db import migrations


def forwards(apps, schema_editor):
    from oa_platform.areas import load_areas

    load_areas(apps.get_model("oa_platform", "Area"))


class Migration(migrations.Migration):
    dependencies = [("oa_platform", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
