"""/api/v1/offers/ and /api/v1/needs/: reading, filters, shape, writes through the services."""

import datetime

import pytest
from django.utils import timezone

from exchange import services
from exchange.models import Listing, ListingRevision
from tests import factories
from tests.api.conftest import COMPLETE

pytestmark = pytest.mark.django_db


def _codes(response):
    return [row["id"] for row in response.json()["results"]]


# --- Reading ------------------------------------------------------------------------------


def test_public_list_shows_published_offers_only(api, peru):
    published = factories.ListingFactory(institution=peru)
    factories.ListingFactory(institution=peru, status="draft")
    factories.ListingFactory(institution=peru, kind="need")
    response = api.get("/api/v1/offers/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert _codes(response) == [published.pk]


def test_signed_in_institution_also_sees_its_own_drafts(api_as, focal_point, argentina):
    own = factories.ListingFactory(institution=focal_point.institution, status="draft")
    factories.ListingFactory(institution=argentina, status="draft")
    response = api_as(focal_point).get("/api/v1/offers/")
    assert _codes(response) == [own.pk]
    assert response.json()["results"][0]["status"] == {"code": "draft", "name": "Draft"}


def test_listing_shape_uses_reference_codes_with_labels(api, peru):
    listing = factories.ListingFactory(
        institution=peru,
        external_ref="APCI-2024-17",
        relations__focus_areas=["other"],
        relations__sdgs=[6, 13],
        relations__beneficiaries=["BOL"],
    )
    data = api.get(f"/api/v1/offers/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert data["country"] == {"code": "PER", "name": "Perú"}
    assert data["kind"]["code"] == "offer"
    assert data["institution"]["id"] == peru.pk
    assert data["focus_areas"][0]["code"] == "other"
    assert [goal["code"] for goal in data["sdgs"]] == [6, 13]
    assert data["beneficiary_countries"] == [{"code": "BOL", "name": "Bolivia"}]
    assert data["modality"] == {"code": "south_south", "name": "Sur-Sur"}
    assert data["external_ref"] == "APCI-2024-17"
    assert data["url"] == f"http://testserver/listings/{listing.pk}/"
    assert data["has_pending_revision"] is False
    assert set(data) >= {
        "id",
        "kind",
        "title",
        "summary",
        "description",
        "language",
        "country",
        "institution",
        "focus_areas",
        "sdgs",
        "modality",
        "cooperation_type",
        "stage",
        "beneficiary_countries",
        "external_ref",
        "status",
        "created",
        "updated",
        "url",
    }


@pytest.mark.parametrize("language", ["en", "es", "pt", "fr"])
def test_fast_representation(rf, peru, language):
    """ListingSerializer builds its documents by hand for speed: the same as DRF's own walk
    over the declared fields, which also define the schema."""
    from django.utils import translation
    from rest_framework import serializers as drf

    from exchange.api.serializers import ListingSerializer

    listing = factories.ListingFactory(
        institution=peru,
        review_by=datetime.date(2027, 3, 1),
        duration_months=12,
        beneficiary_regions=["caribbean"],
        relations__focus_areas=["other"],
        relations__sdgs=[6, 13],
        relations__beneficiaries=["BOL", "MEX"],
    )
    listing.has_pending_revision = True
    request = rf.get("/api/v1/offers/")
    with translation.override(language):
        fast = ListingSerializer(listing, context={"request": request})
        walked = ListingSerializer(listing, context={"request": request})
        assert fast.data == drf.ModelSerializer.to_representation(walked, listing)
        assert list(fast.data) == list(ListingSerializer.Meta.fields)


def test_signed_in_count_adds_own_drafts_live_to_the_cached_published_count(
    api_as, focal_point, argentina, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from exchange import selectors

    factories.ListingFactory(institution=argentina)
    factories.ListingFactory(institution=focal_point.institution, status="draft")
    selectors.reference()
    client = api_as(focal_point)
    assert client.get("/api/v1/offers/").json()["count"] == 2
    # The published count is kept: the token (two queries), the institution's own others and
    # the page are read.
    with django_assert_num_queries(4):
        assert client.get("/api/v1/offers/").json()["count"] == 2
    # A new draft is no change of the catalogue, yet it is counted at once.
    with django_capture_on_commit_callbacks(execute=True):
        factories.ListingFactory(institution=focal_point.institution, status="draft")
    assert client.get("/api/v1/offers/").json()["count"] == 3
    # Filters are part of what is counted.
    assert client.get("/api/v1/offers/?country=ARG").json()["count"] == 1
    assert client.get("/api/v1/offers/?country=PER").json()["count"] == 2


def test_labels_follow_the_request_language(api, peru):
    listing = factories.ListingFactory(institution=peru)
    english = api.get(f"/api/v1/offers/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    french = api.get(f"/api/v1/offers/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert english["country"]["name"] == "Peru"
    assert french["country"]["name"] == "Pérou"


def test_a_draft_of_another_institution_is_404(api_as, focal_point, argentina):
    draft = factories.ListingFactory(institution=argentina, status="draft")
    assert api_as(focal_point).get(f"/api/v1/offers/{draft.pk}/").status_code == 404


def test_an_offer_is_not_found_among_needs(api, peru):
    offer = factories.ListingFactory(institution=peru)
    assert api.get(f"/api/v1/needs/{offer.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("country=PER", {"peru"}),
        ("country=ARG&country=PER", {"peru", "argentina"}),
        ("focus_area=other", {"peru"}),
        ("sdg=6", {"argentina"}),
        ("modality=triangular", {"argentina"}),
        ("language=en", {"argentina"}),
        ("publisher_type=member_state", {"peru", "argentina"}),
        ("q=inundaciones", {"peru"}),
        ("q=alerta+tempr%C3%A1na", {"peru"}),
        ("q=drinking+water", {"argentina"}),
    ],
)
def test_filters(api, peru, argentina, params, expected):
    rows = {
        "peru": factories.ListingFactory(
            institution=peru,
            title="Alerta temprana ante inundaciones",
            relations__focus_areas=["other"],
            relations__sdgs=[13],
        ),
        "argentina": factories.ListingFactory(
            institution=argentina,
            title="Drinking water for rural schools",
            summary="Technical assistance for safe drinking water.",
            language="en",
            modality="triangular",
            relations__focus_areas=["sustainable-development-environment"],
            relations__sdgs=[6],
        ),
    }
    response = api.get(f"/api/v1/offers/?{params}")
    assert response.status_code == 200, response.json()
    assert set(_codes(response)) == {rows[name].pk for name in expected}


def test_updated_since_and_ordering(api, peru):
    old = factories.ListingFactory(institution=peru, title="B old")
    new = factories.ListingFactory(institution=peru, title="A new")
    Listing.objects.filter(pk=old.pk).update(updated=timezone.now() - datetime.timedelta(days=10))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    response = api.get("/api/v1/offers/", {"updated_since": since})
    assert _codes(response) == [new.pk]
    assert _codes(api.get("/api/v1/offers/?ordering=title")) == [new.pk, old.pk]
    assert _codes(api.get("/api/v1/offers/?ordering=-title")) == [old.pk, new.pk]


@pytest.mark.parametrize(
    "params",
    ["country=XXX", "sdg=18", "focus_area=nope", "modality=magic", "updated_since=yesterday"],
)
def test_invalid_filters_are_400_in_the_error_shape(api, params):
    response = api.get(f"/api/v1/offers/?{params}")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == params.split("=")[0]


def test_page_size_is_capped(api, peru):
    factories.ListingFactory.create_batch(3, institution=peru)
    body = api.get("/api/v1/offers/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]
    assert len(api.get("/api/v1/offers/?page_size=100000").json()["results"]) == 3
    assert api.get("/api/v1/offers/?page=9").status_code == 404


def test_etag_answers_304_until_the_data_changes(api, peru, django_capture_on_commit_callbacks):
    listing = factories.ListingFactory(institution=peru)
    first = api.get("/api/v1/offers/")
    etag = first["ETag"]
    assert api.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    detail = api.get(f"/api/v1/offers/{listing.pk}/")
    assert (
        api.get(f"/api/v1/offers/{listing.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code
        == 304
    )
    listing.title = "Otro título"
    with django_capture_on_commit_callbacks(execute=True):
        listing.save()
    assert api.get("/api/v1/offers/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_anonymous_pages_are_computed_once_per_change_of_the_catalogue(
    api, api_as, focal_point, peru, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from exchange import selectors

    factories.ListingFactory(institution=peru, title="Primera")
    selectors.reference()  # countries, areas and goals: read once for every page
    with django_assert_num_queries(2):  # the count and the page
        first = api.get("/api/v1/offers/?ordering=-published")
    with django_assert_num_queries(0):
        again = api.get("/api/v1/offers/?ordering=-published")
    assert again.json() == first.json()
    # Another address, language or filter is another page; bad filters are never kept.
    assert api.get("/api/v1/offers/?ordering=title").json()["count"] == 1
    french = api.get("/api/v1/offers/?ordering=-published", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert french["results"][0]["country"]["name"] == "Pérou"
    assert api.get("/api/v1/offers/?country=XXX").status_code == 400
    assert api.get("/api/v1/offers/?country=XXX").status_code == 400
    # A signed-in reader is read live: its own draft shows at once.
    with django_capture_on_commit_callbacks(execute=False):
        draft = factories.ListingFactory(institution=focal_point.institution, status="draft")
    titles = [row["title"] for row in api_as(focal_point).get("/api/v1/offers/").json()["results"]]
    assert draft.title in titles
    # Publishing changes the catalogue: every cached page is computed anew.
    with django_capture_on_commit_callbacks(execute=True):
        factories.ListingFactory(institution=peru, title="Segunda")
    assert api.get("/api/v1/offers/?ordering=-published").json()["count"] == 2


# --- Writing ------------------------------------------------------------------------------


def test_create_a_draft_with_the_minimum(api_as, focal_point, draft_payload):
    response = api_as(focal_point).post("/api/v1/offers/", draft_payload(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    listing = Listing.objects.get(pk=data["id"])
    assert response["Location"] == f"http://testserver/api/v1/offers/{listing.pk}/"
    assert listing.status == "draft"
    assert listing.institution == focal_point.institution
    assert listing.country.iso3 == "PER"
    assert data["focus_areas"][0]["code"] == "sustainable-development-environment"


def test_country_and_institution_come_from_the_account(
    api_as, focal_point, argentina, draft_payload
):
    payload = draft_payload(country={"code": "ARG"}, institution={"id": argentina.pk}, id=999)
    response = api_as(focal_point).post("/api/v1/offers/", payload, format="json")
    assert response.status_code == 201
    listing = Listing.objects.get(pk=response.json()["id"])
    assert (listing.institution, listing.country.iso3) == (focal_point.institution, "PER")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"focus_areas": ["no-such-area"]}, "focus_areas"),
        ({"focus_areas": []}, "focus_areas"),
        ({"sdgs": ["six"]}, "sdgs.0"),
        ({"beneficiary_countries": ["XYZ"]}, "beneficiary_countries"),
        ({"language": "de"}, "language"),
        ({"title": ""}, "title"),
        ({"title": 12}, None),
        ({"duration_months": "long"}, "duration_months"),
        ({"contact_email": "not an address"}, "contact_email"),
    ],
)
def test_bad_input_is_400_per_field_and_changes_nothing(
    api_as, focal_point, draft_payload, change, field
):
    before = Listing.objects.count()
    response = api_as(focal_point).post("/api/v1/offers/", draft_payload(**change), format="json")
    if field is None:  # a number where text is expected is accepted as its text
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert field in [error["attr"] for error in errors]
    assert all(error["detail"] for error in errors)
    assert Listing.objects.count() == before


def test_errors_are_translated(api_as, focal_point, draft_payload):
    response = api_as(focal_point).post(
        "/api/v1/offers/", draft_payload(colour="x"), format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.json()["errors"][0]["detail"] == "Campo desconocido."


def test_not_json_is_400(api_as, focal_point):
    response = api_as(focal_point).post("/api/v1/offers/", "[1, 2", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "client_error"


def test_submit_checks_completeness_then_the_secretariat_approves(
    api_as, focal_point, secretariat, draft_payload, django_capture_on_commit_callbacks
):
    client = api_as(focal_point)
    listing_id = client.post("/api/v1/offers/", draft_payload(), format="json").json()["id"]
    incomplete = client.post(f"/api/v1/offers/{listing_id}/submit/", {}, format="json")
    assert incomplete.status_code == 400
    assert {e["attr"] for e in incomplete.json()["errors"]} >= {"modality", "contact_email"}

    changed = client.patch(f"/api/v1/offers/{listing_id}/", COMPLETE, format="json")
    assert changed.status_code == 200, changed.json()
    submitted = client.post(f"/api/v1/offers/{listing_id}/submit/", {}, format="json")
    assert submitted.json()["status"]["code"] == "submitted"

    with django_capture_on_commit_callbacks(execute=True):
        approved = api_as(secretariat).post(f"/api/v1/offers/{listing_id}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"]["code"] == "published"
    assert focal_point.notifications.filter(kind="listing_approved").exists()


def test_similar_listing_asks_for_confirmation(api_as, focal_point, draft_payload):
    client = api_as(focal_point)
    factories.ListingFactory(
        institution=focal_point.institution,
        title=draft_payload()["title"],
        summary=draft_payload()["summary"],
    )
    listing_id = client.post("/api/v1/offers/", draft_payload(**COMPLETE), format="json").json()[
        "id"
    ]
    first = client.post(f"/api/v1/offers/{listing_id}/submit/", {}, format="json")
    assert first.status_code == 400
    assert first.json()["errors"][0]["code"] == "similar"
    confirmed = client.post(
        f"/api/v1/offers/{listing_id}/submit/", {"acknowledge_similar": True}, format="json"
    )
    assert confirmed.json()["status"]["code"] == "submitted"


def test_editing_a_published_listing_waits_for_the_secretariat(api_as, focal_point):
    listing = factories.ListingFactory(institution=focal_point.institution, title="Live title")
    response = api_as(focal_point).patch(
        f"/api/v1/offers/{listing.pk}/", {"title": "Proposed title"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["title"] == "Live title"
    assert response.json()["has_pending_revision"] is True


def test_changes_sent_in_parts_add_up_in_one_revision(api_as, focal_point, secretariat):
    listing = factories.ListingFactory(
        institution=focal_point.institution, title="Live title", summary="Live summary."
    )
    client = api_as(focal_point)
    url = f"/api/v1/offers/{listing.pk}/"
    assert client.patch(url, {"title": "New title"}, format="json").status_code == 202
    assert client.patch(url, {"summary": "New summary."}, format="json").status_code == 202
    assert client.patch(url, {"sdgs": [6]}, format="json").status_code == 202
    revision = ListingRevision.objects.get(listing=listing, status="pending")
    assert (revision.data["title"], revision.data["summary"]) == ("New title", "New summary.")
    assert revision.data["sdgs"] == [factories.sdg(6).pk]
    # Returned to the publisher, the changes are the base of the next ones too.
    services.revision_return(revision=revision, by=secretariat, comment="Precisen el costo.")
    assert client.patch(url, {"title": "Newer title"}, format="json").status_code == 202
    revision = ListingRevision.objects.get(listing=listing, status="pending")
    assert (revision.data["title"], revision.data["summary"]) == ("Newer title", "New summary.")
    services.revision_approve(revision=revision, by=secretariat)
    listing.refresh_from_db()
    assert (listing.title, listing.summary) == ("Newer title", "New summary.")


def test_return_and_reject_need_a_comment(api_as, secretariat, peru):
    listing = factories.ListingFactory(institution=peru, status="submitted")
    client = api_as(secretariat)
    missing = client.post(f"/api/v1/offers/{listing.pk}/return/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["attr"] == "comment"
    returned = client.post(
        f"/api/v1/offers/{listing.pk}/return/", {"comment": "Añadan el costo."}, format="json"
    )
    assert returned.json()["status"]["code"] == "returned"


def test_withdraw(api_as, focal_point):
    listing = factories.ListingFactory(institution=focal_point.institution)
    response = api_as(focal_point).post(f"/api/v1/offers/{listing.pk}/withdraw/")
    assert response.status_code == 200
    assert response.json()["status"]["code"] == "withdrawn"


# --- Sync by external reference -------------------------------------------------------------


def test_upsert_by_ref_is_idempotent(api_as, focal_point, draft_payload):
    client = api_as(focal_point)
    url = "/api/v1/offers/by-ref/APCI-001/"
    created = client.put(url, draft_payload(**COMPLETE), format="json")
    assert created.status_code == 201, created.json()
    assert created["CooperaNet-Outcome"] == "created"
    listing = Listing.objects.get(external_ref="APCI-001")
    updated_at = listing.updated

    again = client.put(url, draft_payload(**COMPLETE), format="json")
    assert (again.status_code, again["CooperaNet-Outcome"]) == (200, "unchanged")
    listing.refresh_from_db()
    assert listing.updated == updated_at
    assert Listing.objects.filter(external_ref="APCI-001").count() == 1

    changed = client.put(url, draft_payload(**COMPLETE, title="Nuevo título"), format="json")
    assert (changed.status_code, changed["CooperaNet-Outcome"]) == (200, "updated")
    assert changed.json()["title"] == "Nuevo título"


def test_upsert_of_a_published_listing_proposes_a_revision(api_as, focal_point, draft_payload):
    factories.ListingFactory(
        institution=focal_point.institution, external_ref="APCI-9", title="Live"
    )
    response = api_as(focal_point).put(
        "/api/v1/offers/by-ref/APCI-9/", draft_payload(**COMPLETE), format="json"
    )
    assert (response.status_code, response["CooperaNet-Outcome"]) == (202, "revision")
    assert response.json()["title"] == "Live"


def test_upsert_never_touches_another_institutions_listing(
    api_as, focal_point, argentina, draft_payload
):
    theirs = factories.ListingFactory(institution=argentina, external_ref="SHARED-1")
    response = api_as(focal_point).put(
        "/api/v1/offers/by-ref/SHARED-1/", draft_payload(**COMPLETE), format="json"
    )
    assert response.status_code == 201
    theirs.refresh_from_db()
    assert theirs.title != draft_payload()["title"]
    assert Listing.objects.filter(external_ref="SHARED-1").count() == 2


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This field is required before the listing is submitted."),
        ("es", "Este campo es obligatorio para enviar la publicación a revisión."),
        ("pt", "Este campo é obrigatório para enviar a publicação para revisão."),
        ("fr", "Ce champ est obligatoire avant la soumission de la fiche."),
    ],
)
def test_a_services_refusal_reads_in_the_clients_language(
    api_as, focal_point, draft_payload, language, message
):
    client = api_as(focal_point)
    created = client.post("/api/v1/offers/", draft_payload(), format="json").json()
    response = client.post(
        f"/api/v1/offers/{created['id']}/submit/",
        {"acknowledge_similar": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    errors = {error["attr"]: error["detail"] for error in response.json()["errors"]}
    assert errors["modality"] == message
    assert Listing.objects.get(pk=created["id"]).status == "draft"
