from django.db import migrations

# A listing row averaged 2.9 KB, most of it the search vector (1.3 KB) and the description
# (0.8 KB), so a text query's matches, read row by row, sat on as many pages as there were
# matches. Past 256 bytes PostgreSQL now moves those long values to the table's TOAST
# relation: the rows fit on about a tenth of the pages (352 MB to 31 MB at 100,000
# listings) and reading the ids of 6,913 matches fell from about 13 to 7 ms. A page still
# reads its 20 rows' long values, from the TOAST index.
#
# Rows are moved as they are written; `VACUUM FULL exchange_listing` moves existing ones.


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0007_listing_bitmaps"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE exchange_listing SET (toast_tuple_target = 256)",
            "ALTER TABLE exchange_listing RESET (toast_tuple_target)",
        ),
    ]
