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
    assert [m.listing for m in matches] == [strong, weak]
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
    fits = {m.listing: m.beneficiary_fit for m in matches_for(need)}
    assert fits == {by_region: True, open_to_all: True}


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
    found = [m.listing for m in matches_for(need)]
    assert same_publisher not in found
    assert draft not in found
    assert other_need not in found


def test_reverse_direction_needs_for_an_offer(need, peru):
    offer = factories.ListingFactory(
        institution=peru,
        relations__focus_areas=["sustainable-development-environment"],
        relations__beneficiaries=["HND"],
    )
    [match] = matches_for(offer)
    assert (match.listing, match.beneficiary_fit) == (need, True)


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
