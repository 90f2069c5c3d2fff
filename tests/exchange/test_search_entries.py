"""The catalogue's search entries (exchange.models.CatalogueEntry): one per published
listing, kept by the triggers of Listing through every change, and the relevance order
they serve (title, then summary, over every match)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import F
from django.utils import timezone

from exchange import catalogue, search, services
from exchange.models import CatalogueEntry, Listing
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/catalogue/"


def _entries() -> dict[int, tuple]:
    return {
        entry.listing_id: (entry.published_at, str(entry.head), str(entry.vector))
        for entry in CatalogueEntry.objects.all()
    }


def _expected() -> dict[int, tuple]:
    """What the entries must be: the published listings' dates and vectors, computed here
    from the listings themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, published_at, ts_filter(search_vector, '{a,b}')::text, "
            "search_vector::text FROM exchange_listing WHERE status = 'published'"
        )
        return {pk: (published, head, vector) for pk, published, head, vector in cursor}


def test_entries_follow_every_change_of_a_listing(peru, focal_point, secretariat):
    published = factories.ListingFactory(institution=peru, title="Agua potable rural")
    draft = factories.ListingFactory(institution=peru, status="draft", title="Agua de lluvia")
    assert set(_entries()) == {published.pk}
    assert _entries() == _expected()
    head = _entries()[published.pk][1]
    assert "'rural':3A" in head
    assert "'experient'" not in head  # title and summary only

    # A new title (a revision approved) rewrites the vectors; a date moves the entry.
    Listing.objects.filter(pk=published.pk).update(title="Saneamiento básico")
    assert "'saneamient'" in _entries()[published.pk][1]
    Listing.objects.filter(pk=published.pk).update(
        published_at=timezone.now() - datetime.timedelta(days=3)
    )
    assert _entries() == _expected()

    # Published through the service, withdrawn, deleted: the entry comes and goes.
    draft.status = "submitted"
    draft.save()
    assert draft.pk not in _entries()
    services.listing_approve(listing=draft, by=secretariat)
    assert set(_entries()) == {published.pk, draft.pk}
    services.listing_withdraw(listing=published, by=focal_point)
    assert set(_entries()) == {draft.pk}
    Listing.objects.filter(pk=draft.pk).delete()
    assert _entries() == {} == _expected()


def test_bulk_writes_keep_the_entries(peru):
    """Imports and the daily expiry write many listings in one statement."""
    listings = factories.ListingFactory.create_batch(5, institution=peru)
    Listing.objects.filter(pk__in=[listing.pk for listing in listings[:3]]).update(status="expired")
    Listing.objects.filter(pk=listings[0].pk).update(status="published")
    assert _entries() == _expected()
    assert len(_entries()) == 3


def test_an_unchanged_vector_leaves_the_entry_alone(peru):
    """Saving a published listing without touching its text or date (a moderation note,
    its review date) does not rewrite its entry."""
    listing = factories.ListingFactory(institution=peru)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM exchange_catalogueentry WHERE listing_id = %s", [listing.pk]
        )
        (before,) = cursor.fetchone()
        Listing.objects.filter(pk=listing.pk).update(moderation_comment="Visto.")
        cursor.execute(
            "SELECT xmin::text FROM exchange_catalogueentry WHERE listing_id = %s", [listing.pk]
        )
        assert cursor.fetchone() == (before,)


def test_relevance_weighs_title_then_summary_over_every_match(client, peru):
    """Every match is ranked, however many there are and however old: the title first, the
    summary next, then those naming the query only in their description, newest first."""
    now = timezone.now()
    description_only = [
        factories.ListingFactory(
            institution=peru,
            title=f"Gestión pública {n}",
            summary="Gobierno abierto.",
            description="Incluye agua potable.",
            published_at=now - datetime.timedelta(days=n),
        )
        for n in range(25)
    ]
    in_title = factories.ListingFactory(
        institution=peru,
        title="Agua potable para escuelas",
        summary="Gobierno abierto.",
        published_at=now - datetime.timedelta(days=400),
    )
    in_summary = factories.ListingFactory(
        institution=peru,
        title="Escuelas rurales",
        summary="Agua potable en cada aula.",
        published_at=now - datetime.timedelta(days=300),
    )
    page = client.get(URL, {"q": "agua potable"}).context["page"]
    assert page.ranked
    assert (page.total, page.pages) == (27, 2)
    assert [row.pk for row in page.listings] == [
        in_title.pk,
        in_summary.pk,
        *(listing.pk for listing in description_only[:18]),
    ]
    second = client.get(URL, {"q": "agua potable", "page": 2}).context["page"]
    assert [row.pk for row in second.listings] == [listing.pk for listing in description_only[18:]]
    # The export of the catalogue keeps the same order (search.rank on the listings).
    query = catalogue.CatalogueQuery(q="agua potable", sort="relevance")
    exported = list(catalogue.catalogue_listings(query).values_list("pk", flat=True))
    assert exported == [row.pk for row in (*page.listings, *second.listings)]


def test_the_head_is_one_definition(peru):
    """The entries' head and the ranking of listings (exports) read the same part."""
    listing = factories.ListingFactory(institution=peru, title="Agua potable")
    query = search.search_query("agua potable")
    ranked = Listing.objects.annotate(rank=search.rank(query)).get(pk=listing.pk).rank
    stored = (
        CatalogueEntry.objects.annotate(rank=SearchRank(F("head"), query)).get(listing=listing).rank
    )
    assert ranked == pytest.approx(stored)
    assert stored > 0
