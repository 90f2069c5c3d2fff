"""Full-text search of listings in PostgreSQL.

Each listing stores a ``tsvector``, built by a trigger (exchange.models.SEARCH_TRIGGER_SQL),
with the text-search configuration of its own language (stemming: "aguas potables" and
"agua potable" meet) plus a language-neutral ``simple`` part (names, acronyms), all from
accent-folded text. A query is folded the same way and parsed with ``websearch_to_tsquery``
in every configuration, so a query in English finds English content and a query in Spanish
finds Spanish content.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery

from exchange.models import Listing
from exchange.text import fold

CONFIGS = {"en": "english", "es": "spanish", "pt": "portuguese", "fr": "french"}


def refresh_related_arrays(listing: Listing) -> None:
    """Copy the listing's focus areas, SDGs and beneficiary countries into its arrays, which
    carry the GIN indexes that facets and matching use."""
    listing.focus_area_ids = sorted(listing.focus_areas.values_list("pk", flat=True))
    listing.sdg_numbers = sorted(listing.sdgs.values_list("number", flat=True))
    listing.beneficiary_ids = sorted(listing.beneficiary_countries.values_list("pk", flat=True))
    Listing.objects.filter(pk=listing.pk).update(
        focus_area_ids=listing.focus_area_ids,
        sdg_numbers=listing.sdg_numbers,
        beneficiary_ids=listing.beneficiary_ids,
    )


def search_query(text: str) -> SearchQuery | None:
    """The query for ``text`` in every configuration, or None when nothing is searchable."""
    folded = fold(text).strip()
    if not folded:
        return None
    query = SearchQuery(folded, search_type="websearch", config="simple")
    for config in CONFIGS.values():
        query |= SearchQuery(folded, search_type="websearch", config=config)
    return query
