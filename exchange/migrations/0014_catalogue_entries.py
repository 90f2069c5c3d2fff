"""The catalogue's search entries (exchange.models.CatalogueEntry): the table, its storage,
the triggers of Listing that keep it, and an entry for every listing already published."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from exchange import search


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0013_document_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueEntry",
            fields=[
                (
                    "listing",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="exchange.listing",
                    ),
                ),
                ("published_at", models.DateTimeField()),
                ("head", django.contrib.postgres.search.SearchVectorField()),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "verbose_name": "catalogue search entry",
                "verbose_name_plural": "catalogue search entries",
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_entry_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (NEW.\"status\" = 'published')",
                    func="\n    IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN\n        IF TG_OP = 'UPDATE' AND OLD.status = 'published'\n           AND OLD.published_at IS NOT DISTINCT FROM NEW.published_at\n           AND OLD.search_vector IS NOT DISTINCT FROM NEW.search_vector THEN\n            RETURN NULL;\n        END IF;\n        INSERT INTO exchange_catalogueentry (listing_id, published_at, head, vector)\n        VALUES (\n            NEW.id, NEW.published_at, ts_filter(NEW.search_vector, '{a,b}'),\n            NEW.search_vector\n        )\n        ON CONFLICT (listing_id) DO UPDATE\n           SET published_at = EXCLUDED.published_at, head = EXCLUDED.head,\n               vector = EXCLUDED.vector;\n    ELSE\n        DELETE FROM exchange_catalogueentry WHERE listing_id = OLD.id;\n    END IF;\n    RETURN NULL;\n",
                    hash="060d593e1f1b0c9cac65e3b3efb3a193b6d5a760",
                    operation="INSERT",
                    pgid="pgtrigger_listing_catalogue_entry_insert_e88db",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_entry_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.\"status\" = 'published' OR NEW.\"status\" = 'published')",
                    func="\n    IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN\n        IF TG_OP = 'UPDATE' AND OLD.status = 'published'\n           AND OLD.published_at IS NOT DISTINCT FROM NEW.published_at\n           AND OLD.search_vector IS NOT DISTINCT FROM NEW.search_vector THEN\n            RETURN NULL;\n        END IF;\n        INSERT INTO exchange_catalogueentry (listing_id, published_at, head, vector)\n        VALUES (\n            NEW.id, NEW.published_at, ts_filter(NEW.search_vector, '{a,b}'),\n            NEW.search_vector\n        )\n        ON CONFLICT (listing_id) DO UPDATE\n           SET published_at = EXCLUDED.published_at, head = EXCLUDED.head,\n               vector = EXCLUDED.vector;\n    ELSE\n        DELETE FROM exchange_catalogueentry WHERE listing_id = OLD.id;\n    END IF;\n    RETURN NULL;\n",
                    hash="96bb340936ea4c1ebc5d71507318f6d901a57a22",
                    operation="UPDATE",
                    pgid="pgtrigger_listing_catalogue_entry_update_42714",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="listing",
            trigger=pgtrigger.compiler.Trigger(
                name="listing_catalogue_entry_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.\"status\" = 'published')",
                    func="\n    IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN\n        IF TG_OP = 'UPDATE' AND OLD.status = 'published'\n           AND OLD.published_at IS NOT DISTINCT FROM NEW.published_at\n           AND OLD.search_vector IS NOT DISTINCT FROM NEW.search_vector THEN\n            RETURN NULL;\n        END IF;\n        INSERT INTO exchange_catalogueentry (listing_id, published_at, head, vector)\n        VALUES (\n            NEW.id, NEW.published_at, ts_filter(NEW.search_vector, '{a,b}'),\n            NEW.search_vector\n        )\n        ON CONFLICT (listing_id) DO UPDATE\n           SET published_at = EXCLUDED.published_at, head = EXCLUDED.head,\n               vector = EXCLUDED.vector;\n    ELSE\n        DELETE FROM exchange_catalogueentry WHERE listing_id = OLD.id;\n    END IF;\n    RETURN NULL;\n",
                    hash="88a85970c5217f0b31e7fb5f9ac0792104231e33",
                    operation="DELETE",
                    pgid="pgtrigger_listing_catalogue_entry_delete_7ef45",
                    table="exchange_listing",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="catalogueentry",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["vector"], name="catalogue_entry_vector_idx"
            ),
        ),
        migrations.RunSQL(search.ENTRY_STORAGE_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(search.ENTRY_REBUILD_SQL, migrations.RunSQL.noop),
    ]
