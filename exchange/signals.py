"""Cache invalidation: reference data and everything cached of the published catalogue."""

from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import Country, Institution
from exchange import caching
from exchange.models import SDG, FocusArea, Listing, ListingDocument, ListingRevision


@receiver([post_save, post_delete], sender=Country)
@receiver([post_save, post_delete], sender=FocusArea)
@receiver([post_save, post_delete], sender=SDG)
def _reference_changed(**kwargs) -> None:
    transaction.on_commit(caching.reference_changed)


@receiver([post_save, post_delete], sender=Listing)
@receiver([post_save, post_delete], sender=Institution)  # its name shows beside its listings
@receiver(m2m_changed, sender=Listing.focus_areas.through)
@receiver(m2m_changed, sender=Listing.sdgs.through)
# A listing's page shows its documents and whether changes to it are waiting.
@receiver([post_save, post_delete], sender=ListingDocument)
@receiver([post_save, post_delete], sender=ListingRevision)
def _listing_changed(**kwargs) -> None:
    transaction.on_commit(caching.catalogue_changed)


@receiver(request_started)
def _request_started(**kwargs) -> None:
    caching.request_started()


@receiver(request_finished)
def _request_finished(**kwargs) -> None:
    caching.request_finished()
