from django.core.management.base import BaseCommand
from django.db import connection, transaction

from exchange import bitmaps, caching, search
from exchange.models import CatalogueEntry, ListingBitmap


class Command(BaseCommand):
    help = (
        "Rebuild the catalogue's bitmaps (facet counts, statistics, matching) and search "
        "entries (text queries) from the listings: needed only after a restore that skipped "
        "triggers."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            bitmaps.rebuild()
            with connection.cursor() as cursor:
                cursor.execute(search.ENTRY_REBUILD_SQL)
        transaction.on_commit(caching.catalogue_changed)
        self.stdout.write(
            f"{ListingBitmap.objects.count()} bitmap rows and "
            f"{CatalogueEntry.objects.count()} search entries rebuilt."
        )
