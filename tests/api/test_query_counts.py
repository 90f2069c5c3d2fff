"""Every list endpoint costs the same number of queries for 1 row and for 3."""

import pytest

from exchange import selectors
from tests import factories

pytestmark = pytest.mark.django_db

# endpoint: (queries anonymous, queries with a token)
ENDPOINTS = {
    "/api/v1/offers/": (2, 4),
    "/api/v1/needs/": (2, 4),
    "/api/v1/offers/?q=riesgo&sdg=17&country=PER": (2, 4),
    "/api/v1/institutions/": (2, 4),
    "/api/v1/countries/": (2, 4),
    "/api/v1/focus-areas/": (2, 4),
    "/api/v1/sdgs/": (2, 4),
}


def _rows(peru, argentina, n):
    for index in range(n):
        institution = peru if index % 2 == 0 else argentina
        factories.ListingFactory(institution=institution, relations__beneficiaries=["BOL"])
        factories.ListingFactory(institution=institution, kind="need")


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("url", ENDPOINTS)
def test_list_queries_are_constant(
    rows, url, api, api_as, focal_point, argentina, django_assert_num_queries
):
    _rows(focal_point.institution, argentina, rows)
    selectors.reference()  # cached for everyone, as in production
    anonymous, signed_in = ENDPOINTS[url]
    with django_assert_num_queries(anonymous):
        assert api.get(url).status_code == 200
    client = api_as(focal_point)
    with django_assert_num_queries(signed_in):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("rows", [1, 3])
def test_stats_and_iati_queries_are_constant(rows, api, peru, argentina, django_assert_num_queries):
    _rows(peru, argentina, rows)
    selectors.reference()
    with django_assert_num_queries(1):  # the four tables in one count on the bitmaps
        assert api.get("/api/v1/stats/").status_code == 200
    with django_assert_num_queries(2):  # is there one activity at least, then all of them
        response = api.get("/api/v1/iati/activities.xml")
        assert b"".join(response.streaming_content).count(b"<iati-activity ") == 2 * rows
