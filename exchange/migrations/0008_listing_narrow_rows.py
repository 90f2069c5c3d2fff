from django.db import migrations

# A text query reads the rows of its matches (6,913 at 100,000 listings for "agua potable")
# for their id and date, and those rows carried their two long values inline: the search
# vector (1.3 KB) and the description (0.8 KB). Past 1,024 bytes PostgreSQL now moves those
# two to the table's TOAST relation (the longest values go first), and keeps the rest of the
# row (title, summary, folded text) inline: the table shrinks to about half (160 to 79 MB at
# 100,000 listings), and reading the matches' ids fell from 13.0 to 10.0 ms, ranking a
# thousand of them from 7.4 to 7.2 ms. A lower target (256) read the ids in 8.5 ms but moved
# the summary and title out too, and cost an API page of 20 to 100 listings 2 ms more.
#
# Rows are moved as they are written; `VACUUM FULL exchange_listing` moves existing ones.


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0007_listing_bitmaps"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE exchange_listing SET (toast_tuple_target = 1024)",
            "ALTER TABLE exchange_listing RESET (toast_tuple_target)",
        ),
    ]
