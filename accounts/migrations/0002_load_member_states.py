"""Load the 35 OAS Member States from accounts/data/member_states.json.

Runs again safely: rows are matched on the ISO alpha-3 code, and the Secretariat's later
edits in the admin are only overwritten for the names shipped here.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "member_states.json"


def load(apps, schema_editor):
    Country = apps.get_model("accounts", "Country")
    for state in json.loads(DATA.read_text(encoding="utf-8"))["member_states"]:
        Country.objects.update_or_create(
            iso3=state["iso3"],
            defaults={
                "iso2": state["iso2"],
                "participates": state["participates"],
                **{f"name_{lang}": state["name"][lang] for lang in ("en", "es", "pt", "fr")},
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
