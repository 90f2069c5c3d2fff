"""Reference data, institutions, statistics and the IATI file over the API; the schema."""

import json

import pytest
from django.core.management import call_command
from lxml import etree

from tests import factories
from tests.exchange.test_iati import SCHEMAS

pytestmark = pytest.mark.django_db


def test_countries_focus_areas_sdgs(api):
    countries = api.get("/api/v1/countries/?page_size=100", HTTP_ACCEPT_LANGUAGE="pt").json()
    assert countries["count"] == 35
    peru = next(c for c in countries["results"] if c["code"] == "PER")
    assert peru == {"code": "PER", "iso2": "PE", "name": "Peru", "participates": True}
    assert api.get("/api/v1/countries/per/").json()["code"] == "PER"
    assert api.get("/api/v1/countries/XXX/").status_code == 404

    areas = api.get("/api/v1/focus-areas/").json()
    assert areas["count"] == 11
    assert api.get("/api/v1/focus-areas/other/").json()["code"] == "other"
    sdgs = api.get("/api/v1/sdgs/?page_size=20", HTTP_ACCEPT_LANGUAGE="es").json()
    assert [goal["code"] for goal in sdgs["results"]] == list(range(1, 18))
    sdg6 = api.get("/api/v1/sdgs/6/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert sdg6["name"] == "Agua Limpia y Saneamiento"


def test_institutions_are_the_public_ones(api, peru, pending_partner, partner):
    names = {row["name"] for row in api.get("/api/v1/institutions/").json()["results"]}
    assert peru.name in names
    assert partner.institution.name in names
    assert pending_partner.institution.name not in names
    detail = api.get(f"/api/v1/institutions/{peru.pk}/").json()
    assert detail["country"]["code"] == "PER"
    assert detail["type"]["code"] == "cooperation_authority"
    assert api.get(f"/api/v1/institutions/{pending_partner.institution.pk}/").status_code == 404


def test_stats_are_the_demo_report_tables(api):
    call_command("seed_demo", verbosity=0)
    data = api.get("/api/v1/stats/").json()
    assert data["listings"] == 238
    by_type = {row["code"]: row["count"] for row in data["by_type"]["rows"]}
    assert by_type == {
        "offer_member_state": 229,
        "offer_partner": 1,
        "need_member_state": 8,
        "need_partner": 0,
    }
    assert data["by_focus_area"]["total"] == 280
    assert sum(row["count"] for row in data["by_country"]["rows"]) == 238


@pytest.mark.parametrize("params", ["since=not-a-date", "since=2024-05-01&until=2024-01-01"])
def test_stats_reject_bad_dates(api, params):
    response = api.get(f"/api/v1/stats/?{params}")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_stats_until_the_start_of_the_calendar_count_nothing(api, peru):
    factories.ListingFactory(institution=peru)
    response = api.get("/api/v1/stats/?until=0001-01-05")
    assert response.status_code == 200
    assert response.json()["listings"] == 0


def test_iati_file_with_catalogue_filters_validates(api, peru, argentina):
    factories.ListingFactory(institution=peru, relations__sdgs=[6])
    factories.ListingFactory(institution=argentina, relations__sdgs=[13])
    factories.ListingFactory(institution=peru, status="draft")
    response = api.get("/api/v1/iati/activities.xml?country=PER")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    document = etree.fromstring(b"".join(response.streaming_content))
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "iati-activities-schema.xsd")))
    assert schema.validate(document), schema.error_log
    activities = document.findall("iati-activity")
    assert len(activities) == 1
    assert activities[0].find("participating-org/narrative").text == peru.name
    assert api.get("/api/v1/iati/activities.xml?country=XXX").status_code == 400


def test_iati_file_of_no_listing_is_a_clear_404(api, peru):
    """The IATI schema requires one activity at least: no match answers 404 with a reason,
    not an invalid document."""
    factories.ListingFactory(institution=peru, status="draft")
    response = api.get("/api/v1/iati/activities.xml", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    detail = response.json()["errors"][0]["detail"]
    assert "IATI" in detail
    assert detail.startswith("Ninguna oferta o demanda publicada")


def test_schema_and_docs(api):
    schema = api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    offers = spec["paths"]["/api/v1/offers/"]
    assert {"get", "post"} <= set(offers)
    documented = set(offers["post"]["responses"])
    assert {"201", "400", "401", "403", "429"} <= documented
    assert "404" in spec["paths"]["/api/v1/offers/{id}/"]["get"]["responses"]
    assert "ListingInputRequest" in spec["components"]["schemas"]
    assert "put" in spec["paths"]["/api/v1/offers/by-ref/{external_ref}/"]
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_follows_the_filters(api, peru, argentina, fmt):
    mine = factories.ListingFactory(institution=peru, title='=HYPERLINK("http://x")')
    factories.ListingFactory(institution=argentina)
    factories.ListingFactory(institution=peru, status="draft")
    response = api.get(f"/api/v1/offers/export.{fmt}?country=PER")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "json":
        rows = json.loads(body)
        assert [row["id"] for row in rows] == [mine.pk]
        assert rows[0]["country"] == "PER"
    elif fmt == "csv":
        text = body.decode("utf-8-sig")
        assert str(mine.pk) in text
        assert "'=HYPERLINK" in text
        assert text.count("\n") == 2  # the header and one listing
    else:
        assert body[:2] == b"PK"


def test_export_with_a_bad_filter_is_400(api):
    assert api.get("/api/v1/offers/export.csv?country=XXX").status_code == 400
