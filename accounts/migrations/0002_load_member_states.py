"""Load the 35 OAS Member States from accounts/data/member_states.json (idempotent)."""

from django.db import migrations

from accounts.reference import load_member_states


def load(apps, schema_editor):
    load_member_states(apps.get_model("accounts", "Country"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
