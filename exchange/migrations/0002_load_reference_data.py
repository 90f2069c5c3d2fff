"""Load the 11 focus areas and the 17 SDGs shipped in exchange/data/ (idempotent)."""

from django.db import migrations

from exchange.reference import load_focus_areas, load_sdgs


def load(apps, schema_editor):
    load_focus_areas(apps.get_model("exchange", "FocusArea"))
    load_sdgs(apps.get_model("exchange", "SDG"))


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
