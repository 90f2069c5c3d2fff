"""Load the 11 focus areas and the 17 SDGs shipped in exchange/data/."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = ("en", "es", "pt", "fr")


def load(apps, schema_editor):
    FocusArea = apps.get_model("exchange", "FocusArea")
    SDG = apps.get_model("exchange", "SDG")
    areas = json.loads((DATA / "focus_areas.json").read_text(encoding="utf-8"))["focus_areas"]
    for position, area in enumerate(areas, start=1):
        FocusArea.objects.update_or_create(
            slug=area["slug"],
            defaults={
                "position": position,
                **{f"name_{lang}": area["name"][lang] for lang in LANGUAGES},
            },
        )
    for goal in json.loads((DATA / "sdgs.json").read_text(encoding="utf-8"))["sdgs"]:
        SDG.objects.update_or_create(
            number=goal["number"],
            defaults={f"name_{lang}": goal["name"][lang] for lang in LANGUAGES},
        )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
