"""Suggested matches between needs and offers, with their reasons."""

from __future__ import annotations

import pytest

from exchange.matching import matches_for
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def need(db):
    honduras = factories.AuthorityFactory(country=factories.country("HND"))
    return factories.ListingFactory(
        institution=honduras,
        kind="need",
        title="Sistema de alerta temprana ante inundaciones",
        summary="Necesitamos asistencia para alertas tempranas de inundaciones en cuencas.",
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[11, 13],
    )


def test_best_offer_first_with_reasons(need, peru, argentina):
    strong = factories.ListingFactory(
        institution=peru,
        title="Alerta temprana de inundaciones en cuencas andinas",
        summary="Asistencia técnica en alertas tempranas de inundaciones.",
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[11, 13],
        relations__beneficiaries=["HND"],
    )
    weak = factories.ListingFactory(
        institution=argentina,
        language="en",
        title="Tourism statistics",
        summary="Capacity building in tourism satellite accounts.",
        relations__focus_areas=["sustainable-tourism"],
        relations__sdgs=[13],
        relations__beneficiaries=["BRA"],
    )
    factories.ListingFactory(
        institution=argentina, relations__focus_areas=["culture"], relations__sdgs=[4]
    )
    matches = matches_for(need)
    assert [m.listing.pk for m in matches] == [strong.pk, weak.pk]
    # What the page shows of the match, and its link.
    assert matches[0].listing == (strong.pk, strong.title, "es", peru.name)
    assert matches[0].listing.get_absolute_url() == strong.get_absolute_url()
    best = matches[0]
    assert best.shared_focus_areas == [
        factories.focus_area("sustainable-development-environment").pk
    ]
    assert best.shared_sdgs == [11, 13]
    assert (best.beneficiary_fit, best.same_language) == (True, True)
    assert best.text_similarity > 0
    assert (matches[1].beneficiary_fit, matches[1].same_language) == (False, False)


def test_region_and_open_offers_fit(need, peru, argentina):
    by_region = factories.ListingFactory(
        institution=peru,
        beneficiary_regions=["central_america"],
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[],
    )
    open_to_all = factories.ListingFactory(
        institution=argentina,
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[],
    )
    fits = {m.listing.pk: m.beneficiary_fit for m in matches_for(need)}
    assert fits == {by_region.pk: True, open_to_all.pk: True}


def test_an_offer_for_a_region_fits_the_needs_of_its_countries(need, peru, argentina):
    """The reverse of the test above: an offer for Central America fits a Honduran need,
    not an Argentine one."""
    offer = factories.ListingFactory(
        institution=peru,
        beneficiary_regions=["central_america"],
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[],
    )
    argentine_need = factories.ListingFactory(
        institution=argentina,
        kind="need",
        relations__focus_areas=["sustainable-development-environment"],
        relations__sdgs=[],
    )
    fits = {m.listing.pk: m.beneficiary_fit for m in matches_for(offer)}
    assert fits == {need.pk: True, argentine_need.pk: False}


def test_only_published_offers_of_other_institutions(need, peru):
    same_publisher = factories.ListingFactory(
        institution=need.institution, relations__focus_areas=["sustainable-development-environment"]
    )
    draft = factories.ListingFactory(
        institution=peru,
        status="draft",
        relations__focus_areas=["sustainable-development-environment"],
    )
    other_need = factories.ListingFactory(
        institution=peru,
        kind="need",
        relations__focus_areas=["sustainable-development-environment"],
    )
    found = [m.listing.pk for m in matches_for(need)]
    assert same_publisher.pk not in found
    assert draft.pk not in found
    assert other_need.pk not in found


def test_reverse_direction_needs_for_an_offer(need, peru):
    offer = factories.ListingFactory(
        institution=peru,
        relations__focus_areas=["sustainable-development-environment"],
        relations__beneficiaries=["HND"],
    )
    [match] = matches_for(offer)
    assert (match.listing.pk, match.beneficiary_fit) == (need.pk, True)


def test_at_most_ten(need, peru):
    factories.ListingFactory.create_batch(
        12, institution=peru, relations__focus_areas=["sustainable-development-environment"]
    )
    assert len(matches_for(need)) == 10


def test_listing_without_areas_or_goals_has_no_matches(peru):
    bare = factories.ListingFactory(
        institution=peru, kind="need", relations__focus_areas=[], relations__sdgs=[]
    )
    assert matches_for(bare) == []


def _expected_candidates(listing, published, *, limit, count):
    """The structural ranking read plainly from the listings, in Python: what the SQL
    scan did before the bitmaps."""
    from exchange.matching import WEIGHTS
    from exchange.regions import regions_of

    others = [
        item
        for item in published
        if item.kind != listing.kind and item.institution_id != listing.institution_id
    ]
    areas, goals = set(listing.focus_area_ids), set(listing.sdg_numbers)
    pool = [item for item in others if areas & set(item.focus_area_ids)]
    if len(pool) < limit:
        pool = [
            item
            for item in others
            if areas & set(item.focus_area_ids) or goals & set(item.sdg_numbers)
        ]

    def fits(item) -> bool:
        if listing.kind == "need":
            return (
                listing.country_id in item.beneficiary_ids
                or bool(set(item.beneficiary_regions) & regions_of(listing.country.iso3))
                or (not item.beneficiary_ids and not item.beneficiary_regions)
            )
        if not listing.beneficiary_ids and not listing.beneficiary_regions:
            return True
        return item.country_id in listing.beneficiary_ids or bool(
            set(listing.beneficiary_regions) & regions_of(item.country.iso3)
        )

    def score(item) -> float:
        return (
            WEIGHTS["area"] * len(areas & set(item.focus_area_ids))
            + WEIGHTS["sdg"] * len(goals & set(item.sdg_numbers))
            + WEIGHTS["fit"] * fits(item)
            + WEIGHTS["language"] * (item.language == listing.language)
        )

    return [item.pk for item in sorted(pool, key=lambda i: (-score(i), -i.pk))][:count]


def test_candidates_from_bitmaps_rank_as_a_plain_reading(peru, argentina):
    """A cut of 7 candidates out of 80 listings: the bitmaps find the same listings, in the
    same order, as scoring every listing one by one."""
    import random

    from exchange.matching import candidates
    from exchange.models import Listing

    rng = random.Random(11)  # noqa: S311 - a fixed sample, not a secret
    institutions = [
        peru,
        argentina,
        factories.AuthorityFactory(country=factories.country("JAM")),
        factories.AuthorityFactory(country=factories.country("HND")),
    ]
    areas = ["other", "education-human-development", "sustainable-development-environment"]
    for _ in range(80):
        factories.ListingFactory(
            institution=rng.choice(institutions),
            kind=rng.choice(["offer", "offer", "need"]),
            status=rng.choice(["published"] * 5 + ["draft"]),
            language=rng.choice(["es", "en"]),
            beneficiary_regions=rng.choice([[], [], ["caribbean"], ["south_america"]]),
            relations__focus_areas=rng.sample(areas, k=rng.choice([1, 1, 2])),
            relations__sdgs=rng.sample(range(1, 18), k=rng.choice([1, 2, 3])),
            relations__beneficiaries=rng.choice([[], [], ["PER"], ["HND", "JAM"]]),
        )
    published = list(Listing.objects.filter(status="published").select_related("country"))
    for listing in published[:25]:
        for limit in (3, 50):
            found = [candidate.id for candidate in candidates(listing, limit=limit, count=7)]
            assert found == _expected_candidates(listing, published, limit=limit, count=7), (
                listing.pk,
                limit,
            )


def test_text_similarity_ranks_as_the_or_of_every_language_reading(need, peru, argentina):
    """The words of a listing are read once per distinct stemming (``search.readings_sql``):
    each offer's ``ts_rank`` is the one the plain OR of the four languages' readings gives."""
    from django.db import connection

    from exchange import matching
    from exchange.search import CONFIGS

    titles = [
        ("es", "Alerta temprana de inundaciones", "Asistencia en cuencas y alertas."),
        ("en", "Flood early warning systems", "Technical assistance for river basins."),
        ("pt", "Alerta precoce de inundações", "Assistência técnica em bacias."),
        ("fr", "Alerte précoce aux inondations", "Assistance technique dans les bassins."),
    ]
    offers = [
        factories.ListingFactory(
            institution=peru if n % 2 else argentina, language=lang, title=title, summary=summary
        )
        for n, (lang, title, summary) in enumerate(titles)
    ]
    words = ["sistema", "alerta", "temprana", "inundaciones", "necesitamos", "cuencas"]
    distinct_sql, params = matching._tsquery_sql(words)
    plain_sql = " || ".join(
        f"websearch_to_tsquery('{config}', %(words)s)" for config in CONFIGS.values()
    )
    ranks = {}
    with connection.cursor() as cursor:
        for name, tsquery in (("distinct", distinct_sql), ("plain", plain_sql)):
            cursor.execute(
                f"SELECT id, ts_rank(search_vector, {tsquery}) FROM exchange_listing "  # noqa: S608
                "WHERE id = ANY(%(ids)s) ORDER BY id",
                {**params, "ids": [offer.pk for offer in offers]},
            )
            ranks[name] = cursor.fetchall()
    assert ranks["distinct"] == ranks["plain"]
    assert sum(rank > 0 for _, rank in ranks["plain"]) >= 3  # most offers share words
