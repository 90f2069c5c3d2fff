"""TRUNCATE of the listings also gives every chunk of the catalogue a new version."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0016_catalogue_chunks"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="listing",
            name="listing_bitmaps_truncate",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_bitmaps_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="DELETE FROM exchange_listingbitmap; UPDATE exchange_cataloguechunk SET version = nextval('exchange_cataloguechunk_version'); RETURN NULL;",
                    hash="ab4bb7d077b67709261fa8a935e7a44eb494d350",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_listing_bitmaps_truncate_28a5e",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
    ]
