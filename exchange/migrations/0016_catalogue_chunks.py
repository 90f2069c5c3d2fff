"""The versions of the catalogue's chunks (exchange.models.CatalogueChunk): the table, the
sequence they are drawn from, the triggers of Listing that renew them, and a version for
every chunk already holding listings."""

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
        migrations.RunSQL(
            f"CREATE SEQUENCE {bitmaps.CHUNK_SEQUENCE}",
            f"DROP SEQUENCE {bitmaps.CHUNK_SEQUENCE}",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_chunk_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (NEW.\"status\" = 'published')",
                    declare="DECLARE listing bigint;",
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    INSERT INTO exchange_cataloguechunk AS c (chunk, version)\n    VALUES (listing / 32768, nextval('exchange_cataloguechunk_version'))\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="eae3dbfb481c00fe144ce5373242e5a69d8582ee",
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
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    INSERT INTO exchange_cataloguechunk AS c (chunk, version)\n    VALUES (listing / 32768, nextval('exchange_cataloguechunk_version'))\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="2395021b9d344038760951cb170599a69151eabb",
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
                    func="\n    IF TG_OP = 'DELETE' THEN\n        listing := OLD.id;\n    ELSE\n        listing := NEW.id;\n    END IF;\n    INSERT INTO exchange_cataloguechunk AS c (chunk, version)\n    VALUES (listing / 32768, nextval('exchange_cataloguechunk_version'))\n    ON CONFLICT (chunk) DO UPDATE SET version = EXCLUDED.version;\n    RETURN NULL;\n",
                    hash="f302c14bf6bbe6f0b639ccd42cade0e5f87846ea",
                    operation="DELETE",
                    pgid="pgtrigger_listing_catalogue_chunk_delete_4e393",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunSQL(bitmaps.CHUNKS_REBUILT_SQL, migrations.RunSQL.noop),
    ]
