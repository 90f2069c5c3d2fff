"""The idempotent upsert by external reference that national catalogue syncs use."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from exchange import services
from exchange.models import Listing, ListingEvent, ListingRevision
from tests import factories

pytestmark = pytest.mark.django_db
Status = Listing.Status


def upsert(by, data, *, ref="APCI-001", kind="offer", institution=None):
    return services.listing_upsert_by_ref(
        by=by, kind=kind, external_ref=ref, data=data, institution=institution
    )


def test_created_as_a_draft_of_the_institution(focal_point, peru, draft_data):
    listing, outcome = upsert(focal_point, draft_data())
    assert outcome == "created"
    listing.refresh_from_db()
    assert (listing.status, listing.institution, listing.country, listing.external_ref) == (
        Status.DRAFT,
        peru,
        peru.country,
        "APCI-001",
    )
    assert listing.sdg_numbers == [11, 13]
    assert [goal.number for goal in listing.sdgs.order_by("number")] == [11, 13]
    event = ListingEvent.objects.get(pgh_obj_id=listing.pk)
    assert event.pgh_context.metadata == {"user": focal_point.pk, "action": "import"}


def test_repeating_the_same_sync_changes_nothing(focal_point, draft_data):
    first, _outcome = upsert(focal_point, draft_data())
    first.refresh_from_db()
    again, outcome = upsert(focal_point, draft_data())
    assert (outcome, again.pk) == ("unchanged", first.pk)
    again.refresh_from_db()
    assert again.updated == first.updated
    assert ListingEvent.objects.filter(pgh_obj_id=first.pk).count() == 1
    assert Listing.objects.count() == 1


def test_a_changed_draft_is_updated(focal_point, draft_data):
    first, _outcome = upsert(focal_point, draft_data())
    listing, outcome = upsert(focal_point, draft_data(title="Alerta temprana 2.0", sdgs=[6]))
    assert (outcome, listing.pk) == ("updated", first.pk)
    listing.refresh_from_db()
    assert (listing.title, listing.sdg_numbers) == ("Alerta temprana 2.0", [6])
    assert [goal.number for goal in listing.sdgs.all()] == [6]
    assert ListingEvent.objects.filter(pgh_obj_id=first.pk).count() == 2


def test_a_published_listing_gets_one_pending_revision(focal_point, peru, draft_data):
    live = factories.ListingFactory(
        institution=peru, external_ref="APCI-001", relations__sdgs=[11, 13]
    )
    revision, outcome = upsert(focal_point, draft_data(title="Nuevo título"))
    assert outcome == "revision"
    assert isinstance(revision, ListingRevision)
    assert (revision.listing, revision.data["title"]) == (live, "Nuevo título")
    live.refresh_from_db()
    assert live.title.startswith("Gestión del riesgo")
    same, outcome = upsert(focal_point, draft_data(title="Nuevo título"))
    assert (outcome, same.pk) == ("unchanged", live.pk)
    assert ListingRevision.objects.get().data == revision.data


def test_a_published_listing_synced_with_its_live_values_is_unchanged(focal_point, peru):
    live = factories.ListingFactory(institution=peru, external_ref="APCI-001")
    data = services.ListingData(
        values={"title": live.title, "summary": live.summary, "language": "es"},
        focus_areas=[factories.focus_area("other")],
    )
    assert upsert(focal_point, data) == (live, "unchanged")
    assert ListingRevision.objects.count() == 0


def test_another_institutions_reference_is_not_touched(focal_point, argentina, peru, draft_data):
    theirs = factories.ListingFactory(
        institution=argentina, external_ref="APCI-001", status="draft", title="Suyo"
    )
    ours, outcome = upsert(focal_point, draft_data())
    assert outcome == "created"
    assert (ours.institution, ours.pk != theirs.pk) == (peru, True)
    theirs.refresh_from_db()
    assert theirs.title == "Suyo"
    assert Listing.objects.filter(external_ref="APCI-001").count() == 2


def test_the_secretariat_upserts_for_any_institution(secretariat, argentina, draft_data):
    listing, outcome = upsert(secretariat, draft_data(), kind="need", institution=argentina)
    assert (outcome, listing.institution, listing.created_by, listing.kind) == (
        "created",
        argentina,
        secretariat,
        "need",
    )
    assert upsert(secretariat, draft_data(), kind="need", institution=argentina)[1] == ("unchanged")


def test_the_secretariat_names_the_institution(secretariat, draft_data):
    with pytest.raises(ValidationError) as error:
        upsert(secretariat, draft_data())
    assert error.value.message_dict == {"institution": ["Choose the institution to import for."]}


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("focal_point", "need", True),
        ("delegate", "need", True),
        ("partner", "offer", True),
        ("partner", "need", False),
        ("board_member", "offer", False),
        ("mission_liaison", "offer", False),
        ("pending_partner", "offer", False),
    ],
)
def test_permissions_for_the_own_institution(role_users, role, kind, allowed, draft_data):
    user = role_users[role]
    institution = user.institution or factories.AuthorityFactory()
    if allowed:
        assert upsert(user, draft_data(), kind=kind, institution=institution)[1] == "created"
    else:
        with pytest.raises(PermissionDenied):
            upsert(user, draft_data(), kind=kind, institution=institution)
        assert Listing.objects.count() == 0


def test_another_countrys_focal_point_is_refused(other_focal_point, peru, draft_data):
    with pytest.raises(PermissionDenied):
        upsert(other_focal_point, draft_data(), institution=peru)


def test_invalid_values_are_reported_by_field_and_nothing_is_written(focal_point, draft_data):
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, draft_data(language="xx", focus_areas=[]))
    assert set(error.value.message_dict) == {"language"}
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, draft_data(focus_areas=[]))
    assert error.value.message_dict == {"focus_areas": ["Choose at least one focus area."]}
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, draft_data(), ref="  ")
    assert error.value.message_dict == {"external_ref": ["The external reference is required."]}
    assert Listing.objects.count() == 0


def test_a_listing_under_review_is_not_changed(focal_point, peru, draft_data):
    factories.ListingFactory(institution=peru, external_ref="APCI-001", status="submitted")
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, draft_data())
    assert error.value.message_dict == {
        "external_ref": ["This listing is submitted for review; an import cannot change it now."]
    }


def test_the_kind_of_a_matched_listing_does_not_change(focal_point, peru, draft_data):
    factories.ListingFactory(institution=peru, external_ref="APCI-001", kind="need")
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, draft_data(), kind="offer")
    assert error.value.message_dict == {"kind": ["The listing with this reference is need."]}


def test_a_batch_is_all_or_nothing(focal_point, draft_data):
    rows = [
        services.RefRow(kind="offer", external_ref="A", data=draft_data()),
        services.RefRow(kind="offer", external_ref="B", data=draft_data(language="xx")),
        services.RefRow(kind="offer", external_ref="A", data=draft_data()),
    ]
    with pytest.raises(services.RowErrors) as error:
        services.listings_upsert_by_ref(by=focal_point, rows=rows)
    assert sorted(error.value.row_errors) == [1, 2]
    assert error.value.row_errors[2].message_dict == {
        "external_ref": ["This external reference appears twice in the file."]
    }
    assert Listing.objects.count() == 0


def test_a_new_listing_is_checked_whole(focal_point):
    data = services.ListingData(
        values={"summary": "Solo un resumen."}, focus_areas=[factories.focus_area("other")]
    )
    with pytest.raises(ValidationError) as error:
        upsert(focal_point, data)
    assert set(error.value.message_dict) == {"title", "description", "language"}
    assert Listing.objects.count() == 0
