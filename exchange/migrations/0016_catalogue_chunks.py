"""The versions of the catalogue's chunks (exchange.models.CatalogueChunk): the table, the
triggers of Listing that renew them (TRUNCATE included), and a version for every chunk
already holding listings."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from exchange import bitmaps


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0015_revision_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueChunk",
            fields=[
                ("chunk", models.IntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "catalogue chunk",
                "verbose_name_plural": "catalogue chunks",
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="listing",
            name="listing_bitmaps_truncate",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_chunk_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (NEW.\"status\" = 'published')",
                    declare="DECLARE listing bigint;",
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    PERFORM pg_advisory_xact_lock(hashtext('exchange_listingbitmap'));\n    INSERT INTO exchange_cataloguechunk (chunk, version)\n    VALUES (listing / 32768, floor(random() * 9007199254740992)::bigint)\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="c29c8c9b52c135c3d01848a4cee5fff9dd64e572",
                    operation="INSERT",
                    pgid="pgtrigger_listing_catalogue_chunk_insert_f9fb3",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_chunk_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.\"status\" = 'published' OR NEW.\"status\" = 'published')",
                    declare="DECLARE listing bigint;",
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    PERFORM pg_advisory_xact_lock(hashtext('exchange_listingbitmap'));\n    INSERT INTO exchange_cataloguechunk (chunk, version)\n    VALUES (listing / 32768, floor(random() * 9007199254740992)::bigint)\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="ebbeb69da6c7407cdcc27ee9399c29473c63eac6",
                    operation="UPDATE",
                    pgid="pgtrigger_listing_catalogue_chunk_update_ed805",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_chunk_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.\"status\" = 'published')",
                    declare="DECLARE listing bigint;",
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    PERFORM pg_advisory_xact_lock(hashtext('exchange_listingbitmap'));\n    INSERT INTO exchange_cataloguechunk (chunk, version)\n    VALUES (listing / 32768, floor(random() * 9007199254740992)::bigint)\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="393abbab0818328b6ccb817f7c9e6f9066a7993d",
                    operation="DELETE",
                    pgid="pgtrigger_listing_catalogue_chunk_delete_4e393",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_bitmaps_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="DELETE FROM exchange_listingbitmap; UPDATE exchange_cataloguechunk SET version = floor(random() * 9007199254740992)::bigint; RETURN NULL;",
                    hash="6f398eb708bc46d632af846f2455f38b80ebb5ee",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_listing_bitmaps_truncate_28a5e",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunSQL(bitmaps.CHUNKS_REBUILT_SQL, migrations.RunSQL.noop),
    ]
