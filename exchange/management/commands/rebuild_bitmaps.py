from django.core.management.base import BaseCommand
from django.db import transaction

from exchange import bitmaps, selectors
from exchange.models import ListingBitmap


class Command(BaseCommand):
    help = (
        "Rebuild the catalogue's bitmaps (facet counts, statistics, matching) from the "
        "listings: needed only after a restore that skipped triggers."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            bitmaps.rebuild()
        transaction.on_commit(selectors.catalogue_changed)
        self.stdout.write(f"{ListingBitmap.objects.count()} bitmap rows rebuilt.")
