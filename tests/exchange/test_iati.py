"""The IATI 2.03 export: valid against the schema, faithful to the listing, safe with any
text, and one query whatever the number of listings."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.utils import timezone
from lxml import etree

from exchange import selectors
from exchange.iati import activities_xml
from exchange.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "iati"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "iati"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "iati-activities-schema.xsd")))


def _published() -> QuerySet[Listing]:
    return Listing.objects.filter(status=Listing.Status.PUBLISHED).order_by("id")


def _valid(schema: etree.XMLSchema, data: bytes) -> etree._Element:
    document = etree.fromstring(data)
    assert schema.validate(document), "\n".join(str(error) for error in schema.error_log)
    return document


def _narratives(element: etree._Element) -> list[tuple[str | None, str]]:
    return [(n.get(XML_LANG), n.text) for n in element.findall("narrative")]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/iati is not beside the repository")
@pytest.mark.parametrize(
    "name", ["iati-activities-schema.xsd", "iati-common.xsd", "xml.xsd", "LICENSE"]
)
def test_vendored_schema_matches_the_shared_one(name):
    assert (SCHEMAS / name).read_bytes() == (SHARED / name).read_bytes()


def test_the_demo_catalogue_is_valid_iati(schema, monkeypatch):
    monkeypatch.setenv("DEMO_TOTP_SECRET", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    call_command("seed_demo", "--password", "demo-password-2026", stdout=io.StringIO())
    data = activities_xml(_published())
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<iati-activities ")
    document = _valid(schema, data)
    assert document.get("version") == "2.03"
    assert len(document.findall("iati-activity")) == 238
    for activity in document.iterfind("iati-activity"):
        sectors = [Decimal(s.get("percentage")) for s in activity.findall("sector")]
        assert sum(sectors) == 100


def test_one_listing_in_detail(schema, peru, settings):
    settings.IATI_ORGANISATION_ID = "XI-IATI-TEST"
    settings.SITE_URL = "https://cooperanet.example.org"
    listing = factories.ListingFactory(
        institution=peru,
        title="Gestión del riesgo de desastres en cuencas andinas",
        summary="Asistencia técnica en alertas tempranas.",
        description="La **Autoridad** ofrece misiones de expertos.",
        stage="in_execution",
        cooperation_type="expert_exchange",
        contact_name="María Quispe",
        contact_email="mquispe@apci.example.org",
        external_ref="APCI-2024-17",
        relations__focus_areas=["education-human-development", "culture", "other"],
        relations__sdgs=[11, 4],
        relations__beneficiaries=["BOL", "ARG"],
    )
    document = _valid(schema, activities_xml(Listing.objects.filter(pk=listing.pk)))
    (activity,) = document.findall("iati-activity")
    assert activity.get(XML_LANG) == "es"
    assert activity.findtext("iati-identifier") == f"XI-IATI-TEST-{listing.pk}"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type"), reporting.get("secondary-reporter")) == (
        "XI-IATI-TEST",
        "40",
        "1",
    )
    assert _narratives(reporting)[1] == ("es", "Organización de los Estados Americanos")
    assert _narratives(activity.find("title")) == [
        ("es", "Gestión del riesgo de desastres en cuencas andinas")
    ]
    assert _narratives(activity.find("description")) == [
        (
            "es",
            "Asistencia técnica en alertas tempranas.\n\n"
            "La **Autoridad** ofrece misiones de expertos.",
        )
    ]
    participant = activity.find("participating-org")
    assert (participant.get("role"), participant.get("type")) == ("4", "10")
    assert _narratives(participant) == [(None, "Cooperation Authority of Peru")]
    other = activity.find("other-identifier")
    assert (other.get("ref"), other.get("type")) == ("APCI-2024-17", "A9")
    assert activity.find("activity-status").get("code") == "2"
    date = activity.find("activity-date")
    assert (date.get("type"), date.get("iso-date")) == (
        "2",
        timezone.localdate(listing.published_at).isoformat(),
    )
    contact = activity.find("contact-info")
    assert contact.findtext("person-name/narrative") == "María Quispe"
    assert contact.findtext("email") == "mquispe@apci.example.org"
    assert [(c.get("code"), c.get("percentage")) for c in activity.iter("recipient-country")] == [
        ("AR", "50"),
        ("BO", "50"),
    ]
    assert activity.find("recipient-region") is None
    sectors = activity.findall("sector")
    assert [(s.get("vocabulary"), s.get("code"), s.get("percentage")) for s in sectors] == [
        ("99", "education-human-development", "33.34"),
        ("99", "culture", "33.33"),
        ("99", "other", "33.33"),
    ]
    assert sectors[0].get("vocabulary-uri") == "https://cooperanet.example.org/catalogue/"
    assert [lang for lang, _name in _narratives(sectors[0])] == ["en", "es", "pt", "fr"]
    assert [(t.get("vocabulary"), t.get("code")) for t in activity.findall("tag")] == [
        ("2", "4"),
        ("2", "11"),
    ]
    assert activity.find("default-aid-type").get("code") == "D01"
    link = activity.find("document-link")
    assert link.get("url") == f"https://cooperanet.example.org/listings/{listing.pk}/"
    assert link.find("category").get("code") == "A12"


@pytest.mark.parametrize(
    ("stage", "status", "date_type"),
    [("proposed", "1", "1"), ("in_execution", "2", "2"), ("concluded", "4", "2"), ("", "1", "1")],
)
def test_stage_gives_status_and_kind_of_start(schema, peru, stage, status, date_type):
    factories.ListingFactory(institution=peru, stage=stage, cooperation_type="financing")
    activity = _valid(schema, activities_xml(_published())).find("iati-activity")
    assert activity.find("activity-status").get("code") == status
    assert activity.find("activity-date").get("type") == date_type
    assert activity.find("default-aid-type") is None


def test_regions_and_needs(schema, peru, argentina):
    regional = factories.ListingFactory(
        institution=peru, beneficiary_regions=["north_america", "caribbean", "south_america"]
    )
    only_north = factories.ListingFactory(institution=peru, beneficiary_regions=["north_america"])
    need = factories.ListingFactory(institution=argentina, kind="need")
    document = _valid(schema, activities_xml(_published()))
    activities = {
        int(a.findtext("iati-identifier").rsplit("-", 1)[1]): a
        for a in document.iterfind("iati-activity")
    }
    assert [
        (r.get("code"), r.get("vocabulary"), r.get("percentage"))
        for r in activities[regional.pk].iter("recipient-region")
    ] == [("1031", "1", "50"), ("489", "1", "50")]
    assert activities[regional.pk].find("recipient-country") is None
    assert activities[only_north.pk].find("recipient-region") is None
    assert activities[only_north.pk].find("recipient-country") is None
    assert [
        (c.get("code"), c.get("percentage")) for c in activities[need.pk].iter("recipient-country")
    ] == [("AR", "100")]
    assert activities[need.pk].find("participating-org").get("role") == "2"


def test_hostile_text_stays_inert(schema, peru):
    factories.ListingFactory(
        institution=peru,
        title="<script>alert('x')</script> & ]]>\x0b",
        summary="Tab\tand\x1f unit separator",
        description="\x0b",
        contact_name="</narrative><evil/>",
        relations__focus_areas=["other"],
    )
    data = activities_xml(_published())
    assert b"<script>" not in data
    assert b"<evil/>" not in data
    activity = _valid(schema, data).find("iati-activity")
    assert activity.findtext("title/narrative") == "<script>alert('x')</script> & ]]>"
    assert activity.findtext("description/narrative") == "Tab\tand unit separator"
    assert activity.findtext("contact-info/person-name/narrative") == "</narrative><evil/>"


@pytest.mark.parametrize("rows", [1, 3])
def test_query_count_is_constant(schema, peru, django_assert_num_queries, rows):
    for _ in range(rows):
        factories.ListingFactory(
            institution=peru,
            relations__focus_areas=["culture", "other"],
            relations__sdgs=[4, 17],
            relations__beneficiaries=["BOL", "CHL"],
        )
    selectors.reference()
    # The reference data is cached: the listings and their institutions are one query.
    with django_assert_num_queries(1):
        data = activities_xml(_published())
    assert len(_valid(schema, data).findall("iati-activity")) == rows
